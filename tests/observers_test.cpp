// Observers against PyTorch 1.13 (tests/data/pytorch_observers.txt, written
// by tests/conformance/gen_observers.py): min/max and moving-average
// observers bit for bit, per tensor and per channel on every axis; the
// histogram observer's merged histogram bit for bit and its L2 range within
// one bin. Then the searches PyTorch does not have (percentile, MSE), the
// float-bounds histogram, TensorFlow's nudged parameters, and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "eigenq/observers.hpp"
#include "golden.hpp"

namespace eigenq {
namespace {

std::uint32_t bits(float v) {
  std::uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

struct Data {
  Shape shape;
  int batches = 0;
  std::vector<float> x;
  const float* batch(int b) const { return x.data() + static_cast<std::size_t>(b) * shape.size(); }
};

struct Golden {
  std::map<std::string, Data> data;
  std::vector<golden::Case> cases;
};

const Golden& load() {
  static const Golden g = [] {
    Golden out;
    for (auto& c : golden::load("pytorch_observers.txt")) {
      if (c.name.rfind("data_", 0) == 0) {
        Data d;
        const auto dims = c.ints("shape");
        d.shape = Shape::from(dims.data(), static_cast<int>(dims.size()), Layout::kRowMajor);
        d.batches = static_cast<int>(c.integer("batches"));
        d.x = c.floats("x");
        EXPECT_EQ(d.x.size(), static_cast<std::size_t>(d.shape.size() * d.batches)) << c.name;
        out.data[c.name] = std::move(d);
      } else {
        out.cases.push_back(std::move(c));
      }
    }
    return out;
  }();
  return g;
}

// PyTorch picks 127 for the symmetric uint8 zero point when quant_min and
// quant_max are passed explicitly as [0, 255]; from a Range alone eigenq
// cannot tell, and picks 128 (qparams.hpp).
bool known_zero_point_departure(const golden::Case& c) {
  return c.text("dtype") == "quint8" && c.text("qscheme") == "symmetric" && c.integer("custom") == 1 &&
         c.integer("qmin") == 0 && c.integer("qmax") == 255;
}

template <class Observer>
void expect_golden_qparams(const golden::Case& c, const Observer& o) {
  QParams p;
  ASSERT_TRUE(o.qparams(&p)) << c.name;
  const auto scale = c.floats("scale");
  const auto zp = c.ints("zp");
  ASSERT_EQ(p.scale.size(), scale.size()) << c.name;
  for (std::size_t k = 0; k < scale.size(); ++k) {
    EXPECT_EQ(bits(p.scale[k]), bits(scale[k])) << c.name << " scale[" << k << "] " << p.scale[k] << " vs " << scale[k];
    if (known_zero_point_departure(c))
      EXPECT_EQ(p.zero_point[k], 128) << c.name;
    else
      EXPECT_EQ(p.zero_point[k], zp[k]) << c.name << " zero_point[" << k << "]";
  }
}

void expect_bits(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t k = 0; k < got.size(); ++k)
    EXPECT_EQ(bits(got[k]), bits(want[k])) << what << "[" << k << "] " << got[k] << " vs " << want[k];
}

// The observer's eps: the case's, or PyTorch's default.
float eps_of(const golden::Case& c) { return c.has("eps") ? c.real("eps") : kScaleEpsilon; }

template <class Q>
void run_min_max_case(const golden::Case& c, const Data& d) {
  const std::string kind = c.text("observer");
  const Range range{static_cast<std::int32_t>(c.integer("qmin")), static_cast<std::int32_t>(c.integer("qmax"))};
  const Symmetry sym = c.text("qscheme") == "symmetric" ? Symmetry::kSymmetric : Symmetry::kAffine;
  const bool per_channel = kind == "per_channel" || kind == "moving_average_per_channel";
  const ParamLayout layout = per_channel ? per_axis_layout(static_cast<int>(c.integer("axis"))) : per_tensor_layout();
  auto run = [&](auto observer) {
    for (int b = 0; b < d.batches; ++b) ASSERT_TRUE(observer.observe(d.batch(b), d.shape)) << c.name;
    expect_bits(observer.min(), c.floats("min"), c.name + " min");
    expect_bits(observer.max(), c.floats("max"), c.name + " max");
    expect_golden_qparams(c, observer);
  };
  if (kind == "minmax" || kind == "per_channel")
    run(MinMaxObserver<Q>(layout, range, sym, eps_of(c)));
  else
    run(MovingAverageMinMaxObserver<Q>(layout, range, sym, c.real("c"), eps_of(c)));
}

TEST(ObserversPyTorch, MinMaxAndMovingAverageBitExact) {
  const Golden& g = load();
  std::map<std::string, int> checked;
  for (const auto& c : g.cases) {
    const std::string kind = c.text("observer");
    if (kind == "histogram") continue;
    const Data& d = g.data.at(c.text("data"));
    if (c.text("dtype") == "qint8")
      run_min_max_case<std::int8_t>(c, d);
    else
      run_min_max_case<std::uint8_t>(c, d);
    ++checked[kind];
    if (c.has("eps")) ++checked["eps"];
  }
  EXPECT_GE(checked["eps"], 144);
  EXPECT_GE(checked["minmax"], 20);
  EXPECT_GE(checked["moving_average"], 40);
  EXPECT_GE(checked["per_channel"], 60);
  EXPECT_GE(checked["moving_average_per_channel"], 60);
}

template <class Q>
bool run_histogram_case(const golden::Case& c, const Data& d) {
  const Range range{static_cast<std::int32_t>(c.integer("qmin")), static_cast<std::int32_t>(c.integer("qmax"))};
  const Symmetry sym = c.text("qscheme") == "symmetric" ? Symmetry::kSymmetric : Symmetry::kAffine;
  HistogramOptions options;
  options.bounds = HistogramBounds::kTorch113;
  HistogramObserver<Q> o(range, sym, options, eps_of(c));
  for (int b = 0; b < d.batches; ++b) {
    const Status s = o.observe(d.batch(b), d.shape);
    if (!s.is_ok()) {
      ADD_FAILURE() << c.name << ": " << s.message();
      return false;
    }
  }
  EXPECT_EQ(bits(o.min()), bits(c.real("min"))) << c.name;
  EXPECT_EQ(bits(o.max()), bits(c.real("max"))) << c.name;

  // The merged histogram, bin for bin.
  std::vector<float> want(static_cast<std::size_t>(c.integer("bins")), 0.0f);
  const auto index = c.ints("hist_index");
  const auto value = c.floats("hist_value");
  for (std::size_t k = 0; k < index.size(); ++k) want[static_cast<std::size_t>(index[k])] = value[k];
  expect_bits(o.histogram(), want, c.name + " histogram");

  // The L2 search: within one bin of PyTorch's range (exact in practice).
  FloatRange r;
  EXPECT_TRUE(o.l2_range(&r)) << c.name;
  const float bin = (o.max() - o.min()) / 2048.0f;
  EXPECT_LE(std::fabs(r.min - c.real("l2_min")), bin) << c.name;
  EXPECT_LE(std::fabs(r.max - c.real("l2_max")), bin) << c.name;
  const bool exact = r.min == c.real("l2_min") && r.max == c.real("l2_max");
  if (exact) expect_golden_qparams(c, o);
  return exact;
}

TEST(ObserversPyTorch, HistogramMergedBinsAndL2Range) {
  const Golden& g = load();
  int checked = 0, exact = 0;
  for (const auto& c : g.cases) {
    if (c.text("observer") != "histogram") continue;
    const Data& d = g.data.at(c.text("data"));
    exact +=
        c.text("dtype") == "qint8" ? run_histogram_case<std::int8_t>(c, d) : run_histogram_case<std::uint8_t>(c, d);
    ++checked;
  }
  EXPECT_GE(checked, 20);
  std::printf("histogram L2 range bit-exact in %d of %d cases\n", exact, checked);
}

// ---------------------------------------------------------------------------
// Beyond PyTorch

std::vector<float> heavy_tailed(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::student_t_distribution<float> t(2.0f);
  std::vector<float> x(n);
  for (auto& v : x) v = 0.5f * t(rng);
  return x;
}

TEST(HistogramObserver, ExactBoundsKeepEveryElementAndMatchDirectBinning) {
  const std::vector<float> x = heavy_tailed(5000, 3);
  HistogramObserver<std::int8_t> exact;
  HistogramOptions torch;
  torch.bounds = HistogramBounds::kTorch113;
  HistogramObserver<std::int8_t> truncated(Range::full<std::int8_t>(), Symmetry::kAffine, torch);
  ASSERT_TRUE(exact.observe(x.data(), x.size()));
  ASSERT_TRUE(truncated.observe(x.data(), x.size()));
  double kept_exact = 0, kept_torch = 0;
  for (float c : exact.histogram()) kept_exact += c;
  for (float c : truncated.histogram()) kept_torch += c;
  EXPECT_EQ(kept_exact, 5000.0);
  // PyTorch 1.13 bins over [trunc(min), trunc(max)] and drops the tails.
  EXPECT_LT(kept_torch, 5000.0);
  EXPECT_NE(std::trunc(exact.min()), exact.min());

  // One batch: the histogram is the plain binning over [min, max].
  std::vector<float> direct(2048, 0.0f);
  const float lo = exact.min(), hi = exact.max();
  for (float v : x) {
    auto b = static_cast<std::int64_t>((v - lo) * 2048.0f / (hi - lo));
    direct[static_cast<std::size_t>(std::min<std::int64_t>(b, 2047))] += 1.0f;
  }
  EXPECT_EQ(exact.histogram(), direct);
}

TEST(HistogramObserver, MergingKeepsTheMassOfEveryBatch) {
  HistogramObserver<std::uint8_t> o;
  double n = 0;
  for (std::uint32_t b = 0; b < 6; ++b) {
    std::vector<float> x = heavy_tailed(1000 + 100 * b, 10 + b);
    for (auto& v : x) v *= 1.0f + b;  // growing ranges force merges
    ASSERT_TRUE(o.observe(x.data(), x.size()));
    n += x.size();
  }
  double kept = 0;
  for (float c : o.histogram()) kept += c;
  EXPECT_NEAR(kept, n, 1e-3 * n);
}

TEST(HistogramObserver, TinyRangeThenWideRangeKeepsTheMass) {
  // The first range is too narrow for a common grid with the second
  // (PyTorch would divide by zero or allocate 2^40 cells): its elements are
  // kept as one point.
  for (const std::vector<float>& first :
       {std::vector<float>{0.0f, 1e-44f, 1e-45f}, std::vector<float>{1.0f, std::nextafter(1.0f, 2.0f), 1.0f}}) {
    HistogramObserver<std::int8_t> o;
    ASSERT_TRUE(o.observe(first.data(), first.size()));
    const std::vector<float> second = {-1000.0f, 5.0f, 1000.0f, 0.25f};
    ASSERT_TRUE(o.observe(second.data(), second.size()));
    double kept = 0;
    for (float c : o.histogram()) kept += c;
    EXPECT_EQ(kept, 7.0);
    EXPECT_EQ(o.min(), -1000.0f);
    FloatRange r;
    EXPECT_TRUE(o.l2_range(&r));
  }
}

TEST(HistogramObserver, PercentileAndMseClipOutliersMinMaxKeeps) {
  // 20000 values in [-1, 1] and one outlier at 100.
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> x(20000);
  for (auto& v : x) v = u(rng);
  x[123] = 100.0f;
  HistogramObserver<std::int8_t> o;
  ASSERT_TRUE(o.observe(x.data(), x.size()));
  FloatRange p999, p100, mse, l2;
  ASSERT_TRUE(o.percentile_range(99.9, &p999));
  ASSERT_TRUE(o.percentile_range(100.0, &p100));
  ASSERT_TRUE(o.mse_range(&mse));
  ASSERT_TRUE(o.l2_range(&l2));
  EXPECT_EQ(p100.max, 100.0f);
  EXPECT_NEAR(p999.max, 0.998f, 0.06f);
  EXPECT_NEAR(p999.min, -0.998f, 0.06f);
  // One outlier costs less than a coarser grid for the 20000 others: the
  // MSE search keeps almost all of it (0.99 * 100 on GPTQ's grid).
  EXPECT_GE(mse.max, 95.0f);
  EXPECT_LT(mse.max, 100.0f);
  // PyTorch's greedy L2 search drops the outlier's bin, then stops at the
  // first step that raises the error: 99.95 (PyTorch 1.13 gives the same
  // range on this data).
  EXPECT_GT(l2.max, 99.0f);
  QParams q;
  ASSERT_TRUE(o.min_max_qparams(&q));
  EXPECT_FLOAT_EQ(q.scale[0], (100.0f - o.min()) / 255.0f);
}

TEST(HistogramObserver, MseClipsWhereRoundingCostsMoreThanClipping) {
  // Gaussian values quantized to 4 bits: the rounding error of the full
  // range outweighs clipping the tails (the optimum is near 2.5 sigma,
  // the sample range about 4 sigma). At 8 bits it would not be.
  std::mt19937 rng(8);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(20000);
  for (auto& v : x) v = normal(rng);
  HistogramObserver<std::int8_t> four(Range::bits<std::int8_t>(4), Symmetry::kSymmetric);
  HistogramObserver<std::int8_t> eight(Range::full<std::int8_t>(), Symmetry::kSymmetric);
  ASSERT_TRUE(four.observe(x.data(), x.size()));
  ASSERT_TRUE(eight.observe(x.data(), x.size()));
  FloatRange r4, r8;
  ASSERT_TRUE(four.mse_range(&r4));
  ASSERT_TRUE(eight.mse_range(&r8));
  EXPECT_GT(r4.max, 2.0f);
  EXPECT_LT(r4.max, 3.2f);
  EXPECT_GT(r8.max, 3.2f);
}

TEST(HistogramObserver, MseKeepsTheWholeRangeWithoutOutliers) {
  std::mt19937 rng(6);
  std::uniform_real_distribution<float> u(0.0f, 4.0f);
  std::vector<float> x(50000);
  for (auto& v : x) v = u(rng);
  HistogramObserver<std::uint8_t> o;
  ASSERT_TRUE(o.observe(x.data(), x.size()));
  FloatRange r;
  ASSERT_TRUE(o.mse_range(&r));
  EXPECT_GT(r.max, 3.9f);
  EXPECT_EQ(r.min, 0.0f);
  // Symmetric int8 with norm 2.4 (GPTQ's) also runs.
  HistogramObserver<std::int8_t> s(Range::narrow<std::int8_t>(), Symmetry::kSymmetric);
  ASSERT_TRUE(s.observe(x.data(), x.size()));
  QParams q;
  ASSERT_TRUE(s.mse_qparams(&q, MseSearch{100, 0.8, 2.4}));
  EXPECT_EQ(q.zero_point[0], 0);
  EXPECT_EQ(q.range, Range::narrow<std::int8_t>());
}

TEST(HistogramObserver, Errors) {
  HistogramObserver<std::int8_t> o;
  QParams q;
  EXPECT_EQ(o.qparams(&q).code(), StatusCode::kInvalidArgument);
  const float bad[] = {1.0f, INFINITY};
  const Status s = o.observe(bad, 2);
  EXPECT_NE(s.message().find("element 1 = inf"), std::string::npos) << s.message();
  EXPECT_FALSE(o.initialized());
  const float ok[] = {1.0f, 2.0f};
  ASSERT_TRUE(o.observe(ok, 2));
  EXPECT_EQ(o.percentile_qparams(120.0, &q).code(), StatusCode::kInvalidArgument);
  HistogramOptions torch;
  torch.bounds = HistogramBounds::kTorch113;
  HistogramObserver<std::int8_t> t(Range::full<std::int8_t>(), Symmetry::kAffine, torch);
  ASSERT_TRUE(t.observe(ok, 2));
  const Status m = t.mse_qparams(&q);
  EXPECT_NE(m.message().find("HistogramBounds::kExact"), std::string::npos) << m.message();
  HistogramObserver<std::int8_t> bad_range(Range{-300, 0});
  EXPECT_EQ(bad_range.observe(ok, 2).code(), StatusCode::kInvalidRange);
}

TEST(MinMaxObserver, PerChannelStreamingAndErrors) {
  MinMaxObserver<std::int8_t> o(per_axis_layout(-1), Range::narrow<std::int8_t>(), Symmetry::kSymmetric);
  QParams q;
  EXPECT_EQ(o.qparams(&q).code(), StatusCode::kInvalidArgument);
  const std::vector<float> a = {1, -2, 3, 4, 5, -6}, b = {-10, 0, 0, 0, 20, 0};
  ASSERT_TRUE(o.observe(a.data(), Shape::row_major({2, 3})));
  ASSERT_TRUE(o.observe(b.data(), Shape::row_major({2, 3})));
  EXPECT_EQ(o.min(), (std::vector<float>{-10, -2, -6}));
  EXPECT_EQ(o.max(), (std::vector<float>{4, 20, 3}));
  ASSERT_TRUE(o.qparams(&q));
  EXPECT_FLOAT_EQ(q.scale[1], 20.0f / 127.0f);
  const Status s = o.observe(a.data(), Shape::row_major({3, 2}));
  EXPECT_EQ(s.code(), StatusCode::kShapeMismatch) << s.message();
  EXPECT_EQ(o.max(), (std::vector<float>{4, 20, 3}));  // unchanged
  const Status axis = o.observe(a.data(), Shape::row_major({6}));
  EXPECT_EQ(axis.code(), StatusCode::kShapeMismatch);
  MinMaxObserver<std::int8_t> bad(per_axis_layout(3));
  EXPECT_EQ(bad.observe(a.data(), Shape::row_major({2, 3})).code(), StatusCode::kInvalidAxis);
}

// eps is the smallest scale every observer chooses (PyTorch's `eps`): a dead
// channel gets it, and a bad one is refused by value before anything changes.
TEST(Observers, EpsIsAParameter) {
  const std::vector<float> x = {0, 0, 0, 0, 1, -1};
  const float eps = 0x1p-10f;
  MinMaxObserver<std::int8_t> mm(per_axis_layout(0), Range::full<std::int8_t>(), Symmetry::kAffine, eps);
  ASSERT_TRUE(mm.observe(x.data(), Shape::row_major({3, 2})));
  QParams q = mm.qparams();
  EXPECT_EQ(q.scale[0], eps);
  EXPECT_EQ(q.scale[1], eps);
  EXPECT_EQ(q.scale[2], 2.0f / 255.0f);
  MovingAverageMinMaxObserver<std::uint8_t> ma(per_tensor_layout(), Range::full<std::uint8_t>(), Symmetry::kAffine,
                                               0.01f, eps);
  ASSERT_TRUE(ma.observe(x.data(), Shape::row_major({4})));  // the first four: all zero
  EXPECT_EQ(ma.qparams().scale[0], eps);
  HistogramObserver<std::int8_t> h(Range::full<std::int8_t>(), Symmetry::kSymmetric, {}, eps);
  ASSERT_TRUE(h.observe(x.data(), 4));
  ASSERT_TRUE(h.min_max_qparams(&q));
  EXPECT_EQ(q.scale[0], eps);
  EXPECT_EQ(choose_qparams<std::int8_t>(0.0f, 0.0f, Range::full<std::int8_t>(), Symmetry::kAffine, eps).scale, eps);

  MinMaxObserver<std::int8_t> bad(per_tensor_layout(), Range::full<std::int8_t>(), Symmetry::kAffine, 0.0f);
  const Status s = bad.observe(x.data(), Shape::row_major({6}));
  EXPECT_EQ(s.code(), StatusCode::kInvalidScale);
  EXPECT_NE(s.message().find("eps = 0 must be finite and > 0"), std::string::npos) << s.message();
  EXPECT_FALSE(bad.initialized());
  HistogramObserver<std::int8_t> bad_h(Range::full<std::int8_t>(), Symmetry::kAffine, {}, 1e-39f);
  EXPECT_EQ(bad_h.observe(x.data(), 6).code(), StatusCode::kInvalidScale);  // 1 / eps overflows
}

TEST(TfNudge, QParamsFormUint8AndInt8) {
  QParams q;
  ASSERT_TRUE(tf_nudged_qparams<std::uint8_t>(-2.5f, 252.5f, 8, false, &q));
  EXPECT_EQ(q.zero_point[0], 3);  // 0 - (-2.5 / 1) = 2.5 rounds half away from zero
  EXPECT_EQ(q.range, (Range{0, 255}));
  EXPECT_EQ(q.scale[0], 1.0f);
  ASSERT_TRUE(tf_nudged_qparams<std::int8_t>(-2.5f, 252.5f, 8, false, &q));
  EXPECT_EQ(q.zero_point[0], 3 - 128);
  EXPECT_EQ(q.range, Range::full<std::int8_t>());
  ASSERT_TRUE(tf_nudged_qparams<std::uint8_t>(-0.1f, 0.9f, 8, false, &q));
  EXPECT_EQ(q.zero_point[0], 25);  // 0.1f / (1.0000000149f / 255) = 25.499998 in float32
  ASSERT_TRUE(tf_nudged_qparams<std::int8_t>(-1.0f, 1.0f, 8, true, &q));
  EXPECT_EQ(q.range, Range::narrow<std::int8_t>());
  EXPECT_EQ(q.zero_point[0], 0);  // qmin - min / scale = 1 + 127 = 128 -> 0
  // A range excluding zero is moved to include it: [12, 123] -> zero point 0.
  ASSERT_TRUE(tf_nudged_qparams<std::uint8_t>(12.0f, 123.0f, 8, false, &q));
  EXPECT_EQ(q.zero_point[0], 0);
  ASSERT_TRUE(tf_nudged_qparams<std::uint8_t>(-1.0f, 2.0f, 4, false, &q));
  EXPECT_EQ(q.range, (Range{0, 15}));
  EXPECT_EQ(q.zero_point[0], 5);  // 1 / 0.2 = 5
  const Status s = tf_nudged_qparams<std::uint8_t>(1.0f, 1.0f, 8, false, &q);
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("must be < max"), std::string::npos) << s.message();
  EXPECT_FALSE((tf_nudged_qparams<std::int8_t>(-1.0f, 1.0f, 16, false, &q)).is_ok());  // 16 bits do not fit int8
}

}  // namespace
}  // namespace eigenq
