#pragma once
/// \file
/// Learnable scale and zero point (LSQ, Esser et al. 2020; LSQ+ with a
/// learnable zero point, Bhalgat et al. 2020) for every scheme: per tensor,
/// per axis, blocked and per element.
///
/// The parameters are float: scale > 0 and a real-valued zero point, which
/// both passes round to z = clamp(round_half_even(zero_point), qmin, qmax).
/// With q = round(x / scale) + z (numerics.hpp, unclamped):
///
///     forward:  y  = fake_quantize(x; scale, z)
///     inside  qmin <= q <= qmax:
///               dx = dy,  dscale = dy * (y - x) / scale * g,  dzero_point = 0
///     outside:  dx = 0,   dscale = dy * (qmin - z or qmax - z) * g,
///                         dzero_point = -dy * scale * g
///
/// with dscale and dzero_point summed over the elements of each parameter
/// in double, then rounded to float. The order of the sums is fixed
/// (arch/lsq_scalar.hpp): the terms of a run of elements sharing a parameter
/// go to 16 partial sums by element index, added pairwise at the end of the
/// run; runs, and terms of parameters aligned with the elements, are added
/// in memory order. So every kernel path (scalar, AVX2, AVX-512, NEON)
/// gives the same bits. NaN counts as below the range (it quantizes to
/// qmin), +inf as above. g is the gradient factor: LSQ's 1 / sqrt(N * qmax)
/// by default (`lsq_grad_factor`), any value accepted.
///
/// This matches PyTorch 1.13's `_fake_quantize_learnable_per_tensor_affine`
/// and `_fake_quantize_learnable_per_channel_affine` and their backward: the
/// same operations in the same float32 order, ((dy * (y - x)) * (1/scale)) * g,
/// so y and dx are bit-identical and each reduced gradient agrees to float
/// summation error (tests/qat_conformance_test.cpp), except where PyTorch is
/// not consistent with itself:
///
/// - Zero point rounding, per tensor: PyTorch's forward rounds the zero
///   point half to even (nearbyint), its backward computes
///   trunc(clamp(zero_point + 0.5)): 2.5 is 2 in the forward pass and 3 in
///   the backward pass, -3.4 is -3 and -2, and every negative integer z is z
///   and z + 1. Its gradient is then that of another function than the one
///   it evaluated. eigenq rounds half to even in both passes (as PyTorch's
///   per-channel ops do in both).
/// - PyTorch's backward rounds zero_point + x * (1/scale) written as one
///   expression, which its x86 build contracts into a fused multiply-add:
///   the exact product plus the zero point, rounded once. Its forward (and
///   eigenq) rounds the float32 product and then adds the zero point. Near a
///   tie the two differ: x * (1/scale) = -18.5 in float32 but -18.50000014
///   exactly, with zero point 18, is inside the range in the forward pass
///   (0) and outside in PyTorch's backward (-1). The same contraction gives
///   PyTorch an unrounded y - x in dscale (eigenq rounds y first: no FMA
///   contraction anywhere, numerics.hpp), a last-bit difference per element.
/// - +inf and x / scale >= 2^63: PyTorch 1.13 on x86 converts round(x /
///   scale) to int64, which gives INT64_MIN, so they fake-quantize to qmin
///   and count as below the range; eigenq follows the contract (saturate to
///   qmax, above the range).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "../eigen_matrix.hpp"
#include "../qparams.hpp"
#include "../scheme.hpp"

namespace eigenq {

/// LSQ's gradient factor 1 / sqrt(count * qmax), computed as PyTorch's
/// `_LearnableFakeQuantize(use_grad_scaling=True)` does: in double, with
/// count = the number of elements of the tensor (for every granularity),
/// then rounded to float. Returns 1 when count or qmax is not positive.
inline float lsq_grad_factor(std::int64_t count, Range range) {
  if (count <= 0 || range.qmax <= 0) return 1.0f;
  return static_cast<float>(1.0 / std::sqrt(static_cast<double>(count) * range.qmax));
}

/// LSQ's initial step size 2 * mean(|x|) / sqrt(qmax) (Esser et al.), for
/// one group of n values; falls back to 1 when it is not a valid scale.
inline float lsq_initial_scale(const float* x, std::int64_t n, Range range) {
  double sum = 0.0;
  std::int64_t counted = 0;
  for (std::int64_t i = 0; i < n; ++i)
    if (std::isfinite(x[i])) {
      sum += std::fabs(x[i]);
      ++counted;
    }
  const double qmax = range.qmax > 0 ? range.qmax : range.qmax - static_cast<double>(range.qmin);
  const float s =
      counted > 0 && qmax > 0 ? static_cast<float>(2.0 * sum / static_cast<double>(counted) / std::sqrt(qmax)) : 1.0f;
  return std::isfinite(s) && s > 0.0f && std::isfinite(1.0f / s) ? s : 1.0f;
}

/// The zero point both passes use: clamp(round_half_even(zero_point), qmin, qmax).
inline std::int32_t round_zero_point(float zero_point, Range range) {
  const double z = RoundHalfEven::round(zero_point);
  return static_cast<std::int32_t>(z < range.qmin ? range.qmin : z > range.qmax ? range.qmax : z);
}

/// A non-owning view of learnable parameters (float scale and zero point);
/// granularity, axis, block size and layout as `QParamsView`.
struct LearnableParamsView {
  Granularity granularity = Granularity::kPerTensor;
  int axis = 0;
  std::int64_t block_size = 0;
  const float* scale = nullptr;
  const float* zero_point = nullptr;
  std::size_t count = 0;
  Range range;
};

/// Owning learnable parameters: what an optimizer updates.
struct LearnableParams {
  Granularity granularity = Granularity::kPerTensor;
  int axis = 0;
  std::int64_t block_size = 0;
  std::vector<float> scale;
  std::vector<float> zero_point;
  Range range;

  static LearnableParams per_tensor(float scale, float zero_point, Range range) {
    return {Granularity::kPerTensor, 0, 0, {scale}, {zero_point}, range};
  }
  /// An empty `zero_point` means all zeros (symmetric, LSQ without the "+").
  static LearnableParams per_axis(int axis, std::vector<float> scale, std::vector<float> zero_point, Range range) {
    return with_zeros({Granularity::kPerAxis, axis, 0, std::move(scale), std::move(zero_point), range});
  }
  static LearnableParams blocked(int axis, std::int64_t block_size, std::vector<float> scale,
                                 std::vector<float> zero_point, Range range) {
    return with_zeros({Granularity::kBlocked, axis, block_size, std::move(scale), std::move(zero_point), range});
  }
  static LearnableParams per_element(std::vector<float> scale, std::vector<float> zero_point, Range range) {
    return with_zeros({Granularity::kPerElement, 0, 0, std::move(scale), std::move(zero_point), range});
  }
  /// Starts from integer parameters, e.g. chosen by an observer.
  static LearnableParams from(const QParams& p) {
    return {p.granularity, p.axis, p.block_size, p.scale, {p.zero_point.begin(), p.zero_point.end()}, p.range};
  }

  LearnableParamsView view() const {
    return {granularity,
            axis,
            block_size,
            scale.data(),
            zero_point.data(),
            scale.size() == zero_point.size() ? scale.size() : ~std::size_t{0},
            range};
  }

 private:
  static LearnableParams with_zeros(LearnableParams p) {
    if (p.zero_point.empty()) p.zero_point.assign(p.scale.size(), 0.0f);
    return p;
  }
};

/// Learnable fake-quantization on one shape: validates the parameters and
/// rounds the zero points once, then runs forward and backward passes. It
/// keeps no pointer to the caller's parameters: after an optimizer step,
/// `update` takes their new values (re-validated, O(parameters), reusing the
/// buffers).
///
///     eigenq::LearnableFakeQuant<> lq(shape, params.view());
///     for (each step) {
///       lq.forward(x, y);
///       lq.backward(x, dy, dx, dscale, dzero_point);   // params.count each
///       ... optimizer updates params ...
///       lq.update(params.view());
///     }
template <class N = DefaultNumerics, Path P = kBestPath>
class LearnableFakeQuant {
 public:
  LearnableFakeQuant() = default;
  /// Throws `eigenq::Error`.
  LearnableFakeQuant(const Shape& shape, const LearnableParamsView& params) {
    detail::raise_if_error(create(shape, params, this));
  }
  LearnableFakeQuant(LearnableFakeQuant&&) = default;
  LearnableFakeQuant& operator=(LearnableFakeQuant&&) = default;  // vectors keep their buffers
  LearnableFakeQuant(const LearnableFakeQuant& other) { *this = other; }
  LearnableFakeQuant& operator=(const LearnableFakeQuant& other) {
    q_ = other.q_;
    if (Quantizer<std::int32_t, N, P>::create(other.shape(), q_.view(), &qz_).is_ok()) return *this;
    qz_ = Quantizer<std::int32_t, N, P>();  // other was empty
    return *this;
  }

  /// Checks every scale (finite, > 0, finite reciprocal) and zero point
  /// (finite; any value, then rounded and clamped into the range as PyTorch
  /// does), the range (qmin < qmax, including 0, as PyTorch's
  /// _LearnableFakeQuantize requires), axis, block size and parameter count.
  static Status create(const Shape& shape, const LearnableParamsView& params, LearnableFakeQuant* out) {
    LearnableFakeQuant lq;
    EIGENQ_RETURN_IF_ERROR(lq.assign(shape, params));
    *out = std::move(lq);
    return Status::ok();
  }

  /// New values for the same shape (layout and count unchanged), e.g. after
  /// an optimizer step. Nothing changes when the status is not ok.
  Status update(const LearnableParamsView& params) {
    if (params.granularity != q_.granularity || params.axis != q_.axis || params.block_size != q_.block_size ||
        params.count != q_.scale.size())
      return detail::error(StatusCode::kShapeMismatch,
                           "update: the parameters' layout or count differs from the one created with");
    LearnableFakeQuant next;
    next.q_ = std::move(q_);  // reuse the buffers; moved back on failure
    const Status s = next.assign(qz_.shape(), params);
    if (!s.is_ok()) {
      q_ = std::move(next.q_);
      return s;
    }
    next.sums_ = std::move(sums_);
    *this = std::move(next);
    return Status::ok();
  }

  const Shape& shape() const { return qz_.shape(); }
  std::int64_t size() const { return qz_.size(); }
  /// Number of learnable (scale, zero point) pairs.
  std::size_t count() const { return qz_.resolved().count; }
  Range range() const { return qz_.range(); }
  /// The integer parameters the passes use (zero points rounded).
  const Quantizer<std::int32_t, N, P>& quantizer() const { return qz_; }

  /// y = fake_quantize(x) with the rounded zero points; on an executor
  /// (slices.hpp, parallel.hpp) if one is given: the same bits.
  template <class Exec = SerialExecutor>
  void forward(const float* x, float* y, Exec&& exec = {}) const {
    qz_.fake_quantize(x, y, exec);
  }
  /// The same and the STE mask.
  template <class Exec = SerialExecutor>
  void forward_mask(const float* x, float* y, std::uint8_t* mask, Exec&& exec = {}) const {
    qz_.fake_quantize_mask(x, y, mask, exec);
  }

  /// dx (size() elements), dscale and dzero_point (count() each, overwritten)
  /// for upstream gradient dy at input x. dx may alias dy.
  ///
  /// The tensor is cut into the slices of slices.hpp (about 64Ki elements,
  /// fixed by the shape and scheme), serially too: each slice's terms are
  /// summed per parameter in the order of arch/lsq_scalar.hpp, and the
  /// slices' sums added in slice order. On an executor the slices run at
  /// once, so the gradients are the same bits at every thread count. A
  /// tensor of one slice is summed as one.
  template <class Exec = SerialExecutor>
  void backward(const float* x, const float* dy, float* dx, float* dscale, float* dzero_point, float grad_factor,
                Exec&& exec = {}) {
    const ResolvedParams& r = qz_.resolved();
    const bool per_element = r.params.granularity == Granularity::kPerElement;
    const detail::SlicePlan plan = detail::plan_slices(r, detail::line_of<float>, 1);
    if (plan.count <= 1) {
      sums_.resize(per_element ? 0 : 2 * count());
      with_kernels<P>([&](auto k) {
        decltype(k)::template lsq_backward<N>(r, x, dy, dx, dscale, dzero_point, grad_factor, sums_.data());
      });
      return;
    }
    // Slice i sums into sums_[at_[i], at_[i + 1]): its own 2 * count doubles.
    at_.assign(1, 0);
    for (std::int64_t i = 0; i < plan.count; ++i)
      at_.push_back(at_.back() + (per_element ? 0 : 2 * detail::slice_at(r, plan, i).r.count));
    sums_.resize(at_.back());
    exec.parallel_for(plan.count, [&](std::int64_t i) {
      const detail::Slice sl = detail::slice_at(r, plan, i);
      with_kernels<P>([&](auto k) {
        decltype(k)::template lsq_backward_sums<N>(sl.r, x + sl.at, dy + sl.at, dx + sl.at, dscale + sl.param,
                                                   dzero_point + sl.param, grad_factor,
                                                   sums_.data() + at_[static_cast<std::size_t>(i)]);
      });
    });
    if (per_element) return;  // each slice wrote its elements' own terms
    const std::size_t n = count();
    total_.assign(2 * n, 0.0);
    for (std::int64_t i = 0; i < plan.count; ++i) {
      const detail::Slice sl = detail::slice_at(r, plan, i);
      const double* part = sums_.data() + at_[static_cast<std::size_t>(i)];
      for (std::size_t k = 0; k < sl.r.count; ++k) {
        total_[static_cast<std::size_t>(sl.param) + k] += part[k];
        total_[n + static_cast<std::size_t>(sl.param) + k] += part[sl.r.count + k];
      }
    }
    for (std::size_t k = 0; k < n; ++k) {
      dscale[k] = static_cast<float>(total_[k]);
      dzero_point[k] = static_cast<float>(total_[n + k]);
    }
  }
  /// With LSQ's default factor lsq_grad_factor(size(), range()).
  template <class Exec = SerialExecutor,
            class = std::enable_if_t<!std::is_arithmetic_v<std::remove_reference_t<Exec>>>>  // not a factor
  void backward(const float* x, const float* dy, float* dx, float* dscale, float* dzero_point, Exec&& exec = {}) {
    backward(x, dy, dx, dscale, dzero_point, lsq_grad_factor(size(), range()), exec);
  }

 private:
  // Validates params on shape into q_ and qz_ (q_'s buffers reused).
  Status assign(const Shape& shape, const LearnableParamsView& params) {
    EIGENQ_RETURN_IF_ERROR(check_observer_range<std::int32_t>(params.range, "learnable fake-quant"));
    ResolvedParams r;
    EIGENQ_RETURN_IF_ERROR(resolve_layout(ParamLayout(params.granularity, params.axis, params.block_size), shape, &r));
    if (params.count != r.count || (r.count > 0 && (params.scale == nullptr || params.zero_point == nullptr)))
      return detail::count_mismatch("learnable parameters", r, params.count, shape,
                                    "scale and zero_point of different lengths");
    // Everything is checked before q_ (whose buffers qz_ may view) changes:
    // first in one pass without messages (a rounded zero point is always in
    // the range), then, if something is wrong, again to say what.
    bool valid = true;
    for (std::size_t k = 0; k < params.count; ++k) {
      const float s = params.scale[k];
      valid = valid && std::isfinite(params.zero_point[k]) && std::isfinite(s) && s > 0.0f && std::isfinite(1.0f / s);
    }
    for (std::size_t k = 0; !valid && k < params.count; ++k) {
      if (!std::isfinite(params.zero_point[k]))
        return detail::error(StatusCode::kInvalidZeroPoint, "zero_point[", k, "] = ", params.zero_point[k],
                             " must be finite");
      EIGENQ_RETURN_IF_ERROR(
          check_pair(params.scale[k], round_zero_point(params.zero_point[k], params.range), params.range, k));
    }
    q_.granularity = params.granularity;
    q_.axis = params.axis;
    q_.block_size = params.block_size;
    q_.range = params.range;
    q_.scale.assign(params.scale, params.scale + params.count);
    q_.zero_point.resize(params.count);
    for (std::size_t k = 0; k < params.count; ++k)
      q_.zero_point[k] = round_zero_point(params.zero_point[k], params.range);
    return Quantizer<std::int32_t, N, P>::create(shape, q_.view(), &qz_);
  }
  QParams q_;                         // the integer parameters (zero points rounded)
  Quantizer<std::int32_t, N, P> qz_;  // a view of q_
  std::vector<double> sums_;          // per-parameter sums of each slice in backward
  std::vector<std::size_t> at_;       // where each slice's sums start in sums_
  std::vector<double> total_;         // the slices' sums added in order
};

// ---------------------------------------------------------------------------
// Eigen front end: any float object or expression

template <class In>
struct LearnableGradients {
  detail::PlainOf<In, float> dx;
  std::vector<float> dscale;       ///< one per learnable parameter
  std::vector<float> dzero_point;  ///< one per learnable parameter
};

/// y = fake_quantize(x) with learnable parameters, x of y's dimensions.
/// Nothing is written when the status is not ok.
template <class N = DefaultNumerics, Path P = kBestPath, class In, class Out>
Status learnable_fake_quantize_into(const In& x, const LearnableParams& params, Out&& y) {
  detail::check_scalar<In, float>();
  detail::check_scalar<Out, float>();
  return detail::map_into(x, y, [&](const float* in, float* out, const Shape& shape) {
    LearnableFakeQuant<N, P> lq;
    EIGENQ_RETURN_IF_ERROR(LearnableFakeQuant<N, P>::create(shape, params.view(), &lq));
    lq.forward(in, out);
    return Status::ok();
  });
}

/// Throws `eigenq::Error`.
template <class N = DefaultNumerics, Path P = kBestPath, class In>
auto learnable_fake_quantize(const In& x, const LearnableParams& params) {
  detail::check_scalar<In, float>();
  auto y = detail::make_plain<In, float>(shape_of(x));
  detail::raise_if_error(learnable_fake_quantize_into<N, P>(x, params, y));
  return y;
}

/// dx (x's dimensions), dscale and dzero_point (resized to one per learnable
/// parameter) for upstream gradient dy. grad_factor < 0 (the default)
/// means LSQ's lsq_grad_factor(x.size(), range). Nothing is written when
/// the status is not ok.
template <class N = DefaultNumerics, Path P = kBestPath, class In, class DY, class DX>
Status learnable_fake_quantize_backward_into(const In& x, const DY& dy, const LearnableParams& params, DX&& dx,
                                             std::vector<float>* dscale, std::vector<float>* dzero_point,
                                             float grad_factor = -1.0f) {
  detail::check_scalar<In, float>();
  detail::check_scalar<DY, float>();
  detail::check_scalar<DX, float>();
  return detail::map_into(x, "x", dy, "dy", dx, [&](const float* xs, const float* g, float* out, const Shape& shape) {
    LearnableFakeQuant<N, P> lq;
    EIGENQ_RETURN_IF_ERROR(LearnableFakeQuant<N, P>::create(shape, params.view(), &lq));
    dscale->resize(lq.count());
    dzero_point->resize(lq.count());
    const float factor = grad_factor < 0.0f ? lsq_grad_factor(lq.size(), lq.range()) : grad_factor;
    lq.backward(xs, g, out, dscale->data(), dzero_point->data(), factor);
    return Status::ok();
  });
}

/// Throws `eigenq::Error`.
template <class N = DefaultNumerics, Path P = kBestPath, class In, class DY>
LearnableGradients<In> learnable_fake_quantize_backward(const In& x, const DY& dy, const LearnableParams& params,
                                                        float grad_factor = -1.0f) {
  detail::check_scalar<In, float>();
  LearnableGradients<In> g{detail::make_plain<In, float>(shape_of(x)), {}, {}};
  detail::raise_if_error(
      learnable_fake_quantize_backward_into<N, P>(x, dy, params, g.dx, &g.dscale, &g.dzero_point, grad_factor));
  return g;
}

}  // namespace eigenq
