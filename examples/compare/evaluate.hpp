#pragma once
// One measurement. A weight quantized with one scheme, parameters from its
// own groups' min and max: the error of the weight (SQNR, max abs error),
// of its layer's output when the layer input is known, the bytes as stored,
// and the quantize / dequantize speed. An activation quantized with
// parameters an observer chose on calibration batches, scored on a batch
// held out from them: the error of the activation and of its consumer's
// output.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "dataset.hpp"
#include "eigenq/observers.hpp"
#include "formats.hpp"
#include "layer.hpp"
#include "metrics.hpp"

namespace eigenq::compare {

struct Result {
  std::size_t tensor = 0;  ///< index into the compared tensors
  std::size_t scheme = 0;  ///< index into the weight or activation schemes
  std::int64_t elements = 0;
  std::int64_t params = 0;  ///< (scale, zero point) pairs
  double sqnr_db = 0.0;
  double max_abs_error = 0.0;
  /// SQNR of the layer output W·x; NaN when the layer input (a weight's
  /// activation, an activation's consumer) is not known.
  double layer_sqnr_db = std::numeric_limits<double>::quiet_NaN();
  double data_bytes = 0.0;
  double metadata_bytes = 0.0;
  Timing timing;

  double total_bytes() const { return data_bytes + metadata_bytes; }
  double bytes_per_element() const { return elements ? total_bytes() / elements : 0.0; }
  double vs_float32() const { return elements ? total_bytes() / (4.0 * elements) : 0.0; }
  /// Throughput in GB/s of float32 data: what quantize reads, dequantize writes.
  double quantize_gbps() const { return 4.0 * elements / timing.quantize_seconds * 1e-9; }
  double dequantize_gbps() const { return 4.0 * elements / timing.dequantize_seconds * 1e-9; }
  bool has_layer() const { return !std::isnan(layer_sqnr_db); }
  /// What decisions are made on: the layer output's SQNR where it is
  /// known, else the tensor's own.
  double score() const { return has_layer() ? layer_sqnr_db : sqnr_db; }
};

/// The reference a layer SQNR is measured against: the float layer input
/// arranged for products, and the energy of the float output.
struct LayerReference {
  LayerInput input;
  double energy = 0.0;
};

/// The layer of weight `w` on input `x`; both hold their values.
inline Status layer_reference(const Tensor& w, const Tensor& x, LayerReference* out) {
  const std::vector<float> rows = row_major(x.data.data(), x.shape);
  Shape xs = x.shape;
  xs.layout = Layout::kRowMajor;
  LayerReference ref;
  EIGENQ_RETURN_IF_ERROR(LayerInput::make(w.layer, w.shape, w.channel_axis, rows.data(), xs, &ref.input));
  ref.energy = ref.input.output_energy(w.data.data());
  *out = std::move(ref);
  return Status::ok();
}

namespace detail {

/// y = x - y, elementwise.
inline void subtract_from(const std::vector<float>& x, std::vector<float>* y) {
  for (std::size_t i = 0; i < y->size(); ++i) (*y)[i] = x[i] - (*y)[i];
}

}  // namespace detail

/// Quantizes weight `t` with scheme `s` (parameters from each group's
/// min/max by PyTorch's rules, metadata rounded as stored), dequantizes and
/// measures; with `layer`, also the layer output's SQNR. `y`, if given,
/// receives the dequantized weight. The kernels run on `pool`.
inline Status evaluate_weight(const Tensor& t, const Scheme& s, const LayerReference* layer, const SpeedOptions& speed,
                              ThreadPoolExecutor& pool, Result* r, std::vector<float>* y = nullptr) {
  // Blocked schemes see the tensor through its block view (same memory).
  const Shape& shape = s.granularity == Granularity::kBlocked ? t.block_shape : t.shape;
  const ParamLayout layout = layout_of(s, t.channel_axis, t.block_axis);
  MinMax ranges;
  EIGENQ_RETURN_IF_ERROR(compute_min_max(t.data.data(), shape, layout, &ranges, pool));
  QParams params;
  EIGENQ_RETURN_IF_ERROR(stored_params(s, ranges, layout, &params));
  const std::size_t n = t.data.size();
  std::vector<float> out(n);
  r->timing = Timing{};
  EIGENQ_RETURN_IF_ERROR(s.format->apply(t.data.data(), shape, params, out.data(), speed, pool, &r->timing));
  r->elements = static_cast<std::int64_t>(n);
  r->params = static_cast<std::int64_t>(params.scale.size());
  r->sqnr_db = sqnr_db(t.data.data(), out.data(), n);
  r->max_abs_error = max_abs_error(t.data.data(), out.data(), n);
  r->data_bytes = s.data_bytes(r->elements);
  r->metadata_bytes = s.metadata_bytes(r->params);
  if (y) *y = out;
  if (layer) {
    detail::subtract_from(t.data, &out);  // the error W - Wq: the layer is linear in W
    r->layer_sqnr_db = db_ratio(layer->energy, layer->input.output_energy(out.data()));
  }
  return Status::ok();
}

// ---------------------------------------------------------------------------
// Activations

/// How activation parameters are chosen (observers.hpp): on calibration
/// batches by min/max, their moving average (c = 0.01), or a histogram
/// clipped by PyTorch's L2 search, a percentile, or the MSE grid search; or
/// dynamically, from the scored batch itself (the ceiling for min/max).
enum class Observer { kMinMax, kMovingAverage, kL2, kPercentile, kMse, kDynamic };

inline const char* observer_name(Observer o) {
  switch (o) {
    case Observer::kMinMax:
      return "minmax";
    case Observer::kMovingAverage:
      return "moving-average";
    case Observer::kL2:
      return "l2";
    case Observer::kPercentile:
      return "percentile";
    case Observer::kMse:
      return "mse";
    case Observer::kDynamic:
      return "dynamic";
  }
  return "?";
}

/// Histogram observers are per tensor (as PyTorch's).
inline bool observer_per_tensor_only(Observer o) {
  return o == Observer::kL2 || o == Observer::kPercentile || o == Observer::kMse;
}

struct ActScheme {
  Scheme scheme;
  Observer observer = Observer::kMinMax;
  std::string name() const { return scheme.name() + " " + observer_name(observer); }
};

/// An activation cut into calibration batches and one held-out batch.
struct Split {
  std::vector<std::vector<float>> calibration;
  std::vector<Shape> calibration_shapes;
  std::vector<float> held_out;
  Shape held_out_shape;
};

namespace detail {

/// Elements [lo, hi) of axis `a` of a row-major tensor, as a tensor.
inline std::vector<float> slice(const std::vector<float>& x, const Shape& s, int a, std::int64_t lo, std::int64_t hi,
                                Shape* out_shape) {
  std::int64_t outer = 1, inner = 1;
  for (int d = 0; d < a; ++d) outer *= s.dims[d];
  for (int d = a + 1; d < s.rank; ++d) inner *= s.dims[d];
  std::vector<float> out;
  out.reserve(static_cast<std::size_t>(outer * (hi - lo) * inner));
  for (std::int64_t o = 0; o < outer; ++o)
    out.insert(out.end(), x.begin() + (o * s.dims[a] + lo) * inner, x.begin() + (o * s.dims[a] + hi) * inner);
  *out_shape = s;
  out_shape->dims[a] = hi - lo;
  return out;
}

/// Cuts [lo, hi) of axis a into up to `parts` stripes of near-equal length.
inline void stripes(const std::vector<float>& x, const Shape& s, int a, int parts, Split* out) {
  const std::int64_t n = s.dims[a], k = std::min<std::int64_t>(parts, n);
  for (std::int64_t i = 0; i < k; ++i) {
    Shape part;
    out->calibration.push_back(slice(x, s, a, i * n / k, (i + 1) * n / k, &part));
    out->calibration_shapes.push_back(part);
  }
}

}  // namespace detail

/// Calibration and held-out batches of activation `t` (values held): with
/// two or more samples on axis 0, the last sample is held out and the
/// others are calibration batches, each cut into 4 stripes along the
/// longest axis that is neither the batch nor the channel axis (image rows,
/// token positions); with one sample, the stripes of the one sample, the
/// last held out. An error says why when nothing can be held out (one
/// sample of 1x1).
inline Status split_activation(const Tensor& t, Split* out) {
  constexpr int kStripes = 4;
  const std::vector<float> x = row_major(t.data.data(), t.shape);
  Shape s = t.shape;
  s.layout = Layout::kRowMajor;
  int along = -1;  // the stripe axis
  for (int d = 1; d < s.rank; ++d)
    if (d != t.channel_axis && s.dims[d] >= 2 && (along < 0 || s.dims[d] > s.dims[along])) along = d;
  Split split;
  if (s.rank >= 2 && t.channel_axis != 0 && s.dims[0] >= 2) {
    const std::int64_t n = s.dims[0];
    split.held_out = detail::slice(x, s, 0, n - 1, n, &split.held_out_shape);
    Shape rest;
    const std::vector<float> calibration = detail::slice(x, s, 0, 0, n - 1, &rest);
    if (along < 0) {
      split.calibration.push_back(calibration);
      split.calibration_shapes.push_back(rest);
    } else {
      for (std::int64_t b = 0; b < n - 1; ++b) {
        Shape one;
        detail::stripes(detail::slice(calibration, rest, 0, b, b + 1, &one), one, along, kStripes, &split);
      }
    }
  } else if (along >= 0) {
    detail::stripes(x, s, along, kStripes, &split);
    split.held_out = std::move(split.calibration.back());
    split.held_out_shape = split.calibration_shapes.back();
    split.calibration.pop_back();
    split.calibration_shapes.pop_back();
  } else {
    return eigenq::detail::error(StatusCode::kInvalidArgument, "'", t.name, "' of shape ", shape_text(t.shape),
                                 ": one sample and no axis to cut, so no batch can be held out");
  }
  *out = std::move(split);
  return Status::ok();
}

namespace detail {

/// The range each group gets from observer `o` of storage Q over the
/// calibration batches (or, dynamically, over the held-out batch).
template <class Q>
Status observe_ranges(const ActScheme& a, const Split& split, const ParamLayout& layout, double percentile,
                      ThreadPoolExecutor& pool, MinMax* out) {
  const Range range = a.scheme.range();
  const Symmetry sym = a.scheme.symmetry();
  switch (a.observer) {
    case Observer::kDynamic:
      return compute_min_max(split.held_out.data(), split.held_out_shape, layout, out, pool);
    case Observer::kMinMax:
    case Observer::kMovingAverage: {
      MinMaxObserver<Q> minmax(layout, range, sym);
      MovingAverageMinMaxObserver<Q> average(layout, range, sym);
      for (std::size_t b = 0; b < split.calibration.size(); ++b)
        EIGENQ_RETURN_IF_ERROR(a.observer == Observer::kMinMax
                                   ? minmax.observe(split.calibration[b].data(), split.calibration_shapes[b], pool)
                                   : average.observe(split.calibration[b].data(), split.calibration_shapes[b], pool));
      out->min = a.observer == Observer::kMinMax ? minmax.min() : average.min();
      out->max = a.observer == Observer::kMinMax ? minmax.max() : average.max();
      return Status::ok();
    }
    case Observer::kL2:
    case Observer::kPercentile:
    case Observer::kMse: {
      HistogramObserver<Q> histogram(range, sym);
      for (std::size_t b = 0; b < split.calibration.size(); ++b)
        EIGENQ_RETURN_IF_ERROR(histogram.observe(split.calibration[b].data(), split.calibration_shapes[b], pool));
      FloatRange clip;
      EIGENQ_RETURN_IF_ERROR(a.observer == Observer::kL2           ? histogram.l2_range(&clip)
                             : a.observer == Observer::kPercentile ? histogram.percentile_range(percentile, &clip)
                                                                   : histogram.mse_range(&clip));
      out->min = {clip.min};
      out->max = {clip.max};
      return Status::ok();
    }
  }
  return Status::ok();
}

}  // namespace detail

/// Quantizes the held-out batch of an activation with parameters chosen by
/// `a`'s observer on its calibration batches (metadata rounded as stored)
/// and measures; with `consumer` (a weight holding its values), also the
/// SQNR of the consumer's output. `held_out_layer` is the float layer on
/// the held-out batch (made once per activation), null when there is none.
/// The kernels and observers run on `pool`.
inline Status evaluate_activation(const Tensor& t, const Split& split, const ActScheme& a, double percentile,
                                  const Tensor* consumer, const LayerReference* held_out_layer,
                                  ThreadPoolExecutor& pool, Result* r) {
  const Scheme& s = a.scheme;
  const ParamLayout layout = layout_of(s, t.channel_axis, t.channel_axis);
  MinMax ranges;
  EIGENQ_RETURN_IF_ERROR(s.format->is_signed
                             ? detail::observe_ranges<std::int8_t>(a, split, layout, percentile, pool, &ranges)
                             : detail::observe_ranges<std::uint8_t>(a, split, layout, percentile, pool, &ranges));
  QParams params;
  EIGENQ_RETURN_IF_ERROR(stored_params(s, ranges, layout, &params));
  const std::vector<float>& x = split.held_out;
  std::vector<float> y(x.size());
  EIGENQ_RETURN_IF_ERROR(
      s.format->apply(x.data(), split.held_out_shape, params, y.data(), SpeedOptions{false}, pool, &r->timing));
  r->elements = static_cast<std::int64_t>(x.size());
  r->params = static_cast<std::int64_t>(params.scale.size());
  r->sqnr_db = sqnr_db(x.data(), y.data(), x.size());
  r->max_abs_error = max_abs_error(x.data(), y.data(), x.size());
  r->data_bytes = s.data_bytes(r->elements);
  r->metadata_bytes = s.metadata_bytes(r->params);
  if (consumer && held_out_layer) {
    detail::subtract_from(x, &y);  // the error x - xq: the layer is linear in x
    LayerInput error;
    EIGENQ_RETURN_IF_ERROR(LayerInput::make(consumer->layer, consumer->shape, consumer->channel_axis, y.data(),
                                            split.held_out_shape, &error));
    r->layer_sqnr_db = db_ratio(held_out_layer->energy, error.output_energy(consumer->data.data()));
  }
  return Status::ok();
}

}  // namespace eigenq::compare
