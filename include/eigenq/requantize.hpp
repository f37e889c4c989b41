#pragma once
/// \file
/// Requantization: integer accumulators (int32, or int16/int8/uint8 with an
/// input zero point) brought back to int8 / uint8 / int16 with a real
/// multiplier M = s_in * s_w[c] / s_out, per tensor or per channel on any
/// axis, under the rounding rule of the engine being reproduced.
///
///     // TVM QNN style: float scales in, multipliers built once.
///     eigenq::Requantizer<int8_t, eigenq::GemmlowpRounding> rq;
///     EIGENQ_RETURN_IF_ERROR(eigenq::Requantizer<int8_t, eigenq::GemmlowpRounding>::from_scales(
///         shape, accumulator_params, out_scale, out_zp, eigenq::Range::full<int8_t>(), &rq));
///     rq.requantize(acc, q);  // no checks, no allocation
///
/// Every rule computes, for one element x with input zero point zi, output
/// zero point zo and clamp range [qmin, qmax]:
///
///     d = x - zi                                   (saturated to int32; exact for narrow inputs)
///     y = clamp(rule(d, M) + zo, qmin, qmax)       (exact: no intermediate wraps)
///
/// where rule(d, M) is d * M rounded to an integer as follows. The fixed-point
/// rules take M as (multiplier, shift): M = multiplier * 2^(shift - 31) with
/// multiplier in [0, 2^31) and shift in [-31, 30] (see `quantize_multiplier`).
///
/// - `GemmlowpRounding` (formerly `DoubleRounding`: two roundings, not double
///   precision): gemmlowp (fixedpoint/fixedpoint.h) and TFLite's default
///   MultiplyByQuantizedMultiplier (tensorflow/lite/kernels/internal/common.h):
///   d is shifted left by max(shift, 0), then
///   SaturatingRoundingDoublingHighMul rounds the Q31 product half up
///   (floor((a * m + 2^30) / 2^31)), then RoundingDivideByPOT divides by
///   2^max(-shift, 0) rounding half away from zero. Two roundings: a value
///   just below a tie can be pushed onto it by the first and over it by the
///   second. x = 7984, multiplier 1583594044, shift -9: x * M = 11.4991,
///   the high multiply gives 5888 (5887.55 rounded), 5888 / 512 = 11.5 -> 12.
/// - `SingleRounding`: TFLite built with TFLITE_SINGLE_ROUNDING (same file):
///   (d * m + 2^(30 - shift)) >> (31 - shift) in 64 bits, one rounding,
///   half up (towards +inf). The case above gives 11.
/// - `TvmUpward`: TVM's QNN requantize lowering (src/relay/qnn/op/requantize.cc,
///   FixedPointMultiply in src/relay/qnn/utils.cc) with rounding="UPWARD":
///   int64, d << max(shift, 0), times m, plus 2^(total_right_shift - 1),
///   arithmetic shift right. The same function as SingleRounding (multiplying
///   numerator and denominator by 2^left_shift changes nothing); kept as its
///   own name so code says which engine it reproduces. TVM's generic lowering
///   only: its AArch64 legalization of fixed_point_multiply uses
///   sqrdmulh + srshl, which is GemmlowpRounding.
/// - `TvmToNearest`: the same lowering with rounding="TONEAREST": the rounding
///   constant is one less where the product is negative, so ties go away from
///   zero.
/// - `Fp32Rounding`: XNNPACK's fp32 requantization
///   (src/qs8-requantization/fp32-scalar-lrintf.c and the fp32 GEMM output
///   stages): (float) d * scale in float32, rounded to nearest even, clamped,
///   plus the zero point. The multiplier is a float `scale`, not (m, shift).
///
/// Where a source is undefined or wraps, eigenq saturates instead, so the
/// output is still defined and the same on every path: TFLite's
/// `x * (1 << left_shift)` (signed overflow) saturates to int32 in
/// GemmlowpRounding; TFLite's DCHECKed int32 result and TVM's int64 product
/// (which wraps for |x| * m * 2^shift >= 2^63, possible only for multipliers
/// >= 1) are computed exactly instead; an int32 input minus its zero point
/// saturates to int32 (TVM computes it in int64, TFLite wraps in int32). None
/// of this changes an output where the source is defined.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "numerics.hpp"
#include "params.hpp"
#include "scheme.hpp"
#include "status.hpp"

namespace eigenq {

// ---------------------------------------------------------------------------
// Fixed-point multipliers

/// A real multiplier as multiplier * 2^(shift - 31): a Q31 mantissa in
/// [2^30, 2^31) (or 0) and a power of two.
struct QuantizedMultiplier {
  std::int32_t multiplier = 0;
  std::int32_t shift = 0;

  double real() const { return std::ldexp(static_cast<double>(multiplier), shift - 31); }
  friend bool operator==(QuantizedMultiplier a, QuantizedMultiplier b) {
    return a.multiplier == b.multiplier && a.shift == b.shift;
  }
};

/// How an engine turns a real multiplier into (multiplier, shift). All use
/// frexp, round the mantissa times 2^31 half away from zero and, when that
/// rounds up to 2^31, halve it and add one to the shift; they differ at the
/// extremes.
enum class MultiplierStyle {
  /// TFLite QuantizeMultiplier (quantization_util.cc): multipliers below
  /// about 2^-32 (shift < -31) are flushed to (0, 0).
  kTflite,
  /// TFLite under TFLITE_SINGLE_ROUNDING: also saturates shift > 30 to
  /// (2^31 - 1, 30).
  kTfliteSingleRounding,
  /// TVM GetFixedPointMultiplierShift (src/relay/qnn/utils.cc): neither.
  kTvm,
};

/// (multiplier, shift) for a real multiplier >= 0, as `style` computes it.
/// Negative, NaN and infinite multipliers are the caller's to refuse (the
/// `Requantizer` factories do, by name).
inline QuantizedMultiplier quantize_multiplier(double real, MultiplierStyle style = MultiplierStyle::kTflite) {
  if (real == 0.0 || !std::isfinite(real)) return {};
  int shift = 0;
  const double q = std::frexp(real, &shift);  // q in [0.5, 1): q * 2^31 is exact
  auto q_fixed = static_cast<std::int64_t>(std::round(q * 2147483648.0));
  if (q_fixed == (std::int64_t{1} << 31)) {  // the mantissa rounded up to 1.0
    q_fixed /= 2;
    ++shift;
  }
  if (style != MultiplierStyle::kTvm && shift < -31) return {};
  if (style == MultiplierStyle::kTfliteSingleRounding && shift > 30)
    return {std::numeric_limits<std::int32_t>::max(), 30};
  return {static_cast<std::int32_t>(q_fixed), shift};
}

// ---------------------------------------------------------------------------
// gemmlowp's fixed-point primitives (fixedpoint.h), on one int32

/// The high 32 bits of 2 * a * b, rounded half up: floor((a * b + 2^30) / 2^31).
/// gemmlowp writes it as a nudge of +-2^30 and a division truncating towards
/// zero, which is the same function. Saturates the one overflowing case,
/// a = b = INT32_MIN, to INT32_MAX.
inline std::int32_t saturating_rounding_doubling_high_mul(std::int32_t a, std::int32_t b) {
  if (a == b && a == std::numeric_limits<std::int32_t>::min()) return std::numeric_limits<std::int32_t>::max();
  const std::int64_t ab = static_cast<std::int64_t>(a) * b;
  return static_cast<std::int32_t>((ab + (std::int64_t{1} << 30)) >> 31);
}

/// x / 2^exponent rounded half away from zero, exponent in [0, 31].
inline std::int32_t rounding_divide_by_pot(std::int32_t x, int exponent) {
  const std::int32_t mask = static_cast<std::int32_t>((std::int64_t{1} << exponent) - 1);
  const std::int32_t remainder = x & mask;
  const std::int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/// x * 2^shift saturated to int32, shift in [0, 31].
inline std::int32_t saturating_left_shift(std::int32_t x, int shift) {
  const std::int64_t v = static_cast<std::int64_t>(x) * (std::int64_t{1} << shift);
  return static_cast<std::int32_t>(
      std::clamp<std::int64_t>(v, std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()));
}

// ---------------------------------------------------------------------------
// Rounding rules

/// What the SIMD paths specialize on: rules that compute the same function
/// share a kind.
enum class RequantizeKind { kDoubleRounding, kSingleRoundingUp, kSingleRoundingAway, kFp32 };

/// gemmlowp / TFLite (default build): high multiply rounded half up, then a
/// power-of-two division rounded half away from zero (two roundings).
struct GemmlowpRounding {
  static constexpr RequantizeKind kind = RequantizeKind::kDoubleRounding;
  static constexpr MultiplierStyle style = MultiplierStyle::kTflite;
  static constexpr bool kFixedPoint = true;
  static constexpr const char* name() { return "gemmlowp"; }

  static std::int64_t apply(std::int32_t x, std::int32_t multiplier, std::int32_t shift) {
    const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(saturating_left_shift(x, left), multiplier),
                                  right);
  }
};

/// The old name of `GemmlowpRounding`, which read as "in double precision".
using DoubleRounding [[deprecated("renamed eigenq::GemmlowpRounding (gemmlowp's two-step rounding)")]] =
    GemmlowpRounding;

/// TFLite under TFLITE_SINGLE_ROUNDING: one rounding, half up.
struct SingleRounding {
  static constexpr RequantizeKind kind = RequantizeKind::kSingleRoundingUp;
  static constexpr MultiplierStyle style = MultiplierStyle::kTfliteSingleRounding;
  static constexpr bool kFixedPoint = true;
  static constexpr const char* name() { return "single"; }

  // |x * m| < 2^62 and the rounding constant is at most 2^61: no overflow.
  static std::int64_t apply(std::int32_t x, std::int32_t multiplier, std::int32_t shift) {
    const std::int64_t product = static_cast<std::int64_t>(x) * multiplier;
    return (product + (std::int64_t{1} << (30 - shift))) >> (31 - shift);
  }
};

/// TVM QNN requantize, rounding="UPWARD": the function SingleRounding computes.
struct TvmUpward : SingleRounding {
  static constexpr MultiplierStyle style = MultiplierStyle::kTvm;
  static constexpr const char* name() { return "upward"; }
};

/// TVM QNN requantize, rounding="TONEAREST": one rounding, ties away from zero.
struct TvmToNearest {
  static constexpr RequantizeKind kind = RequantizeKind::kSingleRoundingAway;
  static constexpr MultiplierStyle style = MultiplierStyle::kTvm;
  static constexpr bool kFixedPoint = true;
  static constexpr const char* name() { return "tonearest"; }

  static std::int64_t apply(std::int32_t x, std::int32_t multiplier, std::int32_t shift) {
    const std::int64_t product = static_cast<std::int64_t>(x) * multiplier;
    const std::int64_t rounding = (std::int64_t{1} << (30 - shift)) - (product < 0 ? 1 : 0);
    return (product + rounding) >> (31 - shift);
  }
};

/// XNNPACK fp32: float32 multiply, round to nearest even (the reference
/// rounding of numerics.hpp). Returns the rounded float; |x * scale| stays
/// finite for any finite scale below 2^96, and +-inf saturates anyway.
struct Fp32Rounding {
  static constexpr RequantizeKind kind = RequantizeKind::kFp32;
  static constexpr bool kFixedPoint = false;
  static constexpr const char* name() { return "fp32"; }

  static float apply(std::int32_t x, float scale) { return RoundHalfEven::round(static_cast<float>(x) * scale); }
};

template <class Rule>
constexpr bool is_requantize_rule_v =
    std::is_same_v<Rule, GemmlowpRounding> || std::is_same_v<Rule, SingleRounding> || std::is_same_v<Rule, TvmUpward> ||
    std::is_same_v<Rule, TvmToNearest> || std::is_same_v<Rule, Fp32Rounding>;

// ---------------------------------------------------------------------------
// One element

/// The per-call constants of a requantization: zero points and the output
/// clamp range.
struct RequantizeArgs {
  std::int32_t input_zero_point = 0;
  std::int32_t output_zero_point = 0;
  Range range;  ///< output clamp range (inside the output type)
};

template <class In>
constexpr bool is_requantize_input_v = std::is_same_v<In, std::int32_t> || std::is_same_v<In, std::int16_t> ||
                                       std::is_same_v<In, std::int8_t> || std::is_same_v<In, std::uint8_t>;
template <class Out>
constexpr bool is_requantize_output_v =
    std::is_same_v<Out, std::int8_t> || std::is_same_v<Out, std::uint8_t> || std::is_same_v<Out, std::int16_t>;

/// x - zero_point, saturated to int32 (only an int32 input can reach it).
template <class In>
inline std::int32_t input_difference(In x, std::int32_t zero_point) {
  const std::int64_t d = static_cast<std::int64_t>(x) - zero_point;
  return static_cast<std::int32_t>(
      std::clamp<std::int64_t>(d, std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()));
}

/// clamp(v + zero_point, qmin, qmax) for a rounded fixed-point result,
/// computed as clamp(v, qmin - zp, qmax - zp) + zp: the same value, and the
/// form the SIMD paths use (nothing can wrap).
inline std::int32_t clamp_shifted(std::int64_t v, std::int32_t zero_point, Range range) {
  const std::int64_t lo = static_cast<std::int64_t>(range.qmin) - zero_point;
  const std::int64_t hi = static_cast<std::int64_t>(range.qmax) - zero_point;
  return static_cast<std::int32_t>(std::clamp(v, lo, hi) + zero_point);
}

/// Requantizes one value: the reference every path reproduces.
/// `multiplier` and `shift` are read by the fixed-point rules, `scale` by
/// Fp32Rounding.
template <class Rule, class In>
inline std::int32_t requantize(In x, std::int32_t multiplier, std::int32_t shift, float scale,
                               const RequantizeArgs& args) {
  const std::int32_t d = input_difference(x, args.input_zero_point);
  if constexpr (Rule::kFixedPoint) {
    return clamp_shifted(Rule::apply(d, multiplier, shift), args.output_zero_point, args.range);
  } else {
    return saturate(Rule::apply(d, scale), args.output_zero_point, args.range);
  }
}

// ---------------------------------------------------------------------------
// Parameter sources and kernels

/// One multiplier for a whole run.
struct RequantBroadcast {
  std::int32_t multiplier;
  std::int32_t shift;
  float scale;

  std::int32_t multiplier_at(std::size_t) const { return multiplier; }
  std::int32_t shift_at(std::size_t) const { return shift; }
  float scale_at(std::size_t) const { return scale; }
  RequantBroadcast advanced(std::size_t) const { return *this; }
};

/// Multipliers aligned with the run: element i uses multiplier[i], shift[i]
/// (fixed-point rules) or scale[i] (Fp32Rounding). The arrays a rule does
/// not read may be null.
struct RequantAligned {
  const std::int32_t* multiplier;
  const std::int32_t* shift;
  const float* scale;

  std::int32_t multiplier_at(std::size_t i) const { return multiplier[i]; }
  std::int32_t shift_at(std::size_t i) const { return shift[i]; }
  float scale_at(std::size_t i) const { return scale[i]; }
  RequantAligned advanced(std::size_t n) const {
    return {multiplier ? multiplier + n : nullptr, shift ? shift + n : nullptr, scale ? scale + n : nullptr};
  }
};

/// The requantize kernels of path P; the primary template is the portable
/// loop. arch/requantize_avx2.hpp and arch/requantize_neon.hpp specialize it.
/// Kernels assume validated parameters and touch nothing outside
/// [x, x + n) and [y, y + n).
template <Path P>
struct RequantizeKernels;

template <>
struct RequantizeKernels<Path::kScalar> {
  /// y[i] = requantize(x[i]).
  template <class Rule, class In, class Out, class Src>
  static void requantize(const In* x, Out* y, std::size_t n, Src p, const RequantizeArgs& args) {
    for (std::size_t i = 0; i < n; ++i) {
      if constexpr (Rule::kFixedPoint)
        y[i] = static_cast<Out>(eigenq::requantize<Rule>(x[i], p.multiplier_at(i), p.shift_at(i), 0.0f, args));
      else
        y[i] = static_cast<Out>(eigenq::requantize<Rule>(x[i], 0, 0, p.scale_at(i), args));
    }
  }
};

/// Paths not compiled in run the portable loop.
template <Path P>
struct RequantizeKernels : RequantizeKernels<Path::kScalar> {};

// ---------------------------------------------------------------------------
// Parameter sets

/// A non-owning view of requantization parameters. Granularity, axis and
/// block size mean what they mean for `QParamsView`; `count` multipliers
/// (fixed-point rules: `multiplier` and `shift`; Fp32Rounding: `scale`).
/// Zero points are per tensor.
struct RequantizeParamsView {
  Granularity granularity = Granularity::kPerTensor;
  int axis = 0;
  std::int64_t block_size = 0;
  const std::int32_t* multiplier = nullptr;
  const std::int32_t* shift = nullptr;
  const float* scale = nullptr;
  std::size_t count = 0;
  std::int32_t input_zero_point = 0;
  std::int32_t output_zero_point = 0;
  Range range;  ///< output clamp range

  RequantizeArgs args() const { return {input_zero_point, output_zero_point, range}; }
};

/// Owning requantization parameters. The factories of `Requantizer` fill all
/// three arrays, so the same parameters serve every rule's inspection.
struct RequantizeParams {
  Granularity granularity = Granularity::kPerTensor;
  int axis = 0;
  std::int64_t block_size = 0;
  std::vector<std::int32_t> multiplier;
  std::vector<std::int32_t> shift;
  std::vector<float> scale;
  std::int32_t input_zero_point = 0;
  std::int32_t output_zero_point = 0;
  Range range;

  RequantizeParamsView view() const {
    const std::size_t n = !multiplier.empty() ? multiplier.size() : scale.size();
    const bool consistent = shift.size() == multiplier.size() && (scale.empty() || scale.size() == n);
    return {granularity,
            axis,
            block_size,
            multiplier.empty() ? nullptr : multiplier.data(),
            shift.empty() ? nullptr : shift.data(),
            scale.empty() ? nullptr : scale.data(),
            consistent ? n : ~std::size_t{0},
            input_zero_point,
            output_zero_point,
            range};
  }
};

namespace detail {

template <class T>
constexpr const char* requantize_type_name() {
  return std::is_same_v<T, std::uint8_t>   ? "uint8"
         : std::is_same_v<T, std::int8_t>  ? "int8"
         : std::is_same_v<T, std::int16_t> ? "int16"
                                           : "int32";
}

/// Validates requantization parameters against a shape: output range,
/// zero points, layout and count, then every multiplier.
template <class In, class Out, class Rule>
Status resolve_requantize(const RequantizeParamsView& p, const Shape& shape, ResolvedParams* out) {
  EIGENQ_RETURN_IF_ERROR(check_range<Out>(p.range));
  if (p.output_zero_point < p.range.qmin || p.output_zero_point > p.range.qmax)
    return detail::error(StatusCode::kInvalidZeroPoint, "output zero_point = ", p.output_zero_point,
                         " is outside [qmin, qmax] = [", p.range.qmin, ", ", p.range.qmax, "]");
  if (p.input_zero_point < std::numeric_limits<In>::lowest() || p.input_zero_point > std::numeric_limits<In>::max())
    return detail::error(StatusCode::kInvalidZeroPoint, "input zero_point = ", p.input_zero_point, " is outside ",
                         requantize_type_name<In>(), " [", +std::numeric_limits<In>::lowest(), ", ",
                         +std::numeric_limits<In>::max(), "]");
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(resolve_layout(ParamLayout(p.granularity, p.axis, p.block_size), shape, &r));
  if (p.count != r.count)
    return detail::count_mismatch("multipliers", r, p.count, shape, "arrays of different lengths");
  if constexpr (Rule::kFixedPoint) {
    if (r.count > 0 && (p.multiplier == nullptr || p.shift == nullptr))
      return detail::error(StatusCode::kInvalidArgument, "rule ", Rule::name(), " needs multiplier and shift arrays");
    for (std::size_t i = 0; i < r.count; ++i) {
      if (p.multiplier[i] < 0)
        return detail::error(StatusCode::kInvalidScale, "multiplier[", i, "] = ", p.multiplier[i], " must be >= 0");
      if (p.shift[i] < -31 || p.shift[i] > 30)
        return detail::error(StatusCode::kInvalidScale, "shift[", i, "] = ", p.shift[i], " is outside [-31, 30]");
    }
  } else {
    if (r.count > 0 && p.scale == nullptr)
      return detail::error(StatusCode::kInvalidArgument, "rule ", Rule::name(), " needs a scale array");
    for (std::size_t i = 0; i < r.count; ++i)
      if (!(std::isfinite(p.scale[i]) && p.scale[i] > 0.0f))
        return detail::error(StatusCode::kInvalidScale, "scale[", i, "] = ", p.scale[i], " must be finite and > 0");
  }
  *out = r;
  return Status::ok();
}

inline RequantBroadcast requant_source(const RequantizeParamsView& p, BroadcastIndex i) {
  return {p.multiplier ? p.multiplier[i.param] : 0, p.shift ? p.shift[i.param] : 0, p.scale ? p.scale[i.param] : 0.0f};
}
inline RequantAligned requant_source(const RequantizeParamsView& p, AlignedIndex i) {
  return {p.multiplier ? p.multiplier + i.param : nullptr, p.shift ? p.shift + i.param : nullptr,
          p.scale ? p.scale + i.param : nullptr};
}

/// Calls fn(offset, length, source) over the whole tensor, where source is a
/// `RequantBroadcast` or `RequantAligned`: for_each_run's decomposition for
/// multipliers. Runs come from `for_each_run_indexed`; per-axis runs too
/// short for a kernel call each are merged into aligned runs over a stack
/// buffer, filled from the runs of one [channels, inner] slab. Requantization
/// is elementwise, so the merged runs need not come in memory order.
template <class Fn>
void for_each_requant_run(const ResolvedParams& r, const RequantizeParamsView& p, Fn&& fn) {
  const std::int64_t C = r.channels, inner = r.inner, slab = C * inner;
  const bool short_runs = inner < kShortRun && !(inner == 1 && C >= kShortRun);
  if (p.granularity != Granularity::kPerAxis || !short_runs || slab == 0) {
    for_each_run_indexed(r, [&](std::int64_t at, std::int64_t n, auto index) { fn(at, n, requant_source(p, index)); });
    return;
  }
  std::int32_t multiplier[kExpandedLength], shift[kExpandedLength];
  float scale[kExpandedLength];
  ResolvedParams one_slab = r;
  one_slab.outer = 1;
  // Writes the parameters of slab positions [from, from + length) to the buffers.
  auto fill = [&](std::int64_t from, std::int64_t length) {
    for_each_run_indexed(one_slab, [&](std::int64_t at, std::int64_t n, auto index) {
      const std::int64_t lo = std::max(at, from), hi = std::min(at + n, from + length);
      for (std::int64_t k = lo; k < hi; ++k) {
        std::int64_t param = index.param;
        if constexpr (std::is_same_v<decltype(index), AlignedIndex>) param += k - at;
        if (p.multiplier) multiplier[k - from] = p.multiplier[param];
        if (p.shift) shift[k - from] = p.shift[param];
        if (p.scale) scale[k - from] = p.scale[param];
      }
    });
  };
  const RequantAligned expanded{p.multiplier ? multiplier : nullptr, p.shift ? shift : nullptr,
                                p.scale ? scale : nullptr};
  if (slab <= kExpandedLength) {  // whole slabs fit: fill once, sweep the tensor
    const std::int64_t total = r.outer * slab, chunk = std::min(kExpandedLength / slab * slab, total);
    fill(0, slab);
    for (std::int64_t k = slab; k < chunk; k += slab) {
      if (p.multiplier) std::memcpy(multiplier + k, multiplier, sizeof(std::int32_t) * static_cast<std::size_t>(slab));
      if (p.shift) std::memcpy(shift + k, shift, sizeof(std::int32_t) * static_cast<std::size_t>(slab));
      if (p.scale) std::memcpy(scale + k, scale, sizeof(float) * static_cast<std::size_t>(slab));
    }
    for (std::int64_t at = 0; at < total; at += chunk) fn(at, std::min(chunk, total - at), expanded);
    return;
  }
  for (std::int64_t j = 0; j < slab; j += kExpandedLength) {  // a window of the slab, every outer index
    const std::int64_t length = std::min(kExpandedLength, slab - j);
    fill(j, length);
    for (std::int64_t o = 0; o < r.outer; ++o) fn(o * slab + j, length, expanded);
  }
}

}  // namespace detail

// ---------------------------------------------------------------------------
// Requantizer

/// Requantization parameters validated against a shape: apply them to any
/// number of tensors of that shape without checks, allocation or throwing.
///
/// Out is the output type (int8, uint8, int16), Rule the rounding rule, In
/// the input type (int32 accumulators by default; int16, int8, uint8 with an
/// input zero point), P the kernel path.
template <class Out, class Rule = GemmlowpRounding, class In = std::int32_t, Path P = kBestPath>
class Requantizer {
  static_assert(is_requantize_output_v<Out>, "requantize output must be int8, uint8 or int16");
  static_assert(is_requantize_input_v<In>, "requantize input must be int32, int16, int8 or uint8");
  static_assert(is_requantize_rule_v<Rule>, "unknown requantization rule");

 public:
  using Output = Out;
  using Input = In;
  using RoundingRule = Rule;
  static constexpr Path path = P;

  Requantizer() = default;

  /// From (multiplier, shift) or scale arrays; they are copied.
  static Status create(const Shape& shape, const RequantizeParamsView& params, Requantizer* out) {
    Requantizer rq;
    EIGENQ_RETURN_IF_ERROR(detail::resolve_requantize<In, Out, Rule>(params, shape, &rq.resolved_));
    rq.shape_ = shape;
    rq.params_ = copy(params, rq.resolved_.count);
    *out = std::move(rq);
    return Status::ok();
  }
  Requantizer(const Shape& shape, const RequantizeParamsView& params) {
    detail::raise_if_error(create(shape, params, this));
  }

  /// TVM QNN requantize: the input's scale(s) (per tensor or per axis, as
  /// `input` describes them) and zero point, the output's scale and zero
  /// point. M[c] = double(input.scale[c]) / double(output_scale) for the
  /// fixed-point rules, input.scale[c] / output_scale in float32 for
  /// Fp32Rounding. The input zero points must all be equal.
  static Status from_scales(const Shape& shape, const QParamsView& input, float output_scale,
                            std::int32_t output_zero_point, Range output_range, Requantizer* out) {
    EIGENQ_RETURN_IF_ERROR(check_input_scales(input, "input"));
    return build(shape, input, output_scale, output_zero_point, output_range, out, [&](std::size_t c) {
      return std::make_pair(static_cast<double>(input.scale[c]) / static_cast<double>(output_scale),
                            input.scale[c] / output_scale);
    });
  }

  /// Convolution / matmul accumulators (TFLite, XNNPACK): input scale times
  /// the weight scales, over the output scale.
  ///
  /// `channel_axis` is the accumulators' output-channel axis in `shape`
  /// (negative counts from the end): 1 for [N, Cout] or [P, Cout] row-major
  /// accumulators, -1 for NHWC. It is not the weights' axis (0 for
  /// [Cout, Cin, kH, kW] weights), so it is always given. Per-axis weights
  /// need one scale per channel of that axis; per-tensor weights give a
  /// per-tensor requantizer (the axis is still checked). Blocked and
  /// per-element weights are refused.
  ///
  /// M[c] = double(input_scale) * double(weights.scale[c]) / double(output_scale)
  /// as TFLite computes it; input_scale * weights.scale[c] / output_scale in
  /// float32 for Fp32Rounding, as XNNPACK does. The accumulators' zero point
  /// is 0; the weights' zero points are not used.
  static Status from_conv_scales(const Shape& shape, int channel_axis, float input_scale, const QParamsView& weights,
                                 float output_scale, std::int32_t output_zero_point, Range output_range,
                                 Requantizer* out) {
    if (!(std::isfinite(input_scale) && input_scale > 0.0f))
      return detail::error(StatusCode::kInvalidScale, "input scale = ", input_scale, " must be finite and > 0");
    const int axis = normalize_axis(channel_axis, shape.rank);
    if (axis < 0)
      return detail::error(StatusCode::kInvalidAxis, "channel_axis = ", channel_axis,
                           " is out of range for the accumulators of shape ", detail::shape_text(shape), " (expected ",
                           -shape.rank, " <= channel_axis < ", shape.rank, ")");
    QParamsView w = weights;
    w.zero_point = nullptr;
    if (weights.granularity == Granularity::kPerAxis) {
      w.axis = axis;
      if (weights.count != ~std::size_t{0} && static_cast<std::int64_t>(weights.count) != shape[axis])
        return detail::error(StatusCode::kShapeMismatch, "the weights have ", weights.count,
                             " per-axis scales, but channel_axis = ", channel_axis, " of the accumulators' shape ",
                             detail::shape_text(shape), " has ", shape[axis], " channels");
    } else if (weights.granularity != Granularity::kPerTensor) {
      return detail::error(StatusCode::kInvalidArgument, "the weights' scales are ",
                           granularity_name(weights.granularity),
                           "; requantization takes per-tensor or per-axis weight scales");
    }
    EIGENQ_RETURN_IF_ERROR(check_input_scales(w, "weight"));
    return build(shape, w, output_scale, output_zero_point, output_range, out, [&](std::size_t c) {
      return std::make_pair(
          static_cast<double>(input_scale) * static_cast<double>(weights.scale[c]) / static_cast<double>(output_scale),
          input_scale * weights.scale[c] / output_scale);
    });
  }

  /// The form without `channel_axis` took the axis from the weights'
  /// parameters, which index the weight tensor, not the accumulators: with
  /// as many rows as channels the wrong axis was accepted.
  [[deprecated(
      "give the accumulators' channel axis: from_conv_scales(shape, channel_axis, input_scale, ...)")]] static Status
  from_conv_scales(const Shape& shape, float input_scale, const QParamsView& weights, float output_scale,
                   std::int32_t output_zero_point, Range output_range, Requantizer* out) {
    return from_conv_scales(shape, weights.axis, input_scale, weights, output_scale, output_zero_point, output_range,
                            out);
  }

  const Shape& shape() const { return shape_; }
  std::int64_t size() const { return shape_.size(); }
  const RequantizeParams& params() const { return params_; }

  /// y = requantize(x); both hold size() elements.
  void requantize(const In* x, Out* y) const {
    const RequantizeParamsView view = params_.view();
    const RequantizeArgs args = view.args();
    detail::for_each_requant_run(resolved_, view, [&](std::int64_t at, std::int64_t n, auto src) {
      RequantizeKernels<P>::template requantize<Rule>(x + at, y + at, static_cast<std::size_t>(n), src, args);
    });
  }

 private:
  static RequantizeParams copy(const RequantizeParamsView& v, std::size_t n) {
    RequantizeParams p;
    p.granularity = v.granularity;
    p.axis = v.axis;
    p.block_size = v.block_size;
    if (v.multiplier) p.multiplier.assign(v.multiplier, v.multiplier + n);
    if (v.shift) p.shift.assign(v.shift, v.shift + n);
    if (v.scale) p.scale.assign(v.scale, v.scale + n);
    p.input_zero_point = v.input_zero_point;
    p.output_zero_point = v.output_zero_point;
    p.range = v.range;
    return p;
  }

  static Status check_input_scales(const QParamsView& p, const char* what) {
    if (p.count == ~std::size_t{0} || (p.count > 0 && p.scale == nullptr))
      return detail::error(StatusCode::kShapeMismatch, what, " scale and zero_point arrays differ in length");
    for (std::size_t c = 0; c < p.count; ++c)
      if (!(std::isfinite(p.scale[c]) && p.scale[c] > 0.0f))
        return detail::error(StatusCode::kInvalidScale, what, " scale[", c, "] = ", p.scale[c],
                             " must be finite and > 0");
    if (p.zero_point != nullptr)
      for (std::size_t c = 1; c < p.count; ++c)
        if (p.zero_point[c] != p.zero_point[0])
          return detail::error(StatusCode::kInvalidZeroPoint, what, " zero_point[", c, "] = ", p.zero_point[c],
                               " differs from zero_point[0] = ", p.zero_point[0],
                               " (requantization takes one input zero point)");
    return Status::ok();
  }

  // Computes every multiplier with `ratio(c)` -> (double real multiplier,
  // float fp32 scale), then validates the result as `create` does.
  template <class Ratio>
  static Status build(const Shape& shape, const QParamsView& input, float output_scale, std::int32_t output_zero_point,
                      Range output_range, Requantizer* out, Ratio&& ratio) {
    if (!(std::isfinite(output_scale) && output_scale > 0.0f))
      return detail::error(StatusCode::kInvalidScale, "output scale = ", output_scale, " must be finite and > 0");
    RequantizeParams p;
    p.granularity = input.granularity;
    p.axis = input.axis;
    p.block_size = input.block_size;
    p.input_zero_point = input.zero_point != nullptr && input.count > 0 ? input.zero_point[0] : 0;
    p.output_zero_point = output_zero_point;
    p.range = output_range;
    for (std::size_t c = 0; c < input.count; ++c) {
      const auto [real, scale] = ratio(c);
      if (!(std::isfinite(real) && real > 0.0))
        return detail::error(StatusCode::kInvalidScale, "requantization multiplier[", c, "] = ", real,
                             " must be finite and > 0");
      QuantizedMultiplier q{};
      if constexpr (Rule::kFixedPoint) {
        q = quantize_multiplier(real, Rule::style);
        // Below 2^-32 every rule gives 0 (TFLite flushes; TVM's result
        // rounds to 0 too): flushing keeps the shift in range.
        if (q.shift < -31) q = {};
        if (q.shift > 30)
          return detail::error(StatusCode::kInvalidScale, "requantization multiplier[", c, "] = ", real,
                               " is too large (must be below 2^30)");
      } else if (!(std::isfinite(scale) && scale > 0.0f)) {
        return detail::error(StatusCode::kInvalidScale, "requantization scale[", c, "] = ", scale,
                             " is not a positive finite float32 (multiplier ", real, ")");
      }
      p.multiplier.push_back(q.multiplier);
      p.shift.push_back(q.shift);
      p.scale.push_back(scale);
    }
    Requantizer rq;
    EIGENQ_RETURN_IF_ERROR(detail::resolve_requantize<In, Out, Rule>(p.view(), shape, &rq.resolved_));
    rq.shape_ = shape;
    rq.params_ = std::move(p);
    *out = std::move(rq);
    return Status::ok();
  }

  Shape shape_;
  ResolvedParams resolved_;
  RequantizeParams params_;
};

/// One-shot raw-pointer requantization: validate, then apply. Writes nothing
/// when the parameters are invalid.
template <class Rule, class In, class Out, Path P = kBestPath>
Status requantize(const In* x, Out* y, const Shape& shape, const RequantizeParamsView& params) {
  Requantizer<Out, Rule, In, P> rq;
  EIGENQ_RETURN_IF_ERROR((Requantizer<Out, Rule, In, P>::create(shape, params, &rq)));
  rq.requantize(x, y);
  return Status::ok();
}

}  // namespace eigenq

#if EIGENQ_HAVE_AVX2
#include "arch/requantize_avx2.hpp"
#endif
#if EIGENQ_HAVE_NEON
#include "arch/requantize_neon.hpp"
#endif
