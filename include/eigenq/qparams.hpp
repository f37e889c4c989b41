#pragma once
/// \file
/// Choosing scale and zero point from a float range, as PyTorch's observers
/// do (`_calculate_qparams`), for every granularity.
///
/// Rules, checked bit for bit against PyTorch 1.13's MinMaxObserver and
/// PerChannelMinMaxObserver (tests/conformance_pytorch_test.cpp):
///   min' = min(min, 0), max' = max(max, 0)          zero is always exact
///   affine:    s  = max((max' - min') / float(qmax - qmin), eps)
///              zp = clamp(qmin - int32(round_half_even(min' / s)), qmin, qmax)
///   symmetric: s  = max(max(-min', max') / (float(qmax - qmin) / 2), eps)
///              zp = 0 for signed storage; for unsigned, 128 over the full
///              uint8 range, else (qmin + qmax) / 2
/// with eps = 2^-23 (float32 epsilon, PyTorch's default `eps`) unless given,
/// so an all-zero (dead) channel gets a tiny positive scale, never 0.
///
/// Every operation is a float32 operation, and the divisions are true
/// divisions (PyTorch divides a float32 tensor by a Python float in float32,
/// not by multiplying with a reciprocal). The zero point uses PyTorch's
/// integer arithmetic (see `detail::affine_zero_point`), which only matters
/// for int32 ranges. One case cannot be reproduced from a `Range`: PyTorch's
/// symmetric uint8 zero point is (qmin + qmax) / 2 whenever quant_min and
/// quant_max were passed explicitly, so an explicit [0, 255] gives 127 there
/// and 128 here.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "params.hpp"
#include "scheme.hpp"
#include "slices.hpp"

namespace eigenq {

enum class Symmetry { kAffine, kSymmetric };

/// One scale and zero point.
struct AffineParams {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
};

/// PyTorch's observer epsilon: torch.finfo(torch.float32).eps.
constexpr float kScaleEpsilon = std::numeric_limits<float>::epsilon();

/// Checks an observer's smallest scale: finite, > 0, with a finite
/// reciprocal (so every scale it allows is a valid one).
inline Status check_eps(float eps) {
  if (!(std::isfinite(eps) && eps > 0.0f && std::isfinite(1.0f / eps)))
    return detail::error(StatusCode::kInvalidScale, "eps = ", eps,
                         " must be finite and > 0 with a finite reciprocal (PyTorch's default is 2^-23)");
  return Status::ok();
}

namespace detail {

/// clamp(qmin - round_half_even(min_neg / scale), qmin, qmax) with PyTorch's
/// integer arithmetic: the rounded quotient is converted to int32
/// (`.to(torch.int)`), where values below INT32_MIN and NaN become INT32_MIN
/// (the x86 conversion result), and qmin minus it is an int32 operation that
/// wraps. With a finite min_neg <= 0 the quotient lies in [-(qmax - qmin), 0],
/// so neither happens below 2^31 levels. Over the full int32 range with
/// -min' > max' it does: the quotient is below INT32_MIN and the zero point
/// comes out as qmin - INT32_MIN = 0, not the clamped qmax of exact arithmetic.
inline std::int32_t affine_zero_point(float min_neg, float scale, Range range) {
  const float r = std::nearbyint(min_neg / scale);  // <= 0, or NaN for -inf / inf
  const std::int32_t quotient = r >= -2147483648.0f ? static_cast<std::int32_t>(r) : INT32_MIN;
  const auto zp =
      static_cast<std::int32_t>(static_cast<std::uint32_t>(range.qmin) - static_cast<std::uint32_t>(quotient));
  return std::clamp(zp, range.qmin, range.qmax);
}

}  // namespace detail

/// Scale and zero point for values in [min, max] stored as Q in `range`;
/// the scale is at least `eps` (assumed valid, see check_eps). NaN bounds
/// are treated as 0 (the range is widened to include zero anyway); infinite
/// bounds give an infinite scale, which validation then refuses by name.
template <class Q>
AffineParams choose_qparams(float min, float max, Range range, Symmetry symmetry = Symmetry::kAffine,
                            float eps = kScaleEpsilon) {
  const float min_neg = std::min(min, 0.0f);  // std::min(NaN, 0) is NaN: fixed below
  const float max_pos = std::max(max, 0.0f);
  const float lo = std::isnan(min_neg) ? 0.0f : min_neg, hi = std::isnan(max_pos) ? 0.0f : max_pos;
  const float levels = static_cast<float>(static_cast<double>(range.qmax) - range.qmin);
  AffineParams p;
  if (symmetry == Symmetry::kSymmetric) {
    p.scale = std::max(std::max(-lo, hi) / (levels / 2.0f), eps);
    if (std::is_signed_v<Q>)
      p.zero_point = 0;
    else
      p.zero_point = range == Range::full<Q>() ? (range.qmax + 1) / 2 : (range.qmin + range.qmax) / 2;
  } else {
    p.scale = std::max((hi - lo) / levels, eps);
    p.zero_point = detail::affine_zero_point(lo, p.scale, range);
  }
  return p;
}

/// The min and max of each parameter group of `layout` on a shape. NaN elements are skipped, as torch.aminmax would not
/// (PyTorch propagates NaN into the range); empty groups give [0, 0].
struct MinMax {
  std::vector<float> min, max;
};

namespace detail {

/// Widens mn[k], mx[k] with the elements of every run of r over x, the
/// runs in memory order (the first of equal values kept, NaN skipped).
inline void min_max_runs(const ResolvedParams& r, const float* x, float* mn, float* mx) {
  for_each_run_indexed(r, [&](std::int64_t at, std::int64_t n, auto index) {
    const float* v = x + at;
    if constexpr (std::is_same_v<decltype(index), BroadcastIndex>) {
      float lo = mn[index.param], hi = mx[index.param];
      for (std::int64_t i = 0; i < n; ++i) {  // comparisons are false for NaN: skipped
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
      }
      mn[index.param] = lo;
      mx[index.param] = hi;
    } else {
      for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t k = index.param + i;
        mn[k] = v[i] < mn[k] ? v[i] : mn[k];
        mx[k] = v[i] > mx[k] ? v[i] : mx[k];
      }
    }
  });
}

/// Empty and all-NaN groups (min > max after the runs) give [0, 0].
inline void zero_empty_groups(MinMax* out) {
  for (std::size_t k = 0; k < out->min.size(); ++k)
    if (out->min[k] > out->max[k]) out->min[k] = out->max[k] = 0.0f;
}

/// compute_min_max's start, whatever the element type: the layout
/// resolved, x checked, every group's range empty (+inf, -inf).
template <class T>
Status begin_min_max(const T* x, const Shape& shape, const ParamLayout& layout, MinMax* out, ResolvedParams* r) {
  EIGENQ_RETURN_IF_ERROR(resolve_layout(layout, shape, r));
  EIGENQ_RETURN_IF_ERROR(check_buffers(shape, {{"x", x}}));
  out->min.assign(r->count, std::numeric_limits<float>::infinity());
  out->max.assign(r->count, -std::numeric_limits<float>::infinity());
  return Status::ok();
}

}  // namespace detail

/// compute_min_max on an executor (parallel.hpp), the same bits as serially
/// at every thread count: blocked and per-element groups are cut into
/// slices that own their groups; per-axis groups into ranges of channels,
/// each visited in memory order over every outer row; a per-tensor range
/// from slices of kParallelGrain elements combined in order.
template <class Exec>
Status compute_min_max(const float* x, const Shape& shape, const ParamLayout& layout, MinMax* out, Exec&& exec) {
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(detail::begin_min_max(x, shape, layout, out, &r));
  float* mn = out->min.data();
  float* mx = out->max.data();
  const std::int64_t size = r.size(), grain = detail::kParallelGrain;
  if (exec.threads() <= 1 || size <= grain) {
    detail::min_max_runs(r, x, mn, mx);
  } else if (r.params.granularity == Granularity::kPerTensor) {
    const std::int64_t slices = detail::ceil_div(size, grain);
    std::vector<float> parts(static_cast<std::size_t>(2 * slices));
    float* part = parts.data();
    exec.parallel_for(slices, [=](std::int64_t c) {
      float lo = std::numeric_limits<float>::infinity(), hi = -lo;
      const std::int64_t end = std::min(size, (c + 1) * grain);
      for (std::int64_t i = c * grain; i < end; ++i) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
      }
      part[2 * c] = lo;
      part[2 * c + 1] = hi;
    });
    for (std::int64_t c = 0; c < slices; ++c) {
      mn[0] = part[2 * c] < mn[0] ? part[2 * c] : mn[0];
      mx[0] = part[2 * c + 1] > mx[0] ? part[2 * c + 1] : mx[0];
    }
  } else if (r.params.granularity == Granularity::kPerAxis) {
    const std::int64_t per = std::max<std::int64_t>(1, grain / (r.outer * r.inner));
    const std::int64_t groups = detail::ceil_div(r.channels, per), slab = r.channels * r.inner;
    exec.parallel_for(groups, [&](std::int64_t g) {
      ResolvedParams part = r;
      const std::int64_t c = g * per;
      part.outer = 1;
      part.channels = part.blocks = std::min(per, r.channels - c);
      part.count = static_cast<std::size_t>(part.channels);
      for (std::int64_t o = 0; o < r.outer; ++o) detail::min_max_runs(part, x + o * slab + c * r.inner, mn + c, mx + c);
    });
  } else {
    detail::for_each_slice(exec, r, detail::line_of<float>, 1, [&](const detail::Slice& s) {
      detail::min_max_runs(s.r, x + s.at, mn + s.param, mx + s.param);
    });
  }
  detail::zero_empty_groups(out);
  return Status::ok();
}

inline Status compute_min_max(const float* x, const Shape& shape, const ParamLayout& layout, MinMax* out) {
  return compute_min_max(x, shape, layout, out, SerialExecutor{});
}

/// compute_min_max of float16 / bfloat16 elements (half.hpp): the float32
/// result on their widened values, serially, a chunk at a time through a
/// buffer on the stack (Quantizer's half entry points).
template <class Format, Path P = kBestPath>
Status compute_min_max(const std::uint16_t* x, const Shape& shape, const ParamLayout& layout, MinMax* out) {
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(detail::begin_min_max(x, shape, layout, out, &r));
  float* mn = out->min.data();
  float* mx = out->max.data();
  detail::through_floats<Format, P>(r, x, nullptr, [&](const detail::Slice& s, float* f) {
    detail::min_max_runs(s.r, f, mn + s.param, mx + s.param);
  });
  detail::zero_empty_groups(out);
  return Status::ok();
}
/// Eigen::half / Eigen::bfloat16 elements.
template <class H, class Format = half_format_t<H>>
Status compute_min_max(const H* x, const Shape& shape, const ParamLayout& layout, MinMax* out) {
  return compute_min_max<Format>(detail::half_bits(x), shape, layout, out);
}

namespace detail {

/// Refuses parameters chosen for [min, max] that no kernel can use (the
/// scale is inf or NaN), naming parameter k and why: an infinite bound
/// means the data held an infinity; finite bounds whose width overflows
/// float32 (max' - min' > 3.4e38) give an infinite scale too, as in PyTorch.
inline Status check_chosen(float min, float max, const AffineParams& a, Range range, std::size_t k) {
  if (std::isfinite(a.scale)) return Status::ok();
  if (std::isinf(min) || std::isinf(max))
    return error(StatusCode::kInvalidScale, "parameter ", k, ": min = ", min, ", max = ", max,
                 ": the data holds an infinite value, which no scale can represent (expected finite values)");
  return error(StatusCode::kInvalidScale, "parameter ", k, ": range [", min, ", ", max, "] over [qmin, qmax] = [",
               range.qmin, ", ", range.qmax, "] gives scale = ", a.scale,
               " (expected max(max, 0) - min(min, 0) to fit float32 and qmin < qmax)");
}

}  // namespace detail

/// Parameters for each (min, max) pair, in the granularity of `layout`
/// (its axis and block size are copied; scale and zero point filled in).
/// Fails, naming the parameter, when a scale comes out inf or NaN (see
/// `detail::check_chosen`); `out` is then unchanged.
template <class Q>
Status qparams_from_min_max(const MinMax& mm, const ParamLayout& layout, Range range, Symmetry symmetry, QParams* out,
                            float eps = kScaleEpsilon) {
  QParams p;
  p.granularity = layout.granularity;
  p.axis = layout.axis;
  p.block_size = layout.block_size;
  p.range = range;
  p.scale.resize(mm.min.size());
  p.zero_point.resize(mm.min.size());
  for (std::size_t k = 0; k < mm.min.size(); ++k) {
    const AffineParams a = choose_qparams<Q>(mm.min[k], mm.max[k], range, symmetry, eps);
    EIGENQ_RETURN_IF_ERROR(detail::check_chosen(mm.min[k], mm.max[k], a, range, k));
    p.scale[k] = a.scale;
    p.zero_point[k] = a.zero_point;
  }
  *out = std::move(p);
  return Status::ok();
}

/// Chooses parameters of the given granularity directly from data: the
/// min/max of each group, then `choose_qparams`. Fails on data whose
/// parameters would be unusable (an infinite element, or a range wider
/// than float32: see `qparams_from_min_max`).
template <class Q>
Status choose_qparams(const float* x, const Shape& shape, const ParamLayout& layout, Range range, Symmetry symmetry,
                      QParams* out) {
  EIGENQ_RETURN_IF_ERROR(check_range<Q>(range));
  MinMax mm;
  EIGENQ_RETURN_IF_ERROR(compute_min_max(x, shape, layout, &mm));
  return qparams_from_min_max<Q>(mm, layout, range, symmetry, out);
}

/// Checks the range an observer or a learnable fake-quant (`what`) works
/// in, as PyTorch 1.13's observers and _LearnableFakeQuantize do: valid for
/// Q, at least two levels, and including 0.
template <class Q>
Status check_observer_range(Range range, const char* what) {
  EIGENQ_RETURN_IF_ERROR(check_range<Q>(range));
  if (range.qmin == range.qmax)
    return detail::error(StatusCode::kInvalidRange, what, " range [", range.qmin, ", ", range.qmax,
                         "] has one level; expected qmin < qmax (PyTorch 1.13: \"qmin must be strictly less than "
                         "qmax for user-specified quantization range.\")");
  if (range.qmin > 0 || range.qmax < 0)
    return detail::error(StatusCode::kInvalidRange, what, " range [", range.qmin, ", ", range.qmax,
                         "] does not include 0; expected qmin <= 0 <= qmax (PyTorch 1.13: \"Used-specified "
                         "quantization range must include 0.\")");
  return Status::ok();
}

}  // namespace eigenq
