// Kernel throughput: every operation x scheme on every path this CPU runs,
// at 4Ki, 64Ki, 1Mi and 16Mi floats, beside loops that move the same bytes
// doing nothing useful (the speed of memory, and in cache the speed of the
// widest loads and stores) and, when built with XNNPACK, its f32 <-> qs8
// convert operators as the peer. See bench/README.md for the commands and
// the measured tables.
//
// Names: <op>/<scheme>/<path>/<elements>, baseline/<loop>/<path>/<elements>,
// xnnpack/<operator>/<elements>. <path> is scalar, avx2, avx512 or neon
// (forced), or auto: Path::kAuto, the run-time choice every entry point
// makes by default. The scalar path runs per-tensor only. Quantizers are
// built (validated) before the timed loop. Tensors are square row-major
// matrices; per-axis and blocked parameters follow the first or the last
// axis as named.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "eigenq/float_qparams.hpp"
#include "eigenq/qat.hpp"
#include "eigenq/scheme.hpp"
#include "same_bytes.hpp"

#if EIGENQ_BENCH_XNNPACK
#include <xnnpack.h>
#endif

namespace eigenq {
namespace {

constexpr std::int64_t kSizes[] = {std::int64_t{1} << 12, std::int64_t{1} << 16, std::int64_t{1} << 20,
                                   std::int64_t{1} << 24};
constexpr std::int64_t kMaxSize = std::int64_t{1} << 24;
constexpr float kScale = 0.05f;
constexpr std::int32_t kZeroPoint = 3;

// Buffers shared by every benchmark (allocated and touched once): inputs,
// outputs and element-wise parameters for the largest size.
struct Pool {
  std::vector<float> x, dy, y, scale, float_zero_point;
  std::vector<std::int32_t> zero_point;
  std::vector<std::int8_t> q, q_out;
  std::vector<std::uint8_t> mask;
  std::vector<std::uint16_t> bf16, bf16_out;  // x narrowed to bfloat16; dequantize's bfloat16 output

  Pool()
      : x(kMaxSize),
        dy(kMaxSize),
        y(kMaxSize),
        scale(kMaxSize),
        float_zero_point(kMaxSize),
        zero_point(kMaxSize),
        q(kMaxSize),
        q_out(kMaxSize),
        mask(kMaxSize),
        bf16(kMaxSize),
        bf16_out(kMaxSize) {
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> value(-7.0f, 7.0f), grad(-1.0f, 1.0f), s(0.02f, 0.08f);
    std::uniform_int_distribution<int> zp(-10, 10);
    for (std::int64_t i = 0; i < kMaxSize; ++i) {
      x[i] = value(rng);
      dy[i] = grad(rng);
      scale[i] = s(rng);
      zero_point[i] = zp(rng);
      float_zero_point[i] = static_cast<float>(zero_point[i]) + 0.25f;
      q[i] = static_cast<std::int8_t>(rng());
      mask[i] = static_cast<std::uint8_t>(rng() & 1);
      bf16[i] = float_to_bfloat16(x[i]);
    }
  }
};

Pool& pool() {
  static Pool p;
  return p;
}

enum class Scheme { kPerTensor, kPerAxisFirst, kPerAxisLast, kPerAxisLast64, kBlocked32, kBlocked128, kPerElement };
constexpr Scheme kSchemes[] = {Scheme::kPerTensor, Scheme::kPerAxisFirst, Scheme::kPerAxisLast, Scheme::kPerAxisLast64,
                               Scheme::kBlocked32, Scheme::kBlocked128,   Scheme::kPerElement};

const char* scheme_name(Scheme s) {
  switch (s) {
    case Scheme::kPerTensor:
      return "per-tensor";
    case Scheme::kPerAxisFirst:
      return "per-axis-first";
    case Scheme::kPerAxisLast:
      return "per-axis-last";
    case Scheme::kPerAxisLast64:
      return "per-axis-last-c64";
    case Scheme::kBlocked32:
      return "blocked32-last";
    case Scheme::kBlocked128:
      return "blocked128-last";
    case Scheme::kPerElement:
      return "per-element";
  }
  return "";
}

// A square row-major matrix of n elements (n a power of 4); for
// per-axis-last-c64, [n / 64, 64] (NHWC activations of 64 channels).
Shape shape_of(std::int64_t n, Scheme scheme = Scheme::kPerTensor) {
  if (scheme == Scheme::kPerAxisLast64) return Shape({n / 64, 64}, Layout::kRowMajor);
  std::int64_t rows = 1;
  while (rows * rows < n) rows *= 2;
  return Shape({rows, n / rows}, Layout::kRowMajor);
}

// Parameters of `scheme` for the shape, drawn from the pool (views: the pool
// outlives every benchmark).
QParamsView params_of(Scheme scheme, const Shape& shape) {
  static const float per_tensor_scale = kScale;
  static const std::int32_t per_tensor_zero_point = kZeroPoint;
  const Range range = Range::full<std::int8_t>();
  const std::int64_t rows = shape[0], cols = shape[1];
  Pool& p = pool();
  auto view = [&](Granularity g, int axis, std::int64_t block, std::int64_t count) {
    return QParamsView{g, axis, block, p.scale.data(), p.zero_point.data(), static_cast<std::size_t>(count), range};
  };
  switch (scheme) {
    case Scheme::kPerTensor:
      return {Granularity::kPerTensor, 0, 0, &per_tensor_scale, &per_tensor_zero_point, 1, range};
    case Scheme::kPerAxisFirst:
      return view(Granularity::kPerAxis, 0, 0, rows);
    case Scheme::kPerAxisLast:
    case Scheme::kPerAxisLast64:
      return view(Granularity::kPerAxis, 1, 0, cols);
    case Scheme::kBlocked32:
      return view(Granularity::kBlocked, 1, 32, rows * ((cols + 31) / 32));
    case Scheme::kBlocked128:
      return view(Granularity::kBlocked, 1, 128, rows * ((cols + 127) / 128));
    case Scheme::kPerElement:
      return view(Granularity::kPerElement, 0, 0, rows * cols);
  }
  return {};
}

enum class Op { kQuantize, kDequantize, kFakeQuantize, kFakeQuantizeMask, kSteBackward };
constexpr Op kOps[] = {Op::kQuantize, Op::kDequantize, Op::kFakeQuantize, Op::kFakeQuantizeMask, Op::kSteBackward};

const char* op_name(Op op) {
  switch (op) {
    case Op::kQuantize:
      return "quantize";
    case Op::kDequantize:
      return "dequantize";
    case Op::kFakeQuantize:
      return "fake_quantize";
    case Op::kFakeQuantizeMask:
      return "fake_quantize_mask";
    case Op::kSteBackward:
      return "ste_backward";
  }
  return "";
}

// Bytes of tensor data an operation reads and writes per element.
std::int64_t data_bytes(Op op) {
  switch (op) {
    case Op::kQuantize:
    case Op::kDequantize:
      return 5;
    case Op::kFakeQuantize:
      return 8;
    case Op::kFakeQuantizeMask:
      return 9;
    case Op::kSteBackward:
      return 12;
  }
  return 0;
}

void set_counters(benchmark::State& state, std::int64_t n, std::int64_t bytes_per_element) {
  state.SetItemsProcessed(state.iterations() * n);
  state.SetBytesProcessed(state.iterations() * n * bytes_per_element);
}

template <Path P>
void bm_kernel(benchmark::State& state, Op op, Scheme scheme) {
  const std::int64_t n = state.range(0);
  const Shape shape = shape_of(n, scheme);
  const QParamsView params = params_of(scheme, shape);
  const Quantizer<std::int8_t, DefaultNumerics, P> qz(shape, params);
  Pool& p = pool();
  for (auto _ : state) {
    switch (op) {
      case Op::kQuantize:
        qz.quantize(p.x.data(), p.q_out.data());
        break;
      case Op::kDequantize:
        qz.dequantize(p.q.data(), p.y.data());
        break;
      case Op::kFakeQuantize:
        qz.fake_quantize(p.x.data(), p.y.data());
        break;
      case Op::kFakeQuantizeMask:
        qz.fake_quantize_mask(p.x.data(), p.y.data(), p.mask.data());
        break;
      case Op::kSteBackward:
        qz.ste_backward(p.x.data(), p.dy.data(), p.y.data());
        break;
    }
    benchmark::ClobberMemory();
  }
  // Element-wise parameters are streamed like data (a scale and a zero point).
  set_counters(state, n, data_bytes(op) + (scheme == Scheme::kPerElement ? 8 : 0));
}

// Float zero points (float_qparams.hpp), per axis: quantize and dequantize
// with int8 storage, beside the integer-zero-point kernels above. Validation
// is part of each call here (the entry points take raw parameters).
template <Path P>
void bm_float_zero_point(benchmark::State& state, Op op, Scheme scheme) {
  const std::int64_t n = state.range(0);
  const Shape shape = shape_of(n);
  const QParamsView v = params_of(scheme, shape);
  Pool& p = pool();
  const FloatQParamsView params{ParamLayout(v.granularity, v.axis, v.block_size), p.scale.data(),
                                p.float_zero_point.data(), v.count, v.range};
  for (auto _ : state) {
    if (op == Op::kQuantize)
      benchmark::DoNotOptimize(quantize_float_qparams<std::int8_t, P>(p.x.data(), p.q_out.data(), shape, params));
    else
      benchmark::DoNotOptimize(dequantize_float_qparams<std::int8_t, P>(p.q.data(), p.y.data(), shape, params));
    benchmark::ClobberMemory();
  }
  set_counters(state, n, data_bytes(op));
}

// int8 per-tensor from bfloat16 input, and to bfloat16 output: against
// quantize/per-tensor and dequantize/per-tensor on float32, the cost of the
// conversion through the stack buffer (half.hpp).
template <Path P>
void bm_bf16(benchmark::State& state, Op op) {
  const std::int64_t n = state.range(0);
  const Shape shape = shape_of(n);
  const Quantizer<std::int8_t, DefaultNumerics, P> qz(shape, params_of(Scheme::kPerTensor, shape));
  Pool& p = pool();
  for (auto _ : state) {
    if (op == Op::kQuantize)
      qz.template quantize<BFloat16>(p.bf16.data(), p.q_out.data());
    else
      qz.template dequantize<BFloat16>(p.q.data(), p.bf16_out.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, n, 3);
}

template <Path P>
void bm_ste_backward_masked(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  Pool& p = pool();
  for (auto _ : state) {
    ste_backward_masked<P>(p.mask.data(), p.dy.data(), p.y.data(), n);
    benchmark::ClobberMemory();
  }
  set_counters(state, n, 9);
}

template <class Loop>
void bm_baseline(benchmark::State& state, Loop loop, std::int64_t bytes_per_element) {
  const std::int64_t n = state.range(0);
  pool();
  for (auto _ : state) {
    loop(n);
    benchmark::ClobberMemory();
  }
  set_counters(state, n, bytes_per_element);
}

#if EIGENQ_BENCH_XNNPACK
// XNNPACK's convert operators on the same data (one thread, no threadpool);
// XNNPACK picks its own kernels for this CPU at run time.
bool xnnpack_ready() {
  static const bool ready = xnn_initialize(nullptr) == xnn_status_success;
  return ready;
}

void bm_xnnpack_quantize(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  Pool& p = pool();
  xnn_operator_t op = nullptr;
  if (!xnnpack_ready() || xnn_create_convert_nc_f32_qs8(1, 1, 1, kScale, kZeroPoint, -128, 127, 0, &op) != 0 ||
      xnn_setup_convert_nc_f32_qs8(op, static_cast<std::size_t>(n), p.x.data(), p.q_out.data(), nullptr) != 0) {
    state.SkipWithError("XNNPACK f32 -> qs8 convert operator unavailable");
    return;
  }
  for (auto _ : state) {
    xnn_run_operator(op, nullptr);
    benchmark::ClobberMemory();
  }
  xnn_delete_operator(op);
  set_counters(state, n, 5);
}

void bm_xnnpack_dequantize(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  Pool& p = pool();
  xnn_operator_t op = nullptr;
  if (!xnnpack_ready() || xnn_create_convert_nc_qs8_f32(1, 1, 1, kScale, kZeroPoint, 0, &op) != 0 ||
      xnn_setup_convert_nc_qs8_f32(op, static_cast<std::size_t>(n), p.q.data(), p.y.data(), nullptr) != 0) {
    state.SkipWithError("XNNPACK qs8 -> f32 convert operator unavailable");
    return;
  }
  for (auto _ : state) {
    xnn_run_operator(op, nullptr);
    benchmark::ClobberMemory();
  }
  xnn_delete_operator(op);
  set_counters(state, n, 5);
}
#endif

template <class Fn>
void add(const std::string& name, Fn fn) {
  auto* b = benchmark::RegisterBenchmark(name.c_str(), fn);
  for (std::int64_t n : kSizes) b->Arg(n);
}

template <Path P>
void register_baselines() {
  using L = SameBytes<P>;
  const std::string path = std::string("/") + path_name(P);
  add("baseline/truncate_f32_s8" + path, [](benchmark::State& s) {
    bm_baseline(
        s, [](std::int64_t n) { L::truncate(pool().x.data(), pool().q_out.data(), n); }, 5);
  });
  add("baseline/widen_s8_f32" + path, [](benchmark::State& s) {
    bm_baseline(
        s, [](std::int64_t n) { L::widen(pool().q.data(), pool().y.data(), n); }, 5);
  });
  add("baseline/copy_f32" + path, [](benchmark::State& s) {
    bm_baseline(
        s, [](std::int64_t n) { L::copy(pool().x.data(), pool().y.data(), n); }, 8);
  });
  add("baseline/copy_f32_u8" + path, [](benchmark::State& s) {
    bm_baseline(
        s, [](std::int64_t n) { L::copy_with_bytes(pool().x.data(), pool().y.data(), pool().mask.data(), n); }, 9);
  });
  add("baseline/multiply_f32" + path, [](benchmark::State& s) {
    bm_baseline(
        s, [](std::int64_t n) { L::multiply(pool().x.data(), pool().dy.data(), pool().y.data(), n); }, 12);
  });
  add("baseline/read_per_element_quantize" + path, [](benchmark::State& s) {
    bm_baseline(
        s,
        [](std::int64_t n) {
          Pool& p = pool();
          L::read_per_element(p.x.data(), p.scale.data(), p.zero_point.data(), p.q_out.data(), n);
        },
        13);
  });
}

template <Path P>
void register_path() {
  for (Op op : kOps)
    for (Scheme scheme : kSchemes) {
      if (P == Path::kScalar && scheme != Scheme::kPerTensor) continue;
      add(std::string(op_name(op)) + "/" + scheme_name(scheme) + "/" + path_name(P),
          [op, scheme](benchmark::State& s) { bm_kernel<P>(s, op, scheme); });
    }
  add(std::string("ste_backward_masked/any/") + path_name(P), bm_ste_backward_masked<P>);
  for (Op op : {Op::kQuantize, Op::kDequantize}) {
    for (Scheme scheme : {Scheme::kPerAxisFirst, Scheme::kPerAxisLast})
      add(std::string(op_name(op)) + "_float_zp/" + scheme_name(scheme) + "/" + path_name(P),
          [op, scheme](benchmark::State& s) { bm_float_zero_point<P>(s, op, scheme); });
    add(std::string(op_name(op)) + "_bf16/per-tensor/" + path_name(P),
        [op](benchmark::State& s) { bm_bf16<P>(s, op); });
  }
  if constexpr (P != Path::kAuto) register_baselines<P>();
}

bool register_all() {
  register_path<Path::kScalar>();
  if (path_supported(Path::kAvx2)) register_path<Path::kAvx2>();
  if (path_supported(Path::kAvx512)) register_path<Path::kAvx512>();
  if (path_supported(Path::kNeon)) register_path<Path::kNeon>();
  register_path<Path::kAuto>();
  add("baseline/memcpy_f32", [](benchmark::State& s) {
    bm_baseline(
        s,
        [](std::int64_t n) {
          std::memcpy(pool().y.data(), pool().x.data(), static_cast<std::size_t>(n) * sizeof(float));
        },
        8);
  });
#if EIGENQ_BENCH_XNNPACK
  add("xnnpack/convert_f32_qs8", bm_xnnpack_quantize);
  add("xnnpack/convert_qs8_f32", bm_xnnpack_dequantize);
#endif
  benchmark::AddCustomContext("eigenq_auto_path", path_name(active_path()));
  return true;
}

const bool registered = register_all();

}  // namespace
}  // namespace eigenq
