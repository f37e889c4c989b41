// The fused output stage (output_stage.hpp) against requantization alone,
// on int32 accumulator tiles [n / 256, 256] with 256 output channels on the
// last axis (a GEMM's [M, N]), per-channel multipliers, int8 out, at 4Ki,
// 64Ki and 1Mi elements. See bench/README.md for the command and the table.
//
// Names: <op>/<rule>/<path>/<elements>, where <op> is
//   requantize      Requantizer alone (no bias, no zero-point corrections);
//   unfused         an int32 pass adding the per-channel offsets, then the
//                   Requantizer: what the fused stage replaces;
//   fused           OutputStage: offsets added in the requantize run;
//   fused_asym      OutputStage with asymmetric weights: the per-row term
//                   -zw[c] * input_sums[m] added from a stack buffer.
// <path> is avx2 or avx512 (forced) or scalar.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "eigenq/output_stage.hpp"

namespace eigenq {
namespace {

constexpr std::int64_t kChannels = 256;
constexpr std::int64_t kSizes[] = {std::int64_t{1} << 12, std::int64_t{1} << 16, std::int64_t{1} << 20};
constexpr std::int64_t kMaxSize = std::int64_t{1} << 20;

struct Pool {
  std::vector<std::int32_t> acc, tmp, offset, multiplier, shift, wzp, sums;
  std::vector<float> scale;
  std::vector<std::int8_t> y;
  Pool()
      : acc(kMaxSize),
        tmp(kMaxSize),
        offset(kChannels),
        multiplier(kChannels),
        shift(kChannels),
        wzp(kChannels),
        sums(kMaxSize / kChannels),
        scale(kChannels),
        y(kMaxSize) {
    std::mt19937 rng(42);
    std::uniform_int_distribution<std::int32_t> a(-200000, 200000), o(-50000, 50000), m(1 << 30, 0x7fffffff);
    for (auto& v : acc) v = a(rng);
    for (std::size_t c = 0; c < kChannels; ++c) {
      offset[c] = o(rng);
      multiplier[c] = m(rng);
      shift[c] = -8 - static_cast<std::int32_t>(rng() % 4);
      scale[c] = 0.001f + static_cast<float>(rng() % 1000) * 1e-6f;
      wzp[c] = static_cast<std::int32_t>(rng() % 256) - 128;
    }
    for (auto& s : sums) s = o(rng);
  }
};

Pool& pool() {
  static Pool p;
  return p;
}

RequantizeParamsView params() {
  Pool& p = pool();
  RequantizeParamsView v;
  v.granularity = Granularity::kPerAxis;
  v.axis = 1;
  v.multiplier = p.multiplier.data();
  v.shift = p.shift.data();
  v.scale = p.scale.data();
  v.count = kChannels;
  v.output_zero_point = 3;
  v.range = Range::full<std::int8_t>();
  return v;
}

void set_rates(benchmark::State& state, std::int64_t n) {
  state.SetItemsProcessed(state.iterations() * n);
  state.SetBytesProcessed(state.iterations() * n * 5);  // int32 in, int8 out
}

template <class Rule, Path P>
void requantize_alone(benchmark::State& state, std::int64_t n) {
  Pool& p = pool();
  Requantizer<std::int8_t, Rule, std::int32_t, P> rq(Shape::row_major({n / kChannels, kChannels}), params());
  for (auto _ : state) {
    rq.requantize(p.acc.data(), p.y.data());
    benchmark::ClobberMemory();
  }
  set_rates(state, n);
}

template <class Rule, Path P>
void unfused(benchmark::State& state, std::int64_t n) {
  Pool& p = pool();
  Requantizer<std::int8_t, Rule, std::int32_t, P> rq(Shape::row_major({n / kChannels, kChannels}), params());
  for (auto _ : state) {
    for (std::int64_t m = 0; m < n / kChannels; ++m)
      for (std::int64_t c = 0; c < kChannels; ++c)
        p.tmp[static_cast<std::size_t>(m * kChannels + c)] =
            wrapping_add(p.acc[static_cast<std::size_t>(m * kChannels + c)], p.offset[static_cast<std::size_t>(c)]);
    rq.requantize(p.tmp.data(), p.y.data());
    benchmark::ClobberMemory();
  }
  set_rates(state, n);
}

template <class Rule, Path P>
void fused(benchmark::State& state, std::int64_t n, bool asymmetric) {
  Pool& p = pool();
  OutputStageView v;
  v.rows = n / kChannels;
  v.cols = kChannels;
  v.channel_axis = 1;
  v.requantize = params();
  v.offset = p.offset.data();
  v.offset_count = kChannels;
  if (asymmetric) {
    v.weight_zero_point = p.wzp.data();
    v.weight_zero_point_count = kChannels;
  }
  OutputStage<std::int8_t, Rule, P> stage;
  if (!OutputStage<std::int8_t, Rule, P>::create(v, &stage).is_ok()) state.SkipWithError("invalid parameters");
  for (auto _ : state) {
    stage.apply(p.acc.data(), p.y.data(), p.sums.data());
    benchmark::ClobberMemory();
  }
  set_rates(state, n);
}

template <class Rule, Path P>
void register_rule_path() {
  if (!path_supported(P)) return;
  for (std::int64_t n : kSizes) {
    const std::string tail = std::string("/") + Rule::name() + "/" + path_name(P) + "/" + std::to_string(n);
    benchmark::RegisterBenchmark(("requantize" + tail).c_str(),
                                 [n](benchmark::State& s) { requantize_alone<Rule, P>(s, n); });
    benchmark::RegisterBenchmark(("unfused" + tail).c_str(), [n](benchmark::State& s) { unfused<Rule, P>(s, n); });
    benchmark::RegisterBenchmark(("fused" + tail).c_str(), [n](benchmark::State& s) { fused<Rule, P>(s, n, false); });
    benchmark::RegisterBenchmark(("fused_asym" + tail).c_str(),
                                 [n](benchmark::State& s) { fused<Rule, P>(s, n, true); });
  }
}

template <Path P>
void register_path() {
  register_rule_path<GemmlowpRounding, P>();
  register_rule_path<Fp32Rounding, P>();
}

const bool registered = [] {
  register_path<Path::kScalar>();
  if constexpr (path_compiled(Path::kAvx2)) register_path<Path::kAvx2>();
  if constexpr (path_compiled(Path::kAvx512)) register_path<Path::kAvx512>();
  if constexpr (path_compiled(Path::kNeon)) register_path<Path::kNeon>();
  return true;
}();

}  // namespace
}  // namespace eigenq
