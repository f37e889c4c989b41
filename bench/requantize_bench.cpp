// Requantization throughput: int32 accumulators -> int8, every rule x scheme
// x path at 4Ki, 256Ki and 16Mi elements, beside a loop that moves the same
// bytes (int32 in, int8 out, saturating narrow) doing nothing else. See
// bench/results/requantize.md for the command and the measured table.
//
// Names: requantize/<rule>/<scheme>/<path>/<elements>, baseline/narrow/<path>/<elements>.
// Tensors are square row-major [rows, cols] matrices; per-axis-first puts the
// channel on the rows (broadcast runs), per-axis-last on the columns (NHWC
// output channels: aligned runs), per-axis-inner4 is [n / 4C, C, 4] on axis 1
// (runs of 4, merged into aligned runs). Requantizers are built before the
// timed loop. Counters: items and bytes (5 per element) per second.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "eigenq/requantize.hpp"
#include "same_bytes.hpp"

namespace eigenq {
namespace {

constexpr std::int64_t kSizes[] = {std::int64_t{1} << 12, std::int64_t{1} << 18, std::int64_t{1} << 24};
constexpr std::int64_t kMaxSize = std::int64_t{1} << 24;
constexpr std::int64_t kBytesPerElement = 5;  // int32 in, int8 out

struct Pool {
  std::vector<std::int32_t> acc, multiplier, shift;
  std::vector<float> scale;
  std::vector<std::int8_t> out;

  Pool() : acc(kMaxSize), multiplier(kMaxSize), shift(kMaxSize), scale(kMaxSize), out(kMaxSize) {
    std::mt19937 rng(42);
    std::uniform_int_distribution<std::int32_t> a(-(1 << 20), 1 << 20);
    std::uniform_real_distribution<double> m(1e-5, 1e-3);
    for (std::int64_t i = 0; i < kMaxSize; ++i) acc[i] = a(rng);
    for (std::int64_t i = 0; i < 4096; ++i) {  // per-channel multipliers (channels <= 4096)
      const double real = m(rng);
      const QuantizedMultiplier q = quantize_multiplier(real);
      multiplier[i] = q.multiplier;
      shift[i] = q.shift;
      scale[i] = static_cast<float>(real);
    }
  }
};

Pool& pool() {
  static Pool p;
  return p;
}

enum class Scheme { kPerTensor, kPerAxisFirst, kPerAxisLast, kPerAxisInner4 };
constexpr Scheme kSchemes[] = {Scheme::kPerTensor, Scheme::kPerAxisFirst, Scheme::kPerAxisLast, Scheme::kPerAxisInner4};

const char* scheme_name(Scheme s) {
  return s == Scheme::kPerTensor      ? "per-tensor"
         : s == Scheme::kPerAxisFirst ? "per-axis-first"
         : s == Scheme::kPerAxisLast  ? "per-axis-last"
                                      : "per-axis-inner4";
}

// The shape and parameters of a scheme for n elements (n a power of 4).
Shape shape_of(Scheme scheme, std::int64_t n) {
  std::int64_t rows = 1;
  while (rows * rows < n) rows *= 2;
  if (scheme == Scheme::kPerAxisInner4) {
    const std::int64_t channels = std::min<std::int64_t>(64, n / 4);
    return Shape::row_major({n / (4 * channels), channels, 4});
  }
  return Shape::row_major({rows, n / rows});
}

RequantizeParamsView params_of(Scheme scheme, const Shape& shape) {
  Pool& p = pool();
  RequantizeParamsView v;
  v.multiplier = p.multiplier.data();
  v.shift = p.shift.data();
  v.scale = p.scale.data();
  v.output_zero_point = 3;
  v.range = Range::full<std::int8_t>();
  v.granularity = scheme == Scheme::kPerTensor ? Granularity::kPerTensor : Granularity::kPerAxis;
  v.axis = scheme == Scheme::kPerAxisLast ? 1 : scheme == Scheme::kPerAxisFirst ? 0 : 1;
  v.count = scheme == Scheme::kPerTensor ? 1 : static_cast<std::size_t>(shape[v.axis]);
  return v;
}

void set_counters(benchmark::State& state, std::int64_t n) {
  state.SetItemsProcessed(state.iterations() * n);
  state.SetBytesProcessed(state.iterations() * n * kBytesPerElement);
}

template <class Rule, Path P>
void bm_requantize(benchmark::State& state, Scheme scheme) {
  const std::int64_t n = state.range(0);
  const Shape shape = shape_of(scheme, n);
  const Requantizer<std::int8_t, Rule, std::int32_t, P> rq(shape, params_of(scheme, shape));
  Pool& p = pool();
  for (auto _ : state) {
    rq.requantize(p.acc.data(), p.out.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, n);
}

template <Path P>
void bm_narrow(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  Pool& p = pool();
  for (auto _ : state) {
    SameBytes<P>::narrow(p.acc.data(), p.out.data(), n);
    benchmark::ClobberMemory();
  }
  set_counters(state, n);
}

template <class Fn>
void add(const std::string& name, Fn fn) {
  auto* b = benchmark::RegisterBenchmark(name.c_str(), fn);
  for (std::int64_t n : kSizes) b->Arg(n);
}

template <Path P>
void register_path() {
  const std::string path = path_name(P);
  if (P != Path::kAuto) add("baseline/narrow/" + path, bm_narrow<P>);
  for (Scheme s : kSchemes) {
    const std::string tail = std::string("/") + scheme_name(s) + "/" + path;
    add("requantize/double" + tail, [s](benchmark::State& st) { bm_requantize<GemmlowpRounding, P>(st, s); });
    add("requantize/single" + tail, [s](benchmark::State& st) { bm_requantize<SingleRounding, P>(st, s); });
    add("requantize/upward" + tail, [s](benchmark::State& st) { bm_requantize<TvmUpward, P>(st, s); });
    add("requantize/tonearest" + tail, [s](benchmark::State& st) { bm_requantize<TvmToNearest, P>(st, s); });
    add("requantize/fp32" + tail, [s](benchmark::State& st) { bm_requantize<Fp32Rounding, P>(st, s); });
  }
}

const bool registered = [] {
  register_path<Path::kScalar>();
  if (path_supported(Path::kAvx2)) register_path<Path::kAvx2>();
  if (path_supported(Path::kAvx512)) register_path<Path::kAvx512>();
  if (path_supported(Path::kNeon)) register_path<Path::kNeon>();
  register_path<Path::kAuto>();
  return true;
}();

}  // namespace
}  // namespace eigenq
