#pragma once
/// \file
/// Minifloat element formats: FP8 (the four ONNX variants), the OCP
/// Microscaling element formats FP6 and FP4, and the E8M0 scale, as codes of
/// at most 8 bits held one per byte. A format is described by its exponent
/// bits, mantissa bits, bias and the meaning of its special codes
/// (`MinifloatSpecials`); one encoder and one decoder, written once below,
/// serve every format:
///
///     decode  code -> float32, exact (every code's value is a float32)
///     encode  float32 -> code: round to nearest, ties to even mantissa, as
///             if the exponent range were unbounded; a result beyond the
///             largest finite value overflows, and overflow (and +-inf)
///             goes to the largest finite value when `saturate`, else to
///             the format's infinity or NaN (ONNX Cast / QuantizeLinear,
///             opset 19, attribute `saturate`)
///
/// | format           | E | M | bias | max     | inf | NaN              | -0 |
/// |------------------|---|---|------|---------|-----|------------------|----|
/// | Float8E4M3FN     | 4 | 3 | 7    | 448     | no  | S.1111.111       | yes|
/// | Float8E4M3FNUZ   | 4 | 3 | 8    | 240     | no  | 0x80             | no |
/// | Float8E5M2       | 5 | 2 | 15   | 57344   | yes | S.11111.{01,10,11}| yes|
/// | Float8E5M2FNUZ   | 5 | 2 | 16   | 57344   | no  | 0x80             | no |
/// | Float6E2M3       | 2 | 3 | 1    | 7.5     | no  | none             | yes|
/// | Float6E3M2       | 3 | 2 | 3    | 28      | no  | none             | yes|
/// | Float4E2M1       | 2 | 1 | 1    | 6       | no  | none             | yes|
///
/// Sources: ONNX's float8 types (onnx/docs/Operators.md, Cast and
/// QuantizeLinear, "saturate" tables), the OCP 8-bit Floating Point
/// Specification (OFP8) v1.0 for E4M3 / E5M2, the OCP Microscaling Formats
/// (MX) v1.0 specification section 5.3 for FP6 / FP4 and E8M0.
///
/// NaN keeps its sign where the format has a signed NaN (as ONNX Runtime
/// does); the FP6 / FP4 formats have no NaN and no infinity: +-inf
/// saturates to +-max whatever `saturate` says (there is nothing else to
/// overflow to), and NaN encodes as +0 — in the MX block formats a NaN is
/// carried by the block's E8M0 scale (OCP MX v1.0 section 6.3), not by an
/// element.

#include <cstdint>
#include <cstring>
#include <limits>

namespace eigenq {

/// What a format's special codes mean.
enum class MinifloatSpecials {
  kIeee,       ///< all-ones exponent: mantissa 0 is +-inf, any other NaN (E5M2)
  kFiniteNaN,  ///< "fn": no infinity; only S.1...1.1...1 is NaN (E4M3FN)
  kFnuz,       ///< "fnuz": no infinity, no -0; the code 1.0...0.0...0 is the one NaN
  kFinite,     ///< no NaN, no infinity: every code is a number (MX FP6 and FP4)
};

/// A minifloat format: 1 sign bit, `exponent_bits`, `mantissa_bits`.
struct MinifloatFormat {
  int exponent_bits;
  int mantissa_bits;
  int bias;
  MinifloatSpecials specials;
  const char* name;

  constexpr int bits() const { return 1 + exponent_bits + mantissa_bits; }
  constexpr std::uint32_t sign_bit() const { return std::uint32_t{1} << (exponent_bits + mantissa_bits); }
  constexpr std::uint32_t mantissa_mask() const { return (std::uint32_t{1} << mantissa_bits) - 1; }
  constexpr std::uint32_t all_ones() const { return sign_bit() - 1; }  ///< magnitude bits all set
  /// Unbiased exponent of the smallest normal number.
  constexpr int min_exponent() const { return 1 - bias; }
  /// The largest finite magnitude's code (codes of one sign are ordered by value).
  constexpr std::uint32_t max_magnitude() const {
    return specials == MinifloatSpecials::kIeee        ? all_ones() - mantissa_mask() - 1  // below the inf code
           : specials == MinifloatSpecials::kFiniteNaN ? all_ones() - 1                    // below the NaN code
                                                       : all_ones();
  }
  constexpr bool has_nan() const { return specials != MinifloatSpecials::kFinite; }
  /// Unbiased exponent of the largest finite value (the MX specification's emax_elem).
  constexpr int max_exponent() const { return static_cast<int>(max_magnitude() >> mantissa_bits) - bias; }
};

/// ONNX float8e4m3fn (OFP8 E4M3): no infinity, NaN at S.1111.111.
struct Float8E4M3FN {
  static constexpr MinifloatFormat kFormat{4, 3, 7, MinifloatSpecials::kFiniteNaN, "float8e4m3fn"};
};
/// ONNX float8e4m3fnuz: no infinity, no -0, NaN at 0x80.
struct Float8E4M3FNUZ {
  static constexpr MinifloatFormat kFormat{4, 3, 8, MinifloatSpecials::kFnuz, "float8e4m3fnuz"};
};
/// ONNX float8e5m2 (OFP8 E5M2): IEEE-like, with infinities and NaNs.
struct Float8E5M2 {
  static constexpr MinifloatFormat kFormat{5, 2, 15, MinifloatSpecials::kIeee, "float8e5m2"};
};
/// ONNX float8e5m2fnuz: no infinity, no -0, NaN at 0x80.
struct Float8E5M2FNUZ {
  static constexpr MinifloatFormat kFormat{5, 2, 16, MinifloatSpecials::kFnuz, "float8e5m2fnuz"};
};
/// OCP MX FP6 E2M3: finite only, max 7.5.
struct Float6E2M3 {
  static constexpr MinifloatFormat kFormat{2, 3, 1, MinifloatSpecials::kFinite, "float6e2m3"};
};
/// OCP MX FP6 E3M2: finite only, max 28.
struct Float6E3M2 {
  static constexpr MinifloatFormat kFormat{3, 2, 3, MinifloatSpecials::kFinite, "float6e3m2"};
};
/// OCP MX FP4 E2M1 (ONNX float4e2m1): finite only, max 6.
struct Float4E2M1 {
  static constexpr MinifloatFormat kFormat{2, 1, 1, MinifloatSpecials::kFinite, "float4e2m1"};
};

template <class F>
inline constexpr bool is_minifloat_v = false;
template <>
inline constexpr bool is_minifloat_v<Float8E4M3FN> = true;
template <>
inline constexpr bool is_minifloat_v<Float8E4M3FNUZ> = true;
template <>
inline constexpr bool is_minifloat_v<Float8E5M2> = true;
template <>
inline constexpr bool is_minifloat_v<Float8E5M2FNUZ> = true;
template <>
inline constexpr bool is_minifloat_v<Float6E2M3> = true;
template <>
inline constexpr bool is_minifloat_v<Float6E3M2> = true;
template <>
inline constexpr bool is_minifloat_v<Float4E2M1> = true;

namespace detail {

/// The encoder below assumes a format fits inside float32's normal range
/// with room to spare: half of its smallest subnormal is a normal float32
/// (so float32 subnormals all round to zero) and its largest exponent is
/// far below float32's.
constexpr bool minifloat_fits_float32(const MinifloatFormat& f) {
  return f.exponent_bits >= 1 && f.mantissa_bits >= 0 && f.bits() <= 8 &&
         f.min_exponent() - f.mantissa_bits - 1 > -126 && (1 << f.exponent_bits) - 1 - f.bias < 127;
}

inline std::uint32_t float_bits(float v) {
  std::uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}
inline float bits_float(std::uint32_t b) {
  float v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

/// v / 2^shift rounded to nearest, ties to even (shift >= 1).
inline std::uint32_t shift_round_even(std::uint32_t v, int shift) {
  const std::uint32_t q = v >> shift;
  const std::uint32_t rest = v & ((std::uint32_t{1} << shift) - 1);
  const std::uint32_t half = std::uint32_t{1} << (shift - 1);
  return q + (rest > half || (rest == half && (q & 1)));
}

inline std::uint8_t minifloat_nan(const MinifloatFormat& f, std::uint32_t sign) {
  switch (f.specials) {
    case MinifloatSpecials::kIeee:
    case MinifloatSpecials::kFiniteNaN:
      return static_cast<std::uint8_t>(sign | f.all_ones());
    case MinifloatSpecials::kFnuz:
      return static_cast<std::uint8_t>(f.sign_bit());
    case MinifloatSpecials::kFinite:
      break;
  }
  return 0;  // no NaN: the MX block's scale carries it
}

/// Where a magnitude beyond the largest finite value goes.
inline std::uint8_t minifloat_overflow(const MinifloatFormat& f, std::uint32_t sign, bool saturate) {
  if (saturate || f.specials == MinifloatSpecials::kFinite) return static_cast<std::uint8_t>(sign | f.max_magnitude());
  if (f.specials == MinifloatSpecials::kIeee) return static_cast<std::uint8_t>(sign | (f.max_magnitude() + 1));  // inf
  return minifloat_nan(f, sign);
}

/// float32 -> code; see the file comment. Works on the bits: a float32
/// magnitude is (exponent, mantissa), and the format's code of the same
/// sign is (exponent + bias - 127, mantissa's top M bits) with the dropped
/// bits rounded in, the carry running into the exponent as it should. Below
/// the format's normal range the code counts quanta of its smallest
/// subnormal, 2^(min_exponent - M).
inline std::uint8_t minifloat_encode(const MinifloatFormat& f, float x, bool saturate) {
  const std::uint32_t bits = float_bits(x);
  const std::uint32_t sign = (bits >> 31) != 0 ? f.sign_bit() : 0;
  const std::uint32_t a = bits & 0x7fffffffu;
  if (a > 0x7f800000u) return minifloat_nan(f, sign);
  if (a == 0x7f800000u) return minifloat_overflow(f, sign, saturate);
  const int M = f.mantissa_bits;
  const int e = static_cast<int>(a >> 23) - 127;  // -127 for zero and float32 subnormals
  const int e_max = (1 << f.exponent_bits) - 1 - f.bias;
  std::uint32_t magnitude;
  if (e < f.min_exponent()) {
    if ((a >> 23) == 0) {
      magnitude = 0;  // zero or a float32 subnormal: below half the smallest subnormal
    } else {
      const std::uint32_t significand = (a & 0x7fffffu) | 0x800000u;
      const int shift = 23 - M + (f.min_exponent() - e);
      magnitude = shift > 24 ? 0 : shift_round_even(significand, shift);  // significand < 2^24 <= half
    }
  } else if (e > e_max) {
    return minifloat_overflow(f, sign, saturate);
  } else {
    const std::uint32_t rebiased = (static_cast<std::uint32_t>(e + f.bias) << 23) | (a & 0x7fffffu);
    magnitude = shift_round_even(rebiased, 23 - M);
  }
  if (magnitude > f.max_magnitude()) return minifloat_overflow(f, sign, saturate);
  if (magnitude == 0 && f.specials == MinifloatSpecials::kFnuz) return 0;  // no negative zero
  return static_cast<std::uint8_t>(sign | magnitude);
}

/// code -> float32, exactly. Bits above the format's width are ignored.
inline float minifloat_decode(const MinifloatFormat& f, std::uint8_t code) {
  const std::uint32_t c = code & (f.sign_bit() | f.all_ones());
  const bool negative = (c & f.sign_bit()) != 0;
  const std::uint32_t magnitude = c & f.all_ones();
  const int M = f.mantissa_bits;
  const std::uint32_t exponent = magnitude >> M, mantissa = magnitude & f.mantissa_mask();
  const float nan = negative ? -std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::quiet_NaN();
  switch (f.specials) {
    case MinifloatSpecials::kIeee:
      if (magnitude > f.max_magnitude())
        return mantissa == 0
                   ? (negative ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity())
                   : nan;
      break;
    case MinifloatSpecials::kFiniteNaN:
      if (magnitude == f.all_ones()) return nan;
      break;
    case MinifloatSpecials::kFnuz:
      if (c == f.sign_bit()) return nan;
      break;
    case MinifloatSpecials::kFinite:
      break;
  }
  std::uint32_t out;
  if (exponent == 0) {
    // mantissa * 2^(min_exponent - M): a small integer times a power of two, exact.
    const float quantum = bits_float(static_cast<std::uint32_t>(f.min_exponent() - M + 127) << 23);
    out = float_bits(static_cast<float>(mantissa) * quantum);
  } else {
    out = (static_cast<std::uint32_t>(static_cast<int>(exponent) - f.bias + 127) << 23) | (mantissa << (23 - M));
  }
  return bits_float(out | (negative ? 0x80000000u : 0u));
}

}  // namespace detail

/// float32 -> F's code (round to nearest even; overflow per `saturate`).
template <class F>
inline std::uint8_t minifloat_encode(float x, bool saturate = true) {
  static_assert(is_minifloat_v<F>, "F must be a minifloat format (Float8E4M3FN, ..., Float4E2M1)");
  static_assert(detail::minifloat_fits_float32(F::kFormat), "format outside the encoder's assumptions");
  return detail::minifloat_encode(F::kFormat, x, saturate);
}

/// F's code -> float32, exactly.
template <class F>
inline float minifloat_decode(std::uint8_t code) {
  static_assert(is_minifloat_v<F>, "F must be a minifloat format (Float8E4M3FN, ..., Float4E2M1)");
  return detail::minifloat_decode(F::kFormat, code);
}

/// The OCP MX shared scale E8M0: an unsigned biased exponent, 2^(code -
/// 127) for codes 0..254 (2^-127, the smallest, is a float32 subnormal), and
/// 0xFF NaN. No sign, no zero, no infinity.
struct E8M0 {
  static constexpr std::uint8_t kNaN = 0xFF;
  static constexpr int kBias = 127;

  static float decode(std::uint8_t code) {
    if (code == kNaN) return std::numeric_limits<float>::quiet_NaN();
    // 2^(code - 127): code 0 is float32's subnormal 2^-127 (bit 22).
    return detail::bits_float(code == 0 ? 0x00400000u : static_cast<std::uint32_t>(code) << 23);
  }
  /// The code of 2^exponent, the exponent clamped to E8M0's [-127, 127]
  /// (the MX v1.0 scale rule clamps the same way).
  static std::uint8_t from_exponent(int exponent) {
    const int e = exponent < -kBias ? -kBias : exponent > kBias ? kBias : exponent;
    return static_cast<std::uint8_t>(e + kBias);
  }
};

}  // namespace eigenq
