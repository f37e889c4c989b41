// FP8 quantize / dequantize (minifloat_quantize.hpp) per tensor against int8
// per tensor (Quantizer, DefaultNumerics) on the same path, at 64Ki and 1Mi
// floats: the target is FP8 within 20% of int8.
//
// Names: <op>/<storage>/<path>/<elements>, storage int8, e4m3fn or e5m2;
// <path> is auto (Path::kAuto, the run-time choice every entry point makes
// by default) or a forced scalar, avx2, avx512 or neon. The FP8 entry points
// validate their scale on every call; the int8 quantizer is built before
// the timed loop, as a user builds it once.
//
// Packed 4-bit block formats at the same sizes, in the same binary so that
// ratios come from one run: MXFP4 (mx_quantize_packed<Float4E2M1>, blocks
// of 32, E8M0 scales found per call) and NVFP4 (nvfp4_quantize_packed,
// blocks of 16, E4M3 scales, per-tensor scale 1) against packed int4 with
// given scales per block of 32 (PackedQuantizer<Int4>, built before the
// loop) and a loop moving the same bytes (n floats to n / 2 bytes and
// back). Names: <op>/packed-<format>/auto/<elements>, format mxfp4, nvfp4,
// int4-blocked32 or same-bytes.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "eigenq/minifloat_quantize.hpp"
#include "eigenq/mx.hpp"
#include "eigenq/packed.hpp"
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

// ---------------------------------------------------------------------------
// Packed 4-bit block formats

struct PackedPool {
  std::vector<std::uint8_t> packed, scales;
  std::vector<float> int4_scales;
  PackedPool() : packed(kMaxSize / 2), scales(kMaxSize / 16), int4_scales(kMaxSize / 32, kScale) {}
};
PackedPool& packed_pool() {
  static PackedPool p;
  return p;
}

enum class Packed4 { kMxfp4, kNvfp4, kInt4Blocked32, kSameBytes };

// The same bytes as a packed quantize (n floats read, n / 2 bytes written)
// or dequantize, with the least work per element.
__attribute__((noinline)) void same_bytes_pack(const float* x, std::uint8_t* packed, std::int64_t n) {
  for (std::int64_t i = 0; i < n / 2; ++i)
    packed[i] = static_cast<std::uint8_t>((static_cast<int>(x[2 * i]) & 15) | (static_cast<int>(x[2 * i + 1]) << 4));
}
__attribute__((noinline)) void same_bytes_unpack(const std::uint8_t* packed, float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n / 2; ++i) {
    y[2 * i] = static_cast<float>(packed[i] & 15);
    y[2 * i + 1] = static_cast<float>(packed[i] >> 4);
  }
}

void bm_packed4(benchmark::State& state, Packed4 format, bool quantize) {
  const std::int64_t n = state.range(0);
  const Shape shape = Shape::row_major({n});
  Pool& p = pool();
  PackedPool& pp = packed_pool();
  const PackedQuantizer<Int4> int4(
      shape, QParams::blocked(0, 32, std::vector<float>(pp.int4_scales.begin(), pp.int4_scales.begin() + n / 32), {},
                              Int4::range()));
  auto run = [&](bool forward) {
    switch (format) {
      case Packed4::kMxfp4:
        return forward ? mx_quantize_packed<Float4E2M1>(p.x.data(), pp.packed.data(), pp.scales.data(), shape, 0)
                       : mx_dequantize_packed<Float4E2M1>(pp.packed.data(), pp.scales.data(), p.y.data(), shape, 0);
      case Packed4::kNvfp4:
        return forward ? nvfp4_quantize_packed(p.x.data(), pp.packed.data(), pp.scales.data(), shape, 0)
                       : nvfp4_dequantize_packed(pp.packed.data(), pp.scales.data(), p.y.data(), shape, 0);
      case Packed4::kInt4Blocked32:
        if (forward)
          int4.quantize(p.x.data(), pp.packed.data());
        else
          int4.dequantize(pp.packed.data(), p.y.data());
        break;
      case Packed4::kSameBytes:
        if (forward)
          same_bytes_pack(p.x.data(), pp.packed.data(), n);
        else
          same_bytes_unpack(pp.packed.data(), p.y.data(), n);
        break;
    }
    return Status::ok();
  };
  if (!quantize && !run(true).is_ok()) state.SkipWithError("quantize failed");  // codes of the pool's values
  for (auto _ : state) {
    const Status s = run(quantize);
    if (!s.is_ok()) state.SkipWithError(s.message().c_str());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.SetBytesProcessed(state.iterations() * n * 9 / 2);  // a float and half a byte per element
}

void register_packed4() {
  const std::pair<const char*, Packed4> formats[] = {{"mxfp4", Packed4::kMxfp4},
                                                     {"nvfp4", Packed4::kNvfp4},
                                                     {"int4-blocked32", Packed4::kInt4Blocked32},
                                                     {"same-bytes", Packed4::kSameBytes}};
  for (bool quantize : {true, false})
    for (const auto& [name, format] : formats)
      for (std::int64_t n : kSizes)
        benchmark::RegisterBenchmark(
            (std::string(quantize ? "quantize" : "dequantize") + "/packed-" + name + "/auto/" + std::to_string(n))
                .c_str(),
            bm_packed4, format, quantize)
            ->Arg(n);
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
  register_packed4();
  return true;
}();

}  // namespace
}  // namespace eigenq
