// The minifloat element codec (minifloat.hpp) against a reference written
// here from the formats' specifications, independently of the codec: every
// code's value from the textbook formula and the specification's special
// codes, and float32 -> code as "the nearest value of the format's value
// list, ties to the even code, beyond the largest finite value the
// specification's overflow code".
//
// Encoding is checked on every 1021st positive float32 and its negation
// (every 4099th in builds without NDEBUG, such as the sanitizer build), plus
// every float32 within 4 ulps of each representable value and of each
// midpoint between two neighbours, where all the rounding decisions are:
// about 0.4 s in Release (the AArch64 build runs it under qemu, some 250
// times slower). EIGENQ_EXHAUSTIVE=1 checks every finite float32
// instead: 50 to 150 s per format in Release on a shared 2-core machine,
// about ten minutes for the seven.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "eigenq/minifloat.hpp"

namespace eigenq {
namespace {

// The library's bit casts (minifloat.hpp).
using detail::bits_float;
using detail::float_bits;

// What the specifications say about a format, written out per format.
struct Spec {
  int e, m, bias;
  double max, min_normal, min_subnormal;  // anchors quoted from the specifications
  std::set<int> nan_codes, inf_codes;
  bool negative_zero;
  int overflow_pos, overflow_neg;  // the code of +-overflow without saturation
  int nan_pos, nan_neg;            // the code of +-NaN (0 where the format has none)
};

template <class F>
Spec spec();
template <>
Spec spec<Float8E4M3FN>() {
  return {4, 3, 7, 448, 0x1p-6, 0x1p-9, {0x7F, 0xFF}, {}, true, 0x7F, 0xFF, 0x7F, 0xFF};
}
template <>
Spec spec<Float8E4M3FNUZ>() {
  return {4, 3, 8, 240, 0x1p-7, 0x1p-10, {0x80}, {}, false, 0x80, 0x80, 0x80, 0x80};
}
template <>
Spec spec<Float8E5M2>() {
  return {5,    2,    15,   57344, 0x1p-14, 0x1p-16, {0x7D, 0x7E, 0x7F, 0xFD, 0xFE, 0xFF}, {0x7C, 0xFC},
          true, 0x7C, 0xFC, 0x7F,  0xFF};
}
template <>
Spec spec<Float8E5M2FNUZ>() {
  return {5, 2, 16, 57344, 0x1p-15, 0x1p-17, {0x80}, {}, false, 0x80, 0x80, 0x80, 0x80};
}
template <>
Spec spec<Float6E2M3>() {
  return {2, 3, 1, 7.5, 1.0, 0.125, {}, {}, true, 0x1F, 0x3F, 0, 0};
}
template <>
Spec spec<Float6E3M2>() {
  return {3, 2, 3, 28, 0.25, 0.0625, {}, {}, true, 0x1F, 0x3F, 0, 0};
}
template <>
Spec spec<Float4E2M1>() {
  return {2, 1, 1, 6, 1.0, 0.5, {}, {}, true, 0x7, 0xF, 0, 0};
}

// A code's value by the textbook formula: (-1)^s 2^(1-bias) (0.m) for a zero
// exponent field, (-1)^s 2^(e-bias) (1.m) otherwise.
double textbook_value(const Spec& s, int code) {
  const int sign = (code >> (s.e + s.m)) & 1;
  const int e = (code >> s.m) & ((1 << s.e) - 1);
  const int m = code & ((1 << s.m) - 1);
  const double frac = m / std::ldexp(1.0, s.m);
  const double v = e == 0 ? std::ldexp(frac, 1 - s.bias) : std::ldexp(1.0 + frac, e - s.bias);
  return sign ? -v : v;
}

struct Entry {
  double value;
  int code;
};

// The format's non-negative finite values, ascending, then the value one
// step beyond the largest (what rounding up from it would give, with the
// code parity that decides a tie: the overflow sentinel).
template <class F>
std::vector<Entry> ladder() {
  const Spec s = spec<F>();
  std::vector<Entry> out;
  for (int code = 0; code < (1 << (s.e + s.m)); ++code) {
    if (s.nan_codes.count(code) || s.inf_codes.count(code)) continue;
    out.push_back({textbook_value(s, code), code});
  }
  const int last = out.back().code;
  const int e_last = (last >> s.m) & ((1 << s.e) - 1);
  out.push_back({out.back().value + std::ldexp(1.0, e_last - s.bias - s.m), last + 1});
  return out;
}

template <class F>
void check_decode() {
  const Spec s = spec<F>();
  const int bits = 1 + s.e + s.m;
  double max = 0, min_normal = INFINITY, min_sub = INFINITY;
  for (int code = 0; code < (1 << bits); ++code) {
    const float got = minifloat_decode<F>(static_cast<std::uint8_t>(code));
    const bool negative = (code >> (bits - 1)) & 1;
    if (s.nan_codes.count(code)) {
      EXPECT_TRUE(std::isnan(got)) << F::kFormat.name << " code " << code;
      EXPECT_EQ(std::signbit(got), negative) << F::kFormat.name << " code " << code;
      continue;
    }
    if (s.inf_codes.count(code)) {
      EXPECT_EQ(got, negative ? -INFINITY : INFINITY) << F::kFormat.name << " code " << code;
      continue;
    }
    const double want = textbook_value(s, code);
    EXPECT_EQ(static_cast<double>(got), want) << F::kFormat.name << " code " << code;
    EXPECT_EQ(std::signbit(got), negative) << F::kFormat.name << " code " << code << " (sign of zero)";
    const double a = std::fabs(want);
    max = std::max(max, a);
    if (((code >> s.m) & ((1 << s.e) - 1)) != 0) min_normal = std::min(min_normal, a);
    if (a > 0) min_sub = std::min(min_sub, a);
  }
  EXPECT_EQ(max, s.max) << F::kFormat.name;
  EXPECT_EQ(min_normal, s.min_normal) << F::kFormat.name;
  EXPECT_EQ(min_sub, s.min_subnormal) << F::kFormat.name;
  EXPECT_EQ(static_cast<double>(minifloat_decode<F>(static_cast<std::uint8_t>(ladder<F>().end()[-2].code))), s.max);
}

// The code the reference expects for float32 `x`.
struct Reference {
  Spec s;
  std::vector<Entry> values;
  std::size_t at = 0;  // values[at] <= |x| < values[at + 1] for the last |x| asked (ascending)

  int expect(float x, bool saturate) {
    const double a = std::fabs(static_cast<double>(x));
    while (at + 1 < values.size() && values[at + 1].value <= a) ++at;
    const bool negative = std::signbit(x);
    const int sign = negative ? 1 << (s.e + s.m) : 0;
    int code;
    if (at + 1 == values.size()) {
      code = values.back().code;  // at or beyond the sentinel: overflow
    } else {
      const Entry& lo = values[at];
      const Entry& hi = values[at + 1];
      const double mid = (lo.value + hi.value) / 2;  // exact: dyadic values of few bits
      code = a < mid ? lo.code : a > mid ? hi.code : (lo.code % 2 == 0 ? lo.code : hi.code);
    }
    if (code == values.back().code) {
      if (saturate || s.overflow_pos == values[values.size() - 2].code) return sign | values[values.size() - 2].code;
      return negative ? s.overflow_neg : s.overflow_pos;
    }
    if (code == 0 && !s.negative_zero) return 0;
    return sign | code;
  }
  void restart() { at = 0; }
};

template <class F>
void check_encode_specials() {
  const Spec s = spec<F>();
  const std::vector<Entry> v = ladder<F>();
  const int max = v.end()[-2].code, sign = 1 << (s.e + s.m);
  for (bool saturate : {true, false}) {
    EXPECT_EQ(minifloat_encode<F>(std::numeric_limits<float>::quiet_NaN(), saturate), s.nan_pos) << F::kFormat.name;
    EXPECT_EQ(minifloat_encode<F>(-std::numeric_limits<float>::quiet_NaN(), saturate), s.nan_neg) << F::kFormat.name;
    EXPECT_EQ(minifloat_encode<F>(bits_float(0x7f800001u), saturate), s.nan_pos)
        << F::kFormat.name << " signalling NaN";
    EXPECT_EQ(minifloat_encode<F>(bits_float(0xffbfffffu), saturate), s.nan_neg)
        << F::kFormat.name << " signalling NaN";
    const int inf_pos = saturate ? max : s.overflow_pos, inf_neg = saturate ? sign | max : s.overflow_neg;
    EXPECT_EQ(minifloat_encode<F>(INFINITY, saturate), inf_pos) << F::kFormat.name << " saturate " << saturate;
    EXPECT_EQ(minifloat_encode<F>(-INFINITY, saturate), inf_neg) << F::kFormat.name << " saturate " << saturate;
  }
}

// Every float32 near a representable value or a midpoint, and every
// `stride`-th positive float32, each with its negation, in both modes.
template <class F>
void check_encode(std::uint32_t stride) {
  const Spec s = spec<F>();
  Reference ref{s, ladder<F>()};
  std::vector<std::uint32_t> probes;
  const std::vector<Entry>& v = ref.values;
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::vector<double> points{v[i].value};
    if (i + 1 < v.size()) points.push_back((v[i].value + v[i + 1].value) / 2);
    for (double p : points) {
      const std::uint32_t b = float_bits(static_cast<float>(p));
      for (std::uint32_t d = 0; d <= 8; ++d)
        if (b + d >= 4 && b + d - 4 < 0x7f800000u) probes.push_back(b + d - 4);
    }
  }
  std::sort(probes.begin(), probes.end());
  for (bool saturate : {true, false}) {
    std::uint64_t failures = 0;
    auto check = [&](std::uint32_t b) {
      const float x = bits_float(b);
      const int want_pos = ref.expect(x, saturate);
      const int want_neg = ref.expect(-x, saturate);
      const int got_pos = minifloat_encode<F>(x, saturate), got_neg = minifloat_encode<F>(-x, saturate);
      if ((got_pos != want_pos || got_neg != want_neg) && ++failures <= 10)
        ADD_FAILURE() << F::kFormat.name << " saturate " << saturate << ": x = " << std::hexfloat << x << " gives "
                      << std::hex << got_pos << " / " << got_neg << " (-x), expected " << want_pos << " / " << want_neg;
    };
    ref.restart();
    for (std::uint32_t b : probes) check(b);
    ref.restart();
    for (std::uint64_t b = 0; b < 0x7f800000u; b += stride) check(static_cast<std::uint32_t>(b));
    EXPECT_EQ(failures, 0u) << F::kFormat.name << " saturate " << saturate;
  }
}

std::uint32_t sweep_stride() {
  const char* all = std::getenv("EIGENQ_EXHAUSTIVE");
  if (all != nullptr && std::string(all) == "1") return 1;
#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__)
  return 1021;  // about 2 million floats per format and mode: under a second (qemu runs it too)
#else
  return 4099;
#endif
}

template <class F>
class MinifloatTest : public ::testing::Test {};
using Formats =
    ::testing::Types<Float8E4M3FN, Float8E4M3FNUZ, Float8E5M2, Float8E5M2FNUZ, Float6E2M3, Float6E3M2, Float4E2M1>;
TYPED_TEST_SUITE(MinifloatTest, Formats);

TYPED_TEST(MinifloatTest, EveryCodeDecodesToTheSpecificationValue) { check_decode<TypeParam>(); }
TYPED_TEST(MinifloatTest, NaNAndInfinities) { check_encode_specials<TypeParam>(); }
TYPED_TEST(MinifloatTest, EncodesToTheNearestValueTiesToEven) { check_encode<TypeParam>(sweep_stride()); }

TEST(Minifloat, DecodeEncodeRoundTripsEveryCode) {
  auto round_trip = [](auto format) {
    using F = decltype(format);
    for (int code = 0; code < (1 << F::kFormat.bits()); ++code) {
      const float v = minifloat_decode<F>(static_cast<std::uint8_t>(code));
      if (std::isnan(v)) continue;
      if (std::isinf(v)) {
        EXPECT_EQ(minifloat_encode<F>(v, false), code) << F::kFormat.name;
        continue;
      }
      EXPECT_EQ(minifloat_encode<F>(v, true), code) << F::kFormat.name;
      EXPECT_EQ(minifloat_encode<F>(v, false), code) << F::kFormat.name;
    }
  };
  round_trip(Float8E4M3FN{});
  round_trip(Float8E4M3FNUZ{});
  round_trip(Float8E5M2{});
  round_trip(Float8E5M2FNUZ{});
  round_trip(Float6E2M3{});
  round_trip(Float6E3M2{});
  round_trip(Float4E2M1{});
}

// Worked values from the specifications' tables.
TEST(Minifloat, SpecificationExamples) {
  EXPECT_EQ(minifloat_encode<Float8E4M3FN>(448.0f), 0x7E);
  EXPECT_EQ(minifloat_encode<Float8E4M3FN>(464.0f, false), 0x7E);  // the tie goes to 448's even mantissa
  EXPECT_EQ(minifloat_encode<Float8E4M3FN>(465.0f, false), 0x7F);  // NaN
  EXPECT_EQ(minifloat_encode<Float8E4M3FN>(465.0f, true), 0x7E);
  EXPECT_EQ(minifloat_encode<Float8E5M2>(57344.0f), 0x7B);
  EXPECT_EQ(minifloat_encode<Float8E5M2>(61440.0f, false), 0x7C);  // the tie with 2^16 rounds to inf
  EXPECT_EQ(minifloat_encode<Float8E5M2>(61439.0f, false), 0x7B);
  EXPECT_EQ(minifloat_encode<Float8E4M3FNUZ>(-0.0f), 0x00);
  EXPECT_EQ(minifloat_encode<Float8E4M3FN>(-0.0f), 0x80);
  EXPECT_EQ(minifloat_encode<Float8E4M3FNUZ>(-1e-30f), 0x00);
  // FP4 E2M1: {0, 0.5, 1, 1.5, 2, 3, 4, 6}
  const float fp4[] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
  for (int code = 0; code < 8; ++code) {
    EXPECT_EQ(minifloat_decode<Float4E2M1>(static_cast<std::uint8_t>(code)), fp4[code]);
    EXPECT_EQ(minifloat_decode<Float4E2M1>(static_cast<std::uint8_t>(code | 8)), -fp4[code]);
  }
  EXPECT_EQ(minifloat_encode<Float4E2M1>(5.0f), 0x6);   // tie between 4 (even) and 6
  EXPECT_EQ(minifloat_encode<Float4E2M1>(2.5f), 0x4);   // tie between 2 (even) and 3
  EXPECT_EQ(minifloat_encode<Float4E2M1>(0.25f), 0x0);  // tie between 0 (even) and 0.5
  EXPECT_EQ(minifloat_encode<Float4E2M1>(-100.0f, false), 0xF);
  EXPECT_EQ(minifloat_decode<Float6E2M3>(0x1F), 7.5f);
  EXPECT_EQ(minifloat_decode<Float6E3M2>(0x1F), 28.0f);
}

TEST(Minifloat, E8M0) {
  for (int code = 0; code < 255; ++code)
    EXPECT_EQ(static_cast<double>(E8M0::decode(static_cast<std::uint8_t>(code))), std::ldexp(1.0, code - 127)) << code;
  EXPECT_TRUE(std::isnan(E8M0::decode(0xFF)));
  EXPECT_EQ(E8M0::from_exponent(0), 127);
  EXPECT_EQ(E8M0::from_exponent(-127), 0);
  EXPECT_EQ(E8M0::from_exponent(-300), 0);
  EXPECT_EQ(E8M0::from_exponent(127), 254);
  EXPECT_EQ(E8M0::from_exponent(128), 254);
}

}  // namespace
}  // namespace eigenq
