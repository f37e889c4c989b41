// Parallel entry points on ThreadPoolExecutor at 1 and 2 threads (and the
// machine's own thread count when larger): int8 quantize, dequantize,
// fake-quant forward and backward (fake_quantize_mask then ste_backward),
// int4 group-wise quantize (blocks of 128 along rows), the histogram
// observer (2048 bins, the same batch again and again), at 128Ki (two tasks
// of the grain), 1Mi and 16Mi floats, beside a parallel copy loop of the
// same tensor cut the same way (the limit out of cache); and the cost of
// one parallel_for of two empty tasks (what chooses the grain, see
// slices.hpp). See bench/README.md for the command and the measured table.
//
// Names: <op>/<elements>/threads:<n>; copy/<elements>/threads:<n>;
// pool/empty/threads:<n>; grain/<elements>/quantize/1048576/threads:<n>
// (the same tensor cut at another grain). Rates are bytes read and written
// per second.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "eigenq/observers.hpp"
#include "eigenq/packed.hpp"
#include "eigenq/parallel.hpp"
#include "eigenq/scheme.hpp"

namespace eigenq {
namespace {

constexpr std::int64_t kMaxSize = std::int64_t{1} << 24;

struct Pool {
  std::vector<float> x, dy, y, dx;
  std::vector<std::int8_t> q;
  std::vector<std::uint8_t> mask, packed;
  Pool() : x(kMaxSize), dy(kMaxSize), y(kMaxSize), dx(kMaxSize), q(kMaxSize), mask(kMaxSize), packed(kMaxSize / 2) {
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> value(-7.0f, 7.0f);
    for (std::int64_t i = 0; i < kMaxSize; ++i) {
      x[static_cast<std::size_t>(i)] = value(rng);
      dy[static_cast<std::size_t>(i)] = value(rng);
      q[static_cast<std::size_t>(i)] = static_cast<std::int8_t>(rng());
    }
  }
};

Pool& data() {
  static Pool p;
  return p;
}

ThreadPoolExecutor& executor(int threads) {
  static std::unique_ptr<ThreadPoolExecutor> pools[256];
  if (!pools[threads]) pools[threads] = std::make_unique<ThreadPoolExecutor>(threads);
  return *pools[threads];
}

void set_counters(benchmark::State& state, std::int64_t n, std::int64_t bytes_per_element) {
  state.counters["elements"] =
      benchmark::Counter(static_cast<double>(state.iterations() * n), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(state.iterations() * n * bytes_per_element);
}

enum class Op { kQuantize, kDequantize, kFakeQuantFwdBwd, kInt4Groupwise, kHistogram, kCopy };

const char* op_name(Op op) {
  switch (op) {
    case Op::kQuantize:
      return "quantize";
    case Op::kDequantize:
      return "dequantize";
    case Op::kFakeQuantFwdBwd:
      return "fake_quant_fwd_bwd";
    case Op::kInt4Groupwise:
      return "int4_groupwise";
    case Op::kHistogram:
      return "histogram_observer";
    case Op::kCopy:
      return "copy";
  }
  return "";
}

// Bytes read and written per element.
std::int64_t op_bytes(Op op) {
  switch (op) {
    case Op::kQuantize:
    case Op::kDequantize:
      return 5;
    case Op::kFakeQuantFwdBwd:
      return 9 + 13;  // x -> y, mask; then x, dy -> dx
    case Op::kInt4Groupwise:
      return 4;  // and half a byte
    case Op::kHistogram:
      return 4;
    case Op::kCopy:
      return 8;
  }
  return 0;
}

void run(benchmark::State& state, Op op, std::int64_t n, int threads) {
  Pool& d = data();
  ThreadPoolExecutor& exec = executor(threads);
  const std::int64_t rows = n / 4096;
  const Shape shape = Shape::row_major({rows, 4096});
  const Quantizer<std::int8_t> qz(shape, QParams::per_tensor(0.05f, 3, Range::full<std::int8_t>()));
  const PackedQuantizer<Int4> q4(
      shape, QParams::blocked(1, 128, std::vector<float>(static_cast<std::size_t>(rows * 32), 0.5f),
                              std::vector<std::int32_t>(static_cast<std::size_t>(rows * 32), 0), Int4::range()));
  HistogramObserver<std::int8_t> histogram;
  ResolvedParams whole;
  (void)resolve_layout(per_tensor_layout(), shape, &whole);
  for (auto _ : state) {
    switch (op) {
      case Op::kQuantize:
        qz.quantize(d.x.data(), d.q.data(), exec);
        break;
      case Op::kDequantize:
        qz.dequantize(d.q.data(), d.y.data(), exec);
        break;
      case Op::kFakeQuantFwdBwd:
        qz.fake_quantize_mask(d.x.data(), d.y.data(), d.mask.data(), exec);
        qz.ste_backward(d.x.data(), d.dy.data(), d.dx.data(), exec);
        break;
      case Op::kInt4Groupwise:
        q4.quantize(d.x.data(), d.packed.data(), exec);
        break;
      case Op::kHistogram:
        benchmark::DoNotOptimize(histogram.observe(d.x.data(), static_cast<std::size_t>(n), exec));
        break;
      case Op::kCopy:
        detail::for_each_slice(exec, whole, 16, 1, [&](const detail::Slice& s) {
          std::memcpy(d.y.data() + s.at, d.x.data() + s.at, static_cast<std::size_t>(s.r.size()) * sizeof(float));
        });
        break;
    }
    benchmark::ClobberMemory();
  }
  set_counters(state, n, op_bytes(op));
}

// quantize at 1Mi elements cut at another grain than the library's.
void grain_sweep(benchmark::State& state, std::int64_t grain, int threads) {
  Pool& d = data();
  ThreadPoolExecutor& exec = executor(threads);
  const std::int64_t n = std::int64_t{1} << 20;
  const Quantizer<std::int8_t> qz(Shape::row_major({n}), QParams::per_tensor(0.05f, 3, Range::full<std::int8_t>()));
  for (auto _ : state) {
    detail::for_each_slice(
        exec, qz.resolved(), 64, 1,
        [&](const detail::Slice& s) {
          with_kernels<Path::kAuto>([&](auto k) {
            decltype(k)::template quantize<std::int8_t, DefaultNumerics>(s.r, d.x.data() + s.at, d.q.data() + s.at);
          });
        },
        grain);
    benchmark::ClobberMemory();
  }
  set_counters(state, n, 5);
}

void pool_empty(benchmark::State& state, int threads) {
  ThreadPoolExecutor& exec = executor(threads);
  for (auto _ : state) exec.parallel_for(threads, [](std::int64_t i) { benchmark::DoNotOptimize(i); });
}

int register_all() {
  std::vector<int> counts = {1, 2};
  if (ThreadPoolExecutor::default_threads() > 2) counts.push_back(ThreadPoolExecutor::default_threads());
  for (int t : counts) {
    for (std::int64_t g : {std::int64_t{1} << 14, std::int64_t{1} << 16, std::int64_t{1} << 18})
      benchmark::RegisterBenchmark(
          ("grain/" + std::to_string(g) + "/quantize/1048576/threads:" + std::to_string(t)).c_str(),
          [g, t](benchmark::State& s) { grain_sweep(s, g, t); })
          ->UseRealTime();
    benchmark::RegisterBenchmark(("pool/empty/threads:" + std::to_string(t)).c_str(), [t](benchmark::State& s) {
      pool_empty(s, t);
    })->UseRealTime();
    for (Op op : {Op::kQuantize, Op::kDequantize, Op::kFakeQuantFwdBwd, Op::kInt4Groupwise, Op::kHistogram, Op::kCopy})
      for (std::int64_t n : {std::int64_t{1} << 17, std::int64_t{1} << 20, std::int64_t{1} << 24})
        benchmark::RegisterBenchmark(
            (std::string(op_name(op)) + "/" + std::to_string(n) + "/threads:" + std::to_string(t)).c_str(),
            [op, n, t](benchmark::State& s) { run(s, op, n, t); })
            ->UseRealTime();
  }
  return 0;
}

const int registered = register_all();

}  // namespace
}  // namespace eigenq
