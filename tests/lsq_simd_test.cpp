// LSQ's kernels (arch/lsq_scalar.hpp, arch/generic/lsq_runs.inl) on every
// path compiled into this binary that this CPU runs, against the portable
// path, bit for bit: dx, each element's dscale and dzero_point terms, and
// their sums per parameter. A term or sum that is NaN on both sides counts
// as equal: which NaN a sum or product of two NaNs gives depends on the
// order of its operands, and compilers swap them (only dx, a product with
// one NaN operand at most, is compared as bits whatever its value).
//
// Run kernels: every rounding x scaling policy, lengths 0..3 AVX-512 vectors
// (every tail of every path) and longer, inputs and outputs misaligned by
// 0..3 elements, guards after every output, dx in place of dy, zero points
// at both ends of narrow, 4-bit, full and wider-than-float ranges, tiny and
// huge scales, several gradient factors (0, negative, infinite, NaN), and
// inputs drawn from ties, their neighbours, bounds, infinities and NaN.
// Whole schemes: per tensor, per axis on a slow, middle and fast axis,
// blocked along and across the fastest axis, per element.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "eigenq/kernels.hpp"
#include "paths.hpp"

namespace eigenq {
namespace {

constexpr std::size_t kGuard = 32;         // guard elements after each output
constexpr unsigned char kSentinel = 0xA5;  // guard bytes
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNan = std::numeric_limits<float>::quiet_NaN();

using AllNumerics = std::tuple<Numerics<RoundHalfEven, ScaleByReciprocal>, Numerics<RoundHalfEven, ScaleByDivision>,
                               Numerics<RoundHalfAway, ScaleByReciprocal>, Numerics<RoundHalfAway, ScaleByDivision>,
                               Numerics<RoundHalfUp, ScaleByReciprocal>, Numerics<RoundHalfUp, ScaleByDivision>>;

template <class... T, class Fn>
void for_each_numerics(std::tuple<T...>*, Fn&& fn) {
  (fn(T{}), ...);
}

template <class N>
std::string label() {
  const char* r = std::is_same_v<typename N::Rounding, RoundHalfEven>   ? "half-even"
                  : std::is_same_v<typename N::Rounding, RoundHalfAway> ? "half-away"
                                                                        : "half-up";
  return std::string(r) + (std::is_same_v<typename N::Scaling, ScaleByReciprocal> ? " x reciprocal" : " / scale");
}

template <class T>
bool same(T a, T b) {
  return std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b));
}

template <class T>
std::string show(T v) {
  char s[80];
  std::snprintf(s, sizeof s, "%a (%.17g)", static_cast<double>(v), static_cast<double>(v));
  return s;
}

// n elements `offset` into a buffer with kGuard sentinel elements after
// them (and the offset's before); inputs are filled after construction.
template <class T>
class Buffer {
 public:
  Buffer(std::size_t n, std::size_t offset) : n_(n), offset_(offset), buf_(offset + n + kGuard) {
    std::memset(static_cast<void*>(buf_.data()), kSentinel, buf_.size() * sizeof(T));
  }
  T* data() { return buf_.data() + offset_; }
  T& operator[](std::size_t i) { return buf_[offset_ + i]; }
  const T& operator[](std::size_t i) const { return buf_[offset_ + i]; }
  std::size_t size() const { return n_; }
  bool guards_intact() const {
    const auto* bytes = reinterpret_cast<const unsigned char*>(buf_.data());
    for (std::size_t b = 0; b < buf_.size() * sizeof(T); ++b)
      if ((b < offset_ * sizeof(T) || b >= (offset_ + n_) * sizeof(T)) && bytes[b] != kSentinel) return false;
    return true;
  }

 private:
  std::size_t n_, offset_;
  std::vector<T> buf_;
};

// Every element equal (as bits, or NaN on both sides when `nan_is_nan`) and
// the guards intact; the first difference is reported.
template <class T>
::testing::AssertionResult same_elements(const char* what, const Buffer<T>& expected, const Buffer<T>& actual,
                                         bool nan_is_nan) {
  if (!actual.guards_intact()) return ::testing::AssertionFailure() << what << ": wrote outside its elements";
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const bool equal =
        nan_is_nan ? same(expected[i], actual[i]) : std::memcmp(&expected[i], &actual[i], sizeof(T)) == 0;
    if (!equal)
      return ::testing::AssertionFailure() << what << "[" << i << "] of " << expected.size() << ": expected "
                                           << show(expected[i]) << ", got " << show(actual[i]);
  }
  return ::testing::AssertionSuccess();
}

// Ranges (each with its zero point at qmin, qmax and inside) and scales.
struct Config {
  Range range;
  float scale;
  std::int32_t zero_point;
};

std::vector<Config> configs() {
  const Range ranges[] = {
      Range::full<std::int8_t>(),  Range::narrow<std::int8_t>(),
      Range::full<std::uint8_t>(), Range::bits<std::int8_t>(4),
      Range::full<std::int16_t>(), {-(1 << 23), (1 << 23) + 3},  // qmax - z rounds in float: the double bounds
      Range::full<std::int32_t>(), {-5, 1 << 24}};
  const float scales[] = {1.0f, 0.05f, 1.7067393f, 0x1p-20f, 3e-39f, 1e30f, 0.6661661f, 7.0f};
  std::vector<Config> c;
  std::size_t k = 0;
  for (const Range r : ranges) {
    const std::int32_t mid = r.qmin <= 0 && 0 <= r.qmax ? 0 : r.qmin + (r.qmax - r.qmin) / 2;
    for (const std::int32_t z : {r.qmin, r.qmax, mid}) c.push_back({r, scales[k++ % 8], z});
  }
  return c;
}

// x whose scaled value under N is within an ulp of a tie, a bound, or
// anywhere around the range; or a special value.
template <class N>
float interesting_x(std::mt19937& rng, float scale, std::int32_t z, Range range) {
  const float specials[] = {kNan, -kNan, kInf, -kInf, 1e19f, -1e19f, 0.0f, -0.0f, 1e-45f, 3.4e38f};
  const double lo = static_cast<double>(range.qmin) - z, hi = static_cast<double>(range.qmax) - z;
  const double edge = (rng() % 3 == 0 ? lo : rng() % 2 ? hi : 0.0) + static_cast<double>(rng() % 7) - 3.0;
  const float f = N::Scaling::factor(scale);
  switch (rng() % 8) {
    case 0:
      return specials[rng() % 10];
    case 1:
    case 2: {  // a tie k + 0.5 and its neighbours
      float x = static_cast<float>((edge + 0.5) * scale);
      for (int step = 0; step < 3 && N::Scaling::apply(x, f) != static_cast<float>(edge + 0.5); ++step)
        x = std::nextafter(x, N::Scaling::apply(x, f) < edge + 0.5 ? kInf : -kInf);
      return rng() % 3 ? x : std::nextafter(x, rng() % 2 ? kInf : -kInf);
    }
    default: {
      const double span = std::min(hi - lo + 8.0, 1e6), base = lo > -1e6 ? lo - 4.0 : -span / 2.0;
      return static_cast<float>((base + std::uniform_real_distribution<double>(0.0, span)(rng)) * scale);
    }
  }
}

float interesting_dy(std::mt19937& rng) {
  const float specials[] = {kNan, kInf, -kInf, 0.0f, -0.0f, 1e-45f, -3.4e38f, 3.4e38f};
  if (rng() % 8 == 0) return specials[rng() % 8];
  return std::uniform_real_distribution<float>(-10.0f, 10.0f)(rng);
}

const float kGradFactors[] = {1.0f, 0.375f, 3.5e-4f, -2.0f, 0.0f, 1e-30f, kInf, kNan};

// Lengths: every one up to three AVX-512 vectors (and kLsqPartialSums
// groups), then longer ones.
std::vector<std::size_t> lengths() {
  std::vector<std::size_t> n;
  for (std::size_t i = 0; i <= 3 * 16 + 1; ++i) n.push_back(i);
  for (std::size_t i : {63, 64, 65, 100, 127, 1000, 4099}) n.push_back(i);
  return n;
}

// One run's inputs and parameters.
template <class N>
struct RunCase {
  using Numerics = N;
  Config config;
  float g;
  Buffer<float> x, dy, scale;
  Buffer<std::int32_t> zero_point;

  RunCase(const Config& c, std::size_t n, std::size_t offset, float grad_factor, std::mt19937& rng)
      : config(c),
        g(grad_factor),
        x(n, offset),
        dy(n, (offset + 1) % 4),
        scale(n, (offset + 2) % 4),
        zero_point(n, (offset + 3) % 4) {
    const float factors[] = {1.0f, 0.5f, 2.0f, 3.0f, 1.7067393f, 0.1f};
    std::uniform_int_distribution<std::int64_t> any(c.range.qmin, c.range.qmax);
    for (std::size_t i = 0; i < n; ++i) {
      const float s = c.scale * factors[rng() % 6];
      scale[i] = std::isfinite(s) && s > 0.0f && std::isfinite(1.0f / s) ? s : c.scale;
      const std::int32_t ends[] = {c.range.qmin, c.range.qmax, c.zero_point, static_cast<std::int32_t>(any(rng))};
      zero_point[i] = ends[rng() % 4];
    }
    for (std::size_t i = 0; i < n; ++i) {
      x[i] = interesting_x<N>(rng, scale[i], zero_point[i], c.range);
      dy[i] = interesting_dy(rng);
    }
  }
  Aligned aligned() { return {scale.data(), zero_point.data()}; }
  std::string describe() const {
    return "range [" + std::to_string(config.range.qmin) + ", " + std::to_string(config.range.qmax) + "], scale " +
           show(config.scale) + ", zero point " + std::to_string(config.zero_point) + ", g " + show(g) + ", n " +
           std::to_string(x.size());
  }
};

// Runs fn(Kernels<P>{}) for a path known at run time.
template <class Fn>
void for_path(Path path, Fn&& fn) {
  testing_paths::for_each_supported_path([&](auto p) {
    if (p.value == path) fn(Kernels<decltype(p)::value>{});
  });
}

class LsqSimdTest : public ::testing::TestWithParam<Path> {
 protected:
  void SetUp() override {
    if (!path_supported(GetParam()))
      GTEST_SKIP() << path_name(GetParam())
                   << (path_compiled(GetParam()) ? " is not supported by this CPU" : " is not compiled in");
  }

  // Calls check(RunCase<N>&) for every preset, configuration, length,
  // misalignment and gradient factor, stopping at the first failure.
  template <class Check>
  void sweep(Check&& check) {
    for_each_numerics(static_cast<AllNumerics*>(nullptr), [&](auto numerics) {
      using N = decltype(numerics);
      std::mt19937 rng(2024);
      const std::vector<Config> all = configs();
      std::size_t k = 0;
      for (const std::size_t n : lengths())
        for (std::size_t c = 0; c < all.size(); c += 2, ++k) {
          RunCase<N> rc(all[(c + n) % all.size()], n, k % 4, kGradFactors[k % 8], rng);
          const ::testing::AssertionResult r = check(rc);
          if (!r) {
            ADD_FAILURE() << r.message() << "\n  " << label<N>() << ", " << rc.describe();
            return;
          }
        }
    });
  }
};

TEST_P(LsqSimdTest, BroadcastRunSums) {
  sweep([&](auto& rc) -> ::testing::AssertionResult {
    using N = typename std::remove_reference_t<decltype(rc)>::Numerics;
    const std::size_t n = rc.x.size();
    const Broadcast p{rc.config.scale, rc.config.zero_point};
    Buffer<float> dx_expected(n, 0), dx(n, n % 4);
    const LsqSums expected = Kernels<Path::kScalar>::lsq_backward_sum<N>(rc.x.data(), rc.dy.data(), dx_expected.data(),
                                                                         n, p, rc.config.range, rc.g);
    LsqSums got;
    for_path(GetParam(), [&](auto k) {
      got =
          decltype(k)::template lsq_backward_sum<N>(rc.x.data(), rc.dy.data(), dx.data(), n, p, rc.config.range, rc.g);
    });
    if (auto r = same_elements("dx", dx_expected, dx, false); !r) return r;
    if (!same(expected.dscale, got.dscale) || !same(expected.dzero_point, got.dzero_point))
      return ::testing::AssertionFailure()
             << "sums: expected dscale " << show(expected.dscale) << ", dzero_point " << show(expected.dzero_point)
             << "; got " << show(got.dscale) << ", " << show(got.dzero_point);
    // In place: dx over dy.
    Buffer<float> inout = rc.dy;
    for_path(GetParam(), [&](auto k) {
      got = decltype(k)::template lsq_backward_sum<N>(rc.x.data(), inout.data(), inout.data(), n, p, rc.config.range,
                                                      rc.g);
    });
    if (auto r = same_elements("dx in place", dx_expected, inout, false); !r) return r;
    if (!same(expected.dscale, got.dscale)) return ::testing::AssertionFailure() << "in place: another dscale";
    return ::testing::AssertionSuccess();
  });
}

TEST_P(LsqSimdTest, AlignedRunsAccumulated) {
  std::mt19937 start_rng(7);
  sweep([&](auto& rc) -> ::testing::AssertionResult {
    using N = typename std::remove_reference_t<decltype(rc)>::Numerics;
    const std::size_t n = rc.x.size();
    // Sums so far: zeros, ordinary values, and now and then an infinity or NaN.
    Buffer<double> ds_expected(n, 0), dz_expected(n, 0), ds(n, (n + 1) % 4), dz(n, (n + 2) % 4);
    for (std::size_t i = 0; i < n; ++i) {
      const double specials[] = {0.0, 1e300, -std::numeric_limits<double>::infinity(), std::nan("")};
      ds[i] = ds_expected[i] =
          start_rng() % 16 ? std::normal_distribution<double>(0.0, 1e3)(start_rng) : specials[start_rng() % 4];
      dz[i] = dz_expected[i] = start_rng() % 2 ? 0.0 : std::normal_distribution<double>(0.0, 1.0)(start_rng);
    }
    Buffer<float> dx_expected(n, 0), dx(n, (n + 3) % 4);
    Kernels<Path::kScalar>::lsq_backward_accumulate<N>(rc.x.data(), rc.dy.data(), dx_expected.data(),
                                                       ds_expected.data(), dz_expected.data(), n, rc.aligned(),
                                                       rc.config.range, rc.g);
    for_path(GetParam(), [&](auto k) {
      decltype(k)::template lsq_backward_accumulate<N>(rc.x.data(), rc.dy.data(), dx.data(), ds.data(), dz.data(), n,
                                                       rc.aligned(), rc.config.range, rc.g);
    });
    if (auto r = same_elements("dx", dx_expected, dx, false); !r) return r;
    if (auto r = same_elements("dscale sums", ds_expected, ds, true); !r) return r;
    return same_elements("dzero_point sums", dz_expected, dz, true);
  });
}

TEST_P(LsqSimdTest, AlignedRunTerms) {
  sweep([&](auto& rc) -> ::testing::AssertionResult {
    using N = typename std::remove_reference_t<decltype(rc)>::Numerics;
    const std::size_t n = rc.x.size();
    Buffer<float> dx_expected(n, 0), ds_expected(n, 0), dz_expected(n, 0);
    Buffer<float> ds(n, (n + 1) % 4), dz(n, (n + 2) % 4);
    Kernels<Path::kScalar>::lsq_backward_terms<N>(rc.x.data(), rc.dy.data(), dx_expected.data(), ds_expected.data(),
                                                  dz_expected.data(), n, rc.aligned(), rc.config.range, rc.g);
    Buffer<float> inout = rc.dy;  // dx over dy
    for_path(GetParam(), [&](auto k) {
      decltype(k)::template lsq_backward_terms<N>(rc.x.data(), inout.data(), inout.data(), ds.data(), dz.data(), n,
                                                  rc.aligned(), rc.config.range, rc.g);
    });
    if (auto r = same_elements("dx", dx_expected, inout, false); !r) return r;
    if (auto r = same_elements("dscale", ds_expected, ds, true); !r) return r;
    return same_elements("dzero_point", dz_expected, dz, true);
  });
}

// Whole schemes through Kernels<P>::lsq_backward, against the portable path.
struct Scheme {
  std::vector<std::int64_t> dims;
  Layout layout;
  Granularity granularity;
  int axis;
  std::int64_t block;
};

TEST_P(LsqSimdTest, WholeSchemes) {
  const Scheme schemes[] = {
      {{4099}, Layout::kRowMajor, Granularity::kPerTensor, 0, 0},
      {{0, 5}, Layout::kRowMajor, Granularity::kPerTensor, 0, 0},
      {{37, 129}, Layout::kRowMajor, Granularity::kPerAxis, 0, 0},   // broadcast runs of 129
      {{5, 6, 37}, Layout::kRowMajor, Granularity::kPerAxis, 1, 0},  // middle axis
      {{9, 100}, Layout::kRowMajor, Granularity::kPerAxis, 1, 0},    // fast axis: aligned runs
      {{40, 3}, Layout::kRowMajor, Granularity::kPerAxis, 1, 0},     // short fast axis
      {{3, 40, 2}, Layout::kColMajor, Granularity::kPerAxis, 1, 0},  // short runs of 3
      {{7, 100}, Layout::kRowMajor, Granularity::kBlocked, 1, 32},   // blocks along the fast axis, ragged
      {{100, 7}, Layout::kRowMajor, Granularity::kBlocked, 0, 16},   // aligned parameter rows
      {{6, 50, 3}, Layout::kColMajor, Granularity::kBlocked, 1, 4},
      {{33, 31}, Layout::kRowMajor, Granularity::kPerElement, 0, 0},
  };
  const Range ranges[] = {Range::full<std::int8_t>(), Range::full<std::uint8_t>(), Range::bits<std::int8_t>(4),
                          Range::full<std::int32_t>()};
  std::mt19937 rng(99);
  std::size_t k = 0;
  for (const Scheme& s : schemes) {
    for (const Range range : ranges) {
      const Shape shape = Shape::from(s.dims.data(), static_cast<int>(s.dims.size()), s.layout);
      QParamsView layout;
      layout.granularity = s.granularity;
      layout.axis = s.axis;
      layout.block_size = s.block;
      ResolvedParams r;
      ASSERT_TRUE(resolve_layout(layout, shape, &r).is_ok());
      std::vector<float> scale(r.count);
      std::vector<std::int32_t> zero_point(r.count);
      std::uniform_real_distribution<float> some_scale(0.01f, 0.3f);
      std::uniform_int_distribution<std::int32_t> some_zero_point(range.qmin, range.qmax);
      for (std::size_t c = 0; c < r.count; ++c) {
        scale[c] = some_scale(rng);
        zero_point[c] = c % 4 == 0 ? range.qmin : c % 4 == 1 ? range.qmax : some_zero_point(rng);
      }
      const QParamsView params{s.granularity, s.axis, s.block, scale.data(), zero_point.data(), r.count, range};
      ASSERT_TRUE(resolve<std::int32_t>(params, shape, &r).is_ok());
      const std::size_t n = static_cast<std::size_t>(shape.size());
      Buffer<float> x(n, k % 4), dy(n, (k + 1) % 4);
      for (std::size_t i = 0; i < n; ++i) {
        x[i] = interesting_x<presets::pytorch>(rng, scale[i % r.count], zero_point[i % r.count], range);
        dy[i] = interesting_dy(rng);
      }
      const float g = kGradFactors[k++ % 8];
      std::vector<double> sums(2 * r.count);
      Buffer<float> dx_expected(n, 0), ds_expected(r.count, 0), dz_expected(r.count, 0);
      Kernels<Path::kScalar>::lsq_backward<presets::pytorch>(r, x.data(), dy.data(), dx_expected.data(),
                                                             ds_expected.data(), dz_expected.data(), g, sums.data());
      Buffer<float> dx(n, (k + 2) % 4), ds(r.count, (k + 3) % 4), dz(r.count, k % 4);
      for_path(GetParam(), [&](auto kernels) {
        decltype(kernels)::template lsq_backward<presets::pytorch>(r, x.data(), dy.data(), dx.data(), ds.data(),
                                                                   dz.data(), g, sums.data());
      });
      SCOPED_TRACE(std::string(granularity_name(s.granularity)) + " axis " + std::to_string(s.axis) + ", range [" +
                   std::to_string(range.qmin) + ", " + std::to_string(range.qmax) + "], n " + std::to_string(n));
      ASSERT_TRUE(same_elements("dx", dx_expected, dx, false));
      ASSERT_TRUE(same_elements("dscale", ds_expected, ds, true));
      ASSERT_TRUE(same_elements("dzero_point", dz_expected, dz, true));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, LsqSimdTest, ::testing::Values(Path::kScalar, Path::kAvx2, Path::kAvx512, Path::kNeon),
                         [](const ::testing::TestParamInfo<Path>& info) { return path_name(info.param); });

}  // namespace
}  // namespace eigenq
