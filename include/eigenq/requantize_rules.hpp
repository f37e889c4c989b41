#pragma once
/// \file
/// The requantization reference: multipliers, rounding rules and one-element
/// requantization, the parameter sources of the kernels and the loop that
/// cuts a tensor into runs of multipliers. requantize.hpp validates
/// parameters and applies them (`Requantizer`).
///
/// Requantization brings integer accumulators (int32, or int16/int8/uint8
/// with an input zero point) back to int8 / uint8 / int16 with a real
/// multiplier M = s_in * s_w[c] / s_out, per tensor or per channel on any
/// axis, under the rounding rule of the engine being reproduced.
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
#include <vector>

#include "numerics.hpp"
#include "params.hpp"
#include "runs.hpp"

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
// The output stage of a quantized layer (output_stage.hpp)

/// a + b modulo 2^32: the int32 addition of every engine's output stage
/// (ORT's MLAS, TFLite, gemmlowp, XNNPACK add the bias and the zero-point
/// corrections to the accumulator in int32 without saturating, so an
/// overflow wraps on every CPU they run on).
inline std::int32_t wrapping_add(std::int32_t a, std::int32_t b) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b));
}

/// The fused output stage on one accumulator: requantize(acc + offset), the
/// sum wrapped to int32 (`wrapping_add`), no input zero point (it is folded
/// into the offset), then the rule and the clamp of `requantize`.
template <class Rule>
inline std::int32_t requantize_offset(std::int32_t acc, std::int32_t offset, std::int32_t multiplier,
                                      std::int32_t shift, float scale, const RequantizeArgs& args) {
  const RequantizeArgs a{0, args.output_zero_point, args.range};
  return requantize<Rule>(wrapping_add(acc, offset), multiplier, shift, scale, a);
}

// ---------------------------------------------------------------------------
// Parameter sources

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

/// The output stage's additive term beside a multiplier source: one int32
/// for a broadcast run, an array aligned with the run for an aligned one.
template <class Src>
using RequantOffset = std::conditional_t<std::is_same_v<Src, RequantAligned>, const std::int32_t*, std::int32_t>;

inline std::int32_t offset_at(std::int32_t offset, std::size_t) { return offset; }
inline std::int32_t offset_at(const std::int32_t* offset, std::size_t i) { return offset[i]; }

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

inline RequantBroadcast requant_source(const RequantizeParamsView& p, BroadcastIndex i) {
  return {p.multiplier ? p.multiplier[i.param] : 0, p.shift ? p.shift[i.param] : 0, p.scale ? p.scale[i.param] : 0.0f};
}
inline RequantAligned requant_source(const RequantizeParamsView& p, AlignedIndex i) {
  return {p.multiplier ? p.multiplier + i.param : nullptr, p.shift ? p.shift + i.param : nullptr,
          p.scale ? p.scale + i.param : nullptr};
}

/// The run kernels of one requantization (its rule, types and path fixed)
/// as plain function pointers over the caller's arguments, so that the
/// scheme walk below is compiled once rather than once per rule, type pair
/// and path. Requantization runs are long enough for the indirect call.
struct RequantRuns {
  const void* context;
  void (*broadcast)(const void* context, std::int64_t at, std::int64_t n, RequantBroadcast src);
  void (*aligned)(const void* context, std::int64_t at, std::int64_t n, RequantAligned src);

  void operator()(std::int64_t at, std::int64_t n, RequantBroadcast src) const { broadcast(context, at, n, src); }
  void operator()(std::int64_t at, std::int64_t n, RequantAligned src) const { aligned(context, at, n, src); }
};

/// Calls fn(offset, length, source) over the whole tensor, where source is a
/// `RequantBroadcast` or `RequantAligned`: for_each_run's decomposition for
/// multipliers. Runs come from `for_each_run_indexed`; per-axis runs too
/// short for a kernel call each are merged into aligned runs over a stack
/// buffer, filled from the runs of one [channels, inner] slab. Requantization
/// is elementwise, so the merged runs need not come in memory order.
inline void for_each_requant_run(const ResolvedParams& r, const RequantizeParamsView& p, const RequantRuns& fn) {
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

}  // namespace eigenq
