// Every kernel path compiled into this binary that this CPU can run, against
// the portable loops, bit for bit (floats compared as bits, NaN included),
// and the portable loops against the one-element reference of numerics.hpp.
// The binary is built without -m flags: the AVX2 and AVX-512 paths come from
// run-time dispatch. A path the CPU lacks (or the build leaves out) is
// reported as skipped, and the paths that ran are printed at the end.
//
// Parameterized by path and parameter source
// (broadcast, aligned); each test covers one operation and storage type under
// every rounding x scaling policy. Each sweep runs every length 0..kSweep,
// a few long lengths, inputs and outputs misaligned by 0..3 elements, guards
// around every output, and parameters at the edges: zero points at both ends
// of narrow, 4-bit, reduced, full and (int32) wider-than-float ranges, tiny
// and huge scales. Values are drawn per element (fixed seeds) from ties,
// their one-ulp neighbours, saturation bounds, infinities, NaN, huge and
// ordinary values. With EIGENQ_FORCE_SCALAR only the portable path runs,
// still against numerics.hpp and still misaligned and guarded.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "eigenq/arch/partial_bytes.hpp"
#include "eigenq/kernels.hpp"
#include "path_report.hpp"
#include "paths.hpp"

namespace eigenq {

// Test parameters print as path names.
void PrintTo(Path p, std::ostream* os) { *os << path_name(p); }

namespace {

// Which paths ran and which were skipped, printed when the binary ends.
testing_paths::PathReport& report = testing_paths::path_report("simd_test");

// Lengths 0..kSweep are all tested: three times the most elements any path
// handles in one loop iteration (64 bytes of int8), plus one.
constexpr std::size_t kSweep = 3 * 64 + 1;
constexpr std::size_t kGuard = 64;         // guard elements after each output
constexpr unsigned char kSentinel = 0xA5;  // guard and untouched-output byte
constexpr float kInf = std::numeric_limits<float>::infinity();

// Parameter sources: broadcast, aligned (the factor computed per lane),
// aligned with prepared factors, blocked (prepared, random block sizes and
// starting offsets within the first block) and periodic (prepared, random
// periods, held in registers or walked row by row, starting at the period's
// beginning or within it).
enum class Source { kBroadcast, kAligned, kAlignedPrepared, kBlocked, kPeriodic };

const char* source_name(Source s) {
  switch (s) {
    case Source::kBroadcast:
      return "broadcast";
    case Source::kAligned:
      return "aligned";
    case Source::kAlignedPrepared:
      return "aligned_prepared";
    case Source::kBlocked:
      return "blocked";
    case Source::kPeriodic:
      return "periodic";
  }
  return "";
}

void PrintTo(Source s, std::ostream* os) { *os << source_name(s); }

// Every rounding with every scaling: the named presets are among them.
using AllNumerics = std::tuple<Numerics<RoundHalfEven, ScaleByReciprocal>, Numerics<RoundHalfEven, ScaleByDivision>,
                               Numerics<RoundHalfAway, ScaleByReciprocal>, Numerics<RoundHalfAway, ScaleByDivision>,
                               Numerics<RoundHalfUp, ScaleByReciprocal>, Numerics<RoundHalfUp, ScaleByDivision>>;

template <class... T, class Fn>
void for_each_type(std::tuple<T...>*, Fn&& fn) {
  (fn(T{}), ...);
}

template <class N>
std::string numerics_label() {
  const char* r = std::is_same_v<typename N::Rounding, RoundHalfEven>   ? "half-even"
                  : std::is_same_v<typename N::Rounding, RoundHalfAway> ? "half-away"
                                                                        : "half-up";
  return std::string(r) + (std::is_same_v<typename N::Scaling, ScaleByReciprocal> ? " x reciprocal" : " / scale");
}

// The smallest scale whose reciprocal is still finite (about 2.9e-39).
float smallest_valid_scale() {
  float s = 1.0f / std::numeric_limits<float>::max();
  while (!std::isfinite(1.0f / s)) s = std::nextafter(s, kInf);
  while (std::isfinite(1.0f / std::nextafter(s, 0.0f))) s = std::nextafter(s, 0.0f);
  return s;
}

const std::vector<float>& scales() {
  static const std::vector<float> s = {1.0f,   0.5f,  0.0625f, 0.1f,    1.7067393f, 0.6661661f,
                                       3.0f,   1e-3f, 7.0f,    2.5e-7f, 0x1p-20f,   smallest_valid_scale(),
                                       1e-30f, 1e30f, 3e38f,   0.0123f};
  return s;
}

bool valid_scale(float s) { return std::isfinite(s) && s > 0.0f && std::isfinite(1.0f / s); }

template <class Q>
std::vector<Range> ranges_for() {
  std::vector<Range> r = {Range::full<Q>(), Range::narrow<Q>(), Range::reduced<Q>(), Range::bits<Q>(4)};
  if constexpr (std::is_same_v<Q, std::int32_t>) {
    // Spans of 2^24 (bounds exact in float) and just above, where
    // qmax - zero_point (2^24 + 3) rounds up in float, and a 2^29 span.
    r.push_back({-(1 << 23), 1 << 23});
    r.push_back({-(1 << 23), (1 << 23) + 3});
    r.push_back({-(1 << 28) - 1, (1 << 28) + 1});
    r.push_back(Range::bits<Q>(16));
    // One bound between 2^24 and 2^25 in magnitude: where a path that
    // switches between float and double bounds by |qmin|, |qmax| must switch.
    r.push_back({-5, 1 << 24});
    r.push_back({-(1 << 24), 5});
  }
  return r;
}

struct Config {
  Range range;
  float scale;
  std::int32_t zero_point;
};

// Each range with its zero point at qmin, qmax and in the middle, under
// three scales each (cycling through the list).
template <class... Q>
std::vector<Config> configs_for() {
  std::vector<Config> configs;
  std::size_t k = 0;
  auto add = [&](Range r) {
    const std::int64_t mid = r.qmin <= 0 && 0 <= r.qmax ? 0 : r.qmin + (std::int64_t{r.qmax} - r.qmin) / 2;
    for (std::int64_t zp : {std::int64_t{r.qmin}, std::int64_t{r.qmax}, mid})
      for (int i = 0; i < 3; ++i)
        configs.push_back({r, scales()[k++ % scales().size()], static_cast<std::int32_t>(zp)});
  };
  (..., [&] {
    for (Range r : ranges_for<Q>()) add(r);
  }());
  return configs;
}

// One kernel call.
struct Case {
  Config config;
  std::size_t n, in_offset, out_offset;
};

std::vector<Case> cases_for(const std::vector<Config>& configs) {
  std::vector<Case> cases;
  const std::size_t m = configs.size();
  for (std::size_t n = 0; n <= kSweep; ++n) cases.push_back({configs[n % m], n, n % 4, (n / 4) % 4});
  for (std::size_t c = 0; c < m; ++c) cases.push_back({configs[c], 100 + c % 16, (c / 3) % 4, c % 4});
  cases.push_back({configs[0], 4099, 1, 3});
  cases.push_back({configs[m / 2], 1000, 3, 1});
  cases.push_back({configs[m - 1], 4096, 0, 0});
  return cases;
}

// An input of n elements `offset` elements into an allocation that ends
// exactly at the last element (so sanitizers catch reads past it).
template <class T>
class Input {
 public:
  Input(std::size_t n, std::size_t offset) : offset_(offset), buf_(offset + n) {}
  T* data() { return buf_.data() + offset_; }
  const T* data() const { return buf_.data() + offset_; }
  T& operator[](std::size_t i) { return buf_[offset_ + i]; }
  const T& operator[](std::size_t i) const { return buf_[offset_ + i]; }
  std::size_t size() const { return buf_.size() - offset_; }

 private:
  std::size_t offset_;
  std::vector<T> buf_;
};

// An output of n elements, `offset` elements into a buffer with kGuard
// elements after it; everything starts as sentinel bytes, and everything
// outside [0, n) must stay so.
template <class T>
class Output {
 public:
  Output(std::size_t n, std::size_t offset) : n_(n), offset_(offset), buf_(offset + n + kGuard) {
    std::memset(static_cast<void*>(buf_.data()), kSentinel, buf_.size() * sizeof(T));
  }
  T* data() { return buf_.data() + offset_; }
  const T& operator[](std::size_t i) const { return buf_[offset_ + i]; }
  bool guards_intact() const {
    const auto* bytes = reinterpret_cast<const unsigned char*>(buf_.data());
    for (std::size_t b = 0; b < buf_.size() * sizeof(T); ++b) {
      const bool inside = b >= offset_ * sizeof(T) && b < (offset_ + n_) * sizeof(T);
      if (!inside && bytes[b] != kSentinel) return false;
    }
    return true;
  }

 private:
  std::size_t n_, offset_;
  std::vector<T> buf_;
};

template <class T>
std::string show(T v) {
  char s[64];
  if constexpr (std::is_floating_point_v<T>) {
    std::uint32_t bits;
    std::memcpy(&bits, &v, 4);
    std::snprintf(s, sizeof s, "%a (%.9g, bits 0x%08x)", v, v, bits);
  } else {
    std::snprintf(s, sizeof s, "%lld", static_cast<long long>(v));
  }
  return s;
}

// Compares n results bit for bit and checks the guards; reports the first
// difference with describe(i).
template <class T, class Describe>
bool same_bits(const std::vector<T>& expected, const Output<T>& actual, const char* what, Describe&& describe) {
  if (!actual.guards_intact()) {
    ADD_FAILURE() << what << ": wrote outside its " << expected.size() << " elements" << describe(0);
    return false;
  }
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (std::memcmp(&expected[i], &actual[i], sizeof(T)) != 0) {
      ADD_FAILURE() << what << "[" << i << "] of " << expected.size() << ": expected " << show(expected[i]) << ", got "
                    << show(actual[i]) << describe(i);
      return false;
    }
  }
  return true;
}

// Scale and zero point per element: all equal for a broadcast source,
// varied around the configuration for an aligned one, varied per block for
// a blocked one. Parameter arrays are stored like inputs (misaligned, ending
// with their allocation).
class CaseParams {
 public:
  CaseParams(const Case& c, Source source, std::mt19937& rng)
      : config_(c.config), source_(source), scale_(c.n, c.in_offset), zero_point_(c.n, c.in_offset) {
    std::size_t count = c.n;
    if (source == Source::kBlocked) {
      const std::size_t blocks[] = {1, 3, 8, 16, 17, 32, 64, 128};
      block_ = blocks[rng() % 8];
      first_ = rng() % block_;
      count = c.n == 0 ? 0 : (first_ + c.n - 1) / block_ + 1;
    } else if (source == Source::kPeriodic) {
      const std::size_t periods[] = {4, 8, 12, 16, 32, 48, 64, 128};  // 12, 48, 128: no path holds them in registers
      block_ = periods[rng() % 8];
      first_ = rng() % 2 ? 0 : rng() % block_;
      count = block_;
    }
    block_scale_ = Input<float>(count, c.in_offset);
    block_zero_point_ = Input<std::int32_t>(count, c.in_offset);
    const Range r = c.config.range;
    std::uniform_int_distribution<std::int64_t> zp(r.qmin, r.qmax);
    const float factors[] = {1.0f, 0.5f, 2.0f, 3.0f, 1.7067393f, 0.1f};
    for (std::size_t k = 0; k < count; ++k) {
      block_scale_[k] = c.config.scale;
      block_zero_point_[k] = c.config.zero_point;
      if (source == Source::kBroadcast) continue;
      const float s = c.config.scale * factors[rng() % 6];
      if (valid_scale(s)) block_scale_[k] = s;
      const std::int64_t choices[] = {r.qmin, r.qmax, zp(rng), c.config.zero_point};
      block_zero_point_[k] = static_cast<std::int32_t>(choices[rng() % 4]);
    }
    for (std::size_t i = 0; i < c.n; ++i) {
      const std::size_t k = source == Source::kBlocked    ? (first_ + i) / block_
                            : source == Source::kPeriodic ? (first_ + i) % block_
                                                          : i;
      scale_[i] = block_scale_[k];
      zero_point_[i] = block_zero_point_[k];
    }
  }
  float scale(std::size_t i) const { return scale_[i]; }
  std::int32_t zero_point(std::size_t i) const { return zero_point_[i]; }
  Range range() const { return config_.range; }

  // fn(source) for the kind of source under test; prepared values (the
  // factor, the bounds) as Quantizer computes them for numerics N.
  template <class N = DefaultNumerics, class Fn>
  void with_source(Fn&& fn) const {
    const std::size_t count = block_scale_.size();
    std::vector<float> factor(count), lo(count), hi(count);
    for (std::size_t k = 0; k < count; ++k) {
      factor[k] = N::Scaling::factor(block_scale_[k]);
      lo[k] = static_cast<float>(std::int64_t{config_.range.qmin} - block_zero_point_[k]);
      hi[k] = static_cast<float>(std::int64_t{config_.range.qmax} - block_zero_point_[k]);
    }
    switch (source_) {
      case Source::kBroadcast:
        return fn(Broadcast{config_.scale, config_.zero_point});
      case Source::kAligned:
        return fn(Aligned{block_scale_.data(), block_zero_point_.data()});
      case Source::kAlignedPrepared:
        return fn(Aligned{block_scale_.data(), block_zero_point_.data(), factor.data()});
      case Source::kBlocked:
        return fn(Blocked{block_scale_.data(),
                          block_zero_point_.data(),
                          {factor.data(), lo.data(), hi.data()},
                          static_cast<std::int64_t>(block_),
                          static_cast<std::int64_t>(first_)});
      case Source::kPeriodic:
        return fn(Periodic{Aligned{block_scale_.data(), block_zero_point_.data(), factor.data()},
                           static_cast<std::int64_t>(block_), static_cast<std::int64_t>(first_)});
    }
  }

  std::string describe(std::size_t i) const {
    std::string s = "\n  scale " + show(scale(i)) + ", zero point " + std::to_string(zero_point(i)) + ", range [" +
                    std::to_string(config_.range.qmin) + ", " + std::to_string(config_.range.qmax) + "]";
    if (source_ == Source::kBlocked)
      s += ", block " + std::to_string(block_) + " starting " + std::to_string(first_) + " elements in";
    if (source_ == Source::kPeriodic)
      s += ", period " + std::to_string(block_) + " starting " + std::to_string(first_) + " elements in";
    return s;
  }

 private:
  Config config_;
  Source source_;
  std::size_t block_ = 1, first_ = 0;
  Input<float> block_scale_{0, 0};  // one per parameter
  Input<std::int32_t> block_zero_point_{0, 0};
  Input<float> scale_;  // one per element
  Input<std::int32_t> zero_point_;
};

// An x whose scaled value is exactly t (a tie k + 0.5) under N when one lies
// within a few ulps of t * scale; otherwise the nearest try.
template <class N>
float tie_input(double t, float scale) {
  const float f = N::Scaling::factor(scale);
  const float x0 = static_cast<float>(t * scale);
  if (static_cast<double>(static_cast<float>(t)) != t || !std::isfinite(x0)) return x0;
  float lo = x0, hi = x0;
  for (int k = 0; k < 4; ++k, lo = std::nextafter(lo, -kInf), hi = std::nextafter(hi, kInf)) {
    if (N::Scaling::apply(lo, f) == static_cast<float>(t)) return lo;
    if (N::Scaling::apply(hi, f) == static_cast<float>(t)) return hi;
  }
  return x0;
}

// A float input for an element with parameters (s, zp) in `range`.
template <class N>
float interesting_value(std::mt19937& rng, float s, std::int32_t zp, Range range) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float specials[] = {nan,  -nan,  kInf,   -kInf,   1e19f,   -1e19f,   3e9f,   -3e9f,
                            0.0f, -0.0f, 1e-45f, -1e-45f, 3.4e38f, -3.4e38f, 1e-38f, 65536.5f};
  const double lo = static_cast<double>(range.qmin) - zp, hi = static_cast<double>(range.qmax) - zp;
  // An integer k near lo, hi or zero, so that k + 0.5 is a tie that matters.
  auto near_edge = [&]() {
    const std::int64_t d = static_cast<std::int64_t>(rng() % 7) - 3;
    const double k = (rng() % 3 == 0 ? lo : rng() % 2 ? hi : std::round((lo + hi) / 2.0 * (rng() % 2))) + d;
    return std::fabs(k) < 1e6 ? k : (rng() % 2 ? 0.0 : k);
  };
  switch (rng() % 12) {
    case 0:
      return specials[rng() % 16];
    case 1:
    case 2:
    case 3:
      return tie_input<N>(near_edge() + 0.5, s);
    case 4:
    case 5: {  // one ulp either side of a tie
      const float t = tie_input<N>(near_edge() + 0.5, s);
      return std::nextafter(t, rng() % 2 ? kInf : -kInf);
    }
    case 6:  // on a saturation bound, or just past it
      return static_cast<float>((rng() % 2 ? lo : hi) * s) * (rng() % 2 ? 1.0f : 1.0001f);
    default: {
      const double span = std::min(hi - lo + 8.0, 1e6);
      const double base = lo > -1e6 ? lo - 4.0 : -span / 2.0;
      return static_cast<float>((base + std::uniform_real_distribution<double>(0.0, span)(rng)) * s);
    }
  }
}

float interesting_gradient(std::mt19937& rng) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // A signalling NaN with a payload: the multiply by the mask quiets it, and
  // a path whose compiler turns that multiply into a select would not.
  const std::uint32_t signalling_bits = 0xffadad5eu;
  float signalling;
  std::memcpy(&signalling, &signalling_bits, sizeof signalling);
  const float specials[] = {nan, signalling, kInf, -kInf, 0.0f, -0.0f, 1e-45f, -3.4e38f, 3.4e38f};
  if (rng() % 6 == 0) return specials[rng() % 9];
  return std::uniform_real_distribution<float>(-10.0f, 10.0f)(rng);
}

class SimdTest : public ::testing::TestWithParam<std::tuple<Path, Source>> {
 protected:
  void SetUp() override { report.enter(path()); }
  Path path() const { return std::get<0>(GetParam()); }
  Source source() const { return std::get<1>(GetParam()); }

  // Calls check(case, rng, params) for every case under every numerics
  // preset, stopping a preset at its first failing case.
  template <class Check>
  void sweep(const std::vector<Config>& configs, Check&& check) {
    for_each_type(static_cast<AllNumerics*>(nullptr), [&](auto numerics) {
      using N = decltype(numerics);
      SCOPED_TRACE(numerics_label<N>());
      std::mt19937 rng(12345);
      for (const Case& c : cases_for(configs)) {
        const CaseParams p(c, source(), rng);
        if (!check(N{}, c, rng, p)) {
          ADD_FAILURE() << "case: n = " << c.n << ", input offset " << c.in_offset << ", output offset "
                        << c.out_offset;
          return;
        }
      }
    });
  }

  template <class N>
  Input<float> float_inputs(const Case& c, std::mt19937& rng, const CaseParams& p) {
    Input<float> x(c.n, c.in_offset);
    for (std::size_t i = 0; i < c.n; ++i) x[i] = interesting_value<N>(rng, p.scale(i), p.zero_point(i), p.range());
    return x;
  }

  template <class Q>
  void test_quantize() {
    sweep(configs_for<Q>(), [&](auto numerics, const Case& c, std::mt19937& rng, const CaseParams& p) {
      using N = decltype(numerics);
      const Input<float> x = float_inputs<N>(c, rng, p);
      std::vector<Q> expected(c.n);
      p.template with_source<N>(
          [&](auto src) { Kernels<Path::kScalar>::quantize<Q, N>(x.data(), expected.data(), c.n, src, p.range()); });
      auto describe = [&](std::size_t i) { return "\n  x " + show(x[i]) + p.describe(i); };
      for (std::size_t i = 0; i < c.n; ++i)
        if (expected[i] != eigenq::quantize<Q, N>(x[i], p.scale(i), p.zero_point(i), p.range())) {
          ADD_FAILURE() << "portable loop differs from numerics.hpp at " << i << describe(i);
          return false;
        }
      Output<Q> q(c.n, c.out_offset);
      testing_paths::for_path(path(), [&](auto kernels) {
        p.template with_source<N>(
            [&](auto src) { decltype(kernels)::template quantize<Q, N>(x.data(), q.data(), c.n, src, p.range()); });
      });
      return same_bits(expected, q, "q", describe);
    });
  }

  template <class Q>
  void test_dequantize() {
    // Any stored value, in the range or not: dequantize does not clamp.
    sweep(configs_for<Q>(), [&](auto, const Case& c, std::mt19937& rng, const CaseParams& p) {
      Input<Q> q(c.n, c.in_offset);
      std::uniform_int_distribution<std::int64_t> any(std::numeric_limits<Q>::lowest(), std::numeric_limits<Q>::max());
      for (std::size_t i = 0; i < c.n; ++i) {
        const std::int64_t edges[] = {p.range().qmin, p.range().qmax, p.zero_point(i), std::numeric_limits<Q>::lowest(),
                                      std::numeric_limits<Q>::max()};
        q[i] = static_cast<Q>(rng() % 3 ? any(rng) : edges[rng() % 5]);
      }
      std::vector<float> expected(c.n);
      p.with_source([&](auto src) { Kernels<Path::kScalar>::dequantize<Q>(q.data(), expected.data(), c.n, src); });
      auto describe = [&](std::size_t i) { return "\n  q " + show(q[i]) + p.describe(i); };
      for (std::size_t i = 0; i < c.n; ++i) {
        const float e = eigenq::dequantize(q[i], p.scale(i), p.zero_point(i));
        if (std::memcmp(&expected[i], &e, sizeof e) != 0) {
          ADD_FAILURE() << "portable loop differs from numerics.hpp at " << i << describe(i);
          return false;
        }
      }
      Output<float> y(c.n, c.out_offset);
      testing_paths::for_path(path(), [&](auto kernels) {
        p.with_source([&](auto src) { decltype(kernels)::template dequantize<Q>(q.data(), y.data(), c.n, src); });
      });
      return same_bits(expected, y, "y", describe);
    });
  }
};

// Ranges of every storage type: fake-quantize and the STE take a range, not a type.
const std::vector<Config>& all_configs() {
  static const std::vector<Config> c =
      configs_for<std::int8_t, std::uint8_t, std::int16_t, std::uint16_t, std::int32_t>();
  return c;
}

TEST_P(SimdTest, QuantizeInt8) { test_quantize<std::int8_t>(); }
TEST_P(SimdTest, QuantizeUint8) { test_quantize<std::uint8_t>(); }
TEST_P(SimdTest, QuantizeInt16) { test_quantize<std::int16_t>(); }
TEST_P(SimdTest, QuantizeUint16) { test_quantize<std::uint16_t>(); }
TEST_P(SimdTest, QuantizeInt32) { test_quantize<std::int32_t>(); }
TEST_P(SimdTest, DequantizeInt8) { test_dequantize<std::int8_t>(); }
TEST_P(SimdTest, DequantizeUint8) { test_dequantize<std::uint8_t>(); }
TEST_P(SimdTest, DequantizeInt16) { test_dequantize<std::int16_t>(); }
TEST_P(SimdTest, DequantizeUint16) { test_dequantize<std::uint16_t>(); }
TEST_P(SimdTest, DequantizeInt32) { test_dequantize<std::int32_t>(); }

TEST_P(SimdTest, FakeQuantize) {
  sweep(all_configs(), [&](auto numerics, const Case& c, std::mt19937& rng, const CaseParams& p) {
    using N = decltype(numerics);
    const Input<float> x = float_inputs<N>(c, rng, p);
    std::vector<float> expected(c.n);
    p.template with_source<N>(
        [&](auto src) { Kernels<Path::kScalar>::fake_quantize<N>(x.data(), expected.data(), c.n, src, p.range()); });
    auto describe = [&](std::size_t i) { return "\n  x " + show(x[i]) + p.describe(i); };
    for (std::size_t i = 0; i < c.n; ++i) {
      const float e = eigenq::fake_quantize<N>(x[i], p.scale(i), p.zero_point(i), p.range());
      if (std::memcmp(&expected[i], &e, sizeof e) != 0) {
        ADD_FAILURE() << "portable loop differs from numerics.hpp at " << i << describe(i);
        return false;
      }
    }
    Output<float> y(c.n, c.out_offset);
    testing_paths::for_path(path(), [&](auto kernels) {
      p.template with_source<N>(
          [&](auto src) { decltype(kernels)::template fake_quantize<N>(x.data(), y.data(), c.n, src, p.range()); });
    });
    if (!same_bits(expected, y, "y", describe)) return false;
    // In place: y aliases x.
    Input<float> inout = x;
    testing_paths::for_path(path(), [&](auto kernels) {
      p.template with_source<N>([&](auto src) {
        decltype(kernels)::template fake_quantize<N>(inout.data(), inout.data(), c.n, src, p.range());
      });
    });
    for (std::size_t i = 0; i < c.n; ++i)
      if (std::memcmp(&expected[i], &inout[i], sizeof(float)) != 0) {
        ADD_FAILURE() << "in place y[" << i << "] = " << show(inout[i]) << ", expected " << show(expected[i])
                      << describe(i);
        return false;
      }
    return true;
  });
}

TEST_P(SimdTest, FakeQuantizeMask) {
  sweep(all_configs(), [&](auto numerics, const Case& c, std::mt19937& rng, const CaseParams& p) {
    using N = decltype(numerics);
    const Input<float> x = float_inputs<N>(c, rng, p);
    std::vector<float> expected(c.n);
    std::vector<std::uint8_t> expected_mask(c.n);
    p.template with_source<N>([&](auto src) {
      Kernels<Path::kScalar>::fake_quantize_mask<N>(x.data(), expected.data(), expected_mask.data(), c.n, src,
                                                    p.range());
    });
    auto describe = [&](std::size_t i) { return "\n  x " + show(x[i]) + p.describe(i); };
    for (std::size_t i = 0; i < c.n; ++i) {
      const float e = eigenq::fake_quantize<N>(x[i], p.scale(i), p.zero_point(i), p.range());
      if (std::memcmp(&expected[i], &e, sizeof e) != 0 ||
          expected_mask[i] != ste_mask<N>(x[i], p.scale(i), p.zero_point(i), p.range())) {
        ADD_FAILURE() << "portable loop differs from numerics.hpp at " << i << describe(i);
        return false;
      }
    }
    Output<float> y(c.n, c.out_offset);
    Output<std::uint8_t> mask(c.n, (c.out_offset + 1) % 4);
    testing_paths::for_path(path(), [&](auto kernels) {
      p.template with_source<N>([&](auto src) {
        decltype(kernels)::template fake_quantize_mask<N>(x.data(), y.data(), mask.data(), c.n, src, p.range());
      });
    });
    return same_bits(expected, y, "y", describe) && same_bits(expected_mask, mask, "mask", describe);
  });
}

TEST_P(SimdTest, SteBackward) {
  sweep(all_configs(), [&](auto numerics, const Case& c, std::mt19937& rng, const CaseParams& p) {
    using N = decltype(numerics);
    const Input<float> x = float_inputs<N>(c, rng, p);
    Input<float> dy(c.n, (c.in_offset + 2) % 4);
    for (std::size_t i = 0; i < c.n; ++i) dy[i] = interesting_gradient(rng);
    std::vector<float> expected(c.n);
    p.template with_source<N>([&](auto src) {
      Kernels<Path::kScalar>::ste_backward<N>(x.data(), dy.data(), expected.data(), c.n, src, p.range());
    });
    auto describe = [&](std::size_t i) { return "\n  x " + show(x[i]) + ", dy " + show(dy[i]) + p.describe(i); };
    for (std::size_t i = 0; i < c.n; ++i) {
      const float e = dy[i] * static_cast<float>(ste_mask<N>(x[i], p.scale(i), p.zero_point(i), p.range()));
      if (std::memcmp(&expected[i], &e, sizeof e) != 0) {
        ADD_FAILURE() << "portable loop differs from numerics.hpp at " << i << describe(i);
        return false;
      }
    }
    Output<float> dx(c.n, c.out_offset);
    testing_paths::for_path(path(), [&](auto kernels) {
      p.template with_source<N>([&](auto src) {
        decltype(kernels)::template ste_backward<N>(x.data(), dy.data(), dx.data(), c.n, src, p.range());
      });
    });
    return same_bits(expected, dx, "dx", describe);
  });
}

TEST_P(SimdTest, SteBackwardMasked) {
  // The mask is normally 0/1 (from fake_quantize_mask); any byte multiplies.
  std::mt19937 rng(777);
  for (const Case& c : cases_for(all_configs())) {
    Input<std::uint8_t> mask(c.n, c.in_offset);
    Input<float> dy(c.n, (c.in_offset + 1) % 4);
    for (std::size_t i = 0; i < c.n; ++i) {
      mask[i] = static_cast<std::uint8_t>(rng() % 8 ? rng() % 2 : rng() % 256);
      dy[i] = interesting_gradient(rng);
    }
    std::vector<float> expected(c.n);
    Kernels<Path::kScalar>::ste_backward_masked(mask.data(), dy.data(), expected.data(), c.n);
    auto describe = [&](std::size_t i) { return "\n  mask " + show(mask[i]) + ", dy " + show(dy[i]); };
    for (std::size_t i = 0; i < c.n; ++i) {
      const float e = dy[i] * static_cast<float>(mask[i]);
      ASSERT_EQ(std::memcmp(&expected[i], &e, sizeof e), 0) << "portable loop at " << i << describe(i);
    }
    Output<float> dx(c.n, c.out_offset);
    testing_paths::for_path(
        path(), [&](auto kernels) { decltype(kernels)::ste_backward_masked(mask.data(), dy.data(), dx.data(), c.n); });
    ASSERT_TRUE(same_bits(expected, dx, "dx", describe)) << "n = " << c.n;
  }
}

// The sweeps above draw values at random; these pin the cases the contract
// names, for every path, in the middle of a vector and in the tail.
TEST_P(SimdTest, NamedCases) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  struct Named {
    float x, scale;
    std::int32_t zero_point;
    int expected;  // int8, pytorch preset
  };
  const Named named[] = {
      {48.64207f, 1.7067393f, 0, 29}, {-6.328578f, 0.6661661f, 0, -9}, {2.5f, 1.0f, 5, 7},     {-2.5f, 1.0f, 5, 3},
      {nan, 1.0f, 3, -128},           {kInf, 0.5f, -7, 127},           {-kInf, 0.5f, 7, -128}, {1e19f, 1e-3f, 0, 127},
      {-3e9f, 2.0f, 127, -128},       {0.5f, 1.0f, -128, -128},        {1.5f, 1.0f, 127, 127}, {-0.5f, 1.0f, 0, 0},
  };
  for (std::size_t n : {std::size_t{8}, std::size_t{35}}) {
    for (const Named& c : named) {
      std::vector<float> x(n, c.x);
      x[0] = 0.0f;
      std::vector<std::int8_t> q(n);
      testing_paths::for_path(path(), [&](auto kernels) {
        if (source() == Source::kBroadcast) {
          decltype(kernels)::template quantize<std::int8_t, presets::pytorch>(
              x.data(), q.data(), n, Broadcast{c.scale, c.zero_point}, Range::full<std::int8_t>());
        } else {
          std::vector<float> s(n, c.scale);
          std::vector<std::int32_t> z(n, c.zero_point);
          decltype(kernels)::template quantize<std::int8_t, presets::pytorch>(
              x.data(), q.data(), n, Aligned{s.data(), z.data()}, Range::full<std::int8_t>());
        }
      });
      for (std::size_t i = 1; i < n; ++i)
        ASSERT_EQ(q[i], c.expected) << "x = " << show(c.x) << ", n = " << n << ", i = " << i;
    }
  }
}

std::string param_name(const ::testing::TestParamInfo<std::tuple<Path, Source>>& info) {
  return std::string(path_name(std::get<0>(info.param))) + "_" + source_name(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(Paths, SimdTest,
                         ::testing::Combine(::testing::Values(Path::kScalar, Path::kAvx2, Path::kAvx512, Path::kNeon),
                                            ::testing::Values(Source::kBroadcast, Source::kAligned,
                                                              Source::kAlignedPrepared, Source::kBlocked,
                                                              Source::kPeriodic)),
                         param_name);

// The tails of narrow runs (arch/partial_bytes.hpp, AVX2's partial loads and
// stores of bytes): every length below 16, each buffer exactly n bytes long
// so that AddressSanitizer sees any access past it.
TEST(PartialBytes, LoadReadsTheFirstNBytesAndZeroesTheRest) {
  std::array<unsigned char, 16> bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<unsigned char>(0x11 * (i + 1) ^ 0x80);
  for (std::size_t n = 0; n < 16; ++n) {
    const std::vector<unsigned char> from(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    const detail::Bytes16 b = detail::load_partial_bytes(from.data(), n);
    for (std::size_t i = 0; i < 16; ++i) {
      const auto byte = static_cast<unsigned char>((i < 8 ? b.lo : b.hi) >> 8 * (i % 8));
      EXPECT_EQ(byte, i < n ? from[i] : 0) << "n = " << n << ", byte " << i;
    }
  }
}

TEST(PartialBytes, StoreWritesTheFirstNBytes) {
  detail::Bytes16 b;
  for (std::size_t i = 0; i < 8; ++i) {
    b.lo |= std::uint64_t{0x31 + i} << 8 * i;
    b.hi |= std::uint64_t{0x91 + i} << 8 * i;
  }
  for (std::size_t n = 0; n < 16; ++n) {
    std::vector<unsigned char> to(n, 0);
    detail::store_partial_bytes(to.data(), b, n);
    for (std::size_t i = 0; i < n; ++i)
      EXPECT_EQ(to[i], i < 8 ? 0x31 + i : 0x91 + (i - 8)) << "n = " << n << ", byte " << i;
  }
}

}  // namespace
}  // namespace eigenq
