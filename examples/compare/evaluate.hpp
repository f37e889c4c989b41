#pragma once
// One measurement: a tensor quantized with one scheme, storage type and
// symmetry, then dequantized. Reports the error (SQNR, max abs error), the
// bytes it takes (data + metadata), and the quantize / dequantize speed.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "dataset.hpp"
#include "eigenq/packed.hpp"
#include "eigenq/qparams.hpp"
#include "eigenq/scheme.hpp"

namespace eigenq::compare {

/// Storage types compared. int4 [-8, 7] and uint4 [0, 15] are packed two
/// per byte (packed.hpp).
enum class DType { kInt8, kUInt8, kInt4, kUInt4 };

inline const char* dtype_name(DType t) {
  return t == DType::kInt8 ? "int8" : t == DType::kUInt8 ? "uint8" : t == DType::kInt4 ? "int4" : "uint4";
}

/// A granularity with its block size: per-tensor, per-channel, block<N>,
/// per-element.
struct Scheme {
  Granularity granularity = Granularity::kPerTensor;
  std::int64_t block = 0;

  std::string name() const {
    switch (granularity) {
      case Granularity::kPerTensor:
        return "per-tensor";
      case Granularity::kPerAxis:
        return "per-channel";
      case Granularity::kBlocked:
        return "block" + std::to_string(block);
      case Granularity::kPerElement:
        return "per-element";
    }
    return "?";
  }
  friend bool operator==(const Scheme& a, const Scheme& b) {
    return a.granularity == b.granularity && a.block == b.block;
  }
};

/// How parameters are chosen from a group's min and max (qparams.hpp):
/// asymmetric (scale and zero point), symmetric over the full range
/// (PyTorch: scale = absmax / ((qmax - qmin) / 2), e.g. absmax / 127.5 for
/// int8), or symmetric over the narrow range (qmin + 1: [-127, 127] for
/// int8, scale absmax / 127, as TFLite and most weight formats do).
enum class Mode { kAsym, kSym, kSymNarrow };

inline const char* mode_name(Mode m) { return m == Mode::kAsym ? "asym" : m == Mode::kSym ? "sym" : "sym-narrow"; }
inline Symmetry symmetry_of(Mode m) { return m == Mode::kAsym ? Symmetry::kAffine : Symmetry::kSymmetric; }

struct Config {
  Scheme scheme;
  DType dtype = DType::kInt8;
  Mode mode = Mode::kAsym;

  std::string name() const { return scheme.name() + " " + dtype_name(dtype) + " " + mode_name(mode); }
};

// ---------------------------------------------------------------------------
// Error metrics, in double precision

/// Signal-to-quantization-noise ratio in dB: 10 log10(sum x^2 / sum (x - y)^2).
/// +inf when y == x exactly (including an all-zero x); -inf when x is all
/// zero and y is not.
inline double sqnr_db(const float* x, const float* y, std::size_t n) {
  double signal = 0.0, noise = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double e = static_cast<double>(x[i]) - static_cast<double>(y[i]);
    signal += static_cast<double>(x[i]) * x[i];
    noise += e * e;
  }
  if (noise == 0.0) return std::numeric_limits<double>::infinity();
  if (signal == 0.0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

inline double max_abs_error(const float* x, const float* y, std::size_t n) {
  double m = 0.0;
  for (std::size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(static_cast<double>(x[i]) - y[i]));
  return m;
}

// ---------------------------------------------------------------------------
// Cost

/// Bytes a parameter set takes, as eigenq's QParams holds it: a float32
/// scale per parameter, plus an int32 zero point per parameter for
/// asymmetric schemes. Symmetric schemes store no zero point (it is the
/// constant 0, or 128 for uint8).
inline double metadata_bytes(std::int64_t params, Mode mode) {
  return static_cast<double>(params) * (mode == Mode::kAsym ? 8.0 : 4.0);
}

struct Result {
  std::size_t tensor = 0;  ///< index into the tensor list
  Config config;
  std::int64_t elements = 0;
  std::int64_t params = 0;  ///< (scale, zero point) pairs
  double sqnr_db = 0.0;
  double max_abs_error = 0.0;
  double data_bytes = 0.0;
  double metadata_bytes = 0.0;
  /// Seconds per call (the fastest of the repetitions), NaN when not measured.
  double quantize_seconds = std::numeric_limits<double>::quiet_NaN();
  double dequantize_seconds = std::numeric_limits<double>::quiet_NaN();

  double total_bytes() const { return data_bytes + metadata_bytes; }
  double bytes_per_element() const { return elements ? total_bytes() / elements : 0.0; }
  double vs_float32() const { return elements ? total_bytes() / (4.0 * elements) : 0.0; }
  /// Throughput in GB/s of float32 data: what quantize reads, dequantize writes.
  double quantize_gbps() const { return 4.0 * elements / quantize_seconds * 1e-9; }
  double dequantize_gbps() const { return 4.0 * elements / dequantize_seconds * 1e-9; }
};

// ---------------------------------------------------------------------------
// Speed

struct SpeedOptions {
  bool enabled = true;
  int repetitions = 3;            ///< timed batches; the fastest counts
  double batch_seconds = 0.5e-3;  ///< each batch repeats the call for at least this long
};

/// Keeps the compiler from merging or dropping repeated calls whose results
/// land in memory nobody reads yet.
inline void clobber_memory() {
#if defined(__GNUC__) || defined(__clang__)
  asm volatile("" : : : "memory");
#endif
}

/// Seconds per call of fn: the fastest of `repetitions` batches, each
/// calling fn enough times to last about `batch_seconds`.
template <class Fn>
double seconds_per_call(const SpeedOptions& opt, Fn&& fn) {
  using Clock = std::chrono::steady_clock;
  auto elapsed = [](Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  Clock::time_point t0 = Clock::now();
  fn();  // warm-up, and an estimate for the batch size
  clobber_memory();
  const double once = std::max(elapsed(t0), 1e-9);
  const long calls = static_cast<long>(std::clamp(opt.batch_seconds / once, 1.0, 1e6));
  double best = std::numeric_limits<double>::infinity();
  for (int r = 0; r < std::max(1, opt.repetitions); ++r) {
    t0 = Clock::now();
    for (long c = 0; c < calls; ++c) {
      fn();
      clobber_memory();
    }
    best = std::min(best, elapsed(t0) / calls);
  }
  return best;
}

// ---------------------------------------------------------------------------
// One measurement

namespace detail {

inline ParamLayout layout_for(const Tensor& t, const Scheme& s) {
  switch (s.granularity) {
    case Granularity::kPerTensor:
      return per_tensor_layout();
    case Granularity::kPerAxis:
      return per_axis_layout(t.channel_axis);
    case Granularity::kBlocked:
      return blocked_layout(t.block_axis, s.block);
    case Granularity::kPerElement:
      return per_element_layout();
  }
  return {};
}

/// The quantizer and buffer type for storage Q: int8_t / uint8_t use
/// Quantizer, the packed Int4 / UInt4 use PackedQuantizer over bytes.
template <class Q, class = void>
struct Storage {
  using Quantizer = eigenq::Quantizer<Q>;
  using Param = Q;   ///< the type choose_qparams works in
  using Buffer = Q;  ///< what the quantized data is stored as
  static std::size_t buffer_size(std::int64_t n) { return static_cast<std::size_t>(n); }
};
template <class Q>
struct Storage<Q, std::enable_if_t<is_packed4_v<Q>>> {
  using Quantizer = PackedQuantizer<Q>;
  using Param = typename Q::Unpacked;
  using Buffer = std::uint8_t;
  static std::size_t buffer_size(std::int64_t n) { return packed_size(n); }
};

template <class Q>
Status evaluate_as(const Tensor& t, const Config& c, Range range, const SpeedOptions& speed, Result* r) {
  using S = Storage<Q>;
  // Blocked schemes see the tensor through its block view (same memory).
  const Shape& shape = c.scheme.granularity == Granularity::kBlocked ? t.block_shape : t.shape;
  QParams params;
  EIGENQ_RETURN_IF_ERROR(choose_qparams<typename S::Param>(t.data.data(), shape, layout_for(t, c.scheme), range,
                                                           symmetry_of(c.mode), &params));
  const std::int64_t count = static_cast<std::int64_t>(params.scale.size());
  typename S::Quantizer qz;
  EIGENQ_RETURN_IF_ERROR(S::Quantizer::create(shape, std::move(params), &qz));

  const std::size_t n = t.data.size();
  std::vector<typename S::Buffer> q(S::buffer_size(static_cast<std::int64_t>(n)));
  std::vector<float> y(n);
  qz.quantize(t.data.data(), q.data());
  qz.dequantize(q.data(), y.data());

  r->elements = static_cast<std::int64_t>(n);
  r->params = count;
  r->sqnr_db = sqnr_db(t.data.data(), y.data(), n);
  r->max_abs_error = max_abs_error(t.data.data(), y.data(), n);
  r->data_bytes = static_cast<double>(q.size() * sizeof(typename S::Buffer));
  r->metadata_bytes = metadata_bytes(r->params, c.mode);
  if (speed.enabled && n > 0) {
    r->quantize_seconds = seconds_per_call(speed, [&] { qz.quantize(t.data.data(), q.data()); });
    r->dequantize_seconds = seconds_per_call(speed, [&] { qz.dequantize(q.data(), y.data()); });
  }
  return Status::ok();
}

}  // namespace detail

/// Quantizes tensor `t` with configuration `c` (parameters chosen from the
/// tensor's own min/max with PyTorch's rules), dequantizes, and measures.
inline Status evaluate(const Tensor& t, const Config& c, const SpeedOptions& speed, Result* r) {
  r->config = c;
  // The narrow range drops the lowest level: [-127, 127], [1, 255], [-7, 7], [1, 15].
  auto range = [&](Range full) { return c.mode == Mode::kSymNarrow ? Range{full.qmin + 1, full.qmax} : full; };
  switch (c.dtype) {
    case DType::kInt8:
      return detail::evaluate_as<std::int8_t>(t, c, range(Range::full<std::int8_t>()), speed, r);
    case DType::kUInt8:
      return detail::evaluate_as<std::uint8_t>(t, c, range(Range::full<std::uint8_t>()), speed, r);
    case DType::kInt4:
      return detail::evaluate_as<Int4>(t, c, range(Int4::range()), speed, r);
    case DType::kUInt4:
      return detail::evaluate_as<UInt4>(t, c, range(UInt4::range()), speed, r);
  }
  return Status::ok();
}

}  // namespace eigenq::compare
