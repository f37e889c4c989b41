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

// The pool's first n elements as arrays, and the kernel the fused forms
// are compared with.
struct Arrays {
  ConstMap x, w, dy;
  Map tmp, y;
  Quantizer<std::int32_t> qz;
};

// Times body(arrays) on n = state.range(0) elements, each moving `bytes`.
template <class Body>
void run(benchmark::State& state, double bytes, Body&& body) {
  const std::int64_t n = state.range(0);
  Pool& p = pool();
  Arrays a{ConstMap(p.x.data(), n),
           ConstMap(p.w.data(), n),
           ConstMap(p.dy.data(), n),
           Map(p.tmp.data(), n),
           Map(p.y.data(), n),
           Quantizer<std::int32_t>(Shape::row_major({n}), QParams::per_tensor(0.05f, 3, Range::full<std::int8_t>()))};
  for (auto _ : state) {
    body(a);
    benchmark::ClobberMemory();
  }
  set_counters(state, n, bytes);
}

// y = (x * w).unaryExpr(fq) through the Tensor module's evaluator.
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

// fake_quantize_expr(x * w, per-axis functor), or tmp = x * w and the
// per-axis kernel.
void bm_axis(benchmark::State& state, int axis, bool fused) {
  const std::int64_t side = side_of(state.range(0)), n = side * side;
  Pool& p = pool();
  using Matrix = Eigen::Map<Eigen::MatrixXf>;
  using ConstMatrix = Eigen::Map<const Eigen::MatrixXf>;
  const ConstMatrix x(p.x.data(), side, side), w(p.w.data(), side, side);
  Matrix tmp(p.tmp.data(), side, side), y(p.y.data(), side, side);
  const QParams params = axis_params(axis, side);
  const FakeQuantAxisOp<> op(params);
  const Quantizer<std::int32_t> qz(Shape::col_major({side, side}), params);
  for (auto _ : state) {
    if (fused) {
      y = fake_quantize_expr(x.cwiseProduct(w), op);
    } else {
      tmp = x.cwiseProduct(w);
      qz.fake_quantize(tmp.data(), y.data());
    }
    benchmark::ClobberMemory();
  }
  set_counters(state, n, 12);
}

void sizes(benchmark::internal::Benchmark* b) {
  for (std::int64_t n : {std::int64_t{1} << 12, std::int64_t{1} << 16, std::int64_t{1} << 20, std::int64_t{1} << 22})
    b->Arg(n);
}

const bool registered = [] {
  // y = (x * w).unaryExpr(fq): one pass, 8 bytes in, 4 out; against tmp = x * w, then the kernel.
  benchmark::RegisterBenchmark("fused/per-tensor", [](benchmark::State& st) {
    run(st, 12, [](Arrays& a) { a.y = (a.x * a.w).unaryExpr(kOp); });
  })->Apply(sizes);
  benchmark::RegisterBenchmark("fused_tensor/per-tensor", bm_fused_tensor)->Apply(sizes);
  benchmark::RegisterBenchmark("eval_then_kernel/per-tensor", [](benchmark::State& st) {
    run(st, 12, [](Arrays& a) {
      a.tmp = a.x * a.w;
      a.qz.fake_quantize(a.tmp.data(), a.y.data());
    });
  })->Apply(sizes);
  // The functor without its packet path: a lambda Eigen cannot vectorize.
  benchmark::RegisterBenchmark("fused_scalar_functor/per-tensor", [](benchmark::State& st) {
    run(st, 12, [](Arrays& a) { a.y = (a.x * a.w).unaryExpr([](float v) { return kOp(v); }); });
  })->Apply(sizes);
  // STE backward fused with the product: dx = (x * w).binaryExpr(dy, SteOp).
  benchmark::RegisterBenchmark("ste_fused/per-tensor", [](benchmark::State& st) {
    run(st, 16, [](Arrays& a) { a.y = (a.x * a.w).binaryExpr(a.dy, SteOp<>(kOp)); });
  })->Apply(sizes);
  benchmark::RegisterBenchmark("ste_eval_then_kernel/per-tensor", [](benchmark::State& st) {
    run(st, 16, [](Arrays& a) {
      a.tmp = a.x * a.w;
      a.qz.ste_backward(a.tmp.data(), a.dy.data(), a.y.data());
    });
  })->Apply(sizes);
  for (int axis : {0, 1}) {
    const std::string scheme = axis == 0 ? "per-axis-fastest" : "per-axis-slowest";
    for (bool fused : {true, false})
      benchmark::RegisterBenchmark(((fused ? "fused/" : "eval_then_kernel/") + scheme).c_str(),
                                   [axis, fused](benchmark::State& st) { bm_axis(st, axis, fused); })
          ->Apply(sizes);
  }
  return true;
}();

}  // namespace
}  // namespace eigenq
