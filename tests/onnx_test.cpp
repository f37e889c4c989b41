// ONNX QuantizeLinear / DequantizeLinear conformance (opsets 13, 19, 21):
// the `onnx` preset against ONNX Runtime's outputs (tests/data/onnx_opset*.txt,
// made by tests/conformance/onnx/gen_onnx.js), on every compiled path and in
// both layouts. Per-axis with the axis attribute omitted (default 1) and
// negative, blocked (opset 21 block_size, ragged last block), per-element
// (block_size 1), int4/uint4 through the packed API, int16, uint16, saturation,
// NaN.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "golden_cases.hpp"

namespace eigenq {
namespace {

using golden::Departures;
using golden::QuantCase;

struct Variant {
  int opset;
  Path path;
  Layout layout;
};

std::vector<Variant> variants() {
  std::vector<Variant> v;
  for (int opset : {13, 19, 21})
    for (Layout layout : {Layout::kRowMajor, Layout::kColMajor}) {
      v.push_back({opset, Path::kScalar, layout});
      if (kBestPath != Path::kScalar) v.push_back({opset, kBestPath, layout});
    }
  return v;
}

std::string variant_name(const testing::TestParamInfo<Variant>& info) {
  return "opset" + std::to_string(info.param.opset) + "_" + path_name(info.param.path) +
         (info.param.layout == Layout::kRowMajor ? "_RowMajor" : "_ColMajor");
}

// Where ONNX Runtime departs from the ONNX specification, eigenq follows the
// specification, saturate(round(x / y_scale) + y_zero_point) with NaN to
// qmin as ORT's other paths do. Each entry is a case and the elements where
// ORT's value differs from ours; the comparison fails if any other element
// differs or a listed one agrees.
//
// Two ORT paths (opset 21) convert round(x / s) to int32 before adding the
// zero point and clamping: quantizing blocks along an axis that is not the
// last, and the scalar tail (the odd last element) of int4. For NaN, +-inf
// and |x / s| >= 2^31 the conversion gives INT32_MIN; adding a negative zero
// point wraps it to a large positive value. So with zp < 0, -inf, NaN and
// large negative values land on qmax; with zp >= 0, +inf and large positive
// values land on qmin. `OrtDepartures.FollowOneRule` checks that this model
// predicts every listed value.
const Departures kOrtDepartures = {
    {"saturate_int4_zp-8_n37", {36}},
    {"saturate_int4_zp-1_n37", {36}},
    {"ort_blocked_edges_int8", {1, 2, 4, 6, 17, 18, 20, 22}},
    {"ort_blocked_edges_uint8", {0, 3, 5, 7, 16, 19, 21, 23}},
    {"ort_blocked_edges_uint16", {0, 3, 5, 7, 16, 19, 21, 23}},
    {"ort_blocked_edges_int16", {1, 2, 4, 6, 17, 18, 20, 22}},
    {"ort_blocked_edges_int4", {1, 2, 4, 6, 17, 18, 20, 22}},
    {"ort_blocked_edges_uint4", {0, 3, 5, 7, 16, 19, 21, 23}},
    {"ort_int4_tail_zp-8_n1_e1", {0}},
    {"ort_int4_tail_zp-8_n1_e2", {0}},
    {"ort_int4_tail_zp-8_n1_e4", {0}},
    {"ort_int4_tail_zp-8_n1_e6", {0}},
    {"ort_int4_tail_zp-8_n33_e1", {32}},
    {"ort_int4_tail_zp-8_n33_e2", {32}},
    {"ort_int4_tail_zp-8_n33_e4", {32}},
    {"ort_int4_tail_zp-8_n33_e6", {32}},
    {"ort_int4_tail_zp-1_n1_e1", {0}},
    {"ort_int4_tail_zp-1_n1_e2", {0}},
    {"ort_int4_tail_zp-1_n1_e4", {0}},
    {"ort_int4_tail_zp-1_n1_e6", {0}},
    {"ort_int4_tail_zp-1_n33_e1", {32}},
    {"ort_int4_tail_zp-1_n33_e2", {32}},
    {"ort_int4_tail_zp-1_n33_e4", {32}},
    {"ort_int4_tail_zp-1_n33_e6", {32}},
    {"ort_int4_tail_zp0_n1_e0", {0}},
    {"ort_int4_tail_zp0_n1_e3", {0}},
    {"ort_int4_tail_zp0_n1_e5", {0}},
    {"ort_int4_tail_zp0_n1_e7", {0}},
    {"ort_int4_tail_zp0_n33_e0", {32}},
    {"ort_int4_tail_zp0_n33_e3", {32}},
    {"ort_int4_tail_zp0_n33_e5", {32}},
    {"ort_int4_tail_zp0_n33_e7", {32}},
    {"ort_int4_tail_zp7_n1_e0", {0}},
    {"ort_int4_tail_zp7_n1_e3", {0}},
    {"ort_int4_tail_zp7_n1_e5", {0}},
    {"ort_int4_tail_zp7_n1_e7", {0}},
    {"ort_int4_tail_zp7_n33_e0", {32}},
    {"ort_int4_tail_zp7_n33_e3", {32}},
    {"ort_int4_tail_zp7_n33_e5", {32}},
    {"ort_int4_tail_zp7_n33_e7", {32}},
};

class Onnx : public testing::TestWithParam<Variant> {};

TEST_P(Onnx, MatchesOnnxRuntime) {
  const Variant v = GetParam();
  const auto cases = golden::load_quant_cases("onnx_opset" + std::to_string(v.opset) + ".txt");
  ASSERT_GT(cases.size(), 40u);
  std::set<std::string> schemes;
  for (const QuantCase& c : cases) {
    ASSERT_EQ(c.preset, "onnx");
    const golden::Outcome out = v.path == Path::kScalar ? golden::run_case<Path::kScalar>(c, v.layout, "onnx")
                                                        : golden::run_case<kBestPath>(c, v.layout, "onnx");
    golden::compare(c, out, path_name(v.path), kOrtDepartures);
    schemes.insert(granularity_name(c.params.granularity));
  }
  EXPECT_EQ(schemes.size(), v.opset >= 21 ? 4u : 2u);
}

/// ORT's value by the int32-wrap model above: round(x / s) converted to
/// int32 as x86 does (INT32_MIN when NaN or out of range), the zero point
/// added with wrap-around, then clamped.
std::int64_t ort_wrapping_quantize(float x, float s, std::int32_t zp, Range range) {
  const float r = std::nearbyint(x / s);
  const std::int32_t i = (r >= -2147483648.0f && r < 2147483648.0f) ? static_cast<std::int32_t>(r) : INT32_MIN;
  const auto sum = static_cast<std::int32_t>(static_cast<std::uint32_t>(i) + static_cast<std::uint32_t>(zp));
  return sum < range.qmin ? range.qmin : sum > range.qmax ? range.qmax : sum;
}

TEST(OrtDepartures, FollowOneRule) {
  const auto cases = golden::load_quant_cases("onnx_opset21.txt");
  std::size_t checked = 0;
  for (const QuantCase& c : cases) {
    const auto it = kOrtDepartures.find(c.name);
    if (it == kOrtDepartures.end()) continue;
    ResolvedParams r;
    QParamsView view = c.params.view();
    ASSERT_TRUE(resolve_layout(view, c.shape, &r).is_ok());
    std::vector<std::int64_t> index(c.x.size());
    detail::for_each_run_indexed(r, [&](std::int64_t at, std::int64_t n, auto idx) {
      for (std::int64_t k = 0; k < n; ++k)
        index[at + k] = idx.param + (std::is_same_v<decltype(idx), detail::AlignedIndex> ? k : 0);
    });
    // The ort_* cases run wholly through the wrapping paths: there the model
    // holds for every element and departs from the specification exactly
    // where listed. Elsewhere (an int4 tail inside a longer case) only the
    // listed elements took that path.
    const bool whole = c.name.rfind("ort_", 0) == 0;
    for (std::size_t i = 0; i < c.x.size(); ++i) {
      const bool listed = it->second.count(i) != 0;
      if (!whole && !listed) continue;
      const float s = c.params.scale[index[i]];
      const std::int32_t zp = c.params.zero_point[index[i]];
      const std::int64_t model = ort_wrapping_quantize(c.x[i], s, zp, c.params.range);
      const std::int64_t spec = quantize<std::int32_t, presets::onnx>(c.x[i], s, zp, c.params.range);
      EXPECT_EQ(c.yq[i], model) << c.name << " element " << i;
      EXPECT_EQ(listed, model != spec) << c.name << " element " << i;
      if (listed) {
        EXPECT_TRUE(std::isnan(c.x[i]) || std::fabs(c.x[i] / s) >= 2147483648.0f) << c.name << " element " << i;
        EXPECT_EQ(zp < 0, c.yq[i] == c.params.range.qmax) << c.name << " element " << i;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 82u);
}

Shape dims_of(const golden::Case& c, const std::string& key) {
  const std::vector<std::int64_t> d = c.ints(key);
  return Shape::from(d.data(), static_cast<int>(d.size()), Layout::kRowMajor);
}

// onnx_param_layout takes exactly the y_scale shapes ORT takes, and the
// layout it returns quantizes as ORT did.
TEST(OnnxParamLayout, TakesTheShapesOnnxRuntimeTakes) {
  const auto cases = golden::load("onnx_param_shapes.txt");
  ASSERT_GT(cases.size(), 20u);
  std::size_t accepted = 0, refused = 0;
  for (const golden::Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Shape input = dims_of(c, "shape"), scale_shape = dims_of(c, "scale_shape");
    ParamLayout layout;
    const Status st =
        onnx_param_layout(input, scale_shape, static_cast<int>(c.integer("axis")), c.integer("block"), &layout);
    if (c.text("ort") == "refused") {
      ++refused;
      EXPECT_EQ(st.code(), StatusCode::kShapeMismatch) << st.message();
      EXPECT_NE(st.message().find("y_scale shape " + detail::dims_text(scale_shape)), std::string::npos)
          << st.message();
      continue;
    }
    ++accepted;
    ASSERT_TRUE(st.is_ok()) << st.message();
    QParams p;
    p.granularity = layout.granularity;
    p.axis = layout.axis;
    p.block_size = layout.block_size;
    p.scale = c.floats("scale");
    for (std::int64_t z : c.ints("zp")) p.zero_point.push_back(static_cast<std::int32_t>(z));
    p.range = Range::full<std::int8_t>();
    const std::vector<float> x = c.floats("x");
    std::vector<std::int8_t> q(x.size());
    const Status sq = quantize<std::int8_t, presets::onnx>(x.data(), q.data(), input, p.view());
    ASSERT_TRUE(sq.is_ok()) << sq.message();
    const std::vector<std::int64_t> y = c.ints("y");
    ASSERT_EQ(y.size(), q.size());
    for (std::size_t i = 0; i < q.size(); ++i) EXPECT_EQ(q[i], y[i]) << "element " << i;
  }
  EXPECT_GT(accepted, 8u);
  EXPECT_GT(refused, 8u);
}

TEST(OnnxParamLayout, RefusesBadAttributes) {
  ParamLayout layout;
  const Shape x = Shape::row_major({2, 4});
  Status st = onnx_param_layout(x, Shape::row_major({2, 2}), 1, -2, &layout);
  EXPECT_EQ(st.code(), StatusCode::kInvalidBlockSize);
  EXPECT_NE(st.message().find("block_size = -2"), std::string::npos) << st.message();
  st = onnx_param_layout(x, Shape::row_major({4}), 2, 0, &layout);
  EXPECT_EQ(st.code(), StatusCode::kInvalidAxis);
  EXPECT_NE(st.message().find("axis = 2"), std::string::npos) << st.message();
  // ceil(dims[axis] / block_size) without overflow for the largest block size.
  st = onnx_param_layout(x, Shape::row_major({2, 1}), 1, INT64_MAX, &layout);
  ASSERT_TRUE(st.is_ok()) << st.message();
  EXPECT_EQ(layout, blocked_layout(1, INT64_MAX));
}

INSTANTIATE_TEST_SUITE_P(Opsets, Onnx, testing::ValuesIn(variants()), variant_name);

}  // namespace
}  // namespace eigenq
