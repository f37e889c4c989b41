// Compile-time probe: an engine's raw-pointer calls, no Eigen at all.
#include <eigenq/requantize.hpp>
#include <eigenq/scheme.hpp>

void run(const float* x, std::int8_t* q, const std::int32_t* acc, std::int8_t* y) {
  const eigenq::Shape s = eigenq::Shape::row_major({64, 64});
  const eigenq::Quantizer<std::int8_t> qz(
      s, eigenq::QParams::per_tensor(0.1f, 0, eigenq::QuantRange::full<std::int8_t>()));
  qz.quantize(x, q);
  eigenq::Requantizer<std::int8_t> rq;
  if (eigenq::Requantizer<std::int8_t>::from_conv_scales(s, 1, 0.5f, qz.params(), 0.1f, 0,
                                                         eigenq::QuantRange::full<std::int8_t>(), &rq))
    rq.requantize(acc, y);
}
