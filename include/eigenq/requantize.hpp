#pragma once
/// \file
/// Requantization: integer accumulators (int32, or int16/int8/uint8 with an
/// input zero point) brought back to int8 / uint8 / int16 with a real
/// multiplier per tensor or per channel, under the rounding rule of the
/// engine being reproduced. The rules and their sources are documented in
/// requantize_rules.hpp; this header validates parameters against a shape
/// and applies them.
///
///     // TVM QNN style: float scales in, multipliers built once.
///     eigenq::Requantizer<int8_t, eigenq::GemmlowpRounding> rq;
///     EIGENQ_RETURN_IF_ERROR(eigenq::Requantizer<int8_t, eigenq::GemmlowpRounding>::from_scales(
///         shape, accumulator_params, out_scale, out_zp, eigenq::Range::full<int8_t>(), &rq));
///     rq.requantize(acc, q);  // no checks, no allocation

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels.hpp"
#include "numerics.hpp"
#include "params.hpp"
#include "requantize_rules.hpp"
#include "scheme.hpp"
#include "slices.hpp"
#include "status.hpp"

namespace eigenq {

namespace detail {

template <class T>
constexpr const char* requantize_type_name() {
  return std::is_same_v<T, std::uint8_t>   ? "uint8"
         : std::is_same_v<T, std::int8_t>  ? "int8"
         : std::is_same_v<T, std::int16_t> ? "int16"
                                           : "int32";
}

/// Validates requantization parameters against a shape: output range,
/// zero points, layout and count, then every multiplier.
template <class In, class Out, class Rule>
Status resolve_requantize(const RequantizeParamsView& p, const Shape& shape, ResolvedParams* out) {
  EIGENQ_RETURN_IF_ERROR(check_range<Out>(p.range));
  if (p.output_zero_point < p.range.qmin || p.output_zero_point > p.range.qmax)
    return detail::error(StatusCode::kInvalidZeroPoint, "output zero_point = ", p.output_zero_point,
                         " is outside [qmin, qmax] = [", p.range.qmin, ", ", p.range.qmax, "]");
  if (p.input_zero_point < std::numeric_limits<In>::lowest() || p.input_zero_point > std::numeric_limits<In>::max())
    return detail::error(StatusCode::kInvalidZeroPoint, "input zero_point = ", p.input_zero_point, " is outside ",
                         requantize_type_name<In>(), " [", +std::numeric_limits<In>::lowest(), ", ",
                         +std::numeric_limits<In>::max(), "]");
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(resolve_layout(ParamLayout(p.granularity, p.axis, p.block_size), shape, &r));
  if (p.count != r.count)
    return detail::count_mismatch("multipliers", r, p.count, shape, "arrays of different lengths");
  if constexpr (Rule::kFixedPoint) {
    if (r.count > 0 && (p.multiplier == nullptr || p.shift == nullptr))
      return detail::error(StatusCode::kInvalidArgument, "rule ", Rule::name(), " needs multiplier and shift arrays");
    for (std::size_t i = 0; i < r.count; ++i) {
      if (p.multiplier[i] < 0)
        return detail::error(StatusCode::kInvalidScale, "multiplier[", i, "] = ", p.multiplier[i], " must be >= 0");
      if (p.shift[i] < -31 || p.shift[i] > 30)
        return detail::error(StatusCode::kInvalidScale, "shift[", i, "] = ", p.shift[i], " is outside [-31, 30]");
    }
  } else {
    if (r.count > 0 && p.scale == nullptr)
      return detail::error(StatusCode::kInvalidArgument, "rule ", Rule::name(), " needs a scale array");
    for (std::size_t i = 0; i < r.count; ++i)
      if (!(std::isfinite(p.scale[i]) && p.scale[i] > 0.0f))
        return detail::error(StatusCode::kInvalidScale, "scale[", i, "] = ", p.scale[i], " must be finite and > 0");
  }
  *out = r;
  return Status::ok();
}

}  // namespace detail

// ---------------------------------------------------------------------------
// Requantizer

/// Requantization parameters validated against a shape: apply them to any
/// number of tensors of that shape without checks, allocation or throwing.
///
/// Out is the output type (int8, uint8, int16), Rule the rounding rule, In
/// the input type (int32 accumulators by default; int16, int8, uint8 with an
/// input zero point), P the kernel path.
template <class Out, class Rule = GemmlowpRounding, class In = std::int32_t, Path P = kBestPath>
class Requantizer {
  static_assert(is_requantize_output_v<Out>, "requantize output must be int8, uint8 or int16");
  static_assert(is_requantize_input_v<In>, "requantize input must be int32, int16, int8 or uint8");
  static_assert(is_requantize_rule_v<Rule>, "unknown requantization rule");

 public:
  using Output = Out;
  using Input = In;
  using RoundingRule = Rule;
  static constexpr Path path = P;

  Requantizer() = default;

  /// From (multiplier, shift) or scale arrays; they are copied.
  static Status create(const Shape& shape, const RequantizeParamsView& params, Requantizer* out) {
    Requantizer rq;
    EIGENQ_RETURN_IF_ERROR(detail::resolve_requantize<In, Out, Rule>(params, shape, &rq.resolved_));
    rq.shape_ = shape;
    rq.params_ = copy(params, rq.resolved_.count);
    *out = std::move(rq);
    return Status::ok();
  }
  Requantizer(const Shape& shape, const RequantizeParamsView& params) {
    detail::raise_if_error(create(shape, params, this));
  }

  /// TVM QNN requantize: the input's scale(s) (per tensor or per axis, as
  /// `input` describes them) and zero point, the output's scale and zero
  /// point. M[c] = double(input.scale[c]) / double(output_scale) for the
  /// fixed-point rules, input.scale[c] / output_scale in float32 for
  /// Fp32Rounding. The input zero points must all be equal.
  static Status from_scales(const Shape& shape, const QParamsView& input, float output_scale,
                            std::int32_t output_zero_point, Range output_range, Requantizer* out) {
    EIGENQ_RETURN_IF_ERROR(check_input_scales(input, "input"));
    return build(shape, input, output_scale, output_zero_point, output_range, out, [&](std::size_t c) {
      return std::make_pair(static_cast<double>(input.scale[c]) / static_cast<double>(output_scale),
                            input.scale[c] / output_scale);
    });
  }

  /// Convolution / matmul accumulators (TFLite, XNNPACK): input scale times
  /// the weight scales, over the output scale.
  ///
  /// `channel_axis` is the accumulators' output-channel axis in `shape`
  /// (negative counts from the end): 1 for [N, Cout] or [P, Cout] row-major
  /// accumulators, -1 for NHWC. It is not the weights' axis (0 for
  /// [Cout, Cin, kH, kW] weights), so it is always given. Per-axis weights
  /// need one scale per channel of that axis; per-tensor weights give a
  /// per-tensor requantizer (the axis is still checked). Blocked and
  /// per-element weights are refused.
  ///
  /// M[c] = double(input_scale) * double(weights.scale[c]) / double(output_scale)
  /// as TFLite computes it; input_scale * weights.scale[c] / output_scale in
  /// float32 for Fp32Rounding, as XNNPACK does. The accumulators' zero point
  /// is 0; the weights' zero points are not used.
  static Status from_conv_scales(const Shape& shape, int channel_axis, float input_scale, const QParamsView& weights,
                                 float output_scale, std::int32_t output_zero_point, Range output_range,
                                 Requantizer* out) {
    if (!(std::isfinite(input_scale) && input_scale > 0.0f))
      return detail::error(StatusCode::kInvalidScale, "input scale = ", input_scale, " must be finite and > 0");
    EIGENQ_RETURN_IF_ERROR(check_shape(shape));  // before shape[axis] below
    const int axis = normalize_axis(channel_axis, shape.rank);
    if (axis < 0)
      return detail::error(StatusCode::kInvalidAxis, "channel_axis = ", channel_axis,
                           " is out of range for the accumulators of shape ", detail::shape_text(shape), " (expected ",
                           -shape.rank, " <= channel_axis < ", shape.rank, ")");
    QParamsView w = weights;
    w.zero_point = nullptr;
    if (weights.granularity == Granularity::kPerAxis) {
      w.axis = axis;
      if (weights.count != ~std::size_t{0} && static_cast<std::int64_t>(weights.count) != shape[axis])
        return detail::error(StatusCode::kShapeMismatch, "the weights have ", weights.count,
                             " per-axis scales, but channel_axis = ", channel_axis, " of the accumulators' shape ",
                             detail::shape_text(shape), " has ", shape[axis], " channels");
    } else if (weights.granularity != Granularity::kPerTensor) {
      return detail::error(StatusCode::kInvalidArgument, "the weights' scales are ",
                           granularity_name(weights.granularity),
                           "; requantization takes per-tensor or per-axis weight scales");
    }
    EIGENQ_RETURN_IF_ERROR(check_input_scales(w, "weight"));
    return build(shape, w, output_scale, output_zero_point, output_range, out, [&](std::size_t c) {
      return std::make_pair(
          static_cast<double>(input_scale) * static_cast<double>(weights.scale[c]) / static_cast<double>(output_scale),
          input_scale * weights.scale[c] / output_scale);
    });
  }

  /// The form without `channel_axis` took the axis from the weights'
  /// parameters, which index the weight tensor, not the accumulators: with
  /// as many rows as channels the wrong axis was accepted.
  [[deprecated(
      "give the accumulators' channel axis: from_conv_scales(shape, channel_axis, input_scale, ...)")]] static Status
  from_conv_scales(const Shape& shape, float input_scale, const QParamsView& weights, float output_scale,
                   std::int32_t output_zero_point, Range output_range, Requantizer* out) {
    return from_conv_scales(shape, weights.axis, input_scale, weights, output_scale, output_zero_point, output_range,
                            out);
  }

  const Shape& shape() const { return shape_; }
  std::int64_t size() const { return shape_.size(); }
  const RequantizeParams& params() const { return params_; }

  /// y = requantize(x); both hold size() elements.
  void requantize(const In* x, Out* y) const { requantize_slice(resolved_, params_.view(), x, y); }
  /// The same on an executor (parallel.hpp): the tensor cut into slices by
  /// its size as `Quantizer` cuts it, each requantized by the serial kernel
  /// with its parameters; the same bits as the serial call at every thread
  /// count.
  template <class Exec>
  void requantize(const In* x, Out* y, Exec&& exec) const {
    const RequantizeParamsView view = params_.view();
    detail::for_each_slice(exec, resolved_, detail::line_of<Out>, 1, [&](const detail::Slice& s) {
      RequantizeParamsView v = view;
      if (v.multiplier) v.multiplier += s.param;
      if (v.shift) v.shift += s.param;
      if (v.scale) v.scale += s.param;
      v.count = s.r.count;
      requantize_slice(s.r, v, x + s.at, y + s.at);
    });
  }

 private:
  static void requantize_slice(const ResolvedParams& r, const RequantizeParamsView& view, const In* x, Out* y) {
    with_kernels<P>([&](auto k) { decltype(k)::template requantize<Rule>(r, view, x, y); });
  }
  static RequantizeParams copy(const RequantizeParamsView& v, std::size_t n) {
    RequantizeParams p;
    p.granularity = v.granularity;
    p.axis = v.axis;
    p.block_size = v.block_size;
    if (v.multiplier) p.multiplier.assign(v.multiplier, v.multiplier + n);
    if (v.shift) p.shift.assign(v.shift, v.shift + n);
    if (v.scale) p.scale.assign(v.scale, v.scale + n);
    p.input_zero_point = v.input_zero_point;
    p.output_zero_point = v.output_zero_point;
    p.range = v.range;
    return p;
  }

  static Status check_input_scales(const QParamsView& p, const char* what) {
    if (p.count == ~std::size_t{0} || (p.count > 0 && p.scale == nullptr))
      return detail::error(StatusCode::kShapeMismatch, what, " scale and zero_point arrays differ in length");
    for (std::size_t c = 0; c < p.count; ++c)
      if (!(std::isfinite(p.scale[c]) && p.scale[c] > 0.0f))
        return detail::error(StatusCode::kInvalidScale, what, " scale[", c, "] = ", p.scale[c],
                             " must be finite and > 0");
    if (p.zero_point != nullptr)
      for (std::size_t c = 1; c < p.count; ++c)
        if (p.zero_point[c] != p.zero_point[0])
          return detail::error(StatusCode::kInvalidZeroPoint, what, " zero_point[", c, "] = ", p.zero_point[c],
                               " differs from zero_point[0] = ", p.zero_point[0],
                               " (requantization takes one input zero point)");
    return Status::ok();
  }

  // Computes every multiplier with `ratio(c)` -> (double real multiplier,
  // float fp32 scale), then validates the result as `create` does.
  template <class Ratio>
  static Status build(const Shape& shape, const QParamsView& input, float output_scale, std::int32_t output_zero_point,
                      Range output_range, Requantizer* out, Ratio&& ratio) {
    if (!(std::isfinite(output_scale) && output_scale > 0.0f))
      return detail::error(StatusCode::kInvalidScale, "output scale = ", output_scale, " must be finite and > 0");
    RequantizeParams p;
    p.granularity = input.granularity;
    p.axis = input.axis;
    p.block_size = input.block_size;
    p.input_zero_point = input.zero_point != nullptr && input.count > 0 ? input.zero_point[0] : 0;
    p.output_zero_point = output_zero_point;
    p.range = output_range;
    for (std::size_t c = 0; c < input.count; ++c) {
      const auto [real, scale] = ratio(c);
      if (!(std::isfinite(real) && real > 0.0))
        return detail::error(StatusCode::kInvalidScale, "requantization multiplier[", c, "] = ", real,
                             " must be finite and > 0");
      QuantizedMultiplier q{};
      if constexpr (Rule::kFixedPoint) {
        q = quantize_multiplier(real, Rule::style);
        // Below 2^-32 every rule gives 0 (TFLite flushes; TVM's result
        // rounds to 0 too): flushing keeps the shift in range.
        if (q.shift < -31) q = {};
        if (q.shift > 30)
          return detail::error(StatusCode::kInvalidScale, "requantization multiplier[", c, "] = ", real,
                               " is too large (must be below 2^30)");
      } else if (!(std::isfinite(scale) && scale > 0.0f)) {
        return detail::error(StatusCode::kInvalidScale, "requantization scale[", c, "] = ", scale,
                             " is not a positive finite float32 (multiplier ", real, ")");
      }
      p.multiplier.push_back(q.multiplier);
      p.shift.push_back(q.shift);
      p.scale.push_back(scale);
    }
    Requantizer rq;
    EIGENQ_RETURN_IF_ERROR(detail::resolve_requantize<In, Out, Rule>(p.view(), shape, &rq.resolved_));
    rq.shape_ = shape;
    rq.params_ = std::move(p);
    *out = std::move(rq);
    return Status::ok();
  }

  Shape shape_;
  ResolvedParams resolved_;
  RequantizeParams params_;
};

/// One-shot raw-pointer requantization: validate, then apply. Writes nothing
/// when the parameters are invalid.
template <class Rule, class In, class Out, Path P = kBestPath>
Status requantize(const In* x, Out* y, const Shape& shape, const RequantizeParamsView& params) {
  Requantizer<Out, Rule, In, P> rq;
  EIGENQ_RETURN_IF_ERROR((Requantizer<Out, Rule, In, P>::create(shape, params, &rq)));
  EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"x", x}, {"y", y}}));
  rq.requantize(x, y);
  return Status::ok();
}

}  // namespace eigenq
