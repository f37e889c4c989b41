// The MX block formats and NVFP4 (mx.hpp) against a reference written here from the
// OCP Microscaling v1.0 specification's conversion (section 6.3), in double
// precision: the shared exponent from floor(log2(max |V|)) and emax_elem
// (quoted per format from the specification's tables), and each element the
// nearest of the element format's values (the code table minifloat_test
// checks), ties to the even code, clamped to the largest normal. Plus
// worked examples computed by hand, and the refusals.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "eigenq/mx.hpp"

namespace eigenq {
namespace {

// emax_elem from the specification's element tables.
template <class E>
int emax();
template <>
int emax<Float8E4M3FN>() {
  return 8;
}
template <>
int emax<Float8E5M2>() {
  return 15;
}
template <>
int emax<Float6E2M3>() {
  return 2;
}
template <>
int emax<Float6E3M2>() {
  return 4;
}
template <>
int emax<Float4E2M1>() {
  return 2;
}
template <>
int emax<MxInt8>() {
  return 0;
}

struct Candidate {
  double value;
  int code;
};

// The element format's finite values and their codes.
template <class E>
std::vector<Candidate> candidates() {
  std::vector<Candidate> out;
  if constexpr (std::is_same_v<E, MxInt8>) {
    for (int k = -127; k <= 127; ++k) out.push_back({k / 64.0, k & 0xFF});
  } else {
    for (int code = 0; code < (1 << E::kFormat.bits()); ++code) {
      const float v = minifloat_decode<E>(static_cast<std::uint8_t>(code));
      if (std::isfinite(v)) out.push_back({v, code});
    }
  }
  return out;
}

// The value the specification's conversion gives element v (already V / X).
template <class E>
double reference_element(double v, const std::vector<Candidate>& values) {
  double best = 0, max = 0;
  int best_code = -1;
  for (const Candidate& c : values) max = std::max(max, c.value);
  if (v >= max) return max;  // clamped to the largest normal
  if (v <= -max) return -max;
  for (const Candidate& c : values) {
    const double d = std::fabs(c.value - v), bd = std::fabs(best - v);
    if (best_code < 0 || d < bd || (d == bd && c.value != best && c.code % 2 == 0)) {
      best = c.value;
      best_code = c.code;
    }
  }
  return best;
}

struct Reference {
  std::vector<std::uint8_t> scales;  // E8M0 codes
  std::vector<double> y;             // the dequantized values
};

// x as a row-major [rows, cols] matrix with blocks along `axis`.
template <class E>
Reference reference(const std::vector<float>& x, std::int64_t rows, std::int64_t cols, int axis, std::int64_t block) {
  const std::vector<Candidate> values = candidates<E>();
  const std::int64_t along = axis == 1 ? cols : rows, across = axis == 1 ? rows : cols;
  const std::int64_t nb = (along + block - 1) / block;
  Reference ref;
  ref.y.assign(x.size(), 0.0);
  ref.scales.assign(static_cast<std::size_t>(across * nb), 0);
  auto at = [&](std::int64_t line, std::int64_t j) {
    return static_cast<std::size_t>(axis == 1 ? line * cols + j : j * cols + line);
  };
  auto scale_at = [&](std::int64_t line, std::int64_t b) {
    return static_cast<std::size_t>(axis == 1 ? line * nb + b : b * cols + line);
  };
  for (std::int64_t line = 0; line < across; ++line) {
    for (std::int64_t b = 0; b < nb; ++b) {
      const std::int64_t first = b * block, last = std::min(along, first + block);
      double amax = 0;
      bool special = false;
      for (std::int64_t j = first; j < last; ++j) {
        const double v = x[at(line, j)];
        if (!std::isfinite(v)) special = true;
        amax = std::max(amax, std::fabs(v));
      }
      if (special) {
        ref.scales[scale_at(line, b)] = 0xFF;
        for (std::int64_t j = first; j < last; ++j) ref.y[at(line, j)] = NAN;
        continue;
      }
      if (amax == 0) amax = std::ldexp(1.0, -126);
      int e = static_cast<int>(std::floor(std::log2(amax))) - emax<E>();
      e = std::max(-127, std::min(127, e));
      ref.scales[scale_at(line, b)] = static_cast<std::uint8_t>(e + 127);
      for (std::int64_t j = first; j < last; ++j) {
        const double v = std::ldexp(static_cast<double>(x[at(line, j)]), -e);
        ref.y[at(line, j)] = std::ldexp(reference_element<E>(v, values), e);
      }
    }
  }
  return ref;
}

// Values over the element format's range around a few magnitudes, with
// ties after scaling, zeros, subnormals and specials in some blocks.
std::vector<float> test_values(std::int64_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::uniform_int_distribution<int> exponent(-20, 20), pick(0, 15);
  std::vector<float> x(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < x.size(); ++i) {
    const int kind = pick(rng);
    if (kind == 0)
      x[i] = std::ldexp(static_cast<float>(static_cast<int>(unit(rng) * 16)) + 0.5f, exponent(rng) / 4);  // ties
    else if (kind == 1)
      x[i] = 0.0f;
    else
      x[i] = std::ldexp(unit(rng), exponent(rng));
  }
  return x;
}

template <class E>
void check_against_reference(std::vector<float> x, std::int64_t rows, std::int64_t cols, int axis, std::int64_t block,
                             const std::string& what) {
  const Shape shape = Shape::row_major({rows, cols});
  const Reference ref = reference<E>(x, rows, cols, axis, block);
  std::vector<std::uint8_t> elements(x.size()), scales(ref.scales.size());
  ASSERT_TRUE(mx_quantize<E>(x.data(), elements.data(), scales.data(), shape, axis, block).is_ok());
  EXPECT_EQ(scales, ref.scales) << what;
  std::vector<float> y(x.size());
  ASSERT_TRUE(mx_dequantize<E>(elements.data(), scales.data(), y.data(), shape, axis, block).is_ok());
  int failures = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const bool ok = std::isnan(ref.y[i])
                        ? std::isnan(y[i])
                        : static_cast<double>(y[i]) == ref.y[i] &&
                              (ref.y[i] != 0 || std::is_same_v<E, MxInt8> || std::signbit(y[i]) == std::signbit(x[i]));
    if (!ok && ++failures <= 10)
      ADD_FAILURE() << what << " element " << i << ": x = " << std::hexfloat << x[i] << " gives " << y[i]
                    << ", reference " << ref.y[i];
  }
}

template <class E>
class MxTest : public ::testing::Test {};
using Elements = ::testing::Types<Float8E4M3FN, Float8E5M2, Float6E2M3, Float6E3M2, Float4E2M1, MxInt8>;
TYPED_TEST_SUITE(MxTest, Elements);

TYPED_TEST(MxTest, MatchesTheSpecificationConversion) {
  // Blocks along the contiguous axis, with a ragged last block.
  check_against_reference<TypeParam>(test_values(3 * 100, 1), 3, 100, 1, 32, "[3, 100] axis 1");
  // Blocks across rows (each step along the axis a whole row).
  check_against_reference<TypeParam>(test_values(70 * 5, 2), 70, 5, 0, 32, "[70, 5] axis 0");
  // Special blocks: all zero, NaN, +-inf, a float32-subnormal maximum, huge.
  std::vector<float> x = test_values(8 * 32, 3);
  for (int j = 0; j < 32; ++j) {
    x[static_cast<std::size_t>(j)] = 0.0f;
    x[static_cast<std::size_t>(32 * 4 + j)] = std::ldexp(static_cast<float>(j), -140);
    x[static_cast<std::size_t>(32 * 5 + j)] = 3e38f * (j % 2 ? -1.0f : 1.0f) / static_cast<float>(j + 1);
  }
  x[32 + 7] = NAN;
  x[64 + 31] = INFINITY;
  x[96] = -INFINITY;
  x[32 * 6 + 3] = std::numeric_limits<float>::max();
  check_against_reference<TypeParam>(x, 8, 32, 1, 32, "special blocks");
  // Other block sizes.
  check_against_reference<TypeParam>(test_values(2 * 50, 4), 2, 50, 1, 16, "block 16");
  check_against_reference<TypeParam>(test_values(4 * 9, 5), 4, 9, 1, 1, "block 1");
}

// Tensors larger than one slice of the block loops (mx.hpp's
// kBlockSlice): slices of whole blocks along the contiguous axis and
// across rows, and blocks along an outer axis too long for the stack
// scratch (one heap buffer).
TYPED_TEST(MxTest, LargeTensorsMatchTheConversion) {
  check_against_reference<TypeParam>(test_values(3 * 5000, 8), 3, 5000, 1, 32, "[3, 5000] axis 1");
  check_against_reference<TypeParam>(test_values(5000 * 3, 9), 5000, 3, 0, 32, "[5000, 3] axis 0");
  check_against_reference<TypeParam>(test_values(64 * 3000, 10), 64, 3000, 0, 32, "[64, 3000] axis 0");
  check_against_reference<TypeParam>(test_values(2 * 4099, 11), 2, 4099, 1, 1, "[2, 4099] block 1");
}

// Worked by hand from the specification's rule.
TEST(Mx, WorkedExamples) {
  // MXFP4: max |V| = 7, floor(log2 7) = 2 = emax_elem, so X = 1; 7 clamps
  // to 6; 5 ties between 4 (code 6, even) and 6; 0.25 ties to 0; 0.75 to 1.
  const float x[8] = {7, 5, -0.75f, 0.25f, 1.5f, -3, 0, -6};
  std::uint8_t p[8], s = 0;
  ASSERT_TRUE(mx_quantize<Float4E2M1>(x, p, &s, Shape::row_major({8}), 0).is_ok());
  EXPECT_EQ(s, 127);
  const std::uint8_t want[8] = {0x7, 0x6, 0xA, 0x0, 0x3, 0xD, 0x0, 0xF};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(p[i], want[i]) << i;
  // MXFP8 E4M3: max 1000, floor(log2 1000) = 9, X = 2^(9 - 8) = 2; 1000 / 2
  // = 500 clamps to 448, read back as 896.
  const float big[2] = {1000, 3};
  std::uint8_t q[3];
  ASSERT_TRUE(mx_quantize<Float8E4M3FN>(big, q, &s, Shape::row_major({2}), 0).is_ok());
  EXPECT_EQ(s, 128);
  float y[3];
  ASSERT_TRUE(mx_dequantize<Float8E4M3FN>(q, &s, y, Shape::row_major({2}), 0).is_ok());
  EXPECT_EQ(y[0], 896.0f);
  EXPECT_EQ(y[1], 3.0f);
  // MXINT8: max 1, X = 2^0; 0.5 is 32 / 64; -1.0 is -64; 1.99 clamps to 127.
  const float ints[3] = {0.5f, -1.0f, 0.3f};
  ASSERT_TRUE(mx_quantize<MxInt8>(ints, q, &s, Shape::row_major({3}), 0).is_ok());
  EXPECT_EQ(s, 127);
  EXPECT_EQ(q[0], 32);
  EXPECT_EQ(static_cast<std::int8_t>(q[1]), -64);
  // A NaN makes the block's scale NaN, and every element reads back NaN.
  const float with_nan[3] = {1, NAN, 2};
  ASSERT_TRUE(mx_quantize<Float8E5M2>(with_nan, q, &s, Shape::row_major({3}), 0).is_ok());
  EXPECT_EQ(s, 0xFF);
  ASSERT_TRUE(mx_dequantize<Float8E5M2>(q, &s, y, Shape::row_major({2}), 0).is_ok());
  EXPECT_TRUE(std::isnan(y[0]) && std::isnan(y[1]));
}

// The scale modes (MxScaleMode) against their definitions in real numbers
// (torchao's ScaleCalculationMode, NVIDIA's RCEIL), through frexp: a
// normal float's floor(log2) is e - 1 for its frexp exponent e. Magnitudes
// across float32's range, powers of two and their neighbours, and every
// mode through mx_quantize / mx_fake_quantize_mask.
template <class E>
int mantissa_bits() {
  if constexpr (std::is_same_v<E, MxInt8>)
    return 6;
  else
    return E::kFormat.mantissa_bits;
}

template <class E>
float largest() {
  if constexpr (std::is_same_v<E, MxInt8>)
    return 127.0f / 64.0f;
  else
    return minifloat_decode<E>(static_cast<std::uint8_t>(E::kFormat.max_magnitude()));
}

int clamp_exponent(int e) { return e < -127 ? -127 : e > 127 ? 127 : e; }

// The code each mode gives a normal, finite amax > 0.
template <class E>
int expected_code(float amax, MxScaleMode mode) {
  int e = 0;
  const double m = std::frexp(static_cast<double>(amax), &e);  // amax = m * 2^e, m in [0.5, 1)
  switch (mode) {
    case MxScaleMode::kFloor:
      return clamp_exponent(e - 1 - emax<E>()) + 127;
    case MxScaleMode::kCeil:
      return clamp_exponent((m == 0.5 ? e - 1 : e) - emax<E>()) + 127;
    case MxScaleMode::kEven: {  // m rounded to M + 1 significant bits, half up
      const double units = std::ldexp(m, mantissa_bits<E>() + 1);
      const bool carries = std::floor(units + 0.5) == std::ldexp(1.0, mantissa_bits<E>() + 1);
      return clamp_exponent(e - 1 + (carries ? 1 : 0) - emax<E>()) + 127;
    }
    case MxScaleMode::kRceil: {
      const float descale = amax * (1.0f / largest<E>());
      if (descale == 0.0f) return 0;
      int d = 0;
      const double dm = std::frexp(static_cast<double>(descale), &d);
      return clamp_exponent(dm == 0.5 ? d - 1 : d) + 127;
    }
  }
  return -1;
}

constexpr MxScaleMode kModes[] = {MxScaleMode::kFloor, MxScaleMode::kCeil, MxScaleMode::kEven, MxScaleMode::kRceil};

TYPED_TEST(MxTest, ScaleModesMatchTheirDefinitions) {
  using E = TypeParam;
  std::vector<float> amax;
  for (int e = -126; e <= 127; ++e) {
    const float p = std::ldexp(1.0f, e);
    amax.push_back(p);
    amax.push_back(std::nextafter(p, 0.0f));
    amax.push_back(std::nextafter(p, INFINITY));
    amax.push_back(p * 1.5f);
    amax.push_back(p * largest<E>() / 4.0f);
  }
  std::mt19937 rng(21);
  std::uniform_int_distribution<std::uint32_t> bits(0x00800000u, 0x7F7FFFFFu);  // positive normal floats
  for (int i = 0; i < 20000; ++i) {
    const std::uint32_t b = bits(rng);
    float v;
    std::memcpy(&v, &b, sizeof v);
    amax.push_back(v);
  }
  for (MxScaleMode mode : kModes) {
    int failures = 0;
    for (float a : amax) {
      if (!std::isfinite(a) || a < std::numeric_limits<float>::min()) continue;
      const int got = mx_scale_code<E>(a, mode), want = expected_code<E>(a, mode);
      if (got != want && ++failures <= 5)
        ADD_FAILURE() << "mode " << static_cast<int>(mode) << " amax " << std::hexfloat << a << ": code " << got
                      << ", expected " << want;
    }
    // Beyond the normal range: NaN and +-inf give the NaN code; zero and
    // float32 subnormals the smallest scale but where a mode's rounding
    // lifts them (CEIL counts a subnormal as 2^-126; EVEN and RCEIL round).
    EXPECT_EQ(mx_scale_code<E>(NAN, mode), E8M0::kNaN);
    EXPECT_EQ(mx_scale_code<E>(INFINITY, mode), E8M0::kNaN);
    EXPECT_EQ(mx_scale_code<E>(0.0f, mode), mode == MxScaleMode::kFloor && emax<E>() == 0 ? 1 : 0);
    EXPECT_LE(mx_scale_code<E>(std::ldexp(1.0f, -140), mode), 1);
  }
  // kFloor is the specification's rule (mx_scale_code(amax, emax)).
  for (float a : amax) EXPECT_EQ(mx_scale_code<E>(a, MxScaleMode::kFloor), mx_scale_code(a, emax<E>()));
}

TYPED_TEST(MxTest, ScaleModesThroughQuantizeAndFakeQuantize) {
  using E = TypeParam;
  const std::vector<float> x = test_values(4 * 96, 12);
  const Shape shape = Shape::row_major({4, 96});
  for (MxScaleMode mode : kModes) {
    std::vector<std::uint8_t> elements(x.size()), scales(12), mask(x.size());
    ASSERT_TRUE(mx_quantize<E>(x.data(), elements.data(), scales.data(), shape, 1, 32, mode).is_ok());
    std::vector<float> y(x.size()), fake(x.size());
    ASSERT_TRUE(mx_dequantize<E>(elements.data(), scales.data(), y.data(), shape, 1, 32).is_ok());
    ASSERT_TRUE(mx_fake_quantize_mask<E>(x.data(), fake.data(), mask.data(), shape, 1, 32, mode).is_ok());
    for (std::size_t k = 0; k < scales.size(); ++k) {
      float m = 0.0f;
      for (std::size_t j = 0; j < 32; ++j) m = std::max(m, std::fabs(x[k * 32 + j]));
      EXPECT_EQ(scales[k], mx_scale_code<E>(m, mode)) << "block " << k;
    }
    for (std::size_t i = 0; i < x.size(); ++i) {
      ASSERT_EQ(detail::float_bits(fake[i]), detail::float_bits(y[i])) << "mode " << static_cast<int>(mode) << " " << i;
      // CEIL maps every block maximum within the elements' largest normal:
      // nothing is clamped.
      if (mode == MxScaleMode::kCeil) {
        EXPECT_EQ(mask[i], 1) << i;
      }
    }
  }
  std::vector<std::uint8_t> elements(x.size()), scales(12);
  const Status bad =
      mx_quantize<E>(x.data(), elements.data(), scales.data(), shape, 1, 32, static_cast<MxScaleMode>(7));
  EXPECT_FALSE(bad.is_ok());
  EXPECT_NE(bad.message().find("MX scale mode 7"), std::string::npos) << bad.message();
}

// Worked by hand: E4M3 (emax 8, largest 448) and E2M1 (emax 2, largest 6).
TEST(Mx, ScaleModeWorkedExamples) {
  // 500 = 1.953125 * 2^8. FLOOR: 2^(8 - 8) = 1 (500 clamps to 448). CEIL:
  // 2^(9 - 8). EVEN: 1.111101b rounds at 3 bits to 10.000b, 2^9: 2^1.
  // RCEIL: 500 / 448 = 1.12, up to 2^1.
  EXPECT_EQ(mx_scale_code<Float8E4M3FN>(500.0f, MxScaleMode::kFloor), 127);
  EXPECT_EQ(mx_scale_code<Float8E4M3FN>(500.0f, MxScaleMode::kCeil), 128);
  EXPECT_EQ(mx_scale_code<Float8E4M3FN>(500.0f, MxScaleMode::kEven), 128);
  EXPECT_EQ(mx_scale_code<Float8E4M3FN>(500.0f, MxScaleMode::kRceil), 128);
  // 5 = 1.25 * 2^2. FLOOR 2^0; CEIL 2^1; EVEN: 1.01b at 1 bit rounds
  // half up to 1.1b, still 2^2: 2^0; RCEIL: 5 / 6 below 1: 2^0.
  EXPECT_EQ(mx_scale_code<Float4E2M1>(5.0f, MxScaleMode::kFloor), 127);
  EXPECT_EQ(mx_scale_code<Float4E2M1>(5.0f, MxScaleMode::kCeil), 128);
  EXPECT_EQ(mx_scale_code<Float4E2M1>(5.0f, MxScaleMode::kEven), 127);
  EXPECT_EQ(mx_scale_code<Float4E2M1>(5.0f, MxScaleMode::kRceil), 127);
  // 7 = 1.75 * 2^2: EVEN rounds 1.11b up to 10.0b: 2^(3 - 2).
  EXPECT_EQ(mx_scale_code<Float4E2M1>(7.0f, MxScaleMode::kEven), 128);
  // A power of two: CEIL adds nothing. 4 = 2^2: 2^0 in every mode.
  for (MxScaleMode mode : kModes) EXPECT_EQ(mx_scale_code<Float4E2M1>(4.0f, mode), 127);
  // RCEIL at float32's largest value (just under 2^128): / 6 is under
  // 2^126, up to 2^126.
  EXPECT_EQ(mx_scale_code<Float4E2M1>(std::numeric_limits<float>::max(), MxScaleMode::kRceil), 253);
}

// NVFP4 against the same kind of reference: the scale rule (torchao's, in
// float32 as it is written) with E4M3 and E2M1 rounding done by nearest
// search in double.
void check_nvfp4(const std::vector<float>& x, std::int64_t rows, std::int64_t cols, float per_tensor_scale,
                 const std::string& what) {
  const std::vector<Candidate> e4m3 = candidates<Float8E4M3FN>(), e2m1 = candidates<Float4E2M1>();
  const std::int64_t nb = (cols + 15) / 16;
  std::vector<std::uint8_t> elements(x.size()), scales(static_cast<std::size_t>(rows * nb));
  const Shape shape = Shape::row_major({rows, cols});
  ASSERT_TRUE(nvfp4_quantize(x.data(), elements.data(), scales.data(), shape, 1, per_tensor_scale).is_ok());
  std::vector<float> y(x.size());
  ASSERT_TRUE(nvfp4_dequantize(elements.data(), scales.data(), y.data(), shape, 1, per_tensor_scale).is_ok());
  int failures = 0;
  for (std::int64_t row = 0; row < rows; ++row) {
    for (std::int64_t b = 0; b < nb; ++b) {
      const std::int64_t first = b * 16, last = std::min(cols, first + 16);
      float amax = 0;
      for (std::int64_t j = first; j < last; ++j) {
        const float a = std::fabs(x[static_cast<std::size_t>(row * cols + j)]);
        amax = std::isnan(amax) || std::isnan(a) ? NAN : std::max(amax, a);
      }
      const std::size_t k = static_cast<std::size_t>(row * nb + b);
      const float got_scale = minifloat_decode<Float8E4M3FN>(scales[k]);
      if (std::isnan(amax)) {
        EXPECT_TRUE(std::isnan(got_scale)) << what << " block " << k;
        continue;
      }
      const float s = std::min(448.0f, std::max(0x1p-6f, amax / 6.0f / per_tensor_scale));
      const float s8 = static_cast<float>(reference_element<Float8E4M3FN>(s, e4m3));
      EXPECT_EQ(got_scale, s8) << what << " block " << k << ": amax " << amax;
      const float total = per_tensor_scale * s8;
      for (std::int64_t j = first; j < last; ++j) {
        const std::size_t i = static_cast<std::size_t>(row * cols + j);
        const float want = static_cast<float>(reference_element<Float4E2M1>(x[i] / total, e2m1)) * total;
        if (!(y[i] == want && (want != 0 || std::signbit(y[i]) == std::signbit(x[i] / total))) && ++failures <= 10)
          ADD_FAILURE() << what << " element " << i << ": x = " << std::hexfloat << x[i] << " gives " << y[i]
                        << ", reference " << want;
      }
    }
  }
}

TEST(Nvfp4, MatchesTheScaleRule) {
  std::vector<float> x = test_values(6 * 50, 7);
  for (int j = 0; j < 50; ++j) x[static_cast<std::size_t>(j)] = 0.0f;  // an all-zero row
  x[60] = NAN;
  x[120] = INFINITY;
  float amax = 0;
  for (float v : x)
    if (std::isfinite(v)) amax = std::max(amax, std::fabs(v));
  check_nvfp4(x, 6, 50, 1.0f, "single-level");
  check_nvfp4(x, 6, 50, nvfp4_per_tensor_scale(amax), "two-level");
  check_nvfp4(x, 6, 50, 0.37f, "per-tensor scale 0.37");
  check_nvfp4(test_values(5 * 3001, 12), 5, 3001, 1.0f, "[5, 3001], several slices");
}

TEST(Nvfp4, WorkedExamples) {
  // amax 6, single-level: s = 6 / 6 = 1 (E4M3 0x38); elements are x
  // rounded on E2M1's grid: 5 ties to 4 (code 6), -0.75 to -1 (code 0xA).
  float x[16] = {6, 5, -0.75f, 3, 0.1f};
  std::uint8_t e[16], s = 0;
  ASSERT_TRUE(nvfp4_quantize(x, e, &s, Shape::row_major({16}), 0).is_ok());
  EXPECT_EQ(s, 0x38);
  EXPECT_EQ(e[0], 0x7);
  EXPECT_EQ(e[1], 0x6);
  EXPECT_EQ(e[2], 0xA);
  EXPECT_EQ(e[3], 0x5);
  EXPECT_EQ(e[4], 0x0);
  // An all-zero block takes E4M3's smallest normal, 2^-6 (0x08).
  const float zeros[16] = {};
  ASSERT_TRUE(nvfp4_quantize(zeros, e, &s, Shape::row_major({16}), 0).is_ok());
  EXPECT_EQ(s, 0x08);
  // The per-tensor scale of amax 2688 is 1.
  EXPECT_EQ(nvfp4_per_tensor_scale(2688.0f), 1.0f);
  // Refusals: a per-tensor scale of 0, a negative block scale.
  Status st = nvfp4_quantize(x, e, &s, Shape::row_major({16}), 0, 0.0f);
  EXPECT_NE(st.message().find("per_tensor_scale = 0 must be finite and > 0"), std::string::npos) << st.message();
  const std::uint8_t negative = 0xB8;
  float y[16];
  st = nvfp4_dequantize(e, &negative, y, Shape::row_major({16}), 0);
  EXPECT_NE(st.message().find("scales[0] = 184 has its sign bit set"), std::string::npos) << st.message();
}

// ---------------------------------------------------------------------------
// Packed elements

// The packed order written bit by bit: bit t of element i is bit
// bits * i + t of the little-endian bit stream the bytes form.
std::vector<std::uint8_t> reference_pack(const std::vector<std::uint8_t>& codes, int bits) {
  std::vector<std::uint8_t> out((codes.size() * static_cast<std::size_t>(bits) + 7) / 8, 0);
  for (std::size_t i = 0; i < codes.size(); ++i)
    for (int t = 0; t < bits; ++t)
      if ((codes[i] >> t) & 1) {
        const std::size_t bit = i * static_cast<std::size_t>(bits) + static_cast<std::size_t>(t);
        out[bit / 8] = static_cast<std::uint8_t>(out[bit / 8] | (1u << (bit % 8)));
      }
  return out;
}

struct PackCase {
  std::vector<std::int64_t> dims;
  int axis;
  std::int64_t block;
};

// Odd counts (a partial last group), blocks along a non-last axis, and
// tensors of several slices or of slices too large for the stack scratch.
const std::vector<PackCase>& pack_cases() {
  static const std::vector<PackCase> cases = {
      {{1}, 0, 32},       {{3}, 0, 32},       {{5}, 0, 32},        {{7}, 0, 32},      {{33}, 0, 32},
      {{3, 5}, 1, 32},    {{3, 5}, 0, 2},     {{2, 3, 7}, 1, 4},   {{70, 5}, 0, 32},  {{3, 5001}, 1, 32},
      {{5001, 3}, 0, 32}, {{4097, 3}, 1, 32}, {{64, 3001}, 0, 32}, {{2, 4099}, 1, 1},
  };
  return cases;
}

std::size_t scale_count(const PackCase& c) {
  std::size_t count = 1;
  for (std::size_t d = 0; d < c.dims.size(); ++d)
    count *= static_cast<std::size_t>(static_cast<int>(d) == c.axis ? (c.dims[d] + c.block - 1) / c.block : c.dims[d]);
  return count;
}

Shape shape_of(const PackCase& c) {
  return Shape::from(c.dims.begin(), static_cast<int>(c.dims.size()), Layout::kRowMajor);
}

std::string describe(const PackCase& c) {
  std::string s = "[";
  for (std::size_t d = 0; d < c.dims.size(); ++d) s += (d ? ", " : "") + std::to_string(c.dims[d]);
  return s + "] axis " + std::to_string(c.axis) + " block " + std::to_string(c.block);
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

constexpr std::size_t kGuard = 16;
constexpr std::uint8_t kGuardByte = 0xA5;

// The packed entry points against the unpacked ones: the packed bytes are
// reference_pack(unpacked codes) and the scales the same, the round trip
// the unpacked dequantize bit for bit; nothing written past the buffers.
template <class Quantize, class QuantizePacked, class Dequantize, class DequantizePacked>
void check_packed(const PackCase& c, int bits, std::size_t packed_bytes, std::vector<float> x, Quantize quantize,
                  QuantizePacked quantize_packed, Dequantize dequantize, DequantizePacked dequantize_packed) {
  const std::string what = describe(c);
  const std::size_t n = x.size(), nb = scale_count(c);
  std::vector<std::uint8_t> elements(n), scales(nb);
  ASSERT_TRUE(quantize(x.data(), elements.data(), scales.data()).is_ok()) << what;
  const std::vector<std::uint8_t> want = reference_pack(elements, bits);
  ASSERT_EQ(packed_bytes, want.size()) << what;

  std::vector<std::uint8_t> packed(packed_bytes + kGuard, kGuardByte), packed_scales(nb + kGuard, kGuardByte);
  ASSERT_TRUE(quantize_packed(x.data(), packed.data(), packed_scales.data()).is_ok()) << what;
  EXPECT_TRUE(std::equal(want.begin(), want.end(), packed.begin())) << what;
  EXPECT_TRUE(std::equal(scales.begin(), scales.end(), packed_scales.begin())) << what;
  for (std::size_t g = 0; g < kGuard; ++g) {
    EXPECT_EQ(packed[packed_bytes + g], kGuardByte) << what << ": written past the packed bytes";
    EXPECT_EQ(packed_scales[nb + g], kGuardByte) << what << ": written past the scales";
  }

  std::vector<float> y(n), y_packed(n + kGuard, -7.0f);
  ASSERT_TRUE(dequantize(elements.data(), scales.data(), y.data()).is_ok()) << what;
  ASSERT_TRUE(dequantize_packed(packed.data(), scales.data(), y_packed.data()).is_ok()) << what;
  for (std::size_t g = 0; g < kGuard; ++g) EXPECT_EQ(y_packed[n + g], -7.0f) << what << ": written past y";
  y_packed.resize(n);
  EXPECT_TRUE(same_bits(y, y_packed)) << what;
}

// Inputs with a NaN and an infinity in some tensors.
std::vector<float> pack_values(const PackCase& c, std::uint32_t seed) {
  std::int64_t n = 1;
  for (std::int64_t d : c.dims) n *= d;
  std::vector<float> x = test_values(n, seed);
  if (n > 40) {
    x[17] = NAN;
    x[static_cast<std::size_t>(n - 3)] = -INFINITY;
  }
  return x;
}

template <class E>
class MxPackedTest : public ::testing::Test {};
using PackedElements = ::testing::Types<Float6E2M3, Float6E3M2, Float4E2M1>;
TYPED_TEST_SUITE(MxPackedTest, PackedElements);

TYPED_TEST(MxPackedTest, PackedIsThePackedUnpackedElements) {
  using E = TypeParam;
  std::uint32_t seed = 20;
  for (const PackCase& c : pack_cases()) {
    const Shape shape = shape_of(c);
    std::size_t bytes = 0;
    ASSERT_TRUE(mx_packed_bytes<E>(shape, &bytes).is_ok());
    check_packed(
        c, E::kFormat.bits(), bytes, pack_values(c, seed++),
        [&](const float* x, std::uint8_t* e, std::uint8_t* s) {
          return mx_quantize<E>(x, e, s, shape, c.axis, c.block);
        },
        [&](const float* x, std::uint8_t* p, std::uint8_t* s) {
          return mx_quantize_packed<E>(x, p, s, shape, c.axis, c.block);
        },
        [&](const std::uint8_t* e, const std::uint8_t* s, float* y) {
          return mx_dequantize<E>(e, s, y, shape, c.axis, c.block);
        },
        [&](const std::uint8_t* p, const std::uint8_t* s, float* y) {
          return mx_dequantize_packed<E>(p, s, y, shape, c.axis, c.block);
        });
  }
}

TEST(Nvfp4, PackedIsThePackedUnpackedElements) {
  std::uint32_t seed = 40;
  for (const PackCase& base : pack_cases()) {
    for (float per_tensor_scale : {1.0f, 0.37f}) {
      PackCase c = base;
      if (c.block == 32) c.block = kNvfp4BlockSize;
      const Shape shape = shape_of(c);
      std::size_t bytes = 0;
      ASSERT_TRUE(mx_packed_bytes<Float4E2M1>(shape, &bytes).is_ok());
      check_packed(
          c, 4, bytes, pack_values(c, seed++),
          [&](const float* x, std::uint8_t* e, std::uint8_t* s) {
            return nvfp4_quantize(x, e, s, shape, c.axis, per_tensor_scale, c.block);
          },
          [&](const float* x, std::uint8_t* p, std::uint8_t* s) {
            return nvfp4_quantize_packed(x, p, s, shape, c.axis, per_tensor_scale, c.block);
          },
          [&](const std::uint8_t* e, const std::uint8_t* s, float* y) {
            return nvfp4_dequantize(e, s, y, shape, c.axis, per_tensor_scale, c.block);
          },
          [&](const std::uint8_t* p, const std::uint8_t* s, float* y) {
            return nvfp4_dequantize_packed(p, s, y, shape, c.axis, per_tensor_scale, c.block);
          });
    }
  }
}

// The bit order by hand: FP4 element 2i in the low nibble (PyTorch's
// float4_e2m1fn_x2); FP6 element 4i + j in bits [6j, 6j + 6) of the
// group's three little-endian bytes.
TEST(MxPacked, BitOrder) {
  // MXFP4 of {0.5, 1, 1.5}: X = 2^(0 - 2), codes 4 (2.0), 6 (4.0), 7 (6.0).
  const float x[3] = {0.5f, 1.0f, 1.5f};
  std::uint8_t packed[3] = {0xEE, 0xEE, 0xEE}, s = 0;
  ASSERT_TRUE(mx_quantize_packed<Float4E2M1>(x, packed, &s, Shape::row_major({3}), 0).is_ok());
  EXPECT_EQ(s, 125);
  EXPECT_EQ(packed[0], 0x64);
  EXPECT_EQ(packed[1], 0x07) << "the unused high nibble is zero";
  EXPECT_EQ(packed[2], 0xEE) << "nothing written past ceil(3 / 2) bytes";
  // Each FP6 slot of a group in turn holding 0x3F.
  using Six = detail::PackedBits<6>;
  const std::uint8_t want[4][3] = {{0x3F, 0x00, 0x00}, {0xC0, 0x0F, 0x00}, {0x00, 0xF0, 0x03}, {0x00, 0x00, 0xFC}};
  for (int j = 0; j < 4; ++j) {
    std::uint8_t codes[4] = {0, 0, 0, 0}, out[3] = {0, 0, 0}, back[4] = {9, 9, 9, 9};
    codes[j] = 0x3F;
    Six::pack(codes, 4, out);
    for (int b = 0; b < 3; ++b) EXPECT_EQ(out[b], want[j][b]) << "slot " << j << " byte " << b;
    Six::unpack(out, 4, back);
    for (int k = 0; k < 4; ++k) EXPECT_EQ(back[k], codes[k]) << "slot " << j;
  }
  // Byte counts: ceil(6n / 8) and ceil(n / 2).
  std::size_t bytes = 0;
  const std::int64_t counts[] = {0, 1, 2, 3, 4, 5, 8, 9};
  const std::size_t six[] = {0, 1, 2, 3, 3, 4, 6, 7}, four[] = {0, 1, 1, 2, 2, 3, 4, 5};
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(mx_packed_bytes<Float6E3M2>(Shape::row_major({counts[i]}), &bytes).is_ok());
    EXPECT_EQ(bytes, six[i]) << counts[i];
    ASSERT_TRUE(mx_packed_bytes<Float4E2M1>(Shape::row_major({counts[i]}), &bytes).is_ok());
    EXPECT_EQ(bytes, four[i]) << counts[i];
  }
  // The largest shape: (2^63 - 1) FP4 elements take 2^62 bytes, no overflow.
  const std::int64_t huge = std::numeric_limits<std::int64_t>::max();
  ASSERT_TRUE(mx_packed_bytes<Float4E2M1>(Shape::row_major({huge}), &bytes).is_ok());
  EXPECT_EQ(bytes, std::size_t{1} << 62);
  ASSERT_TRUE(mx_packed_bytes<Float6E2M3>(Shape::row_major({huge}), &bytes).is_ok());
  // 2^63 - 1 = 4k + 3 with k = 2^61 - 1: 3k bytes, and 3 for the last 18 bits.
  EXPECT_EQ(bytes, 3 * (std::size_t{1} << 61));
}

TEST(MxPacked, Refusals) {
  std::size_t bytes = 7;
  Status st = mx_packed_bytes<Float4E2M1>(Shape::row_major({2, -3}), &bytes);
  EXPECT_NE(st.message().find("dimension 1 = -3 is negative"), std::string::npos) << st.message();
  st = mx_packed_bytes<Float4E2M1>(Shape::row_major({2}), nullptr);
  EXPECT_NE(st.message().find("bytes is a null pointer"), std::string::npos) << st.message();
  EXPECT_EQ(bytes, 7u);
  const float x[4] = {1, 2, 3, 4};
  std::uint8_t s[2] = {0, 0};
  st = mx_quantize_packed<Float6E2M3>(x, nullptr, s, Shape::row_major({4}), 0);
  EXPECT_NE(st.message().find("packed is a null pointer"), std::string::npos) << st.message();
  float y[4] = {0, 0, 0, 0};
  st = nvfp4_dequantize_packed(nullptr, s, y, Shape::row_major({4}), 0);
  EXPECT_NE(st.message().find("packed is a null pointer"), std::string::npos) << st.message();
  st = mx_quantize_packed<Float4E2M1>(x, s, s, Shape::row_major({4}), 1);
  EXPECT_EQ(st.code(), StatusCode::kInvalidAxis);
}

// ---------------------------------------------------------------------------
// Fake-quantize and the STE mask

// The scale index of flat (row-major) element i.
std::size_t scale_index(const PackCase& c, std::size_t i) {
  std::size_t index = 0, rest = i, stride = 1;
  std::vector<std::size_t> at(c.dims.size());
  for (std::size_t d = c.dims.size(); d-- > 0;) {
    at[d] = rest % static_cast<std::size_t>(c.dims[d]);
    rest /= static_cast<std::size_t>(c.dims[d]);
  }
  for (std::size_t d = c.dims.size(); d-- > 0;) {
    const bool along = static_cast<int>(d) == c.axis;
    const std::size_t extent = static_cast<std::size_t>(along ? (c.dims[d] + c.block - 1) / c.block : c.dims[d]);
    index += (along ? at[d] / static_cast<std::size_t>(c.block) : at[d]) * stride;
    stride *= extent;
  }
  return index;
}

// fake-quantize against dequantize(quantize()) bit for bit, in place too,
// and the mask against the rule computed here per element: x finite and
// |x / X| <= the largest finite element value, X the block's scale value.
template <class Quantize, class Dequantize, class Fake, class FakeMask, class ScaleValue>
void check_fake_quantize(const PackCase& c, float max_finite, const std::vector<float>& x, Quantize quantize,
                         Dequantize dequantize, Fake fake, FakeMask fake_mask, ScaleValue scale_value) {
  const std::string what = describe(c);
  const std::size_t n = x.size();
  std::vector<std::uint8_t> elements(n), scales(scale_count(c));
  std::vector<float> want(n);
  ASSERT_TRUE(quantize(x.data(), elements.data(), scales.data()).is_ok()) << what;
  ASSERT_TRUE(dequantize(elements.data(), scales.data(), want.data()).is_ok()) << what;

  std::vector<float> y(n, -7.0f), y_mask(n, -7.0f), in_place = x;
  std::vector<std::uint8_t> mask(n + kGuard, kGuardByte);
  ASSERT_TRUE(fake(x.data(), y.data()).is_ok()) << what;
  ASSERT_TRUE(fake_mask(x.data(), y_mask.data(), mask.data()).is_ok()) << what;
  ASSERT_TRUE(fake_mask(in_place.data(), in_place.data(), mask.data()).is_ok()) << what;
  EXPECT_TRUE(same_bits(y, want)) << what;
  EXPECT_TRUE(same_bits(y_mask, want)) << what;
  EXPECT_TRUE(same_bits(in_place, want)) << what << ": in place";
  for (std::size_t g = 0; g < kGuard; ++g) EXPECT_EQ(mask[n + g], kGuardByte) << what << ": written past the mask";
  int failures = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const float scale = scale_value(scales[scale_index(c, i)]);
    const bool pass = std::isfinite(x[i]) && !std::isnan(scale) && std::fabs(x[i] / scale) <= max_finite;
    if (mask[i] != (pass ? 1 : 0) && ++failures <= 10)
      ADD_FAILURE() << what << " element " << i << ": x = " << std::hexfloat << x[i] << ", scale " << scale << ", mask "
                    << int{mask[i]};
  }
}

TYPED_TEST(MxTest, FakeQuantizeIsTheRoundTripWithItsMask) {
  using E = TypeParam;
  double max_finite = 0;
  for (const Candidate& v : candidates<E>()) max_finite = std::max(max_finite, v.value);
  std::uint32_t seed = 60;
  for (const PackCase& c : pack_cases()) {
    const Shape shape = shape_of(c);
    std::vector<float> x = pack_values(c, seed++);
    // Elements beyond the largest value after scaling: a block of 32 whose
    // maximum is 2^k * 1.9 holds values up to 2^k * 1.9 against X's 2^(k - emax).
    for (std::size_t i = 5; i < x.size(); i += 7) x[i] *= 1.9f;
    check_fake_quantize(
        c, static_cast<float>(max_finite), x,
        [&](const float* in, std::uint8_t* e, std::uint8_t* s) {
          return mx_quantize<E>(in, e, s, shape, c.axis, c.block);
        },
        [&](const std::uint8_t* e, const std::uint8_t* s, float* y) {
          return mx_dequantize<E>(e, s, y, shape, c.axis, c.block);
        },
        [&](const float* in, float* y) { return mx_fake_quantize<E>(in, y, shape, c.axis, c.block); },
        [&](const float* in, float* y, std::uint8_t* m) {
          return mx_fake_quantize_mask<E>(in, y, m, shape, c.axis, c.block);
        },
        [](std::uint8_t code) { return code == 0xFF ? NAN : std::ldexp(1.0f, code - 127); });
  }
}

TEST(Nvfp4, FakeQuantizeIsTheRoundTripWithItsMask) {
  std::uint32_t seed = 80;
  for (const PackCase& base : pack_cases()) {
    for (float per_tensor_scale : {1.0f, 0.37f}) {
      PackCase c = base;
      if (c.block == 32) c.block = kNvfp4BlockSize;
      const Shape shape = shape_of(c);
      std::vector<float> x = pack_values(c, seed++);
      if (x.size() > 50) x[50] = INFINITY;  // a finite block scale (448) with a clamped element
      check_fake_quantize(
          c, 6.0f, x,
          [&](const float* in, std::uint8_t* e, std::uint8_t* s) {
            return nvfp4_quantize(in, e, s, shape, c.axis, per_tensor_scale, c.block);
          },
          [&](const std::uint8_t* e, const std::uint8_t* s, float* y) {
            return nvfp4_dequantize(e, s, y, shape, c.axis, per_tensor_scale, c.block);
          },
          [&](const float* in, float* y) {
            return nvfp4_fake_quantize(in, y, shape, c.axis, per_tensor_scale, c.block);
          },
          [&](const float* in, float* y, std::uint8_t* m) {
            return nvfp4_fake_quantize_mask(in, y, m, shape, c.axis, per_tensor_scale, c.block);
          },
          [&](std::uint8_t code) { return per_tensor_scale * minifloat_decode<Float8E4M3FN>(code); });
    }
  }
}

// By hand: MXFP4 of {7, 5, -6.5, 6, 0.1} has X = 1 (floor(log2 7) = 2 =
// emax_elem): 7 and -6.5 are clamped to +-6, mask 0. A block holding +inf
// or NaN reads back NaN, every mask 0.
TEST(Mx, FakeQuantizeMaskWorkedExamples) {
  const float x[5] = {7, 5, -6.5f, 6, 0.1f};
  float y[5];
  std::uint8_t m[5];
  ASSERT_TRUE(mx_fake_quantize_mask<Float4E2M1>(x, y, m, Shape::row_major({5}), 0).is_ok());
  const float want[5] = {6, 4, -6, 6, 0};
  const std::uint8_t want_mask[5] = {0, 1, 0, 1, 1};
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(y[i], want[i]) << i;
    EXPECT_EQ(m[i], want_mask[i]) << i;
  }
  const float special[4] = {1, INFINITY, 2, NAN};
  ASSERT_TRUE(mx_fake_quantize_mask<Float8E4M3FN>(special, y, m, Shape::row_major({2, 2}), 1).is_ok());
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(std::isnan(y[i])) << i;
    EXPECT_EQ(m[i], 0) << i;
  }
  // NVFP4: +inf makes the block scale 448 (amax / 6 clamped); +inf itself
  // reads back 6 * 448 with mask 0, the finite elements 0 with mask 1.
  float nv[16] = {INFINITY, 1.0f, -2.0f};
  float ny[16];
  std::uint8_t nm[16];
  ASSERT_TRUE(nvfp4_fake_quantize_mask(nv, ny, nm, Shape::row_major({16}), 0).is_ok());
  EXPECT_EQ(ny[0], 6.0f * 448.0f);
  EXPECT_EQ(nm[0], 0);
  EXPECT_EQ(ny[1], 0.0f);
  EXPECT_EQ(nm[1], 1);
  EXPECT_EQ(nm[2], 1);
  // Refusals name the buffer.
  Status st = mx_fake_quantize_mask<Float4E2M1>(x, y, nullptr, Shape::row_major({5}), 0);
  EXPECT_NE(st.message().find("mask is a null pointer"), std::string::npos) << st.message();
  st = nvfp4_fake_quantize(x, nullptr, Shape::row_major({5}), 0);
  EXPECT_NE(st.message().find("y is a null pointer"), std::string::npos) << st.message();
  st = nvfp4_fake_quantize(x, y, Shape::row_major({5}), 0, -1.0f);
  EXPECT_NE(st.message().find("per_tensor_scale = -1 must be finite and > 0"), std::string::npos) << st.message();
}

// Empty tensors: every entry point succeeds and touches nothing (null
// buffers are allowed when there are no elements).
TEST(Mx, EmptyTensors) {
  for (const Shape& shape : {Shape::row_major({0}), Shape::row_major({3, 0}), Shape::row_major({0, 40})}) {
    std::size_t bytes = 9;
    ASSERT_TRUE(mx_packed_bytes<Float6E2M3>(shape, &bytes).is_ok());
    EXPECT_EQ(bytes, 0u);
    EXPECT_TRUE(mx_quantize<Float4E2M1>(nullptr, nullptr, nullptr, shape, 1 % shape.rank).is_ok());
    EXPECT_TRUE(mx_quantize_packed<Float6E3M2>(nullptr, nullptr, nullptr, shape, 0).is_ok());
    EXPECT_TRUE(mx_dequantize_packed<Float4E2M1>(nullptr, nullptr, nullptr, shape, 0).is_ok());
    EXPECT_TRUE(mx_fake_quantize_mask<MxInt8>(nullptr, nullptr, nullptr, shape, 0).is_ok());
    EXPECT_TRUE(nvfp4_quantize_packed(nullptr, nullptr, nullptr, shape, 0).is_ok());
    EXPECT_TRUE(nvfp4_dequantize_packed(nullptr, nullptr, nullptr, shape, 0).is_ok());
    EXPECT_TRUE(nvfp4_fake_quantize(nullptr, nullptr, shape, 0).is_ok());
  }
}

TEST(Mx, Refusals) {
  const float x[4] = {1, 2, 3, 4};
  std::uint8_t p[4] = {0, 0, 0, 0}, s[2] = {0, 0};
  const Shape shape = Shape::row_major({2, 2});
  Status st = mx_quantize<Float4E2M1>(x, p, s, shape, 2);
  EXPECT_EQ(st.code(), StatusCode::kInvalidAxis);
  st = mx_quantize<Float4E2M1>(x, p, s, shape, 1, 0);
  EXPECT_EQ(st.code(), StatusCode::kInvalidBlockSize);
  st = mx_quantize<Float4E2M1>(x, p, nullptr, shape, 1);
  EXPECT_NE(st.message().find("scales is a null pointer"), std::string::npos) << st.message();
  const std::uint8_t codes[4] = {1, 2, 70, 3};
  float y[4] = {0, 0, 0, 0};
  st = mx_dequantize<Float6E2M3>(codes, s, y, shape, 1);
  EXPECT_NE(st.message().find("elements[2] = 70 is not a float6e2m3 code (expected < 64)"), std::string::npos)
      << st.message();
  EXPECT_EQ(y[0], 0.0f) << "nothing written";
}

}  // namespace
}  // namespace eigenq
