// float16 / bfloat16: the reference conversions (stored.hpp) against the
// hardware's, every path's bulk conversions against the reference, and the
// Quantizer's half-precision entry points against the float32 ones.
//
// The sweeps of the active path against the x86 instructions over all 2^32
// floats take a stride: 1 where that path is SIMD in an optimized build
// (NDEBUG), else 97 on the scalar path, and 4099 in other builds (debug,
// sanitizers); every path is checked against the reference on every 4099th
// float (qemu included). EIGENQ_HALF_STRIDE overrides both strides.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "eigenq/eigen.hpp"
#include "eigenq/half.hpp"
#include "eigenq/observers.hpp"
#include "eigenq/qparams.hpp"
#include "eigenq/scheme.hpp"
#include "paths.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#include <immintrin.h>
#define EIGENQ_TEST_X86 1
#endif

namespace eigenq {
namespace {

using testing_paths::for_each_supported_path;

std::set<std::string>& ran() {
  static std::set<std::string> s;
  return s;
}
class PathReport : public ::testing::Environment {
 public:
  void TearDown() override {
    std::string names;
    for (const std::string& p : ran()) names += " " + p;
    std::printf("half_test: bulk conversions checked on paths:%s\n", names.c_str());
  }
};
const auto* const report = ::testing::AddGlobalTestEnvironment(new PathReport);

std::uint32_t bits_of(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}
float float_of(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

std::uint64_t sweep_stride() {
  if (const char* s = std::getenv("EIGENQ_HALF_STRIDE"))
    return std::max<std::uint64_t>(1, std::strtoull(s, nullptr, 10));
#if defined(NDEBUG) && (defined(__x86_64__) || defined(_M_X64))
  return active_path() == Path::kScalar ? 97 : 1;
#else
  return 4099;
#endif
}

// The quiet form of a NaN's bits, else the bits themselves: what a 16-bit
// pattern becomes after widening and narrowing.
std::uint16_t quieted(Float16, std::uint16_t h) {
  return (h & 0x7C00u) == 0x7C00u && (h & 0x3FFu) ? static_cast<std::uint16_t>(h | 0x200u) : h;
}
std::uint16_t quieted(BFloat16, std::uint16_t b) {
  return (b & 0x7F80u) == 0x7F80u && (b & 0x7Fu) ? static_cast<std::uint16_t>(b | 0x40u) : b;
}

template <class Format>
void check_round_trips() {
  std::vector<std::uint16_t> all(65536), back(65536);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint16_t>(i);
  std::vector<float> wide(65536);
  for_each_supported_path([&](auto p) {
    using K = Kernels<decltype(p)::value>;
    K::template widen_halves<Format>(all.data(), wide.data(), all.size());
    K::template narrow_halves<Format>(wide.data(), back.data(), all.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
      const std::uint16_t h = all[i];
      ASSERT_EQ(bits_of(wide[i]), bits_of(Format::widen(h))) << path_name(p.value) << " widens 0x" << std::hex << h;
      ASSERT_EQ(back[i], quieted(Format{}, h)) << path_name(p.value) << " round trip of 0x" << std::hex << h;
      if (!std::isnan(wide[i])) {
        ASSERT_EQ(static_cast<double>(wide[i]), static_cast<double>(Format::widen(h)));
      }
    }
  });
}

TEST(Half, EveryFloat16PatternRoundTrips) { check_round_trips<Float16>(); }
TEST(Half, EveryBFloat16PatternRoundTrips) { check_round_trips<BFloat16>(); }

TEST(Half, ReferenceValues) {
  EXPECT_EQ(float_to_half(1.0f), 0x3C00);
  EXPECT_EQ(float_to_half(65504.0f), 0x7BFF);
  EXPECT_EQ(float_to_half(65520.0f), 0x7C00);               // the tie above the largest half: even is inf
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -25)), 0x0000);  // tie to the even zero
  EXPECT_EQ(float_to_half(float_of(0x7F800001u)), 0x7E00);  // payload below the kept bits: quiet bit only
  EXPECT_EQ(bits_of(half_to_float(0x7C01)), 0x7FC02000u);   // signaling NaN widened quiet
  EXPECT_EQ(float_to_bfloat16(1.0f), 0x3F80);
  EXPECT_EQ(float_to_bfloat16(float_of(0x3F808000u)), 0x3F80);  // tie, even below
  EXPECT_EQ(float_to_bfloat16(float_of(0x3F818000u)), 0x3F82);  // tie, even above
  EXPECT_EQ(float_to_bfloat16(float_of(0x7F7FFFFFu)), 0x7F80);  // largest float: inf
  EXPECT_EQ(float_to_bfloat16(float_of(0xFF800001u)), 0xFFC0);  // NaN: sign kept, quiet
  EXPECT_EQ(float_to_bfloat16(float_of(0x7FBFFFFFu)), 0x7FFF);  // never rounded into another value
  EXPECT_EQ(float_to_bfloat16(float_of(0x00018000u)), 0x0002);  // a subnormal rounds (ties to even)
  EXPECT_EQ(float_to_bfloat16(float_of(0x80008000u)), 0x8000);
}

// Values that exercise every branch: specials, subnormals, ties and their
// neighbours for both formats, overflow boundaries, then random bits.
std::vector<float> hostile_floats(std::size_t n, std::uint32_t seed) {
  std::vector<std::uint32_t> b = {0x00000000u, 0x80000000u, 0x7F800000u, 0xFF800000u, 0x7FC00000u, 0xFFC00000u,
                                  0x7F800001u, 0xFFBFFFFFu, 0x7FA00000u, 0x00000001u, 0x00008000u, 0x00018000u,
                                  0x807FFFFFu, 0x00800000u, 0x477FE000u, 0x477FEFFFu, 0x477FF000u, 0x477FF001u,
                                  0x7F7FFFFFu, 0x7F7F8000u, 0x3F808000u, 0x3F818000u, 0x33000000u, 0x33000001u,
                                  0x387FC000u, 0x38800000u, 0x3F801000u, 0x3F803000u, 0xB3800000u, 0x37800000u};
  std::mt19937 rng(seed);
  while (b.size() < n) {
    std::uint32_t r = static_cast<std::uint32_t>(rng());
    switch (rng() % 4) {
      case 0:
        r &= 0xFFFF8000u;  // a bfloat16 value, or a tie between two
        break;
      case 1:
        r = (r & 0x80001FFFu) | ((100 + rng() % 60) << 23);  // near float16's range, ties in the low bits
        r = (rng() & 1) ? (r & ~0xFFFu) | 0x1000u : r;
        break;
      default:
        break;
    }
    b.push_back(r);
  }
  std::vector<float> f(n);
  for (std::size_t i = 0; i < n; ++i) f[i] = float_of(b[i]);
  return f;
}

template <class Format>
void check_bulk() {
  const std::vector<float> x = hostile_floats(4096, 7);
  std::vector<std::uint16_t> expect(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) expect[i] = Format::narrow(x[i]);
  for_each_supported_path([&](auto p) {
    using K = Kernels<decltype(p)::value>;
    ran().insert(path_name(p.value));
    // Every size to three vectors and past, at every offset into the data,
    // with sentinels after the end of each output.
    for (std::size_t n = 0; n <= 70; ++n) {
      for (std::size_t at = 0; at < 5; ++at) {
        std::vector<std::uint16_t> h(n + 4, 0xABCD);
        K::template narrow_halves<Format>(x.data() + at * 37, h.data(), n);
        for (std::size_t i = 0; i < n; ++i)
          ASSERT_EQ(h[i], expect[at * 37 + i])
              << path_name(p.value) << " n=" << n << " float 0x" << std::hex << bits_of(x[at * 37 + i]);
        for (std::size_t i = n; i < n + 4; ++i) ASSERT_EQ(h[i], 0xABCD) << path_name(p.value) << " wrote past n=" << n;
        std::vector<float> y(n + 4, 1234.5f);
        K::template widen_halves<Format>(expect.data() + at * 37 + 1, y.data(), n);
        for (std::size_t i = 0; i < n; ++i)
          ASSERT_EQ(bits_of(y[i]), bits_of(Format::widen(expect[at * 37 + 1 + i]))) << path_name(p.value);
        for (std::size_t i = n; i < n + 4; ++i) ASSERT_EQ(y[i], 1234.5f) << path_name(p.value) << " wrote past n=" << n;
      }
    }
    std::vector<std::uint16_t> h(x.size());
    K::template narrow_halves<Format>(x.data(), h.data(), x.size());
    EXPECT_EQ(h, expect) << path_name(p.value);
  });
}

TEST(Half, BulkFloat16EqualsReferenceOnEveryPath) { check_bulk<Float16>(); }
TEST(Half, BulkBFloat16EqualsReferenceOnEveryPath) { check_bulk<BFloat16>(); }

// Every path against the reference on every 4099th float (about a million:
// on every platform, qemu included), or at EIGENQ_HALF_STRIDE.
template <class Format>
void check_strided_floats() {
  const std::uint64_t stride = std::getenv("EIGENQ_HALF_STRIDE") ? sweep_stride() : 4099;
  std::vector<float> x;
  for (std::uint64_t b = 0; b < (std::uint64_t{1} << 32); b += stride)
    x.push_back(float_of(static_cast<std::uint32_t>(b)));
  std::vector<std::uint16_t> want(x.size()), got(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) want[i] = Format::narrow(x[i]);
  for_each_supported_path([&](auto p) {
    Kernels<decltype(p)::value>::template narrow_halves<Format>(x.data(), got.data(), x.size());
    for (std::size_t i = 0; i < x.size(); ++i)
      ASSERT_EQ(got[i], want[i]) << path_name(p.value) << " float 0x" << std::hex << bits_of(x[i]);
  });
}

TEST(Half, EveryPathFloat16EqualsReferenceOnStridedFloats) { check_strided_floats<Float16>(); }
TEST(Half, EveryPathBFloat16EqualsReferenceOnStridedFloats) { check_strided_floats<BFloat16>(); }

// All floats (at the sweep's stride) through `narrow` (a chunk of floats to
// halves), and through the active path's bulk conversion, which must agree
// with the reference wherever the reference is checked (every 97th float
// unless the stride is coarser).
template <class Format, class Hardware>
std::uint64_t count_differences(Hardware&& hardware, std::vector<std::uint32_t>* examples) {
  const std::uint64_t stride = sweep_stride();
  const std::uint64_t reference_stride = std::max<std::uint64_t>(stride, 97) / stride;
  constexpr std::size_t kChunk = 1 << 16;
  std::vector<float> x(kChunk);
  std::vector<std::uint16_t> got(kChunk), want(kChunk);
  std::uint64_t differ = 0, index = 0;
  for (std::uint64_t base = 0; base < (std::uint64_t{1} << 32);) {
    std::size_t n = 0;
    for (; n < kChunk && base < (std::uint64_t{1} << 32); ++n, base += stride)
      x[n] = float_of(static_cast<std::uint32_t>(base));
    with_kernels<Path::kAuto>([&](auto k) { decltype(k)::template narrow_halves<Format>(x.data(), got.data(), n); });
    hardware(x.data(), want.data(), n);
    if (std::memcmp(got.data(), want.data(), n * sizeof(std::uint16_t)) != 0) {
      for (std::size_t i = 0; i < n; ++i) {
        if (got[i] == want[i]) continue;
        ++differ;
        if (examples->size() < 64) examples->push_back(bits_of(x[i]));
      }
    }
    for (std::size_t i = static_cast<std::size_t>((reference_stride - index % reference_stride) % reference_stride);
         i < n; i += reference_stride) {
      if (got[i] != Format::narrow(x[i])) {
        ADD_FAILURE() << path_name(active_path()) << " differs from the reference at 0x" << std::hex << bits_of(x[i]);
        return differ;
      }
    }
    index += n;
  }
  std::printf("half_test: stride %llu on path %s: %llu inputs differ from the instruction\n",
              static_cast<unsigned long long>(stride), path_name(active_path()),
              static_cast<unsigned long long>(differ));
  return differ;
}

#if EIGENQ_TEST_X86
__attribute__((target("avx2,f16c"))) void f16c_narrow(const float* x, std::uint16_t* h, std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  for (; i < n; ++i)
    h[i] = static_cast<std::uint16_t>(
        _mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(x[i]), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), 0));
}

bool has_avx512_bf16() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return path_supported(Path::kAvx512) && __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 5)) != 0;
}

#if defined(__GNUC__) && (defined(__clang__) || __GNUC__ >= 10)
#define EIGENQ_TEST_BF16_INSTRUCTION 1
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16"))) void bf16_instruction_narrow(const float* x,
                                                                                             std::uint16_t* h,
                                                                                             std::size_t n) {
  for (std::size_t i = 0; i < n; i += 16) {
    const __mmask16 m = static_cast<__mmask16>(n - i >= 16 ? 0xFFFFu : (1u << (n - i)) - 1);
    const __m256i b = reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, x + i)));
    _mm256_mask_storeu_epi16(h + i, m, b);
  }
}
#endif

TEST(Half, Float16MatchesF16cOnAllFloats) {
  if (!path_supported(Path::kAvx2)) GTEST_SKIP() << "no F16C";
  std::vector<std::uint32_t> examples;
  EXPECT_EQ(count_differences<Float16>(f16c_narrow, &examples), 0u)
      << "first: 0x" << std::hex << (examples.empty() ? 0u : examples[0]);
}

// vcvtneps2bf16 flushes float32 subnormals to signed zero; the library
// rounds them (float_to_bfloat16). Every other input gives the same bits.
TEST(Half, BFloat16MatchesAvx512Bf16OnAllFloatsButSubnormals) {
#if EIGENQ_TEST_BF16_INSTRUCTION
  if (!has_avx512_bf16()) GTEST_SKIP() << "no AVX512_BF16";
  std::vector<std::uint32_t> examples;
  const std::uint64_t differ = count_differences<BFloat16>(bf16_instruction_narrow, &examples);
  for (std::uint32_t b : examples) {
    EXPECT_EQ(b & 0x7F800000u, 0u) << "not a subnormal: 0x" << std::hex << b;
    EXPECT_NE(float_to_bfloat16(float_of(b)) & 0x7FFFu, 0u) << std::hex << b;
  }
  // Subnormals of magnitude bits m in (0x8000, 0x7FFFFF], both signs.
  if (sweep_stride() == 1) {
    EXPECT_EQ(differ, 2u * (0x7FFFFFu - 0x8000u));
  }
#else
  GTEST_SKIP() << "compiler without AVX512_BF16 intrinsics";
#endif
}
#endif  // EIGENQ_TEST_X86

// ---------------------------------------------------------------------------
// Quantizer entry points

struct Case {
  std::vector<std::int64_t> dims;
  Layout layout;
  Granularity granularity;
  int axis;
  std::int64_t block;
};

Shape shape_of(const Case& c) { return Shape::from(c.dims.data(), static_cast<int>(c.dims.size()), c.layout); }

template <class Q>
QParams params_of(const Case& c, const Shape& shape, std::mt19937& rng) {
  const Range range = Range::full<Q>();
  std::size_t count = 1;
  if (c.granularity == Granularity::kPerAxis)
    count = static_cast<std::size_t>(c.dims[static_cast<std::size_t>(c.axis)]);
  if (c.granularity == Granularity::kBlocked)
    count = static_cast<std::size_t>(shape.size() / c.dims[static_cast<std::size_t>(c.axis)] *
                                     ((c.dims[static_cast<std::size_t>(c.axis)] + c.block - 1) / c.block));
  if (c.granularity == Granularity::kPerElement) count = static_cast<std::size_t>(shape.size());
  std::uniform_real_distribution<float> scale(0.01f, 0.2f);
  std::uniform_int_distribution<std::int32_t> zp(range.qmin, range.qmax);
  std::vector<float> s(count);
  std::vector<std::int32_t> z(count);
  for (std::size_t i = 0; i < count; ++i) s[i] = scale(rng), z[i] = zp(rng);
  switch (c.granularity) {
    case Granularity::kPerTensor:
      return QParams::per_tensor(s[0], z[0], range);
    case Granularity::kPerAxis:
      return QParams::per_axis(c.axis, s, z, range);
    case Granularity::kBlocked:
      return QParams::blocked(c.axis, c.block, s, z, range);
    case Granularity::kPerElement:
      return QParams::per_element(s, z, range);
  }
  return {};
}

template <class Format, class Q>
void check_quantizer(const Case& c, std::uint32_t seed) {
  std::mt19937 rng(seed);
  const Shape shape = shape_of(c);
  const Quantizer<Q> qz(shape, params_of<Q>(c, shape, rng));
  const std::size_t n = static_cast<std::size_t>(shape.size());
  // Values around the range, a few specials, narrowed to the format.
  std::normal_distribution<float> value(0.0f, 8.0f);
  std::vector<std::uint16_t> h(n);
  const float specials[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e-30f};
  for (std::size_t i = 0; i < n; ++i) h[i] = Format::narrow(i % 97 < 6 ? specials[i % 97] : value(rng));
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = Format::widen(h[i]);

  std::vector<Q> want_q(n), got_q(n);
  qz.quantize(x.data(), want_q.data());
  qz.template quantize<Format>(h.data(), got_q.data());
  ASSERT_EQ(got_q, want_q) << "quantize";

  std::vector<float> y(n);
  std::vector<std::uint16_t> want_h(n), got_h(n + 1, 0xABCD);
  qz.dequantize(want_q.data(), y.data());
  for (std::size_t i = 0; i < n; ++i) want_h[i] = Format::narrow(y[i]);
  qz.template dequantize<Format>(want_q.data(), got_h.data());
  ASSERT_EQ(got_h[n], 0xABCD);
  got_h.resize(n);
  ASSERT_EQ(got_h, want_h) << "dequantize";

  std::vector<std::uint8_t> want_mask(n), got_mask(n);
  qz.fake_quantize_mask(x.data(), y.data(), want_mask.data());
  for (std::size_t i = 0; i < n; ++i) want_h[i] = Format::narrow(y[i]);
  qz.template fake_quantize_mask<Format>(h.data(), got_h.data(), got_mask.data());
  ASSERT_EQ(got_h, want_h) << "fake_quantize_mask";
  ASSERT_EQ(got_mask, want_mask) << "fake_quantize_mask's mask";
  // Observers over the same elements (before fake_quantize overwrites h).
  ParamLayout layout = per_tensor_layout();
  if (c.granularity == Granularity::kPerAxis) layout = per_axis_layout(c.axis);
  if (c.granularity == Granularity::kBlocked) layout = blocked_layout(c.axis, c.block);
  if (c.granularity == Granularity::kPerElement) layout = per_element_layout();
  MinMax want_mm, got_mm;
  ASSERT_TRUE(compute_min_max(x.data(), shape, layout, &want_mm).is_ok());
  ASSERT_TRUE(compute_min_max<Format>(h.data(), shape, layout, &got_mm).is_ok());
  ASSERT_EQ(got_mm.min, want_mm.min);
  ASSERT_EQ(got_mm.max, want_mm.max);
  MinMaxObserver<Q> want_obs(layout), got_obs(layout);
  ASSERT_TRUE(want_obs.observe(x.data(), shape).is_ok());
  ASSERT_TRUE(got_obs.template observe<Format>(h.data(), shape).is_ok());
  ASSERT_EQ(got_obs.min(), want_obs.min());
  ASSERT_EQ(got_obs.max(), want_obs.max());

  qz.template fake_quantize<Format>(h.data(), h.data());  // in place
  ASSERT_EQ(h, want_h) << "fake_quantize";
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (Layout l : {Layout::kRowMajor, Layout::kColMajor}) {
    out.push_back({{3, 5, 7}, l, Granularity::kPerTensor, 0, 0});
    out.push_back({{130, 77}, l, Granularity::kPerTensor, 0, 0});  // several chunks
    out.push_back({{16, 9, 61}, l, Granularity::kPerAxis, 0, 0});
    out.push_back({{61, 9, 16}, l, Granularity::kPerAxis, 2, 0});
    out.push_back({{5, 3000}, l, Granularity::kPerAxis, 1, 0});
    out.push_back({{3000, 5}, l, Granularity::kPerAxis, 0, 0});
    out.push_back({{40, 300}, l, Granularity::kBlocked, 1, 32});
    out.push_back({{300, 40}, l, Granularity::kBlocked, 0, 7});    // ragged last block
    out.push_back({{256, 64}, l, Granularity::kBlocked, 0, 128});  // a block spans 8Ki elements
    out.push_back({{33, 200}, l, Granularity::kPerElement, 0, 0});
  }
  return out;
}

template <class Format>
void check_all_schemes() {
  std::uint32_t seed = 1;
  for (const Case& c : cases()) {
    SCOPED_TRACE(::testing::Message() << "granularity " << static_cast<int>(c.granularity) << " axis " << c.axis
                                      << " layout " << static_cast<int>(c.layout) << " dims " << c.dims[0] << "x"
                                      << c.dims[1]);
    check_quantizer<Format, std::int8_t>(c, seed++);
    check_quantizer<Format, std::uint8_t>(c, seed++);
    check_quantizer<Format, std::int32_t>(c, seed++);
  }
}

TEST(HalfQuantizer, Float16EqualsFloat32PathOnEveryScheme) { check_all_schemes<Float16>(); }
TEST(HalfQuantizer, BFloat16EqualsFloat32PathOnEveryScheme) { check_all_schemes<BFloat16>(); }

TEST(HalfQuantizer, EigenHalfTypes) {
  const Shape shape = Shape::row_major({4, 10});
  const Quantizer<std::int8_t> qz(
      shape, QParams::per_axis(0, {0.1f, 0.2f, 0.3f, 0.4f}, {0, 1, -1, 5}, Range::full<std::int8_t>()));
  std::vector<Eigen::half> h(40);
  std::vector<Eigen::bfloat16> b(40);
  std::vector<std::uint16_t> hb(40), bb(40);
  for (int i = 0; i < 40; ++i) {
    h[static_cast<std::size_t>(i)] = Eigen::half(static_cast<float>(i) * 0.37f - 7.0f);
    b[static_cast<std::size_t>(i)] = Eigen::bfloat16(static_cast<float>(i) * 0.37f - 7.0f);
    std::memcpy(&hb[static_cast<std::size_t>(i)], &h[static_cast<std::size_t>(i)], 2);
    std::memcpy(&bb[static_cast<std::size_t>(i)], &b[static_cast<std::size_t>(i)], 2);
  }
  std::vector<std::int8_t> q1(40), q2(40);
  qz.quantize(h.data(), q1.data());
  qz.quantize<Float16>(hb.data(), q2.data());
  EXPECT_EQ(q1, q2);
  qz.quantize(b.data(), q1.data());
  qz.quantize<BFloat16>(bb.data(), q2.data());
  EXPECT_EQ(q1, q2);
  std::vector<Eigen::bfloat16> y(40);
  qz.dequantize(q1.data(), y.data());
  std::vector<float> f(40);
  qz.dequantize(q1.data(), f.data());
  for (std::size_t i = 0; i < 40; ++i) EXPECT_EQ(static_cast<float>(y[i]), BFloat16::widen(BFloat16::narrow(f[i])));
  qz.fake_quantize(h.data(), h.data());
  MinMax mm;
  ASSERT_TRUE(compute_min_max(b.data(), shape, per_axis_layout(0), &mm).is_ok());
  MinMaxObserver<std::int8_t> obs;
  ASSERT_TRUE(obs.observe(h.data(), shape).is_ok());
  const Status null = compute_min_max(static_cast<const Eigen::bfloat16*>(nullptr), shape, per_tensor_layout(), &mm);
  EXPECT_FALSE(null.is_ok());
  EXPECT_NE(null.message().find("x"), std::string::npos) << null.message();
}

}  // namespace
}  // namespace eigenq
