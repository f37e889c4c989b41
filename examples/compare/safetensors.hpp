#pragma once
// A safetensors reader for model checkpoints: an 8-byte little-endian
// header length, a JSON header {"name": {"dtype", "shape", "data_offsets":
// [begin, end]}, "__metadata__": {...}}, then the data. The header is
// trusted in nothing: its length must fit the file; every tensor's offsets
// must hold exactly its shape's bytes; the tensors must tile the data
// section with no gap or overlap, to its last byte (as the format's
// specification requires). A file that breaks any of these is refused,
// naming the tensor and what is wrong, before a value is read. Tensors are
// then read one at a time (pread), so a checkpoint larger than memory can
// be compared. float32, float16 and bfloat16 are read as float32 (exactly);
// float64 is converted.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "eigenq/groupwise.hpp"
#include "eigenq/status.hpp"
#include "json.hpp"

namespace eigenq::compare {

/// Dimensions as "[3, 8]".
inline std::string dims_text(const std::vector<std::int64_t>& dims) {
  std::string t = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) t += (i ? ", " : "") + std::to_string(dims[i]);
  return t + "]";
}

namespace safetensors {

/// One tensor of the header. Offsets are absolute in the file.
struct Entry {
  std::string name;
  std::string dtype;  ///< as the header spells it: "F32", "BF16", "I64", ...
  std::vector<std::int64_t> shape;
  std::uint64_t offset = 0, bytes = 0;
};

struct Header {
  std::string path;
  std::vector<Entry> entries;  ///< in header order
};

/// Bytes per element of a dtype the specification names; 0 for a name it
/// does not.
inline std::size_t dtype_size(const std::string& d) {
  if (d == "F64" || d == "I64" || d == "U64") return 8;
  if (d == "F32" || d == "I32" || d == "U32") return 4;
  if (d == "F16" || d == "BF16" || d == "I16" || d == "U16") return 2;
  if (d == "I8" || d == "U8" || d == "BOOL" || d == "F8_E4M3" || d == "F8_E5M2") return 1;
  return 0;
}

/// The dtypes read as float tensors.
inline bool is_float(const std::string& d) { return d == "F32" || d == "F16" || d == "BF16" || d == "F64"; }

namespace detail {

using eigenq::detail::error;

/// A regular file open for reading: anything else (a directory, a FIFO, a
/// device) is refused before a byte is read, as by the .npy reader.
class File {
 public:
  File() = default;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() {
    if (fd_ >= 0) ::close(fd_);
  }

  Status open(const std::string& path) {
    path_ = path;
    fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);  // a FIFO must not wait for a writer
    if (fd_ < 0) return error(StatusCode::kIoError, path, ": cannot open: ", std::strerror(errno));
    struct ::stat st;
    if (::fstat(fd_, &st) != 0) return error(StatusCode::kIoError, path, ": cannot stat: ", std::strerror(errno));
    if (!S_ISREG(st.st_mode))
      return error(StatusCode::kIoError, path, ": is ", S_ISDIR(st.st_mode) ? "a directory" : "not a regular file",
                   ", not a regular file");
    size_ = static_cast<std::uint64_t>(st.st_size);
    return Status::ok();
  }
  std::uint64_t size() const { return size_; }

  /// Reads bytes [offset, offset + n) exactly.
  Status read(std::uint64_t offset, std::size_t n, unsigned char* out) const {
    std::size_t done = 0;
    while (done < n) {
      const ::ssize_t r = ::pread(fd_, out + done, n - done, static_cast<::off_t>(offset + done));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return error(StatusCode::kIoError, path_, ": read error: ", std::strerror(errno));
      if (r == 0)
        return error(StatusCode::kIoError, path_, ": ends at byte ", offset + done, ", expected ", offset + n,
                     " (the file shrank?)");
      done += static_cast<std::size_t>(r);
    }
    return Status::ok();
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

inline Status read_entry(const std::string& where, const std::string& name, const Json& v, Entry* out) {
  const std::string who = where + ": tensor '" + name + "'";
  if (!v.is_object()) return error(StatusCode::kFormatError, who, " is not an object");
  const Json* dtype = v.get("dtype");
  const Json* shape = v.get("shape");
  const Json* offsets = v.get("data_offsets");
  if (!dtype || !dtype->is_string())
    return error(StatusCode::kFormatError, who, ": \"dtype\" is missing or not a string");
  if (dtype_size(dtype->string) == 0)
    return error(StatusCode::kFormatError, who, ": unknown dtype '", dtype->string,
                 "' (expected F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL, ...)");
  if (!shape || !shape->is_array())
    return error(StatusCode::kFormatError, who, ": \"shape\" is missing or not an array");
  if (!offsets || !offsets->is_array() || offsets->items.size() != 2)
    return error(StatusCode::kFormatError, who, ": \"data_offsets\" is not an array of two integers");
  Entry e;
  e.name = name;
  e.dtype = dtype->string;
  // The byte count, checked against overflow: elements * size < 2^63.
  std::uint64_t bytes = dtype_size(e.dtype);
  for (std::size_t d = 0; d < shape->items.size(); ++d) {
    std::int64_t n = 0;
    if (!as_count(shape->items[d], &n))
      return error(StatusCode::kFormatError, who, ": shape dimension ", d, " is not an integer in [0, 2^63)");
    e.shape.push_back(n);
    if (n != 0 && bytes > (std::numeric_limits<std::uint64_t>::max() >> 1) / static_cast<std::uint64_t>(n))
      return error(StatusCode::kFormatError, who, ": shape ", dims_text(e.shape),
                   " (so far) needs more than 2^63 bytes");
    bytes *= static_cast<std::uint64_t>(n);
  }
  std::int64_t begin = 0, end = 0;
  if (!as_count(offsets->items[0], &begin) || !as_count(offsets->items[1], &end) || begin > end)
    return error(StatusCode::kFormatError, who, ": data_offsets are not integers with 0 <= begin <= end");
  if (static_cast<std::uint64_t>(end - begin) != bytes)
    return error(StatusCode::kFormatError, who, ": data_offsets [", begin, ", ", end, "] hold ", end - begin,
                 " bytes, but shape ", dims_text(e.shape), " of ", e.dtype, " needs ", bytes);
  e.offset = static_cast<std::uint64_t>(begin);
  e.bytes = bytes;
  *out = std::move(e);
  return Status::ok();
}

}  // namespace detail

/// Reads and checks the header of a .safetensors file (see the file
/// comment); `out` is set only when the whole header holds.
inline Status read_header(const std::string& path, Header* out) {
  using detail::error;
  // The specification's limit, and far above any real header.
  constexpr std::uint64_t kMaxHeader = 100u << 20;
  detail::File f;
  EIGENQ_RETURN_IF_ERROR(f.open(path));
  if (f.size() < 8)
    return error(StatusCode::kFormatError, path, ": ", f.size(),
                 " bytes, too short for a safetensors file (8-byte "
                 "header length first)");
  unsigned char head[8];
  EIGENQ_RETURN_IF_ERROR(f.read(0, 8, head));
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | head[i];
  if (n > f.size() - 8)
    return error(StatusCode::kFormatError, path, ": header length ", n, " exceeds the file (", f.size(),
                 " bytes, 8 of them the length)");
  if (n > kMaxHeader)
    return error(StatusCode::kFormatError, path, ": header length ", n, " is above the format's limit of ", kMaxHeader,
                 " bytes");
  std::string text(static_cast<std::size_t>(n), '\0');
  EIGENQ_RETURN_IF_ERROR(f.read(8, text.size(), reinterpret_cast<unsigned char*>(&text[0])));
  Json root;
  EIGENQ_RETURN_IF_ERROR(parse_json(text, path + " (header)", &root));
  if (!root.is_object()) return error(StatusCode::kFormatError, path, ": the header is not a JSON object");

  Header h;
  h.path = path;
  const std::uint64_t data = 8 + n;
  for (const auto& [name, value] : root.members) {
    if (name == "__metadata__") continue;
    for (const Entry& e : h.entries)
      if (e.name == name) return error(StatusCode::kFormatError, path, ": tensor '", name, "' is listed twice");
    Entry e;
    EIGENQ_RETURN_IF_ERROR(detail::read_entry(path, name, value, &e));
    e.offset += data;
    h.entries.push_back(std::move(e));
  }
  // The tensors tile the data section: sorted by offset, each starts where
  // the previous ends, the first at the start and the last at the file's end.
  std::vector<const Entry*> order;
  for (const Entry& e : h.entries) order.push_back(&e);
  std::stable_sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
    return a->offset != b->offset ? a->offset < b->offset : a->bytes < b->bytes;
  });
  std::uint64_t at = data;
  const Entry* previous = nullptr;
  for (const Entry* e : order) {
    if (e->offset < at)
      return error(StatusCode::kFormatError, path, ": tensor '", e->name, "' (data bytes [", e->offset - data, ", ",
                   e->offset - data + e->bytes, ")) overlaps tensor '", previous->name, "' (up to ", at - data, ")");
    if (e->offset > at)
      return error(StatusCode::kFormatError, path, ": data bytes [", at - data, ", ", e->offset - data,
                   ") belong to no tensor (the format allows no gaps)");
    if (e->offset + e->bytes > f.size())
      return error(StatusCode::kFormatError, path, ": tensor '", e->name, "' ends at data byte ",
                   e->offset - data + e->bytes, ", past the end of the file (", f.size() - data, " data bytes)");
    at = e->offset + e->bytes;
    previous = e;
  }
  if (at != f.size())
    return error(StatusCode::kFormatError, path, ": the tensors end at data byte ", at - data, " but the file has ",
                 f.size() - data, " data bytes (the format allows no trailing bytes)");
  *out = std::move(h);
  return Status::ok();
}

/// Reads one float tensor (F32, F16, BF16 exactly; F64 converted) from a
/// file whose header `read_header` accepted.
inline Status read_tensor(const std::string& path, const Entry& e, std::vector<float>* out) {
  if (!is_float(e.dtype))
    return detail::error(StatusCode::kFormatError, path, ": tensor '", e.name, "': dtype ", e.dtype,
                         " is not a floating-point type");
  detail::File f;
  EIGENQ_RETURN_IF_ERROR(f.open(path));
  if (e.offset + e.bytes > f.size())
    return detail::error(StatusCode::kIoError, path, ": changed since its header was read");
  std::vector<unsigned char> bytes(static_cast<std::size_t>(e.bytes));
  EIGENQ_RETURN_IF_ERROR(f.read(e.offset, bytes.size(), bytes.data()));
  const std::size_t size = dtype_size(e.dtype), n = bytes.size() / size;
  std::vector<float> v(n);
  // Little-endian, whatever the host.
  auto word = [&](std::size_t i) {
    std::uint64_t w = 0;
    for (std::size_t b = size; b-- > 0;) w = w << 8 | bytes[i * size + b];
    return w;
  };
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t w = word(i);
    if (e.dtype == "F16") {
      v[i] = half_to_float(static_cast<std::uint16_t>(w));
    } else if (e.dtype == "F64") {
      double d;
      std::memcpy(&d, &w, sizeof d);
      v[i] = static_cast<float>(d);
    } else {  // F32, or BF16: the top half of a float32
      const auto u = static_cast<std::uint32_t>(e.dtype == "BF16" ? w << 16 : w);
      std::memcpy(&v[i], &u, sizeof u);
    }
  }
  *out = std::move(v);
  return Status::ok();
}

}  // namespace safetensors
}  // namespace eigenq::compare
