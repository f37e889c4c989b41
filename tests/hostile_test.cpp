// Hostile input to the library: shapes whose size overflows, ranks outside
// [0, kMaxRank], block sizes near 2^63, bit widths that would be undefined
// shifts, granularities cast into the enum, null buffers, non-finite and
// float32-overflowing data in the observers and calibration, and ranges
// PyTorch refuses. Each is refused with a message naming the value (or, where
// an answer exists, answered correctly), and nothing is written or changed.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "eigenq/eigenq.hpp"

namespace eigenq {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();

void expect_error(const Status& status, StatusCode code, const std::string& part) {
  EXPECT_FALSE(status.is_ok());
  EXPECT_EQ(status.code(), code) << status.message();
  EXPECT_NE(status.message().find(part), std::string::npos)
      << "message \"" << status.message() << "\" does not contain \"" << part << "\"";
}

const Range kInt8 = Range::full<std::int8_t>();

// ---------------------------------------------------------------------------
// Shapes

TEST(HostileShape, ElementCountOverflowIsRefused) {
  const std::int64_t big = (std::int64_t{1} << 62) + 1;  // times 4 wraps to 4
  const Shape wraps = Shape::row_major({big, 4});
  EXPECT_EQ(wraps.size(), -1);
  expect_error(check_shape(wraps), StatusCode::kInvalidArgument,
               "shape [4611686018427387905, 4] has more than 2^63 - 1 elements");
  Quantizer<std::int8_t> qz;
  expect_error(Quantizer<std::int8_t>::create(wraps, QParams::per_tensor(1.0f, 0, kInt8), &qz),
               StatusCode::kInvalidArgument, "has more than 2^63 - 1 elements");
  // A zero dimension does not excuse the others: no such tensor exists, and
  // per-axis strides over the other dimensions would overflow.
  const Shape hollow = Shape::row_major({0, std::int64_t{1} << 32, std::int64_t{1} << 32});
  EXPECT_EQ(hollow.size(), -1);
  const std::vector<float> scales(1, 1.0f);
  expect_error(Quantizer<std::int8_t>::create(hollow, QParams::per_axis(0, {}, {}, kInt8), &qz),
               StatusCode::kInvalidArgument, "more than 2^63 - 1 elements");
  // The largest valid count is accepted.
  EXPECT_EQ(Shape::row_major({kInt64Max}).size(), kInt64Max);
  EXPECT_EQ(Shape::row_major({0, kInt64Max}).size(), 0);
  EXPECT_TRUE(check_shape(Shape::row_major({0, kInt64Max})).is_ok());
}

TEST(HostileShape, RankOutsideZeroToMaxRankIsKeptAndRefused) {
  std::vector<std::int64_t> dims(40, 1);
  dims[1] = 3;
  // Rank 9 used to write its ninth dimension over `rank` (becoming 2); rank
  // 40 wrote past the array.
  for (int rank : {9, 40, -1}) {
    const Shape s = Shape::from(dims.data(), rank, Layout::kRowMajor);
    EXPECT_EQ(s.rank, rank);
    EXPECT_EQ(s.size(), -1);
    expect_error(check_shape(s), StatusCode::kInvalidArgument, "rank " + std::to_string(rank) + " is outside [0, 8]");
    Quantizer<std::int8_t> qz;
    expect_error(Quantizer<std::int8_t>::create(s, QParams::per_tensor(1.0f, 0, kInt8), &qz),
                 StatusCode::kInvalidArgument, "rank " + std::to_string(rank));
  }
  const Shape nine = Shape::row_major({1, 3, 1, 1, 1, 1, 1, 1, 1});
  EXPECT_EQ(nine.rank, 9);
  expect_error(check_shape(nine), StatusCode::kInvalidArgument, "rank 9 is outside [0, 8]");
  EXPECT_TRUE(check_shape(Shape::from(dims.data(), 8, Layout::kColMajor)).is_ok());
}

TEST(HostileShape, BlockCountDoesNotOverflowForHugeBlockSizes) {
  // ceil(5 / (2^63 - 1)) is 1 block per row; (5 + block - 1) used to overflow.
  const Shape shape = Shape::row_major({3, 5});
  Quantizer<std::int8_t> qz;
  const Status s =
      Quantizer<std::int8_t>::create(shape, QParams::blocked(1, kInt64Max, {1.0f, 2.0f, 4.0f}, {}, kInt8), &qz);
  ASSERT_TRUE(s.is_ok()) << s.message();
  EXPECT_EQ(qz.resolved().blocks, 1);
  EXPECT_EQ(qz.resolved().count, 3u);
  const std::vector<float> x = {1, 2, 3, 4, 5, 2, 4, 6, 8, 10, 4, 8, 12, 16, 20};
  std::vector<std::int8_t> q(x.size());
  qz.quantize(x.data(), q.data());
  EXPECT_EQ(q, std::vector<std::int8_t>({1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2, 3, 4, 5}));
  MinMax mm;
  ASSERT_TRUE(compute_min_max(x.data(), shape, blocked_layout(1, kInt64Max), &mm).is_ok());
  EXPECT_EQ(mm.max, std::vector<float>({5, 10, 20}));
}

TEST(HostileShape, GranularityCastIntoTheEnumIsRefused) {
  const float scale = 1.0f;
  const std::int32_t zero_point = 0;
  QParamsView v{static_cast<Granularity>(7), 0, 0, &scale, &zero_point, 1, kInt8};
  Quantizer<std::int8_t> qz;
  expect_error(Quantizer<std::int8_t>::create(Shape::row_major({4}), v, &qz), StatusCode::kInvalidArgument,
               "granularity = 7 is not a Granularity");
  MinMax mm;
  const float x[4] = {1, 2, 3, 4};
  expect_error(compute_min_max(x, Shape::row_major({4}), v.layout(), &mm), StatusCode::kInvalidArgument,
               "granularity = 7");
}

// ---------------------------------------------------------------------------
// Bit widths

TEST(HostileRange, BitsOutsideTheStorageWidthAreRefusedByWidth) {
  Range r{1, 2};
  for (int bits : {0, -1, 9, 33, 64}) {
    expect_error(
        Range::bits<std::int8_t>(bits, &r), StatusCode::kInvalidRange,
        "Range::bits<int8>(" + std::to_string(bits) + "): width " + std::to_string(bits) + " is outside [1, 8]");
    EXPECT_EQ(r, (Range{1, 2}));  // unchanged
  }
  expect_error(Range::bits<std::uint8_t>(0, &r), StatusCode::kInvalidRange, "Range::bits<uint8>(0)");
  expect_error(Range::bits<std::int32_t>(33, &r), StatusCode::kInvalidRange, "is outside [1, 32]");
  try {
    (void)Range::bits<std::uint8_t>(0);  // used to be the one-level range [0, 0]
    ADD_FAILURE() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::kInvalidRange);
    EXPECT_NE(std::string(e.what()).find("width 0 is outside [1, 8]"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)Range::bits<std::int16_t>(64), Error);
  // Every valid width, at compile time too.
  static_assert(Range::bits<std::int8_t>(4) == Range{-8, 7});
  static_assert(Range::bits<std::int32_t>(32) == Range::full<std::int32_t>());
  static_assert(Range::bits<std::uint8_t>(1) == Range{0, 1});
  ASSERT_TRUE(Range::bits<std::uint8_t>(8, &r).is_ok());
  EXPECT_EQ(r, Range::full<std::uint8_t>());
}

// ---------------------------------------------------------------------------
// Null buffers

TEST(HostileBuffers, NullPointersWithElementsAreRefusedByName) {
  const Shape four = Shape::row_major({4});
  const std::vector<float> x(4, 1.0f);
  std::vector<float> y(4, 7.0f);
  QParams p;
  expect_error(choose_qparams<std::int8_t>(nullptr, four, per_tensor_layout(), kInt8, Symmetry::kAffine, &p),
               StatusCode::kInvalidArgument, "x is a null pointer, but shape [4] has 4 elements");
  MinMaxObserver<std::int8_t> minmax;
  expect_error(minmax.observe(nullptr, four), StatusCode::kInvalidArgument, "x is a null pointer");
  MovingAverageMinMaxObserver<std::int8_t> moving;
  expect_error(moving.observe(nullptr, four), StatusCode::kInvalidArgument, "x is a null pointer");
  HistogramObserver<std::int8_t> histogram;
  expect_error(histogram.observe(nullptr, std::size_t{4}), StatusCode::kInvalidArgument, "x is a null pointer");
  expect_error(histogram.observe(nullptr, four), StatusCode::kInvalidArgument, "x is a null pointer");

  FakeQuantSTE<> ste(QParams::per_tensor(0.5f, 0, kInt8));
  expect_error(ste.forward(nullptr, y.data(), four), StatusCode::kInvalidArgument, "x is a null pointer");
  expect_error(ste.forward(x.data(), nullptr, four), StatusCode::kInvalidArgument, "y is a null pointer");
  ASSERT_TRUE(ste.forward(x.data(), y.data(), four).is_ok());
  expect_error(ste.backward(nullptr, y.data(), four), StatusCode::kInvalidArgument, "dy is a null pointer");
  expect_error(ste.backward(x.data(), x.data(), nullptr, four), StatusCode::kInvalidArgument, "dx is a null pointer");
  FakeQuantize<std::uint8_t> module;
  module.enable_observer(false);
  module.enable_fake_quant(false);
  expect_error(module.forward(x.data(), nullptr, four), StatusCode::kInvalidArgument, "y is a null pointer");

  std::vector<std::uint8_t> packed(2);
  expect_error(quantize_packed<Int4>(nullptr, packed.data(), four, QParams::per_tensor(1.0f, 0, Int4::range()).view()),
               StatusCode::kInvalidArgument, "x is a null pointer");
  expect_error(
      dequantize_packed<Int4>(packed.data(), nullptr, four, QParams::per_tensor(1.0f, 0, Int4::range()).view()),
      StatusCode::kInvalidArgument, "y is a null pointer");

  const QParams int8_params = QParams::per_tensor(0.5f, 0, kInt8);
  std::vector<std::int8_t> q8(4, 9);
  expect_error(quantize<std::int8_t>(nullptr, q8.data(), four, int8_params.view()), StatusCode::kInvalidArgument,
               "x is a null pointer");
  expect_error(quantize<std::int8_t>(x.data(), nullptr, four, int8_params.view()), StatusCode::kInvalidArgument,
               "q is a null pointer");
  expect_error(dequantize<std::int8_t>(q8.data(), nullptr, four, int8_params.view()), StatusCode::kInvalidArgument,
               "y is a null pointer");
  expect_error(fake_quantize(nullptr, y.data(), four, int8_params.view()), StatusCode::kInvalidArgument,
               "x is a null pointer");
  EXPECT_EQ(q8, std::vector<std::int8_t>(4, 9)) << "written before a refusal";
  ASSERT_TRUE(quantize<std::int8_t>(nullptr, nullptr, Shape::row_major({0}), int8_params.view()).is_ok())
      << "an empty tensor needs no buffer";

  const std::int32_t m = 1 << 30, shift = 0;
  RequantizeParamsView rp;
  rp.multiplier = &m;
  rp.shift = &shift;
  rp.count = 1;
  rp.range = kInt8;
  std::vector<std::int8_t> q(4);
  expect_error(requantize<GemmlowpRounding, std::int32_t, std::int8_t>(nullptr, q.data(), four, rp),
               StatusCode::kInvalidArgument, "x is a null pointer");

  const float lo = -1.0f, hi = 1.0f;
  tf::MinMaxView mm;
  mm.min = &lo;
  mm.max = &hi;
  mm.count = 1;
  expect_error(tf::fake_quant_with_min_max(nullptr, y.data(), four, mm, tf::Op::kArgs), StatusCode::kInvalidArgument,
               "x is a null pointer");
  float dmax = 0;
  expect_error(
      tf::fake_quant_with_min_max_gradient(x.data(), x.data(), y.data(), nullptr, &dmax, four, mm, tf::Op::kVars),
      StatusCode::kInvalidArgument, "dmin and dmax");
  EXPECT_EQ(y, std::vector<float>(4, 1.0f));  // the one forward pass above, nothing else

  // Empty tensors need no buffer.
  const Shape empty = Shape::row_major({0, 3});
  EXPECT_TRUE(minmax.observe(nullptr, empty).is_ok());
  EXPECT_TRUE(ste.forward(nullptr, nullptr, empty).is_ok());
  EXPECT_TRUE(histogram.observe(nullptr, std::size_t{0}).is_ok());
}

// ---------------------------------------------------------------------------
// Calibration and observers

TEST(HostileCalibration, InfiniteDataGivesNoScaleAndSaysWhy) {
  const std::vector<float> x = {1.0f, kInf, -2.0f, 0.5f};
  QParams p = QParams::per_tensor(9.0f, 9, kInt8);
  expect_error(
      choose_qparams<std::int8_t>(x.data(), Shape::row_major({4}), per_tensor_layout(), kInt8, Symmetry::kAffine, &p),
      StatusCode::kInvalidScale, "parameter 0: min = -2, max = inf: the data holds an infinite value");
  EXPECT_EQ(p.scale, std::vector<float>{9.0f});  // unchanged
  MinMaxObserver<std::int8_t> obs;
  ASSERT_TRUE(obs.observe(x.data(), Shape::row_major({4})).is_ok());  // the running max is inf, as it should be
  expect_error(obs.qparams(&p), StatusCode::kInvalidScale, "infinite value");
  // Per channel, the message names the channel.
  const std::vector<float> two = {1.0f, 2.0f, -kInf, 3.0f};
  expect_error(choose_qparams<std::int8_t>(two.data(), Shape::row_major({2, 2}), per_axis_layout(0), kInt8,
                                           Symmetry::kSymmetric, &p),
               StatusCode::kInvalidScale, "parameter 1: min = -inf");
  const Eigen::Tensor<float, 1> t = Eigen::TensorMap<const Eigen::Tensor<float, 1>>(x.data(), 4);
  EXPECT_THROW((void)choose_qparams<std::int8_t>(t, per_tensor_layout()), Error);
}

TEST(HostileCalibration, RangeWiderThanFloat32GivesNoScale) {
  // max' - min' overflows float32: PyTorch's rules give an infinite scale.
  const std::vector<float> x = {-3.4e38f, 3.4e38f, 0.0f};
  QParams p;
  expect_error(choose_qparams<std::uint8_t>(x.data(), Shape::row_major({3}), per_tensor_layout(),
                                            Range::full<std::uint8_t>(), Symmetry::kAffine, &p),
               StatusCode::kInvalidScale, "gives scale = inf");
  // Symmetric needs only max(|min|, |max|), which fits: fine.
  ASSERT_TRUE(
      choose_qparams<std::int8_t>(x.data(), Shape::row_major({3}), per_tensor_layout(), kInt8, Symmetry::kSymmetric, &p)
          .is_ok());
  EXPECT_TRUE(std::isfinite(p.scale[0]));
}

TEST(HostileHistogram, HugeSpansAreBinnedCorrectly) {
  // (v - left) * 2048 overflows float32 once the span exceeds ~1.7e35; the
  // bin used to come from converting inf to int64.
  const std::vector<float> x = {-1e36f, -1.0f, 0.0f, 1.0f, 1e36f};
  HistogramObserver<std::int8_t> obs;
  ASSERT_TRUE(obs.observe(x.data(), x.size()).is_ok());
  const std::vector<float>& h = obs.histogram();
  ASSERT_EQ(h.size(), 2048u);
  EXPECT_EQ(std::accumulate(h.begin(), h.end(), 0.0f), 5.0f);
  EXPECT_EQ(h[0], 1.0f);
  EXPECT_EQ(h[1024], 3.0f);  // the middle of [-1e36, 1e36]
  EXPECT_EQ(h[2047], 1.0f);
  // PyTorch's L2 search overflows float32 here: an error, not a range.
  QParams p;
  expect_error(obs.qparams(&p), StatusCode::kInvalidArgument, "overflows float32");
  ASSERT_TRUE(obs.min_max_qparams(&p).is_ok());
  EXPECT_EQ(p.scale[0], 2e36f / 255.0f);

  // A span above float32's largest value: binned in double, and no scale.
  const std::vector<float> wide = {-3e38f, 0.0f, 3e38f};
  HistogramObserver<std::int8_t> w;
  ASSERT_TRUE(w.observe(wide.data(), wide.size()).is_ok());
  EXPECT_EQ(w.histogram()[0], 1.0f);
  EXPECT_EQ(w.histogram()[1024], 1.0f);
  EXPECT_EQ(w.histogram()[2047], 1.0f);
  expect_error(w.min_max_qparams(&p), StatusCode::kInvalidScale, "gives scale = inf");

  // A batch of one huge value: histc cannot widen [v, v] by +-1.
  const float one = 1e30f;
  HistogramObserver<std::int8_t> point;
  ASSERT_TRUE(point.observe(&one, 1).is_ok());
  EXPECT_EQ(point.histogram()[0], 1.0f);

  const float inf = kInf;
  expect_error(point.observe(&inf, 1), StatusCode::kInvalidArgument, "a histogram needs finite values");
}

TEST(HostileHistogram, ShapesAreValidated) {
  HistogramObserver<std::int8_t> obs;
  const std::vector<float> x(4, 1.0f);
  expect_error(obs.observe(x.data(), Shape::row_major({(std::int64_t{1} << 62) + 1, 4})), StatusCode::kInvalidArgument,
               "more than 2^63 - 1 elements");
  expect_error(obs.observe(x.data(), Shape::row_major({-4})), StatusCode::kInvalidArgument,
               "dimension 0 = -4 is negative");
  EXPECT_FALSE(obs.initialized());
}

TEST(HostileMovingAverage, AveragingConstantMustBeInZeroToOne) {
  const std::vector<float> x = {-1.0f, 2.0f};
  for (float c : {std::numeric_limits<float>::quiet_NaN(), -0.5f, 1.5f}) {
    MovingAverageMinMaxObserver<std::int8_t> obs(per_tensor_layout(), kInt8, Symmetry::kAffine, c);
    expect_error(obs.observe(x.data(), Shape::row_major({2})), StatusCode::kInvalidArgument, "averaging_constant = ");
    EXPECT_FALSE(obs.initialized());
  }
  for (float c : {0.0f, 1.0f}) {
    MovingAverageMinMaxObserver<std::int8_t> obs(per_tensor_layout(), kInt8, Symmetry::kAffine, c);
    EXPECT_TRUE(obs.observe(x.data(), Shape::row_major({2})).is_ok());
  }
}

TEST(HostileMovingAverage, InfinityIsRefusedAndChangesNothing) {
  MovingAverageMinMaxObserver<std::int8_t> obs(per_axis_layout(0), kInt8, Symmetry::kAffine, 0.5f);
  const std::vector<float> a = {-1.0f, 2.0f, -4.0f, 8.0f};
  ASSERT_TRUE(obs.observe(a.data(), Shape::row_major({2, 2})).is_ok());
  const std::vector<float> bad = {-1.0f, 2.0f, kInf, 8.0f};
  expect_error(obs.observe(bad.data(), Shape::row_major({2, 2})), StatusCode::kInvalidArgument,
               "batch range of parameter 1 is [8, inf]: a moving average needs finite values");
  EXPECT_EQ(obs.min(), std::vector<float>({-1.0f, -4.0f}));
  EXPECT_EQ(obs.max(), std::vector<float>({2.0f, 8.0f}));
  // It used to become inf, then NaN at the next batch, with qparams() ok.
  ASSERT_TRUE(obs.observe(a.data(), Shape::row_major({2, 2})).is_ok());
  QParams p;
  ASSERT_TRUE(obs.qparams(&p).is_ok());
  EXPECT_EQ(p.scale[1], 12.0f / 255.0f);
}

TEST(HostileMovingAverage, EmptyBatchIsSkipped) {
  MovingAverageMinMaxObserver<std::int8_t> obs(per_tensor_layout(), kInt8, Symmetry::kAffine, 0.5f);
  const std::vector<float> a = {-2.0f, 6.0f};
  ASSERT_TRUE(obs.observe(a.data(), Shape::row_major({2})).is_ok());
  ASSERT_TRUE(obs.observe(nullptr, Shape::row_major({0, 2})).is_ok());  // used to pull the range halfway to [0, 0]
  EXPECT_EQ(obs.min(), std::vector<float>{-2.0f});
  EXPECT_EQ(obs.max(), std::vector<float>{6.0f});
  MovingAverageMinMaxObserver<std::int8_t> fresh;
  ASSERT_TRUE(fresh.observe(nullptr, Shape::row_major({0})).is_ok());
  EXPECT_FALSE(fresh.initialized());
}

TEST(HostileMovingAverage, OppositeExtremesStayFinite) {
  // batch_min - min = 3e38 - (-3e38) overflows float32; the step is taken in
  // double and the average lands between them.
  MovingAverageMinMaxObserver<std::int8_t> obs(per_tensor_layout(), Range::narrow<std::int8_t>(), Symmetry::kSymmetric,
                                               0.5f);
  const float low = -3e38f, high = 3e38f;
  ASSERT_TRUE(obs.observe(&low, Shape::row_major({1})).is_ok());
  ASSERT_TRUE(obs.observe(&high, Shape::row_major({1})).is_ok());
  EXPECT_EQ(obs.min()[0], 0.0f);
  EXPECT_EQ(obs.max()[0], 0.0f);
  QParams p;
  ASSERT_TRUE(obs.qparams(&p).is_ok());
  EXPECT_EQ(p.scale[0], kScaleEpsilon);
}

// ---------------------------------------------------------------------------
// Ranges PyTorch 1.13's observers and learnable fake-quant refuse

TEST(HostilePyTorchRanges, ObserverRangeMustIncludeZeroAndHaveTwoLevels) {
  const std::vector<float> x = {0.5f, 1.0f};
  const char* kReason = "PyTorch 1.13: \"Used-specified quantization range must include 0.\"";
  MinMaxObserver<std::uint8_t> narrow(per_tensor_layout(), Range{1, 255});
  expect_error(narrow.observe(x.data(), Shape::row_major({2})), StatusCode::kInvalidRange,
               std::string("observer range [1, 255] does not include 0; expected qmin <= 0 <= qmax (") + kReason);
  MovingAverageMinMaxObserver<std::int8_t> negative(per_tensor_layout(), Range{-10, -1});
  expect_error(negative.observe(x.data(), Shape::row_major({2})), StatusCode::kInvalidRange, kReason);
  HistogramObserver<std::int8_t> hist(Range{2, 9});
  expect_error(hist.observe(x.data(), x.size()), StatusCode::kInvalidRange, kReason);
  MinMaxObserver<std::int8_t> one(per_tensor_layout(), Range{0, 0});
  expect_error(one.observe(x.data(), Shape::row_major({2})), StatusCode::kInvalidRange,
               "observer range [0, 0] has one level; expected qmin < qmax (PyTorch 1.13: \"qmin must be strictly "
               "less than qmax");
  FakeQuantize<std::uint8_t> module(MovingAverageMinMax<std::uint8_t>(per_tensor_layout(), Range{1, 255}));
  std::vector<float> y(2, 7.0f);
  expect_error(module.forward(x.data(), y.data(), Shape::row_major({2})), StatusCode::kInvalidRange, kReason);
  EXPECT_EQ(y, std::vector<float>(2, 7.0f));
}

TEST(HostilePyTorchRanges, LearnableFakeQuantRangeMustIncludeZero) {
  LearnableFakeQuant<> lq;
  for (Range r : {Range{1, 255}, Range{-10, -1}, Range{3, 3}}) {
    const Status s =
        LearnableFakeQuant<>::create(Shape::row_major({4}), LearnableParams::per_tensor(0.1f, 0.0f, r).view(), &lq);
    EXPECT_EQ(s.code(), StatusCode::kInvalidRange) << s.message();
    EXPECT_NE(s.message().find("learnable fake-quant range [" + std::to_string(r.qmin)), std::string::npos)
        << s.message();
  }
  EXPECT_TRUE(LearnableFakeQuant<>::create(Shape::row_major({4}),
                                           LearnableParams::per_tensor(0.1f, 0.0f, Range{0, 15}).view(), &lq)
                  .is_ok());
}

// Departure, listed: PyTorch 1.13's MinMax and moving-average observers
// refuse a symmetric quint8 observer with reduce_range ("Cannot reduce range
// for symmetric quantization for quint8"), because its zero point would be
// 128, outside the reduced [0, 127] (its HistogramObserver, which does not
// refuse, returns 128). eigenq's Range cannot tell reduce_range from an
// explicit quant_min=0, quant_max=127, which PyTorch accepts and answers with
// zero point (0 + 127) / 2 = 63 (tests/data/pytorch_observers.txt,
// quint8 symmetric custom [0, 127]); eigenq answers that, in range, for both.
TEST(HostilePyTorchRanges, SymmetricUint8ReduceRangeIsTheExplicitRangeDeparture) {
  static_assert(Range::reduced<std::uint8_t>() == Range{0, 127});
  MinMaxObserver<std::uint8_t> obs(per_tensor_layout(), Range::reduced<std::uint8_t>(), Symmetry::kSymmetric);
  const std::vector<float> x = {-1.0f, 2.5f};
  ASSERT_TRUE(obs.observe(x.data(), Shape::row_major({2})).is_ok());
  QParams p;
  ASSERT_TRUE(obs.qparams(&p).is_ok());
  EXPECT_EQ(p.zero_point[0], 63);
  EXPECT_EQ(p.scale[0], 2.5f / (127.0f / 2.0f));
}

}  // namespace
}  // namespace eigenq
