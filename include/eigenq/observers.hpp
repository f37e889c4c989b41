#pragma once
/// \file
/// Calibration: observers that stream batches of float activations and
/// choose scale and zero point from what they saw.
///
///     eigenq::HistogramObserver<int8_t> obs;            // full int8 range, affine
///     for (const auto& batch : batches) EIGENQ_RETURN_IF_ERROR(obs.observe(batch.data(), batch_shape));
///     eigenq::QParams l2, p9999, mse;
///     EIGENQ_RETURN_IF_ERROR(obs.qparams(&l2));                    // PyTorch's L2 search
///     EIGENQ_RETURN_IF_ERROR(obs.percentile_qparams(99.99, &p9999));
///     EIGENQ_RETURN_IF_ERROR(obs.mse_qparams(&mse));
///
/// - `MinMaxObserver`: the running min and max (PyTorch's MinMaxObserver and
///   PerChannelMinMaxObserver), per tensor or per group on any axis.
/// - `MovingAverageMinMaxObserver`: the moving average of each batch's min
///   and max (PyTorch's MovingAverage[PerChannel]MinMaxObserver); the QAT
///   observer of qat/observer.hpp, shared.
/// - `HistogramObserver`: PyTorch's HistogramObserver (2048 bins, histograms
///   merged on a common grid as the range grows), with three ways to clip:
///   PyTorch's L2-minimizing `_non_linear_param_search`, percentiles, and a
///   GPTQ-style grid search over shrunk ranges minimizing the quantization
///   error.
///
/// Every observer turns a range into parameters with `choose_qparams`
/// (qparams.hpp, PyTorch's rules) for the storage type Q, range and symmetry
/// it was built with: affine or symmetric, full, narrow, reduce_range or any
/// custom range. Unlike PyTorch, NaN elements are skipped (PyTorch's aminmax
/// propagates them into the range for good).
///
/// PyTorch 1.13's HistogramObserver passes int(min) and int(max) to
/// torch.histc, so each batch is binned over its range truncated to integers
/// (over the batch's own range when both truncate to the same integer, as
/// histc does when min == max) while the observer records, and the search
/// assumes, the float range: values outside the truncated range are dropped
/// and the bins do not line up with the recorded range. Other PyTorch
/// versions pass the float bounds. `HistogramBounds::kTorch113` reproduces
/// 1.13 (checked against it, tests/conformance/gen_observers.py);
/// `HistogramBounds::kExact`, the default, bins over the float range.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "eigen_matrix.hpp"
#include "params.hpp"
#include "qat/observer.hpp"
#include "qat/tf_fake_quant.hpp"
#include "qparams.hpp"
#include "slices.hpp"
#include "status.hpp"

namespace eigenq {

/// A float interval [min, max]: the clipping range an observer chooses.
/// (`QuantRange`, alias `Range`, is the integer range [qmin, qmax].)
struct FloatRange {
  float min = 0.0f;
  float max = 0.0f;
};

using ClipRange [[deprecated("renamed eigenq::FloatRange (a float [min, max]; QuantRange is the integer one)")]] =
    FloatRange;

namespace detail {

template <class Q>
Status per_tensor_qparams(FloatRange r, Range range, Symmetry symmetry, float eps, QParams* out) {
  const AffineParams a = choose_qparams<Q>(r.min, r.max, range, symmetry, eps);
  EIGENQ_RETURN_IF_ERROR(check_chosen(r.min, r.max, a, range, 0));
  *out = QParams::per_tensor(a.scale, a.zero_point, range);
  return Status::ok();
}

}  // namespace detail

// ---------------------------------------------------------------------------
// Min/max

/// The running min and max of every parameter group, over all batches.
template <class Q>
class MinMaxObserver {
 public:
  /// `layout` groups the elements (per_tensor_layout(), per_axis_layout(a),
  /// blocked_layout(a, b), per_element_layout()); `eps` is the smallest
  /// scale chosen (PyTorch's `eps`).
  explicit MinMaxObserver(ParamLayout layout = per_tensor_layout(), Range range = Range::full<Q>(),
                          Symmetry symmetry = Symmetry::kAffine, float eps = kScaleEpsilon)
      : layout_(layout), range_(range), symmetry_(symmetry), eps_(eps) {}

  /// Widens the running range with one batch. Fails, changing nothing, on a
  /// bad layout, range or eps, or when the number of groups differs from the
  /// previous batches'. Empty batches are skipped.
  Status observe(const float* x, const Shape& shape) { return observe(x, shape, SerialExecutor{}); }
  /// The same on an executor (parallel.hpp; see `compute_min_max`): the
  /// same bits at every thread count.
  template <class Exec>
  Status observe(const float* x, const Shape& shape, Exec&& exec) {
    EIGENQ_RETURN_IF_ERROR(check());
    MinMax batch;
    EIGENQ_RETURN_IF_ERROR(compute_min_max(x, shape, layout_, &batch, exec));
    return add(std::move(batch), shape);
  }
  /// float16 / bfloat16 batches (half.hpp): the batch of their widened
  /// values, as raw bits (`observe<BFloat16>(bits, shape)`) or
  /// Eigen::half / Eigen::bfloat16.
  template <class Format>
  Status observe(const std::uint16_t* x, const Shape& shape) {
    EIGENQ_RETURN_IF_ERROR(check());
    MinMax batch;
    EIGENQ_RETURN_IF_ERROR(compute_min_max<Format>(x, shape, layout_, &batch));
    return add(std::move(batch), shape);
  }
  template <class H, class Format = half_format_t<H>>
  Status observe(const H* x, const Shape& shape) {
    return observe<Format>(detail::half_bits(x), shape);
  }

 private:
  Status check() const {
    EIGENQ_RETURN_IF_ERROR(check_observer_range<Q>(range_, "observer"));
    return check_eps(eps_);
  }
  // Widens the running range with a batch's.
  Status add(MinMax batch, const Shape& shape) {
    if (shape.size() == 0) return Status::ok();
    if (!initialized_) {
      mm_ = std::move(batch);
      initialized_ = true;
      return Status::ok();
    }
    if (batch.min.size() != mm_.min.size())
      return detail::error(StatusCode::kShapeMismatch, "observer has ", mm_.min.size(), " groups, this batch has ",
                           batch.min.size());
    for (std::size_t k = 0; k < mm_.min.size(); ++k) {
      mm_.min[k] = std::min(mm_.min[k], batch.min[k]);
      mm_.max[k] = std::max(mm_.max[k], batch.max[k]);
    }
    return Status::ok();
  }

 public:
  /// Eigen objects and expressions: throws `eigenq::Error`; with
  /// `std::nothrow`, returns the Status instead.
  template <class In>
  void observe(const In& x) {
    detail::raise_if_error(detail::observe_eigen(*this, x));
  }
  template <class In>
  Status observe(const In& x, std::nothrow_t) {
    return detail::observe_eigen(*this, x);
  }

  bool initialized() const { return initialized_; }
  void reset() {
    initialized_ = false;
    mm_ = MinMax{};
  }
  const std::vector<float>& min() const { return mm_.min; }
  const std::vector<float>& max() const { return mm_.max; }
  const ParamLayout& layout() const { return layout_; }
  Range range() const { return range_; }
  Symmetry symmetry() const { return symmetry_; }
  float eps() const { return eps_; }

  /// Scale and zero point of every group. An error before the first batch,
  /// and when a group's range gives no usable scale (an infinite element,
  /// or a range wider than float32).
  Status qparams(QParams* out) const {
    if (!initialized_)
      return detail::error(StatusCode::kInvalidArgument, "observer has seen no data yet, so it has no parameters");
    return qparams_from_min_max<Q>(mm_, layout_, range_, symmetry_, out, eps_);
  }
  QParams qparams() const {
    QParams p;
    detail::raise_if_error(qparams(&p));
    return p;
  }

 private:
  ParamLayout layout_;
  Range range_;
  Symmetry symmetry_;
  float eps_;
  bool initialized_ = false;
  MinMax mm_;
};

/// Moving-average min/max (c = 0.01 by default), per tensor or per group:
/// the QAT observer, whose arithmetic is PyTorch's (float32).
template <class Q>
using MovingAverageMinMaxObserver = MovingAverageMinMax<Q>;

// ---------------------------------------------------------------------------
// Histogram

/// The bounds each batch is binned over (see the file comment).
enum class HistogramBounds {
  kExact,     ///< the observed float range
  kTorch113,  ///< int(min), int(max) as PyTorch 1.13 passes them to histc
};

struct HistogramOptions {
  int bins = 2048;          ///< PyTorch's default
  int upsample_rate = 128;  ///< grid refinement when merging histograms
  HistogramBounds bounds = HistogramBounds::kExact;
};

/// The grid search over clipping ranges: candidates [p * min', p * max']
/// for p = 1 - i / grid, i = 0 .. max_shrink * grid - 1, with min' = min(min, 0)
/// and max' = max(max, 0), as GPTQ's Quantizer.find_params(mse=True) does;
/// the one whose quantization error sum |q(x) - x|^norm over the histogram
/// is smallest wins (GPTQ uses norm 2.4; 2 is the mean squared error).
struct MseSearch {
  int grid = 100;
  double max_shrink = 0.8;
  double norm = 2.0;
};

namespace detail {

/// c10::div_floor_floating (torch.div(a, b, rounding_mode='floor')) in float32.
inline float torch_div_floor(float a, float b) {
  if (b == 0.0f) return a / b;
  const float mod = std::fmod(a, b);
  float div = (a - mod) / b;
  if (mod != 0.0f && (b < 0.0f) != (mod < 0.0f)) div -= 1.0f;
  if (div == 0.0f) return std::copysign(0.0f, a / b);
  float floordiv = std::floor(div);
  if (div - floordiv > 0.5f) floordiv += 1.0f;
  return floordiv;
}

/// The bin of v in [left, right]: int((v - left) * bins / (right - left))
/// in float32, as torch.histc computes it, the last bin closed. Where that
/// arithmetic overflows (a span above 3.4e38, or (v - left) * bins above it:
/// batches spanning more than ~1.7e35 at 2048 bins) PyTorch converts inf or
/// NaN to int64, which is undefined; the position is then computed in
/// double, and a zero-width span (bounds too large for +-1 to widen them)
/// puts everything in bin 0.
inline std::int64_t histc_bin(float v, float left, float right, int bins) {
  const float span = right - left;
  const float q = (v - left) * static_cast<float>(bins) / span;
  double pos = q;
  if (!(std::isfinite(span) && q >= 0.0f && q <= static_cast<float>(bins))) {
    const double exact_span = static_cast<double>(right) - left;
    pos = exact_span > 0.0 ? (static_cast<double>(v) - left) * bins / exact_span : 0.0;
  }
  return std::min(static_cast<std::int64_t>(pos), std::int64_t{bins} - 1);
}

/// torch.histc(x, bins, lo, hi) on the CPU: bounds equal -> the data's own
/// range, still equal -> widened by 1 each way; elements outside the bounds
/// (and NaN) skipped; each element counted in `histc_bin`.
/// torch.histc's bounds: equal ones replaced by the data's own range, still
/// equal ones widened by 1 each way; as float.
struct HistcBounds {
  float left, right;
};
inline HistcBounds torch_histc_bounds(const float* x, std::size_t n, double lo, double hi) {
  if (lo == hi) {
    float mn = std::numeric_limits<float>::infinity(), mx = -mn;
    for (std::size_t i = 0; i < n; ++i) {
      mn = x[i] < mn ? x[i] : mn;
      mx = x[i] > mx ? x[i] : mx;
    }
    if (mn <= mx) lo = mn, hi = mx;
  }
  if (lo == hi) lo -= 1.0, hi += 1.0;
  return {static_cast<float>(lo), static_cast<float>(hi)};
}

inline std::vector<float> torch_histc(const float* x, std::size_t n, int bins, double lo, double hi) {
  const auto [left, right] = torch_histc_bounds(x, n, lo, hi);
  std::vector<float> h(static_cast<std::size_t>(bins), 0.0f);
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (v >= left && v <= right) h[static_cast<std::size_t>(histc_bin(v, left, right, bins))] += 1.0f;
  }
  return h;
}

/// torch_histc on an executor: above one grain (kParallelGrain elements),
/// each slice of that many elements is counted on its own and the counts are
/// added in slice order. Counts in a slice are exact in float32, and so are
/// their sums below 2^24 per bin: the result is the serial one's wherever
/// that one is exact, and the same at every thread count.
template <class Exec>
std::vector<float> torch_histc(const float* x, std::size_t n, int bins, double lo, double hi, Exec&& exec,
                               std::vector<float>* scratch) {
  const auto size = static_cast<std::int64_t>(n);
  if (size <= kParallelGrain) return torch_histc(x, n, bins, lo, hi);
  const HistcBounds bounds = torch_histc_bounds(x, n, lo, hi);
  const float left = bounds.left, right = bounds.right;  // plain names: the task's lambda captures them
  const std::int64_t slices = ceil_div(size, kParallelGrain);
  const auto b = static_cast<std::size_t>(bins);
  scratch->assign(static_cast<std::size_t>(slices) * b, 0.0f);
  float* counts = scratch->data();
  exec.parallel_for(slices, [=](std::int64_t c) {
    float* h = counts + static_cast<std::size_t>(c) * b;
    const std::int64_t end = std::min(size, (c + 1) * kParallelGrain);
    for (std::int64_t i = c * kParallelGrain; i < end; ++i) {
      const float v = x[i];
      if (v >= left && v <= right) h[static_cast<std::size_t>(histc_bin(v, left, right, bins))] += 1.0f;
    }
  });
  std::vector<float> h(counts, counts + b);
  for (std::int64_t c = 1; c < slices; ++c)
    for (std::size_t k = 0; k < b; ++k) h[k] += counts[static_cast<std::size_t>(c) * b + k];
  return h;
}

/// The min and max of x[0, n) skipping NaN (the first of equal values
/// kept), and the index of the first infinite element (n when none), over
/// slices of kParallelGrain elements combined in order: the serial loop's
/// result at every thread count.
struct ScanResult {
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();
  std::size_t first_infinite = 0;
};

inline ScanResult scan_slice(const float* x, std::size_t from, std::size_t to) {
  // Locals, not the result's members: a member kept in memory across the
  // loop (its address escapes) costs a store and a reload per element.
  float mn = std::numeric_limits<float>::infinity(), mx = -mn;
  for (std::size_t i = from; i < to; ++i) {
    if (!std::isfinite(x[i]) && !std::isnan(x[i])) return {mn, mx, i};
    mn = x[i] < mn ? x[i] : mn;
    mx = x[i] > mx ? x[i] : mx;
  }
  return {mn, mx, to};
}

template <class Exec>
ScanResult scan(const float* x, std::size_t n, Exec&& exec, std::vector<ScanResult>* scratch) {
  const auto size = static_cast<std::int64_t>(n);
  if (size <= kParallelGrain || exec.threads() <= 1) return scan_slice(x, 0, n);
  const std::int64_t slices = ceil_div(size, kParallelGrain);
  scratch->assign(static_cast<std::size_t>(slices), ScanResult{});
  ScanResult* parts = scratch->data();
  exec.parallel_for(slices, [=](std::int64_t c) {
    const auto from = static_cast<std::size_t>(c * kParallelGrain);
    parts[c] = scan_slice(x, from, std::min(n, from + static_cast<std::size_t>(kParallelGrain)));
  });
  ScanResult r;
  r.first_infinite = n;
  for (std::int64_t c = 0; c < slices; ++c) {
    const ScanResult& p = parts[c];
    if (p.first_infinite != std::min(n, static_cast<std::size_t>((c + 1) * kParallelGrain))) {
      r.first_infinite = p.first_infinite;
      return r;
    }
    r.min = p.min < r.min ? p.min : r.min;
    r.max = p.max > r.max ? p.max : r.max;
  }
  return r;
}

}  // namespace detail

/// PyTorch's HistogramObserver, per tensor, for storage type Q: the
/// histogram of everything observed over [min, max], merged batch by batch.
/// The float arithmetic follows PyTorch's (float32 tensors, double where
/// PyTorch uses Python floats); the L2 search sums its error terms in double
/// where PyTorch sums in float32, so a near-tie between two candidate ranges
/// can be decided differently.
template <class Q>
class HistogramObserver {
 public:
  /// `eps` is the smallest scale chosen (PyTorch's `eps`).
  explicit HistogramObserver(Range range = Range::full<Q>(), Symmetry symmetry = Symmetry::kAffine,
                             HistogramOptions options = {}, float eps = kScaleEpsilon)
      : range_(range), symmetry_(symmetry), options_(options), eps_(eps) {}

  /// Adds one batch (any shape: the histogram is per tensor). Empty batches
  /// and NaN elements are skipped; infinite ones are refused.
  Status observe(const float* x, std::size_t n) { return observe(x, n, SerialExecutor{}); }
  /// The same on an executor (parallel.hpp): the batch is scanned and
  /// counted in slices of 64Ki elements whose results are combined in order,
  /// so the histogram is the same at every thread count, and the serial
  /// one's (which counts the same slices) bit for bit.
  template <class Exec>
  Status observe(const float* x, std::size_t n, Exec&& exec) {
    EIGENQ_RETURN_IF_ERROR(check_observer_range<Q>(range_, "observer"));
    EIGENQ_RETURN_IF_ERROR(check_eps(eps_));
    if (options_.bins < 1 || options_.upsample_rate < 1)
      return detail::error(StatusCode::kInvalidArgument, "histogram bins = ", options_.bins,
                           " and upsample_rate = ", options_.upsample_rate, " must be >= 1");
    if (n > 0 && x == nullptr)
      return detail::error(StatusCode::kInvalidArgument, "x is a null pointer, but the batch has ", n, " elements");
    std::vector<detail::ScanResult> parts;
    const detail::ScanResult seen = detail::scan(x, n, exec, &parts);
    if (seen.first_infinite < n)
      return detail::error(StatusCode::kInvalidArgument, "element ", seen.first_infinite, " = ", x[seen.first_infinite],
                           ": a histogram needs finite values");
    const float mn = seen.min, mx = seen.max;
    if (!(mn <= mx)) return Status::ok();  // empty or all NaN
    std::vector<float> counts;
    const int bins = options_.bins;
    if (!initialized_ || min_ == max_) {  // PyTorch starts over after a batch of one value
      min_ = mn;
      max_ = mx;
      hist_ = detail::torch_histc(x, n, bins, bound(mn), bound(mx), exec, &counts);
      initialized_ = true;
      return Status::ok();
    }
    // Grow the range so the old histogram's upsampled grid divides it.
    const float combined_min = std::min(mn, min_);
    float combined_max = std::max(mx, max_);
    const std::int64_t up = options_.upsample_rate;
    const float fine = (max_ - min_) / static_cast<float>(bins * up);
    const float coarse = static_cast<float>(bins) * fine;
    const float span = combined_max - combined_min;
    const float ratio = span / coarse;
    // The fine grid's cell indices (up to ratio * bins * up) must fit int64.
    if (!(ratio <= 0x1p40f && static_cast<double>(ratio) * bins * static_cast<double>(up) <= 0x1p62))
      return restart_around_point(x, n, combined_min, combined_max);
    const auto downsample = static_cast<std::int64_t>(std::ceil(ratio));
    combined_max = combined_max + (detail::opaque(static_cast<float>(downsample) * coarse) - span);
    const auto start = static_cast<std::int64_t>(std::nearbyint((min_ - combined_min) / fine));

    std::vector<float> combined =
        detail::torch_histc(x, n, bins, bound(combined_min), bound(combined_max), exec, &counts);
    if (combined_min == min_ && combined_max == max_) {
      for (std::size_t b = 0; b < combined.size(); ++b) combined[b] += hist_[b];
    } else {
      merge(&combined, up, downsample, start);
    }
    hist_ = std::move(combined);
    min_ = combined_min;
    max_ = combined_max;
    return Status::ok();
  }
  Status observe(const float* x, const Shape& shape) {
    EIGENQ_RETURN_IF_ERROR(check_shape(shape));
    return observe(x, static_cast<std::size_t>(shape.size()));
  }
  template <class Exec>
  Status observe(const float* x, const Shape& shape, Exec&& exec) {
    EIGENQ_RETURN_IF_ERROR(check_shape(shape));
    return observe(x, static_cast<std::size_t>(shape.size()), exec);
  }
  /// Eigen objects and expressions: throws `eigenq::Error`; with
  /// `std::nothrow`, returns the Status instead.
  template <class In>
  void observe(const In& x) {
    detail::raise_if_error(detail::observe_eigen(*this, x));
  }
  template <class In>
  Status observe(const In& x, std::nothrow_t) {
    return detail::observe_eigen(*this, x);
  }

  bool initialized() const { return initialized_; }
  void reset() {
    initialized_ = false;
    hist_.clear();
  }
  float min() const { return min_; }
  float max() const { return max_; }
  const std::vector<float>& histogram() const { return hist_; }
  const HistogramOptions& options() const { return options_; }
  Range range() const { return range_; }
  Symmetry symmetry() const { return symmetry_; }
  float eps() const { return eps_; }

  /// PyTorch's _non_linear_param_search: moves the lower or upper bound in
  /// by one quantile step (1e-5) at a time, whichever cuts more bins, while
  /// the L2 error of quantizing the histogram to 2^(8 sizeof(Q)) levels over
  /// the shrunk range keeps decreasing.
  Status l2_range(FloatRange* out) const {
    EIGENQ_RETURN_IF_ERROR(check_initialized());
    const int bins = options_.bins;
    const int dst_bins = 1 << (8 * sizeof(Q) > 16 ? 16 : 8 * sizeof(Q));
    const float bin_width = (max_ - min_) / static_cast<float>(bins);
    double exact = 0.0;
    std::vector<float> cumulative(hist_.size());
    for (std::size_t b = 0; b < hist_.size(); ++b) {
      exact += hist_[b];
      cumulative[b] = static_cast<float>(exact);  // cumsum accumulates in double, stores float32
    }
    const double total = static_cast<float>(exact);  // torch.sum(histogram).item()
    const double step = 1e-5;
    double alpha = 0.0, beta = 1.0, norm_min = std::numeric_limits<double>::infinity();
    int start = 0, end = bins - 1;
    while (alpha < beta) {
      const double next_alpha = alpha + step, next_beta = beta - step;
      // cSum[l] < next_alpha * total compares in float32.
      const float lo_target = static_cast<float>(next_alpha * total), hi_target = static_cast<float>(next_beta * total);
      int l = start, r = end;
      while (l < end && cumulative[static_cast<std::size_t>(l)] < lo_target) ++l;
      while (r > start && cumulative[static_cast<std::size_t>(r)] > hi_target) --r;
      int next_start = start, next_end = end;
      if (l - start > end - r) {
        next_start = l;
        alpha = next_alpha;
      } else {
        next_end = r;
        beta = next_beta;
      }
      if (next_start == start && next_end == end) continue;
      const double norm = l2_error(next_start, next_end, dst_bins);
      if (!std::isfinite(norm))
        return detail::error(StatusCode::kInvalidArgument, "L2 search: the quantization error over [", min_, ", ", max_,
                             "] overflows float32 (PyTorch's arithmetic); use percentile_qparams or mse_qparams");
      if (norm > norm_min) break;
      norm_min = norm;
      start = next_start;
      end = next_end;
    }
    out->min = min_ + detail::opaque(bin_width * static_cast<float>(start));
    out->max = min_ + detail::opaque(bin_width * static_cast<float>(end + 1));
    return Status::ok();
  }

  /// [value at (100 - percentile)%, value at percentile%] of the observed
  /// distribution, interpolated linearly inside a bin: both tails lose
  /// (100 - percentile)% of the elements. percentile in [50, 100].
  Status percentile_range(double percentile, FloatRange* out) const {
    EIGENQ_RETURN_IF_ERROR(check_initialized());
    EIGENQ_RETURN_IF_ERROR(check_exact_bounds("percentile"));
    if (!(percentile >= 50.0 && percentile <= 100.0))
      return detail::error(StatusCode::kInvalidArgument, "percentile = ", percentile, " must be in [50, 100]");
    double total = 0.0;
    for (float c : hist_) total += c;
    out->min = value_at(total * (1.0 - percentile / 100.0));
    out->max = value_at(total * (percentile / 100.0));
    if (percentile == 100.0) *out = {min_, max_};
    return Status::ok();
  }

  /// The GPTQ-style grid search (see `MseSearch`), with this observer's
  /// range and symmetry; the error of each candidate is integrated over the
  /// histogram, elements spread uniformly inside each bin.
  Status mse_range(FloatRange* out, const MseSearch& search = {}) const {
    EIGENQ_RETURN_IF_ERROR(check_initialized());
    EIGENQ_RETURN_IF_ERROR(check_exact_bounds("MSE"));
    if (search.grid < 1 || !(search.max_shrink > 0.0 && search.max_shrink <= 1.0) || !(search.norm > 0.0))
      return detail::error(StatusCode::kInvalidArgument, "MSE search grid = ", search.grid,
                           ", max_shrink = ", search.max_shrink, ", norm = ", search.norm,
                           ": need grid >= 1, 0 < max_shrink <= 1, norm > 0");
    const float lo = std::min(min_, 0.0f), hi = std::max(max_, 0.0f);
    const int candidates = static_cast<int>(search.max_shrink * search.grid);
    double best = std::numeric_limits<double>::infinity();
    *out = {lo, hi};
    for (int i = 0; i < std::max(candidates, 1); ++i) {
      const double p = 1.0 - static_cast<double>(i) / search.grid;
      const FloatRange c{static_cast<float>(p * lo), static_cast<float>(p * hi)};
      const AffineParams a = choose_qparams<Q>(c.min, c.max, range_, symmetry_, eps_);
      const double err = histogram_error(a, search.norm);
      if (err < best) {
        best = err;
        *out = c;
      }
    }
    return Status::ok();
  }

  /// PyTorch's calculate_qparams: the L2 range through choose_qparams. An
  /// error before the first batch (PyTorch returns scale 1, zero point 0).
  Status qparams(QParams* out) const {
    FloatRange r;
    EIGENQ_RETURN_IF_ERROR(l2_range(&r));
    return detail::per_tensor_qparams<Q>(r, range_, symmetry_, eps_, out);
  }
  Status percentile_qparams(double percentile, QParams* out) const {
    FloatRange r;
    EIGENQ_RETURN_IF_ERROR(percentile_range(percentile, &r));
    return detail::per_tensor_qparams<Q>(r, range_, symmetry_, eps_, out);
  }
  Status mse_qparams(QParams* out, const MseSearch& search = {}) const {
    FloatRange r;
    EIGENQ_RETURN_IF_ERROR(mse_range(&r, search));
    return detail::per_tensor_qparams<Q>(r, range_, symmetry_, eps_, out);
  }
  /// The observed [min, max] through choose_qparams (no clipping).
  Status min_max_qparams(QParams* out) const {
    EIGENQ_RETURN_IF_ERROR(check_initialized());
    return detail::per_tensor_qparams<Q>({min_, max_}, range_, symmetry_, eps_, out);
  }

 private:
  double bound(float v) const {
    return options_.bounds == HistogramBounds::kTorch113 ? std::trunc(static_cast<double>(v)) : v;
  }

  // The old range is too narrow for a common grid with the new one (its fine
  // grid underflows, or is 2^40 times finer): PyTorch would fail or allocate
  // without bound. Its elements are then counted as one point at its
  // minimum, binned into the histogram over the combined range.
  Status restart_around_point(const float* x, std::size_t n, float combined_min, float combined_max) {
    double old = 0.0;
    for (float c : hist_) old += c;
    std::vector<float> combined = detail::torch_histc(x, n, options_.bins, bound(combined_min), bound(combined_max));
    const float point = min_;
    std::vector<float> moved = detail::torch_histc(&point, 1, options_.bins, bound(combined_min), bound(combined_max));
    for (std::size_t b = 0; b < combined.size(); ++b) combined[b] += detail::opaque(moved[b] * static_cast<float>(old));
    hist_ = std::move(combined);
    min_ = combined_min;
    max_ = combined_max;
    return Status::ok();
  }

  Status check_initialized() const {
    if (!initialized_) return detail::error(StatusCode::kInvalidArgument, "histogram observer has seen no data yet");
    return Status::ok();
  }
  Status check_exact_bounds(const char* what) const {
    if (options_.bounds != HistogramBounds::kExact)
      return detail::error(StatusCode::kInvalidArgument, what,
                           " search needs HistogramBounds::kExact: PyTorch 1.13's integer histogram bounds do not "
                           "match the recorded range");
    return Status::ok();
  }

  // PyTorch's _combine_histograms: the old histogram spread evenly over
  // `up` fine cells per bin, placed at `start` on the fine grid of the
  // combined range, summed over every `downsample` fine cells, added to the
  // new batch's histogram. The cumulative sums are computed in closed form
  // (PyTorch materializes bins * downsample cells); both are exact in double.
  void merge(std::vector<float>* combined, std::int64_t up, std::int64_t downsample, std::int64_t start) const {
    const std::int64_t bins = options_.bins;
    std::vector<double> prefix(hist_.size() + 1, 0.0);
    for (std::size_t j = 0; j < hist_.size(); ++j) prefix[j + 1] = prefix[j] + hist_[j];
    auto cumulative = [&](std::int64_t cell) {  // sum of fine cells [0, cell]
      const std::int64_t covered = std::min(cell - start + 1, bins * up);
      if (covered <= 0) return 0.0;
      const std::int64_t j = covered / up, rest = covered % up;
      const auto b = static_cast<std::size_t>(j);
      return detail::opaque(static_cast<double>(up) * prefix[b]) +
             (j < bins ? detail::opaque(static_cast<double>(rest) * hist_[b]) : 0.0);
    };
    float previous = 0.0f;  // PyTorch's shifted integral is a float32 tensor
    for (std::int64_t k = 0; k < bins; ++k) {
      const double integral = cumulative((k + 1) * downsample - 1);
      (*combined)[static_cast<std::size_t>(k)] += static_cast<float>((integral - previous) / static_cast<double>(up));
      previous = static_cast<float>(integral);
    }
  }

  // PyTorch's _compute_quantization_error, float32 where PyTorch uses
  // float32 tensors; the final sum in double. PyTorch rounds every tensor
  // operation, so every product that feeds an addition is rounded first
  // (detail::opaque), whatever the contraction flags.
  double l2_error(int next_start, int next_end, int dst_bins) const {
    using detail::opaque;
    const int bins = options_.bins;
    const double bin_width = (static_cast<double>(max_) - static_cast<double>(min_)) / bins;
    const double dst_width = bin_width * (next_end - next_start + 1) / dst_bins;
    if (dst_width == 0.0) return 0.0;
    const float width = static_cast<float>(bin_width), dst = static_cast<float>(dst_width);
    const float half = static_cast<float>(dst_width / 2), neg_half = static_cast<float>(-dst_width / 2);
    const float last = static_cast<float>(dst_bins - 1);
    const float half_cube = opaque(half * half * half), neg_half_cube = opaque(neg_half * neg_half * neg_half);
    const float whole = (half_cube - neg_half_cube) / 3.0f;  // one whole destination bin
    double sum = 0.0;
    for (int i = 0; i < bins; ++i) {
      const float begin = opaque(static_cast<float>(i - next_start) * width);
      const float end = begin + width;
      const float dst_of_begin = std::clamp(detail::torch_div_floor(begin, dst), 0.0f, last);
      const float dst_of_end = std::clamp(detail::torch_div_floor(end, dst), 0.0f, last);
      const float density = hist_[static_cast<std::size_t>(i)] / width;
      const float delta_begin = begin - opaque((dst_of_begin + 0.5f) * dst);
      float norm = opaque(density * ((half_cube - opaque(delta_begin * delta_begin * delta_begin)) / 3.0f));
      norm += opaque((dst_of_end - dst_of_begin - 1.0f) * (density * whole));
      const float delta_end = end - (opaque(dst_of_end * dst) + half);
      norm += opaque(density * ((opaque(delta_end * delta_end * delta_end) - neg_half_cube) / 3.0f));
      sum += norm;
    }
    return static_cast<float>(sum);
  }

  // The value below which `target` elements lie, linear inside a bin.
  float value_at(double target) const {
    const double width = (static_cast<double>(max_) - min_) / options_.bins;
    double below = 0.0;
    for (std::size_t b = 0; b < hist_.size(); ++b) {
      if (below + hist_[b] >= target && hist_[b] > 0.0f) {
        const double fraction = std::clamp((target - below) / hist_[b], 0.0, 1.0);
        return static_cast<float>(min_ + detail::opaque((static_cast<double>(b) + fraction) * width));
      }
      below += hist_[b];
    }
    return max_;
  }

  // sum over bins of the integral of |fake_quantize(x) - x|^norm, with the
  // bin's elements uniform over it (a bin of zero width: all at its value).
  double histogram_error(const AffineParams& a, double norm) const {
    const double s = a.scale, zp = a.zero_point, width = (static_cast<double>(max_) - min_) / options_.bins;
    const double qmin = range_.qmin, qmax = range_.qmax;
    using detail::opaque;
    auto level = [&](double x) { return std::clamp(std::floor(x / s + 0.5) + zp, qmin, qmax); };
    auto antiderivative = [&](double u) {  // of |u|^norm
      return std::copysign(std::pow(std::fabs(u), norm + 1.0) / (norm + 1.0), u);
    };
    double total = 0.0;
    for (std::size_t b = 0; b < hist_.size(); ++b) {
      if (hist_[b] == 0.0f) continue;
      const double lo = min_ + opaque(static_cast<double>(b) * width), hi = lo + width;
      if (width == 0.0) {
        total += opaque(hist_[b] * std::pow(std::fabs(opaque((level(lo) - zp) * s) - lo), norm));
        continue;
      }
      const double density = hist_[b] / width;
      double x0 = lo;
      for (double k = level(lo), k_end = level(hi); k <= k_end; k += 1.0) {
        const double x1 = k == k_end ? hi : std::min(hi, (k - zp + 0.5) * s);
        const double v = opaque((k - zp) * s);
        total += opaque(density * (antiderivative(x1 - v) - antiderivative(x0 - v)));
        x0 = x1;
      }
    }
    return total;
  }

  Range range_;
  Symmetry symmetry_;
  HistogramOptions options_;
  float eps_;
  bool initialized_ = false;
  float min_ = 0.0f, max_ = 0.0f;
  std::vector<float> hist_;
};

// ---------------------------------------------------------------------------
// TensorFlow's nudged range

/// TensorFlow's nudged min/max (fake_quant_with_min_max_*; the same Nudge
/// TFLite's converter and kernels use) as scale and zero point in
/// choose_qparams' form: the arithmetic is tf::nudge's (qat/tf_fake_quant.hpp).
/// TensorFlow's range is [narrow_range ? 1 : 0, 2^num_bits - 1]; for a signed
/// Q it is shifted down by 2^(num_bits - 1), zero point included, as TFLite
/// stores int8 (uint8 zero point 128 -> int8 0). Needs finite min < max.
template <class Q>
Status tf_nudged_qparams(float min, float max, int num_bits, bool narrow_range, QParams* out) {
  EIGENQ_RETURN_IF_ERROR(tf::check_num_bits(num_bits));
  EIGENQ_RETURN_IF_ERROR(tf::check_min_max(min, max, tf::Op::kArgs, 0));
  const tf::Nudged n = tf::nudge(min, max, num_bits, narrow_range);
  const std::int32_t offset = std::is_signed_v<Q> ? -(std::int32_t{1} << (num_bits - 1)) : 0;
  const Range tf_range = tf::range(num_bits, narrow_range);
  const Range range{tf_range.qmin + offset, tf_range.qmax + offset};
  EIGENQ_RETURN_IF_ERROR(check_range<Q>(range));
  *out = QParams::per_tensor(n.scale, n.zero_point + offset, range);
  return Status::ok();
}

}  // namespace eigenq
