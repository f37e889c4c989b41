#pragma once
/// \file
/// The scalar reference: what every kernel computes, one element at a time.
///
/// Every other path (the portable loops, AVX2, NEON) must produce exactly
/// these bits for every input, ties, saturation and NaN included. The
/// functions here are written for clarity; the ISA files reorder the same
/// operations where that is provably exact, and say so.
///
/// The default numerics are PyTorch's (also FBGEMM's and XNNPACK's):
///
///     inv = 1.0f / scale                      (float32, once per parameter)
///     r   = round_half_even(x * inv)          (a float32 product, not x / scale)
///     q   = clamp(r + zero_point, qmin, qmax) (zero point added after rounding)
///     dequantize(q)    = float(q - zero_point) * scale
///     fake_quantize(x) = dequantize(quantize(x))
///     STE mask(x)      = qmin <= r + zero_point <= qmax   (unclamped r)
///
/// NaN quantizes to qmin (as PyTorch on x86 and ONNX Runtime do), +inf to
/// qmax and -inf to qmin. Other engines' rules are selected by a `Numerics`
/// preset built from a rounding and a scaling policy (see `presets`).
///
/// Hazard: the reference assumes IEEE float32 without FMA contraction and
/// without -ffast-math. The CMake target adds -ffp-contract=off for that
/// reason; config.hpp refuses -ffast-math.

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "config.hpp"
#include "status.hpp"

namespace eigenq {

// ---------------------------------------------------------------------------
// Storage types and ranges

/// Storage types a tensor can be quantized into. Packed 4-bit storage is
/// described by `Range::bits` inside an int8/uint8 or by the packed API.
template <class Q>
constexpr bool is_storage_type_v =
    std::is_same_v<Q, std::int8_t> || std::is_same_v<Q, std::uint8_t> || std::is_same_v<Q, std::int16_t> ||
    std::is_same_v<Q, std::uint16_t> || std::is_same_v<Q, std::int32_t>;

template <class Q>
constexpr const char* storage_name() {
  if constexpr (std::is_same_v<Q, std::int8_t>)
    return "int8";
  else if constexpr (std::is_same_v<Q, std::uint8_t>)
    return "uint8";
  else if constexpr (std::is_same_v<Q, std::int16_t>)
    return "int16";
  else if constexpr (std::is_same_v<Q, std::uint16_t>)
    return "uint16";
  else
    return "int32";
}

/// The integer interval [qmin, qmax] quantized values are clamped to
/// (PyTorch's quant_min / quant_max). It may be narrower than the storage
/// type: narrow range ([-127, 127]), PyTorch's reduce_range (one bit less),
/// or any bit width that fits the type. `Range` is the same type; a float
/// interval is a `FloatRange`.
struct QuantRange {
  std::int32_t qmin = 0;
  std::int32_t qmax = 0;

  /// The whole storage type: int8 [-128, 127], uint8 [0, 255], ...
  template <class Q>
  static constexpr QuantRange full() {
    static_assert(is_storage_type_v<Q>, "storage type must be int8, uint8, int16, uint16 or int32");
    return {std::numeric_limits<Q>::lowest(), std::numeric_limits<Q>::max()};
  }
  /// Symmetric around zero for signed types ([-127, 127]), [1, 255] for
  /// uint8, as TensorFlow's narrow_range does.
  template <class Q>
  static constexpr QuantRange narrow() {
    return {full<Q>().qmin + 1, full<Q>().qmax};
  }
  /// PyTorch's reduce_range: one bit less than the type ([-64, 63], [0, 127]).
  template <class Q>
  static constexpr QuantRange reduced() {
    return bits<Q>(static_cast<int>(8 * sizeof(Q)) - 1);
  }
  /// A `bits`-wide range inside Q: signed Q gives [-2^(bits-1), 2^(bits-1)-1],
  /// unsigned Q gives [0, 2^bits - 1]. bits must be in [1, 8 * sizeof(Q)]:
  /// any other width throws `eigenq::Error` naming it (without exceptions it
  /// is printed and the program aborts; the Status form below returns it),
  /// and is a compile-time error in a constant expression.
  template <class Q>
  static constexpr QuantRange bits(int bits) {
    static_assert(is_storage_type_v<Q>, "storage type must be int8, uint8, int16, uint16 or int32");
    if (bits < 1 || bits > max_bits<Q>()) detail::raise_if_error(bits_error<Q>(bits));
    const std::int64_t span = std::int64_t{1} << bits;
    return std::is_signed_v<Q>
               ? QuantRange{static_cast<std::int32_t>(-span / 2), static_cast<std::int32_t>(span / 2 - 1)}
               : QuantRange{0, static_cast<std::int32_t>(span - 1)};
  }
  /// The same, returning the error for a width outside [1, 8 * sizeof(Q)].
  template <class Q>
  static Status bits(int bits, QuantRange* out) {
    static_assert(is_storage_type_v<Q>, "storage type must be int8, uint8, int16, uint16 or int32");
    if (bits < 1 || bits > max_bits<Q>()) return bits_error<Q>(bits);
    *out = QuantRange::bits<Q>(bits);
    return Status::ok();
  }
  /// True when the range is non-empty and representable in Q.
  template <class Q>
  constexpr bool fits() const {
    return qmin <= qmax && qmin >= full<Q>().qmin && qmax <= full<Q>().qmax;
  }
  friend constexpr bool operator==(QuantRange a, QuantRange b) { return a.qmin == b.qmin && a.qmax == b.qmax; }
  friend constexpr bool operator!=(QuantRange a, QuantRange b) { return !(a == b); }

 private:
  template <class Q>
  static constexpr int max_bits() {
    return static_cast<int>(8 * sizeof(Q));
  }
  template <class Q>
  static Status bits_error(int bits) {
    return detail::error(StatusCode::kInvalidRange, "QuantRange::bits<", storage_name<Q>(), ">(", bits, "): width ",
                         bits, " is outside [1, ", max_bits<Q>(), "]");
  }
};

/// The name the kernels and most code use for `QuantRange`.
using Range = QuantRange;

// ---------------------------------------------------------------------------
// Rounding and scaling policies

/// Round half to even (IEEE default; PyTorch, ONNX, XNNPACK). Under the
/// default floating-point environment nearbyint rounds ties to even.
struct RoundHalfEven {
  static float round(float v) { return std::nearbyint(v); }
};

/// Round half away from zero (TFLite's reference kernels, TVM, std::round).
struct RoundHalfAway {
  static float round(float v) { return std::round(v); }
};

namespace detail {
/// Returns v unchanged, as a value the compiler cannot see through. Hazard:
/// under -ffp-contract=fast (GCC's default outside strict ISO mode) a product
/// feeding an addition is fused into one FMA, which rounds once instead of
/// twice and moves ties; a product passed through here is rounded first.
template <class T>
inline T opaque_value(T v) {
#if defined(__GNUC__) && (defined(__x86_64__) || (defined(__i386__) && defined(__SSE2_MATH__)))
  __asm__("" : "+x"(v));
#elif defined(__GNUC__) && defined(__aarch64__)
  __asm__("" : "+w"(v));
#else
  volatile T kept = v;
  v = kept;
#endif
  return v;
}
inline float opaque(float v) { return opaque_value(v); }
/// The same for double (the observers' arithmetic is partly double).
inline double opaque(double v) { return opaque_value(v); }
}  // namespace detail

/// floor(v + 0.5f), evaluated in float32 as TensorFlow's fake-quant does.
/// Not the same as exact half-up rounding: 0.49999997f + 0.5f rounds to 1.0f
/// in float32, so this gives 1 where exact arithmetic gives 0. v is usually a
/// product: it is kept from fusing with the addition (see detail::opaque).
struct RoundHalfUp {
  static float round(float v) { return std::floor(detail::opaque(v) + 0.5f); }
};

/// x * (1.0f / scale), the reciprocal computed once per parameter in float32
/// (PyTorch, FBGEMM). Differs from division in the last bit of the product,
/// which moves ties: x = 48.64207f, scale = 1.7067393f gives 28.500002 (-> 29)
/// where division gives exactly 28.5 (-> 28).
struct ScaleByReciprocal {
  static float factor(float scale) { return 1.0f / scale; }
  static float apply(float x, float factor) { return x * factor; }
};

/// x / scale (ONNX, TFLite): the factor is the scale itself.
struct ScaleByDivision {
  static float factor(float scale) { return scale; }
  static float apply(float x, float factor) { return x / factor; }
};

/// A choice of rounding and scaling. Kernels take it as a template
/// parameter; the named presets below are the user-facing spellings.
template <class RoundingPolicy, class ScalingPolicy>
struct Numerics {
  using Rounding = RoundingPolicy;
  using Scaling = ScalingPolicy;

  /// The scaled and rounded value, before the zero point: round(x / scale)
  /// under this preset's rules.
  static float rounded(float x, float scale) { return Rounding::round(Scaling::apply(x, Scaling::factor(scale))); }
};

/// Engine presets, named after the engine whose bits they reproduce.
namespace presets {
/// Default: multiply by 1.0f/scale, round half to even.
using pytorch = Numerics<RoundHalfEven, ScaleByReciprocal>;
/// ONNX QuantizeLinear (and ONNX Runtime): divide, round half to even.
using onnx = Numerics<RoundHalfEven, ScaleByDivision>;
/// TFLite reference quantize: divide, round half away from zero.
using tflite = Numerics<RoundHalfAway, ScaleByDivision>;
/// TensorFlow fake_quant_with_min_max_args: multiply by 1/scale, floor(v + 0.5f).
using tensorflow = Numerics<RoundHalfUp, ScaleByReciprocal>;
/// TensorFlow fake_quant_with_min_max_vars and _vars_per_channel, which
/// divide where the _args form multiplies: x / scale, floor(v + 0.5f).
using tensorflow_vars = Numerics<RoundHalfUp, ScaleByDivision>;
}  // namespace presets

using DefaultNumerics = presets::pytorch;

template <class N>
constexpr const char* numerics_name() {
  if constexpr (std::is_same_v<N, presets::pytorch>)
    return "pytorch";
  else if constexpr (std::is_same_v<N, presets::onnx>)
    return "onnx";
  else if constexpr (std::is_same_v<N, presets::tflite>)
    return "tflite";
  else if constexpr (std::is_same_v<N, presets::tensorflow>)
    return "tensorflow";
  else if constexpr (std::is_same_v<N, presets::tensorflow_vars>)
    return "tensorflow_vars";
  else
    return "custom";
}

// ---------------------------------------------------------------------------
// One element

/// clamp(r + zero_point, qmin, qmax) for a rounded value r, exactly, with NaN
/// going to qmin. Computed in double: r is an integer-valued float (or
/// +-inf/NaN) and |zero_point| < 2^31, so the sum is exact wherever it lies
/// inside the range, and rounding is monotonic where it does not.
inline std::int32_t saturate(float r, std::int32_t zero_point, Range range) {
  const double v = static_cast<double>(r) + zero_point;
  // max(lo, NaN) is lo: the NaN comparison is false, so NaN lands on qmin.
  const double lo = range.qmin, hi = range.qmax;
  const double clamped = v > lo ? v : lo;
  return static_cast<std::int32_t>(clamped < hi ? clamped : hi);
}

/// The STE mask: whether r + zero_point lies in [qmin, qmax] before clamping.
/// False for NaN.
inline bool in_range(float r, std::int32_t zero_point, Range range) {
  const double v = static_cast<double>(r) + zero_point;
  return v >= range.qmin && v <= range.qmax;
}

/// Quantizes one value.
template <class Q, class N = DefaultNumerics>
inline Q quantize(float x, float scale, std::int32_t zero_point, Range range) {
  return static_cast<Q>(saturate(N::rounded(x, scale), zero_point, range));
}

/// float(q - zero_point) * scale. The difference is exact (in double, since
/// for int32 storage it can exceed int32) and rounded to float once.
inline float dequantize(std::int32_t q, float scale, std::int32_t zero_point) {
  return static_cast<float>(static_cast<double>(q) - zero_point) * scale;
}

/// dequantize(quantize(x)) in float32, for every x (NaN included, which gives
/// (qmin - zero_point) * scale as in PyTorch).
template <class N = DefaultNumerics>
inline float fake_quantize(float x, float scale, std::int32_t zero_point, Range range) {
  return dequantize(saturate(N::rounded(x, scale), zero_point, range), scale, zero_point);
}

/// The straight-through estimator's mask for x: 1 where the gradient passes.
template <class N = DefaultNumerics>
inline bool ste_mask(float x, float scale, std::int32_t zero_point, Range range) {
  return in_range(N::rounded(x, scale), zero_point, range);
}

/// Float zero points (float_qparams.hpp, whose file comment gives the
/// formulas and PyTorch's reasons): one element, the reference every path
/// reproduces.
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
/// integer-zero-point fake quantization does; a rounded -0.0 becomes 0, so
/// a zero zero point gives +0.0), and the clamp and the dequantization run
/// in double (std::fmin / fmax of an int64), rounded to float once.
inline float fake_quantize(float x, float scale, float zero_point, Range range, bool half_zero_point = false) {
  const float inv = 1.0f / scale;
  const float v = half_zero_point ? detail::opaque(x * inv) + zero_point : std::fma(x, inv, zero_point);
  const float r = std::nearbyint(v);
  const double q = (r >= -0x1p63f && r < 0x1p63f) ? static_cast<double>(static_cast<std::int64_t>(r)) : -0x1p63;
  const double clamped = std::fmin(std::fmax(q, range.qmin), range.qmax);
  return static_cast<float>((clamped - static_cast<double>(zero_point)) * static_cast<double>(scale));
}

}  // namespace float_zp

}  // namespace eigenq
