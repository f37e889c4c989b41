// Requantization: the golden cases of every rule (tests/data/requantize.txt,
// written by tests/conformance/gen_requantize.py from each engine's published
// algorithm in exact integer arithmetic) on every compiled path; every SIMD
// path against the portable loop bit for bit (all lengths up to three
// vectors and one, misaligned buffers, guards after the outputs, int32
// extremes, saturation); every scheme against a naive per-element loop; the
// multipliers built from float scales; and the errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "eigenq/requantize.hpp"
#include "golden.hpp"
#include "paths.hpp"

namespace eigenq {
namespace {

constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t kMax = std::numeric_limits<std::int32_t>::max();

using AllRules = std::tuple<GemmlowpRounding, SingleRounding, TvmUpward, TvmToNearest, Fp32Rounding>;
using AllInputs = std::tuple<std::int32_t, std::int16_t, std::int8_t, std::uint8_t>;
using AllOutputs = std::tuple<std::int8_t, std::uint8_t, std::int16_t>;

template <class... T, class Fn>
void for_each_type(std::tuple<T...>*, Fn&& fn) {
  (fn(T{}), ...);
}
template <class Tuple, class Fn>
void for_each_type(Fn&& fn) {
  for_each_type(static_cast<Tuple*>(nullptr), fn);
}

// Calls fn(std::integral_constant<Path, P>) for every path this CPU runs.
template <class Fn>
void for_each_path(Fn&& fn) {
  testing_paths::for_each_supported_path(fn);
}

// ---------------------------------------------------------------------------
// Fixed-point multipliers

TEST(QuantizeMultiplier, GoldenPerStyle) {
  int checked = 0;
  for (const auto& c : golden::load("requantize.txt")) {
    if (c.name.rfind("multiplier_", 0) != 0) continue;
    const MultiplierStyle style = c.name.rfind("multiplier_tflite", 0) == 0   ? MultiplierStyle::kTflite
                                  : c.name.rfind("multiplier_single", 0) == 0 ? MultiplierStyle::kTfliteSingleRounding
                                                                              : MultiplierStyle::kTvm;
    const QuantizedMultiplier q = quantize_multiplier(c.number("real"), style);
    EXPECT_EQ(q.multiplier, c.integer("m")) << c.name << " real=" << c.text("real");
    EXPECT_EQ(q.shift, c.integer("shift")) << c.name << " real=" << c.text("real");
    ++checked;
  }
  EXPECT_GE(checked, 3 * 60);
}

TEST(QuantizeMultiplier, EdgeCases) {
  // The mantissa rounds up to 2^31: halved, shift + 1.
  EXPECT_EQ(quantize_multiplier(1.0 - std::ldexp(1.0, -33)), (QuantizedMultiplier{1 << 30, 1}));
  EXPECT_EQ(quantize_multiplier(0.5), (QuantizedMultiplier{1 << 30, 0}));
  EXPECT_EQ(quantize_multiplier(3.0), (QuantizedMultiplier{3 << 29, 2}));
  // Below 2^-32, TFLite flushes to zero; TVM keeps the shift.
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, -34)), (QuantizedMultiplier{0, 0}));
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, -34), MultiplierStyle::kTvm), (QuantizedMultiplier{1 << 30, -33}));
  // Single rounding saturates shifts above 30.
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, 40), MultiplierStyle::kTfliteSingleRounding),
            (QuantizedMultiplier{kMax, 30}));
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, 40)), (QuantizedMultiplier{1 << 30, 41}));
  EXPECT_EQ(quantize_multiplier(0.0), (QuantizedMultiplier{0, 0}));
  EXPECT_DOUBLE_EQ(QuantizedMultiplier({1 << 30, -3}).real(), 1.0 / 16);
}

TEST(FixedPoint, GemmlowpPrimitives) {
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMin, kMin), kMax);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(1 << 30, 1 << 30), 1 << 29);
  // Ties of the high multiply go up, for either sign (vqrdmulh).
  EXPECT_EQ(saturating_rounding_doubling_high_mul(1, 1 << 30), 1);    // 0.5 -> 1
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-1, 1 << 30), 0);   // -0.5 -> 0
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-3, 1 << 30), -1);  // -1.5 -> -1
  // The power-of-two division rounds ties away from zero.
  EXPECT_EQ(rounding_divide_by_pot(5, 1), 3);
  EXPECT_EQ(rounding_divide_by_pot(-5, 1), -3);
  EXPECT_EQ(rounding_divide_by_pot(-4, 1), -2);
  EXPECT_EQ(rounding_divide_by_pot(kMin, 31), -1);
  EXPECT_EQ(rounding_divide_by_pot(kMax, 31), 1);
  EXPECT_EQ(rounding_divide_by_pot(7, 0), 7);
  EXPECT_EQ(saturating_left_shift(1 << 30, 1), kMax);
  EXPECT_EQ(saturating_left_shift(-(1 << 30), 1), kMin);
  EXPECT_EQ(saturating_left_shift(-(1 << 30) - 1, 1), kMin);
}

TEST(Requantize, WorkedCaseDoubleVersusSingleRounding) {
  const RequantizeArgs args{0, 0, Range::full<std::int16_t>()};
  EXPECT_EQ(requantize<GemmlowpRounding>(7984, 1583594044, -9, 0.0f, args), 12);
  EXPECT_EQ(requantize<SingleRounding>(7984, 1583594044, -9, 0.0f, args), 11);
  EXPECT_EQ(requantize<TvmUpward>(7984, 1583594044, -9, 0.0f, args), 11);
  EXPECT_EQ(requantize<TvmToNearest>(7984, 1583594044, -9, 0.0f, args), 11);
}

// ---------------------------------------------------------------------------
// Golden cases on every path

template <class Rule, class In, class Out, Path P>
std::vector<std::int64_t> run_golden(const golden::Case& c) {
  const std::vector<std::int64_t> xs = c.ints("x");
  std::vector<In> x(xs.begin(), xs.end());
  std::vector<Out> y(x.size());
  const std::int32_t m = Rule::kFixedPoint ? static_cast<std::int32_t>(c.integer("m")) : 0;
  const std::int32_t shift = Rule::kFixedPoint ? static_cast<std::int32_t>(c.integer("shift")) : 0;
  const float scale = Rule::kFixedPoint ? 0.0f : c.real("scale");
  RequantizeParamsView p;
  p.multiplier = &m;
  p.shift = &shift;
  p.scale = &scale;
  p.count = 1;
  p.input_zero_point = static_cast<std::int32_t>(c.integer("izp"));
  p.output_zero_point = static_cast<std::int32_t>(c.integer("zp"));
  p.range = {static_cast<std::int32_t>(c.integer("qmin")), static_cast<std::int32_t>(c.integer("qmax"))};
  const Shape shape = Shape::row_major({static_cast<std::int64_t>(x.size())});
  const Status s = requantize<Rule, In, Out, P>(x.data(), y.data(), shape, p);
  EXPECT_TRUE(s.is_ok()) << c.name << ": " << s.message();
  // The one-element reference agrees as well.
  for (std::size_t i = 0; i < x.size(); ++i)
    EXPECT_EQ(static_cast<std::int32_t>(y[i]), requantize<Rule>(x[i], m, shift, scale, p.args()))
        << c.name << " element " << i;
  return {y.begin(), y.end()};
}

template <class Rule, Path P>
std::vector<std::int64_t> run_golden_typed(const golden::Case& c) {
  const std::string in = c.text("in"), out = c.text("out");
  auto with_in = [&](auto out_tag) -> std::vector<std::int64_t> {
    using Out = decltype(out_tag);
    if (in == "int32") return run_golden<Rule, std::int32_t, Out, P>(c);
    if (in == "int16") return run_golden<Rule, std::int16_t, Out, P>(c);
    if (in == "int8") return run_golden<Rule, std::int8_t, Out, P>(c);
    return run_golden<Rule, std::uint8_t, Out, P>(c);
  };
  if (out == "int8") return with_in(std::int8_t{});
  if (out == "uint8") return with_in(std::uint8_t{});
  return with_in(std::int16_t{});
}

TEST(Requantize, GoldenEveryRuleEveryPath) {
  std::map<std::string, int> checked;
  for (const auto& c : golden::load("requantize.txt")) {
    if (c.name.rfind("multiplier_", 0) == 0) continue;
    const std::string rule = c.name.substr(0, c.name.rfind('_'));
    const std::vector<std::int64_t> expected = c.ints("y");
    for_each_path([&](auto path) {
      constexpr Path P = decltype(path)::value;
      std::vector<std::int64_t> y;
      if (rule == "double") y = run_golden_typed<GemmlowpRounding, P>(c);
      if (rule == "single") y = run_golden_typed<SingleRounding, P>(c);
      if (rule == "upward") y = run_golden_typed<TvmUpward, P>(c);
      if (rule == "tonearest") y = run_golden_typed<TvmToNearest, P>(c);
      if (rule == "fp32") y = run_golden_typed<Fp32Rounding, P>(c);
      ASSERT_EQ(y.size(), expected.size()) << c.name;
      for (std::size_t i = 0; i < y.size(); ++i)
        EXPECT_EQ(y[i], expected[i]) << c.name << " (" << path_name(P) << ") element " << i << " x=" << c.ints("x")[i];
    });
    ++checked[rule];
  }
  for (const char* rule : {"double", "single", "upward", "tonearest", "fp32"}) EXPECT_GE(checked[rule], 20) << rule;
}

// ---------------------------------------------------------------------------
// SIMD against the portable loop

constexpr std::size_t kMaxLanes = 16;  // the widest iteration of any path (int8 in and out)
constexpr std::size_t kSweep = 3 * kMaxLanes + 1;
constexpr std::size_t kGuard = 32;
constexpr unsigned char kSentinel = 0xA5;

template <class In>
In draw_input(std::mt19937& rng, int kind) {
  const std::int64_t lo = std::numeric_limits<In>::lowest(), hi = std::numeric_limits<In>::max();
  switch (kind % 6) {
    case 0:
      return static_cast<In>(std::uniform_int_distribution<std::int64_t>(lo, hi)(rng));
    case 1:  // the extremes and their neighbours
      return static_cast<In>(std::uniform_int_distribution<int>(0, 1)(rng) ? lo + (rng() % 3) : hi - (rng() % 3));
    case 2:  // near zero
      return static_cast<In>(std::uniform_int_distribution<std::int64_t>(std::max<std::int64_t>(lo, -300),
                                                                         std::min<std::int64_t>(hi, 300))(rng));
    default:  // accumulator-sized
      return static_cast<In>(std::uniform_int_distribution<std::int64_t>(std::max<std::int64_t>(lo, -(1 << 22)),
                                                                         std::min<std::int64_t>(hi, 1 << 22))(rng));
  }
}

// Multipliers at the edges: realistic Q31 mantissas, 0, 1, INT32_MAX; shifts
// -31..30 (positive ones saturate most inputs); fp32 scales tiny to huge.
struct Multiplier {
  std::int32_t m, shift;
  float scale;
};

Multiplier draw_multiplier(std::mt19937& rng) {
  Multiplier r{};
  switch (rng() % 5) {
    case 0:
      r.m = static_cast<std::int32_t>(std::uniform_int_distribution<std::int64_t>(1 << 30, kMax)(rng));
      break;
    case 1:
      r.m = std::vector<std::int32_t>{0, 1, kMax, 1 << 30, 3 << 29}[rng() % 5];
      break;
    default:
      r.m = static_cast<std::int32_t>(std::uniform_int_distribution<std::int64_t>(0, kMax)(rng));
  }
  r.shift = rng() % 4 == 0 ? std::uniform_int_distribution<int>(-31, 30)(rng)
                           : std::uniform_int_distribution<int>(-24, 0)(rng);
  r.scale = std::ldexp(std::uniform_real_distribution<float>(0.5f, 1.0f)(rng),
                       rng() % 4 == 0 ? std::uniform_int_distribution<int>(-40, 40)(rng)
                                      : std::uniform_int_distribution<int>(-24, 0)(rng));
  return r;
}

template <class T>
bool guard_intact(const std::vector<T>& buf, std::size_t from, std::size_t to) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(buf.data());
  for (std::size_t b = from * sizeof(T); b < to * sizeof(T); ++b)
    if (bytes[b] != kSentinel) return false;
  return true;
}

template <Path P, class Rule, class In, class Out>
void sweep(std::uint32_t seed) {
  std::mt19937 rng(seed);
  const std::string label = std::string(path_name(P)) + " " + Rule::name() + " " + detail::requantize_type_name<In>() +
                            "->" + detail::requantize_type_name<Out>();
  for (int aligned = 0; aligned < 2; ++aligned) {
    for (std::size_t n = 0; n <= kSweep; ++n) {
      for (std::size_t misalign = 0; misalign < 4; ++misalign) {
        const std::size_t off_x = misalign, off_y = (misalign * 3) % 4;
        std::vector<In> x(off_x + n);
        for (auto& v : x) v = draw_input<In>(rng, static_cast<int>(rng() % 6));
        std::vector<std::int32_t> m(n + 1), shift(n + 1);
        std::vector<float> scale(n + 1);
        for (std::size_t i = 0; i <= n; ++i) {
          const Multiplier d = draw_multiplier(rng);
          m[i] = d.m;
          shift[i] = d.shift;
          scale[i] = d.scale;
        }
        // Output range: full, narrow, or a fused-activation window; the zero
        // point anywhere in it (ends included); input zero points at the ends
        // of the input type too (saturating int32 subtraction).
        Range range = Range::full<Out>();
        if (rng() % 3 == 0) range = Range::narrow<Out>();
        if (rng() % 4 == 0) range = {range.qmin + static_cast<std::int32_t>(rng() % 20), range.qmax - 3};
        const std::int32_t zp = std::uniform_int_distribution<std::int32_t>(range.qmin, range.qmax)(rng);
        std::int32_t izp = 0;
        if (rng() % 2) {
          const std::int64_t lo = std::numeric_limits<In>::lowest(), hi = std::numeric_limits<In>::max();
          izp = static_cast<std::int32_t>(rng() % 3 == 0 ? (rng() % 2 ? lo : hi)
                                                         : std::uniform_int_distribution<std::int64_t>(lo, hi)(rng));
        }
        const RequantizeArgs args{izp, zp, range};

        std::vector<Out> got(off_y + n + kGuard), want(n);
        std::memset(got.data(), kSentinel, got.size() * sizeof(Out));
        if (aligned) {
          const RequantAligned src{m.data(), shift.data(), scale.data()};
          Kernels<P>::template requantize<Rule>(x.data() + off_x, got.data() + off_y, n, src, args);
          Kernels<Path::kScalar>::template requantize<Rule>(x.data() + off_x, want.data(), n, src, args);
        } else {
          const RequantBroadcast src{m[0], shift[0], scale[0]};
          Kernels<P>::template requantize<Rule>(x.data() + off_x, got.data() + off_y, n, src, args);
          Kernels<Path::kScalar>::template requantize<Rule>(x.data() + off_x, want.data(), n, src, args);
        }
        ASSERT_TRUE(guard_intact(got, 0, off_y)) << label << " wrote before the output, n=" << n;
        ASSERT_TRUE(guard_intact(got, off_y + n, got.size())) << label << " wrote past the output, n=" << n;
        for (std::size_t i = 0; i < n; ++i) {
          ASSERT_EQ(+got[off_y + i], +want[i])
              << label << (aligned ? " aligned" : " broadcast") << " n=" << n << " i=" << i << " x=" << +x[off_x + i]
              << " izp=" << izp << " zp=" << zp << " m=" << m[aligned ? i : 0] << " shift=" << shift[aligned ? i : 0]
              << " scale=" << scale[aligned ? i : 0];
          // And the portable loop is the one-element reference.
          const std::size_t k = aligned ? i : 0;
          ASSERT_EQ(+want[i], requantize<Rule>(x[off_x + i], m[k], shift[k], scale[k], args));
        }
      }
    }
  }
}

TEST(RequantizeSimd, EveryPathRuleAndTypeMatchesThePortableLoop) {
  int runs = 0;
  for_each_path([&](auto path) {
    constexpr Path P = decltype(path)::value;
    std::uint32_t seed = 1;
    for_each_type<AllRules>([&](auto rule) {
      for_each_type<AllInputs>([&](auto in) {
        for_each_type<AllOutputs>([&](auto out) {
          sweep<P, decltype(rule), decltype(in), decltype(out)>(seed++);
          ++runs;
        });
      });
    });
  });
  EXPECT_GE(runs, 60);
}

// Every input type's extremes with every rule's extreme multipliers, through
// the vector body (16 elements of the same multiplier).
TEST(RequantizeSimd, Int32ExtremesAndSaturation) {
  const std::vector<std::int32_t> values = {kMin,  kMin + 1, kMin + 2, -(1 << 30), -65536, -1, 0,          1,
                                            65536, 1 << 30,  kMax - 2, kMax - 1,   kMax,   3,  -(1 << 24), 77};
  for_each_path([&](auto path) {
    constexpr Path P = decltype(path)::value;
    for_each_type<AllRules>([&](auto rule) {
      using Rule = decltype(rule);
      for (std::int32_t m : {0, 1, 1 << 30, kMax}) {
        for (std::int32_t shift : {-31, -30, -16, -1, 0, 1, 15, 30}) {
          for (float scale : {0x1p-40f, 0.25f, 0.9999999f, 1.0f, 255.5f, 0x1p40f, 3.0e38f}) {
            for (std::int32_t izp : {0, kMin, kMax, -5}) {
              const RequantizeArgs args{izp, -3, Range::full<std::int8_t>()};
              std::vector<std::int8_t> got(values.size()), want(values.size());
              const RequantBroadcast src{m, shift, scale};
              Kernels<P>::template requantize<Rule>(values.data(), got.data(), values.size(), src, args);
              for (std::size_t i = 0; i < values.size(); ++i)
                want[i] = static_cast<std::int8_t>(requantize<Rule>(values[i], m, shift, scale, args));
              ASSERT_EQ(got, want) << path_name(P) << " " << Rule::name() << " m=" << m << " shift=" << shift
                                   << " scale=" << scale << " izp=" << izp;
            }
          }
        }
      }
    });
  });
}

// Where the exact result exists, the saturations above do not change it:
// a huge accumulator with a multiplier >= 1 clamps to qmax/qmin.
TEST(Requantize, SaturatesInsteadOfWrapping) {
  const RequantizeArgs args{0, 0, Range::full<std::int8_t>()};
  for (std::int32_t x : {kMax, 1 << 28, 300}) {
    EXPECT_EQ(requantize<GemmlowpRounding>(x, 1 << 30, 30, 0.0f, args), 127) << x;
    EXPECT_EQ(requantize<SingleRounding>(x, 1 << 30, 30, 0.0f, args), 127) << x;
    EXPECT_EQ(requantize<TvmToNearest>(x, 1 << 30, 30, 0.0f, args), 127) << x;
    EXPECT_EQ(requantize<GemmlowpRounding>(-x, 1 << 30, 30, 0.0f, args), -128) << x;
  }
  // int32 input minus a zero point: saturates, no wrap to the other end.
  const RequantizeArgs izp_args{-100, 0, Range::full<std::int16_t>()};
  EXPECT_EQ(requantize<SingleRounding>(kMax, 1 << 30, -20, 0.0f, izp_args), 1024);
  EXPECT_EQ(input_difference(kMax, -100), kMax);
  EXPECT_EQ(input_difference(kMin, 100), kMin);
  EXPECT_EQ(input_difference(std::int8_t{-128}, 127), -255);
}

// ---------------------------------------------------------------------------
// Schemes: per-axis on any axis, both layouts, blocked, per-element

std::int64_t offset_of(const std::vector<std::int64_t>& idx, const std::vector<std::int64_t>& dims, Layout layout) {
  std::int64_t off = 0;
  const int rank = static_cast<int>(dims.size());
  if (layout == Layout::kRowMajor)
    for (int d = 0; d < rank; ++d) off = off * dims[d] + idx[d];
  else
    for (int d = rank - 1; d >= 0; --d) off = off * dims[d] + idx[d];
  return off;
}

template <class Rule, Path P>
void check_scheme(const std::vector<std::int64_t>& dims, Layout layout, Granularity g, int axis, std::int64_t block,
                  std::mt19937& rng) {
  const int rank = static_cast<int>(dims.size());
  const Shape shape = Shape::from(dims.data(), rank, layout);
  const std::int64_t n = shape.size();
  const int a = axis < 0 ? axis + rank : axis;
  std::size_t count = 1;
  if (g == Granularity::kPerAxis) count = static_cast<std::size_t>(dims[a]);
  if (g == Granularity::kPerElement) count = static_cast<std::size_t>(n);
  if (g == Granularity::kBlocked) count = static_cast<std::size_t>(n / dims[a] * ((dims[a] + block - 1) / block));
  std::vector<std::int32_t> m(count), shift(count), x(n);
  std::vector<float> scale(count);
  for (std::size_t i = 0; i < count; ++i) {
    m[i] = static_cast<std::int32_t>(std::uniform_int_distribution<std::int64_t>(1 << 30, kMax)(rng));
    shift[i] = std::uniform_int_distribution<int>(-14, -4)(rng);
    scale[i] = std::ldexp(std::uniform_real_distribution<float>(0.5f, 1.0f)(rng), shift[i]);
  }
  for (auto& v : x) v = std::uniform_int_distribution<std::int32_t>(-(1 << 20), 1 << 20)(rng);
  RequantizeParamsView p{g, axis, block, m.data(), shift.data(), scale.data(), count, 0, 3, Range::full<std::int8_t>()};
  Requantizer<std::int8_t, Rule, std::int32_t, P> rq(shape, p);
  std::vector<std::int8_t> y(n);
  rq.requantize(x.data(), y.data());

  // Naive: walk every multi-index, find its parameter from the definition.
  std::vector<std::int64_t> idx(rank, 0);
  for (std::int64_t k = 0; k < n; ++k) {
    const std::int64_t off = offset_of(idx, dims, layout);
    std::int64_t param = 0;
    if (g == Granularity::kPerAxis) param = idx[a];
    if (g == Granularity::kPerElement) param = off;
    if (g == Granularity::kBlocked) {
      std::vector<std::int64_t> pdims = dims, pidx = idx;
      pdims[a] = (dims[a] + block - 1) / block;
      pidx[a] = idx[a] / block;
      param = offset_of(pidx, pdims, layout);
    }
    const std::int32_t want = requantize<Rule>(x[off], m[param], shift[param], scale[param], p.args());
    ASSERT_EQ(y[off], want) << Rule::name() << " " << path_name(P) << " " << granularity_name(g) << " axis " << axis
                            << " offset " << off;
    for (int d = rank - 1; d >= 0; --d) {  // next multi-index (any order visits all)
      if (++idx[d] < dims[d]) break;
      idx[d] = 0;
    }
  }
}

TEST(RequantizeScheme, EveryAxisBothLayoutsShortAndLongRuns) {
  std::mt19937 rng(7);
  const std::vector<std::vector<std::int64_t>> shapes = {{37},          {5, 40},  {40, 5},  {3, 4, 5},   {2, 17, 3},
                                                         {2, 3, 2, 33}, {600, 3}, {3, 600}, {2, 300, 2}, {1, 1, 1}};
  for_each_path([&](auto path) {
    constexpr Path P = decltype(path)::value;
    for_each_type<AllRules>([&](auto rule) {
      using Rule = decltype(rule);
      for (const auto& dims : shapes) {
        const int rank = static_cast<int>(dims.size());
        for (Layout layout : {Layout::kRowMajor, Layout::kColMajor}) {
          check_scheme<Rule, P>(dims, layout, Granularity::kPerTensor, 0, 0, rng);
          check_scheme<Rule, P>(dims, layout, Granularity::kPerElement, 0, 0, rng);
          for (int axis = -rank; axis < rank; ++axis) {
            check_scheme<Rule, P>(dims, layout, Granularity::kPerAxis, axis, 0, rng);
            check_scheme<Rule, P>(dims, layout, Granularity::kBlocked, axis, 2, rng);
          }
        }
      }
    });
  });
}

// ---------------------------------------------------------------------------
// From float scales

TEST(RequantizeFromScales, TvmStyleMultipliersPerChannel) {
  const Shape shape = Shape::row_major({2, 3, 4});  // channel axis 1, NCHW-like
  const std::vector<float> in_scale = {0.0123f, 2.5e-5f, 0.5f};
  const std::vector<std::int32_t> in_zp = {0, 0, 0};
  QParamsView input{Granularity::kPerAxis, 1, 0, in_scale.data(), in_zp.data(), 3, Range::full<std::int32_t>()};
  const float out_scale = 0.047f;
  Requantizer<std::uint8_t, TvmToNearest> rq;
  ASSERT_TRUE((Requantizer<std::uint8_t, TvmToNearest>::from_scales(shape, input, out_scale, 120,
                                                                    Range::full<std::uint8_t>(), &rq)));
  for (std::size_t c = 0; c < 3; ++c) {
    const QuantizedMultiplier q = quantize_multiplier(double(in_scale[c]) / double(out_scale), MultiplierStyle::kTvm);
    EXPECT_EQ(rq.params().multiplier[c], q.multiplier);
    EXPECT_EQ(rq.params().shift[c], q.shift);
  }
  std::vector<std::int32_t> x(24);
  for (int i = 0; i < 24; ++i) x[i] = (i - 12) * 1000;
  std::vector<std::uint8_t> y(24);
  rq.requantize(x.data(), y.data());
  for (int i = 0; i < 24; ++i) {
    const int c = (i / 4) % 3;
    const double exact = x[i] * double(in_scale[c]) / out_scale + 120;
    EXPECT_NEAR(y[i], std::clamp(exact, 0.0, 255.0), 0.5 + 1e-6) << i;
  }
}

TEST(RequantizeFromScales, ConvScalesAsTfliteAndXnnpackComputeThem) {
  const Shape shape = Shape::row_major({5, 3});  // [pixels, output channels]: channel axis last
  const std::vector<float> w_scale = {0.002f, 0.0031f, 0.00007f};
  const QParams weights = QParams::per_axis(1, w_scale, {}, Range::narrow<std::int8_t>());
  const float in_scale = 0.021f, out_scale = 0.11f;
  Requantizer<std::int8_t, GemmlowpRounding> fixed;
  ASSERT_TRUE((Requantizer<std::int8_t, GemmlowpRounding>::from_conv_scales(
      shape, 1, in_scale, weights.view(), out_scale, -4, Range::full<std::int8_t>(), &fixed)));
  Requantizer<std::int8_t, Fp32Rounding> fp32;
  ASSERT_TRUE((Requantizer<std::int8_t, Fp32Rounding>::from_conv_scales(shape, -1, in_scale, weights.view(), out_scale,
                                                                        -4, Range::full<std::int8_t>(), &fp32)));
  for (std::size_t c = 0; c < 3; ++c) {
    const double real = double(in_scale) * double(w_scale[c]) / double(out_scale);
    EXPECT_EQ(fixed.params().multiplier[c], quantize_multiplier(real).multiplier);
    EXPECT_EQ(fixed.params().shift[c], quantize_multiplier(real).shift);
    EXPECT_EQ(fp32.params().scale[c], in_scale * w_scale[c] / out_scale);  // float32, as XNNPACK
  }
}

// The accumulators' channel axis is given, not taken from the weights (whose
// axis 0 indexes [Cout, Cin, kH, kW]): square [P, Cout] accumulators with
// P == Cout requantize per column, and a count that fits no axis names both.
TEST(RequantizeFromScales, ConvScalesTakeTheAccumulatorsChannelAxis) {
  const std::int64_t C = 4;
  const Shape shape = Shape::row_major({C, C});  // [pixels, output channels]
  const std::vector<float> w_scale = {0.001f, 0.002f, 0.004f, 0.008f};
  const QParams weights = QParams::per_axis(0, w_scale, {}, Range::narrow<std::int8_t>());
  Requantizer<std::int8_t> rq;
  ASSERT_TRUE((Requantizer<std::int8_t>::from_conv_scales(shape, 1, 0.5f, weights.view(), 0.01f, 0,
                                                          Range::full<std::int8_t>(), &rq)));
  std::vector<std::int32_t> acc(C * C, 100);
  std::vector<std::int8_t> y(C * C);
  rq.requantize(acc.data(), y.data());
  for (std::int64_t p = 0; p < C; ++p)
    for (std::int64_t c = 0; c < C; ++c)  // 100 * 0.5 * w_scale[c] / 0.01 = 5, 10, 20, 40
      EXPECT_EQ(y[static_cast<std::size_t>(p * C + c)], 5 << c) << "pixel " << p << " channel " << c;

  const Shape wide = Shape::row_major({196, 32});
  Status e = Requantizer<std::int8_t>::from_conv_scales(wide, 1, 0.5f, weights.view(), 0.01f, 0,
                                                        Range::full<std::int8_t>(), &rq);
  EXPECT_EQ(e.code(), StatusCode::kShapeMismatch);
  EXPECT_NE(e.message().find("4 per-axis scales, but channel_axis = 1 of the accumulators' shape [196, 32] RowMajor "
                             "has 32 channels"),
            std::string::npos)
      << e.message();
  e = Requantizer<std::int8_t>::from_conv_scales(wide, 2, 0.5f, weights.view(), 0.01f, 0, Range::full<std::int8_t>(),
                                                 &rq);
  EXPECT_EQ(e.code(), StatusCode::kInvalidAxis);
  EXPECT_NE(e.message().find("channel_axis = 2 is out of range for the accumulators of shape [196, 32] RowMajor"),
            std::string::npos)
      << e.message();
  const QParams blocked = QParams::blocked(1, 2, {0.1f, 0.1f}, {}, Range::narrow<std::int8_t>());
  e = Requantizer<std::int8_t>::from_conv_scales(shape, 1, 0.5f, blocked.view(), 0.01f, 0, Range::full<std::int8_t>(),
                                                 &rq);
  EXPECT_NE(e.message().find("weights' scales are blocked"), std::string::npos) << e.message();
}

TEST(RequantizeFromScales, TinyMultipliersFlushToZeroAndHugeOnesAreRefused) {
  const Shape shape = Shape::row_major({4});
  const float tiny = 1e-12f, one = 1.0f;
  QParamsView input{Granularity::kPerTensor, 0, 0, &tiny, nullptr, 1, Range::full<std::int32_t>()};
  Requantizer<std::int8_t, TvmUpward> rq;
  ASSERT_TRUE(
      (Requantizer<std::int8_t, TvmUpward>::from_scales(shape, input, 1.0f, 0, Range::full<std::int8_t>(), &rq)));
  EXPECT_EQ(rq.params().multiplier[0], 0);
  EXPECT_EQ(rq.params().shift[0], 0);
  input.scale = &one;
  const Status s =
      Requantizer<std::int8_t, TvmUpward>::from_scales(shape, input, 1e-12f, 0, Range::full<std::int8_t>(), &rq);
  EXPECT_EQ(s.code(), StatusCode::kInvalidScale);
  EXPECT_NE(s.message().find("too large"), std::string::npos) << s.message();
}

// ---------------------------------------------------------------------------
// Errors

TEST(RequantizeErrors, NameTheBadValueAndWriteNothing) {
  const Shape shape = Shape::row_major({2, 3});
  std::vector<std::int32_t> x(6, 1000), m = {1 << 30, 1 << 30, 1 << 30}, shift = {-3, -3, -3};
  std::vector<float> scale = {0.1f, 0.1f, 0.1f};
  std::vector<std::int8_t> y(6, 42);
  auto view = [&] {
    return RequantizeParamsView{Granularity::kPerAxis, 1, 0, m.data(), shift.data(),
                                scale.data(),          3, 0, 0,        Range::full<std::int8_t>()};
  };
  auto expect_error = [&](RequantizeParamsView p, StatusCode code, const std::string& text, auto rule) {
    using Rule = decltype(rule);
    const Status s = requantize<Rule>(x.data(), y.data(), shape, p);
    EXPECT_EQ(s.code(), code) << s.message();
    EXPECT_NE(s.message().find(text), std::string::npos) << s.message();
    EXPECT_EQ(y, std::vector<std::int8_t>(6, 42)) << "written despite " << s.message();
  };
  EXPECT_TRUE((requantize<GemmlowpRounding>(x.data(), y.data(), shape, view())));
  y.assign(6, 42);

  auto p = view();
  p.shift = nullptr;
  expect_error(p, StatusCode::kInvalidArgument, "needs multiplier and shift", GemmlowpRounding{});
  p = view();
  p.scale = nullptr;
  expect_error(p, StatusCode::kInvalidArgument, "needs a scale", Fp32Rounding{});
  shift[2] = 31;
  expect_error(view(), StatusCode::kInvalidScale, "shift[2] = 31", SingleRounding{});
  shift[2] = -3;
  m[1] = -5;
  expect_error(view(), StatusCode::kInvalidScale, "multiplier[1] = -5", TvmToNearest{});
  m[1] = 1 << 30;
  scale[0] = std::numeric_limits<float>::infinity();
  expect_error(view(), StatusCode::kInvalidScale, "scale[0] = inf", Fp32Rounding{});
  scale[0] = 0.1f;
  p = view();
  p.output_zero_point = 128;
  expect_error(p, StatusCode::kInvalidZeroPoint, "output zero_point = 128", GemmlowpRounding{});
  p = view();
  p.range = {-200, 0};
  expect_error(p, StatusCode::kInvalidRange, "outside int8", GemmlowpRounding{});
  p = view();
  p.count = 2;
  expect_error(p, StatusCode::kShapeMismatch, "got 2, expected 3", GemmlowpRounding{});
  p = view();
  p.axis = 2;
  expect_error(p, StatusCode::kInvalidAxis, "axis = 2", GemmlowpRounding{});

  // Input zero point outside the input type.
  std::vector<std::int8_t> x8(6, 1);
  p = view();
  p.input_zero_point = 128;
  const Status s = requantize<GemmlowpRounding>(x8.data(), y.data(), shape, p);
  EXPECT_EQ(s.code(), StatusCode::kInvalidZeroPoint);
  EXPECT_NE(s.message().find("input zero_point = 128 is outside int8 [-128, 127]"), std::string::npos) << s.message();

  // From scales: unequal input zero points, bad scales.
  const std::vector<float> in_scale = {0.1f, 0.2f, 0.3f};
  const std::vector<std::int32_t> in_zp = {0, 1, 0};
  QParamsView input{Granularity::kPerAxis, 1, 0, in_scale.data(), in_zp.data(), 3, Range::full<std::int32_t>()};
  Requantizer<std::int8_t> rq;
  Status e = Requantizer<std::int8_t>::from_scales(shape, input, 0.5f, 0, Range::full<std::int8_t>(), &rq);
  EXPECT_EQ(e.code(), StatusCode::kInvalidZeroPoint);
  EXPECT_NE(e.message().find("zero_point[1] = 1 differs"), std::string::npos) << e.message();
  input.zero_point = nullptr;
  e = Requantizer<std::int8_t>::from_scales(shape, input, -0.5f, 0, Range::full<std::int8_t>(), &rq);
  EXPECT_NE(e.message().find("output scale = -0.5"), std::string::npos) << e.message();
  const float nan = std::nanf("");
  e = Requantizer<std::int8_t>::from_conv_scales(shape, 0, nan, input, 0.5f, 0, Range::full<std::int8_t>(), &rq);
  EXPECT_NE(e.message().find("input scale = nan"), std::string::npos) << e.message();
#if EIGENQ_EXCEPTIONS
  EXPECT_THROW((Requantizer<std::int8_t>(shape, RequantizeParamsView{})), Error);
#endif
}

}  // namespace
}  // namespace eigenq
