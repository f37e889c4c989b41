// FP8 quantize / dequantize (minifloat_quantize.hpp) per tensor against int8
// per tensor (Quantizer, DefaultNumerics) on the same path, at 64Ki and 1Mi
// floats: the target is FP8 within 20% of int8.
//
// Names: <op>/<storage>/<path>/<elements>, storage int8, e4m3fn or e5m2;
// <path> is auto (Path::kAuto, the run-time choice every entry point makes
// by default) or a forced scalar, avx2, avx512 or neon. The FP8 entry points
// validate their scale on every call; the int8 quantizer is built before
// the timed loop, as a user builds it once.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "eigenq/minifloat_quantize.hpp"
#include "eigenq/scheme.hpp"

namespace eigenq {
namespace {

constexpr std::int64_t kSizes[] = {std::int64_t{1} << 16, std::int64_t{1} << 20};
constexpr std::int64_t kMaxSize = std::int64_t{1} << 20;
constexpr float kScale = 0.05f;

// Inputs within both ranges (|x / scale| <= 120), codes of every value.
struct Pool {
  std::vector<float> x, y;
  std::vector<std::int8_t> q8;
  std::vector<std::uint8_t> codes;
  Pool() : x(kMaxSize), y(kMaxSize), q8(kMaxSize), codes(kMaxSize) {
    std::mt19937 rng(15);
    std::uniform_real_distribution<float> value(-6.0f, 6.0f);
    for (std::int64_t i = 0; i < kMaxSize; ++i) {
      x[i] = value(rng);
      q8[i] = static_cast<std::int8_t>(rng());
      codes[i] = static_cast<std::uint8_t>(rng() & 0x7e);  // finite codes of both formats, positive
    }
  }
};
Pool& pool() {
  static Pool p;
  return p;
}

void set_counters(benchmark::State& state, std::int64_t n) {
  state.SetItemsProcessed(state.iterations() * n);
  state.SetBytesProcessed(state.iterations() * n * 5);  // a float and a byte per element
}

template <Path P>
bool skipped(benchmark::State& state) {
  if (P == Path::kAuto || path_supported(P)) return false;
  state.SkipWithError("path not supported here");
  return true;
}

template <Path P>
void bm_int8(benchmark::State& state, bool quantize) {
  if (skipped<P>(state)) return;
  const std::int64_t n = state.range(0);
  const Shape shape = Shape::row_major({n});
  static const float scale = kScale;
  static const std::int32_t zero_point = 0;
  const QParamsView params{Granularity::kPerTensor, 0, 0, &scale, &zero_point, 1, Range::full<std::int8_t>()};
  const Quantizer<std::int8_t, DefaultNumerics, P> qz(shape, params);
  Pool& p = pool();
  for (auto _ : state) {
    if (quantize)
      qz.quantize(p.x.data(), p.q8.data());
    else
      qz.dequantize(p.q8.data(), p.y.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, n);
}

template <class Fmt, Path P>
void bm_fp8(benchmark::State& state, bool quantize) {
  if (skipped<P>(state)) return;
  const std::int64_t n = state.range(0);
  const Shape shape = Shape::row_major({n});
  static const float scale = kScale;
  const MinifloatParamsView params{per_tensor_layout(), &scale, 1};
  Pool& p = pool();
  for (auto _ : state) {
    const Status s = quantize ? quantize_minifloat<Fmt, P>(p.x.data(), p.codes.data(), shape, params)
                              : dequantize_minifloat<Fmt, P>(p.codes.data(), p.y.data(), shape, params);
    if (!s.is_ok()) state.SkipWithError(s.message().c_str());
    benchmark::ClobberMemory();
  }
  set_counters(state, n);
}

template <Path P>
void register_path(const char* path) {
  for (bool quantize : {true, false}) {
    const std::string op = quantize ? "quantize/" : "dequantize/";
    auto add = [&](const std::string& storage, auto fn) {
      for (std::int64_t n : kSizes)
        benchmark::RegisterBenchmark((op + storage + "/" + path + "/" + std::to_string(n)).c_str(), fn, quantize)
            ->Arg(n);
    };
    add("int8", bm_int8<P>);
    add("e4m3fn", bm_fp8<Float8E4M3FN, P>);
    add("e5m2", bm_fp8<Float8E5M2, P>);
  }
}

const bool registered = [] {
  register_path<Path::kAuto>("auto");
  register_path<Path::kScalar>("scalar");
  if (path_compiled(Path::kAvx2)) register_path<Path::kAvx2>("avx2");
  if (path_compiled(Path::kAvx512)) register_path<Path::kAvx512>("avx512");
  if (path_compiled(Path::kNeon)) register_path<Path::kNeon>("neon");
  return true;
}();

}  // namespace
}  // namespace eigenq
