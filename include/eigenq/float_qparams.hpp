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
/// reproduces that, as the definition of these operations.
///
/// These run on the portable path (one loop per run of the scheme); the
/// integer-zero-point kernels (scheme.hpp) are the vectorized ones.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

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

/// 1 / scale, or 1 when scale == 0 (PyTorch's quantize_val_float_qparams).
inline float inverse_scale(float scale) { return scale == 0.0f ? 1.0f : 1.0f / scale; }

/// The int32 PyTorch keeps of lrintf(v): v rounded half to even, as a
/// 64-bit long (INT64_MIN when NaN or beyond), its low 32 bits.
inline std::int32_t lrintf_as_int32(float v) {
  const float r = std::nearbyint(v);
  const std::int64_t l =
      (r >= -0x1p63f && r < 0x1p63f) ? static_cast<std::int64_t>(r) : std::numeric_limits<std::int64_t>::min();
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(static_cast<std::uint64_t>(l)));
}

inline std::int32_t quantize(float x, float scale, float zero_point, Range range) {
  const float v = detail::opaque(x * inverse_scale(scale)) + zero_point;  // PyTorch: not fused
  const std::int32_t q = lrintf_as_int32(v);
  return q < range.qmin ? range.qmin : q > range.qmax ? range.qmax : q;
}

inline float dequantize(std::int32_t q, float scale, float zero_point) {
  return (static_cast<float>(q) - zero_point) * scale;
}

/// `half_zero_point`: PyTorch's kernel for a half zero point multiplies and
/// adds separately; the float one fuses them. The rounded value goes
/// through int64 (NaN and overflows: INT64_MIN, so to qmin, as PyTorch's
/// integer-zero-point fake quantization does), and the clamp and the
/// dequantization run in double (std::fmin / fmax of an int64), rounded to
/// float once.
inline float fake_quantize(float x, float scale, float zero_point, Range range, bool half_zero_point = false) {
  const float inv = 1.0f / scale;
  const float v = half_zero_point ? detail::opaque(x * inv) + zero_point : std::fma(x, inv, zero_point);
  const float r = std::nearbyint(v);
  const double q = (r >= -0x1p63f && r < 0x1p63f) ? static_cast<double>(r) : -0x1p63;
  const double clamped = std::fmin(std::fmax(q, range.qmin), range.qmax);
  return static_cast<float>((clamped - static_cast<double>(zero_point)) * static_cast<double>(scale));
}

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
/// float qparams). Writes nothing when the parameters are invalid.
template <class Q>
Status quantize_float_qparams(const float* x, Q* q, const Shape& shape, const FloatQParamsView& p) {
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(detail::resolve_float_qparams<Q>(p, shape, false, &r));
  EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"x", x}, {"q", q}}));
  detail::for_each_element(r, [&](std::size_t i, std::size_t k) {
    q[i] = static_cast<Q>(float_zp::quantize(x[i], p.scale[k], p.zero_point[k], p.range));
  });
  return Status::ok();
}

/// y = (q - zero_point) * scale with float zero points.
template <class Q>
Status dequantize_float_qparams(const Q* q, float* y, const Shape& shape, const FloatQParamsView& p) {
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(detail::resolve_float_qparams<Q>(p, shape, false, &r));
  EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"q", q}, {"y", y}}));
  detail::for_each_element(
      r, [&](std::size_t i, std::size_t k) { y[i] = float_zp::dequantize(q[i], p.scale[k], p.zero_point[k]); });
  return Status::ok();
}

/// packed = pack(quantize(x)) with float zero points into 4-bit or 2-bit
/// storage (torch.quantize_per_channel to quint4x2 / quint2x4 with float
/// qparams: embedding-bag weights); the range must lie inside T's.
template <class T>
Status quantize_float_qparams_packed(const float* x, std::uint8_t* packed, const Shape& shape,
                                     const FloatQParamsView& p) {
  static_assert(is_packed_v<T>, "T must be Int4, UInt4, Int2 or UInt2");
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(detail::resolve_float_qparams<typename T::Unpacked>(p, shape, false, &r));
  EIGENQ_RETURN_IF_ERROR(detail::check_packed_range<T>(p.range));
  EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"x", x}, {"packed", packed}}));
  std::memset(packed, 0, packed_bytes<T>(shape.size()));
  detail::for_each_element(r, [&](std::size_t i, std::size_t k) {
    const std::int32_t q = float_zp::quantize(x[i], p.scale[k], p.zero_point[k], p.range);
    pack_at<T>(packed, static_cast<std::int64_t>(i), static_cast<typename T::Unpacked>(q));
  });
  return Status::ok();
}

/// y = dequantize(unpack(packed)) with float zero points.
template <class T>
Status dequantize_float_qparams_packed(const std::uint8_t* packed, float* y, const Shape& shape,
                                       const FloatQParamsView& p) {
  static_assert(is_packed_v<T>, "T must be Int4, UInt4, Int2 or UInt2");
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(detail::resolve_float_qparams<typename T::Unpacked>(p, shape, false, &r));
  EIGENQ_RETURN_IF_ERROR(detail::check_packed_range<T>(p.range));
  EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"packed", packed}, {"y", y}}));
  detail::for_each_element(r, [&](std::size_t i, std::size_t k) {
    y[i] = float_zp::dequantize(unpack_at<T>(packed, static_cast<std::int64_t>(i)), p.scale[k], p.zero_point[k]);
  });
  return Status::ok();
}

/// Whether fake quantization's zero points were half in the framework
/// (PyTorch then multiplies and adds unfused).
enum class ZeroPointPrecision { kFloat, kHalf };

/// y = fake_quantize(x) with float zero points
/// (torch.fake_quantize_per_channel_affine with a float or half zero
/// point); y may alias x. A half zero point must hold a half value.
inline Status fake_quantize_float_qparams(const float* x, float* y, const Shape& shape, const FloatQParamsView& p,
                                          ZeroPointPrecision precision = ZeroPointPrecision::kFloat) {
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(detail::resolve_float_qparams<std::int32_t>(p, shape, true, &r));
  EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"x", x}, {"y", y}}));
  const bool half = precision == ZeroPointPrecision::kHalf;
  detail::for_each_element(r, [&](std::size_t i, std::size_t k) {
    y[i] = float_zp::fake_quantize(x[i], p.scale[k], p.zero_point[k], p.range, half);
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
