#pragma once
/// \file
/// The OCP Microscaling (MX) block formats, v1.0: blocks of `block_size`
/// (32 in the specification) consecutive elements along an axis share one
/// E8M0 scale X = 2^e, and each element holds V / X in an element format:
///
///     MXFP8  Float8E4M3FN (OCP E4M3) or Float8E5M2     emax_elem 8 / 15
///     MXFP6  Float6E2M3 or Float6E3M2                   emax_elem 2 / 4
///     MXFP4  Float4E2M1                                 emax_elem 2
///     MXINT8 MxInt8: int8 times 2^-6                    emax_elem 0
///
/// Quantization is the specification's conversion (section 6.3):
///
///     shared_exp = floor(log2(max_i |V_i|)) - emax_elem, clamped to E8M0's [-127, 127]
///     X          = 2^shared_exp
///     P_i        = V_i / X in the element format, rounded to nearest even,
///                  values beyond the largest normal clamped to it
///
/// emax_elem is the exponent of the element format's largest normal. The
/// specification leaves two cases to the implementation; here they follow
/// microsoft/microxcaling, the specification authors' reference code:
/// - a block holding NaN or +-inf gets the NaN scale 0xFF (its elements
///   are written 0 and read back as NaN whatever they hold);
/// - an all-zero block takes the scale of a block whose maximum is
///   float32's smallest normal 2^-126 (2^-127 once clamped, for every
///   element format but MXINT8).
/// MXINT8 elements are clamped to [-127, 127] (+-1.984375, the largest
/// normal), symmetric as in microxcaling; -128 (-2.0) is read but never
/// written. Two microxcaling choices are not followed, and would be named
/// variants: its default element rounding ("nearest") rounds ties away from
/// zero (its "even" mode is the rounding here), and it takes floor(log2) of
/// the block maximum in float32, which rounds up to the next integer just
/// below a power of two (std::ilogb here is exact).
///
/// Dequantization: y = decode(P_i) * X. Elements are one per byte (FP6 and
/// FP4 unpacked, MXINT8 as the int8's bits); the scales are laid out as the
/// blocked parameters of params.hpp (the tensor's shape with the axis of
/// length ceil(dims[axis] / block_size)). These loops run on the portable
/// path; packed storage, the scale-rounding variants of other
/// implementations and vectorized kernels are future work.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "minifloat.hpp"
#include "minifloat_quantize.hpp"
#include "params.hpp"
#include "runs.hpp"
#include "status.hpp"

namespace eigenq {

/// The MX specification's block size.
constexpr std::int64_t kMxBlockSize = 32;

/// MXINT8's element: an int8 k standing for k * 2^-6.
struct MxInt8 {
  static constexpr const char* kName = "mxint8";
};

template <class E>
constexpr bool is_mx_element_v =
    std::is_same_v<E, Float8E4M3FN> || std::is_same_v<E, Float8E5M2> || std::is_same_v<E, Float6E2M3> ||
    std::is_same_v<E, Float6E3M2> || std::is_same_v<E, Float4E2M1> || std::is_same_v<E, MxInt8>;

namespace detail {

/// An MX element format: its emax_elem, and its conversions (to it: round
/// to nearest even, saturating).
template <class E>
struct MxElement {
  static constexpr int kMaxExponent = E::kFormat.max_exponent();
  static std::uint8_t encode(float v) { return eigenq::minifloat_encode<E>(v, true); }
  static float decode(std::uint8_t code) { return eigenq::minifloat_decode<E>(code); }
  static Status check_codes(const std::uint8_t* q, std::int64_t n) {
    return check_minifloat_codes<E>(q, n, "elements");
  }
};

template <>
struct MxElement<MxInt8> {
  static constexpr int kMaxExponent = 0;  // the largest value 127 * 2^-6 = 1.984375
  static std::uint8_t encode(float v) {
    const float k = std::nearbyint(v * 64.0f);  // v * 2^6 is exact; NaN never reaches here
    const float clamped = k < -127.0f ? -127.0f : k > 127.0f ? 127.0f : k;
    return static_cast<std::uint8_t>(static_cast<std::int8_t>(clamped));
  }
  static float decode(std::uint8_t code) { return static_cast<float>(static_cast<std::int8_t>(code)) * 0x1p-6f; }
  static Status check_codes(const std::uint8_t*, std::int64_t) { return Status::ok(); }
};

inline Status resolve_mx_layout(const Shape& shape, int axis, std::int64_t block_size, ResolvedParams* r) {
  return resolve_layout(blocked_layout(axis, block_size), shape, r);
}

}  // namespace detail

/// The E8M0 code of the shared scale of a block whose largest magnitude is
/// `amax` (NaN when the block holds NaN or +-inf), for elements whose
/// largest normal has exponent `max_exponent`: see the file comment.
inline std::uint8_t mx_scale_code(float amax, int max_exponent) {
  if (!std::isfinite(amax)) return E8M0::kNaN;
  const float m = amax == 0.0f ? std::numeric_limits<float>::min() : amax;
  return E8M0::from_exponent(std::ilogb(m) - max_exponent);  // ilogb: floor(log2), exact, subnormals too
}

/// Quantizes x into MX blocks of `block_size` along `axis`: `elements`
/// (one per x) and `scales` (E8M0 codes, one per block). Writes nothing
/// when the arguments are invalid.
template <class E>
Status mx_quantize(const float* x, std::uint8_t* elements, std::uint8_t* scales, const Shape& shape, int axis,
                   std::int64_t block_size = kMxBlockSize) {
  static_assert(is_mx_element_v<E>, "E must be Float8E4M3FN, Float8E5M2, Float6E2M3, Float6E3M2, Float4E2M1 or MxInt8");
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(detail::resolve_mx_layout(shape, axis, block_size, &r));
  EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"x", x}, {"elements", elements}, {"scales", scales}}));
  using Element = detail::MxElement<E>;
  // The largest magnitude per block; a NaN stays (NaN > a is false).
  std::vector<float> amax(r.count, 0.0f);
  detail::for_each_element(r, [&](std::size_t i, std::size_t k) {
    const float a = std::fabs(x[i]);
    if (std::isnan(a) || a > amax[k]) amax[k] = a;
  });
  std::vector<float> scale(r.count);
  for (std::size_t k = 0; k < r.count; ++k) {
    scales[k] = mx_scale_code(amax[k], Element::kMaxExponent);
    scale[k] = E8M0::decode(scales[k]);
  }
  detail::for_each_element(r, [&](std::size_t i, std::size_t k) {
    // x / 2^e is exact unless far below the element's smallest subnormal.
    elements[i] = std::isnan(scale[k]) ? std::uint8_t{0} : Element::encode(x[i] / scale[k]);
  });
  return Status::ok();
}

/// y = decode(element) * 2^(scale - 127) for MX blocks laid out as
/// mx_quantize writes them. A byte that is no code of E is refused.
template <class E>
Status mx_dequantize(const std::uint8_t* elements, const std::uint8_t* scales, float* y, const Shape& shape, int axis,
                     std::int64_t block_size = kMxBlockSize) {
  static_assert(is_mx_element_v<E>, "E must be Float8E4M3FN, Float8E5M2, Float6E2M3, Float6E3M2, Float4E2M1 or MxInt8");
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(detail::resolve_mx_layout(shape, axis, block_size, &r));
  EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"elements", elements}, {"scales", scales}, {"y", y}}));
  using Element = detail::MxElement<E>;
  EIGENQ_RETURN_IF_ERROR(Element::check_codes(elements, shape.size()));
  detail::for_each_element(
      r, [&](std::size_t i, std::size_t k) { y[i] = Element::decode(elements[i]) * E8M0::decode(scales[k]); });
  return Status::ok();
}

}  // namespace eigenq
