// Float zero points against PyTorch 1.13 (tests/data/pytorch_float_qparams.txt,
// from tests/conformance/gen_pytorch_float_qparams.py): quantize_per_channel
// with float qparams and its dequantize, fake_quantize_per_channel_affine with
// float and half zero points, and PerChannelMinMaxObserver's
// per_channel_affine_float_qparams, bit for bit, on every axis and in both
// layouts; and the refusals.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "eigenq/float_qparams.hpp"
#include "eigenq/packing.hpp"
#include "golden.hpp"

namespace eigenq {
namespace {

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// The case's row-major shape and axis, or the same memory read as
// column-major (dimensions reversed, the axis mirrored).
struct Layouted {
  Shape shape;
  int axis;
};
Layouted layouted(const golden::Case& c, Layout layout) {
  std::vector<std::int64_t> d = c.ints("shape");
  int axis = static_cast<int>(c.integer("axis"));
  if (layout == Layout::kColMajor) {
    std::reverse(d.begin(), d.end());
    axis = static_cast<int>(d.size()) - 1 - axis;
  }
  return {Shape::from(d.data(), static_cast<int>(d.size()), layout), axis};
}

FloatQParams params_of(const golden::Case& c, int axis) {
  FloatQParams p;
  p.layout = per_axis_layout(axis);
  p.scale = c.floats("scale");
  p.zero_point = c.floats("zp");
  p.range = {static_cast<std::int32_t>(c.integer("qmin")), static_cast<std::int32_t>(c.integer("qmax"))};
  return p;
}

TEST(FloatQParams, MatchesPyTorch113) {
  const auto cases = golden::load("pytorch_float_qparams.txt");
  std::map<std::string, int> checked;
  for (const golden::Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string op = c.text("op");
    const std::vector<float> x = c.floats("x");
    for (Layout layout : {Layout::kRowMajor, Layout::kColMajor}) {
      const Layouted l = layouted(c, layout);
      if (op == "quantize") {
        const FloatQParams p = params_of(c, l.axis);
        std::vector<std::uint8_t> q(x.size());
        ASSERT_TRUE(quantize_float_qparams(x.data(), q.data(), l.shape, p.view()).is_ok());
        const std::vector<std::int64_t> want = c.ints("y");
        for (std::size_t i = 0; i < q.size(); ++i) ASSERT_EQ(q[i], want[i]) << "element " << i << ", x = " << x[i];
        std::vector<float> y(x.size());
        ASSERT_TRUE(dequantize_float_qparams(q.data(), y.data(), l.shape, p.view()).is_ok());
        const std::vector<float> deq = c.floats("deq");
        for (std::size_t i = 0; i < y.size(); ++i) ASSERT_TRUE(same_bits(y[i], deq[i])) << "element " << i;
      } else if (op == "quantize_packed") {
        const FloatQParams p = params_of(c, l.axis);
        const std::vector<std::int64_t> want = c.ints("packed");
        std::vector<std::uint8_t> packed(want.size() + 4, 0xA5);
        std::vector<float> y(x.size());
        if (c.text("type") == "uint4") {
          ASSERT_TRUE(quantize_float_qparams_packed<UInt4>(x.data(), packed.data(), l.shape, p.view()).is_ok());
          ASSERT_TRUE(dequantize_float_qparams_packed<UInt4>(packed.data(), y.data(), l.shape, p.view()).is_ok());
        } else {
          ASSERT_TRUE(quantize_float_qparams_packed<UInt2>(x.data(), packed.data(), l.shape, p.view()).is_ok());
          ASSERT_TRUE(dequantize_float_qparams_packed<UInt2>(packed.data(), y.data(), l.shape, p.view()).is_ok());
        }
        for (std::size_t i = 0; i < want.size(); ++i) ASSERT_EQ(packed[i], want[i]) << "byte " << i;
        for (std::size_t i = want.size(); i < packed.size(); ++i) ASSERT_EQ(packed[i], 0xA5) << "overrun";
        const std::vector<float> deq = c.floats("deq");
        for (std::size_t i = 0; i < y.size(); ++i) ASSERT_TRUE(same_bits(y[i], deq[i])) << "element " << i;
      } else if (op == "fake_quantize") {
        const FloatQParams p = params_of(c, l.axis);
        const auto precision = c.text("zp_dtype") == "half" ? ZeroPointPrecision::kHalf : ZeroPointPrecision::kFloat;
        std::vector<float> y(x.size());
        ASSERT_TRUE(fake_quantize_float_qparams(x.data(), y.data(), l.shape, p.view(), precision).is_ok());
        const std::vector<float> want = c.floats("y");
        for (std::size_t i = 0; i < y.size(); ++i)
          ASSERT_TRUE(same_bits(y[i], want[i]))
              << "element " << i << ", x = " << x[i] << ": " << y[i] << " vs " << want[i];
      } else {
        MinMax mm;
        ASSERT_TRUE(compute_min_max(x.data(), l.shape, per_axis_layout(l.axis), &mm).is_ok());
        FloatQParams p;
        const Range range{static_cast<std::int32_t>(c.integer("qmin")), static_cast<std::int32_t>(c.integer("qmax"))};
        ASSERT_TRUE(float_qparams_from_min_max(mm, per_axis_layout(l.axis), range, &p, c.real("eps")).is_ok());
        const std::vector<float> scale = c.floats("scale"), zp = c.floats("zp");
        ASSERT_EQ(p.scale.size(), scale.size());
        for (std::size_t k = 0; k < scale.size(); ++k) {
          EXPECT_TRUE(same_bits(p.scale[k], scale[k])) << "scale[" << k << "] " << p.scale[k] << " vs " << scale[k];
          EXPECT_TRUE(same_bits(p.zero_point[k], zp[k])) << "zp[" << k << "] " << p.zero_point[k] << " vs " << zp[k];
        }
      }
    }
    ++checked[op + (c.has("zp_dtype") ? "_" + c.text("zp_dtype") : c.has("type") ? "_" + c.text("type") : "")];
  }
  EXPECT_EQ(checked["quantize"], 5);
  EXPECT_EQ(checked["quantize_packed_uint4"], 5);
  EXPECT_EQ(checked["quantize_packed_uint2"], 5);
  EXPECT_EQ(checked["fake_quantize_float"], 15);
  EXPECT_EQ(checked["fake_quantize_half"], 15);
  EXPECT_EQ(checked["observer"], 10);
}

TEST(FloatQParams, RefusesBadParametersAndWritesNothing) {
  const Shape shape = Shape::row_major({2, 3});
  const std::vector<float> x(6, 1.0f);
  std::vector<std::uint8_t> q(6, 42);
  std::vector<float> y(6, -3.0f);
  auto expect = [&](const Status& st, StatusCode code, const std::string& part) {
    EXPECT_EQ(st.code(), code) << st.message();
    EXPECT_NE(st.message().find(part), std::string::npos) << st.message();
  };
  const float nan = std::nanf("");
  FloatQParams p{per_axis_layout(0), {0.5f, nan}, {1.5f, 0.0f}, Range::full<std::uint8_t>()};
  expect(quantize_float_qparams(x.data(), q.data(), shape, p.view()), StatusCode::kInvalidScale, "scale[1] = nan");
  p.scale = {0.5f, -1.0f};
  expect(dequantize_float_qparams(q.data(), y.data(), shape, p.view()), StatusCode::kInvalidScale, "scale[1] = -1");
  p.scale = {0.0f, 1.0f};  // scale 0: PyTorch quantizes with 1 / scale = 1, but fake quantization divides by it
  EXPECT_TRUE(quantize_float_qparams(x.data(), q.data(), shape, p.view()).is_ok());
  EXPECT_EQ(q[0], 2);  // lrintf(1 * 1 + 1.5): 2.5 rounds to even
  std::fill(q.begin(), q.end(), std::uint8_t{42});
  expect(fake_quantize_float_qparams(x.data(), y.data(), shape, p.view()), StatusCode::kInvalidScale,
         "scale[0] = 0 must be finite and > 0");
  p.scale = {1.0f, 1.0f};
  p.zero_point = {1.0f, INFINITY};
  expect(quantize_float_qparams(x.data(), q.data(), shape, p.view()), StatusCode::kInvalidZeroPoint,
         "zero_point[1] = inf");
  p.scale = {1.0f};
  p.zero_point = {1.0f};
  expect(quantize_float_qparams(x.data(), q.data(), shape, p.view()), StatusCode::kShapeMismatch, "got 1, expected 2");
  for (std::uint8_t v : q) EXPECT_EQ(v, 42);
  for (float v : y) EXPECT_EQ(v, -3.0f);
  MinMax mm{{0.0f, -INFINITY}, {1.0f, 1.0f}};
  FloatQParams out;
  expect(float_qparams_from_min_max(mm, per_axis_layout(0), Range::full<std::uint8_t>(), &out),
         StatusCode::kInvalidScale, "parameter 1");
}

}  // namespace
}  // namespace eigenq
