// The fused output stage (output_stage.hpp): whole quantized layers of ONNX
// Runtime 1.30 (QLinearMatMul, QLinearConv; tests/data/onnx_qlinear.txt)
// reproduced bit for bit from a naive int32 GEMM or im2col convolution and
// the stage under Fp32Rounding (ORT's MLAS: float32 scale, clamp, round half
// to even); a TFLite-reference-formula layer per rule; and every kernel path
// against the portable one and the one-element reference
// (requantize_offset), over odd sizes, both channel axes, per-tensor and
// per-channel multipliers, extreme offsets and accumulators (the int32 sum
// wraps), asymmetric weights. Every test runs on every path this CPU
// supports and prints which.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "eigenq/output_stage.hpp"
#include "golden.hpp"
#include "paths.hpp"

namespace eigenq {
namespace {

using testing_paths::for_each_supported_path;

constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t kMax = std::numeric_limits<std::int32_t>::max();

// ---------------------------------------------------------------------------
// Activation range and bias helpers

TEST(OutputStage, ActivationRange) {
  const Range full = Range::full<std::int8_t>();
  EXPECT_EQ(activation_range(Activation::kNone, 0.05f, -3, full), full);
  EXPECT_EQ(activation_range(Activation::kRelu, 0.05f, -3, full), (Range{-3, 127}));
  // 6 / 0.05f = 120.00000x -> 120; 6 / 0.048f = 125 -> 122 + 125 clamps at 127.
  EXPECT_EQ(activation_range(Activation::kRelu6, 0.05f, -3, full), (Range{-3, 117}));
  EXPECT_EQ(activation_range(Activation::kRelu6, 0.048f, -3, full), (Range{-3, 122}));
  // A tie: 6 / 0.48f = 12.5 rounds away from zero (TfLiteRound) -> 13.
  const float s = 6.0f / 12.5f;
  ASSERT_EQ(6.0f / s, 12.5f);
  EXPECT_EQ(activation_range(Activation::kRelu6, s, 0, full), (Range{0, 13}));
}

TEST(OutputStage, QuantizeBias) {
  const float bias[] = {1.0f, -2.5f, 0.375f, 3e9f, -3e9f};
  const float ws[] = {0.5f};
  std::int32_t py[5], tf[5];
  ASSERT_TRUE(quantize_bias(bias, 5, 0.25f, ws, 1, BiasRounding::kPytorch, py).is_ok());
  ASSERT_TRUE(quantize_bias(bias, 5, 0.25f, ws, 1, BiasRounding::kTflite, tf).is_ok());
  // scale 0.125: 8, -20, 3, saturated.
  EXPECT_EQ(std::vector<std::int32_t>(py, py + 5), (std::vector<std::int32_t>{8, -20, 3, kMax, kMin}));
  EXPECT_EQ(std::vector<std::int32_t>(tf, tf + 5), (std::vector<std::int32_t>{8, -20, 3, kMax, -kMax}));
  // Ties: 0.0625 / 0.125 = 0.5 -> 0 (PyTorch, half to even) or 1 (TFLite, away).
  const float tie[] = {0.0625f, -0.1875f};
  ASSERT_TRUE(quantize_bias(tie, 2, 0.25f, ws, 1, BiasRounding::kPytorch, py).is_ok());
  ASSERT_TRUE(quantize_bias(tie, 2, 0.25f, ws, 1, BiasRounding::kTflite, tf).is_ok());
  EXPECT_EQ(py[0], 0);
  EXPECT_EQ(py[1], -2);
  EXPECT_EQ(tf[0], 1);
  EXPECT_EQ(tf[1], -2);
  EXPECT_FALSE(quantize_bias(bias, 5, 0.25f, ws, 2, BiasRounding::kTflite, tf).is_ok());
}

TEST(OutputStage, Sums) {
  const std::int8_t m[] = {1, -2, 3, 4, 5, -128};  // [2, 3]
  std::int32_t rows[2], cols[3];
  sum_rows(m, 2, 3, rows);
  sum_columns(m, 2, 3, cols);
  EXPECT_EQ(std::vector<std::int32_t>(rows, rows + 2), (std::vector<std::int32_t>{2, -119}));
  EXPECT_EQ(std::vector<std::int32_t>(cols, cols + 3), (std::vector<std::int32_t>{5, 3, -125}));
}

// ---------------------------------------------------------------------------
// ONNX Runtime 1.30: QLinearMatMul and QLinearConv

struct Layer {
  std::string name;
  std::int64_t rows = 0, cols = 0, depth = 0;
  int axis = 1;
  std::vector<std::int32_t> acc, input_sums, weight_sums, bias, wzp;
  std::vector<float> wscale;
  float xscale = 0, yscale = 0;
  std::int32_t xzp = 0, yzp = 0;
  std::vector<std::int64_t> y;
  bool uint8 = false;
};

Layer parse_layer(const golden::Case& c) {
  Layer l;
  l.name = c.name;
  l.uint8 = c.text("x_type") == "uint8";
  const auto xs = c.ints("x_shape"), ws = c.ints("w_shape"), x = c.ints("x"), w = c.ints("w");
  l.xscale = c.real("x_scale");
  l.yscale = c.real("y_scale");
  l.xzp = static_cast<std::int32_t>(c.integer("x_zp"));
  l.yzp = static_cast<std::int32_t>(c.integer("y_zp"));
  l.wscale = c.floats("w_scale");
  for (auto z : c.ints("w_zp")) l.wzp.push_back(static_cast<std::int32_t>(z));
  for (auto b : c.ints("bias")) l.bias.push_back(static_cast<std::int32_t>(b));
  l.y = c.ints("y");
  if (c.text("op") == "matmul") {  // x [M, K] w [K, N] -> [M, N], channels on axis 1
    const std::int64_t M = xs[0], K = xs[1], N = ws[1];
    l.rows = M, l.cols = N, l.depth = K, l.axis = 1;
    l.acc.assign(static_cast<std::size_t>(M * N), 0);
    for (std::int64_t m = 0; m < M; ++m)
      for (std::int64_t n = 0; n < N; ++n) {
        std::int32_t s = 0;
        for (std::int64_t k = 0; k < K; ++k) s += static_cast<std::int32_t>(x[m * K + k] * w[k * N + n]);
        l.acc[static_cast<std::size_t>(m * N + n)] = s;
      }
    std::vector<std::int32_t> xi(x.begin(), x.end()), wi(w.begin(), w.end());
    l.input_sums.resize(static_cast<std::size_t>(M));
    l.weight_sums.resize(static_cast<std::size_t>(N));
    sum_rows(xi.data(), M, K, l.input_sums.data());
    sum_columns(wi.data(), K, N, l.weight_sums.data());
  } else {  // x [1, Cin, H, W], w [Cout, Cin, 3, 3], pads 1 -> [Cout, H * W], channels on axis 0
    const std::int64_t Cin = xs[1], H = xs[2], W = xs[3], Cout = ws[0], K = Cin * 9, P = H * W;
    l.rows = Cout, l.cols = P, l.depth = K, l.axis = 0;
    // im2col [K, P]; the padding holds the input zero point (a real 0).
    std::vector<std::int32_t> col(static_cast<std::size_t>(K * P));
    for (std::int64_t ci = 0; ci < Cin; ++ci)
      for (std::int64_t ky = 0; ky < 3; ++ky)
        for (std::int64_t kx = 0; kx < 3; ++kx)
          for (std::int64_t oy = 0; oy < H; ++oy)
            for (std::int64_t ox = 0; ox < W; ++ox) {
              const std::int64_t iy = oy + ky - 1, ix = ox + kx - 1;
              const bool inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
              col[static_cast<std::size_t>(((ci * 3 + ky) * 3 + kx) * P + oy * W + ox)] =
                  inside ? static_cast<std::int32_t>(x[static_cast<std::size_t>((ci * H + iy) * W + ix)]) : l.xzp;
            }
    l.acc.assign(static_cast<std::size_t>(Cout * P), 0);
    for (std::int64_t c = 0; c < Cout; ++c)
      for (std::int64_t p = 0; p < P; ++p) {
        std::int32_t s = 0;
        for (std::int64_t k = 0; k < K; ++k)
          s += static_cast<std::int32_t>(w[static_cast<std::size_t>(c * K + k)]) *
               col[static_cast<std::size_t>(k * P + p)];
        l.acc[static_cast<std::size_t>(c * P + p)] = s;
      }
    std::vector<std::int32_t> wi(w.begin(), w.end());
    l.input_sums.resize(static_cast<std::size_t>(P));
    l.weight_sums.resize(static_cast<std::size_t>(Cout));
    sum_columns(col.data(), K, P, l.input_sums.data());
    sum_rows(wi.data(), Cout, K, l.weight_sums.data());
  }
  return l;
}

LayerParams layer_params(const Layer& l) {
  LayerParams p;
  p.rows = l.rows;
  p.cols = l.cols;
  p.channel_axis = l.axis;
  p.depth = l.depth;
  p.input_scale = l.xscale;
  p.input_zero_point = l.xzp;
  p.weight_scale = l.wscale.data();
  p.weight_scale_count = l.wscale.size();
  p.weight_zero_point = l.wzp.data();
  p.weight_zero_point_count = l.wzp.size();
  p.bias = l.bias.empty() ? nullptr : l.bias.data();
  p.weight_sums = l.weight_sums.data();
  p.output_scale = l.yscale;
  p.output_zero_point = l.yzp;
  return p;
}

template <class Out, Path P, class Rule = Fp32Rounding>
std::vector<std::int64_t> run_layer(const Layer& l) {
  OutputStage<Out, Rule, P> stage;
  const Status s = OutputStage<Out, Rule, P>::from_layer(layer_params(l), &stage);
  EXPECT_TRUE(s.is_ok()) << s.message();
  std::vector<Out> y(l.acc.size() + 1, Out{42});  // a guard after the end
  stage.apply(l.acc.data(), y.data(), l.input_sums.data());
  EXPECT_EQ(y.back(), Out{42}) << l.name << ": wrote past the end";
  return std::vector<std::int64_t>(y.begin(), y.end() - 1);
}

TEST(OutputStage, OnnxRuntimeQLinear) {
  const auto cases = golden::load("onnx_qlinear.txt");
  ASSERT_GE(cases.size(), 14u);
  int asymmetric = 0, per_channel = 0, conv = 0, ties = 0, ties_elsewhere = 0;
  for (const golden::Case& c : cases) {
    const Layer l = parse_layer(c);
    asymmetric += std::any_of(l.wzp.begin(), l.wzp.end(), [](std::int32_t z) { return z != 0; });
    per_channel += l.wscale.size() > 1;
    conv += l.axis == 0;
    // The outputs must not all sit on one bound, or the case shows little.
    const auto [lo, hi] = std::minmax_element(l.y.begin(), l.y.end());
    EXPECT_LT(*lo, *hi) << l.name;
    for_each_supported_path([&](auto path) {
      constexpr Path P = decltype(path)::value;
      const std::vector<std::int64_t> y = l.uint8 ? run_layer<std::uint8_t, P>(l) : run_layer<std::int8_t, P>(l);
      EXPECT_EQ(y, l.y) << l.name << " (line " << c.line << ") on " << path_name(P);
    });
    if (l.name.find("_ties") != std::string::npos) {  // ties tell the rule: rounding half up misses some
      ++ties;
      const std::vector<std::int64_t> up = l.uint8 ? run_layer<std::uint8_t, Path::kScalar, SingleRounding>(l)
                                                   : run_layer<std::int8_t, Path::kScalar, SingleRounding>(l);
      for (std::size_t i = 0; i < up.size(); ++i) ties_elsewhere += up[i] != l.y[i];
    }
  }
  EXPECT_GT(asymmetric, 0);
  EXPECT_GT(per_channel, 0);
  EXPECT_GT(conv, 0);
  EXPECT_GT(ties, 0);
  EXPECT_GT(ties_elsewhere, 0);
  std::printf(
      "ONNX Runtime QLinear layers: %zu (%d with ties, where SingleRounding differs in %d outputs), on paths: %s\n",
      cases.size(), ties, ties_elsewhere, testing_paths::supported_path_names().c_str());
}

// ---------------------------------------------------------------------------
// TFLite's reference formula, one layer per rule

// The TFLite reference kernel for a fully connected layer with int8
// per-channel weights (reference_integer_ops::FullyConnectedPerChannel, with
// the rule in place of MultiplyByQuantizedMultiplier): acc = bias[c] +
// sum_k (x + input_offset) * w, then the rule, + output offset, clamp.
template <class Rule>
void tflite_layer_case() {
  std::mt19937 rng(1234);
  const std::int64_t M = 7, K = 19, N = 37;
  std::uniform_int_distribution<int> byte(-128, 127), bias_d(-3000, 3000);
  std::vector<std::int8_t> x(static_cast<std::size_t>(M * K)), w(static_cast<std::size_t>(N * K));
  for (auto& v : x) v = static_cast<std::int8_t>(byte(rng));
  for (auto& v : w) v = static_cast<std::int8_t>(std::max(-127, byte(rng)));
  std::vector<std::int32_t> bias(static_cast<std::size_t>(N));
  for (auto& b : bias) b = bias_d(rng);
  std::vector<float> wscale(static_cast<std::size_t>(N));
  for (auto& s : wscale) s = std::ldexp(1.0f + static_cast<float>(rng() % 1000) / 1000.0f, -8);
  const float xscale = 0.021f, yscale = 0.043f;
  const std::int32_t xzp = -7, yzp = 5;
  const Range range = activation_range(Activation::kRelu6, yscale, yzp, Range::full<std::int8_t>());

  std::vector<std::int32_t> acc(static_cast<std::size_t>(M * N)), wsum(static_cast<std::size_t>(N));
  for (std::int64_t m = 0; m < M; ++m)
    for (std::int64_t n = 0; n < N; ++n) {
      std::int32_t s = 0;
      for (std::int64_t k = 0; k < K; ++k)
        s += x[static_cast<std::size_t>(m * K + k)] * w[static_cast<std::size_t>(n * K + k)];
      acc[static_cast<std::size_t>(m * N + n)] = s;
    }
  sum_rows(w.data(), N, K, wsum.data());
  LayerParams p;
  p.rows = M, p.cols = N, p.channel_axis = 1, p.depth = K;
  p.input_scale = xscale, p.input_zero_point = xzp;
  p.weight_scale = wscale.data(), p.weight_scale_count = wscale.size();
  p.bias = bias.data(), p.weight_sums = wsum.data();
  p.output_scale = yscale, p.output_zero_point = yzp, p.activation = Activation::kRelu6;

  // The expected values: the reference formula, with the multipliers TFLite
  // (double) or XNNPACK (float) computes, through the rule's scalar reference.
  std::vector<std::int8_t> expected(acc.size());
  for (std::int64_t m = 0; m < M; ++m)
    for (std::int64_t n = 0; n < N; ++n) {
      const std::size_t c = static_cast<std::size_t>(n);
      std::int32_t a = bias[c];
      for (std::int64_t k = 0; k < K; ++k)
        a += (x[static_cast<std::size_t>(m * K + k)] - xzp) * w[static_cast<std::size_t>(n * K + k)];
      const double real = static_cast<double>(xscale) * static_cast<double>(wscale[c]) / static_cast<double>(yscale);
      QuantizedMultiplier q{};
      if constexpr (Rule::kFixedPoint) q = quantize_multiplier(real, Rule::style);
      const float scale = xscale * wscale[c] / yscale;
      expected[static_cast<std::size_t>(m * N + n)] =
          static_cast<std::int8_t>(requantize<Rule>(a, q.multiplier, q.shift, scale, RequantizeArgs{0, yzp, range}));
    }
  for_each_supported_path([&](auto path) {
    constexpr Path P = decltype(path)::value;
    OutputStage<std::int8_t, Rule, P> stage;
    ASSERT_TRUE((OutputStage<std::int8_t, Rule, P>::from_layer(p, &stage).is_ok()));
    std::vector<std::int8_t> y(acc.size());
    stage.apply(acc.data(), y.data());
    EXPECT_EQ(y, expected) << Rule::name() << " on " << path_name(P);
  });
}

TEST(OutputStage, TfliteReferenceFormulaGemmlowp) { tflite_layer_case<GemmlowpRounding>(); }
TEST(OutputStage, TfliteReferenceFormulaSingle) { tflite_layer_case<SingleRounding>(); }
TEST(OutputStage, TfliteReferenceFormulaUpward) { tflite_layer_case<TvmUpward>(); }
TEST(OutputStage, TfliteReferenceFormulaToNearest) { tflite_layer_case<TvmToNearest>(); }
TEST(OutputStage, TfliteReferenceFormulaFp32) { tflite_layer_case<Fp32Rounding>(); }

// ---------------------------------------------------------------------------
// gemmlowp's and XNNPACK's conventions, their formulas written out

TEST(OutputStage, GemmlowpPipeline) {
  // TFLite's uint8 convolution through gemmlowp: filter [Cout, K] (lhs) times
  // im2col [K, P] (rhs), offsets added to the operands, bias per row.
  std::mt19937 rng(5);
  const std::int64_t Cout = 5, K = 11, P = 19;
  std::vector<std::int32_t> lhs(static_cast<std::size_t>(Cout * K)), rhs(static_cast<std::size_t>(K * P));
  for (auto& v : lhs) v = static_cast<std::int32_t>(rng() % 256);
  for (auto& v : rhs) v = static_cast<std::int32_t>(rng() % 256);
  const std::int32_t bias[] = {-3000, 0, 1234, 77777, -99};
  const std::int32_t multiplier[] = {1395864371}, result_shift[] = {9};
  GemmlowpPipeline g;
  g.rows = Cout, g.cols = P, g.depth = K, g.weights_are_lhs = true;
  g.lhs_offset = -131, g.rhs_offset = -118;
  g.bias = bias;
  g.result_fixedpoint_multiplier = multiplier, g.result_shift = result_shift;
  g.result_offset_after_shift = 121, g.clamp_min = 5, g.clamp_max = 250;
  std::vector<std::int32_t> acc(static_cast<std::size_t>(Cout * P)), wsum(static_cast<std::size_t>(Cout)),
      xsum(static_cast<std::size_t>(P));
  std::vector<std::uint8_t> expected(acc.size());
  for (std::int64_t r = 0; r < Cout; ++r)
    for (std::int64_t c = 0; c < P; ++c) {
      std::int32_t raw = 0, shifted = 0;
      for (std::int64_t k = 0; k < K; ++k) {
        const std::int32_t l = lhs[static_cast<std::size_t>(r * K + k)], x = rhs[static_cast<std::size_t>(k * P + c)];
        raw += l * x;
        shifted += (l + g.lhs_offset) * (x + g.rhs_offset);
      }
      acc[static_cast<std::size_t>(r * P + c)] = raw;
      const std::int32_t v =
          rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted + bias[r], multiplier[0]),
                                 result_shift[0]) +
          g.result_offset_after_shift;
      expected[static_cast<std::size_t>(r * P + c)] =
          static_cast<std::uint8_t>(std::min(std::max(v, g.clamp_min), g.clamp_max));
    }
  sum_rows(lhs.data(), Cout, K, wsum.data());
  sum_columns(rhs.data(), K, P, xsum.data());
  for_each_supported_path([&](auto path) {
    constexpr Path Pa = decltype(path)::value;
    using Stage = OutputStage<std::uint8_t, GemmlowpRounding, Pa>;
    Stage stage;
    ASSERT_TRUE(Stage::from_gemmlowp(g, wsum.data(), &stage).is_ok());
    EXPECT_TRUE(stage.needs_input_sums());
    std::vector<std::uint8_t> y(acc.size());
    stage.apply(acc.data(), y.data(), xsum.data());
    EXPECT_EQ(y, expected) << path_name(Pa);
  });
}

TEST(OutputStage, XnnpackQc8) {
  // XNNPACK's qc8 GEMM, fp32 requantization (scalar-fmagic's arithmetic):
  // acc starts from the packed bias (bias - izp * ksum), then
  // lrintf(clamp(float(acc) * scale[c], min - zp, max - zp)) + zp.
  std::mt19937 rng(6);
  const std::int64_t M = 13, N = 7, K = 9;
  const std::int32_t izp = -9;
  std::vector<std::int32_t> x(static_cast<std::size_t>(M * K)), w(static_cast<std::size_t>(N * K));
  for (auto& v : x) v = static_cast<std::int32_t>(rng() % 256) - 128;
  for (auto& v : w) v = static_cast<std::int32_t>(rng() % 255) - 127;
  std::vector<std::int32_t> packed(static_cast<std::size_t>(N)), ksum(static_cast<std::size_t>(N)),
      acc(static_cast<std::size_t>(M * N));
  std::vector<float> scale(static_cast<std::size_t>(N));
  sum_rows(w.data(), N, K, ksum.data());
  for (std::size_t c = 0; c < packed.size(); ++c) {
    packed[c] = static_cast<std::int32_t>(rng() % 20000) - 10000 - izp * ksum[c];
    scale[c] = 0.0004f + 0.0001f * static_cast<float>(c);
  }
  XnnpackQs8Params p;
  p.pixels = M, p.channels = N, p.scale = scale.data(), p.scale_count = scale.size();
  p.output_zero_point = 4, p.output_min = -100, p.output_max = 90, p.packed_bias = packed.data();
  std::vector<std::int8_t> expected(acc.size());
  for (std::int64_t m = 0; m < M; ++m)
    for (std::int64_t n = 0; n < N; ++n) {
      std::int32_t raw = 0, vacc = packed[static_cast<std::size_t>(n)];
      for (std::int64_t k = 0; k < K; ++k) {
        raw += x[static_cast<std::size_t>(m * K + k)] * w[static_cast<std::size_t>(n * K + k)];
        vacc += x[static_cast<std::size_t>(m * K + k)] * w[static_cast<std::size_t>(n * K + k)];
      }
      acc[static_cast<std::size_t>(m * N + n)] = raw;
      float f = static_cast<float>(vacc) * scale[static_cast<std::size_t>(n)];
      f = std::min(std::max(f, static_cast<float>(p.output_min - p.output_zero_point)),
                   static_cast<float>(p.output_max - p.output_zero_point));
      expected[static_cast<std::size_t>(m * N + n)] =
          static_cast<std::int8_t>(static_cast<std::int32_t>(std::lrintf(f)) + p.output_zero_point);
    }
  for_each_supported_path([&](auto path) {
    constexpr Path Pa = decltype(path)::value;
    using Stage = OutputStage<std::int8_t, Fp32Rounding, Pa>;
    Stage stage;
    ASSERT_TRUE(Stage::from_xnnpack_qs8(p, &stage).is_ok());
    std::vector<std::int8_t> y(acc.size());
    stage.apply(acc.data(), y.data());
    EXPECT_EQ(y, expected) << path_name(Pa);
  });
}

// ---------------------------------------------------------------------------
// Every path against the portable path and the one-element reference

std::int32_t draw_int(std::mt19937& rng, std::int32_t typical) {
  switch (rng() % 8) {
    case 0:
      return kMin + static_cast<std::int32_t>(rng() % 4);
    case 1:
      return kMax - static_cast<std::int32_t>(rng() % 4);
    case 2:
      return static_cast<std::int32_t>(rng());
    default:
      return static_cast<std::int32_t>(rng() % (2u * static_cast<std::uint32_t>(typical) + 1)) - typical;
  }
}

template <class Out, class Rule>
void sweep(std::mt19937& rng, std::int64_t rows, std::int64_t cols, int axis, bool per_channel, bool asymmetric,
           int* cases) {
  const std::int64_t C = axis == 1 ? cols : rows, other = axis == 1 ? rows : cols;
  const std::size_t nm = per_channel ? static_cast<std::size_t>(C) : 1;
  std::vector<std::int32_t> multiplier(nm), shift(nm), offset(static_cast<std::size_t>(C)),
      wzp(static_cast<std::size_t>(C));
  std::vector<float> scale(nm);
  for (std::size_t i = 0; i < nm; ++i) {
    multiplier[i] = (1 << 30) + static_cast<std::int32_t>(rng() % (1u << 30));
    shift[i] = static_cast<std::int32_t>(rng() % 20) - 16 + (rng() % 16 == 0 ? 14 : 0);
    scale[i] = std::ldexp(1.0f + static_cast<float>(rng() % 4096) / 4096.0f, -static_cast<int>(rng() % 20) + 2);
  }
  for (auto& o : offset) o = draw_int(rng, 100000);
  for (auto& z : wzp) z = asymmetric ? static_cast<std::int32_t>(rng() % 256) - 128 : 0;
  std::vector<std::int32_t> acc(static_cast<std::size_t>(rows * cols)), sums(static_cast<std::size_t>(other));
  for (auto& a : acc) a = draw_int(rng, 1 << 16);
  for (auto& s : sums) s = draw_int(rng, 5000);
  const std::int32_t zp = static_cast<std::int32_t>(rng() % 64) - (std::is_same_v<Out, std::int8_t> ? 32 : 0) +
                          (std::is_same_v<Out, std::uint8_t> ? 96 : 0);
  Range range = Range::full<Out>();
  if (rng() % 3 == 0) range.qmin = zp;  // ReLU
  if (rng() % 4 == 0) range.qmax = std::min(range.qmax, zp + 40);

  OutputStageView v;
  v.rows = rows, v.cols = cols, v.channel_axis = axis;
  v.requantize.granularity = per_channel ? Granularity::kPerAxis : Granularity::kPerTensor;
  v.requantize.axis = axis;
  v.requantize.multiplier = multiplier.data(), v.requantize.shift = shift.data(), v.requantize.scale = scale.data();
  v.requantize.count = nm;
  v.requantize.output_zero_point = zp;
  v.requantize.range = range;
  v.offset = offset.data(), v.offset_count = offset.size();
  v.weight_zero_point = wzp.data(), v.weight_zero_point_count = wzp.size();

  // The reference, element by element.
  std::vector<Out> expected(acc.size());
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t k = 0; k < cols; ++k) {
      const std::size_t c = static_cast<std::size_t>(axis == 1 ? k : r),
                        o = static_cast<std::size_t>(axis == 1 ? r : k);
      const std::size_t mi = per_channel ? c : 0;
      const std::int32_t term =
          static_cast<std::int32_t>(static_cast<std::uint32_t>(-wzp[c]) * static_cast<std::uint32_t>(sums[o]));
      expected[static_cast<std::size_t>(r * cols + k)] = static_cast<Out>(
          requantize_offset<Rule>(acc[static_cast<std::size_t>(r * cols + k)], wrapping_add(offset[c], term),
                                  multiplier[mi], shift[mi], scale[mi], RequantizeArgs{0, zp, range}));
    }
  for_each_supported_path([&](auto path) {
    constexpr Path P = decltype(path)::value;
    OutputStage<Out, Rule, P> stage;
    const Status s = OutputStage<Out, Rule, P>::create(v, &stage);
    ASSERT_TRUE(s.is_ok()) << s.message();
    std::vector<Out> y(acc.size() + 3, Out{42});
    stage.apply(acc.data(), y.data() + 1, sums.data());  // misaligned by one, guarded both sides
    ASSERT_EQ(y.front(), Out{42});
    ASSERT_EQ(y.back(), Out{42});
    ASSERT_EQ(y[y.size() - 2], Out{42});
    ASSERT_TRUE(std::equal(expected.begin(), expected.end(), y.begin() + 1))
        << Rule::name() << " " << rows << "x" << cols << " axis " << axis << (per_channel ? " per channel" : "")
        << (asymmetric ? " asymmetric" : "") << " on " << path_name(P);
  });
  ++*cases;
}

template <class Out, class Rule>
void sweep_all(int* cases) {
  std::mt19937 rng(77);
  const std::int64_t sizes[][2] = {{1, 1},   {1, 7},   {3, 5},   {2, 16},  {5, 17},  {4, 33}, {9, 64}, {3, 65},
                                   {2, 255}, {3, 256}, {2, 257}, {1, 300}, {7, 129}, {33, 3}, {40, 1}};
  for (const auto& s : sizes)
    for (int axis = 0; axis < 2; ++axis)
      for (int per_channel = 0; per_channel < 2; ++per_channel)
        for (int asymmetric = 0; asymmetric < 2; ++asymmetric)
          sweep<Out, Rule>(rng, s[0], s[1], axis, per_channel != 0, asymmetric != 0, cases);
}

template <class Rule>
void sweep_rule() {
  int cases = 0;
  sweep_all<std::int8_t, Rule>(&cases);
  sweep_all<std::uint8_t, Rule>(&cases);
  std::printf("%s: %d tiles, every path vs the reference: %s\n", Rule::name(), cases,
              testing_paths::supported_path_names().c_str());
}

TEST(OutputStageSimd, Gemmlowp) { sweep_rule<GemmlowpRounding>(); }
TEST(OutputStageSimd, Single) { sweep_rule<SingleRounding>(); }
TEST(OutputStageSimd, Upward) { sweep_rule<TvmUpward>(); }
TEST(OutputStageSimd, ToNearest) { sweep_rule<TvmToNearest>(); }
TEST(OutputStageSimd, Fp32) { sweep_rule<Fp32Rounding>(); }

TEST(OutputStage, RefusesBadParameters) {
  const std::int32_t m[] = {1 << 30}, sh[] = {0}, off[] = {1, 2};
  OutputStageView v;
  v.rows = 2, v.cols = 3, v.channel_axis = 1;
  v.requantize.multiplier = m, v.requantize.shift = sh, v.requantize.count = 1;
  v.requantize.range = Range::full<std::int8_t>();
  OutputStage<std::int8_t> stage;
  EXPECT_TRUE(OutputStage<std::int8_t>::create(v, &stage).is_ok());
  v.offset = off, v.offset_count = 2;  // 2 offsets for 3 channels
  EXPECT_FALSE(OutputStage<std::int8_t>::create(v, &stage).is_ok());
  v.offset_count = 1;
  v.requantize.input_zero_point = 3;  // belongs in the offsets
  EXPECT_FALSE(OutputStage<std::int8_t>::create(v, &stage).is_ok());
  v.requantize.input_zero_point = 0;
  v.channel_axis = 2;
  EXPECT_FALSE(OutputStage<std::int8_t>::create(v, &stage).is_ok());
}

}  // namespace
}  // namespace eigenq
