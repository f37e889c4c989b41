#pragma once
/// \file
/// A small reader and writer for NumPy's `.npy` files: the format real
/// weights and activations come in, so quantization schemes can be measured
/// on them.
///
///     eigenq::npy::Array a;
///     EIGENQ_RETURN_IF_ERROR(eigenq::npy::read("w.npy", &a));   // any supported dtype
///     std::vector<float> w = a.values<float>();                 // a.dtype must be float32
///     eigenq::Shape s = a.shape();                              // RowMajor, or ColMajor if fortran_order
///     EIGENQ_RETURN_IF_ERROR(eigenq::npy::write("q.npy", q.data(), s));
///
/// Supported: format versions 1.0, 2.0 and 3.0; dtypes float32, float64,
/// int8, uint8, int16, uint16 and int32, little-endian; C and Fortran order; rank up
/// to kMaxRank. Every problem is a `Status` naming the file and what is
/// wrong with it (not a regular file, bad magic, truncated, unsupported
/// dtype, big-endian data, shape that does not match the data size). The
/// reader takes regular files only (a FIFO, a device such as /dev/zero or a
/// directory is refused before anything is read) and allocates at most the
/// file's size. Writing goes to a temporary file renamed into place, so a
/// failed write leaves no half-written file; a shape the reader would
/// refuse is not written.
///
/// The format (numpy.lib.format): the magic "\x93NUMPY", two version bytes,
/// the header length (uint16 in 1.0, uint32 from 2.0, little-endian), then
/// a Python dict literal such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`
/// padded with spaces and a newline so the data starts at a multiple of 64.

#include <cctype>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#define EIGENQ_NPY_POSIX 1
#else
#include <filesystem>
#define EIGENQ_NPY_POSIX 0
#endif

#include "params.hpp"
#include "status.hpp"

namespace eigenq {
namespace npy {

/// Element types a .npy file may hold here.
enum class DType { kFloat32, kFloat64, kInt8, kUInt8, kInt16, kUInt16, kInt32 };

constexpr const char* dtype_name(DType t) {
  return t == DType::kFloat32   ? "float32"
         : t == DType::kFloat64 ? "float64"
         : t == DType::kInt8    ? "int8"
         : t == DType::kUInt8   ? "uint8"
         : t == DType::kInt16   ? "int16"
         : t == DType::kUInt16  ? "uint16"
                                : "int32";
}

constexpr std::size_t dtype_size(DType t) {
  return t == DType::kFloat64                           ? 8
         : (t == DType::kFloat32 || t == DType::kInt32) ? 4
         : (t == DType::kInt16 || t == DType::kUInt16)  ? 2
                                                        : 1;
}

/// The NumPy type string written for each dtype ('|' marks "no byte order").
constexpr const char* dtype_descr(DType t) {
  return t == DType::kFloat32   ? "<f4"
         : t == DType::kFloat64 ? "<f8"
         : t == DType::kInt8    ? "|i1"
         : t == DType::kUInt8   ? "|u1"
         : t == DType::kInt16   ? "<i2"
         : t == DType::kUInt16  ? "<u2"
                                : "<i4";
}

template <class T>
constexpr bool is_npy_type_v =
    std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, std::int8_t> ||
    std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::int16_t> || std::is_same_v<T, std::uint16_t> ||
    std::is_same_v<T, std::int32_t>;

template <class T>
constexpr DType dtype_of() {
  static_assert(is_npy_type_v<T>, "npy supports float, double, int8_t, uint8_t, int16_t, uint16_t, int32_t");
  return std::is_same_v<T, float>           ? DType::kFloat32
         : std::is_same_v<T, double>        ? DType::kFloat64
         : std::is_same_v<T, std::int8_t>   ? DType::kInt8
         : std::is_same_v<T, std::uint8_t>  ? DType::kUInt8
         : std::is_same_v<T, std::int16_t>  ? DType::kInt16
         : std::is_same_v<T, std::uint16_t> ? DType::kUInt16
                                            : DType::kInt32;
}

/// The contents of a .npy file: dtype, dimensions, order and the raw
/// little-endian element bytes.
struct Array {
  DType dtype = DType::kFloat32;
  std::vector<std::int64_t> dims;
  bool fortran_order = false;
  std::vector<unsigned char> bytes;

  /// The number of elements; -1 for dimensions no tensor has (negative, or
  /// more than 2^63 - 1 elements).
  std::int64_t size() const { return eigenq::detail::element_count(dims.data(), rank()); }
  int rank() const { return static_cast<int>(dims.size()); }

  /// The dimensions as an eigenq `Shape`: C order is RowMajor, Fortran order
  /// ColMajor, and axis i keeps its meaning in both. (A rank above kMaxRank,
  /// which `read` never returns, is kept for check_shape to refuse.)
  Shape shape() const {
    return Shape::from(dims.data(), rank(), fortran_order ? Layout::kColMajor : Layout::kRowMajor);
  }

  /// The elements in memory order. T must be the array's dtype.
  template <class T>
  std::vector<T> values() const {
    EIGENQ_ASSERT(dtype_of<T>() == dtype);
    std::vector<T> out(bytes.size() / sizeof(T));
    if (!out.empty()) std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
    swap_if_big_endian(out.data(), out.size());
    return out;
  }

  /// An array holding a copy of `data` (shape.size() elements). The shape
  /// must be valid (check_shape; `write` checks it).
  template <class T>
  static Array from(const T* data, const Shape& shape) {
    EIGENQ_ASSERT(check_shape(shape).is_ok());
    Array a;
    a.dtype = dtype_of<T>();
    a.dims.assign(shape.dims.begin(), shape.dims.begin() + shape.rank);
    a.fortran_order = shape.layout == Layout::kColMajor;
    a.bytes.resize(static_cast<std::size_t>(shape.size()) * sizeof(T));
    if (!a.bytes.empty()) std::memcpy(a.bytes.data(), data, a.bytes.size());
    swap_if_big_endian(reinterpret_cast<T*>(a.bytes.data()), static_cast<std::size_t>(shape.size()));
    return a;
  }

  /// .npy stores little-endian; swap on the (rare) big-endian host.
  template <class T>
  static void swap_if_big_endian(T* data, std::size_t n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (std::size_t i = 0; i < n; ++i) {
      unsigned char* p = reinterpret_cast<unsigned char*>(data + i);
      for (std::size_t a = 0, b = sizeof(T) - 1; a < b; ++a, --b) std::swap(p[a], p[b]);
    }
#else
    (void)data;
    (void)n;
#endif
  }
};

namespace detail {

/// A cursor over the header's Python dict literal. Accepts what NumPy
/// writes and a little more (either quote, spaces anywhere, trailing commas).
class HeaderParser {
 public:
  HeaderParser(const char* begin, const char* end) : p_(begin), end_(end) {}

  void skip_space() {
    while (p_ < end_ && std::isspace(static_cast<unsigned char>(*p_))) ++p_;
  }
  bool consume(char c) {
    skip_space();
    if (p_ < end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool peek(char c) {
    skip_space();
    return p_ < end_ && *p_ == c;
  }
  bool string(std::string* out) {
    skip_space();
    if (p_ >= end_ || (*p_ != '\'' && *p_ != '"')) return false;
    const char quote = *p_++;
    out->clear();
    while (p_ < end_ && *p_ != quote) out->push_back(*p_++);
    return p_ < end_ && *p_++ == quote;
  }
  bool boolean(bool* out) {
    skip_space();
    if (word("True")) {
      *out = true;
      return true;
    }
    if (word("False")) {
      *out = false;
      return true;
    }
    return false;
  }
  /// A tuple of non-negative integers: (), (3,), (3, 4). NumPy writes
  /// Python ints, so a trailing 'L' (Python 2) is tolerated.
  bool tuple(std::vector<std::int64_t>* out) {
    out->clear();
    if (!consume('(')) return false;
    while (!consume(')')) {
      skip_space();
      if (p_ >= end_ || !std::isdigit(static_cast<unsigned char>(*p_))) return false;
      std::int64_t v = 0;
      while (p_ < end_ && std::isdigit(static_cast<unsigned char>(*p_))) {
        if (v > (std::numeric_limits<std::int64_t>::max() - 9) / 10) return false;
        v = v * 10 + (*p_++ - '0');
      }
      if (p_ < end_ && *p_ == 'L') ++p_;
      out->push_back(v);
      if (!consume(',') && !peek(')')) return false;
    }
    return true;
  }
  /// Skips one value of a key this reader does not use.
  bool skip_value() {
    std::string s;
    bool b;
    std::vector<std::int64_t> t;
    return string(&s) || boolean(&b) || tuple(&t);
  }

 private:
  bool word(const char* w) {
    const std::size_t n = std::strlen(w);
    if (static_cast<std::size_t>(end_ - p_) >= n && std::memcmp(p_, w, n) == 0) {
      p_ += n;
      return true;
    }
    return false;
  }
  const char* p_;
  const char* end_;
};

inline std::string shape_text(const std::vector<std::int64_t>& dims) {
  std::string s = "(";
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + (dims.size() == 1 ? ",)" : ")");
}

/// Maps a NumPy type string to a dtype, or explains why it cannot.
inline Status parse_descr(const std::string& name, const std::string& descr, DType* out) {
  if (descr.size() < 2)
    return eigenq::detail::error(StatusCode::kFormatError, name, ": unsupported dtype '", descr, "'");
  const char order = descr[0];
  const std::string kind = descr.substr(1);
  const DType all[] = {DType::kFloat32, DType::kFloat64, DType::kInt8, DType::kUInt8,
                       DType::kInt16,   DType::kUInt16,  DType::kInt32};
  for (DType t : all) {
    if (kind != std::string(dtype_descr(t)).substr(1)) continue;
    const bool one_byte = dtype_size(t) == 1;
    if (order == '>' && !one_byte)
      return eigenq::detail::error(StatusCode::kFormatError, name, ": big-endian dtype '", descr,
                                   "' is not supported (only little-endian '<'; convert with "
                                   "a.astype(a.dtype.newbyteorder('<')))");
    if (order == '<' || order == '|' || (one_byte && (order == '>' || order == '='))) {
      *out = t;
      return Status::ok();
    }
    break;
  }
  return eigenq::detail::error(StatusCode::kFormatError, name, ": unsupported dtype '", descr,
                               "' (supported: float32 '<f4', float64 '<f8', int8 '|i1', uint8 '|u1', "
                               "int16 '<i2', uint16 '<u2', int32 '<i4')");
}

/// Up to a few bytes shown as text, non-printable ones as \xNN.
inline std::string printable(const unsigned char* p, std::size_t n) {
  std::string s = "'";
  for (std::size_t i = 0; i < n; ++i) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "\\x%02X", p[i]);
    s += std::isprint(p[i]) ? std::string(1, static_cast<char>(p[i])) : std::string(hex);
  }
  return s + "'";
}

inline std::uint32_t read_le(const unsigned char* p, int bytes) {
  std::uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

/// count elements of dtype in bytes; false when that overflows size_t.
inline bool byte_size(std::int64_t count, DType dtype, std::size_t* out) {
  const std::size_t element = dtype_size(dtype);
  if (count < 0 || static_cast<std::uint64_t>(count) > std::numeric_limits<std::size_t>::max() / element) return false;
  *out = static_cast<std::size_t>(count) * element;
  return true;
}

/// What the prefix and header of a .npy file say.
struct Header {
  DType dtype = DType::kFloat32;
  std::vector<std::int64_t> dims;
  bool fortran_order = false;
  std::size_t data_offset = 0;  ///< where the element bytes start
};

/// Parses the prefix and header of the `size` bytes of a .npy file at `b`,
/// and checks that exactly the bytes the shape needs follow them.
inline Status parse_header(const unsigned char* b, std::size_t size, const std::string& name, Header* out) {
  using eigenq::detail::error;
  static const unsigned char kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (size < 6 || std::memcmp(b, kMagic, 6) != 0)
    return error(StatusCode::kFormatError, name, ": not a .npy file (bad magic: expected \\x93NUMPY, got ",
                 printable(b, size < 6 ? size : 6), ")");
  if (size < 10) return error(StatusCode::kFormatError, name, ": truncated: ", size, " bytes, no complete header");
  const int major = b[6], minor = b[7];
  if (major < 1 || major > 3)
    return error(StatusCode::kFormatError, name, ": unsupported .npy format version ", major, ".", minor,
                 " (supported: 1.0, 2.0, 3.0)");
  const int length_bytes = major == 1 ? 2 : 4;
  const std::size_t prefix = 6 + 2 + static_cast<std::size_t>(length_bytes);
  if (size < prefix) return error(StatusCode::kFormatError, name, ": truncated: ", size, " bytes, no complete header");
  const std::size_t header_length = read_le(b + 8, length_bytes);
  if (size - prefix < header_length)
    return error(StatusCode::kFormatError, name, ": truncated: header of ", header_length, " bytes, but only ",
                 size - prefix, " follow the prefix");

  HeaderParser p(reinterpret_cast<const char*>(b + prefix), reinterpret_cast<const char*>(b + prefix + header_length));
  std::string descr;
  bool fortran = false, have_descr = false, have_order = false, have_shape = false;
  std::vector<std::int64_t> dims;
  auto malformed = [&](const char* what) {
    return error(StatusCode::kFormatError, name, ": malformed header (", what, "): '",
                 std::string(reinterpret_cast<const char*>(b + prefix), header_length), "'");
  };
  if (!p.consume('{')) return malformed("expected '{'");
  while (!p.consume('}')) {
    std::string key;
    if (!p.string(&key) || !p.consume(':')) return malformed("expected 'key':");
    if (key == "descr") {
      if (!p.string(&descr)) return malformed("descr is not a string (structured dtypes are not supported)");
      have_descr = true;
    } else if (key == "fortran_order") {
      if (!p.boolean(&fortran)) return malformed("fortran_order is not True or False");
      have_order = true;
    } else if (key == "shape") {
      if (!p.tuple(&dims)) return malformed("shape is not a tuple of integers");
      have_shape = true;
    } else if (!p.skip_value()) {
      return malformed("unreadable value");
    }
    if (!p.consume(',') && !p.peek('}')) return malformed("expected ',' or '}'");
  }
  if (!have_descr || !have_order || !have_shape) return malformed("needs descr, fortran_order and shape");
  if (static_cast<int>(dims.size()) > kMaxRank)
    return error(StatusCode::kFormatError, name, ": rank ", dims.size(), " is above the supported ", kMaxRank);

  DType dtype;
  EIGENQ_RETURN_IF_ERROR(parse_descr(name, descr, &dtype));
  const std::int64_t count = eigenq::detail::element_count(dims.data(), static_cast<int>(dims.size()));
  if (count < 0)
    return error(StatusCode::kFormatError, name, ": shape ", shape_text(dims), " has more than 2^63 - 1 elements");
  const std::size_t available = size - prefix - header_length;
  std::size_t need = 0;
  const bool representable = byte_size(count, dtype, &need);
  if (!representable || need > available)
    return error(StatusCode::kFormatError, name, ": truncated: shape ", shape_text(dims), " of ", dtype_name(dtype),
                 " needs ", representable ? std::to_string(need) : std::string("more"), " bytes of data, the file has ",
                 available);
  if (need < available)
    return error(StatusCode::kFormatError, name, ": size mismatch: shape ", shape_text(dims), " of ", dtype_name(dtype),
                 " needs ", need, " bytes of data, the file has ", available, " (", available - need, " extra)");
  out->dtype = dtype;
  out->dims = std::move(dims);
  out->fortran_order = fortran;
  out->data_offset = prefix + header_length;
  return Status::ok();
}

/// Reads the whole of a regular file, allocating its size and no more.
/// Anything else (a directory, a FIFO, a device such as /dev/zero, also
/// behind a symbolic link) is refused before a byte is read: a FIFO would
/// block and /dev/zero never ends.
inline Status read_regular_file(const std::string& path, std::vector<unsigned char>* out) {
  using eigenq::detail::error;
#if EIGENQ_NPY_POSIX
  // O_NONBLOCK: opening a FIFO must not wait for a writer. (It changes
  // nothing for a regular file.)
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return error(StatusCode::kIoError, path, ": cannot open: ", std::strerror(errno));
  struct ::stat st;
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return error(StatusCode::kIoError, path, ": cannot stat: ", std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    const char* kind = S_ISDIR(st.st_mode)    ? "a directory"
                       : S_ISFIFO(st.st_mode) ? "a FIFO"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "not a file";
    return error(StatusCode::kIoError, path, ": is ", kind, ", not a regular file");
  }
  if (static_cast<std::uint64_t>(st.st_size) > std::numeric_limits<std::size_t>::max()) {
    ::close(fd);
    return error(StatusCode::kIoError, path, ": ", st.st_size, " bytes do not fit in memory here");
  }
  std::vector<unsigned char> bytes(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ::ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int e = errno;
      ::close(fd);
      if (n == 0)
        return error(StatusCode::kIoError, path, ": shrank from ", bytes.size(), " to ", done,
                     " bytes while being read");
      return error(StatusCode::kIoError, path, ": read error: ", std::strerror(e));
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
#else
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (ec) return error(StatusCode::kIoError, path, ": cannot open: ", ec.message());
  if (!std::filesystem::is_regular_file(status))
    return error(StatusCode::kIoError, path, ": is ",
                 std::filesystem::is_directory(status) ? "a directory" : "not a regular file", ", not a regular file");
  const std::uintmax_t length = std::filesystem::file_size(path, ec);
  if (ec) return error(StatusCode::kIoError, path, ": cannot stat: ", ec.message());
  if (length > std::numeric_limits<std::size_t>::max())
    return error(StatusCode::kIoError, path, ": ", length, " bytes do not fit in memory here");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return error(StatusCode::kIoError, path, ": cannot open: ", std::strerror(errno));
  std::vector<unsigned char> bytes(static_cast<std::size_t>(length));
  const std::size_t done = bytes.empty() ? 0 : std::fread(bytes.data(), 1, bytes.size(), f);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return error(StatusCode::kIoError, path, ": read error");
  if (done < bytes.size())
    return error(StatusCode::kIoError, path, ": shrank from ", bytes.size(), " to ", done, " bytes while being read");
#endif
  *out = std::move(bytes);
  return Status::ok();
}

/// Writes `size` bytes to `tmp`, a fresh file: whatever `tmp` was (a stale
/// temporary, or a symbolic link planted to make the write land elsewhere)
/// is removed first, and the file is created exclusively. On failure the
/// message names `path` (the file the caller means) and the reason, and no
/// temporary is left.
inline Status write_temporary(const std::string& path, const std::string& tmp, const void* data, std::size_t size) {
  using eigenq::detail::error;
  std::remove(tmp.c_str());
  std::FILE* f = std::fopen(tmp.c_str(), "wbx");
  if (f == nullptr) return error(StatusCode::kIoError, path, ": cannot create ", tmp, ": ", std::strerror(errno));
  const bool written = size == 0 || std::fwrite(data, 1, size, f) == size;
  const int write_errno = errno;
  const bool closed = std::fclose(f) == 0;
  const int close_errno = errno;
  if (written && closed) return Status::ok();
  std::remove(tmp.c_str());
  return error(StatusCode::kIoError, path, ": write failed: ", std::strerror(written ? close_errno : write_errno));
}

/// Renames `tmp` onto `path`; on failure removes `tmp` and says why.
inline Status rename_into_place(const std::string& tmp, const std::string& path) {
  if (std::rename(tmp.c_str(), path.c_str()) == 0) return Status::ok();
  const int e = errno;
  std::remove(tmp.c_str());
  return eigenq::detail::error(StatusCode::kIoError, path, ": cannot rename ", tmp, " into place: ", std::strerror(e));
}

}  // namespace detail

/// Parses the bytes of a .npy file held in memory; `name` (usually the
/// path) starts every error message.
inline Status parse(const void* data, std::size_t size, const std::string& name, Array* out) {
  const auto* b = static_cast<const unsigned char*>(data);
  detail::Header h;
  EIGENQ_RETURN_IF_ERROR(detail::parse_header(b, size, name, &h));
  Array a;
  a.dtype = h.dtype;
  a.dims = std::move(h.dims);
  a.fortran_order = h.fortran_order;
  a.bytes.assign(b + h.data_offset, b + size);
  *out = std::move(a);
  return Status::ok();
}

/// Reads a .npy file (a regular file). Errors name the path and the problem.
inline Status read(const std::string& path, Array* out) {
  std::vector<unsigned char> bytes;
  EIGENQ_RETURN_IF_ERROR(detail::read_regular_file(path, &bytes));
  detail::Header h;
  EIGENQ_RETURN_IF_ERROR(detail::parse_header(bytes.data(), bytes.size(), path, &h));
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(h.data_offset));  // in place: no second copy
  Array a;
  a.dtype = h.dtype;
  a.dims = std::move(h.dims);
  a.fortran_order = h.fortran_order;
  a.bytes = std::move(bytes);
  *out = std::move(a);
  return Status::ok();
}

/// The bytes of a .npy file (format 1.0, or 2.0 when the header needs it).
inline std::vector<unsigned char> serialize(const Array& a) {
  std::string header = std::string("{'descr': '") + dtype_descr(a.dtype) +
                       "', 'fortran_order': " + (a.fortran_order ? "True" : "False") +
                       ", 'shape': " + detail::shape_text(a.dims) + ", }";
  // Pad with spaces and end with '\n' so the data starts at a multiple of 64.
  const bool v1 = header.size() + 1 + 10 <= 65535;
  const std::size_t prefix = v1 ? 10 : 12;
  header.append((64 - (prefix + header.size() + 1) % 64) % 64, ' ');
  header.push_back('\n');
  std::vector<unsigned char> out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<unsigned char>(v1 ? 1 : 2), 0};
  for (std::size_t i = 0; i < prefix - 8; ++i) out.push_back(static_cast<unsigned char>(header.size() >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), a.bytes.begin(), a.bytes.end());
  return out;
}

/// Writes `a` to `path`, through a temporary file renamed into place.
/// Refuses, writing nothing, an array the reader would refuse: rank above
/// kMaxRank, a negative dimension, more than 2^63 - 1 elements, or bytes
/// that do not match the shape.
inline Status write(const std::string& path, const Array& a) {
  using eigenq::detail::error;
  EIGENQ_RETURN_IF_ERROR(eigenq::detail::with_context(check_shape(a.shape()), path));
  const std::int64_t count = a.size();
  std::size_t need = 0;
  if (!detail::byte_size(count, a.dtype, &need) || a.bytes.size() != need)
    return error(StatusCode::kShapeMismatch, path, ": shape ", detail::shape_text(a.dims), " of ", dtype_name(a.dtype),
                 " needs ", count, " elements of ", dtype_size(a.dtype), " bytes, the array holds ", a.bytes.size(),
                 " bytes");
  const std::vector<unsigned char> bytes = serialize(a);
  const std::string tmp = path + ".tmp";
  EIGENQ_RETURN_IF_ERROR(detail::write_temporary(path, tmp, bytes.data(), bytes.size()));
  return detail::rename_into_place(tmp, path);
}

/// Writes shape.size() elements of `data`; a ColMajor shape is written in
/// Fortran order.
template <class T>
Status write(const std::string& path, const T* data, const Shape& shape) {
  EIGENQ_RETURN_IF_ERROR(eigenq::detail::with_context(eigenq::detail::check_buffers(shape, {{"data", data}}), path));
  return write(path, Array::from(data, shape));
}

}  // namespace npy
}  // namespace eigenq
