#pragma once
/// \file
/// The output stage of a quantized layer, fused: int32 accumulators of an
/// integer GEMM or convolution, plus the int32 bias and the zero-point
/// corrections, requantized under any rule of requantize_rules.hpp, clamped
/// to the activation's range, stored as int8 / uint8, in one pass.
///
/// With x the input (zero point zx), w the weights (zw[c]) and K the depth
/// of the dot products, the layer's exact result is
///
///     sum_k (x[m,k] - zx)(w[c,k] - zw[c]) + bias[c]
///       = acc[m,c] + offset[c] - zw[c] * xsum[m]
///     offset[c] = bias[c] - zx * wsum[c] + K * zx * zw[c]
///
/// where acc = sum_k x w is the raw integer GEMM, wsum[c] = sum_k w[c,k] and
/// xsum[m] = sum_k x[m,k]. The per-channel offset is computed once
/// (`OutputStage::from_layer`); the per-row term exists only for asymmetric
/// weights and is applied from the input sums given to `apply`. Every sum
/// is int32 and wraps modulo 2^32, as the engines' do (`wrapping_add`).
///
///     // An int8 linear layer, per-channel weights, ReLU, ONNX Runtime's rule.
///     eigenq::OutputStage<int8_t, eigenq::Fp32Rounding> stage;
///     EIGENQ_RETURN_IF_ERROR(eigenq::OutputStage<int8_t, eigenq::Fp32Rounding>::from_layer(layer, &stage));
///     stage.apply(acc, y);  // acc [M, N] int32 -> y [M, N] int8
///
/// The requantization is the kernels' requantize run with the offset added
/// where it subtracts the input zero point: every path gives the portable
/// path's bits.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "kernels.hpp"
#include "numerics.hpp"
#include "params.hpp"
#include "requantize.hpp"
#include "requantize_rules.hpp"
#include "status.hpp"

namespace eigenq {

// ---------------------------------------------------------------------------
// Activations as output ranges

/// An activation fused into the output stage as a clamp.
enum class Activation { kNone, kRelu, kRelu6 };

/// The output range of an activation, as TFLite's
/// CalculateActivationRangeQuantized computes it: ReLU raises qmin to the
/// zero point; ReLU6 also lowers qmax to zp + round(6.0f / scale), the
/// division in float32 and the rounding half away from zero (TfLiteRound).
/// XNNPACK's qs8 operators take output_min / output_max from their callers.
/// ONNX has no fused activation: ONNX Runtime removes a Relu / Clip before
/// QuantizeLinear only when the output range already contains it
/// (ReluQuantTransformer, ClipQuantFusion), else runs it in float, which
/// bounds the output at zp + nearbyint(6 / scale), half to even: the same
/// bound except when 6 / scale is a tie.
inline Range activation_range(Activation activation, float output_scale, std::int32_t output_zero_point, Range range) {
  if (activation == Activation::kNone) return range;
  range.qmin = std::max(range.qmin, output_zero_point);
  if (activation == Activation::kRelu6) {
    const double six = std::round(6.0f / output_scale);
    const double top = std::min<double>(static_cast<double>(output_zero_point) + six, range.qmax);
    range.qmax = static_cast<std::int32_t>(std::max<double>(top, range.qmin));
  }
  return range;
}

// ---------------------------------------------------------------------------
// Helpers: bias, sums

/// How a float bias becomes int32 with scale input_scale * weight_scale[c]
/// (the product in float32, as both engines compute it).
enum class BiasRounding {
  /// PyTorch (QNNPACK's prepacking, quantize_per_tensor to qint32):
  /// nearbyint(b * (1.0f / scale)), half to even, saturated to int32.
  kPytorch,
  /// TFLite's converter (SymmetricPerLayerBiasQuantize): inv = float(1.0 /
  /// double(scale)), round(b * inv) half away from zero, clamped to
  /// [-INT32_MAX, INT32_MAX].
  kTflite,
};

/// Quantizes `channels` biases. `weight_scale_count` is 1 (per-tensor
/// weights) or `channels`. NaN biases and non-positive or non-finite scales
/// are refused.
inline Status quantize_bias(const float* bias, std::size_t channels, float input_scale, const float* weight_scales,
                            std::size_t weight_scale_count, BiasRounding rounding, std::int32_t* out) {
  if (weight_scale_count != 1 && weight_scale_count != channels)
    return detail::error(StatusCode::kShapeMismatch, "quantize_bias: ", weight_scale_count, " weight scales for ",
                         channels, " channels (expected 1 or ", channels, ")");
  constexpr double kMax = std::numeric_limits<std::int32_t>::max();
  const double lo = rounding == BiasRounding::kTflite ? -kMax : std::numeric_limits<std::int32_t>::min();
  for (std::size_t c = 0; c < channels; ++c) {
    const float scale = input_scale * weight_scales[weight_scale_count == 1 ? 0 : c];
    if (!(std::isfinite(scale) && scale > 0.0f))
      return detail::error(StatusCode::kInvalidScale, "quantize_bias: bias scale[", c, "] = ", scale,
                           " must be finite and > 0");
    if (std::isnan(bias[c])) return detail::error(StatusCode::kInvalidArgument, "quantize_bias: bias[", c, "] is NaN");
    double q;
    if (rounding == BiasRounding::kPytorch)
      q = std::nearbyint(bias[c] * (1.0f / scale));
    else
      q = std::round(bias[c] * static_cast<float>(1.0 / static_cast<double>(scale)));
    out[c] = static_cast<std::int32_t>(std::clamp(q, lo, kMax));
  }
  return Status::ok();
}

/// out[r] = sum of row r of a row-major [rows, cols] matrix, in int32
/// (wrapping). The weight sums of [Cout, K] weights (TFLite, conv weights
/// [Cout, Cin, kH, kW]), or the input sums of a GEMM's [M, K] input.
template <class T>
void sum_rows(const T* m, std::int64_t rows, std::int64_t cols, std::int32_t* out) {
  for (std::int64_t r = 0; r < rows; ++r) {
    std::int32_t s = 0;
    for (std::int64_t k = 0; k < cols; ++k) s = wrapping_add(s, static_cast<std::int32_t>(m[r * cols + k]));
    out[r] = s;
  }
}

/// out[c] = sum of column c of a row-major [rows, cols] matrix, in int32
/// (wrapping). The weight sums of [K, N] weights (ONNX MatMul), or the
/// input sums of a convolution's im2col matrix [Cin * kH * kW, H_out * W_out].
template <class T>
void sum_columns(const T* m, std::int64_t rows, std::int64_t cols, std::int32_t* out) {
  for (std::int64_t c = 0; c < cols; ++c) out[c] = 0;
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) out[c] = wrapping_add(out[c], static_cast<std::int32_t>(m[r * cols + c]));
}

// ---------------------------------------------------------------------------
// Parameters

/// A quantized layer's parameters as ONNX (QLinearMatMul, QLinearConv) and
/// TFLite give them, for `OutputStage::from_layer`.
///
/// The accumulators are a row-major tile [rows, cols]; `channel_axis` is 1
/// when the columns are the output channels (GEMM [M, N], NHWC) and 0 when
/// the rows are (NCHW [Cout, H * W] for one image).
struct LayerParams {
  std::int64_t rows = 0, cols = 0;
  int channel_axis = 1;
  std::int64_t depth = 0;  ///< K, the length of each dot product (Cin * kH * kW for a convolution)
  float input_scale = 1.0f;
  std::int32_t input_zero_point = 0;
  const float* weight_scale = nullptr;  ///< 1 (per tensor) or one per output channel
  std::size_t weight_scale_count = 0;
  const std::int32_t* weight_zero_point = nullptr;  ///< null (symmetric), 1, or one per output channel
  std::size_t weight_zero_point_count = 0;
  const std::int32_t* bias = nullptr;         ///< null, or one int32 per output channel (scale s_x * s_w[c])
  const std::int32_t* weight_sums = nullptr;  ///< one per output channel; needed when input_zero_point != 0
  float output_scale = 1.0f;
  std::int32_t output_zero_point = 0;
  Activation activation = Activation::kNone;
};

/// The fused stage's parameters once resolved: one multiplier (fixed-point
/// rules: multiplier and shift; Fp32Rounding: scale) per output channel, the
/// per-channel int32 offset, the weights' zero points (the factor of the
/// per-row term), the output zero point and range. Per-tensor values are
/// given once (count 1) and broadcast. The requantization's
/// input_zero_point must be 0: it is part of the offset.
struct OutputStageView {
  std::int64_t rows = 0, cols = 0;
  int channel_axis = 1;
  RequantizeParamsView requantize;       ///< per tensor, or per axis on channel_axis of [rows, cols]
  const std::int32_t* offset = nullptr;  ///< null (0), 1, or one per channel
  std::size_t offset_count = 0;
  const std::int32_t* weight_zero_point = nullptr;  ///< null (0), 1, or one per channel
  std::size_t weight_zero_point_count = 0;
};

/// gemmlowp's GemmWithOutputPipeline for a result [rows, cols] =
/// (lhs + lhs_offset) [rows, depth] times (rhs + rhs_offset) [depth, cols],
/// through OutputStageBiasAddition, OutputStageQuantizeDownInt32ByFixedPoint
/// (or its per-channel form, ...PC), OutputStageClamp and the saturating cast.
/// The weights are the lhs (TFLite's convolutions: filter [Cout, K] times
/// im2col, channels on axis 0) or the rhs (channels on axis 1).
///
/// gemmlowp's operand offsets are *added*: zero point = -offset.
struct GemmlowpPipeline {
  std::int64_t rows = 0, cols = 0, depth = 0;
  bool weights_are_lhs = true;
  std::int32_t lhs_offset = 0, rhs_offset = 0;
  const std::int32_t* bias = nullptr;  ///< OutputStageBiasAddition's vector (one per channel), or null
  const std::int32_t* result_fixedpoint_multiplier = nullptr;  ///< 1, or one per channel (the PC stage)
  const std::int32_t* result_shift = nullptr;                  ///< a right shift, >= 0; same count
  std::size_t multiplier_count = 1;
  std::int32_t result_offset_after_shift = 0;
  std::int32_t clamp_min = std::numeric_limits<std::int32_t>::min();  ///< OutputStageClamp, or none
  std::int32_t clamp_max = std::numeric_limits<std::int32_t>::max();
};

/// XNNPACK's qs8 / qc8 GEMM and convolution operators (fp32 requantization)
/// on an NHWC output [pixels, channels]: the float scale (one, or one per
/// channel for qc8: input_scale * kernel_scale[c] / output_scale, the value
/// packed beside the weights), output_zero_point, output_min / output_max,
/// and the bias as XNNPACK packs it (xnn_pack_qs8_gemm_goi_w:
/// bias[c] - input_zero_point * sum_k kernel[c, k], the kernel symmetric).
struct XnnpackQs8Params {
  std::int64_t pixels = 0, channels = 0;
  const float* scale = nullptr;
  std::size_t scale_count = 1;
  std::int32_t output_zero_point = 0;
  std::int32_t output_min = -128, output_max = 127;
  const std::int32_t* packed_bias = nullptr;  ///< one per channel, or null
};

// ---------------------------------------------------------------------------
// The stage

/// The fused output stage for an int32 accumulator tile, validated once:
/// `apply` has no checks, no allocation, no throwing. Out is int8 or uint8,
/// Rule any requantization rule, P the kernel path.
template <class Out, class Rule = GemmlowpRounding, Path P = kBestPath>
class OutputStage {
  static_assert(std::is_same_v<Out, std::int8_t> || std::is_same_v<Out, std::uint8_t>,
                "the output stage writes int8 or uint8");
  static_assert(is_requantize_rule_v<Rule>, "unknown requantization rule");

 public:
  OutputStage() = default;

  /// Rows per kernel call when the columns are channels: short rows are
  /// handled kTile elements at a time from parameters repeated row by row.
  static constexpr std::int64_t kTile = 256;

  static Status create(const OutputStageView& v, OutputStage* out) {
    if (v.channel_axis != 0 && v.channel_axis != 1)
      return detail::error(StatusCode::kInvalidAxis, "output stage: channel_axis = ", v.channel_axis,
                           " (expected 0 or 1 of the [rows, cols] tile)");
    if (v.requantize.input_zero_point != 0)
      return detail::error(StatusCode::kInvalidZeroPoint, "output stage: the input zero point (",
                           v.requantize.input_zero_point, ") belongs in the offsets, not the requantization");
    const Shape shape = Shape::row_major({v.rows, v.cols});
    ResolvedParams r;
    EIGENQ_RETURN_IF_ERROR((detail::resolve_requantize<std::int32_t, Out, Rule>(v.requantize, shape, &r)));
    if (v.requantize.granularity != Granularity::kPerTensor &&
        (v.requantize.granularity != Granularity::kPerAxis || v.requantize.axis != v.channel_axis))
      return detail::error(
          StatusCode::kInvalidArgument,
          "output stage: multipliers must be per tensor or per axis on channel_axis = ", v.channel_axis);
    OutputStage s;
    s.rows_ = v.rows;
    s.cols_ = v.cols;
    s.axis_ = v.channel_axis;
    const std::int64_t C = v.channel_axis == 1 ? v.cols : v.rows;
    const std::size_t channels = static_cast<std::size_t>(C);
    auto expand = [&](const auto* p, std::size_t count, const char* what, auto* to) -> Status {
      if (count != 0 && count != 1 && count != channels)
        return detail::error(StatusCode::kShapeMismatch, "output stage: ", count, " ", what, " for ", channels,
                             " channels (expected 1 or ", channels, ")");
      to->assign(channels, 0);
      for (std::size_t c = 0; c < channels && p != nullptr && count > 0; ++c) (*to)[c] = p[count == 1 ? 0 : c];
      return Status::ok();
    };
    const std::size_t n = r.count;
    const RequantizeParamsView& q = v.requantize;
    EIGENQ_RETURN_IF_ERROR(expand(q.multiplier, q.multiplier ? n : 0, "multipliers", &s.multiplier_));
    EIGENQ_RETURN_IF_ERROR(expand(q.shift, q.shift ? n : 0, "shifts", &s.shift_));
    EIGENQ_RETURN_IF_ERROR(expand(q.scale, q.scale ? n : 0, "scales", &s.scale_));
    EIGENQ_RETURN_IF_ERROR(expand(v.offset, v.offset ? v.offset_count : 0, "offsets", &s.offset_));
    EIGENQ_RETURN_IF_ERROR(expand(v.weight_zero_point, v.weight_zero_point ? v.weight_zero_point_count : 0,
                                  "weight zero points", &s.negated_zero_point_));
    s.asymmetric_ =
        std::any_of(s.negated_zero_point_.begin(), s.negated_zero_point_.end(), [](std::int32_t z) { return z != 0; });
    for (std::int32_t& z : s.negated_zero_point_) z = wrapping_mul(z, -1);  // the per-row term is -zw * input_sums
    s.args_ = q.args();
    s.tile_rows_ = C > 0 && C <= kTile ? kTile / C : 1;
    if (s.axis_ == 1 && C > 0 && s.tile_rows_ > 1) {  // repeat the row's parameters over kTile elements
      for (auto* a : {&s.multiplier_, &s.shift_, &s.offset_, &s.negated_zero_point_}) repeat(a, s.tile_rows_);
      repeat(&s.scale_, s.tile_rows_);
    }
    *out = std::move(s);
    return Status::ok();
  }

  /// From a layer's scales, zero points, bias and weight sums: multipliers
  /// as `Requantizer::from_conv_scales` computes them (float32
  /// s_x * s_w[c] / s_y for Fp32Rounding, ONNX Runtime's and XNNPACK's; in
  /// double for the fixed-point rules, TFLite's), offset[c] = bias[c] -
  /// zx * wsum[c] + K * zx * zw[c] (int32, wrapping), the range from
  /// `activation_range` on Out's full range.
  static Status from_layer(const LayerParams& l, OutputStage* out) {
    const Range range = activation_range(l.activation, l.output_scale, l.output_zero_point, Range::full<Out>());
    QParamsView w;
    w.granularity = l.weight_scale_count == 1 ? Granularity::kPerTensor : Granularity::kPerAxis;
    w.axis = l.channel_axis;
    w.scale = l.weight_scale;
    w.count = l.weight_scale_count;
    Requantizer<Out, Rule, std::int32_t, P> rq;
    EIGENQ_RETURN_IF_ERROR((Requantizer<Out, Rule, std::int32_t, P>::from_conv_scales(
        Shape::row_major({l.rows, l.cols}), l.channel_axis, l.input_scale, w, l.output_scale, l.output_zero_point,
        range, &rq)));
    const std::int64_t C = l.channel_axis == 1 ? l.cols : l.rows;
    const std::size_t channels = static_cast<std::size_t>(C);
    if (l.weight_zero_point != nullptr && l.weight_zero_point_count != 1 && l.weight_zero_point_count != channels)
      return detail::error(StatusCode::kShapeMismatch, "output stage: ", l.weight_zero_point_count,
                           " weight zero points for ", channels, " channels");
    if (l.input_zero_point != 0 && l.weight_sums == nullptr && channels > 0)
      return detail::error(StatusCode::kInvalidArgument,
                           "output stage: an input zero point needs the weight sums (sum_rows / sum_columns)");
    std::vector<std::int32_t> offset(channels);
    const std::int32_t k = static_cast<std::int32_t>(static_cast<std::uint32_t>(l.depth));
    for (std::size_t c = 0; c < channels; ++c) {
      const std::int32_t zw = l.weight_zero_point ? l.weight_zero_point[l.weight_zero_point_count == 1 ? 0 : c] : 0;
      std::int32_t o = l.bias ? l.bias[c] : 0;
      if (l.input_zero_point != 0) {
        o = wrapping_add(o, wrapping_mul(-l.input_zero_point, l.weight_sums[c]));
        o = wrapping_add(o, wrapping_mul(wrapping_mul(k, l.input_zero_point), zw));
      }
      offset[c] = o;
    }
    RequantizeParamsView q = rq.params().view();
    q.input_zero_point = 0;
    OutputStageView v;
    v.rows = l.rows;
    v.cols = l.cols;
    v.channel_axis = l.channel_axis;
    v.requantize = q;
    v.offset = offset.data();
    v.offset_count = channels;
    v.weight_zero_point = l.weight_zero_point;
    v.weight_zero_point_count = l.weight_zero_point ? l.weight_zero_point_count : 0;
    return create(v, out);
  }

  /// From gemmlowp's parameters (`GemmlowpPipeline`): zx = -(the input
  /// operand's offset), zw = -(the weights'), offset[c] = bias[c] - zx *
  /// wsum[c] + K * zx * zw, multiplier = result_fixedpoint_multiplier, shift
  /// = -result_shift, output zero point = result_offset_after_shift, range =
  /// the clamp within Out. Use GemmlowpRounding to reproduce gemmlowp.
  /// `weight_sums` (one per channel) is read when the input offset is not 0.
  static Status from_gemmlowp(const GemmlowpPipeline& g, const std::int32_t* weight_sums, OutputStage* out) {
    const int axis = g.weights_are_lhs ? 0 : 1;
    const std::int64_t C = axis == 1 ? g.cols : g.rows;
    const std::size_t channels = static_cast<std::size_t>(C);
    if (g.multiplier_count != 1 && g.multiplier_count != channels)
      return detail::error(StatusCode::kShapeMismatch, "output stage: ", g.multiplier_count, " multipliers for ",
                           channels, " channels");
    const std::int32_t zx = -(g.weights_are_lhs ? g.rhs_offset : g.lhs_offset);
    const std::int32_t zw = -(g.weights_are_lhs ? g.lhs_offset : g.rhs_offset);
    if (zx != 0 && weight_sums == nullptr && channels > 0)
      return detail::error(StatusCode::kInvalidArgument, "output stage: an input offset needs the weight sums");
    std::vector<std::int32_t> shift(g.multiplier_count), offset(channels);
    for (std::size_t i = 0; i < g.multiplier_count; ++i) shift[i] = -g.result_shift[i];
    const std::int32_t k = static_cast<std::int32_t>(static_cast<std::uint32_t>(g.depth));
    for (std::size_t c = 0; c < channels; ++c) {
      std::int32_t o = g.bias ? g.bias[c] : 0;
      if (zx != 0) {
        o = wrapping_add(o, wrapping_mul(-zx, weight_sums[c]));
        o = wrapping_add(o, wrapping_mul(wrapping_mul(k, zx), zw));
      }
      offset[c] = o;
    }
    OutputStageView v;
    v.rows = g.rows;
    v.cols = g.cols;
    v.channel_axis = axis;
    v.requantize.granularity = g.multiplier_count == 1 ? Granularity::kPerTensor : Granularity::kPerAxis;
    v.requantize.axis = axis;
    v.requantize.multiplier = g.result_fixedpoint_multiplier;
    v.requantize.shift = shift.data();
    v.requantize.count = g.multiplier_count;
    v.requantize.output_zero_point = g.result_offset_after_shift;
    const Range full = Range::full<Out>();
    v.requantize.range = {std::max(full.qmin, g.clamp_min), std::min(full.qmax, g.clamp_max)};
    v.offset = offset.data();
    v.offset_count = channels;
    v.weight_zero_point = &zw;
    v.weight_zero_point_count = 1;
    return create(v, out);
  }

  /// From XNNPACK's qs8 / qc8 parameters (`XnnpackQs8Params`): the scale(s)
  /// as given, the packed bias as the offset, [output_min, output_max] as
  /// the range. Use Fp32Rounding to reproduce XNNPACK's fp32 kernels.
  static Status from_xnnpack_qs8(const XnnpackQs8Params& x, OutputStage* out) {
    OutputStageView v;
    v.rows = x.pixels;
    v.cols = x.channels;
    v.channel_axis = 1;
    v.requantize.granularity = x.scale_count == 1 ? Granularity::kPerTensor : Granularity::kPerAxis;
    v.requantize.axis = 1;
    v.requantize.scale = x.scale;
    v.requantize.count = x.scale_count;
    v.requantize.output_zero_point = x.output_zero_point;
    v.requantize.range = {x.output_min, x.output_max};
    v.offset = x.packed_bias;
    v.offset_count = x.packed_bias ? static_cast<std::size_t>(x.channels) : 0;
    return create(v, out);
  }

  std::int64_t rows() const { return rows_; }
  std::int64_t cols() const { return cols_; }
  /// True when some weight zero point is not 0: `apply` then needs the input sums.
  bool needs_input_sums() const { return asymmetric_; }

  /// y = output_stage(acc) over the [rows, cols] tile. `input_sums` (one
  /// per row when the columns are channels, one per column otherwise:
  /// sum_k x of the GEMM row or of the im2col column) is read only when
  /// `needs_input_sums()`; the term -zw[c] * input_sums[m] is added to the
  /// offset per row (wrapping), a stack buffer of kTile elements at a time.
  void apply(const std::int32_t* acc, Out* y, const std::int32_t* input_sums = nullptr) const {
    const bool rows_term = asymmetric_ && input_sums != nullptr;
    with_kernels<P>([&](auto k) {
      using K = decltype(k);
      const RequantizeArgs args = args_;
      std::int32_t buffer[kTile];
      if (axis_ == 1) {
        const std::int64_t C = cols_;
        if (C == 0) return;
        for (std::int64_t m = 0; m < rows_; m += tile_rows_) {
          const std::int64_t r = std::min(tile_rows_, rows_ - m);
          for (std::int64_t c0 = 0; c0 < (tile_rows_ > 1 ? 1 : C); c0 += kTile) {
            const std::int64_t n = tile_rows_ > 1 ? r * C : std::min(kTile, C - c0);
            const std::int64_t at = m * C + c0;
            const std::size_t p = static_cast<std::size_t>(c0);
            const RequantAligned src = aligned(p);
            const std::int32_t* offset = offset_.data() + p;
            if (rows_term) {  // offset - zw * input_sums[row], one row's segment at a time
              const std::int64_t segment = tile_rows_ > 1 ? C : n;
              const std::int32_t* o = offset_.data() + p;
              const std::int32_t* z = negated_zero_point_.data() + p;
              for (std::int64_t j0 = 0; j0 < n; j0 += segment) {
                const std::uint32_t sum = static_cast<std::uint32_t>(input_sums[m + j0 / segment]);
                for (std::int64_t j = j0; j < j0 + segment; ++j)
                  buffer[j] = static_cast<std::int32_t>(static_cast<std::uint32_t>(o[j]) +
                                                        static_cast<std::uint32_t>(z[j]) * sum);
              }
              offset = buffer;
            }
            K::template requantize_offset<Rule>(acc + at, y + at, static_cast<std::size_t>(n), src, offset, args);
          }
        }
      } else {
        const std::int64_t Pn = cols_;
        std::int32_t multiplier[kTile], shift[kTile];
        float scale[kTile];
        for (std::int64_t c = 0; c < rows_; ++c) {
          const std::size_t ci = static_cast<std::size_t>(c);
          const std::int32_t* ac = acc + c * Pn;
          Out* yc = y + c * Pn;
          if (!rows_term || negated_zero_point_[ci] == 0) {
            const RequantBroadcast src{multiplier_[ci], shift_[ci], scale_[ci]};
            K::template requantize_offset<Rule>(ac, yc, static_cast<std::size_t>(Pn), src, offset_[ci], args);
            continue;
          }
          std::fill_n(multiplier, kTile, multiplier_[ci]);
          std::fill_n(shift, kTile, shift_[ci]);
          std::fill_n(scale, kTile, scale_[ci]);
          const RequantAligned src{multiplier, shift, scale};
          for (std::int64_t p0 = 0; p0 < Pn; p0 += kTile) {
            const std::int64_t n = std::min(kTile, Pn - p0);
            const std::uint32_t o = static_cast<std::uint32_t>(offset_[ci]);
            const std::uint32_t z = static_cast<std::uint32_t>(negated_zero_point_[ci]);
            for (std::int64_t j = 0; j < n; ++j)
              buffer[j] = static_cast<std::int32_t>(o + z * static_cast<std::uint32_t>(input_sums[p0 + j]));
            K::template requantize_offset<Rule>(ac + p0, yc + p0, static_cast<std::size_t>(n), src,
                                                static_cast<const std::int32_t*>(buffer), args);
          }
        }
      }
    });
  }

 private:
  /// a * b modulo 2^32.
  static std::int32_t wrapping_mul(std::int32_t a, std::int32_t b) {
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) * static_cast<std::uint32_t>(b));
  }

  template <class T>
  static void repeat(std::vector<T>* a, std::int64_t times) {
    const std::size_t n = a->size();
    a->resize(n * static_cast<std::size_t>(times));
    for (std::size_t t = 1; t < static_cast<std::size_t>(times); ++t)
      std::copy_n(a->begin(), n, a->begin() + static_cast<std::ptrdiff_t>(t * n));
  }

  RequantAligned aligned(std::size_t p) const { return {multiplier_.data() + p, shift_.data() + p, scale_.data() + p}; }

  std::int64_t rows_ = 0, cols_ = 0, tile_rows_ = 1;
  int axis_ = 1;
  bool asymmetric_ = false;
  RequantizeArgs args_;
  // Per channel, repeated tile_rows_ times when the columns are channels.
  std::vector<std::int32_t> multiplier_, shift_, offset_, negated_zero_point_;  // the last: -zw[c]
  std::vector<float> scale_;
};

}  // namespace eigenq
