// TensorFlow's fake_quant_with_min_max_{args,vars,vars_per_channel} and their
// gradients. TensorFlow cannot be installed here, so the expected values are
// TensorFlow's own test cases and reported outputs, each with its source:
//
//   [kernels]  tensorflow/core/kernels/fake_quant_ops_test.cc (QuantOpsTest)
//   [xla]      tensorflow/compiler/tests/fake_quant_ops_test.py
//   [#23351]   github.com/tensorflow/tensorflow/issues/23351
//   [#858]     github.com/tensorflow/model-optimization/issues/858
//
// plus values worked by hand from TensorFlow's Nudge() in float32
// (tensorflow/core/kernels/fake_quant_ops_functor.h), marked [worked].
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "eigenq/eigenq.hpp"
#include "eigenq/qat.hpp"

namespace eigenq {
namespace {

using Vec = std::vector<float>;
using Tensor1 = Eigen::Tensor<float, 1, Eigen::RowMajor>;

Tensor1 tensor(const Vec& v) {
  Tensor1 t(static_cast<Eigen::Index>(v.size()));
  for (std::size_t i = 0; i < v.size(); ++i) t(static_cast<Eigen::Index>(i)) = v[i];
  return t;
}
Vec vec(const Tensor1& t) { return Vec(t.data(), t.data() + t.size()); }

// Within 4 ulps (EXPECT_FLOAT_EQ), so an expected 0 must come out as +-0.
void expect_floats(const Vec& got, const Vec& want, const char* what) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_FLOAT_EQ(got[i], want[i]) << what << " element " << i;
}

// [kernels]: RunTestFakeQuantWithMinMaxArgs / ...Vars cases, shape {2, 3}.
struct KernelCase {
  const char* name;
  int num_bits;
  bool narrow_range;
  float min, max;
  Vec inputs, expected;
};

const std::vector<KernelCase>& kernel_cases() {
  static const std::vector<KernelCase> cases = {
      {"NoNudging_RegularRange",
       8,
       false,
       -10.0f,
       53.75f,
       {-10.1f, -10.0f, -9.9f, -9.75f, 53.75f, 53.8f},
       {-10.0f, -10.0f, -10.0f, -9.75f, 53.75f, 53.75f}},
      {"NoNudging_NarrowRange",
       8,
       true,
       -10.0f,
       53.5f,
       {-10.1f, -10.0f, -9.9f, -9.75f, 53.5f, 53.6f},
       {-10.0f, -10.0f, -10.0f, -9.75f, 53.5f, 53.5f}},
      {"NudgedDown_RegularRange",
       8,
       false,
       -0.1f,
       63.65f,
       {-0.1f, 0.0f, 0.1f, 0.25f, 63.75f, 63.8f},
       {0.0f, 0.0f, 0.0f, 0.25f, 63.75f, 63.75f}},
      {"NudgedDown_NarrowRange",
       8,
       true,
       -0.1f,
       63.4f,
       {-0.1f, 0.0f, 0.1f, 0.25f, 63.5f, 63.6f},
       {0.0f, 0.0f, 0.0f, 0.25f, 63.5f, 63.5f}},
      {"NudgedUp_RegularRange",
       8,
       false,
       -0.1275f,
       63.6225f,
       {-0.26f, -0.25f, -0.24f, 0.0f, 63.5f, 63.6f},
       {-0.25f, -0.25f, -0.25f, 0.0f, 63.5f, 63.5f}},
      {"NudgedUp_NarrowRange",
       8,
       true,
       -0.1275f,
       63.3725f,
       {-0.26f, -0.25f, -0.24f, 0.0f, 63.25f, 63.3f},
       {-0.25f, -0.25f, -0.25f, 0.0f, 63.25f, 63.25f}},
      {"NudgedZeroIs255_RegularRange",
       8,
       false,
       -63.65f,
       0.1f,
       {-63.8f, -63.75f, -63.7f, -63.5f, 0.0f, 0.1f},
       {-63.75f, -63.75f, -63.75f, -63.5f, 0.0f, 0.0f}},
      {"NudgedZeroIs255_NarrowRange",
       8,
       true,
       -63.4f,
       0.1f,
       {-63.6f, -63.5f, -63.4f, -63.25f, 0.0f, 0.1f},
       {-63.5f, -63.5f, -63.5f, -63.25f, 0.0f, 0.0f}},
      {"NoNudging_4Bits_RegularRange",
       4,
       false,
       -6.0f,
       1.5f,
       {-6.1f, -6.0f, -5.9f, -5.5f, 1.5f, 1.6f},
       {-6.0f, -6.0f, -6.0f, -5.5f, 1.5f, 1.5f}},
      {"NoNudging_4Bits_NarrowRange",
       4,
       true,
       -6.0f,
       1.0f,
       {-6.1f, -6.0f, -5.9f, -5.5f, 1.0f, 1.1f},
       {-6.0f, -6.0f, -6.0f, -5.5f, 1.0f, 1.0f}},
      {"NudgedDown_4Bits_RegularRange",
       4,
       false,
       -0.1f,
       7.4f,
       {-0.1f, 0.0f, 0.1f, 0.5f, 7.5f, 7.6f},
       {0.0f, 0.0f, 0.0f, 0.5f, 7.5f, 7.5f}},
      {"NudgedDown_4Bits_NarrowRange",
       4,
       true,
       -0.1f,
       6.9f,
       {-0.1f, 0.0f, 0.1f, 0.5f, 7.0f, 7.1f},
       {0.0f, 0.0f, 0.0f, 0.5f, 7.0f, 7.0f}},
      {"NudgedUp_4Bits_RegularRange",
       4,
       false,
       -0.4f,
       7.1f,
       {-0.6f, -0.5f, -0.24f, 0.0f, 7.0f, 7.1f},
       {-0.5f, -0.5f, -0.00f, 0.0f, 7.0f, 7.0f}},
      {"NudgedUp_4Bits_NarrowRange",
       4,
       true,
       -0.4f,
       6.6f,
       {-0.6f, -0.5f, -0.24f, 0.0f, 6.5f, 6.6f},
       {-0.5f, -0.5f, 0.0f, 0.0f, 6.5f, 6.5f}},
      {"NudgedZeroIs15_4Bits_RegularRange",
       4,
       false,
       -7.3f,
       0.2f,
       {-7.6f, -7.5f, -7.4f, -7.2f, 0.0f, 0.1f},
       {-7.5f, -7.5f, -7.5f, -7.0f, 0.0f, 0.0f}},
      {"NudgedZeroIs15_4Bits_NarrowRange",
       4,
       true,
       -6.8f,
       0.2f,
       {-7.1f, -7.0f, -6.9f, -6.7f, 0.0f, 0.1f},
       {-7.0f, -7.0f, -7.0f, -6.5f, 0.0f, 0.0f}},
      {"NoNudging_2Bits_RegularRange",
       2,
       false,
       -1.0f,
       0.5f,
       {-1.1f, -1.0f, -0.9f, -0.3f, 0.1f, 0.6f},
       {-1.0f, -1.0f, -1.0f, -0.5f, 0.0f, 0.5f}},
      {"NoNudging_2Bits_NarrowRange",
       2,
       true,
       -1.0f,
       0.0f,
       {-1.1f, -1.0f, -0.9f, -0.3f, 0.0f, 0.1f},
       {-1.0f, -1.0f, -1.0f, -0.5f, 0.0f, 0.0f}},
      {"NudgedDown_2Bits_RegularRange",
       2,
       false,
       -0.1f,
       1.4f,
       {-0.2f, 0.1f, 0.7f, 1.0f, 1.3f, 1.6f},
       {0.0f, 0.0f, 0.5f, 1.0f, 1.5f, 1.5f}},
      {"NudgedDown_2Bits_NarrowRange",
       2,
       true,
       -0.1f,
       0.9f,
       {-0.1f, 0.1f, 0.7f, 0.9f, 1.0f, 1.1f},
       {-0.0f, 0.0f, 0.5f, 1.0f, 1.0f, 1.0f}},
      {"NudgedUp_2Bits_RegularRange",
       2,
       false,
       -0.4f,
       1.1f,
       {-0.6f, -0.5f, -0.24f, 0.0f, 1.0f, 1.1f},
       {-0.5f, -0.5f, 0.0f, 0.0f, 1.0f, 1.0f}},
      {"NudgedUp_2Bits_NarrowRange",
       2,
       true,
       -0.4f,
       0.6f,
       {-0.6f, -0.5f, -0.24f, 0.0f, 0.5f, 0.6f},
       {-0.5f, -0.5f, -0.00f, 0.0f, 0.5f, 0.5f}},
      {"SymmetricRangeZeroInput_RegularRange", 8, false, -10.0f, 10.0f, {0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0}},
      {"SymmetricRangeZeroInput_NarrowRange", 8, true, -10.0f, 10.0f, {0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0}},
  };
  return cases;
}

TEST(TfFakeQuant, KernelTestCasesArgsAndVars) {
  for (const KernelCase& c : kernel_cases()) {
    SCOPED_TRACE(c.name);
    const Tensor1 x = tensor(c.inputs);
    expect_floats(vec(tf::fake_quant_with_min_max_args(x, c.min, c.max, c.num_bits, c.narrow_range)), c.expected,
                  "args");
    expect_floats(vec(tf::fake_quant_with_min_max_vars(x, c.min, c.max, c.num_bits, c.narrow_range)), c.expected,
                  "vars");
    expect_floats(
        vec(tf::fake_quant_with_min_max_args(x, c.min, c.max, c.num_bits, c.narrow_range, tf::Version::kLegacy)),
        c.expected, "args, legacy");
  }
}

// [kernels] WithVarsPerChannelDim*: the same ranges per channel, on the last
// axis of [4], [2, 3] and [1, 2, 3, 4] tensors; here also on every other axis.
TEST(TfFakeQuant, KernelTestCasesPerChannel) {
  for (const KernelCase& c : kernel_cases()) {
    SCOPED_TRACE(c.name);
    // [2, 3] with 3 channels on the last axis, as WithVarsPerChannelDim2*.
    Eigen::Tensor<float, 2, Eigen::RowMajor> x(2, 3);
    for (int i = 0; i < 6; ++i) x.data()[i] = c.inputs[i];
    const Vec mins(3, c.min), maxs(3, c.max);
    const auto y = tf::fake_quant_with_min_max_vars_per_channel(x, mins, maxs, c.num_bits, c.narrow_range);
    expect_floats(Vec(y.data(), y.data() + 6), c.expected, "per channel, last axis");
    // The same values with the channel on axis 0 of the transposed tensor.
    Eigen::Tensor<float, 2, Eigen::RowMajor> xt(3, 2);
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j) xt(j, i) = x(i, j);
    const auto yt = tf::fake_quant_with_min_max_vars_per_channel(xt, mins, maxs, c.num_bits, c.narrow_range, 0);
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j) EXPECT_EQ(yt(j, i), y(i, j));
  }
}

TEST(TfFakeQuant, KernelTestCasePerChannelDim4) {
  // [kernels] WithVarsPerChannelDim4NudgedUp_RegularRange: [1, 2, 3, 4], 4 channels.
  Eigen::Tensor<float, 4, Eigen::RowMajor> x(1, 2, 3, 4);
  const Vec in = {-0.3f, -0.25f, -0.2f, 0.0f,  0.25f, 0.5f,  0.75f,  1.0f,   1.25f,  1.5f,   1.75f,  2.0f,
                  63.0f, 63.25f, 63.4f, 63.5f, 63.6f, 63.7f, 100.0f, 100.0f, 100.0f, 100.0f, 100.0f, 1000.0f};
  const Vec want = {-0.25f, -0.25f, -0.25f, 0.0f,  0.25f, 0.5f,  0.75f, 1.0f,  1.25f, 1.5f,  1.75f, 2.0f,
                    63.0f,  63.25f, 63.5f,  63.5f, 63.5f, 63.5f, 63.5f, 63.5f, 63.5f, 63.5f, 63.5f, 63.5f};
  std::copy(in.begin(), in.end(), x.data());
  const auto y = tf::fake_quant_with_min_max_vars_per_channel(x, Vec(4, -0.125f), Vec(4, 63.625f));
  expect_floats(Vec(y.data(), y.data() + 24), want, "dim4");
}

// [kernels] WithArgsGradient_RegularRange / _NarrowRange: the zero point
// from min is exactly 0.5 (1.5 narrow), which rounds half away from zero to
// 1 (2): nudged range [-0.25, 63.5] ([-0.25, 63.25]).
TEST(TfFakeQuant, KernelTestCasesGradient) {
  const Tensor1 dy = tensor({0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f});
  const Tensor1 x = tensor({-0.26f, -0.25f, -0.24f, 0.0f, 63.5f, 63.6f});
  const Vec want = {0.0f, 0.2f, 0.3f, 0.4f, 0.5f, 0.0f};
  expect_floats(vec(tf::fake_quant_with_min_max_args_gradient(dy, x, -0.125f, 63.625f)), want, "regular");
  const Tensor1 xn = tensor({-0.26f, -0.25f, -0.24f, 0.0f, 63.25f, 63.3f});
  expect_floats(vec(tf::fake_quant_with_min_max_args_gradient(dy, xn, -0.125f, 63.375f, 8, true)), want, "narrow");
  EXPECT_EQ(tf::nudge(-0.125f, 63.625f, 8, false).zero_point, 1);
  EXPECT_EQ(tf::nudge(-0.125f, 63.375f, 8, true).zero_point, 2);
}

// [kernels] WithVarsPerChannel_ZeroMinAndMax, and the vars gradient's
// "min and max both zero: propagate everything to inputs".
TEST(TfFakeQuant, ZeroMinAndMaxOutputsZeroAndPassesTheGradient) {
  const Tensor1 x = tensor({0.0f, 1.5f, -2.0f, 0.0f});
  expect_floats(vec(tf::fake_quant_with_min_max_vars_per_channel(x, Vec(4, 0.0f), Vec(4, 0.0f))), Vec(4, 0.0f),
                "per channel");
  expect_floats(vec(tf::fake_quant_with_min_max_vars(x, 0.0f, 0.0f)), Vec(4, 0.0f), "vars");
  const Tensor1 dy = tensor({1.0f, 2.0f, 3.0f, 4.0f});
  const auto g = tf::fake_quant_with_min_max_vars_gradient(dy, x, 0.0f, 0.0f);
  expect_floats(vec(g.dx), vec(dy), "dx");
  EXPECT_EQ(g.dmin, Vec{0.0f});
  EXPECT_EQ(g.dmax, Vec{0.0f});
  // args takes min < max only (TensorFlow's op attribute check).
  EXPECT_THROW(tf::fake_quant_with_min_max_args(x, 0.0f, 0.0f), Error);
}

// [xla] _TestOp: inputs around the nudged range, including ranges that
// exclude zero (min > 0, max < 0), for 8 and 7 bits, wide and narrow.
struct XlaCase {
  float min, max;
  int num_bits;
  bool narrow_range;
  float nudged_min, nudged_max, step;
};

const XlaCase kXlaCases[] = {
    {0.0f, 255.0f, 8, false, 0.0f, 255.0f, 1.0f},    {0.5f, 128.0f, 8, false, 0.0f, 127.5f, 0.5f},
    {-128.0f, -0.5f, 8, false, -127.5f, 0.0f, 0.5f}, {-0.1f, 127.4f, 8, false, 0.0f, 127.5f, 0.5f},
    {0.0f, 254.0f, 8, true, 0.0f, 254.0f, 1.0f},     {0.1f, 127.1f, 8, true, 0.0f, 127.0f, 0.5f},
    {-127.1f, -0.1f, 8, true, -127.0f, 0.0f, 0.5f},  {-0.1f, 126.9f, 8, true, 0.0f, 127.0f, 0.5f},
    {0.0f, 127.0f, 7, false, 0.0f, 127.0f, 1.0f},    {0.5f, 64.0f, 7, false, 0.0f, 63.5f, 0.5f},
    {-64.0f, -0.5f, 7, false, -63.5f, 0.0f, 0.5f},   {-0.1f, 63.4f, 7, false, 0.0f, 63.5f, 0.5f},
    {0.0f, 126.0f, 7, true, 0.0f, 126.0f, 1.0f},     {0.1f, 63.1f, 7, true, 0.0f, 63.0f, 0.5f},
    {-63.1f, -0.1f, 7, true, -63.0f, 0.0f, 0.5f},    {-0.1f, 62.9f, 7, true, 0.0f, 63.0f, 0.5f},
};

// The 11 inputs of _TestOp, computed in double and stored as float32 as
// the test's np.array(..., dtype=np.float32) does.
Vec xla_inputs(const XlaCase& c) {
  const double lo = c.nudged_min, hi = c.nudged_max, s = c.step;
  const double v[] = {lo - s,        lo - 0.01, lo, lo + 0.01, lo + s - 0.01, lo + s,
                      lo + s + 0.01, hi - 0.01, hi, hi + 0.01, hi + s};
  Vec out;
  for (double d : v) out.push_back(static_cast<float>(d));
  return out;
}

TEST(TfFakeQuant, XlaTestCasesForwardAndGradients) {
  for (const XlaCase& c : kXlaCases) {
    SCOPED_TRACE(testing::Message() << "min " << c.min << " max " << c.max << " bits " << c.num_bits << " narrow "
                                    << c.narrow_range);
    const tf::Nudged n = tf::nudge(c.min, c.max, c.num_bits, c.narrow_range);
    EXPECT_FLOAT_EQ(n.nudged_min, c.nudged_min);
    EXPECT_FLOAT_EQ(n.nudged_max, c.nudged_max);
    EXPECT_FLOAT_EQ(n.scale, c.step);

    const Tensor1 x = tensor(xla_inputs(c));
    const float lo = c.nudged_min, hi = c.nudged_max, s = c.step;
    const Vec want = {lo, lo, lo, lo, lo + s, lo + s, lo + s, hi, hi, hi, hi};
    // The XLA test's tolerance: rtol 1e-3, atol 1e-5.
    for (const auto& y : {tf::fake_quant_with_min_max_args(x, c.min, c.max, c.num_bits, c.narrow_range),
                          tf::fake_quant_with_min_max_vars(x, c.min, c.max, c.num_bits, c.narrow_range)})
      for (int i = 0; i < 11; ++i) EXPECT_NEAR(y(i), want[i], 1e-5 + 1e-3 * std::fabs(want[i])) << i;

    Tensor1 dy(11);
    for (int i = 0; i < 11; ++i) dy(i) = static_cast<float>(i + 1);  // np.arange(1, 12)
    const Vec want_dx = {0, 0, 3, 4, 5, 6, 7, 8, 9, 0, 0};
    expect_floats(vec(tf::fake_quant_with_min_max_args_gradient(dy, x, c.min, c.max, c.num_bits, c.narrow_range)),
                  want_dx, "args dx");
    const auto g = tf::fake_quant_with_min_max_vars_gradient(dy, x, c.min, c.max, c.num_bits, c.narrow_range);
    expect_floats(vec(g.dx), want_dx, "vars dx");
    EXPECT_EQ(g.dmin, Vec{1.0f + 2.0f});
    EXPECT_EQ(g.dmax, Vec{10.0f + 11.0f});
  }
}

// [#23351] "fake_quant_min_max_args/vars works unexpected": a range that
// excludes zero is moved to include it: [12, 123] becomes [0, 111].
TEST(TfFakeQuant, RangeWithoutZeroIsMovedToIncludeIt) {
  const tf::Nudged n = tf::nudge(12.0f, 123.0f, 8, false);
  EXPECT_EQ(n.zero_point, 0);
  EXPECT_EQ(n.nudged_min, 0.0f);
  EXPECT_FLOAT_EQ(n.nudged_max, 111.0f);
  const Tensor1 x = tensor({123.0f});
  EXPECT_FLOAT_EQ(tf::fake_quant_with_min_max_args(x, 12.0f, 123.0f)(0), 111.0f);
  EXPECT_FLOAT_EQ(tf::fake_quant_with_min_max_vars(x, 12.0f, 123.0f)(0), 111.0f);
}

// [#858] fake_quant_with_min_max_vars([-1, 0, 1], min=-1, max=1) gave
// [-0.9960785, 0, 1.0039215] (TensorFlow 1.x): the zero point from min is
// 127.5 in exact arithmetic but 127.49999 in float32, so it nudges to 127,
// not 128 (the [kernels] comment "nudged zero point 128.0" for [-10, 10]
// assumes exact arithmetic; float32 gives 127 there too). Current
// TensorFlow computes the top value as 128 * scale exactly, 1.0039216.
TEST(TfFakeQuant, SymmetricRangeNudgesTo127InFloat32) {
  const float scale = 2.0f / 255.0f;
  const tf::Nudged n = tf::nudge(-1.0f, 1.0f, 8, false);
  EXPECT_EQ(n.zero_point, 127);
  EXPECT_EQ(n.nudged_min, -127.0f * scale);
  EXPECT_EQ(n.nudged_max, 128.0f * scale);
  EXPECT_EQ(tf::nudge(-10.0f, 10.0f, 8, false).zero_point, 127);

  const Tensor1 x = tensor({-1.0f, 0.0f, 1.0f});
  const Vec legacy = vec(tf::fake_quant_with_min_max_vars(x, -1.0f, 1.0f, 8, false, tf::Version::kLegacy));
  EXPECT_EQ(legacy, (Vec{-0.9960785f, 0.0f, 1.0039215f}));  // as reported
  const Vec current = vec(tf::fake_quant_with_min_max_vars(x, -1.0f, 1.0f));
  EXPECT_EQ(current, (Vec{-127.0f * scale, 0.0f, 128.0f * scale}));
  EXPECT_EQ(current[2], 1.0039216f);
}

// [worked] min = -10/3, max = 10/3 (float32): scale = 0.026143791,
// qmin - min / scale = 127.49999 -> zero point 127 (half away from zero,
// but below the tie), nudged range [-127 * scale, 128 * scale].
TEST(TfFakeQuant, WorkedNudgeOfThirds) {
  const float min = -10.0f / 3.0f, max = 10.0f / 3.0f;
  const tf::Nudged n = tf::nudge(min, max, 8, false);
  EXPECT_EQ(n.scale, (max - min) / 255.0f);
  EXPECT_EQ(n.scale, 0.026143791f);
  EXPECT_EQ(0.0f - min / n.scale, 127.49999f);
  EXPECT_EQ(n.zero_point, 127);
  EXPECT_EQ(n.nudged_min, -3.3202615f);
  EXPECT_EQ(n.nudged_max, 3.3464053f);
  // The same range with narrow_range: qmin 1, 254 steps, 1 + 127.5 -> 128.5
  // in exact arithmetic; float32 decides.
  const tf::Nudged nn = tf::nudge(min, max, 8, true);
  const float zp_from_min = 1.0f - min / nn.scale;
  EXPECT_EQ(nn.zero_point, static_cast<int>(std::round(zp_from_min)));
  EXPECT_EQ(nn.nudged_min, (1.0f - static_cast<float>(nn.zero_point)) * nn.scale);
  EXPECT_EQ(tf::fake_quant(0.0f, nn, tf::Op::kArgs), 0.0f);
}

// Current TensorFlow puts every output on the grid k * scale and 0 on 0.0;
// the legacy arithmetic adds nudged_min after the multiply.
TEST(TfFakeQuant, CurrentOutputsAreOnTheGrid) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> range(-5.0f, 5.0f), width(0.01f, 20.0f);
  for (int trial = 0; trial < 200; ++trial) {
    const float min = std::min(range(rng), 0.0f), max = min + width(rng);
    for (int bits : {2, 4, 8, 16})
      for (bool narrow : {false, true})
        for (tf::Op op : {tf::Op::kArgs, tf::Op::kVars, tf::Op::kVarsPerChannel}) {
          const tf::Nudged n = tf::nudge(min, max, bits, narrow);
          ASSERT_EQ(tf::fake_quant(0.0f, n, op), 0.0f);
          for (int i = 0; i < 20; ++i) {
            const float x = min - 1.0f + (max - min + 2.0f) * static_cast<float>(i) / 19.0f;
            const float y = tf::fake_quant(x, n, op);
            const float k = std::nearbyint(y / n.scale);
            ASSERT_EQ(y, k * n.scale) << "x " << x << " min " << min << " max " << max;
            ASSERT_GE(k, static_cast<float>(tf::range(bits, narrow).qmin - n.zero_point));
            ASSERT_LE(k, static_cast<float>(tf::range(bits, narrow).qmax - n.zero_point));
          }
        }
  }
}

TEST(TfFakeQuant, SixteenBits) {
  const tf::Nudged n = tf::nudge(-1.0f, 1.0f, 16, false);
  EXPECT_GT(n.zero_point, 255);  // a uint16 zero point (old TensorFlow used uint8)
  EXPECT_LE(n.nudged_min, -0.99f);
  EXPECT_GE(n.nudged_max, 0.99f);
  EXPECT_EQ(tf::fake_quant(0.0f, n, tf::Op::kVars), 0.0f);
  EXPECT_NEAR(tf::fake_quant(0.5f, n, tf::Op::kVars), 0.5f, n.scale / 2);
}

// dx = dy * [nudged_min <= x <= nudged_max], dmin = sum dy * [x < nudged_min],
// dmax = sum dy * [x > nudged_max], as multiplies: NaN x gives NaN y and no
// gradient, a NaN dy reaches dmin through a 0 mask as NaN (as TensorFlow's
// `gradients * select(..., 1, 0)`).
TEST(TfFakeQuant, GradientsAndNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor1 x = tensor({-2.0f, 0.5f, 3.0f, nan});
  EXPECT_TRUE(std::isnan(tf::fake_quant_with_min_max_vars(x, -1.0f, 1.0f)(3)));
  const auto g = tf::fake_quant_with_min_max_vars_gradient(tensor({1.0f, 2.0f, 4.0f, 8.0f}), x, -1.0f, 1.0f);
  EXPECT_EQ(vec(g.dx), (Vec{0.0f, 2.0f, 0.0f, 0.0f}));
  EXPECT_EQ(g.dmin, Vec{1.0f});
  EXPECT_EQ(g.dmax, Vec{4.0f});
  const auto h = tf::fake_quant_with_min_max_vars_gradient(tensor({1.0f, nan, 4.0f, 8.0f}), x, -1.0f, 1.0f);
  EXPECT_TRUE(std::isnan(h.dx(1)));
  EXPECT_TRUE(std::isnan(h.dmin[0]));
}

// Per channel on any axis, reduced per channel: against the per-tensor op
// applied channel by channel.
TEST(TfFakeQuant, PerChannelGradientsOnEveryAxis) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  Eigen::Tensor<float, 3, Eigen::RowMajor> x(3, 4, 5), dy(3, 4, 5);
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    x.data()[i] = normal(rng);
    dy.data()[i] = normal(rng);
  }
  for (int axis = 0; axis < 3; ++axis) {
    const int C = static_cast<int>(x.dimension(axis));
    Vec mins, maxs;
    for (int c = 0; c < C; ++c) {
      mins.push_back(-1.0f - 0.5f * static_cast<float>(c));
      maxs.push_back(0.5f + 0.7f * static_cast<float>(c));
    }
    const auto y = tf::fake_quant_with_min_max_vars_per_channel(x, mins, maxs, 6, true, axis);
    const auto g = tf::fake_quant_with_min_max_vars_per_channel_gradient(dy, x, mins, maxs, 6, true, axis);
    ASSERT_EQ(g.dmin.size(), static_cast<std::size_t>(C));
    for (int c = 0; c < C; ++c) {
      const tf::Nudged n = tf::nudge(mins[c], maxs[c], 6, true);
      double lo = 0.0, hi = 0.0;
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 4; ++j)
          for (int k = 0; k < 5; ++k) {
            const int idx[3] = {i, j, k};
            if (idx[axis] != c) continue;
            const float v = x(i, j, k), d = dy(i, j, k);
            ASSERT_EQ(y(i, j, k), tf::fake_quant(v, n, tf::Op::kVarsPerChannel));
            ASSERT_EQ(g.dx(i, j, k), (v >= n.nudged_min && v <= n.nudged_max) ? d : d * 0.0f);
            if (v < n.nudged_min) lo += d;
            if (v > n.nudged_max) hi += d;
          }
      EXPECT_FLOAT_EQ(g.dmin[c], static_cast<float>(lo)) << "axis " << axis << " channel " << c;
      EXPECT_FLOAT_EQ(g.dmax[c], static_cast<float>(hi)) << "axis " << axis << " channel " << c;
    }
  }
}

TEST(TfFakeQuant, BadArgumentsAreRefusedByName) {
  const float min = -1.0f, max = 1.0f;
  std::vector<float> x(6, 0.5f), y(6, 7.0f);
  tf::MinMaxView mm;
  mm.min = &min;
  mm.max = &max;
  mm.count = 1;
  mm.num_bits = 17;
  Status s = tf::fake_quant_with_min_max(x.data(), y.data(), Shape::row_major({6}), mm, tf::Op::kArgs);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("num_bits = 17"), std::string::npos) << s.message();
  mm.num_bits = 1;
  EXPECT_FALSE(tf::fake_quant_with_min_max(x.data(), y.data(), Shape::row_major({6}), mm, tf::Op::kArgs).is_ok());
  mm.num_bits = 8;
  const float inf = std::numeric_limits<float>::infinity(), big = 2e38f, small = -2e38f;
  for (auto [lo, hi] : {std::pair<float, float>{1.0f, -1.0f}, {0.5f, 0.5f}, {-inf, 1.0f}, {small, big}}) {
    mm.min = &lo;
    mm.max = &hi;
    s = tf::fake_quant_with_min_max(x.data(), y.data(), Shape::row_major({6}), mm, tf::Op::kVars);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << lo << " " << hi;
    EXPECT_NE(s.message().find("min[0]"), std::string::npos) << s.message();
  }
  for (float v : y) EXPECT_EQ(v, 7.0f);  // nothing written
  const Tensor1 t = tensor(x);
  EXPECT_THROW(tf::fake_quant_with_min_max_vars_per_channel(t, Vec(5, -1.0f), Vec(5, 1.0f), 8, false, 0), Error);
  EXPECT_THROW(tf::fake_quant_with_min_max_vars_per_channel(t, Vec(6, -1.0f), Vec(5, 1.0f)), Error);
  EXPECT_THROW(tf::fake_quant_with_min_max_vars_per_channel(t, Vec(6, -1.0f), Vec(6, 1.0f), 8, false, 1), Error);
}

}  // namespace
}  // namespace eigenq
