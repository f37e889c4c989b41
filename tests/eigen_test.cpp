// The Eigen front end: Tensor, TensorMap, TensorFixedSize and Matrix/Map in
// both layouts give the same values as the raw-pointer API, and errors
// leave the output untouched. Expressions, blocks, strided maps and refs are
// evaluated once in the order needed; the layout always comes from the
// object.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <new>
#include <vector>

#include "eigenq/eigenq.hpp"

namespace eigenq {
namespace {

TEST(Eigen, BlogExamplePerTensorAndPerChannel) {
  Eigen::Tensor<float, 2, Eigen::RowMajor> x(2, 3);
  x.setValues({{1, 2, 3}, {4, 5, 6}});
  const QParams pt = choose_qparams<std::int8_t>(x, per_tensor_layout());
  EXPECT_EQ(pt.scale[0], 6.0f / 255.0f);
  EXPECT_EQ(pt.zero_point[0], -128);
  const auto q = quantize<std::int8_t>(x, pt);
  const int expected[2][3] = {{-86, -43, 0}, {42, 84, 127}};
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(q(i, j), expected[i][j]);

  const QParams pc = choose_qparams<std::int8_t>(x, per_axis_layout(0));
  EXPECT_EQ(pc.scale[0], 3.0f / 255.0f);
  EXPECT_EQ(pc.scale[1], 6.0f / 255.0f);
  EXPECT_EQ(pc.zero_point, (std::vector<std::int32_t>{-128, -128}));
  const auto qc = quantize<std::int8_t>(x, pc);
  const int expected_pc[2][3] = {{-43, 42, 127}, {42, 84, 127}};
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(qc(i, j), expected_pc[i][j]);
}

TEST(Eigen, LayoutsAgreeOnTheMeaningOfAnAxis) {
  Eigen::Tensor<float, 3, Eigen::ColMajor> col(4, 5, 6);
  col.setRandom();
  Eigen::Tensor<float, 3, Eigen::RowMajor> row = col.swap_layout().shuffle(Eigen::array<int, 3>{2, 1, 0});
  const QParams p = QParams::per_axis(1, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f}, {1, 2, 3, 4, 5}, Range::full<std::int8_t>());
  const auto qc = quantize<std::int8_t>(col, p);
  const auto qr = quantize<std::int8_t>(row, p);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 5; ++j)
      for (int k = 0; k < 6; ++k) ASSERT_EQ(qc(i, j, k), qr(i, j, k));
}

TEST(Eigen, MapsFixedSizeAndMatrices) {
  float data[6] = {0.1f, -0.2f, 0.3f, 0.4f, -0.5f, 0.6f};
  Eigen::TensorMap<const Eigen::Tensor<float, 2>> x(data, 2, 3);
  std::int8_t out[6];
  Eigen::TensorMap<Eigen::Tensor<std::int8_t, 2>> q(out, 2, 3);
  const QParams p = QParams::per_tensor(0.01f, 0, Range::full<std::int8_t>());
  ASSERT_TRUE(quantize_into<std::int8_t>(x, p.view(), q).is_ok());
  for (int i = 0; i < 6; ++i) EXPECT_EQ(out[i], quantize<std::int8_t>(data[i], 0.01f, 0, p.range));

  Eigen::TensorFixedSize<float, Eigen::Sizes<2, 3>> fixed;
  fixed.setValues({{0.1f, 0.2f, 0.3f}, {0.4f, 0.5f, 0.6f}});
  const auto fq = fake_quantize(fixed, p);
  EXPECT_FLOAT_EQ(fq(1, 2), 0.6f);

  Eigen::MatrixXf m(3, 2);
  m << 1, 2, 3, 4, 5, 6;
  const QParams pm = QParams::per_axis(1, {0.1f, 0.2f}, {}, Range::full<std::int8_t>());
  const Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic> qm = quantize<std::int8_t>(m, pm);
  EXPECT_EQ(qm(2, 0), 50);
  EXPECT_EQ(qm(2, 1), 30);
  const Eigen::MatrixXf back = dequantize(qm, pm);
  EXPECT_FLOAT_EQ(back(2, 1), 6.0f);
}

TEST(Eigen, ErrorsNameTheValueAndWriteNothing) {
  Eigen::Tensor<float, 2> x(2, 3);
  x.setConstant(1.0f);
  Eigen::Tensor<std::int8_t, 2> q(2, 3);
  q.setConstant(7);
  const QParams bad = QParams::per_axis(1, {0.1f, -0.5f, 0.1f}, {}, Range::full<std::int8_t>());
  const Status s = quantize_into<std::int8_t>(x, bad.view(), q);
  EXPECT_EQ(s.code(), StatusCode::kInvalidScale);
  EXPECT_NE(s.message().find("scale[1] = -0.5"), std::string::npos) << s.message();
  for (int i = 0; i < 6; ++i) EXPECT_EQ(q.data()[i], 7);
  EXPECT_THROW(quantize<std::int8_t>(x, bad), Error);
  Eigen::Tensor<std::int8_t, 2> wrong(3, 2);
  EXPECT_EQ(quantize_into<std::int8_t>(x, QParams::per_tensor(1, 0, Range::full<std::int8_t>()).view(), wrong).code(),
            StatusCode::kShapeMismatch);
}

std::uint32_t bits(float v) {
  std::uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

const QParams kPerTensor = QParams::per_tensor(0.02f, 3, Range::full<std::int8_t>());

// A reference: each element through the one-element function.
template <class M>
Eigen::MatrixXf reference(const M& x, const QParams& p) {
  Eigen::MatrixXf y(x.rows(), x.cols());
  for (Eigen::Index i = 0; i < x.rows(); ++i)
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      const auto c = static_cast<std::size_t>(p.granularity == Granularity::kPerAxis ? (p.axis == 0 ? i : j) : 0);
      y(i, j) = fake_quantize(static_cast<float>(x(i, j)), p.scale[c], p.zero_point[c], p.range);
    }
  return y;
}

template <class A, class B>
void expect_same_bits(const A& a, const B& b, const char* what) {
  ASSERT_EQ(a.rows(), b.rows()) << what;
  ASSERT_EQ(a.cols(), b.cols()) << what;
  for (Eigen::Index i = 0; i < a.rows(); ++i)
    for (Eigen::Index j = 0; j < a.cols(); ++j)
      ASSERT_EQ(bits(a(i, j)), bits(b(i, j))) << what << " (" << i << ", " << j << ")";
}

TEST(EigenExpressions, MatrixExpressionsAreEvaluatedOnce) {
  const Eigen::MatrixXf x = Eigen::MatrixXf::Random(6, 5), w = Eigen::MatrixXf::Random(5, 4),
                        h = Eigen::MatrixXf::Random(6, 4);
  const Eigen::MatrixXf xwh = x * w + h;
  const QParams pc = QParams::per_axis(1, {0.01f, 0.02f, 0.03f, 0.04f}, {0, 1, -1, 2}, Range::full<std::int8_t>());
  expect_same_bits(fake_quantize(x * w + h, kPerTensor), reference(xwh, kPerTensor), "x * w + h");
  expect_same_bits(fake_quantize(x * w + h, pc), reference(xwh, pc), "x * w + h per column");
  const Eigen::Matrix<std::int8_t, -1, -1> q = quantize<std::int8_t>(x * w + h, pc);
  EXPECT_EQ(q(2, 3), quantize<std::int8_t>(xwh(2, 3), 0.04f, 2, pc.range));
  // Arrays stay arrays; transposes and refs are read in place.
  const Eigen::ArrayXXf a = (x.array() * 2.0f).abs();
  const Eigen::ArrayXXf fa = fake_quantize((x.array() * 2.0f).abs(), kPerTensor);
  expect_same_bits(fa.matrix(), reference(a.matrix(), kPerTensor), "array expression");
  expect_same_bits(fake_quantize(x.transpose(), kPerTensor), reference(Eigen::MatrixXf(x.transpose()), kPerTensor),
                   "transpose");
  const Eigen::Ref<const Eigen::MatrixXf> r = x.block(1, 1, 3, 2);
  expect_same_bits(fake_quantize(r, kPerTensor), reference(Eigen::MatrixXf(r), kPerTensor), "Ref of a block");
  QParams chosen;
  ASSERT_TRUE(choose_qparams<std::int8_t>(x * w + h, per_axis_layout(0), Range::full<std::int8_t>(), Symmetry::kAffine,
                                          &chosen));
  EXPECT_EQ(chosen.scale, choose_qparams<std::int8_t>(xwh, per_axis_layout(0)).scale);
}

// A row of a column-major matrix is a strided 1 x n block: read and written
// through one temporary each, into any 1 x n destination.
TEST(EigenExpressions, RowsOfColumnMajorMatrices) {
  const Eigen::MatrixXf x = Eigen::MatrixXf::Random(5, 7);
  Eigen::MatrixXf y = Eigen::MatrixXf::Constant(5, 7, 42.0f);
  ASSERT_TRUE(fake_quantize_into(x.row(3), kPerTensor.view(), y.row(3)));
  for (Eigen::Index j = 0; j < 7; ++j) {
    EXPECT_EQ(bits(y(3, j)), bits(fake_quantize(x(3, j), 0.02f, 3, kPerTensor.range)));
    EXPECT_EQ(y(2, j), 42.0f);  // other rows untouched
  }
  Eigen::MatrixXf one_row(1, 7);  // column-major 1 x 7: the same memory order as a row
  ASSERT_TRUE(fake_quantize_into(x.row(3), kPerTensor.view(), one_row));
  expect_same_bits(one_row, y.row(3), "into a 1 x n column-major matrix");
  Eigen::VectorXf column(7);
  const Status s = fake_quantize_into(x.row(3), kPerTensor.view(), column);
  EXPECT_EQ(s.code(), StatusCode::kShapeMismatch);
  EXPECT_NE(s.message().find("the input has shape [1, 7] RowMajor, expected [7, 1] ColMajor"), std::string::npos)
      << s.message();
  const Eigen::RowVectorXf row = fake_quantize(x.row(3), kPerTensor);  // a row vector comes back
  expect_same_bits(row, y.row(3), "returned row");
}

TEST(EigenExpressions, StridedMapsAndStorageOrders) {
  std::vector<float> buffer(40);
  for (std::size_t i = 0; i < buffer.size(); ++i) buffer[i] = static_cast<float>(i) * 0.013f - 0.2f;
  // Every other element of a 3 x 4 matrix with an outer stride of 10.
  const Eigen::Map<const Eigen::MatrixXf, 0, Eigen::Stride<10, 2>> strided(buffer.data(), 3, 4);
  const Eigen::MatrixXf plain = strided;
  const QParams pr = QParams::per_axis(0, {0.01f, 0.02f, 0.03f}, {}, Range::full<std::int8_t>());
  expect_same_bits(fake_quantize(strided, pr), reference(plain, pr), "strided map");
  // Into a strided map: only its elements change.
  std::vector<float> out(40, 7.0f);
  Eigen::Map<Eigen::MatrixXf, 0, Eigen::Stride<10, 2>> strided_out(out.data(), 3, 4);
  ASSERT_TRUE(fake_quantize_into(plain, pr.view(), strided_out));
  expect_same_bits(Eigen::MatrixXf(strided_out), reference(plain, pr), "into a strided map");
  EXPECT_EQ(out[1], 7.0f);
  // A row-major input into a column-major output: evaluated in the output's order.
  const Eigen::Matrix<float, -1, -1, Eigen::RowMajor> row_major = plain;
  Eigen::MatrixXf y(3, 4);
  ASSERT_TRUE(fake_quantize_into(row_major, pr.view(), y));
  expect_same_bits(y, reference(plain, pr), "row-major into column-major");
  // Errors leave a strided output untouched.
  const QParams bad = QParams::per_axis(0, {0.01f, -1.0f, 0.03f}, {}, Range::full<std::int8_t>());
  std::fill(out.begin(), out.end(), 7.0f);
  EXPECT_EQ(fake_quantize_into(plain, bad.view(), strided_out).code(), StatusCode::kInvalidScale);
  for (float v : out) ASSERT_EQ(v, 7.0f);
}

// The trap a raw pointer had: a MatrixXf is column-major, and its shape says so.
TEST(EigenExpressions, MatricesCarryTheirLayout) {
  Eigen::MatrixXf m(4, 64);
  for (Eigen::Index i = 0; i < 4; ++i)
    for (Eigen::Index j = 0; j < 64; ++j)
      m(i, j) = static_cast<float>(std::pow(10.0, static_cast<double>(i) - 2)) * static_cast<float>(j - 20);
  const Shape s = shape_of(m);
  EXPECT_EQ(s.layout, Layout::kColMajor);
  const QParams from_eigen = choose_qparams<std::int8_t>(m, per_axis_layout(0));
  QParams from_raw;
  ASSERT_TRUE(choose_qparams<std::int8_t>(m.data(), Shape::col_major({4, 64}), per_axis_layout(0),
                                          Range::full<std::int8_t>(), Symmetry::kAffine, &from_raw));
  EXPECT_EQ(from_eigen.scale, from_raw.scale);
  for (int r = 0; r < 4; ++r)  // row r spans 10^(r-2) * [-20, 43]
    EXPECT_FLOAT_EQ(from_eigen.scale[static_cast<std::size_t>(r)],
                    static_cast<float>(std::pow(10.0, r - 2) * 63.0 / 255.0));
}

TEST(EigenExpressions, TensorExpressions) {
  Eigen::Tensor<float, 3> a(3, 4, 5), b(3, 4, 5);
  a.setRandom();
  b.setRandom();
  const Eigen::Tensor<float, 3> sum = a + b;
  const QParams p = QParams::per_axis(2, {0.01f, 0.02f, 0.03f, 0.04f, 0.05f}, {}, Range::full<std::int8_t>());
  const Eigen::Tensor<float, 3> want = fake_quantize(sum, p);
  const Eigen::Tensor<float, 3> got = fake_quantize(a + b, p);
  for (Eigen::Index i = 0; i < want.size(); ++i) ASSERT_EQ(bits(got.data()[i]), bits(want.data()[i]));
  // A chip (rank 2) and a slice, the layout of their tensor.
  const Eigen::Tensor<float, 2> chip = a.chip(1, 1);
  const QParams p2 = QParams::per_axis(1, {0.01f, 0.02f, 0.03f, 0.04f, 0.05f}, {}, Range::full<std::int8_t>());
  const Eigen::Tensor<float, 2> fc = fake_quantize(a.chip(1, 1), p2), fc_want = fake_quantize(chip, p2);
  for (Eigen::Index i = 0; i < chip.size(); ++i) ASSERT_EQ(bits(fc.data()[i]), bits(fc_want.data()[i]));
  EXPECT_EQ(shape_of(a.chip(1, 1)).rank, 2);
  EXPECT_EQ(shape_of(a.chip(1, 1))[1], 5);
  const Eigen::TensorRef<const Eigen::Tensor<float, 3>> ref(a);
  const Eigen::Tensor<std::int8_t, 3> qr = quantize<std::int8_t>(ref, p), qa = quantize<std::int8_t>(a, p);
  for (Eigen::Index i = 0; i < a.size(); ++i) ASSERT_EQ(qr.data()[i], qa.data()[i]);
  // Tensors keep their layout: a row-major input cannot fill a column-major output.
  const Eigen::Tensor<float, 3, Eigen::RowMajor> row = a.swap_layout().shuffle(Eigen::array<int, 3>{2, 1, 0});
  Eigen::Tensor<float, 3> y(3, 4, 5);
  const Status s = fake_quantize_into(row, p.view(), y);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("Eigen tensors keep their layout"), std::string::npos) << s.message();
}

// Every entry point takes expressions, with a Status form.
TEST(EigenExpressions, QatObserversAndTensorFlowTakeExpressions) {
  const Eigen::MatrixXf x = Eigen::MatrixXf::Random(6, 4), w = Eigen::MatrixXf::Random(4, 4);
  const Eigen::MatrixXf xw = x * w;
  MinMaxObserver<std::int8_t> obs(per_axis_layout(1));
  obs.observe(x * w);
  EXPECT_TRUE(obs.observe(x * w, std::nothrow));
  MinMaxObserver<std::int8_t> direct(per_axis_layout(1));
  direct.observe(xw);
  EXPECT_EQ(obs.min(), direct.min());
  MinMaxObserver<std::int8_t> wrong(per_axis_layout(2));
  EXPECT_EQ(wrong.observe(x * w, std::nothrow).code(), StatusCode::kInvalidAxis);
  EXPECT_THROW(wrong.observe(x * w), Error);

  FakeQuantSTE<> layer(QParams::per_axis(1, {0.05f, 0.05f, 0.1f, 0.1f}, {}, Range::full<std::int8_t>()));
  const Eigen::MatrixXf y = layer.forward(x * w);
  const Eigen::MatrixXf dx = layer.backward(Eigen::MatrixXf::Ones(6, 4) * 2.0f);
  Eigen::MatrixXf y2(6, 4), dx2(6, 4);
  ASSERT_TRUE(layer.forward_into(xw, y2));
  ASSERT_TRUE(layer.backward_into(Eigen::MatrixXf::Constant(6, 4, 2.0f), dx2));
  expect_same_bits(y, y2, "forward");
  expect_same_bits(dx, dx2, "backward");
  EXPECT_EQ(layer.backward_into(Eigen::MatrixXf::Ones(4, 6), dx2).code(), StatusCode::kShapeMismatch);

  const LearnableParams lp = LearnableParams::per_tensor(0.05f, 1.0f, Range::full<std::int8_t>());
  const Eigen::MatrixXf ly = learnable_fake_quantize(x * w, lp);
  Eigen::MatrixXf ly2(6, 4);
  ASSERT_TRUE(learnable_fake_quantize_into(xw, lp, ly2));
  expect_same_bits(ly, ly2, "learnable");
  Eigen::MatrixXf ldx(6, 4);
  std::vector<float> ds, dz;
  ASSERT_TRUE(learnable_fake_quantize_backward_into(x * w, Eigen::MatrixXf::Ones(6, 4), lp, ldx, &ds, &dz));
  EXPECT_EQ(ds.size(), 1u);

  const Eigen::MatrixXf tf_y = tf::fake_quant_with_min_max_args(x * w, -1.0f, 1.0f);
  Eigen::MatrixXf tf_y2(6, 4);
  float lo = -1.0f, hi = 1.0f;
  ASSERT_TRUE(tf::fake_quant_with_min_max_into(xw, tf::per_tensor_min_max(&lo, &hi), tf::Op::kArgs, tf_y2));
  expect_same_bits(tf_y, tf_y2, "tf fake quant");
}

}  // namespace
}  // namespace eigenq
