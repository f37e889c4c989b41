// Fake-quant fused into Eigen expressions (qat/functors.hpp) against
// evaluating the expression and then calling the kernel, which reads and
// writes a temporary: `(x * w).unaryExpr(fq)` should cost at most 1.5x the
// two passes. The scalar functor (Eigen cannot vectorize it: what
// FakeQuantOp was before it had a packetOp) shows what the packet path buys.
//
// Names: <what>/<scheme>/<elements>. x, w and dy are float arrays of n
// elements; the per-axis cases use a square column-major matrix with one
// parameter per row (per-axis-fastest: a packet holds consecutive channels)
// or per column (per-axis-slowest: a packet holds one channel). The command
// and the measured table are in bench/README.md.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "eigenq/eigenq.hpp"

namespace eigenq {
namespace {

constexpr std::int64_t kMaxSize = std::int64_t{1} << 22;

struct Pool {
  std::vector<float> x, w, dy, tmp, y;

  Pool() : x(kMaxSize), w(kMaxSize), dy(kMaxSize), tmp(kMaxSize), y(kMaxSize) {
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> value(-7.0f, 7.0f), gain(0.5f, 1.5f), grad(-1.0f, 1.0f);
    for (std::size_t i = 0; i < x.size(); ++i) {
      x[i] = value(rng);
      w[i] = gain(rng);
      dy[i] = grad(rng);
    }
  }
};

Pool& pool() {
  static Pool p;
  return p;
}

using Map = Eigen::Map<Eigen::ArrayXf>;
using ConstMap = Eigen::Map<const Eigen::ArrayXf>;

void set_counters(benchmark::State& state, std::int64_t n, double bytes_per_element) {
  state.SetItemsProcessed(state.iterations() * n);
  state.SetBytesProcessed(static_cast<std::int64_t>(static_cast<double>(state.iterations() * n) * bytes_per_element));
}

const FakeQuantOp<> kOp(0.05f, 3, Range::full<std::int8_t>());

// y = (x * w).unaryExpr(fq): one pass, 8 bytes in, 4 out.
void bm_fused(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  Pool& p = pool();
  const ConstMap x(p.x.data(), n), w(p.w.data(), n);
  Map y(p.y.data(), n);
  for (auto _ : state) {
    y = (x * w).unaryExpr(kOp);
    benchmark::ClobberMemory();
  }
  set_counters(state, n, 12);
}

// The same through the Tensor module's evaluator.
void bm_fused_tensor(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  Pool& p = pool();
  const Eigen::TensorMap<const Eigen::Tensor<float, 1>> x(p.x.data(), n), w(p.w.data(), n);
  Eigen::TensorMap<Eigen::Tensor<float, 1>> y(p.y.data(), n);
  for (auto _ : state) {
    y = (x * w).unaryExpr(kOp);
    benchmark::ClobberMemory();
  }
  set_counters(state, n, 12);
}

// tmp = x * w, then the fake-quant kernel on tmp.
void bm_eval_then_kernel(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  Pool& p = pool();
  const ConstMap x(p.x.data(), n), w(p.w.data(), n);
  Map tmp(p.tmp.data(), n);
  const Quantizer<std::int32_t> qz(Shape::row_major({n}), QParams::per_tensor(0.05f, 3, Range::full<std::int8_t>()));
  for (auto _ : state) {
    tmp = x * w;
    qz.fake_quantize(p.tmp.data(), p.y.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, n, 12);
}

// The functor without its packet path: a lambda Eigen cannot vectorize.
void bm_fused_scalar(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  Pool& p = pool();
  const ConstMap x(p.x.data(), n), w(p.w.data(), n);
  Map y(p.y.data(), n);
  const FakeQuantOp<> op = kOp;
  for (auto _ : state) {
    y = (x * w).unaryExpr([op](float v) { return op(v); });
    benchmark::ClobberMemory();
  }
  set_counters(state, n, 12);
}

// STE backward fused with the product: dx = (x * w).binaryExpr(dy, SteOp).
void bm_ste_fused(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  Pool& p = pool();
  const ConstMap x(p.x.data(), n), w(p.w.data(), n), dy(p.dy.data(), n);
  Map dx(p.y.data(), n);
  const SteOp<> ste(kOp);
  for (auto _ : state) {
    dx = (x * w).binaryExpr(dy, ste);
    benchmark::ClobberMemory();
  }
  set_counters(state, n, 16);
}

void bm_ste_eval_then_kernel(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  Pool& p = pool();
  const ConstMap x(p.x.data(), n), w(p.w.data(), n);
  Map tmp(p.tmp.data(), n);
  const Quantizer<std::int32_t> qz(Shape::row_major({n}), QParams::per_tensor(0.05f, 3, Range::full<std::int8_t>()));
  for (auto _ : state) {
    tmp = x * w;
    qz.ste_backward(p.tmp.data(), p.dy.data(), p.y.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, n, 16);
}

// Per axis on a square column-major matrix: axis 0 (rows) is the fastest,
// so packets hold consecutive channels; axis 1 (columns): one channel each.
QParams axis_params(int axis, std::int64_t channels) {
  std::vector<float> scale(static_cast<std::size_t>(channels));
  std::vector<std::int32_t> zero_point(scale.size());
  for (std::size_t c = 0; c < scale.size(); ++c) {
    scale[c] = 0.02f + 0.001f * static_cast<float>(c % 50);
    zero_point[c] = static_cast<std::int32_t>(c % 7) - 3;
  }
  return QParams::per_axis(axis, scale, zero_point, Range::full<std::int8_t>());
}

std::int64_t side_of(std::int64_t n) {
  std::int64_t side = 1;
  while (side * side < n) side *= 2;
  return side;
}

void bm_axis_fused(benchmark::State& state, int axis) {
  const std::int64_t side = side_of(state.range(0)), n = side * side;
  Pool& p = pool();
  using Matrix = Eigen::Map<Eigen::MatrixXf>;
  using ConstMatrix = Eigen::Map<const Eigen::MatrixXf>;
  const ConstMatrix x(p.x.data(), side, side), w(p.w.data(), side, side);
  Matrix y(p.y.data(), side, side);
  const FakeQuantAxisOp<> op(axis_params(axis, side));
  for (auto _ : state) {
    y = fake_quantize_expr(x.cwiseProduct(w), op);
    benchmark::ClobberMemory();
  }
  set_counters(state, n, 12);
}

void bm_axis_eval_then_kernel(benchmark::State& state, int axis) {
  const std::int64_t side = side_of(state.range(0)), n = side * side;
  Pool& p = pool();
  using Matrix = Eigen::Map<Eigen::MatrixXf>;
  using ConstMatrix = Eigen::Map<const Eigen::MatrixXf>;
  const ConstMatrix x(p.x.data(), side, side), w(p.w.data(), side, side);
  Matrix tmp(p.tmp.data(), side, side);
  const Quantizer<std::int32_t> qz(Shape::col_major({side, side}), axis_params(axis, side));
  for (auto _ : state) {
    tmp = x.cwiseProduct(w);
    qz.fake_quantize(p.tmp.data(), p.y.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, n, 12);
}

void sizes(benchmark::internal::Benchmark* b) {
  for (std::int64_t n : {std::int64_t{1} << 12, std::int64_t{1} << 16, std::int64_t{1} << 20, std::int64_t{1} << 22})
    b->Arg(n);
}

const bool registered = [] {
  benchmark::RegisterBenchmark("fused/per-tensor", bm_fused)->Apply(sizes);
  benchmark::RegisterBenchmark("fused_tensor/per-tensor", bm_fused_tensor)->Apply(sizes);
  benchmark::RegisterBenchmark("eval_then_kernel/per-tensor", bm_eval_then_kernel)->Apply(sizes);
  benchmark::RegisterBenchmark("fused_scalar_functor/per-tensor", bm_fused_scalar)->Apply(sizes);
  benchmark::RegisterBenchmark("ste_fused/per-tensor", bm_ste_fused)->Apply(sizes);
  benchmark::RegisterBenchmark("ste_eval_then_kernel/per-tensor", bm_ste_eval_then_kernel)->Apply(sizes);
  for (int axis : {0, 1}) {
    const std::string scheme = axis == 0 ? "per-axis-fastest" : "per-axis-slowest";
    benchmark::RegisterBenchmark(("fused/" + scheme).c_str(), [axis](benchmark::State& st) {
      bm_axis_fused(st, axis);
    })->Apply(sizes);
    benchmark::RegisterBenchmark(("eval_then_kernel/" + scheme).c_str(), [axis](benchmark::State& st) {
      bm_axis_eval_then_kernel(st, axis);
    })->Apply(sizes);
  }
  return true;
}();

}  // namespace
}  // namespace eigenq
