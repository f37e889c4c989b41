#pragma once
/// \file
/// TensorFlow's `fake_quant_with_min_max_{args,vars,vars_per_channel}` and
/// their gradients, reproducing TensorFlow's float32 arithmetic
/// (tensorflow/core/kernels/fake_quant_ops_functor.h).
///
/// The range [min, max] is first *nudged* so that 0.0 is exactly
/// representable (`nudge`):
///
///     qmin, qmax = narrow_range ? 1 : 0, 2^num_bits - 1     (num_bits 2..16)
///     scale      = (max - min) / (qmax - qmin)
///     zp         = round_half_away(clamp(qmin - min / scale, qmin, qmax))
///     nudged_min = (qmin - zp) * scale,  nudged_max = (qmax - zp) * scale
///
/// so a range that excludes 0 is moved to include it: min = 12, max = 123
/// gives [0, 111], and fake_quant(123) = 111. Then (current TensorFlow,
/// `Version::kCurrent`):
///
///     inv        = (qmax - qmin) / (max - min)     recomputed, not 1 / scale
///     quant_zero = floor(-nudged_min * inv + 0.5f)
///     y = floor((clamp(x, nudged_min, nudged_max) - nudged_min) * inv - quant_zero + 0.5f) * scale
///
/// which makes 0.0 map to exactly 0.0. `_vars` divides by scale instead of
/// multiplying by inv (TensorFlow's own kernels differ there). TensorFlow
/// before 2021 (`Version::kLegacy`) computed
/// y = floor((clamp(x) - nudged_min) * (1 / scale) + 0.5f) * scale + nudged_min
/// (`_vars` and `_vars_per_channel` dividing by scale), whose outputs can be
/// off from the grid by an ulp and give a tiny nonzero value for 0.0 (TF pull
/// requests #48580 and #55310 changed it).
///
/// Gradients: dx = dy * [nudged_min <= x <= nudged_max],
/// dmin = sum dy * [x < nudged_min], dmax = sum dy * [x > nudged_max]
/// (multiplies, as TF, so NaN upstream gradients propagate), summed per
/// parameter in double. NaN inputs give NaN outputs (TF's clamp propagates
/// NaN) and no gradient. min == max == 0 (for `_vars`) outputs 0 and passes
/// the gradient through, as TensorFlow does.
///
/// TensorFlow's per-channel op takes the channel on the last axis; here any
/// axis (and the blocked and per-element layouts) work the same way.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "../eigen_matrix.hpp"
#include "../scheme.hpp"

namespace eigenq {
namespace tf {

/// Which TensorFlow arithmetic to reproduce (see the file comment).
enum class Version { kCurrent, kLegacy };

/// Which TensorFlow op: they differ in validation and in the scaling step.
enum class Op { kArgs, kVars, kVarsPerChannel };

/// The quantization range TensorFlow uses for num_bits and narrow_range.
constexpr Range range(int num_bits, bool narrow_range) {
  return {narrow_range ? 1 : 0, static_cast<std::int32_t>((std::int64_t{1} << num_bits) - 1)};
}

/// A nudged range and what the passes need from it.
struct Nudged {
  float nudged_min = 0.0f;
  float nudged_max = 0.0f;
  float scale = 0.0f;
  float inv_scale = 0.0f;   ///< (qmax - qmin) / (max - min), or 1 / scale in kLegacy
  float quant_zero = 0.0f;  ///< floor(-nudged_min * inv_scale + 0.5f)
  std::int32_t zero_point = 0;
  bool zero_range = false;  ///< min == max == 0: output 0, gradient passes
};

/// TensorFlow's Nudge(), float32 throughout as TF computes it. Assumes valid
/// arguments (see `check_min_max`).
inline Nudged nudge(float min, float max, int num_bits, bool narrow_range, Version version = Version::kCurrent) {
  Nudged n;
  if (min == 0.0f && max == 0.0f) {
    n.zero_range = true;
    return n;
  }
  const Range r = range(num_bits, narrow_range);
  const float qmin = static_cast<float>(r.qmin), qmax = static_cast<float>(r.qmax);
  n.scale = (max - min) / (qmax - qmin);
  n.inv_scale = version == Version::kCurrent ? (qmax - qmin) / (max - min) : 1.0f / n.scale;
  const float zero_point_from_min = qmin - min / n.scale;
  n.zero_point = zero_point_from_min < qmin   ? r.qmin
                 : zero_point_from_min > qmax ? r.qmax
                                              : static_cast<std::int32_t>(RoundHalfAway::round(zero_point_from_min));
  n.nudged_min = (qmin - static_cast<float>(n.zero_point)) * n.scale;
  n.nudged_max = (qmax - static_cast<float>(n.zero_point)) * n.scale;
  n.quant_zero = RoundHalfUp::round(-n.nudged_min * n.inv_scale);
  return n;
}

inline Status check_num_bits(int num_bits) {
  if (num_bits < 2 || num_bits > 16)
    return eigenq::detail::error(StatusCode::kInvalidArgument, "num_bits = ", num_bits, " must be in [2, 16]");
  return Status::ok();
}

/// min and max must be finite with min < max; `_vars` also accepts
/// min == max == 0 (TensorFlow's special case).
inline Status check_min_max(float min, float max, Op op, std::size_t index) {
  if (!std::isfinite(min) || !std::isfinite(max))
    return eigenq::detail::error(StatusCode::kInvalidArgument, "min[", index, "] = ", min, ", max[", index, "] = ", max,
                                 " must be finite");
  if (op != Op::kArgs && min == 0.0f && max == 0.0f) return Status::ok();
  if (!(min < max))
    return eigenq::detail::error(StatusCode::kInvalidArgument, "min[", index, "] = ", min, " must be < max[", index,
                                 "] = ", max);
  if (!std::isfinite(max - min))
    return eigenq::detail::error(StatusCode::kInvalidArgument, "max[", index, "] - min[", index, "] = ", max, " - ",
                                 min, " overflows float32");
  return Status::ok();
}

/// One element as TensorFlow's op computes it.
inline float fake_quant(float x, const Nudged& n, Op op, Version version = Version::kCurrent) {
  if (n.zero_range) return 0.0f;
  // std::min/max in this order propagate NaN, as TF's Eigen cwiseMin/cwiseMax do.
  const float clamped = std::max(std::min(x, n.nudged_max), n.nudged_min);
  const float shifted = clamped - n.nudged_min;
  const bool divide = op == Op::kVars || (op == Op::kVarsPerChannel && version == Version::kLegacy);
  // The products are rounded before the following additions (no FMA), as TF's kernels compute them.
  const float t = eigenq::detail::opaque(divide ? ScaleByDivision::apply(shifted, n.scale)
                                                : ScaleByReciprocal::apply(shifted, n.inv_scale));
  if (version == Version::kCurrent) return RoundHalfUp::round(t - n.quant_zero) * n.scale;
  return eigenq::detail::opaque(RoundHalfUp::round(t) * n.scale) + n.nudged_min;
}

/// min/max of any granularity (as `QParamsView`: per tensor, per axis,
/// blocked, per element) with TensorFlow's bit width and narrow range.
struct MinMaxView {
  Granularity granularity = Granularity::kPerTensor;
  int axis = -1;
  std::int64_t block_size = 0;
  const float* min = nullptr;
  const float* max = nullptr;
  std::size_t count = 0;
  int num_bits = 8;
  bool narrow_range = false;
};

namespace internal {

inline Status resolve(const Shape& shape, const MinMaxView& mm, Op op, Version version, ResolvedParams* r,
                      std::vector<Nudged>* nudged) {
  EIGENQ_RETURN_IF_ERROR(check_num_bits(mm.num_bits));
  EIGENQ_RETURN_IF_ERROR(resolve_layout(ParamLayout(mm.granularity, mm.axis, mm.block_size), shape, r));
  if (mm.count != r->count || (r->count > 0 && (mm.min == nullptr || mm.max == nullptr)))
    return eigenq::detail::count_mismatch("min/max", *r, mm.count, shape, "min and max of different lengths");
  nudged->resize(mm.count);
  for (std::size_t k = 0; k < mm.count; ++k) {
    EIGENQ_RETURN_IF_ERROR(check_min_max(mm.min[k], mm.max[k], op, k));
    (*nudged)[k] = nudge(mm.min[k], mm.max[k], mm.num_bits, mm.narrow_range, version);
  }
  return Status::ok();
}

}  // namespace internal

/// y = TensorFlow's fake-quant of x. y may alias x. Nothing is written when
/// the status is not ok.
inline Status fake_quant_with_min_max(const float* x, float* y, const Shape& shape, const MinMaxView& mm, Op op,
                                      Version version = Version::kCurrent) {
  ResolvedParams r;
  std::vector<Nudged> nudged;
  EIGENQ_RETURN_IF_ERROR(internal::resolve(shape, mm, op, version, &r, &nudged));
  EIGENQ_RETURN_IF_ERROR(eigenq::detail::check_buffers(shape, {{"x", x}, {"y", y}}));
  eigenq::detail::for_each_run_indexed(r, [&](std::int64_t at, std::int64_t n, auto index) {
    if constexpr (std::is_same_v<decltype(index), eigenq::detail::BroadcastIndex>) {
      const Nudged& nd = nudged[static_cast<std::size_t>(index.param)];
      for (std::int64_t i = 0; i < n; ++i) y[at + i] = fake_quant(x[at + i], nd, op, version);
    } else {
      for (std::int64_t i = 0; i < n; ++i)
        y[at + i] = fake_quant(x[at + i], nudged[static_cast<std::size_t>(index.param + i)], op, version);
    }
  });
  return Status::ok();
}

/// dx (shape.size() elements), dmin and dmax (mm.count each, overwritten).
inline Status fake_quant_with_min_max_gradient(const float* dy, const float* x, float* dx, float* dmin, float* dmax,
                                               const Shape& shape, const MinMaxView& mm, Op op,
                                               Version version = Version::kCurrent) {
  ResolvedParams r;
  std::vector<Nudged> nudged;
  EIGENQ_RETURN_IF_ERROR(internal::resolve(shape, mm, op, version, &r, &nudged));
  EIGENQ_RETURN_IF_ERROR(eigenq::detail::check_buffers(shape, {{"dy", dy}, {"x", x}, {"dx", dx}}));
  if (mm.count > 0 && (dmin == nullptr || dmax == nullptr))
    return eigenq::detail::error(StatusCode::kInvalidArgument, "dmin and dmax must hold ", mm.count,
                                 " values each, got a null pointer");
  std::vector<double> sum_min(mm.count, 0.0), sum_max(mm.count, 0.0);
  auto element = [&](std::int64_t i, const Nudged& nd, double* lo, double* hi) {
    if (nd.zero_range) {
      dx[i] = dy[i];
      return;
    }
    const float v = x[i];
    dx[i] = dy[i] * static_cast<float>(v >= nd.nudged_min && v <= nd.nudged_max);
    *lo += dy[i] * static_cast<float>(v < nd.nudged_min);
    *hi += dy[i] * static_cast<float>(v > nd.nudged_max);
  };
  eigenq::detail::for_each_run_indexed(r, [&](std::int64_t at, std::int64_t n, auto index) {
    if constexpr (std::is_same_v<decltype(index), eigenq::detail::BroadcastIndex>) {
      const auto k = static_cast<std::size_t>(index.param);
      double lo = 0.0, hi = 0.0;
      for (std::int64_t i = 0; i < n; ++i) element(at + i, nudged[k], &lo, &hi);
      sum_min[k] += lo;
      sum_max[k] += hi;
    } else {
      for (std::int64_t i = 0; i < n; ++i) {
        const auto k = static_cast<std::size_t>(index.param + i);
        element(at + i, nudged[k], &sum_min[k], &sum_max[k]);
      }
    }
  });
  for (std::size_t k = 0; k < mm.count; ++k) {
    dmin[k] = static_cast<float>(sum_min[k]);
    dmax[k] = static_cast<float>(sum_max[k]);
  }
  return Status::ok();
}

/// A per-tensor MinMaxView of one min and one max (TensorFlow's _args and
/// _vars ops); the view points at them.
inline MinMaxView per_tensor_min_max(const float* min, const float* max, int num_bits = 8, bool narrow_range = false) {
  MinMaxView mm;
  mm.min = min;
  mm.max = max;
  mm.count = 1;
  mm.num_bits = num_bits;
  mm.narrow_range = narrow_range;
  return mm;
}

/// A per-axis MinMaxView (TensorFlow's _vars_per_channel takes the last
/// axis, -1); the view points into the vectors.
inline MinMaxView per_axis_min_max(const std::vector<float>& min, const std::vector<float>& max, int axis = -1,
                                   int num_bits = 8, bool narrow_range = false) {
  MinMaxView mm = per_tensor_min_max(min.data(), max.data(), num_bits, narrow_range);
  mm.granularity = Granularity::kPerAxis;
  mm.axis = axis;
  mm.count = min.size() == max.size() ? min.size() : ~std::size_t{0};
  return mm;
}

// ---------------------------------------------------------------------------
// Eigen front end: any float object or expression

/// y = TensorFlow's fake-quant of x (x of y's dimensions). Nothing is
/// written when the status is not ok.
template <class In, class Out>
Status fake_quant_with_min_max_into(const In& x, const MinMaxView& mm, Op op, Out&& y,
                                    Version version = Version::kCurrent) {
  eigenq::detail::check_scalar<In, float>();
  eigenq::detail::check_scalar<Out, float>();
  return eigenq::detail::map_into(x, y, [&](const float* in, float* out, const Shape& shape) {
    return fake_quant_with_min_max(in, out, shape, mm, op, version);
  });
}

/// dx (x's dimensions), dmin and dmax (resized to mm.count) for upstream
/// gradient dy. Nothing is written when the status is not ok.
template <class DY, class In, class DX>
Status fake_quant_with_min_max_gradient_into(const DY& dy, const In& x, const MinMaxView& mm, Op op, DX&& dx,
                                             std::vector<float>* dmin, std::vector<float>* dmax,
                                             Version version = Version::kCurrent) {
  eigenq::detail::check_scalar<DY, float>();
  eigenq::detail::check_scalar<In, float>();
  eigenq::detail::check_scalar<DX, float>();
  std::vector<float> lo(mm.count == ~std::size_t{0} ? 0 : mm.count), hi(lo.size());
  EIGENQ_RETURN_IF_ERROR(eigenq::detail::map_into(
      dy, "dy", x, "x", dx, [&](const float* g, const float* xs, float* out, const Shape& shape) {
        return fake_quant_with_min_max_gradient(g, xs, out, lo.data(), hi.data(), shape, mm, op, version);
      }));
  *dmin = std::move(lo);
  *dmax = std::move(hi);
  return Status::ok();
}

// Named after the TensorFlow ops; throw `eigenq::Error`.

template <class In>
struct MinMaxGradients {
  eigenq::detail::PlainOf<In, float> dx;
  std::vector<float> dmin;  ///< one per min (one for args/vars)
  std::vector<float> dmax;
};

namespace internal {

template <class In>
auto run_forward(const In& x, const MinMaxView& mm, Op op, Version version) {
  eigenq::detail::check_scalar<In, float>();
  auto y = eigenq::detail::make_plain<In, float>(shape_of(x));
  eigenq::detail::raise_if_error(fake_quant_with_min_max_into(x, mm, op, y, version));
  return y;
}

template <class In, class DY>
MinMaxGradients<In> run_gradient(const DY& dy, const In& x, const MinMaxView& mm, Op op, Version version) {
  eigenq::detail::check_scalar<In, float>();
  MinMaxGradients<In> g{eigenq::detail::make_plain<In, float>(shape_of(x)), {}, {}};
  eigenq::detail::raise_if_error(fake_quant_with_min_max_gradient_into(dy, x, mm, op, g.dx, &g.dmin, &g.dmax, version));
  return g;
}

}  // namespace internal

/// tf.quantization.fake_quant_with_min_max_args (min, max attributes).
template <class In>
auto fake_quant_with_min_max_args(const In& x, float min = -6.0f, float max = 6.0f, int num_bits = 8,
                                  bool narrow_range = false, Version version = Version::kCurrent) {
  return internal::run_forward(x, per_tensor_min_max(&min, &max, num_bits, narrow_range), Op::kArgs, version);
}

/// tf.quantization.fake_quant_with_min_max_args_gradient: dx only.
template <class DY, class In>
auto fake_quant_with_min_max_args_gradient(const DY& dy, const In& x, float min = -6.0f, float max = 6.0f,
                                           int num_bits = 8, bool narrow_range = false,
                                           Version version = Version::kCurrent) {
  return internal::run_gradient(dy, x, per_tensor_min_max(&min, &max, num_bits, narrow_range), Op::kArgs, version).dx;
}

/// tf.quantization.fake_quant_with_min_max_vars (scalar min, max tensors).
template <class In>
auto fake_quant_with_min_max_vars(const In& x, float min, float max, int num_bits = 8, bool narrow_range = false,
                                  Version version = Version::kCurrent) {
  return internal::run_forward(x, per_tensor_min_max(&min, &max, num_bits, narrow_range), Op::kVars, version);
}

/// tf.quantization.fake_quant_with_min_max_vars_gradient: dx, dmin, dmax.
template <class DY, class In>
MinMaxGradients<In> fake_quant_with_min_max_vars_gradient(const DY& dy, const In& x, float min, float max,
                                                          int num_bits = 8, bool narrow_range = false,
                                                          Version version = Version::kCurrent) {
  return internal::run_gradient(dy, x, per_tensor_min_max(&min, &max, num_bits, narrow_range), Op::kVars, version);
}

/// tf.quantization.fake_quant_with_min_max_vars_per_channel. TensorFlow
/// takes the last axis (the default); any axis is accepted.
template <class In>
auto fake_quant_with_min_max_vars_per_channel(const In& x, const std::vector<float>& min, const std::vector<float>& max,
                                              int num_bits = 8, bool narrow_range = false, int axis = -1,
                                              Version version = Version::kCurrent) {
  return internal::run_forward(x, per_axis_min_max(min, max, axis, num_bits, narrow_range), Op::kVarsPerChannel,
                               version);
}

/// tf.quantization.fake_quant_with_min_max_vars_per_channel_gradient.
template <class DY, class In>
MinMaxGradients<In> fake_quant_with_min_max_vars_per_channel_gradient(const DY& dy, const In& x,
                                                                      const std::vector<float>& min,
                                                                      const std::vector<float>& max, int num_bits = 8,
                                                                      bool narrow_range = false, int axis = -1,
                                                                      Version version = Version::kCurrent) {
  return internal::run_gradient(dy, x, per_axis_min_max(min, max, axis, num_bits, narrow_range), Op::kVarsPerChannel,
                                version);
}

}  // namespace tf
}  // namespace eigenq
