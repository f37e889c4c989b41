// The minifloat kernels (minifloat_quantize.hpp) on every kernel path
// compiled into this binary that this CPU can run, against the portable
// path bit for bit (codes as bytes, floats as bits, NaN included). A path
// the CPU lacks is reported as skipped; the paths that ran are printed at
// the end.
//
// - Encoding, every format and both `saturate` settings: every 257th
//   float32 bit pattern (every 4099th without NDEBUG, every 65537th on
//   AArch64, which runs under qemu), and in each binade from below half the
//   smallest subnormal to past the overflow threshold every float32 whose
//   top 12 mantissa bits are arbitrary (every 7th on AArch64) and low 11
//   bits adversarial (0, 1, half, all ones, random): where every rounding
//   decision is. EIGENQ_EXHAUSTIVE=1 runs every float32 pattern instead:
//   some 16 minutes per path in Release on a shared 2-core machine (the
//   portable reference dominates); filter one path with --gtest_filter.
// - Decoding: every byte with several scales.
// - Runs of every length 0..4 vectors (and longer), misaligned by 0..3
//   elements, broadcast and aligned scales, guards after every output.
// - Every scheme through the public entry points with an explicit path.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "eigenq/kernels.hpp"
#include "eigenq/minifloat_quantize.hpp"
#include "path_report.hpp"
#include "paths.hpp"

namespace eigenq {
namespace {

// Which paths ran and which were skipped, printed when the binary ends.
testing_paths::PathReport& report = testing_paths::path_report("minifloat_simd_test");

// The library's bit casts (minifloat.hpp).
using detail::bits_float;
using detail::float_bits;

bool exhaustive() {
  const char* e = std::getenv("EIGENQ_EXHAUSTIVE");
  return e != nullptr && std::strcmp(e, "1") == 0;
}

// Runs fn<Fmt>() for every format.
template <class Fn>
void for_each_format(Fn&& fn) {
  fn(Float8E4M3FN{});
  fn(Float8E4M3FNUZ{});
  fn(Float8E5M2{});
  fn(Float8E5M2FNUZ{});
  fn(Float6E2M3{});
  fn(Float6E3M2{});
  fn(Float4E2M1{});
}

// Runs fn(std::bool_constant<saturate>) for both settings.
template <class Fn>
void for_each_saturate(Fn&& fn) {
  fn(std::true_type{});
  fn(std::false_type{});
}

// Encodes x with scale 1 (x / 1 is x, NaN's sign kept) on path K and on the
// portable path; reports the first difference.
template <class Fmt, bool kSaturate, class K>
void expect_same_codes(const std::vector<float>& x, std::vector<std::uint8_t>& got, std::vector<std::uint8_t>& want) {
  got.assign(x.size(), 0);
  want.assign(x.size(), 0);
  K::template quantize_minifloat<Fmt, kSaturate>(x.data(), got.data(), x.size(), 1.0f);
  Kernels<Path::kScalar>::quantize_minifloat<Fmt, kSaturate>(x.data(), want.data(), x.size(), 1.0f);
  for (std::size_t i = 0; i < x.size(); ++i)
    if (got[i] != want[i]) {
      ADD_FAILURE() << Fmt::kFormat.name << " saturate=" << kSaturate << ": x bits 0x" << std::hex << float_bits(x[i])
                    << " (" << x[i] << ") gives 0x" << int{got[i]} << ", portable 0x" << int{want[i]};
      return;
    }
}

class MinifloatSimdTest : public ::testing::TestWithParam<Path> {
 protected:
  void SetUp() override { report.enter(GetParam()); }
};

TEST_P(MinifloatSimdTest, EncodeStridedAndExhaustive) {
#if defined(__aarch64__)
  const std::uint64_t stride = exhaustive() ? 1 : 65537;  // run under qemu, some 250 times slower
#elif defined(NDEBUG)
  const std::uint64_t stride = exhaustive() ? 1 : 257;
#else
  const std::uint64_t stride = exhaustive() ? 1 : 4099;
#endif
  const auto start = std::chrono::steady_clock::now();
  testing_paths::for_path(GetParam(), [&](auto kernels) {
    using K = decltype(kernels);
    for_each_format([&](auto format) {
      using Fmt = decltype(format);
      for_each_saturate([&](auto saturate) {
        std::vector<float> x;
        std::vector<std::uint8_t> got, want;
        constexpr std::uint64_t kChunk = std::uint64_t{1} << 20;
        for (std::uint64_t at = 0; at < (std::uint64_t{1} << 32); at += kChunk * stride) {
          x.clear();
          for (std::uint64_t b = at; b < at + kChunk * stride && b < (std::uint64_t{1} << 32); b += stride)
            x.push_back(bits_float(static_cast<std::uint32_t>(b)));
          expect_same_codes<Fmt, decltype(saturate)::value, K>(x, got, want);
          if (::testing::Test::HasFailure()) return;
        }
      });
    });
  });
  std::printf("%s: every %llu-th float32 through 7 formats x 2 saturate settings: %.1f s\n", path_name(GetParam()),
              static_cast<unsigned long long>(stride),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

TEST_P(MinifloatSimdTest, EncodeRoundingBoundaries) {
#if defined(__aarch64__)
  constexpr std::uint32_t kTopStep = 7;  // under qemu; odd, so every residue of the low top bits comes up
#else
  constexpr std::uint32_t kTopStep = 1;
#endif
  std::mt19937 rng(15);
  testing_paths::for_path(GetParam(), [&](auto kernels) {
    using K = decltype(kernels);
    for_each_format([&](auto format) {
      using Fmt = decltype(format);
      constexpr MinifloatFormat f = Fmt::kFormat;
      std::vector<float> x;
      const int lowest = 127 + f.min_exponent() - f.mantissa_bits - 3;
      const int highest = 127 + f.max_exponent() + 2;
      for (int e = lowest; e <= highest; ++e)
        for (std::uint32_t top = 0; top < 4096; top += kTopStep)
          for (std::uint32_t low : {0u, 1u, 0x400u, 0x3ffu, 0x7ffu, static_cast<std::uint32_t>(rng() & 0x7ff)})
            for (std::uint32_t sign : {0u, 0x80000000u})
              x.push_back(bits_float(sign | static_cast<std::uint32_t>(e) << 23 | top << 11 | low));
      const std::uint32_t specials[] = {0x7f800000u, 0x7fc00000u, 0x7f800001u, 0x7fffffffu, 0x00000001u,
                                        0x007fffffu, 0x00800000u, 0x7f7fffffu, 0u};
      for (std::uint32_t s : specials) x.push_back(bits_float(s)), x.push_back(bits_float(s | 0x80000000u));
      std::vector<std::uint8_t> got, want;
      for_each_saturate([&](auto saturate) { expect_same_codes<Fmt, decltype(saturate)::value, K>(x, got, want); });
    });
  });
}

TEST_P(MinifloatSimdTest, DecodeEveryByte) {
  testing_paths::for_path(GetParam(), [&](auto kernels) {
    using K = decltype(kernels);
    for_each_format([&](auto format) {
      using Fmt = decltype(format);
      std::vector<std::uint8_t> q(256);
      for (int c = 0; c < 256; ++c) q[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(c);
      for (float scale : {1.0f, 0.1f, 3.0e-39f, 1.0e-30f, 7.5e37f, 1.7067393f}) {
        std::vector<float> got(256), want(256);
        K::template dequantize_minifloat<Fmt>(q.data(), got.data(), q.size(), scale);
        Kernels<Path::kScalar>::dequantize_minifloat<Fmt>(q.data(), want.data(), q.size(), scale);
        for (int c = 0; c < 256; ++c)
          ASSERT_EQ(float_bits(got[static_cast<std::size_t>(c)]), float_bits(want[static_cast<std::size_t>(c)]))
              << Fmt::kFormat.name << " code " << c << " scale " << scale;
      }
    });
  });
}

// A value drawn from ties, overflow boundaries, specials and ordinary values.
float draw(std::mt19937& rng) {
  switch (rng() % 8) {
    case 0: {
      const float specials[] = {std::numeric_limits<float>::quiet_NaN(),
                                std::numeric_limits<float>::infinity(),
                                -std::numeric_limits<float>::infinity(),
                                0.0f,
                                -0.0f,
                                1e-45f,
                                3.4e38f,
                                -3.4e38f,
                                448.0f,
                                464.0f,
                                57344.0f,
                                61440.0f,
                                240.0f,
                                248.0f,
                                6.0f,
                                7.5f,
                                28.0f};
      return specials[rng() % (sizeof specials / sizeof *specials)];
    }
    case 1:
      return bits_float(static_cast<std::uint32_t>(rng()));
    case 2:  // a float8 midpoint and its neighbours
      return std::ldexp(static_cast<float>(2 * (rng() % 64) + 1), static_cast<int>(rng() % 40) - 30) *
             (rng() % 2 ? 1.0f : -1.0f);
    default:
      return std::uniform_real_distribution<float>(-600.0f, 600.0f)(rng);
  }
}

TEST_P(MinifloatSimdTest, RunsLengthsOffsetsGuards) {
  std::mt19937 rng(1515);
  constexpr std::uint8_t kGuard = 0xA5;
  const float kGuardFloat = -12345.0f;
  testing_paths::for_path(GetParam(), [&](auto kernels) {
    using K = decltype(kernels);
    auto check = [&](auto format, auto saturate, std::size_t n, std::size_t offset, bool aligned) {
      using Fmt = decltype(format);
      constexpr bool kSat = decltype(saturate)::value;
      std::vector<float> x(offset + n), scale(offset + n), y(offset + n + 8, kGuardFloat),
          y_want(offset + n + 8, kGuardFloat);
      std::vector<std::uint8_t> q(offset + n + 8, kGuard), q_want(offset + n + 8, kGuard);
      for (std::size_t i = 0; i < n; ++i) {
        x[offset + i] = draw(rng);
        scale[offset + i] = rng() % 4 == 0 ? 1.0f
                                           : std::ldexp(1.0f + static_cast<float>(rng() % 1000) / 997.0f,
                                                        static_cast<int>(rng() % 20) - 10);
      }
      const float s = scale.empty() || n == 0 ? 0.37f : scale[offset];
      if (aligned) {
        K::template quantize_minifloat<Fmt, kSat>(x.data() + offset, q.data() + offset, n, scale.data() + offset);
        Kernels<Path::kScalar>::quantize_minifloat<Fmt, kSat>(x.data() + offset, q_want.data() + offset, n,
                                                              scale.data() + offset);
      } else {
        K::template quantize_minifloat<Fmt, kSat>(x.data() + offset, q.data() + offset, n, s);
        Kernels<Path::kScalar>::quantize_minifloat<Fmt, kSat>(x.data() + offset, q_want.data() + offset, n, s);
      }
      ASSERT_EQ(q, q_want) << Fmt::kFormat.name << " n=" << n << " offset=" << offset << " aligned=" << aligned;
      if (aligned) {
        K::template dequantize_minifloat<Fmt>(q.data() + offset, y.data() + offset, n, scale.data() + offset);
        Kernels<Path::kScalar>::dequantize_minifloat<Fmt>(q.data() + offset, y_want.data() + offset, n,
                                                          scale.data() + offset);
      } else {
        K::template dequantize_minifloat<Fmt>(q.data() + offset, y.data() + offset, n, s);
        Kernels<Path::kScalar>::dequantize_minifloat<Fmt>(q.data() + offset, y_want.data() + offset, n, s);
      }
      for (std::size_t i = 0; i < y.size(); ++i)
        ASSERT_EQ(float_bits(y[i]), float_bits(y_want[i]))
            << Fmt::kFormat.name << " n=" << n << " offset=" << offset << " element " << i;
    };
    std::vector<std::size_t> lengths;
    for (std::size_t n = 0; n <= 70; ++n) lengths.push_back(n);
    for (std::size_t n : {127, 128, 129, 1000, 4099}) lengths.push_back(n);
    for_each_format([&](auto format) {
      for_each_saturate([&](auto saturate) {
        for (std::size_t n : lengths)
          for (std::size_t offset = 0; offset < 4; ++offset)
            for (bool aligned : {false, true}) check(format, saturate, n, offset, aligned);
      });
    });
  });
}

TEST_P(MinifloatSimdTest, EverySchemeThroughTheEntryPoints) {
  std::mt19937 rng(2026);
  struct Case {
    Shape shape;
    ParamLayout layout;
  };
  const Case cases[] = {
      {Shape::row_major({37}), ParamLayout(Granularity::kPerTensor)},
      {Shape::row_major({3, 5, 67}), ParamLayout(Granularity::kPerTensor)},
      {Shape::row_major({7, 33}), ParamLayout(Granularity::kPerAxis, 0)},
      {Shape::row_major({7, 33}), ParamLayout(Granularity::kPerAxis, 1)},
      {Shape::row_major({3, 19, 5}), ParamLayout(Granularity::kPerAxis, 1)},
      {Shape::col_major({29, 6}), ParamLayout(Granularity::kPerAxis, 1)},
      {Shape::row_major({5, 100}), ParamLayout(Granularity::kBlocked, 1, 32)},
      {Shape::row_major({5, 99}), ParamLayout(Granularity::kBlocked, 1, 7)},
      {Shape::row_major({70, 9}), ParamLayout(Granularity::kBlocked, 0, 16)},
      {Shape::row_major({6, 41}), ParamLayout(Granularity::kPerElement)},
      // Runs of a few elements per scale, expanded to aligned runs (the
      // slab within one stack buffer, and beyond it), and blocks of 16 and
      // 64 on the fastest axis, one run per row.
      {Shape::row_major({40, 6}), ParamLayout(Granularity::kPerAxis, 1)},
      {Shape::row_major({2, 200, 3}), ParamLayout(Granularity::kPerAxis, 1)},
      {Shape::row_major({3, 50}), ParamLayout(Granularity::kBlocked, 1, 16)},
      {Shape::col_major({130, 3}), ParamLayout(Granularity::kBlocked, 0, 64)},
  };
  for (const Case& c : cases) {
    ResolvedParams r;
    ASSERT_TRUE(resolve_layout(c.layout, c.shape, &r).is_ok());
    const std::size_t size = static_cast<std::size_t>(c.shape.size());
    std::vector<float> x(size), scale(r.count);
    for (float& v : x) v = draw(rng);
    for (float& s : scale)
      s = std::ldexp(1.0f + static_cast<float>(rng() % 1000) / 997.0f, static_cast<int>(rng() % 12) - 6);
    const MinifloatParamsView p{c.layout, scale.data(), scale.size()};
    auto run = [&](auto path_constant, auto format, bool saturate, std::vector<std::uint8_t>& q,
                   std::vector<float>& y) {
      constexpr Path P = decltype(path_constant)::value;
      using Fmt = decltype(format);
      q.assign(size, 0);
      y.assign(size, 0.0f);
      ASSERT_TRUE((quantize_minifloat<Fmt, P>(x.data(), q.data(), c.shape, p, saturate).is_ok()));
      ASSERT_TRUE((dequantize_minifloat<Fmt, P>(q.data(), y.data(), c.shape, p).is_ok()));
    };
    for_each_format([&](auto format) {
      for (bool saturate : {true, false}) {
        std::vector<std::uint8_t> q, q_want(size);
        std::vector<float> y, y_want(size);
        // The reference element by element, each with its parameter
        // (for_each_element), apart from the walks the paths share.
        using Fmt = decltype(format);
        detail::for_each_element(r, [&](std::size_t i, std::size_t k) {
          q_want[i] = minifloat_encode<Fmt>(x[i] / scale[k], saturate);
          y_want[i] = minifloat_decode<Fmt>(q_want[i]) * scale[k];
        });
        switch (GetParam()) {
          case Path::kAvx2:
            run(std::integral_constant<Path, Path::kAvx2>{}, format, saturate, q, y);
            break;
          case Path::kAvx512:
            run(std::integral_constant<Path, Path::kAvx512>{}, format, saturate, q, y);
            break;
          case Path::kNeon:
            run(std::integral_constant<Path, Path::kNeon>{}, format, saturate, q, y);
            break;
          default:
            run(std::integral_constant<Path, Path::kScalar>{}, format, saturate, q, y);
            break;
        }
        ASSERT_EQ(q, q_want) << decltype(format)::kFormat.name;
        for (std::size_t i = 0; i < size; ++i)
          ASSERT_EQ(float_bits(y[i]), float_bits(y_want[i])) << decltype(format)::kFormat.name << " element " << i;
      }
    });
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, MinifloatSimdTest,
                         ::testing::Values(Path::kScalar, Path::kAvx2, Path::kAvx512, Path::kNeon),
                         [](const ::testing::TestParamInfo<Path>& info) { return std::string(path_name(info.param)); });

}  // namespace
}  // namespace eigenq
