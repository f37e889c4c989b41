// Built with -fno-exceptions: the Status entry points must compile and report
// bad input without throwing, and write nothing when they refuse it.
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include <eigenq/eigenq.hpp>

#if EIGENQ_EXCEPTIONS
#error "this test must be compiled with -fno-exceptions"
#endif

namespace {

int failures = 0;

#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                                   \
    }                                                                               \
  } while (0)

bool mentions(const eigenq::Status& status, const char* text) {
  return status.message().find(text) != std::string::npos;
}

void quantizer_create_refuses_bad_parameters() {
  using eigenq::QParams;
  using eigenq::Range;
  using eigenq::StatusCode;
  const eigenq::Shape shape = eigenq::Shape::row_major({2, 3});
  eigenq::Quantizer<std::int8_t> qz;

  const eigenq::Status zero_scale =
      eigenq::Quantizer<std::int8_t>::create(shape, QParams::per_tensor(0.0f, 0, Range::full<std::int8_t>()), &qz);
  CHECK(!zero_scale.is_ok());
  CHECK(zero_scale.code() == StatusCode::kInvalidScale);
  CHECK(mentions(zero_scale, "scale"));

  const eigenq::Status bad_zero_point =
      eigenq::Quantizer<std::int8_t>::create(shape, QParams::per_tensor(1.0f, 300, Range::full<std::int8_t>()), &qz);
  CHECK(bad_zero_point.code() == StatusCode::kInvalidZeroPoint);
  CHECK(mentions(bad_zero_point, "300"));

  const eigenq::Status bad_axis = eigenq::Quantizer<std::int8_t>::create(
      shape, QParams::per_axis(2, {1.0f, 1.0f}, {}, Range::full<std::int8_t>()), &qz);
  CHECK(bad_axis.code() == StatusCode::kInvalidAxis);

  const eigenq::Status ok =
      eigenq::Quantizer<std::int8_t>::create(shape, QParams::per_tensor(0.5f, 1, Range::full<std::int8_t>()), &qz);
  CHECK(ok.is_ok());
  const float x[6] = {0.0f, 0.5f, -0.5f, 1000.0f, -1000.0f, 0.75f};
  std::int8_t q[6] = {};
  qz.quantize(x, q);
  // 0.75 * 2 = 1.5 rounds to even (2), plus the zero point.
  const std::int8_t expected[6] = {1, 2, 0, 127, -128, 3};
  for (int i = 0; i < 6; ++i) CHECK(q[i] == expected[i]);
}

void raw_quantize_writes_nothing_on_error() {
  const eigenq::Shape shape = eigenq::Shape::row_major({2, 3});
  const std::vector<float> x = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f};
  std::vector<std::uint8_t> q(6, 0xAB);

  // Per-axis on axis 1 needs three scales; two is a shape mismatch.
  const float scales[2] = {1.0f, 1.0f};
  const std::int32_t zero_points[2] = {0, 0};
  eigenq::QParamsView params;
  params.granularity = eigenq::Granularity::kPerAxis;
  params.axis = 1;
  params.scale = scales;
  params.zero_point = zero_points;
  params.count = 2;
  params.range = eigenq::Range::full<std::uint8_t>();
  const eigenq::Status mismatch = eigenq::quantize(x.data(), q.data(), shape, params);
  CHECK(mismatch.code() == eigenq::StatusCode::kShapeMismatch);
  for (std::uint8_t v : q) CHECK(v == 0xAB);

  // Ties to even, zero point added after rounding (s = 1, zp = 5).
  const std::vector<float> ties = {-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f};
  const float one = 1.0f;
  const std::int32_t five = 5;
  eigenq::QParamsView per_tensor;
  per_tensor.scale = &one;
  per_tensor.zero_point = &five;
  per_tensor.count = 1;
  per_tensor.range = eigenq::Range::full<std::uint8_t>();
  CHECK(eigenq::quantize(ties.data(), q.data(), shape, per_tensor).is_ok());
  const std::uint8_t expected[6] = {3, 3, 5, 5, 7, 7};
  for (int i = 0; i < 6; ++i) CHECK(q[i] == expected[i]);
}

void eigen_front_end_returns_status() {
  Eigen::Tensor<float, 2> x(2, 3);
  x.setConstant(1.0f);
  Eigen::Tensor<std::int8_t, 2> q(2, 3);
  q.setConstant(7);
  const eigenq::QParams nan_scale =
      eigenq::QParams::per_tensor(std::numeric_limits<float>::quiet_NaN(), 0, eigenq::Range::full<std::int8_t>());
  const eigenq::Status status = eigenq::quantize_into<std::int8_t>(x, nan_scale.view(), q);
  CHECK(status.code() == eigenq::StatusCode::kInvalidScale);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) CHECK(q(i, j) == 7);
}

// The Status forms of the Eigen entry points, on expressions and strided
// blocks: every one reports a bad parameter and writes nothing.
void eigen_status_forms_on_expressions() {
  using eigenq::StatusCode;
  const Eigen::MatrixXf x = Eigen::MatrixXf::Constant(3, 4, 0.5f);
  Eigen::MatrixXf y = Eigen::MatrixXf::Constant(3, 4, 9.0f);
  const eigenq::QParams bad = eigenq::QParams::per_axis(0, {0.1f, -1.0f, 0.1f}, {}, eigenq::Range::full<std::int8_t>());
  CHECK(eigenq::fake_quantize_into(x * 2.0f, bad.view(), y).code() == StatusCode::kInvalidScale);
  const eigenq::QParams bad_row = eigenq::QParams::per_tensor(-1.0f, 0, eigenq::Range::full<std::int8_t>());
  CHECK(eigenq::fake_quantize_into(x.row(1), bad_row.view(), y.row(1)).code() == StatusCode::kInvalidScale);
  CHECK(eigenq::fake_quantize_into(x.row(1), bad.view(), y.row(1)).code() == StatusCode::kShapeMismatch);
  eigenq::QParams chosen;
  CHECK(eigenq::choose_qparams<std::int8_t>(x * 2.0f, eigenq::per_axis_layout(2), eigenq::Range::full<std::int8_t>(),
                                            eigenq::Symmetry::kAffine, &chosen)
            .code() == StatusCode::kInvalidAxis);
  eigenq::MinMaxObserver<std::int8_t> obs(eigenq::per_axis_layout(3));
  CHECK(obs.observe(x + x, std::nothrow).code() == StatusCode::kInvalidAxis);
  eigenq::FakeQuantSTE<> layer(bad);
  CHECK(layer.forward_into(x * 2.0f, y).code() == StatusCode::kInvalidScale);
  eigenq::FakeQuantOp<> op;
  CHECK(eigenq::FakeQuantOp<>::create(-1.0f, 0, eigenq::Range::full<std::int8_t>(), &op).code() ==
        StatusCode::kInvalidScale);
  CHECK(!op.valid());
  for (Eigen::Index i = 0; i < y.size(); ++i) CHECK(y(i) == 9.0f);
}

}  // namespace

int main() {
  quantizer_create_refuses_bad_parameters();
  raw_quantize_writes_nothing_on_error();
  eigen_front_end_returns_status();
  eigen_status_forms_on_expressions();
  if (failures != 0) {
    std::fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  std::printf("all checks passed (built without exceptions)\n");
  return 0;
}
