#pragma once
/// \file
/// Quantization to minifloat elements (minifloat.hpp) on every scheme of
/// params.hpp: per tensor, per axis, blocked and per element, with the
/// element format F as a parameter beside the uint8 storage, as ONNX's
/// QuantizeLinear / DequantizeLinear do for the float8 types (opset 19;
/// blocked at 21) and float4e2m1 (opset 23):
///
///     quantize    q = encode<F>(x / scale, saturate)   (a true division)
///     dequantize  y = decode<F>(q) * scale
///
/// There is no zero point: ONNX requires a float8 zero point to be 0, and
/// ONNX Runtime ignores it (tests/data/onnx_fp8.txt holds its outputs).
/// `saturate` is ONNX's attribute of that name (default on): overflow and
/// +-inf go to +-max, else to the format's infinity or NaN.
///
/// Codes are one per byte (FP6 and FP4 unpacked). The loops run on the
/// kernel path P (kernels.hpp; `Path::kAuto`, the default, is the best the
/// CPU has), every path giving the portable path's bits.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels.hpp"
#include "minifloat.hpp"
#include "params.hpp"
#include "runs.hpp"
#include "status.hpp"

namespace eigenq {

/// A non-owning view of the scales of a minifloat scheme, laid out as
/// QParamsView's.
struct MinifloatParamsView {
  ParamLayout layout;
  const float* scale = nullptr;
  std::size_t count = 0;
};

/// Owning scales of a minifloat scheme.
struct MinifloatParams {
  ParamLayout layout;
  std::vector<float> scale;

  MinifloatParamsView view() const { return {layout, scale.data(), scale.size()}; }
};

namespace detail {

/// Resolves the layout on the shape and checks the scales: as many as the
/// layout needs, each finite and > 0.
inline Status resolve_minifloat_params(const MinifloatParamsView& p, const Shape& shape, ResolvedParams* out) {
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(resolve_layout(p.layout, shape, &r));
  if (p.count != r.count || (r.count > 0 && p.scale == nullptr)) return count_mismatch("scales", r, p.count, shape, "");
  for (std::size_t i = 0; i < r.count; ++i)
    if (!(std::isfinite(p.scale[i]) && p.scale[i] > 0.0f))
      return error(StatusCode::kInvalidScale, "scale[", i, "] = ", p.scale[i], " must be finite and > 0");
  *out = r;
  return Status::ok();
}

/// ok when every one of the n bytes is a code of F (a float4e2m1 byte
/// above 15 is not), else an error naming the first that is not, as
/// name[i].
template <class F>
Status check_minifloat_codes(const std::uint8_t* q, std::int64_t n, const char* name) {
  if constexpr (F::kFormat.bits() < 8) {
    for (std::int64_t i = 0; i < n; ++i)
      if (q[i] >> F::kFormat.bits())
        return error(StatusCode::kInvalidArgument, name, "[", i, "] = ", static_cast<int>(q[i]), " is not a ",
                     F::kFormat.name, " code (expected < ", 1 << F::kFormat.bits(), ")");
  }
  (void)q;
  (void)n;
  (void)name;
  return Status::ok();
}

}  // namespace detail

/// q = encode<F>(x / scale, saturate) on every scheme. Writes nothing when
/// the parameters are invalid.
template <class F, Path P = Path::kAuto>
Status quantize_minifloat(const float* x, std::uint8_t* q, const Shape& shape, const MinifloatParamsView& p,
                          bool saturate = true) {
  static_assert(is_minifloat_v<F>, "F must be a minifloat format (Float8E4M3FN, ..., Float4E2M1)");
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(detail::resolve_minifloat_params(p, shape, &r));
  EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"x", x}, {"q", q}}));
  with_kernels<P>([&](auto kernels) {
    if (saturate)
      kernels.template quantize_minifloat<F, true>(r, p.scale, x, q);
    else
      kernels.template quantize_minifloat<F, false>(r, p.scale, x, q);
  });
  return Status::ok();
}

/// y = decode<F>(q) * scale on every scheme. A code wider than F's (a
/// float4e2m1 byte above 15) is refused, naming it; nothing is written then.
template <class F, Path P = Path::kAuto>
Status dequantize_minifloat(const std::uint8_t* q, float* y, const Shape& shape, const MinifloatParamsView& p) {
  static_assert(is_minifloat_v<F>, "F must be a minifloat format (Float8E4M3FN, ..., Float4E2M1)");
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(detail::resolve_minifloat_params(p, shape, &r));
  EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"q", q}, {"y", y}}));
  EIGENQ_RETURN_IF_ERROR(detail::check_minifloat_codes<F>(q, shape.size(), "q"));
  with_kernels<P>([&](auto kernels) { kernels.template dequantize_minifloat<F>(r, p.scale, q, y); });
  return Status::ok();
}

}  // namespace eigenq
