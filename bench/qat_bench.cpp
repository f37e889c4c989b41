// QAT throughput: fake-quant forward with the STE mask (bytes or packed
// bits) and the STE backward pass (from the mask or from the input), per
// scheme and path; LSQ forward+backward; TensorFlow's fake-quant; the
// element functor in an Eigen expression; beside copy loops that move the
// same bytes. The measured table and the command are in bench/results/qat.md,
// with PyTorch 1.13 measured by bench/qat_pytorch_bench.py.
//
// Names: <op>/<scheme>/<path>/<elements>, copy/<bytes>/<elements>.
// Tensors are square row-major matrices; per-axis and blocked parameters
// follow the first or the last axis as named. Parameters are validated
// before the timed loop (except LSQ, which takes new values every step, as
// training does).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "eigenq/eigenq.hpp"
#include "eigenq/qat.hpp"

namespace eigenq {
namespace {

constexpr std::int64_t kMaxSize = std::int64_t{1} << 24;

struct Pool {
  std::vector<float> x, dy, y, dx, scale, scale_f, zero_point_f;
  std::vector<std::int32_t> zero_point;
  std::vector<std::uint8_t> mask, bits;

  Pool()
      : x(kMaxSize),
        dy(kMaxSize),
        y(kMaxSize),
        dx(kMaxSize),
        scale(kMaxSize),
        scale_f(kMaxSize),
        zero_point_f(kMaxSize),
        zero_point(kMaxSize),
        mask(kMaxSize),
        bits(kMaxSize / 8 + 1) {
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> value(-7.0f, 7.0f), grad(-1.0f, 1.0f), s(0.02f, 0.08f);
    std::uniform_int_distribution<int> zp(-10, 10);
    for (std::int64_t i = 0; i < kMaxSize; ++i) {
      x[i] = value(rng);
      dy[i] = grad(rng);
      scale[i] = scale_f[i] = s(rng);
      zero_point[i] = zp(rng);
      zero_point_f[i] = static_cast<float>(zero_point[i]) + 0.25f;
    }
  }
};

Pool& pool() {
  static Pool p;
  return p;
}

enum class Scheme { kPerTensor, kPerAxisFirst, kPerAxisLast, kBlocked32, kPerElement };
constexpr Scheme kSchemes[] = {Scheme::kPerTensor, Scheme::kPerAxisFirst, Scheme::kPerAxisLast, Scheme::kBlocked32,
                               Scheme::kPerElement};

const char* scheme_name(Scheme s) {
  switch (s) {
    case Scheme::kPerTensor:
      return "per-tensor";
    case Scheme::kPerAxisFirst:
      return "per-axis-first";
    case Scheme::kPerAxisLast:
      return "per-axis-last";
    case Scheme::kBlocked32:
      return "blocked32-last";
    case Scheme::kPerElement:
      return "per-element";
  }
  return "";
}

Shape square(std::int64_t n) {
  std::int64_t rows = 1;
  while (rows * rows < n) rows *= 2;
  return Shape({rows, n / rows}, Layout::kRowMajor);
}

struct ParamLayout {
  Granularity granularity;
  int axis;
  std::int64_t block;
  std::size_t count;
};

ParamLayout layout_of(Scheme scheme, const Shape& shape) {
  const std::int64_t rows = shape[0], cols = shape[1];
  switch (scheme) {
    case Scheme::kPerTensor:
      return {Granularity::kPerTensor, 0, 0, 1};
    case Scheme::kPerAxisFirst:
      return {Granularity::kPerAxis, 0, 0, static_cast<std::size_t>(rows)};
    case Scheme::kPerAxisLast:
      return {Granularity::kPerAxis, 1, 0, static_cast<std::size_t>(cols)};
    case Scheme::kBlocked32:
      return {Granularity::kBlocked, 1, 32, static_cast<std::size_t>(rows * ((cols + 31) / 32))};
    case Scheme::kPerElement:
      return {Granularity::kPerElement, 0, 0, static_cast<std::size_t>(rows * cols)};
  }
  return {};
}

QParamsView params_of(Scheme scheme, const Shape& shape) {
  const ParamLayout l = layout_of(scheme, shape);
  Pool& p = pool();
  return {l.granularity, l.axis, l.block, p.scale.data(), p.zero_point.data(), l.count, Range::full<std::int8_t>()};
}

void set_counters(benchmark::State& state, std::int64_t n, double bytes_per_element) {
  state.SetItemsProcessed(state.iterations() * n);
  state.SetBytesProcessed(static_cast<std::int64_t>(static_cast<double>(state.iterations() * n) * bytes_per_element));
}

// Bytes of parameters streamed per element (element-wise parameters only).
double param_bytes(Scheme s, double per_param) { return s == Scheme::kPerElement ? per_param : 0.0; }

enum class Op {
  kForwardMask,     // y and a byte mask
  kForwardBits,     // y and a packed bit mask
  kBackwardMask,    // dx = dy * byte mask
  kBackwardBits,    // dx = dy * bit mask
  kBackwardInput,   // dx = dy * mask(x), no saved mask
  kForwardBackward  // forward with byte mask, then backward from it (one training step's work)
};

const char* op_name(Op op) {
  switch (op) {
    case Op::kForwardMask:
      return "fq_mask";
    case Op::kForwardBits:
      return "fq_bits";
    case Op::kBackwardMask:
      return "ste_from_mask";
    case Op::kBackwardBits:
      return "ste_from_bits";
    case Op::kBackwardInput:
      return "ste_from_x";
    case Op::kForwardBackward:
      return "fq_mask+ste";
  }
  return "";
}

double op_bytes(Op op) {
  switch (op) {
    case Op::kForwardMask:
      return 9;  // x in, y and mask out
    case Op::kForwardBits:
      return 8.125;
    case Op::kBackwardMask:
      return 9;  // dy and mask in, dx out
    case Op::kBackwardBits:
      return 8.125;
    case Op::kBackwardInput:
      return 12;  // x and dy in, dx out
    case Op::kForwardBackward:
      return 18;
  }
  return 0;
}

template <Path P>
void bm_ste(benchmark::State& state, Op op, Scheme scheme) {
  const std::int64_t n = state.range(0);
  const Shape shape = square(n);
  const Quantizer<std::int32_t, DefaultNumerics, P> qz(shape, params_of(scheme, shape));
  Pool& p = pool();
  qz.fake_quantize_mask(p.x.data(), p.y.data(), p.mask.data());
  fake_quantize_packed_mask(qz, p.x.data(), p.y.data(), p.bits.data());
  for (auto _ : state) {
    switch (op) {
      case Op::kForwardMask:
        qz.fake_quantize_mask(p.x.data(), p.y.data(), p.mask.data());
        break;
      case Op::kForwardBits:
        fake_quantize_packed_mask(qz, p.x.data(), p.y.data(), p.bits.data());
        break;
      case Op::kBackwardMask:
        ste_backward_masked<P>(p.mask.data(), p.dy.data(), p.dx.data(), n);
        break;
      case Op::kBackwardBits:
        ste_backward_packed<P>(p.bits.data(), p.dy.data(), p.dx.data(), n);
        break;
      case Op::kBackwardInput:
        qz.ste_backward(p.x.data(), p.dy.data(), p.dx.data());
        break;
      case Op::kForwardBackward:
        qz.fake_quantize_mask(p.x.data(), p.y.data(), p.mask.data());
        ste_backward_masked<P>(p.mask.data(), p.dy.data(), p.dx.data(), n);
        break;
    }
    benchmark::ClobberMemory();
  }
  const bool reads_params = op != Op::kBackwardMask && op != Op::kBackwardBits;
  set_counters(state, n, op_bytes(op) + (reads_params ? param_bytes(scheme, 8) : 0.0));
}

// The FakeQuantSTE layer, raw-pointer entry points (no allocation): forward
// keeping a byte mask, then backward from it, as a training step calls it.
template <Path P>
void bm_layer(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const Shape shape = square(n);
  Pool& p = pool();
  FakeQuantSTE<DefaultNumerics, P> layer(QParams::per_tensor(0.05f, 3, Range::full<std::int8_t>()));
  for (auto _ : state) {
    (void)layer.forward(p.x.data(), p.y.data(), shape);
    (void)layer.backward(p.dy.data(), p.dx.data(), shape);
    benchmark::ClobberMemory();
  }
  set_counters(state, n, op_bytes(Op::kForwardBackward));
}

// Learnable scale and zero point, as a training step runs them: new
// parameter values (validated, zero points rounded: `update`), forward, then
// dx, dscale and dzero_point.
template <Path P>
void bm_lsq(benchmark::State& state, Scheme scheme) {
  const std::int64_t n = state.range(0);
  const Shape shape = square(n);
  const ParamLayout l = layout_of(scheme, shape);
  Pool& p = pool();
  const LearnableParamsView params{
      l.granularity, l.axis, l.block, p.scale_f.data(), p.zero_point_f.data(), l.count, Range::full<std::int8_t>()};
  std::vector<float> dscale(l.count), dzero_point(l.count);
  LearnableFakeQuant<DefaultNumerics, P> lq(shape, params);
  for (auto _ : state) {
    (void)lq.update(params);
    lq.forward(p.x.data(), p.y.data());
    lq.backward(p.x.data(), p.dy.data(), p.dx.data(), dscale.data(), dzero_point.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, n, 8 + 12 + param_bytes(scheme, 16));
}

// TensorFlow's fake_quant_with_min_max_vars (per tensor) forward, and its
// gradient (dx, dmin, dmax).
void bm_tf(benchmark::State& state, bool gradient) {
  const std::int64_t n = state.range(0);
  const float min = -6.0f, max = 6.0f;
  tf::MinMaxView mm;
  mm.min = &min;
  mm.max = &max;
  mm.count = 1;
  Pool& p = pool();
  float dmin, dmax;
  for (auto _ : state) {
    if (gradient)
      (void)tf::fake_quant_with_min_max_gradient(p.dy.data(), p.x.data(), p.dx.data(), &dmin, &dmax,
                                                 Shape::row_major({n}), mm, tf::Op::kVars);
    else
      (void)tf::fake_quant_with_min_max(p.x.data(), p.y.data(), Shape::row_major({n}), mm, tf::Op::kVars);
    benchmark::ClobberMemory();
  }
  set_counters(state, n, gradient ? 12 : 8);
}

// The element functor inside an Eigen expression: y = fq(x).
void bm_functor(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  Eigen::TensorMap<Eigen::Tensor<float, 1>> x(pool().x.data(), n), y(pool().y.data(), n);
  const FakeQuantOp<> fq(0.05f, 3, Range::full<std::int8_t>());
  for (auto _ : state) {
    y = x.unaryExpr(fq);
    benchmark::ClobberMemory();
  }
  set_counters(state, n, 8);
}

// Loops that move the same bytes and do nothing useful: the speed of memory.
void bm_copy(benchmark::State& state, int kind) {
  const std::int64_t n = state.range(0);
  Pool& p = pool();
  const float* x = p.x.data();
  const std::uint8_t* m = p.mask.data();
  const float* dy = p.dy.data();
  float* y = p.y.data();
  std::uint8_t* byte_out = p.mask.data();
  for (auto _ : state) {
    switch (kind) {
      case 0:  // 4 bytes in, 4 out: fake-quant without a mask
        std::memcpy(y, x, static_cast<std::size_t>(n) * sizeof(float));
        break;
      case 1:  // 4 in, 4 + 1 out: fake-quant with a byte mask
        for (std::int64_t i = 0; i < n; ++i) {
          y[i] = x[i];
          byte_out[i] = static_cast<std::uint8_t>(i);
        }
        break;
      case 2:  // 4 + 1 in, 4 out: STE backward from a byte mask
        for (std::int64_t i = 0; i < n; ++i) y[i] = x[i] + static_cast<float>(m[i] & 1);
        break;
      case 3:  // 4 + 4 in, 4 out: STE backward from x
        for (std::int64_t i = 0; i < n; ++i) y[i] = x[i] + dy[i];
        break;
    }
    benchmark::ClobberMemory();
  }
  const double bytes[] = {8, 9, 9, 12};
  set_counters(state, n, bytes[kind]);
}

void sizes(benchmark::internal::Benchmark* b) {
  for (std::int64_t n : {std::int64_t{1} << 16, std::int64_t{1} << 20, std::int64_t{1} << 24}) b->Arg(n);
}

template <Path P>
void register_path() {
  const std::string path = path_name(P);
  for (Op op : {Op::kForwardMask, Op::kForwardBits, Op::kBackwardMask, Op::kBackwardBits, Op::kBackwardInput,
                Op::kForwardBackward})
    for (Scheme s : kSchemes) {
      if ((op == Op::kBackwardMask || op == Op::kBackwardBits) && s != Scheme::kPerTensor) continue;  // no params
      benchmark::RegisterBenchmark((std::string(op_name(op)) + "/" + scheme_name(s) + "/" + path).c_str(),
                                   [op, s](benchmark::State& st) { bm_ste<P>(st, op, s); })
          ->Apply(sizes);
    }
  benchmark::RegisterBenchmark(("layer_fwd+bwd/per-tensor/" + path).c_str(), bm_layer<P>)->Apply(sizes);
  for (Scheme s : {Scheme::kPerTensor, Scheme::kPerAxisLast, Scheme::kPerElement})
    benchmark::RegisterBenchmark((std::string("lsq_fwd+bwd/") + scheme_name(s) + "/" + path).c_str(),
                                 [s](benchmark::State& st) { bm_lsq<P>(st, s); })
        ->Apply(sizes);
}

const bool registered = [] {
  const char* copies[] = {"copy/4+4", "copy/4+5", "copy/5+4", "copy/8+4"};
  for (int k = 0; k < 4; ++k)
    benchmark::RegisterBenchmark(copies[k], [k](benchmark::State& st) { bm_copy(st, k); })->Apply(sizes);
  register_path<Path::kScalar>();
  if (path_supported(Path::kAvx2)) register_path<Path::kAvx2>();
  register_path<Path::kAuto>();
  benchmark::RegisterBenchmark("tf_vars/per-tensor/scalar", [](benchmark::State& st) {
    bm_tf(st, false);
  })->Apply(sizes);
  benchmark::RegisterBenchmark("tf_vars_gradient/per-tensor/scalar", [](benchmark::State& st) {
    bm_tf(st, true);
  })->Apply(sizes);
  benchmark::RegisterBenchmark("functor_unaryExpr/per-tensor/scalar", bm_functor)->Apply(sizes);
  return true;
}();

}  // namespace
}  // namespace eigenq
