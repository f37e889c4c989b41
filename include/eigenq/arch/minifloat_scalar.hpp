#pragma once
/// \file
/// Minifloat elements (minifloat_quantize.hpp) on the portable path: the
/// codec of minifloat.hpp applied element by element. The SIMD paths
/// (arch/generic/minifloat_runs.inl) give these bits for every input.

#include <algorithm>
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
  /// The largest magnitude of n elements as float bits, the sign cleared
  /// (+inf above every finite value, a NaN above +inf), and `m`'s.
  static std::uint32_t magnitude_max(const float* x, std::size_t n, std::uint32_t m) {
    for (std::size_t i = 0; i < n; ++i) m = std::max(m, float_bits(x[i]) & 0x7fffffffu);
    return m;
  }

  /// m[i] = the larger of m[i] and |x[i]|, as magnitude_max.
  static void magnitude_max(const float* x, std::size_t n, float* m) {
    for (std::size_t i = 0; i < n; ++i) m[i] = bits_float(magnitude_max(x + i, 1, float_bits(m[i])));
  }

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
