// Engine presets and packed 4-bit storage.
//
//   Quantize/<preset>/<path>/<n>: per-tensor int8 quantize with each preset.
//     Division (onnx, tflite, tensorflow_vars) costs more than the default's
//     multiplication by 1/scale; compare each row with pytorch's in one run.
//   Packed/<op>/<storage>/<n>: int4 packed quantize / dequantize vs int8,
//     per-tensor and group-wise (blocks of 128 along the input axis).
//
// Run (medians of repetitions, as in bench/results/presets.md):
//   build/bench/presets_bench --benchmark_repetitions=7 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <vector>

#include "eigenq/packed.hpp"
#include "eigenq/presets.hpp"
#include "eigenq/scheme.hpp"

namespace eigenq {
namespace {

std::vector<float> inputs(std::size_t n) {
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(n);
  for (auto& v : x) v = normal(rng);
  return x;
}

void counters(benchmark::State& state, std::size_t n, double bytes_per_element) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(n));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n * bytes_per_element));
}

template <class N, Path P>
void BM_Quantize(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::vector<float> x = inputs(n);
  std::vector<std::int8_t> q(n);
  const Quantizer<std::int8_t, N, P> qz(Shape::row_major({static_cast<std::int64_t>(n)}),
                                        QParams::per_tensor(0.0213f, 3, Range::full<std::int8_t>()));
  for (auto _ : state) {
    qz.quantize(x.data(), q.data());
    benchmark::DoNotOptimize(q.data());
    benchmark::ClobberMemory();
  }
  counters(state, n, 5.0);
}

template <class N, Path P>
void register_preset(const char* name) {
  const std::string base = std::string("Quantize/") + name + "/" + path_name(P);
  for (std::int64_t n : {4096, 1 << 20}) benchmark::RegisterBenchmark(base.c_str(), BM_Quantize<N, P>)->Arg(n);
}

// Weights [rows, n / rows]: per-tensor, or blocks of 128 along the last axis.
QParams weight_params(std::int64_t n, bool grouped, Range range) {
  if (!grouped) return QParams::per_tensor(0.0213f, 0, range);
  const std::int64_t groups = n / 128;
  return QParams::blocked(1, 128, std::vector<float>(static_cast<std::size_t>(groups), 0.0213f), {}, range);
}

Shape weight_shape(std::int64_t n) { return Shape::row_major({n / 1024, 1024}); }

void BM_Int8(benchmark::State& state, bool quantize, bool grouped) {
  const std::int64_t n = state.range(0);
  const std::vector<float> x = inputs(static_cast<std::size_t>(n));
  std::vector<std::int8_t> q(static_cast<std::size_t>(n));
  std::vector<float> y(static_cast<std::size_t>(n));
  const Quantizer<std::int8_t> qz(weight_shape(n), weight_params(n, grouped, Range::full<std::int8_t>()));
  qz.quantize(x.data(), q.data());
  for (auto _ : state) {
    if (quantize)
      qz.quantize(x.data(), q.data());
    else
      qz.dequantize(q.data(), y.data());
    benchmark::ClobberMemory();
  }
  counters(state, static_cast<std::size_t>(n), 5.0);
}

void BM_Int4(benchmark::State& state, bool quantize, bool grouped) {
  const std::int64_t n = state.range(0);
  const std::vector<float> x = inputs(static_cast<std::size_t>(n));
  std::vector<std::uint8_t> packed(packed_size(n));
  std::vector<float> y(static_cast<std::size_t>(n));
  const PackedQuantizer<Int4> qz(weight_shape(n), weight_params(n, grouped, Int4::range()));
  qz.quantize(x.data(), packed.data());
  for (auto _ : state) {
    if (quantize)
      qz.quantize(x.data(), packed.data());
    else
      qz.dequantize(packed.data(), y.data());
    benchmark::ClobberMemory();
  }
  counters(state, static_cast<std::size_t>(n), 4.5);
}

void register_packed() {
  for (bool grouped : {false, true})
    for (bool quantize : {true, false}) {
      const std::string op = std::string(quantize ? "quantize" : "dequantize") + (grouped ? "_g128" : "");
      for (std::int64_t n : {4096, 1 << 20}) {
        benchmark::RegisterBenchmark(("Packed/" + op + "/int8").c_str(), BM_Int8, quantize, grouped)->Arg(n);
        benchmark::RegisterBenchmark(("Packed/" + op + "/int4").c_str(), BM_Int4, quantize, grouped)->Arg(n);
      }
    }
}

const int registered = [] {
  register_preset<presets::pytorch, kBestPath>("pytorch");
  register_preset<presets::onnx, kBestPath>("onnx");
  register_preset<presets::tflite, kBestPath>("tflite");
  register_preset<presets::tensorflow, kBestPath>("tensorflow");
  register_preset<presets::tensorflow_vars, kBestPath>("tensorflow_vars");
  {
    register_preset<presets::pytorch, Path::kScalar>("pytorch");
    register_preset<presets::onnx, Path::kScalar>("onnx");
    register_preset<presets::tflite, Path::kScalar>("tflite");
    register_preset<presets::tensorflow, Path::kScalar>("tensorflow");
    register_preset<presets::tensorflow_vars, Path::kScalar>("tensorflow_vars");
  }
  register_packed();
  return 0;
}();

}  // namespace
}  // namespace eigenq
