#pragma once
/// \file
/// Learnable scale and zero point (LSQ, qat/lsq.hpp): the reference numerics
/// and the portable path. Two things are defined here, once, for every path:
///
/// - the gradient terms of one element (`lsq_gradients`): dx, and the
///   element's terms of dscale and dzero_point, in lsq.hpp's float32 order;
/// - the order in which the terms of a run sharing one parameter are summed
///   (`LsqPartialSums`): in double, term i into partial sum
///   i % kLsqPartialSums, then the partial sums added by halving. Every SIMD
///   path holds those partial sums as kLsqPartialSums / kLanes vectors of
///   doubles, so the sums are the same bits on every path.
///
/// Terms of parameters aligned with the elements (a per-axis last axis, a
/// blocked inner axis) are added to their parameter's sum one run after the
/// other, in memory order; run sums likewise. Above that, a tensor of more
/// than one slice (slices.hpp: about 64Ki elements, cut by the shape and the
/// scheme alone) is summed slice by slice from zero and the slices' sums
/// added in slice order (qat/lsq.hpp), serially as on an executor.

#include <array>  // and <utility>: for the SIMD paths' generic/lsq_runs.inl
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "../config.hpp"
#include "../numerics.hpp"
#include "../params.hpp"
#include "../runs.hpp"

namespace eigenq {

/// dx of one element and its terms of dscale and dzero_point.
struct LsqGradients {
  float dx, dscale, dzero_point;
};

/// LSQ's gradients at x for upstream gradient dy, with the parameter's scale,
/// its factor under N (N::Scaling::factor(scale)), its rounded zero point and
/// the gradient factor g. With r = round(x / scale) under N:
///
///     inside  qmin <= r + z <= qmax:  dx = dy * 1,  dscale = ((dy * (y - x)) / scale) * g,  dzero_point = 0
///     outside (NaN below):            dx = dy * 0,  dscale = (dy * (bound - z)) * g,
///                                                   dzero_point = ((dy * -1) * scale) * g
///
/// where y = fake_quantize(x) and bound is qmin or qmax; "/ scale" is N's
/// scaling (a product by the factor for the reciprocal policy).
template <class N>
inline LsqGradients lsq_gradients(float x, float dy, float scale, float factor, std::int32_t zero_point, Range range,
                                  float g) {
  const float r = N::Rounding::round(N::Scaling::apply(x, factor));
  const bool inside = in_range(r, zero_point, range);
  const float dx = dy * static_cast<float>(inside);  // a product: NaN and -0.0 propagate as in the STE
  if (inside) {
    // y is rounded before y - x, whatever the contraction flags: fused,
    // y - x would be the exact (q - z) * scale - x, as PyTorch's build has it.
    const float y = detail::opaque(dequantize(saturate(r, zero_point, range), scale, zero_point));
    return {dx, N::Scaling::apply(dy * (y - x), factor) * g, 0.0f};
  }
  const bool above = static_cast<double>(r) + zero_point > range.qmax;
  const float bound = static_cast<float>(std::int64_t{above ? range.qmax : range.qmin} - zero_point);
  return {dx, (dy * bound) * g, ((dy * -1.0f) * scale) * g};
}

/// Partial sums per run; a multiple of every path's float lane count.
constexpr std::size_t kLsqPartialSums = 16;

/// The sums of a run's dscale and dzero_point terms.
struct LsqSums {
  double dscale = 0.0, dzero_point = 0.0;
};

/// The summation order of a run's terms (see the file comment): term i goes
/// to partial sum i % kLsqPartialSums, starting from +0.0; the total is
/// p[j] += p[j + h] for h = 8, 4, 2, 1 (j < h), then p[0].
class LsqPartialSums {
 public:
  void add(std::size_t i, const LsqGradients& t) {
    dscale_[i % kLsqPartialSums] += t.dscale;
    dzero_point_[i % kLsqPartialSums] += t.dzero_point;
  }
  LsqSums total() { return {halved(dscale_), halved(dzero_point_)}; }

 private:
  static double halved(double* p) {
    for (std::size_t h = kLsqPartialSums / 2; h > 0; h /= 2)
      for (std::size_t j = 0; j < h; ++j) p[j] += p[j + h];
    return p[0];
  }
  double dscale_[kLsqPartialSums] = {}, dzero_point_[kLsqPartialSums] = {};
};

namespace detail {
namespace scalar {

/// LSQ's run kernels on the portable path: lsq_gradients element by element.
/// dx may alias dy.
struct LsqRunOps {
  /// dx of a run sharing one parameter, and the sums of its terms.
  template <class N>
  static LsqSums lsq_backward_sum(const float* x, const float* dy, float* dx, std::size_t n, Broadcast p, Range range,
                                  float g) {
    const float factor = N::Scaling::factor(p.scale);
    LsqPartialSums sums;
    for (std::size_t i = 0; i < n; ++i) {
      const LsqGradients t = lsq_gradients<N>(x[i], dy[i], p.scale, factor, p.zero_point, range, g);
      dx[i] = t.dx;
      sums.add(i, t);
    }
    return sums.total();
  }

  /// dx of a run aligned with its parameters, each element's terms added to
  /// its parameter's sums: dscale[i] += term i, dzero_point[i] += term i.
  template <class N>
  static void lsq_backward_accumulate(const float* x, const float* dy, float* dx, double* dscale, double* dzero_point,
                                      std::size_t n, Aligned p, Range range, float g) {
    for (std::size_t i = 0; i < n; ++i) {
      const LsqGradients t = element<N>(x[i], dy[i], p, i, range, g);
      dx[i] = t.dx;
      dscale[i] += t.dscale;
      dzero_point[i] += t.dzero_point;
    }
  }

  /// dx and each element's own terms (one parameter per element).
  template <class N>
  static void lsq_backward_terms(const float* x, const float* dy, float* dx, float* dscale, float* dzero_point,
                                 std::size_t n, Aligned p, Range range, float g) {
    for (std::size_t i = 0; i < n; ++i) {
      const LsqGradients t = element<N>(x[i], dy[i], p, i, range, g);
      dx[i] = t.dx;
      dscale[i] = t.dscale;
      dzero_point[i] = t.dzero_point;
    }
  }

 private:
  template <class N>
  static LsqGradients element(float x, float dy, Aligned p, std::size_t i, Range range, float g) {
    return lsq_gradients<N>(x, dy, p.scale[i], N::Scaling::factor(p.scale[i]), p.zero_point[i], range, g);
  }
};

#include "generic/lsq_tensors.inl"

}  // namespace scalar
}  // namespace detail
}  // namespace eigenq
