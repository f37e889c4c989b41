// Compile-time probe: the code of matrix_only.cpp through eigen.hpp, which
// also includes the Tensor module.
#include <eigenq/eigen.hpp>

Eigen::MatrixXf run(const Eigen::MatrixXf& w) {
  const eigenq::QParams p = eigenq::choose_qparams<std::int8_t>(w, eigenq::per_axis_layout(0));
  const Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic> q = eigenq::quantize<std::int8_t>(w, p);
  return eigenq::dequantize(q, p) + eigenq::fake_quantize(w, p);
}
