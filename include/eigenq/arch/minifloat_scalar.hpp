#pragma once
/// \file
/// Minifloat elements (minifloat_quantize.hpp) on the portable path: the
/// codec of minifloat.hpp applied element by element. The SIMD paths
/// (arch/generic/minifloat_runs.inl) give these bits for every input.

#include <cstddef>
#include <cstdint>

#include "../minifloat.hpp"
#include "../runs.hpp"

namespace eigenq {
namespace detail {
namespace scalar {

/// A run's scales: one for the whole run (a float), one per element (an
/// array aligned with the run) or one per block (SteppedScales).
inline float scale_at(float scale, std::size_t) { return scale; }
inline float scale_at(const float* scale, std::size_t i) { return scale[i]; }
inline float scale_at(SteppedScales scale, std::size_t i) { return scale.at(i); }

struct MinifloatRunOps {
  /// q[i] = encode<Fmt>(x[i] / scale, saturate): a true division, as ONNX's
  /// QuantizeLinear.
  template <class Fmt, bool kSaturate, class Scales>
  static void quantize_minifloat(const float* x, std::uint8_t* q, std::size_t n, Scales scale) {
    for (std::size_t i = 0; i < n; ++i) q[i] = eigenq::minifloat_encode<Fmt>(x[i] / scale_at(scale, i), kSaturate);
  }

  /// y[i] = decode<Fmt>(q[i]) * scale.
  template <class Fmt, class Scales>
  static void dequantize_minifloat(const std::uint8_t* q, float* y, std::size_t n, Scales scale) {
    for (std::size_t i = 0; i < n; ++i) y[i] = eigenq::minifloat_decode<Fmt>(q[i]) * scale_at(scale, i);
  }
};

}  // namespace scalar
}  // namespace detail
}  // namespace eigenq
