#pragma once
/// \file
/// Float zero points: PyTorch's `per_channel_affine_float_qparams` (the
/// embedding-bag scheme) and fake quantization with float or half zero
/// points (QAT code that keeps the zero point learnable), on every scheme.
/// The zero point is added before rounding, so it need not be an integer:
///
///     quantize      q = clamp(int32(lrintf(x * inv + zp)), qmin, qmax),   inv = 1 / scale (1 when scale == 0)
///     dequantize    y = (float(q) - zp) * scale
///     fake-quantize y = float((clamp(int64(nearbyint(fma(x, inv, zp))), qmin, qmax) - zp) * scale),
///                   the last step in double (a half zero point: x * inv + zp unfused)
///     observer      s = (max - min) / (qmax - qmin), 1 where s <= eps;  zp = -min / s
///
/// all in float32 as PyTorch 1.13 computes them (golden cases in
/// tests/data/pytorch_float_qparams.txt). lrintf's result (a 64-bit long)
/// is assigned to an int32 in PyTorch: a value beyond int64 (NaN, +-inf,
/// 1e30) becomes INT64_MIN, whose low 32 bits are 0, and one between the
/// int32 and int64 ranges wraps modulo 2^32; then the clamp. This header
/// reproduces that, as the definition of these operations: one element
/// each in numerics.hpp's `float_zp`, which every kernel path (kernels.hpp,
/// `quantize_float_zp` and its kin) reproduces bit for bit. A rounded -0.0
/// is the integer 0, so fake quantization with a zero zero point gives +0.0.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "kernels.hpp"
#include "numerics.hpp"
#include "packing.hpp"
#include "params.hpp"
#include "qparams.hpp"
#include "runs.hpp"
#include "status.hpp"

namespace eigenq {

/// A non-owning view of float-zero-point parameters, laid out as QParamsView's.
struct FloatQParamsView {
  ParamLayout layout;
  const float* scale = nullptr;
  const float* zero_point = nullptr;
  std::size_t count = 0;
  Range range;
};

/// Owning float-zero-point parameters.
struct FloatQParams {
  ParamLayout layout;
  std::vector<float> scale, zero_point;
  Range range;

  FloatQParamsView view() const { return {layout, scale.data(), zero_point.data(), scale.size(), range}; }
};

namespace float_zp {

/// One element's (scale, zero point) check: finite, scale >= 0 (quantize
/// and dequantize take PyTorch's scale 0), or > 0 for fake quantization.
inline Status check_pair(float scale, float zero_point, std::size_t index, bool positive_scale) {
  if (!(std::isfinite(scale) && (positive_scale ? scale > 0.0f : scale >= 0.0f)))
    return detail::error(StatusCode::kInvalidScale, "scale[", index, "] = ", scale, " must be finite and ",
                         positive_scale ? "> 0" : ">= 0");
  if (!std::isfinite(zero_point))
    return detail::error(StatusCode::kInvalidZeroPoint, "zero_point[", index, "] = ", zero_point, " must be finite");
  return Status::ok();
}

}  // namespace float_zp

namespace detail {

/// Validates float-zero-point parameters against a shape.
template <class Q>
Status resolve_float_qparams(const FloatQParamsView& p, const Shape& shape, bool positive_scale, ResolvedParams* out) {
  EIGENQ_RETURN_IF_ERROR(check_range<Q>(p.range));
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(resolve_layout(p.layout, shape, &r));
  if (p.count != r.count || (r.count > 0 && (p.scale == nullptr || p.zero_point == nullptr)))
    return count_mismatch("float parameters", r, p.count, shape, "scale or zero_point missing");
  for (std::size_t i = 0; i < r.count; ++i)
    EIGENQ_RETURN_IF_ERROR(float_zp::check_pair(p.scale[i], p.zero_point[i], i, positive_scale));
  *out = r;
  return Status::ok();
}

}  // namespace detail

/// q = quantize(x) with float zero points (torch.quantize_per_channel with
/// float qparams). Writes nothing when the parameters are invalid. P picks
/// the kernel path, as everywhere (kernels.hpp).
template <class Q, Path P = kBestPath>
Status quantize_float_qparams(const float* x, Q* q, const Shape& shape, const FloatQParamsView& p) {
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(detail::resolve_float_qparams<Q>(p, shape, false, &r));
  EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"x", x}, {"q", q}}));
  with_kernels<P>([&](auto k) {
    decltype(k)::template quantize_float_zp<Q>(r, {p.scale, p.zero_point}, p.range, x, q);
  });
  return Status::ok();
}

/// y = (q - zero_point) * scale with float zero points.
template <class Q, Path P = kBestPath>
Status dequantize_float_qparams(const Q* q, float* y, const Shape& shape, const FloatQParamsView& p) {
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(detail::resolve_float_qparams<Q>(p, shape, false, &r));
  EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"q", q}, {"y", y}}));
  with_kernels<P>([&](auto k) { decltype(k)::template dequantize_float_zp<Q>(r, {p.scale, p.zero_point}, q, y); });
  return Status::ok();
}

/// packed = pack(quantize(x)) with float zero points into 4-bit or 2-bit
/// storage (torch.quantize_per_channel to quint4x2 / quint2x4 with float
/// qparams: embedding-bag weights); the range must lie inside T's.
template <class T, Path P = kBestPath>
Status quantize_float_qparams_packed(const float* x, std::uint8_t* packed, const Shape& shape,
                                     const FloatQParamsView& p) {
  static_assert(is_packed_v<T>, "T must be Int4, UInt4, Int2 or UInt2");
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(detail::resolve_float_qparams<typename T::Unpacked>(p, shape, false, &r));
  EIGENQ_RETURN_IF_ERROR(detail::check_packed_range<T>(p.range));
  EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"x", x}, {"packed", packed}}));
  with_kernels<P>([&](auto k) {
    decltype(k)::template quantize_float_zp_packed<T>(r, {p.scale, p.zero_point}, p.range, x, packed);
  });
  return Status::ok();
}

/// y = dequantize(unpack(packed)) with float zero points.
template <class T, Path P = kBestPath>
Status dequantize_float_qparams_packed(const std::uint8_t* packed, float* y, const Shape& shape,
                                       const FloatQParamsView& p) {
  static_assert(is_packed_v<T>, "T must be Int4, UInt4, Int2 or UInt2");
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(detail::resolve_float_qparams<typename T::Unpacked>(p, shape, false, &r));
  EIGENQ_RETURN_IF_ERROR(detail::check_packed_range<T>(p.range));
  EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"packed", packed}, {"y", y}}));
  with_kernels<P>([&](auto k) {
    decltype(k)::template dequantize_float_zp_packed<T>(r, {p.scale, p.zero_point}, packed, y);
  });
  return Status::ok();
}

/// Whether fake quantization's zero points were half in the framework
/// (PyTorch then multiplies and adds unfused).
enum class ZeroPointPrecision { kFloat, kHalf };

/// y = fake_quantize(x) with float zero points
/// (torch.fake_quantize_per_channel_affine with a float or half zero
/// point); y may alias x. A half zero point must hold a half value.
template <Path P = kBestPath>
Status fake_quantize_float_qparams(const float* x, float* y, const Shape& shape, const FloatQParamsView& p,
                                   ZeroPointPrecision precision = ZeroPointPrecision::kFloat) {
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(detail::resolve_float_qparams<std::int32_t>(p, shape, true, &r));
  EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"x", x}, {"y", y}}));
  const FloatAligned params{p.scale, p.zero_point};
  with_kernels<P>([&](auto k) {
    if (precision == ZeroPointPrecision::kHalf)
      decltype(k)::template fake_quantize_float_zp<true>(r, params, p.range, x, y);
    else
      decltype(k)::template fake_quantize_float_zp<false>(r, params, p.range, x, y);
  });
  return Status::ok();
}

/// PyTorch's float qparams from observed ranges (PerChannelMinMaxObserver
/// with qscheme per_channel_affine_float_qparams): the range is not widened
/// to include 0. A NaN or infinite bound is refused, naming its group.
inline Status float_qparams_from_min_max(const MinMax& mm, const ParamLayout& layout, Range range, FloatQParams* out,
                                         float eps = kScaleEpsilon) {
  EIGENQ_RETURN_IF_ERROR(check_eps(eps));
  if (range.qmin >= range.qmax)
    return detail::error(StatusCode::kInvalidRange, "range [", range.qmin, ", ", range.qmax,
                         "] must hold more than one level");
  FloatQParams p;
  p.layout = layout;
  p.range = range;
  const float levels = static_cast<float>(range.qmax - range.qmin);
  for (std::size_t k = 0; k < mm.min.size(); ++k) {
    if (!(std::isfinite(mm.min[k]) && std::isfinite(mm.max[k])))
      return detail::error(StatusCode::kInvalidScale, "parameter ", k, ": min = ", mm.min[k], ", max = ", mm.max[k],
                           " (expected finite bounds)");
    float s = detail::opaque(mm.max[k] - mm.min[k]) / levels;
    if (!(s > eps)) s = 1.0f;
    p.scale.push_back(s);
    p.zero_point.push_back(-mm.min[k] / s);
  }
  *out = std::move(p);
  return Status::ok();
}

}  // namespace eigenq
