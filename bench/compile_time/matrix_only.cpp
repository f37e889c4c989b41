// Compile-time probe: Matrix-only code through eigen_matrix.hpp (no Tensor
// module). matrix_all.cpp is the same code through eigen.hpp.
#include <eigenq/eigen_matrix.hpp>

Eigen::MatrixXf run(const Eigen::MatrixXf& w) {
  const eigenq::QParams p = eigenq::choose_qparams<std::int8_t>(w, eigenq::per_axis_layout(0));
  const Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic> q = eigenq::quantize<std::int8_t>(w, p);
  return eigenq::dequantize(q, p) + eigenq::fake_quantize(w, p);
}
