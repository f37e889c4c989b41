// A program outside the project that uses eigenq as a package: the worked
// per-channel example of the README, checked value by value.
#include <cstdint>
#include <cstdio>

#include <eigenq/eigenq.hpp>

int main() {
  Eigen::Tensor<float, 2, Eigen::RowMajor> x(2, 3);
  x.setValues({{1, 2, 3}, {4, 5, 6}});
  const eigenq::QParams p = eigenq::choose_qparams<std::int8_t>(x, eigenq::per_axis_layout(0));
  const Eigen::Tensor<std::int8_t, 2, Eigen::RowMajor> q = eigenq::quantize<std::int8_t>(x, p);

  const int expected[2][3] = {{-43, 42, 127}, {42, 84, 127}};
  int wrong = 0;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      if (q(i, j) != expected[i][j]) {
        std::fprintf(stderr, "q(%d, %d) = %d, expected %d\n", i, j, q(i, j), expected[i][j]);
        ++wrong;
      }
  if (p.zero_point[0] != -128 || p.zero_point[1] != -128) {
    std::fprintf(stderr, "zero points %d, %d, expected -128, -128\n", p.zero_point[0], p.zero_point[1]);
    ++wrong;
  }
  if (wrong != 0) return 1;
  std::printf("eigenq %d.%d.%d consumer: ok (%s path)\n", EIGENQ_VERSION_MAJOR, EIGENQ_VERSION_MINOR,
              EIGENQ_VERSION_PATCH, eigenq::path_name(eigenq::active_path()));
  return 0;
}
