#pragma once
// A weight's layer: how the weight meets its input, and the layer's output
// W·x (without the bias, which engines keep in float or int32). A
// convolution's input is arranged once by im2col, one [K, N·Ho·Wo] matrix
// per group, so the output of any variant of the weight is one matrix
// product per group; a MatMul's input is the [rows, K] matrix of its
// leading axes. The product is linear in W, so the error of a quantized
// weight Wq is the product with W - Wq, and
//   layer SQNR = |W·x|² / |(W - Wq)·x|²
// keeps its precision when the error is tiny.
#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "eigenq/params.hpp"
#include "eigenq/status.hpp"

namespace eigenq::compare {

/// How a weight is applied, as ONNX describes it (index.json: "op",
/// "group", "strides", "pads", "dilations").
struct Geometry {
  std::string op;  ///< "Conv", "MatMul", "ConvTranspose", ...; empty: not known
  std::int64_t group = 1;
  std::array<std::int64_t, 2> strides{1, 1};
  std::array<std::int64_t, 2> dilations{1, 1};
  /// ONNX order: begin of H, begin of W, end of H, end of W.
  std::array<std::int64_t, 4> pads{0, 0, 0, 0};
  bool strides_given = false;
  bool pads_given = false;  ///< else "same": (k - 1) * dilation split, the smaller half before
};

/// A row-major copy of a tensor stored in either layout.
inline std::vector<float> row_major(const float* x, const Shape& shape) {
  const std::int64_t n = shape.size();
  std::vector<float> out(x, x + n);
  if (shape.layout == Layout::kRowMajor || shape.rank < 2) return out;
  // Column-major: dimension 0 is the fastest. Walk the row-major index.
  std::array<std::int64_t, kMaxRank> index{}, stride{};
  std::int64_t s = 1;
  for (int d = 0; d < shape.rank; ++d) {
    stride[d] = s;
    s *= shape.dims[d];
  }
  for (std::int64_t i = 0; i < n; ++i) {
    std::int64_t at = 0;
    for (int d = 0; d < shape.rank; ++d) at += index[d] * stride[d];
    out[i] = x[at];
    for (int d = shape.rank - 1; d >= 0 && ++index[d] == shape.dims[d]; --d) index[d] = 0;
  }
  return out;
}

/// A layer's input, arranged for products with any variant of its weight.
class LayerInput {
 public:
  using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

  /// Arranges input `x` (row-major: NCHW for a convolution; [..., K] for a
  /// MatMul) for a weight of shape `w` (out_axis 0: a convolution's
  /// [Cout, Cin/group, kH, kW] or a PyTorch linear [out, in]; out_axis 1:
  /// ONNX MatMul's [in, out]). Shapes that do not fit are refused, naming
  /// both.
  static Status make(const Geometry& g, const Shape& w, int out_axis, const float* x, const Shape& xs,
                     LayerInput* out) {
    using eigenq::detail::error;
    const std::string both = "input " + eigenq::detail::dims_text(xs) + " and weight " + eigenq::detail::dims_text(w) +
                             " (" + (g.op.empty() ? "no op" : g.op) + ")";
    LayerInput in;
    in.weight_shape_ = w;
    if (g.op == "Conv") {
      if (w.rank != 4 || xs.rank != 4 || out_axis != 0)
        return error(StatusCode::kShapeMismatch, both,
                     ": a Conv needs NCHW input and an [Cout, Cin/group, kH, kW] "
                     "weight with out_axis 0");
      if (g.group < 1 || w.dims[0] % g.group != 0 || xs.dims[1] != w.dims[1] * g.group)
        return error(StatusCode::kShapeMismatch, both, ", group ", g.group, ": expected ", w.dims[1] * g.group,
                     " input channels and Cout divisible by the group");
      in.conv(g, w, x, xs);
      if (in.inputs_.empty()) return error(StatusCode::kShapeMismatch, both, ": the output would be empty");
    } else if (g.op == "MatMul" || g.op == "Gemm" || g.op == "Linear") {
      const std::int64_t k = xs.rank ? xs.dims[xs.rank - 1] : 0;
      if (w.rank != 2 || (out_axis != 0 && out_axis != 1) || k != w.dims[out_axis == 1 ? 0 : 1] || k == 0)
        return error(StatusCode::kShapeMismatch, both, ", out_axis ", out_axis,
                     ": expected the input's last axis to be the weight's input axis");
      in.transposed_ = out_axis == 0;
      in.inputs_.emplace_back(Eigen::Map<const RowMatrix>(x, xs.size() / k, k));
    } else {
      return error(StatusCode::kInvalidArgument, both, ": the layer output of ",
                   g.op.empty() ? std::string("an unknown op") : "op " + g.op,
                   " is not computed (Conv and MatMul are)");
    }
    *out = std::move(in);
    return Status::ok();
  }

  /// Sum of squares of the layer output for weight values `w` (in the
  /// weight's layout), in double.
  double output_energy(const float* w) const {
    const std::vector<float> rows = row_major(w, weight_shape_);
    const std::int64_t out = weight_shape_.dims[0], k = weight_shape_.size() / out;
    if (groups_ == 0) {  // MatMul: X [rows, K] times W [K, out], or W^T when stored [out, K]
      const Eigen::Map<const RowMatrix> wm(rows.data(), out, k);
      return energy(transposed_ ? RowMatrix(inputs_[0] * wm.transpose()) : RowMatrix(inputs_[0] * wm));
    }
    const std::int64_t per_group = out / groups_;
    double sum = 0.0;
    for (std::int64_t g = 0; g < groups_; ++g) {
      const Eigen::Map<const RowMatrix> wg(rows.data() + g * per_group * k, per_group, k);
      sum += energy(RowMatrix(wg * inputs_[g]));
    }
    return sum;
  }

 private:
  static double energy(const RowMatrix& y) {
    double s = 0.0;
    const float* p = y.data();
    for (Eigen::Index i = 0; i < y.size(); ++i) s += static_cast<double>(p[i]) * p[i];
    return s;
  }

  void conv(const Geometry& g, const Shape& w, const float* x, const Shape& xs) {
    const std::int64_t n = xs.dims[0], cg = w.dims[1], kh = w.dims[2], kw = w.dims[3], h = xs.dims[2], wd = xs.dims[3];
    const std::array<std::int64_t, 2> k{kh, kw}, size{h, wd};
    std::array<std::int64_t, 4> pads = g.pads;
    if (!g.pads_given)
      for (int a = 0; a < 2; ++a) {  // "same" for stride 1 (ONNX SAME_UPPER: the extra pad after)
        const std::int64_t total = (k[a] - 1) * g.dilations[a];
        pads[a] = total / 2;
        pads[a + 2] = total - total / 2;
      }
    std::array<std::int64_t, 2> o{};
    for (int a = 0; a < 2; ++a) {
      const std::int64_t span = size[a] + pads[a] + pads[a + 2] - g.dilations[a] * (k[a] - 1) - 1;
      o[a] = span < 0 ? 0 : span / g.strides[a] + 1;
    }
    if (o[0] == 0 || o[1] == 0 || n == 0) return;
    groups_ = g.group;
    const std::int64_t m = o[0] * o[1], rows = cg * kh * kw;
    for (std::int64_t gi = 0; gi < g.group; ++gi) {
      RowMatrix cols(rows, n * m);
      for (std::int64_t c = 0; c < cg; ++c)
        for (std::int64_t i = 0; i < kh; ++i)
          for (std::int64_t j = 0; j < kw; ++j) {
            float* row = cols.row((c * kh + i) * kw + j).data();
            for (std::int64_t b = 0; b < n; ++b) {
              const float* plane = x + ((b * xs.dims[1] + gi * cg + c) * h) * wd;
              for (std::int64_t oy = 0; oy < o[0]; ++oy) {
                const std::int64_t y = oy * g.strides[0] - pads[0] + i * g.dilations[0];
                float* dst = row + b * m + oy * o[1];
                for (std::int64_t ox = 0; ox < o[1]; ++ox) {
                  const std::int64_t xx = ox * g.strides[1] - pads[1] + j * g.dilations[1];
                  dst[ox] = y >= 0 && y < h && xx >= 0 && xx < wd ? plane[y * wd + xx] : 0.0f;
                }
              }
            }
          }
      inputs_.push_back(std::move(cols));
    }
  }

  Shape weight_shape_;
  std::int64_t groups_ = 0;  ///< 0: a MatMul
  bool transposed_ = false;  ///< a MatMul weight stored [out, in]
  /// A convolution: one im2col matrix [Cin/group * kH * kW, N * Ho * Wo]
  /// per group. A MatMul: the input as [rows, K].
  std::vector<RowMatrix> inputs_;
};

}  // namespace eigenq::compare
