#pragma once
/// \file
/// Errors. Every checked entry point comes in two forms: one returns a
/// `Status` and never throws (usable with -fno-exceptions), the other throws
/// `eigenq::Error` with the same message. Messages name the bad value and
/// what was expected.

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

#include "config.hpp"

namespace eigenq {

enum class StatusCode {
  kOk = 0,
  kInvalidScale,      ///< scale not finite, <= 0, or 1/scale not finite
  kInvalidZeroPoint,  ///< zero point outside [qmin, qmax]
  kInvalidRange,      ///< qmin > qmax, or outside the storage type
  kInvalidAxis,       ///< axis outside [-rank, rank)
  kInvalidBlockSize,  ///< block size <= 0
  kShapeMismatch,     ///< parameter count or output shape does not match
  kInvalidArgument,   ///< anything else the caller got wrong
  kIoError,           ///< a file could not be read or written
  kFormatError,       ///< a file is not in the expected format
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  bool is_ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

#if EIGENQ_EXCEPTIONS
/// Thrown by the throwing entry points; `what()` is the status message.
class Error : public std::invalid_argument {
 public:
  explicit Error(const Status& status) : std::invalid_argument(status.message()), code_(status.code()) {}
  StatusCode code() const { return code_; }

 private:
  StatusCode code_;
};
#endif

namespace detail {

/// Builds a message from streamable parts: make_message("scale[", i, "] = ", s).
template <class... Parts>
std::string make_message(const Parts&... parts) {
  std::ostringstream out;
  out.precision(9);  // enough digits to name any float exactly
  (out << ... << parts);
  return out.str();
}

template <class... Parts>
Status error(StatusCode code, const Parts&... parts) {
  return Status(code, "eigenq: " + make_message(parts...));
}

/// `status` with `context` (a file, a tensor) before its message:
/// "eigenq: context: message". An ok status stays ok.
inline Status with_context(const Status& status, const std::string& context) {
  if (status.is_ok()) return status;
  const std::string& m = status.message();
  return Status(status.code(), "eigenq: " + context + ": " + (m.rfind("eigenq: ", 0) == 0 ? m.substr(8) : m));
}

/// Throws the status as an `Error`; without exceptions, prints it and aborts
/// (callers who want to recover use the Status-returning entry points).
inline void raise_if_error(const Status& status) {
  if (status.is_ok()) return;
#if EIGENQ_EXCEPTIONS
  throw Error(status);
#else
  std::fprintf(stderr, "%s\n", status.message().c_str());
  std::abort();
#endif
}

}  // namespace detail
}  // namespace eigenq

/// Returns the status of `expr` from the enclosing function unless it is ok.
#define EIGENQ_RETURN_IF_ERROR(...)                     \
  do {                                                  \
    ::eigenq::Status eigenq_status_ = (__VA_ARGS__);    \
    if (!eigenq_status_.is_ok()) return eigenq_status_; \
  } while (0)
