#pragma once
/// \file
/// Packed 4-bit storage: int4 [-8, 7] and uint4 [0, 15], two values per
/// byte, element 2i in the low nibble and element 2i+1 in the high nibble
/// (ONNX int4/uint4, PyTorch quint4x2). A tensor of n elements takes
/// (n + 1) / 2 bytes; when n is odd the last high nibble is written as zero.
///
///     eigenq::PackedQuantizer<eigenq::Int4> qz(shape, QParams::blocked(1, 32, scales, {}, Int4::range()));
///     std::vector<std::uint8_t> packed(eigenq::packed_size(shape.size()));
///     qz.quantize(x, packed.data());
///     qz.dequantize(packed.data(), y);
///
/// No new kernels: each run of the scheme (detail::for_each_run, the same
/// loop `Quantizer` uses) is quantized chunk by chunk into a small stack
/// buffer of int8/uint8 by `Kernels<P>` (SIMD where available) with the
/// 4-bit range, then the chunk's nibbles are packed; dequantize unpacks a
/// chunk into the buffer and runs the int8/uint8 kernel. Every scheme and
/// axis therefore comes from the run machinery, per-axis along the packed
/// (fastest) dimension included: runs may start on an odd element, and the
/// packing writes that element's nibble without disturbing its neighbour.

#include <cstddef>
#include <cstdint>
#include <utility>

#include "kernels.hpp"
#include "params.hpp"
#include "scheme.hpp"

namespace eigenq {

/// Signed 4-bit storage: values in [-8, 7], unpacked into int8.
struct Int4 {
  using Unpacked = std::int8_t;
  static constexpr Range range() { return {-8, 7}; }
  static constexpr const char* name() { return "int4"; }
};

/// Unsigned 4-bit storage: values in [0, 15], unpacked into uint8.
struct UInt4 {
  using Unpacked = std::uint8_t;
  static constexpr Range range() { return {0, 15}; }
  static constexpr const char* name() { return "uint4"; }
};

template <class T>
constexpr bool is_packed4_v = std::is_same_v<T, Int4> || std::is_same_v<T, UInt4>;

/// Bytes needed for n packed 4-bit values.
constexpr std::size_t packed_size(std::int64_t n) { return n > 0 ? static_cast<std::size_t>((n + 1) / 2) : 0; }

/// Element i of a packed buffer, sign-extended for Int4.
template <class T>
inline typename T::Unpacked unpack_at(const std::uint8_t* packed, std::int64_t i) {
  static_assert(is_packed4_v<T>, "T must be Int4 or UInt4");
  const unsigned nibble = (static_cast<unsigned>(packed[i >> 1]) >> ((i & 1) * 4)) & 0xFu;
  if constexpr (std::is_same_v<T, Int4>)
    return static_cast<std::int8_t>(static_cast<int>(nibble ^ 8u) - 8);  // 8..15 -> -8..-1
  else
    return static_cast<std::uint8_t>(nibble);
}

/// Writes element i of a packed buffer, keeping the other nibble of its byte.
/// The value is assumed in range; only its low four bits are stored.
template <class T>
inline void pack_at(std::uint8_t* packed, std::int64_t i, typename T::Unpacked v) {
  const int shift = static_cast<int>(i & 1) * 4;
  std::uint8_t& byte = packed[i >> 1];
  byte = static_cast<std::uint8_t>((byte & ~(0xFu << shift)) | ((static_cast<unsigned>(v) & 0xFu) << shift));
}

/// Packs n values into elements [at, at + n) of a packed buffer. Bytes that
/// lie wholly inside the span are written without being read; a nibble that
/// shares its byte with an element outside the span is written alone.
template <class T>
void pack(const typename T::Unpacked* v, std::uint8_t* packed, std::int64_t at, std::int64_t n) {
  std::int64_t i = 0;
  if (n > 0 && (at & 1)) pack_at<T>(packed, at, v[i++]);  // leading high nibble
  std::uint8_t* out = packed + ((at + i) >> 1);
  for (; i + 1 < n; i += 2)
    *out++ = static_cast<std::uint8_t>((static_cast<unsigned>(v[i]) & 0xFu) |
                                       ((static_cast<unsigned>(v[i + 1]) & 0xFu) << 4));
  if (i < n) pack_at<T>(packed, at + i, v[i]);  // trailing low nibble
}

/// Unpacks elements [at, at + n) of a packed buffer: whole bytes two values
/// at a time (a loop the compiler vectorizes), odd ends one nibble each.
template <class T>
void unpack(const std::uint8_t* packed, std::int64_t at, std::int64_t n, typename T::Unpacked* v) {
  using U = typename T::Unpacked;
  std::int64_t i = 0;
  if (n > 0 && (at & 1)) v[i++] = unpack_at<T>(packed, at);  // leading high nibble
  const std::uint8_t* in = packed + ((at + i) >> 1);
  const std::int64_t pairs = (n - i) / 2;
  for (std::int64_t j = 0; j < pairs; ++j) {
    const unsigned b = in[j];
    if constexpr (std::is_same_v<T, Int4>) {  // sign-extend each nibble: (x ^ 8) - 8
      v[i + 2 * j] = static_cast<U>(static_cast<int>((b & 0xFu) ^ 8u) - 8);
      v[i + 2 * j + 1] = static_cast<U>(static_cast<int>((b >> 4) ^ 8u) - 8);
    } else {
      v[i + 2 * j] = static_cast<U>(b & 0xFu);
      v[i + 2 * j + 1] = static_cast<U>(b >> 4);
    }
  }
  i += 2 * pairs;
  if (i < n) v[i] = unpack_at<T>(packed, at + i);  // trailing low nibble
}

/// A parameter set validated against a shape, applied to packed 4-bit
/// buffers. The range must lie inside T's ([-8, 7] or [0, 15]); a narrower
/// one (e.g. [-7, 7]) is allowed. Applying never checks, allocates or throws.
template <class T, class N = DefaultNumerics, Path P = kBestPath>
class PackedQuantizer {
  static_assert(is_packed4_v<T>, "T must be Int4 or UInt4");

 public:
  using Storage = T;
  using Unpacked = typename T::Unpacked;
  using Preset = N;
  static constexpr Path path = P;

  PackedQuantizer() = default;

  static Status create(const Shape& shape, const QParamsView& params, PackedQuantizer* out) {
    EIGENQ_RETURN_IF_ERROR(check(params.range));
    return Quantizer<Unpacked, N, P>::create(shape, params, &out->inner_);
  }
  static Status create(const Shape& shape, QParams params, PackedQuantizer* out) {
    EIGENQ_RETURN_IF_ERROR(check(params.range));
    return Quantizer<Unpacked, N, P>::create(shape, std::move(params), &out->inner_);
  }
  /// Throws `eigenq::Error` naming the bad value.
  PackedQuantizer(const Shape& shape, const QParamsView& params) {
    detail::raise_if_error(create(shape, params, this));
  }
  PackedQuantizer(const Shape& shape, QParams params) {
    detail::raise_if_error(create(shape, std::move(params), this));
  }

  const Shape& shape() const { return inner_.shape(); }
  std::int64_t size() const { return inner_.size(); }
  /// Bytes of the packed buffer: (size() + 1) / 2.
  std::size_t packed_bytes() const { return packed_size(size()); }
  const QParamsView& params() const { return inner_.params(); }
  Range range() const { return inner_.range(); }
  /// The same parameters applied to unpacked int8/uint8 storage.
  const Quantizer<Unpacked, N, P>& unpacked() const { return inner_; }

  /// packed = pack(quantize(x)); x holds size() floats, packed packed_bytes().
  void quantize(const float* x, std::uint8_t* packed) const {
    for_each_chunk([&](std::int64_t at, std::int64_t n, auto src) {
      Unpacked buffer[kChunk];
      Kernels<P>::template quantize<Unpacked, N>(x + at, buffer, static_cast<std::size_t>(n), src, range());
      pack<T>(buffer, packed, at, n);
    });
    const std::int64_t n = size();
    if (n & 1) packed[n >> 1] &= 0x0F;  // the padding nibble is zero, not left as it was
  }
  /// y = dequantize(unpack(packed)).
  void dequantize(const std::uint8_t* packed, float* y) const {
    for_each_chunk([&](std::int64_t at, std::int64_t n, auto src) {
      Unpacked buffer[kChunk];
      unpack<T>(packed, at, n, buffer);
      Kernels<P>::template dequantize<Unpacked>(buffer, y + at, static_cast<std::size_t>(n), src);
    });
  }
  /// y = dequantize(quantize(x)) with the 4-bit range; y may alias x. The
  /// same as the unpacked fake-quantize: no packed buffer is involved.
  void fake_quantize(const float* x, float* y) const { inner_.fake_quantize(x, y); }
  /// fake_quantize and the STE mask in one pass.
  void fake_quantize_mask(const float* x, float* y, std::uint8_t* mask) const { inner_.fake_quantize_mask(x, y, mask); }

 private:
  /// Elements per stack buffer: 256 bytes, a few SIMD vectors.
  static constexpr std::int64_t kChunk = 256;

  static Status check(Range range) {
    const Range limit = T::range();
    if (range.qmin < limit.qmin || range.qmax > limit.qmax)
      return detail::error(StatusCode::kInvalidRange, "range [", range.qmin, ", ", range.qmax, "] is outside ",
                           T::name(), " [", limit.qmin, ", ", limit.qmax, "]");
    return Status::ok();
  }

  /// Calls fn(offset, length, source) over the scheme's runs, cut into
  /// chunks of at most kChunk elements.
  template <class Fn>
  void for_each_chunk(Fn&& fn) const {
    detail::for_each_run(inner_.resolved(), [&](std::int64_t at, std::int64_t n, auto src) {
      for (std::int64_t k = 0; k < n; k += kChunk)
        fn(at + k, n - k < kChunk ? n - k : kChunk, src.advanced(static_cast<std::size_t>(k)));
    });
  }

  Quantizer<Unpacked, N, P> inner_;
};

/// One-shot entry points: validate, then apply. Nothing is written when the
/// parameters are invalid.
template <class T, class N = DefaultNumerics, Path P = kBestPath>
Status quantize_packed(const float* x, std::uint8_t* packed, const Shape& shape, const QParamsView& params) {
  PackedQuantizer<T, N, P> qz;
  EIGENQ_RETURN_IF_ERROR(PackedQuantizer<T, N, P>::create(shape, params, &qz));
  qz.quantize(x, packed);
  return Status::ok();
}

template <class T, class N = DefaultNumerics, Path P = kBestPath>
Status dequantize_packed(const std::uint8_t* packed, float* y, const Shape& shape, const QParamsView& params) {
  PackedQuantizer<T, N, P> qz;
  EIGENQ_RETURN_IF_ERROR(PackedQuantizer<T, N, P>::create(shape, params, &qz));
  qz.dequantize(packed, y);
  return Status::ok();
}

}  // namespace eigenq
