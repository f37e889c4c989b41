// Minifloat quantization (minifloat_quantize.hpp) against ONNX Runtime 1.30
// (tests/data/onnx_fp8.txt, from tests/conformance/onnx/gen_onnx_fp8.js):
// QuantizeLinear / DequantizeLinear with the four float8 types at opsets 19
// and 21, saturate on, off and omitted, per tensor, per axis and blocked,
// bit for bit, on the case's row-major shape and on the same memory read as
// column-major; and the refusals.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "eigenq/minifloat_quantize.hpp"
#include "golden.hpp"

namespace eigenq {
namespace {

// Equal bits, or both NaN with the same sign (the golden file records a
// quantized code as its float value, which keeps a NaN's sign only).
bool same_value(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) && std::signbit(a) == std::signbit(b);
  return std::memcmp(&a, &b, sizeof a) == 0;
}

template <class Fn>
bool with_format(const std::string& type, Fn&& fn) {
  if (type == "float8e4m3fn") return fn(Float8E4M3FN{}), true;
  if (type == "float8e4m3fnuz") return fn(Float8E4M3FNUZ{}), true;
  if (type == "float8e5m2") return fn(Float8E5M2{}), true;
  if (type == "float8e5m2fnuz") return fn(Float8E5M2FNUZ{}), true;
  if (type == "float4e2m1") return fn(Float4E2M1{}), true;
  return false;
}

// The case's layout and shape, row-major as written or the same memory read
// as column-major (dimensions reversed, the axis mirrored).
struct Setup {
  Shape shape;
  ParamLayout layout;
};
Setup setup(const golden::Case& c, Layout memory) {
  std::vector<std::int64_t> d = c.ints("shape");
  const int rank = static_cast<int>(d.size());
  int axis = c.has("axis") ? static_cast<int>(c.integer("axis")) : 0;
  if (axis < 0) axis += rank;
  if (memory == Layout::kColMajor) {
    std::reverse(d.begin(), d.end());
    axis = rank - 1 - axis;
  }
  const std::string scheme = c.text("scheme");
  ParamLayout layout;
  if (scheme == "per_axis") layout = per_axis_layout(axis);
  if (scheme == "blocked") layout = blocked_layout(axis, c.integer("block"));
  return {Shape::from(d.data(), rank, memory), layout};
}

struct Counts {
  int cases = 0;
  std::int64_t elements = 0;
  std::int64_t e4m3fn_480 = 0, e5m2_nan = 0;  // the departures below
};

// ONNX Runtime 1.30's departures from the ONNX specification (Cast and
// QuantizeLinear, saturate = 0: a value beyond the largest finite one goes
// to NaN for E4M3FN, to +-inf for E5M2), both in its bit-level float8
// conversion (include/onnxruntime/core/common/float8.h) and both without
// saturation only. eigenq keeps the specification. Returns true when the
// element is one of them and ORT's value and eigenq's are exactly the
// documented ones.
template <class F>
bool documented_departure(float v, float ort, float eigenq, bool saturate, Counts* counts) {
  if (saturate) return false;
  const float a = std::fabs(v);
  if constexpr (std::is_same_v<F, Float8E4M3FN>) {
    // |v| in [480, 488): ORT takes the mantissa 111 of 480 (the NaN pattern),
    // clears its last bit and does not round up: +-448.
    if (a >= 480.0f && a < 488.0f && ort == std::copysign(448.0f, v) && std::isnan(eigenq) &&
        std::signbit(eigenq) == std::signbit(v))
      return ++counts->e4m3fn_480, true;
  }
  if constexpr (std::is_same_v<F, Float8E5M2>) {
    // |v| in [61440, 65536): rounding up from the largest finite value
    // 0x7B, ORT ors in the infinity 0x7C and gets 0x7F, a NaN.
    if (a >= 61440.0f && a < 65536.0f && std::isnan(ort) && std::signbit(ort) == std::signbit(v) &&
        eigenq == std::copysign(INFINITY, v))
      return ++counts->e5m2_nan, true;
  }
  return false;
}

template <class F>
void check_case(const golden::Case& c, Layout memory, Counts* counts) {
  const Setup s = setup(c, memory);
  const std::vector<float> scale = c.floats("scale"), y = c.floats("y");
  const MinifloatParamsView params{s.layout, scale.data(), scale.size()};
  const std::string sat = c.text("saturate");
  ++counts->cases;
  counts->elements += static_cast<std::int64_t>(y.size());
  if (c.text("op") == "quantize") {
    const std::vector<float> x = c.floats("x");
    std::vector<std::uint8_t> q(x.size(), 0xAB);
    const Status st = sat == "default" ? quantize_minifloat<F>(x.data(), q.data(), s.shape, params)
                                       : quantize_minifloat<F>(x.data(), q.data(), s.shape, params, sat == "1");
    ASSERT_TRUE(st.is_ok()) << c.name << ": " << st.message();
    // Which scale each element takes (to name the departures by x / scale).
    std::vector<std::size_t> param(x.size());
    ResolvedParams r;
    ASSERT_TRUE(resolve_layout(s.layout, s.shape, &r).is_ok());
    detail::for_each_element(r, [&](std::size_t i, std::size_t k) { param[i] = k; });
    for (std::size_t i = 0; i < x.size(); ++i) {
      const float got = minifloat_decode<F>(q[i]);
      const float v = x[i] / scale[param[i]];
      if (!same_value(got, y[i]) && documented_departure<F>(v, y[i], got, sat != "0", counts)) continue;
      EXPECT_TRUE(same_value(got, y[i])) << c.name << " (" << layout_name(memory) << ") element " << i
                                         << ": x = " << std::hexfloat << x[i] << " / " << scale[param[i]]
                                         << " gives code " << std::hex << int{q[i]} << " = " << got << ", ORT " << y[i];
    }
  } else {
    std::vector<std::uint8_t> q;
    for (std::int64_t v : c.ints("x")) q.push_back(static_cast<std::uint8_t>(v));
    std::vector<float> out(q.size(), -1.0f);
    const Status st = dequantize_minifloat<F>(q.data(), out.data(), s.shape, params);
    ASSERT_TRUE(st.is_ok()) << c.name << ": " << st.message();
    for (std::size_t i = 0; i < q.size(); ++i)
      EXPECT_TRUE(same_value(out[i], y[i])) << c.name << " (" << layout_name(memory) << ") code " << int{q[i]} << ": "
                                            << std::hexfloat << out[i] << ", ORT " << y[i];
  }
}

TEST(OnnxFp8, EveryCaseBitExact) {
  const std::vector<golden::Case> cases = golden::load("onnx_fp8.txt");
  Counts counts;
  for (Layout memory : {Layout::kRowMajor, Layout::kColMajor})
    for (const golden::Case& c : cases)
      EXPECT_TRUE(with_format(c.text("type"), [&](auto f) { check_case<decltype(f)>(c, memory, &counts); }))
          << c.name << ": unknown type " << c.text("type");
  EXPECT_EQ(counts.cases, 2 * 248);
  EXPECT_EQ(counts.e4m3fn_480, 2 * 29);  // elements in the current file, both layouts
  EXPECT_EQ(counts.e5m2_nan, 2 * 41);
  std::printf("onnx_fp8: %d cases (both layouts), %lld elements; departures: E4M3FN [480, 488) %lld, E5M2 NaN %lld\n",
              counts.cases, static_cast<long long>(counts.elements), static_cast<long long>(counts.e4m3fn_480),
              static_cast<long long>(counts.e5m2_nan));
}

TEST(OnnxFp8, Refusals) {
  const float x[4] = {1, 2, 3, 4};
  std::uint8_t q[4] = {0, 0, 0, 0};
  float y[4] = {0, 0, 0, 0};
  const Shape shape = Shape::row_major({2, 2});
  const float bad[2] = {1.0f, -0.5f};
  Status st = quantize_minifloat<Float8E4M3FN>(x, q, shape, {per_axis_layout(1), bad, 2});
  EXPECT_EQ(st.code(), StatusCode::kInvalidScale);
  EXPECT_NE(st.message().find("scale[1] = -0.5"), std::string::npos) << st.message();
  const float inf[1] = {INFINITY};
  st = dequantize_minifloat<Float8E5M2>(q, y, shape, {per_tensor_layout(), inf, 1});
  EXPECT_NE(st.message().find("scale[0] = inf"), std::string::npos) << st.message();
  const float ok[3] = {1, 1, 1};
  st = quantize_minifloat<Float8E5M2>(x, q, shape, {per_axis_layout(0), ok, 3});
  EXPECT_EQ(st.code(), StatusCode::kShapeMismatch);
  EXPECT_NE(st.message().find("got 3, expected 2"), std::string::npos) << st.message();
  st = quantize_minifloat<Float8E5M2>(x, q, shape, {per_axis_layout(2), ok, 2});
  EXPECT_EQ(st.code(), StatusCode::kInvalidAxis);
  st = quantize_minifloat<Float8E5M2>(nullptr, q, shape, {per_tensor_layout(), ok, 1});
  EXPECT_NE(st.message().find("x is a null pointer"), std::string::npos) << st.message();
  const std::uint8_t codes[4] = {1, 15, 16, 2};
  st = dequantize_minifloat<Float4E2M1>(codes, y, shape, {per_tensor_layout(), ok, 1});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("q[2] = 16 is not a float4e2m1 code (expected < 16)"), std::string::npos) << st.message();
  EXPECT_EQ(y[0], 0.0f) << "nothing written";
  // An empty tensor takes null buffers.
  EXPECT_TRUE(quantize_minifloat<Float8E4M3FN>(nullptr, nullptr, Shape::row_major({0, 3}), {per_tensor_layout(), ok, 1})
                  .is_ok());
}

// The golden file pins the division: in its per-tensor quantize cases,
// elements where x / s and x * (1 / s) give different codes, all of them
// matched by the division (the EveryCaseBitExact test).
TEST(OnnxFp8, GoldenCasesTellDivisionFromReciprocal) {
  int differ = 0;
  for (const golden::Case& c : golden::load("onnx_fp8.txt")) {
    if (c.text("op") != "quantize" || c.text("scheme") != "per_tensor") continue;
    const float s = c.real("scale");
    const bool saturate = c.text("saturate") != "0";
    for (float x : c.floats("x")) {
      with_format(c.text("type"), [&](auto f) {
        using F = decltype(f);
        const float a = minifloat_decode<F>(minifloat_encode<F>(x / s, saturate));
        const float b = minifloat_decode<F>(minifloat_encode<F>(x * (1.0f / s), saturate));
        differ += !same_value(a, b);
      });
    }
  }
  EXPECT_EQ(differ, 88);
}

// The division is a true one: near a tie of the float8 grid, x * (1 / s)
// can land on the other side (ONNX Runtime divides too).
TEST(OnnxFp8, DividesByTheScale) {
  int found = 0;
  for (float s : {0.3f, 0.7f, 1.7067393f, 0.1f, 3.3f, 0.6661661f}) {
    for (int k = 0; k < 8; ++k) {
      const float tie = 1.0f + (2 * k + 1) / 16.0f;  // halfway between two E4M3 values in [1, 2)
      float x = tie * s;
      for (int i = 0; i < 4; ++i) x = std::nextafter(x, 0.0f);
      for (int i = 0; i < 9; ++i, x = std::nextafter(x, 4.0f)) {
        const std::uint8_t by_division = minifloat_encode<Float8E4M3FN>(x / s);
        if (by_division == minifloat_encode<Float8E4M3FN>(x * (1.0f / s))) continue;
        ++found;
        std::uint8_t q = 0;
        ASSERT_TRUE(
            quantize_minifloat<Float8E4M3FN>(&x, &q, Shape::row_major({1}), {per_tensor_layout(), &s, 1}).is_ok());
        EXPECT_EQ(q, by_division) << std::hexfloat << x << " / " << s;
      }
    }
  }
  EXPECT_GT(found, 0) << "no input where the reciprocal rounds differently";
}

}  // namespace
}  // namespace eigenq
