#pragma once
/// \file
/// What quantization-aware training needs from observers: a moving-average
/// min/max that sets the fake-quant parameters at every training step, and
/// the fake-quant layer that combines the two (PyTorch's
/// `torch.ao.quantization.FakeQuantize` with `MovingAverageMinMaxObserver` or
/// `MovingAveragePerChannelMinMaxObserver`).
///
/// Moving average, as PyTorch computes it in float32 (c = 0.01 by default):
///
///     first batch:  min = batch_min,                  max = batch_max
///     later:        min = min + c * (batch_min - min), max = max + c * (batch_max - max)
///
/// per parameter group (per tensor, per axis, and also blocked or per
/// element), then scale and zero point by `choose_qparams` (PyTorch's
/// rules, qparams.hpp). Unlike PyTorch, NaN elements are skipped (PyTorch's
/// aminmax propagates NaN into the running range for good); a group with no
/// other element counts as [0, 0]. Also unlike PyTorch, which accepts them
/// and poisons its range: a batch holding +-inf is refused (one infinite
/// element would make the range inf, then NaN at the next batch, for good),
/// an empty batch is skipped (as MinMaxObserver does; PyTorch pulls the
/// range toward 0), and c must be in [0, 1]. Where batch_min - min
/// overflows float32 the step is computed in double, so the range stays
/// finite.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <new>
#include <utility>
#include <vector>

#include "../eigen_matrix.hpp"
#include "../qparams.hpp"
#include "ste.hpp"

namespace eigenq {

/// Moving-average min/max for QAT, per tensor or per parameter group.
/// Q is the storage type the parameters are chosen for.
template <class Q>
class MovingAverageMinMax {
 public:
  static constexpr float kDefaultAveragingConstant = 0.01f;

  /// `layout` groups the elements (per_tensor_layout(), per_axis_layout(a),
  /// ...); `eps` is the smallest scale chosen (PyTorch's `eps`).
  explicit MovingAverageMinMax(ParamLayout layout = per_tensor_layout(), Range range = Range::full<Q>(),
                               Symmetry symmetry = Symmetry::kAffine,
                               float averaging_constant = kDefaultAveragingConstant, float eps = kScaleEpsilon)
      : layout_(layout), range_(range), symmetry_(symmetry), averaging_constant_(averaging_constant), eps_(eps) {}

  /// Updates the running range with one batch. Fails, changing nothing, on a
  /// bad range, layout, eps or averaging constant, an infinite element, or
  /// when the number of groups differs from the previous batches'. Empty
  /// batches are skipped.
  Status observe(const float* x, const Shape& shape) { return observe(x, shape, SerialExecutor{}); }
  /// The same on an executor (parallel.hpp; see `compute_min_max`): the
  /// same bits at every thread count.
  template <class Exec>
  Status observe(const float* x, const Shape& shape, Exec&& exec) {
    EIGENQ_RETURN_IF_ERROR(check_observer_range<Q>(range_, "observer"));
    EIGENQ_RETURN_IF_ERROR(check_eps(eps_));
    if (!(averaging_constant_ >= 0.0f && averaging_constant_ <= 1.0f))
      return detail::error(StatusCode::kInvalidArgument, "averaging_constant = ", averaging_constant_,
                           " must be in [0, 1]");
    MinMax batch;
    EIGENQ_RETURN_IF_ERROR(compute_min_max(x, shape, layout_, &batch, exec));
    if (shape.size() == 0) return Status::ok();
    for (std::size_t k = 0; k < batch.min.size(); ++k)
      if (std::isinf(batch.min[k]) || std::isinf(batch.max[k]))
        return detail::error(StatusCode::kInvalidArgument, "batch range of parameter ", k, " is [", batch.min[k], ", ",
                             batch.max[k], "]: a moving average needs finite values");
    if (!initialized_) {
      mm_ = std::move(batch);
      initialized_ = true;
      return Status::ok();
    }
    if (batch.min.size() != mm_.min.size())
      return detail::error(StatusCode::kShapeMismatch, "observer has ", mm_.min.size(), " groups, this batch has ",
                           batch.min.size());
    const float c = averaging_constant_;
    for (std::size_t k = 0; k < mm_.min.size(); ++k) {
      mm_.min[k] = average(mm_.min[k], batch.min[k], c);
      mm_.max[k] = average(mm_.max[k], batch.max[k], c);
    }
    return Status::ok();
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
    mm_ = MinMax{};
  }
  /// The running range (empty before the first batch).
  const std::vector<float>& min() const { return mm_.min; }
  const std::vector<float>& max() const { return mm_.max; }
  const ParamLayout& layout() const { return layout_; }
  Range range() const { return range_; }
  Symmetry symmetry() const { return symmetry_; }
  float averaging_constant() const { return averaging_constant_; }
  float eps() const { return eps_; }

  /// Scale and zero point from the running range. Before the first batch:
  /// per tensor, PyTorch's defaults (scale 1, zero point 0); other
  /// granularities have no parameters yet (an error).
  Status qparams(QParams* out) const {
    if (!initialized_) {
      if (layout_.granularity != Granularity::kPerTensor)
        return detail::error(StatusCode::kInvalidArgument, granularity_name(layout_.granularity),
                             " observer has seen no data yet, so it has no parameters");
      *out = QParams::per_tensor(1.0f, 0, range_);
      return Status::ok();
    }
    return qparams_from_min_max<Q>(mm_, layout_, range_, symmetry_, out, eps_);
  }
  QParams qparams() const {
    QParams p;
    detail::raise_if_error(qparams(&p));
    return p;
  }

 private:
  // running + c * (batch - running) in float32, as PyTorch computes it; the
  // product is rounded before the addition under any contraction flags
  // (detail::opaque). When batch - running overflows float32 (a range near
  // +-3.4e38 meeting the other sign) the step is taken in double: the
  // result lies between the two, so it is finite.
  static float average(float running, float batch, float c) {
    const float difference = batch - running;
    if (std::isfinite(difference)) return running + detail::opaque(c * difference);
    return static_cast<float>(running +
                              detail::opaque(static_cast<double>(c) * (static_cast<double>(batch) - running)));
  }

  ParamLayout layout_;
  Range range_;
  Symmetry symmetry_;
  float averaging_constant_;
  float eps_;
  bool initialized_ = false;
  MinMax mm_;
};

/// A fake-quant layer for QAT, as PyTorch's FakeQuantize module: at every
/// forward pass, if the observer is enabled it observes the batch and the
/// parameters are recomputed from the running range; if fake-quant is
/// enabled the batch is fake-quantized with those parameters (mask kept for
/// the backward pass), otherwise passed through unchanged.
///
///     eigenq::FakeQuantize<uint8_t> act(eigenq::MovingAverageMinMax<uint8_t>());
///     auto y = act.forward(x);          // observe, then fake-quantize
///     auto dx = act.backward(dy);       // straight-through estimator
///     act.enable_observer(false);       // freeze the parameters
template <class Q, class N = DefaultNumerics, Path P = kBestPath>
class FakeQuantize : public detail::EigenPasses<FakeQuantize<Q, N, P>> {
 public:
  explicit FakeQuantize(MovingAverageMinMax<Q> observer = MovingAverageMinMax<Q>(),
                        MaskStorage storage = MaskStorage::kBytes)
      : observer_(std::move(observer)), ste_(QParams::per_tensor(1.0f, 0, observer_.range()), storage) {}

  void enable_observer(bool on) { observe_ = on; }
  void enable_fake_quant(bool on) { fake_quant_ = on; }
  bool observer_enabled() const { return observe_; }
  bool fake_quant_enabled() const { return fake_quant_; }

  const MovingAverageMinMax<Q>& observer() const { return observer_; }
  /// The parameters of the last forward pass (PyTorch's scale and zero_point buffers).
  const QParams& qparams() const { return ste_.params(); }

  /// y = fake_quantize(x) (or x), observing x first when enabled. y may
  /// alias x. Nothing changes (observer included) when the status is not ok.
  /// Both passes also take an executor (slices.hpp, parallel.hpp) last: the
  /// same bits at every thread count.
  template <class Exec = SerialExecutor>
  Status forward(const float* x, float* y, const Shape& shape, Exec&& exec = {}) {
    EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"x", x}, {"y", y}}));
    if (observe_) {
      MovingAverageMinMax<Q> next = observer_;
      EIGENQ_RETURN_IF_ERROR(next.observe(x, shape, exec));
      QParams p;
      EIGENQ_RETURN_IF_ERROR(next.qparams(&p));
      FakeQuantSTE<N, P> ste(std::move(p), ste_.storage());
      EIGENQ_RETURN_IF_ERROR(fake_quant_ ? ste.forward(x, y, shape, exec) : Status::ok());
      observer_ = std::move(next);
      ste_ = std::move(ste);
    } else if (fake_quant_) {
      EIGENQ_RETURN_IF_ERROR(ste_.forward(x, y, shape, exec));
    }
    if (!fake_quant_ && y != x) std::copy(x, x + shape.size(), y);
    passthrough_ = !fake_quant_;
    shape_ = shape;
    return Status::ok();
  }

  /// dx = dy * mask of the last forward pass (dy itself after a pass-through).
  template <class Exec = SerialExecutor>
  Status backward(const float* dy, float* dx, const Shape& shape, Exec&& exec = {}) const {
    if (!passthrough_) return ste_.backward(dy, dx, shape, exec);
    EIGENQ_RETURN_IF_ERROR(detail::check_same_shape(shape_, shape, "dy"));
    EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"dy", dy}, {"dx", dx}}));
    if (dx != dy) std::copy(dy, dy + shape.size(), dx);
    return Status::ok();
  }

  /// Shape of the last forward pass.
  const Shape& shape() const { return shape_; }

  /// Eigen objects and expressions (from detail::EigenPasses):
  /// forward_into(x, y) and backward_into(dy, dx) return a Status and write
  /// nothing on an error; forward(x) and backward(dy) return new tensors or
  /// matrices and throw `eigenq::Error`.
  using detail::EigenPasses<FakeQuantize>::forward;
  using detail::EigenPasses<FakeQuantize>::backward;

 private:
  MovingAverageMinMax<Q> observer_;
  FakeQuantSTE<N, P> ste_;
  bool observe_ = true;
  bool fake_quant_ = true;
  bool passthrough_ = false;
  Shape shape_;
};

}  // namespace eigenq
