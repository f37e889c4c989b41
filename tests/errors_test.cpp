// Every bad parameter of the numeric contract (DESIGN.md §3) is refused with
// a message that names the value and what was expected, before anything is
// written: through the Status entry points (Quantizer::create, the one-shot
// raw functions, the Eigen *_into functions, choose_qparams) and the throwing
// ones (the Quantizer constructor, the Eigen functions returning a tensor),
// for each storage type.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include "eigenq/eigenq.hpp"

namespace eigenq {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

// A status must carry `code` and a message containing every part.
void expect_error(const Status& status, StatusCode code, const std::vector<std::string>& parts) {
  EXPECT_FALSE(status.is_ok());
  EXPECT_EQ(status.code(), code) << status.message();
  EXPECT_EQ(status.message().rfind("eigenq: ", 0), 0u) << status.message();
  for (const auto& part : parts)
    EXPECT_NE(status.message().find(part), std::string::npos)
        << "message \"" << status.message() << "\" does not contain \"" << part << "\"";
}

// The throwing form of the same check: an eigenq::Error with the same code
// and message.
template <class Fn>
void expect_throw(Fn&& fn, const Status& status) {
  try {
    fn();
    ADD_FAILURE() << "no exception; expected: " << status.message();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), status.code());
    EXPECT_EQ(std::string(e.what()), status.message());
  }
}

// A parameter set that is wrong for a shape, and what the message must say.
struct Bad {
  std::string what;
  Shape shape;
  Granularity granularity;
  int axis;
  std::int64_t block_size;
  std::vector<float> scale;
  std::vector<std::int32_t> zero_point;
  Range range;
  StatusCode code;
  std::vector<std::string> parts;
  std::size_t count = ~std::size_t{0};  // default: scale.size()

  // Only a scale whose reciprocal overflows is wrong: refused where the
  // kernels multiply by 1/scale, valid for dequantize (which never uses it).
  bool dequantize_takes_it() const {
    return code == StatusCode::kInvalidScale &&
           std::all_of(scale.begin(), scale.end(), [](float v) { return std::isfinite(v) && v > 0.0f; });
  }

  QParamsView view() const {
    return {
        granularity, axis, block_size, scale.data(), zero_point.data(), count == ~std::size_t{0} ? scale.size() : count,
        range};
  }
};

// Runs one bad parameter set through every entry point that takes a view,
// checking the status, the exception and that no output was written.
template <class Q>
void check_refused(const Bad& bad) {
  SCOPED_TRACE(bad.what + " (" + storage_name<Q>() + ")");
  const QParamsView view = bad.view();
  const std::int64_t n = std::max<std::int64_t>(bad.shape.size(), 1);  // the buffers only need to exist

  Quantizer<Q> qz;
  const Status status = Quantizer<Q>::create(bad.shape, view, &qz);
  expect_error(status, bad.code, bad.parts);
  EXPECT_EQ(qz.shape().rank, 0) << "create wrote its output";
  expect_throw([&] { Quantizer<Q> q(bad.shape, view); }, status);

  // The one-shot functions write nothing.
  const std::vector<float> x(n, 1.5f);
  std::vector<Q> q(n, Q{42});
  std::vector<float> y(n, -3.0f);
  const Status sq = quantize<Q>(x.data(), q.data(), bad.shape, view);
  EXPECT_EQ(sq.message(), status.message());
  for (const Q v : q) ASSERT_EQ(v, Q{42}) << "quantize wrote its output";
  const Status sd = dequantize<Q>(q.data(), y.data(), bad.shape, view);
  if (bad.dequantize_takes_it()) {
    ASSERT_TRUE(sd.is_ok()) << sd.message();
    ResolvedParams r;
    ASSERT_TRUE((resolve<Q, ScaleByDivision>(view, bad.shape, &r).is_ok()));
    detail::for_each_run_indexed(r, [&](std::int64_t at, std::int64_t len, auto index) {
      for (std::int64_t k = 0; k < len; ++k) {
        const std::size_t p = static_cast<std::size_t>(index.param) +
                              (std::is_same_v<decltype(index), detail::AlignedIndex> ? static_cast<std::size_t>(k) : 0);
        const std::size_t i = static_cast<std::size_t>(at + k);
        ASSERT_EQ(y[i], eigenq::dequantize(q[i], bad.scale[p], bad.zero_point[p])) << "element " << i;
      }
    });
    std::fill(y.begin(), y.end(), -3.0f);
  } else {
    EXPECT_EQ(sd.message(), status.message());
    for (const float v : y) ASSERT_EQ(v, -3.0f) << "dequantize wrote its output";
  }
  const Status sf = fake_quantize<Q>(x.data(), y.data(), bad.shape, view);
  EXPECT_EQ(sf.message(), status.message());
  for (const float v : y) ASSERT_EQ(v, -3.0f) << "fake_quantize wrote its output";

  // The scalar path explicitly, as a kernel user would pick it.
  Quantizer<Q, DefaultNumerics, Path::kScalar> scalar;
  EXPECT_EQ((Quantizer<Q, DefaultNumerics, Path::kScalar>::create(bad.shape, view, &scalar).code()), bad.code);
}

template <class Q>
std::vector<Bad> bad_values() {
  const Range full = Range::full<Q>();
  // A range narrower than the type, so that a zero point can lie outside it
  // for every type (int32's full range leaves nothing outside).
  const Range r{std::is_signed_v<Q> ? -100 : 0, 100};
  const Shape v4 = Shape::row_major({4});
  const Shape m = Shape::row_major({2, 3, 4});
  auto per_axis = [&](std::vector<float> s, std::vector<std::int32_t> z, StatusCode code,
                      std::vector<std::string> parts,
                      std::string what) { return Bad{what, m, Granularity::kPerAxis, 1, 0, s, z, r, code, parts}; };
  const std::vector<std::int32_t> z3(3, 0);
  std::vector<Bad> all = {
      // scale not finite or <= 0, named with its index
      per_axis({0.5f, 0.5f, kNaN}, z3, StatusCode::kInvalidScale, {"scale[2] = nan", "finite and > 0"}, "NaN scale"),
      per_axis({0.5f, kInf, 0.5f}, z3, StatusCode::kInvalidScale, {"scale[1] = inf", "finite and > 0"}, "inf scale"),
      per_axis({-kInf, 0.5f, 0.5f}, z3, StatusCode::kInvalidScale, {"scale[0] = -inf", "finite and > 0"}, "-inf scale"),
      per_axis({0.5f, 0.0f, 0.5f}, z3, StatusCode::kInvalidScale, {"scale[1] = 0 ", "finite and > 0"}, "zero scale"),
      per_axis({0.5f, -0.0f, 0.5f}, z3, StatusCode::kInvalidScale, {"scale[1] = -0 ", "finite and > 0"},
               "negative zero scale"),
      per_axis({0.5f, 0.5f, -0.25f}, z3, StatusCode::kInvalidScale, {"scale[2] = -0.25", "finite and > 0"},
               "negative scale"),
      // 1/scale overflows: subnormal scales below 2^-128
      per_axis({0.5f, 1e-39f, 0.5f}, z3, StatusCode::kInvalidScale,
               {"scale[1] = 1.00000022e-39", "1/scale overflows", "expected scale >= 2.93873728e-39"},
               "subnormal scale"),
      per_axis({std::numeric_limits<float>::denorm_min(), 0.5f, 0.5f}, z3, StatusCode::kInvalidScale,
               {"scale[0] = 1.4012984", "1/scale overflows", "dequantize and ScaleByDivision presets take"},
               "smallest subnormal scale"),
      // zero point outside [qmin, qmax]
      per_axis({0.5f, 0.5f, 0.5f}, {0, 101, 0}, StatusCode::kInvalidZeroPoint,
               {"zero_point[1] = 101", "outside [qmin, qmax] = [" + std::to_string(r.qmin) + ", 100]"},
               "zero point above qmax"),
      per_axis({0.5f, 0.5f, 0.5f}, {0, 0, r.qmin - 1}, StatusCode::kInvalidZeroPoint,
               {"zero_point[2] = " + std::to_string(r.qmin - 1), "outside [qmin, qmax]"}, "zero point below qmin"),
      // per tensor too
      Bad{"per-tensor zero point outside the full range",
          v4,
          Granularity::kPerTensor,
          0,
          0,
          {1.0f},
          {full.qmax == INT32_MAX ? 6 : full.qmax + 1},
          full.qmax == INT32_MAX ? Range{-5, 5} : full,
          StatusCode::kInvalidZeroPoint,
          {"zero_point[0] = ", "outside [qmin, qmax]"}},
      Bad{"per-tensor NaN scale",
          v4,
          Granularity::kPerTensor,
          0,
          0,
          {kNaN},
          {0},
          r,
          StatusCode::kInvalidScale,
          {"scale[0] = nan"}},
      // qmin > qmax
      Bad{"qmin > qmax",
          v4,
          Granularity::kPerTensor,
          0,
          0,
          {1.0f},
          {4},
          Range{5, 3},
          StatusCode::kInvalidRange,
          {"qmin = 5 > qmax = 3"}},
      // Checks come in order: a bad range is reported before a bad scale.
      Bad{"range checked before values",
          v4,
          Granularity::kPerTensor,
          0,
          0,
          {kNaN},
          {4},
          Range{5, 3},
          StatusCode::kInvalidRange,
          {"qmin = 5 > qmax = 3"}},
  };
  return all;
}

template <class Q>
std::vector<Bad> bad_ranges() {
  // Each bound one past the storage type. int32's bounds are the limits of
  // Range's own fields, so only qmin > qmax can be wrong for it.
  const Range full = Range::full<Q>();
  const std::string type = storage_name<Q>();
  const std::string full_text = type + " [" + std::to_string(full.qmin) + ", " + std::to_string(full.qmax) + "]";
  std::vector<Bad> all;
  if (!std::is_same_v<Q, std::int32_t>) {
    const Range below{full.qmin - 1, full.qmax}, above{full.qmin, full.qmax + 1};
    for (const Range r : {below, above})
      all.push_back(
          Bad{"range outside " + type,
              Shape::row_major({3}),
              Granularity::kPerTensor,
              0,
              0,
              {1.0f},
              {0},
              r,
              StatusCode::kInvalidRange,
              {"range [" + std::to_string(r.qmin) + ", " + std::to_string(r.qmax) + "]", "outside " + full_text}});
  }
  all.push_back(Bad{"qmin > qmax at the type's limits",
                    Shape::row_major({3}),
                    Granularity::kPerTensor,
                    0,
                    0,
                    {1.0f},
                    {0},
                    Range{full.qmax, full.qmin},
                    StatusCode::kInvalidRange,
                    {"qmin = " + std::to_string(full.qmax) + " > qmax = " + std::to_string(full.qmin)}});
  return all;
}

std::vector<Bad> bad_layouts() {
  const Range r = Range::full<std::int8_t>();
  const Shape m = Shape::row_major({2, 3, 4});
  const std::vector<float> s1{1.0f}, s2(2, 1.0f), s3(3, 1.0f), s4(4, 1.0f), s5(5, 1.0f), s24(24, 1.0f);
  auto zeros = [](const std::vector<float>& s) { return std::vector<std::int32_t>(s.size(), 0); };
  return {
      // axis out of range, both signs, per-axis and blocked
      {"axis = rank",
       m,
       Granularity::kPerAxis,
       3,
       0,
       s3,
       zeros(s3),
       r,
       StatusCode::kInvalidAxis,
       {"axis = 3", "rank 3", "-3 <= axis < 3"}},
      {"axis far above", m, Granularity::kPerAxis, 17, 0, s3, zeros(s3), r, StatusCode::kInvalidAxis, {"axis = 17"}},
      {"axis below -rank",
       m,
       Granularity::kPerAxis,
       -4,
       0,
       s3,
       zeros(s3),
       r,
       StatusCode::kInvalidAxis,
       {"axis = -4", "-3 <= axis < 3"}},
      {"blocked axis out of range",
       m,
       Granularity::kBlocked,
       -5,
       2,
       s3,
       zeros(s3),
       r,
       StatusCode::kInvalidAxis,
       {"axis = -5"}},
      {"axis of a rank-0 tensor",
       Shape(),
       Granularity::kPerAxis,
       0,
       0,
       s1,
       zeros(s1),
       r,
       StatusCode::kInvalidAxis,
       {"axis = 0", "rank 0"}},
      // block size <= 0
      {"block size 0",
       m,
       Granularity::kBlocked,
       1,
       0,
       s3,
       zeros(s3),
       r,
       StatusCode::kInvalidBlockSize,
       {"block_size = 0", ">= 1"}},
      {"negative block size",
       m,
       Granularity::kBlocked,
       2,
       -3,
       s3,
       zeros(s3),
       r,
       StatusCode::kInvalidBlockSize,
       {"block_size = -3", ">= 1"}},
      // counts that do not match the granularity
      {"per-tensor with 2 parameters",
       m,
       Granularity::kPerTensor,
       0,
       0,
       s2,
       zeros(s2),
       r,
       StatusCode::kShapeMismatch,
       {"per-tensor", "got 2", "expected 1"}},
      {"per-tensor with none",
       m,
       Granularity::kPerTensor,
       0,
       0,
       {},
       {},
       r,
       StatusCode::kShapeMismatch,
       {"got 0", "expected 1"}},
      {"per-axis, one short",
       m,
       Granularity::kPerAxis,
       1,
       0,
       s2,
       zeros(s2),
       r,
       StatusCode::kShapeMismatch,
       {"per-axis", "got 2", "expected 3"}},
      {"per-axis, counted along the wrong axis",
       m,
       Granularity::kPerAxis,
       -1,
       0,
       s3,
       zeros(s3),
       r,
       StatusCode::kShapeMismatch,
       {"got 3", "expected 4"}},
      {"per-axis, one too many",
       m,
       Granularity::kPerAxis,
       0,
       0,
       s3,
       zeros(s3),
       r,
       StatusCode::kShapeMismatch,
       {"got 3", "expected 2"}},
      // blocked along axis 2 (length 4) by 3: ceil(4/3) = 2 blocks x 6 others = 12
      {"blocked, one block per row",
       m,
       Granularity::kBlocked,
       2,
       3,
       s24,
       zeros(s24),
       r,
       StatusCode::kShapeMismatch,
       {"blocked", "got 24", "expected 12"}},
      {"per-element, short",
       m,
       Granularity::kPerElement,
       0,
       0,
       s5,
       zeros(s5),
       r,
       StatusCode::kShapeMismatch,
       {"per-element", "got 5", "expected 24"}},
      // missing arrays
      {"null arrays with a count",
       m,
       Granularity::kPerAxis,
       1,
       0,
       {},
       {},
       r,
       StatusCode::kShapeMismatch,
       {"per-axis"},
       3},
      // a negative dimension
      {"negative dimension",
       Shape::row_major({2, -3}),
       Granularity::kPerTensor,
       0,
       0,
       s1,
       zeros(s1),
       r,
       StatusCode::kInvalidArgument,
       {"dimension 1 = -3", "negative"}},
  };
}

template <class Q>
void check_all() {
  for (const Bad& bad : bad_values<Q>()) check_refused<Q>(bad);
  for (const Bad& bad : bad_ranges<Q>()) check_refused<Q>(bad);
  for (const Bad& bad : bad_layouts()) {
    Bad b = bad;
    if (!b.range.fits<Q>()) b.range = Range::full<Q>();
    check_refused<Q>(b);
  }
}

TEST(Errors, Int8) { check_all<std::int8_t>(); }
TEST(Errors, Uint8) { check_all<std::uint8_t>(); }
TEST(Errors, Int16) { check_all<std::int16_t>(); }
TEST(Errors, Int32) { check_all<std::int32_t>(); }

TEST(Errors, BoundariesThatAreAccepted) {
  // The smallest scale whose reciprocal is finite, zero points at qmin and
  // qmax, axes -rank and rank - 1, block size larger than the axis.
  const Shape m = Shape::row_major({2, 3, 4});
  const float tiny = 0x1.000008p-128f;  // the smallest scale whose reciprocal is finite (0x1.fffffp+127)
  EXPECT_TRUE(std::isfinite(1.0f / tiny));
  EXPECT_FALSE(std::isfinite(1.0f / std::nextafter(tiny, 0.0f)));
  const std::vector<float> s{tiny, 1.0f, 2.0f};
  const std::vector<std::int32_t> z{-128, 127, 0};
  Quantizer<std::int8_t> qz;
  EXPECT_TRUE(Quantizer<std::int8_t>::create(
                  m, {Granularity::kPerAxis, -2, 0, s.data(), z.data(), 3, Range::full<std::int8_t>()}, &qz)
                  .is_ok());
  EXPECT_TRUE(Quantizer<std::int8_t>::create(
                  m, {Granularity::kPerAxis, -3, 0, s.data(), z.data(), 2, Range::full<std::int8_t>()}, &qz)
                  .is_ok());
  // Blocks longer than the axis: one (ragged) block per row, 2 * 3 rows.
  const std::vector<float> s6(6, 1.0f);
  const std::vector<std::int32_t> z6(6, 0);
  EXPECT_TRUE(Quantizer<std::int8_t>::create(
                  m, {Granularity::kBlocked, 2, 9, s6.data(), z6.data(), 6, Range::full<std::int8_t>()}, &qz)
                  .is_ok());
  // A range of one value (qmin == qmax) is valid.
  const float one = 1.0f;
  const std::int32_t three = 3;
  EXPECT_TRUE(
      Quantizer<std::int8_t>::create(m, {Granularity::kPerTensor, 0, 0, &one, &three, 1, Range{3, 3}}, &qz).is_ok());
}

TEST(Errors, ScaleAndZeroPointOfDifferentLengths) {
  const Shape m = Shape::row_major({3, 2});
  const QParams p = QParams::per_axis(0, {1.0f, 2.0f, 3.0f}, {0, 0}, Range::full<std::int8_t>());
  Quantizer<std::int8_t> qz;
  const Status status = Quantizer<std::int8_t>::create(m, p, &qz);
  expect_error(status, StatusCode::kShapeMismatch, {"scale has 3 values", "zero_point has 2"});
  expect_throw([&] { Quantizer<std::int8_t> q(m, p); }, status);
  // Through a view of those vectors (the length mismatch is all it can carry).
  std::vector<std::int8_t> out(6, 9);
  const std::vector<float> x(6, 1.0f);
  expect_error(quantize<std::int8_t>(x.data(), out.data(), m, p.view()), StatusCode::kShapeMismatch,
               {"different lengths"});
  for (auto v : out) EXPECT_EQ(v, 9);
  // And through the Eigen functions that take the owning set.
  Eigen::Tensor<float, 2, Eigen::RowMajor> t(3, 2);
  t.setConstant(1.0f);
  expect_throw([&] { (void)quantize<std::int8_t>(t, p); }, status);
  expect_throw([&] { (void)fake_quantize(t, p); }, status);
  Eigen::Tensor<std::int8_t, 2, Eigen::RowMajor> q(3, 2);
  q.setConstant(1);
  expect_throw([&] { (void)dequantize(q, p); }, status);
}

TEST(Errors, EigenFunctionsReportTheSameErrorsAndWriteNothing) {
  Eigen::Tensor<float, 3> x(2, 3, 4);  // ColMajor
  x.setConstant(0.75f);
  Eigen::Tensor<std::int8_t, 3> q(2, 3, 4);
  q.setConstant(7);
  Eigen::Tensor<float, 3> y(2, 3, 4);
  y.setConstant(-1.0f);
  for (const Bad& bad : bad_layouts()) {
    if (bad.shape.rank != 3 || bad.shape.dims[0] != 2) continue;
    SCOPED_TRACE(bad.what);
    const Status status = quantize_into<std::int8_t>(x, bad.view(), q);
    expect_error(status, bad.code, bad.parts);
    expect_error(dequantize_into(q, bad.view(), y), bad.code, bad.parts);
    expect_error(fake_quantize_into(x, bad.view(), y), bad.code, bad.parts);
    if (!bad.scale.empty() && bad.count == ~std::size_t{0}) {
      const QParams owned{bad.granularity, bad.axis, bad.block_size, bad.scale, bad.zero_point, bad.range};
      expect_throw([&] { (void)quantize<std::int8_t>(x, owned); }, status);
      expect_throw([&] { (void)fake_quantize(x, owned); }, status);
      expect_throw([&] { (void)dequantize(q, owned); }, status);
    }
  }
  for (Eigen::Index i = 0; i < q.size(); ++i) ASSERT_EQ(q.data()[i], 7);
  for (Eigen::Index i = 0; i < y.size(); ++i) ASSERT_EQ(y.data()[i], -1.0f);

  // Values too: a NaN scale, named.
  const QParams nan_scale = QParams::per_axis(1, {1.0f, kNaN, 1.0f}, {}, Range::full<std::int8_t>());
  expect_error(quantize_into<std::int8_t>(x, nan_scale.view(), q), StatusCode::kInvalidScale, {"scale[1] = nan"});
  expect_throw([&] { (void)quantize<std::int8_t>(x, nan_scale); }, quantize_into<std::int8_t>(x, nan_scale.view(), q));
  for (Eigen::Index i = 0; i < q.size(); ++i) ASSERT_EQ(q.data()[i], 7);
}

TEST(Errors, EigenOutputShapeMismatch) {
  const QParams p = QParams::per_tensor(0.5f, 0, Range::full<std::int8_t>());
  Eigen::Tensor<float, 3, Eigen::RowMajor> x(2, 3, 4);
  x.setConstant(1.0f);
  Eigen::Tensor<std::int8_t, 3, Eigen::RowMajor> q(2, 4, 3);  // same size, other shape
  q.setConstant(5);
  expect_error(quantize_into<std::int8_t>(x, p.view(), q), StatusCode::kShapeMismatch,
               {"the input has shape [2, 3, 4] RowMajor, expected [2, 4, 3] RowMajor"});
  for (Eigen::Index i = 0; i < q.size(); ++i) ASSERT_EQ(q.data()[i], 5);

  Eigen::Tensor<std::int8_t, 3, Eigen::RowMajor> qok(2, 3, 4);
  qok.setConstant(1);
  Eigen::Tensor<float, 3, Eigen::RowMajor> y(2, 3, 5);
  y.setConstant(-2.0f);
  expect_error(dequantize_into(qok, p.view(), y), StatusCode::kShapeMismatch,
               {"[2, 3, 4] RowMajor, expected [2, 3, 5]"});
  expect_error(fake_quantize_into(x, p.view(), y), StatusCode::kShapeMismatch, {"expected [2, 3, 5] RowMajor"});
  for (Eigen::Index i = 0; i < y.size(); ++i) ASSERT_EQ(y.data()[i], -2.0f);

  // A map of a caller's buffer with a wrong dimension.
  float buffer[24];
  for (float& v : buffer) v = 8.0f;
  Eigen::TensorMap<Eigen::Tensor<float, 3, Eigen::RowMajor>> ymap(buffer, 4, 3, 2);
  expect_error(fake_quantize_into(x, p.view(), ymap), StatusCode::kShapeMismatch, {"expected [4, 3, 2] RowMajor"});
  for (float v : buffer) ASSERT_EQ(v, 8.0f);

  // Matrices: rows/cols swapped; a non-contiguous block is read through one temporary.
  Eigen::MatrixXf m(3, 2);
  m.setConstant(1.0f);
  Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic> qm(2, 3);
  qm.setConstant(3);
  expect_error(quantize_into<std::int8_t>(m, p.view(), qm), StatusCode::kShapeMismatch,
               {"the input has shape [3, 2] ColMajor, expected [2, 3] ColMajor"});
  for (Eigen::Index i = 0; i < qm.size(); ++i) ASSERT_EQ(qm.data()[i], 3);
  Eigen::MatrixXf big(5, 5);
  big.setConstant(1.0f);
  Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic> qb(2, 2);
  qb.setConstant(3);
  ASSERT_TRUE(quantize_into<std::int8_t>(big.block(1, 1, 2, 2), p.view(), qb).is_ok());
  for (Eigen::Index i = 0; i < qb.size(); ++i) ASSERT_EQ(qb.data()[i], 2);  // 1 / 0.5
}

TEST(Errors, ChooseQParamsRefusesBadRangesAndAxes) {
  const std::vector<float> x(24, 1.0f);
  const Shape m = Shape::row_major({2, 3, 4});
  QParams out = QParams::per_tensor(9.0f, 9, Range{9, 9});
  expect_error(choose_qparams<std::int8_t>(x.data(), m, per_tensor_layout(), Range{-200, 0}, Symmetry::kAffine, &out),
               StatusCode::kInvalidRange, {"range [-200, 0]", "outside int8 [-128, 127]"});
  expect_error(choose_qparams<std::uint8_t>(x.data(), m, per_axis_layout(3), Range::full<std::uint8_t>(),
                                            Symmetry::kSymmetric, &out),
               StatusCode::kInvalidAxis, {"axis = 3"});
  expect_error(choose_qparams<std::int8_t>(x.data(), m, blocked_layout(1, 0), Range::full<std::int8_t>(),
                                           Symmetry::kAffine, &out),
               StatusCode::kInvalidBlockSize, {"block_size = 0"});
  EXPECT_EQ(out.scale, std::vector<float>{9.0f}) << "choose_qparams wrote its output";
  EXPECT_EQ(out.range, (Range{9, 9}));

  Eigen::Tensor<float, 3> t(2, 3, 4);
  t.setConstant(1.0f);
  const Status axis_status = choose_qparams<std::int8_t>(t.data(), shape_of(t), per_axis_layout(-4),
                                                         Range::full<std::int8_t>(), Symmetry::kAffine, &out);
  expect_error(axis_status, StatusCode::kInvalidAxis, {"axis = -4"});
  expect_throw([&] { (void)choose_qparams<std::int8_t>(t, per_axis_layout(-4)); }, axis_status);
  expect_throw(
      [&] {
        (void)choose_qparams<std::int16_t>(t, per_tensor_layout(), Range{0, 40000});
      },
      check_range<std::int16_t>(Range{0, 40000}));
}

}  // namespace
}  // namespace eigenq
