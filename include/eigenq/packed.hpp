#pragma once
/// \file
/// Packed sub-byte storage: int4 [-8, 7] and uint4 [0, 15] two values per
/// byte, element 2i in the low nibble (ONNX int4/uint4, PyTorch quint4x2);
/// int2 [-2, 1] and uint2 [0, 3] four per byte, element 4i in the low two
/// bits (PyTorch quint2x4). A tensor of n elements takes
/// `packed_bytes<T>(n)` bytes; the unused bits of a partial last byte are
/// written as zero.
///
///     eigenq::PackedQuantizer<eigenq::Int4> qz(shape, QParams::blocked(1, 32, scales, {}, Int4::range()));
///     std::vector<std::uint8_t> packed(qz.packed_bytes());
///     qz.quantize(x, packed.data());
///     qz.dequantize(packed.data(), y);
///
/// The element layout and the portable packing are in packing.hpp. Each run
/// of the scheme (the same runs `Quantizer` uses) is quantized chunk by
/// chunk into a small stack buffer of int8/uint8 with T's range, then
/// packed (4-bit: a vector at a time, kernels.hpp; 2-bit: the portable
/// loop); dequantize unpacks a chunk and runs the int8/uint8 kernel. Every
/// scheme and axis therefore comes from the run machinery, per-axis along
/// the packed (fastest) dimension included: runs may start inside a byte,
/// and the packing writes those elements without disturbing their
/// neighbours.

#include <cstddef>
#include <cstdint>
#include <utility>

#include "kernels.hpp"
#include "packing.hpp"
#include "params.hpp"
#include "scheme.hpp"

namespace eigenq {

/// A parameter set validated against a shape, applied to packed sub-byte
/// buffers. The range must lie inside T's ([-8, 7], [0, 15], [-2, 1] or
/// [0, 3]); a narrower one (e.g. [-7, 7]) is allowed. Applying never checks, allocates or throws.
template <class T, class N = DefaultNumerics, Path P = kBestPath>
class PackedQuantizer {
  static_assert(is_packed_v<T>, "T must be Int4, UInt4, Int2 or UInt2");

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
  /// Parameters in their stored form (stored.hpp), widened once here.
  static Status create(const Shape& shape, const StoredParamsView& stored, PackedQuantizer* out) {
    EIGENQ_RETURN_IF_ERROR(check(stored.range));
    return Quantizer<Unpacked, N, P>::create(shape, stored, &out->inner_);
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
  /// Bytes of the packed buffer: ceil(size() / values per byte).
  std::size_t packed_bytes() const { return eigenq::packed_bytes<T>(size()); }
  const QParamsView& params() const { return inner_.params(); }
  Range range() const { return inner_.range(); }
  /// The same parameters applied to unpacked int8/uint8 storage.
  const Quantizer<Unpacked, N, P>& unpacked() const { return inner_; }

  /// packed = pack(quantize(x)); x holds size() floats, packed packed_bytes().
  void quantize(const float* x, std::uint8_t* packed) const { quantize_slice(inner_.resolved(), x, packed); }
  /// y = dequantize(unpack(packed)).
  void dequantize(const std::uint8_t* packed, float* y) const { dequantize_slice(inner_.resolved(), packed, y); }
  /// y = dequantize(quantize(x)) with T's range; y may alias x. The
  /// same as the unpacked fake-quantize: no packed buffer is involved.
  void fake_quantize(const float* x, float* y) const { inner_.fake_quantize(x, y); }
  /// fake_quantize and the STE mask in one pass.
  void fake_quantize_mask(const float* x, float* y, std::uint8_t* mask) const { inner_.fake_quantize_mask(x, y, mask); }

  /// The same on an executor (see `Quantizer`): slices start on the first
  /// element of a byte (even for 4-bit, a multiple of 4 for 2-bit), so no
  /// two tasks write one byte, and on a cache line of the packed output
  /// where the shape allows. The same bits as serially.
  template <class Exec>
  void quantize(const float* x, std::uint8_t* packed, Exec&& exec) const {
    detail::for_each_slice(exec, inner_.resolved(), 64 * kPerByte<T>, kPerByte<T>,
                           [&](const detail::Slice& s) { quantize_slice(s.r, x + s.at, packed + s.at / kPerByte<T>); });
  }
  template <class Exec>
  void dequantize(const std::uint8_t* packed, float* y, Exec&& exec) const {
    detail::for_each_slice(exec, inner_.resolved(), detail::line_of<float>, kPerByte<T>, [&](const detail::Slice& s) {
      dequantize_slice(s.r, packed + s.at / kPerByte<T>, y + s.at);
    });
  }
  template <class Exec>
  void fake_quantize(const float* x, float* y, Exec&& exec) const {
    inner_.fake_quantize(x, y, exec);
  }
  template <class Exec>
  void fake_quantize_mask(const float* x, float* y, std::uint8_t* mask, Exec&& exec) const {
    inner_.fake_quantize_mask(x, y, mask, exec);
  }

 private:
  // A slice starts on the first element of a byte: its bytes start at
  // packed + at / kPerByte<T>.
  static void quantize_slice(const ResolvedParams& r, const float* x, std::uint8_t* packed) {
    with_kernels<P>([&](auto k) { decltype(k)::template quantize_packed<T, N>(r, x, packed); });
  }
  static void dequantize_slice(const ResolvedParams& r, const std::uint8_t* packed, float* y) {
    with_kernels<P>([&](auto k) { decltype(k)::template dequantize_packed<T>(r, packed, y); });
  }

  static Status check(Range range) { return detail::check_packed_range<T>(range); }

  Quantizer<Unpacked, N, P> inner_;
};

/// One-shot entry points: validate, then apply. Nothing is written when the
/// parameters are invalid.
template <class T, class N = DefaultNumerics, Path P = kBestPath>
Status quantize_packed(const float* x, std::uint8_t* packed, const Shape& shape, const QParamsView& params) {
  PackedQuantizer<T, N, P> qz;
  EIGENQ_RETURN_IF_ERROR(PackedQuantizer<T, N, P>::create(shape, params, &qz));
  EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"x", x}, {"packed", packed}}));
  qz.quantize(x, packed);
  return Status::ok();
}

/// As dequantize(): every finite scale > 0 is valid, whatever N's scaling.
template <class T, class N = DefaultNumerics, Path P = kBestPath>
Status dequantize_packed(const std::uint8_t* packed, float* y, const Shape& shape, const QParamsView& params) {
  using Dequantizer = PackedQuantizer<T, Numerics<typename N::Rounding, ScaleByDivision>, P>;
  Dequantizer qz;
  EIGENQ_RETURN_IF_ERROR(Dequantizer::create(shape, params, &qz));
  EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"packed", packed}, {"y", y}}));
  qz.dequantize(packed, y);
  return Status::ok();
}

}  // namespace eigenq
