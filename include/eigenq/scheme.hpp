#pragma once
/// \file
/// `Quantizer`: a parameter set validated against a shape once, then
/// applied any number of times without checks or allocation, on the path P
/// names (by default the best one this CPU supports, chosen at run time).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "half.hpp"
#include "kernels.hpp"
#include "params.hpp"
#include "slices.hpp"
#include "stored.hpp"

namespace eigenq {
namespace detail {

/// Elements the half-precision entry points convert at a time, through a
/// buffer of floats on the stack (16 KiB).
constexpr std::int64_t kHalfChunk = std::int64_t{1} << 12;

/// For each slice of r of about kHalfChunk elements: widens its elements of
/// `in` (unless null) into a float buffer, calls fn(slice, buffer), then
/// narrows the buffer into its elements of `out` (unless null). Only a
/// blocked scheme one of whose blocks spans more than a chunk
/// (block_size x inner elements) has larger slices; they go through a heap
/// buffer, the one allocation.
template <class Format, Path P, class Fn>
void through_floats(const ResolvedParams& r, const std::uint16_t* in, std::uint16_t* out, Fn&& fn) {
  const SlicePlan plan = plan_slices(r, 1, 1, kHalfChunk);
  float chunk[kHalfChunk];
  std::vector<float> large;
  for (std::int64_t i = 0; i < plan.count; ++i) {
    const Slice s = slice_at(r, plan, i);
    const std::size_t n = static_cast<std::size_t>(s.r.size());
    float* buffer = chunk;
    if (n > static_cast<std::size_t>(kHalfChunk)) {
      large.resize(n);
      buffer = large.data();
    }
    if (in != nullptr)
      with_kernels<P>([&](auto k) { decltype(k)::template widen_halves<Format>(in + s.at, buffer, n); });
    fn(s, buffer);
    if (out != nullptr)
      with_kernels<P>([&](auto k) { decltype(k)::template narrow_halves<Format>(buffer, out + s.at, n); });
  }
}

/// The bits of Eigen::half / Eigen::bfloat16 elements (a 16-bit struct
/// holding them).
template <class H>
const std::uint16_t* half_bits(const H* p) {
  static_assert(sizeof(H) == sizeof(std::uint16_t), "a half-precision element holds 16 bits");
  return reinterpret_cast<const std::uint16_t*>(p);
}
template <class H>
std::uint16_t* half_bits(H* p) {
  static_assert(sizeof(H) == sizeof(std::uint16_t), "a half-precision element holds 16 bits");
  return reinterpret_cast<std::uint16_t*>(p);
}

/// The first element of p's buffer that starts a 64-byte line (the buffer
/// holds 64 / sizeof(T) - 1 elements more than it needs).
template <class T>
T* line_aligned(T* p) {
  const std::uintptr_t at = reinterpret_cast<std::uintptr_t>(p);
  return p + ((64 - at % 64) % 64) / sizeof(T);
}

}  // namespace detail

/// A parameter set validated against a shape: apply it to any number of
/// tensors of that shape. Applying never checks, allocates or throws.
///
///     eigenq::Quantizer<int8_t> qz(shape, QParams::per_axis(0, scales, zps, Range::full<int8_t>()));
///     qz.quantize(x, q);      // x: shape.size() floats, q: as many int8
///
/// Q is the storage type, N the numerics preset, P the kernel path. The
/// parameters are copied when given as `QParams`, and referenced (the caller
/// keeps them alive and unchanged) when given as `QParamsView`: values
/// derived from them (each scale's reciprocal, each zero point's clamp
/// bounds) are computed once, here, so no kernel divides per run or lane,
/// and the kernels read them (but per-element parameters) from copies
/// aligned to cache lines made here too.
template <class Q, class N = DefaultNumerics, Path P = kBestPath>
class Quantizer {
 public:
  using Storage = Q;
  using Preset = N;
  static constexpr Path path = P;

  Quantizer() = default;

  /// The non-throwing constructor.
  static Status create(const Shape& shape, const QParamsView& params, Quantizer* out) {
    Quantizer q;
    q.shape_ = shape;
    EIGENQ_RETURN_IF_ERROR((resolve<Q, typename N::Scaling>(params, shape, &q.resolved_)));
    q.prepare();
    *out = std::move(q);
    return Status::ok();
  }
  static Status create(const Shape& shape, QParams params, Quantizer* out) {
    EIGENQ_RETURN_IF_ERROR(check_lengths(params));
    Quantizer q;
    q.shape_ = shape;
    q.owned_ = std::move(params);
    EIGENQ_RETURN_IF_ERROR((resolve<Q, typename N::Scaling>(q.owned_.view(), shape, &q.resolved_)));
    q.prepare();
    *out = std::move(q);  // a moved vector keeps its buffer, so the views stay valid
    return Status::ok();
  }

  /// Parameters in their stored form (float16 / bfloat16 scales, narrow or
  /// absent zero points: stored.hpp), widened once here.
  static Status create(const Shape& shape, const StoredParamsView& stored, Quantizer* out) {
    QParams params;
    EIGENQ_RETURN_IF_ERROR(widen(stored, &params));
    return create(shape, std::move(params), out);
  }

  /// Throws `eigenq::Error` naming the bad value.
  Quantizer(const Shape& shape, const QParamsView& params) { detail::raise_if_error(create(shape, params, this)); }
  Quantizer(const Shape& shape, QParams params) { detail::raise_if_error(create(shape, std::move(params), this)); }

  Quantizer(const Quantizer& other) { *this = other; }
  Quantizer& operator=(const Quantizer& other) {
    shape_ = other.shape_;
    resolved_ = other.resolved_;
    owned_ = other.owned_;
    rebind(other);
    prepare();
    return *this;
  }
  Quantizer(Quantizer&&) = default;
  Quantizer& operator=(Quantizer&&) = default;  // vectors keep their buffers when moved

  const Shape& shape() const { return shape_; }
  std::int64_t size() const { return shape_.size(); }
  const ResolvedParams& resolved() const { return resolved_; }
  const QParamsView& params() const { return resolved_.params; }
  Range range() const { return resolved_.params.range; }

  /// q = quantize(x); both hold size() elements.
  void quantize(const float* x, Q* q) const { quantize_slice(resolved_, x, q); }
  /// y = dequantize(q).
  void dequantize(const Q* q, float* y) const { dequantize_slice(resolved_, q, y); }
  /// y = dequantize(quantize(x)); y may alias x.
  void fake_quantize(const float* x, float* y) const { fake_quantize_slice(resolved_, x, y); }
  /// y = fake_quantize(x) and the STE mask (0/1 bytes) in one pass.
  void fake_quantize_mask(const float* x, float* y, std::uint8_t* mask) const {
    fake_quantize_mask_slice(resolved_, x, y, mask);
  }
  /// dx = dy where x quantizes inside the range, 0 elsewhere (times dy).
  void ste_backward(const float* x, const float* dy, float* dx) const { ste_backward_slice(resolved_, x, dy, dx); }

  /// The same operations on float16 / bfloat16 elements (half.hpp): raw
  /// bits with their format named, `qz.quantize<BFloat16>(bits, q)`, or
  /// Eigen::half / Eigen::bfloat16 pointers, `qz.dequantize(q, halves)`.
  /// Input is widened exactly, so the result is the float32 operation's on
  /// the widened values; float output is narrowed once, to nearest even.
  /// The tensor goes through a float buffer on the stack 4Ki elements at a
  /// time; hazard: a blocked scheme one of whose blocks spans more than that
  /// (block_size x inner elements) allocates a buffer per call instead
  /// (detail::through_floats).
  template <class Format>
  void quantize(const std::uint16_t* x, Q* q) const {
    detail::through_floats<Format, P>(resolved_, x, nullptr,
                                      [&](const detail::Slice& s, float* f) { quantize_slice(s.r, f, q + s.at); });
  }
  template <class Format>
  void dequantize(const Q* q, std::uint16_t* y) const {
    detail::through_floats<Format, P>(resolved_, nullptr, y,
                                      [&](const detail::Slice& s, float* f) { dequantize_slice(s.r, q + s.at, f); });
  }
  /// y may alias x.
  template <class Format>
  void fake_quantize(const std::uint16_t* x, std::uint16_t* y) const {
    detail::through_floats<Format, P>(resolved_, x, y,
                                      [&](const detail::Slice& s, float* f) { fake_quantize_slice(s.r, f, f); });
  }
  template <class Format>
  void fake_quantize_mask(const std::uint16_t* x, std::uint16_t* y, std::uint8_t* mask) const {
    detail::through_floats<Format, P>(
        resolved_, x, y, [&](const detail::Slice& s, float* f) { fake_quantize_mask_slice(s.r, f, f, mask + s.at); });
  }
  template <class H, class Format = half_format_t<H>>
  void quantize(const H* x, Q* q) const {
    quantize<Format>(detail::half_bits(x), q);
  }
  template <class H, class Format = half_format_t<H>>
  void dequantize(const Q* q, H* y) const {
    dequantize<Format>(q, detail::half_bits(y));
  }
  template <class H, class Format = half_format_t<H>>
  void fake_quantize(const H* x, H* y) const {
    fake_quantize<Format>(detail::half_bits(x), detail::half_bits(y));
  }
  template <class H, class Format = half_format_t<H>>
  void fake_quantize_mask(const H* x, H* y, std::uint8_t* mask) const {
    fake_quantize_mask<Format>(detail::half_bits(x), detail::half_bits(y), mask);
  }

  /// The same operations on an executor (slices.hpp, parallel.hpp): the
  /// tensor is cut into slices of about 64Ki elements on cache-line
  /// boundaries of the output, each run by the serial kernel. The result is
  /// the same bits as the serial call's, whatever the executor and its
  /// thread count; a tensor of one slice runs inline.
  ///
  ///     eigenq::ThreadPoolExecutor pool(8);
  ///     qz.quantize(x, q, pool);
  template <class Exec>
  void quantize(const float* x, Q* q, Exec&& exec) const {
    detail::for_each_slice(exec, resolved_, detail::line_of<Q>, 1,
                           [&](const detail::Slice& s) { quantize_slice(s.r, x + s.at, q + s.at); });
  }
  template <class Exec>
  void dequantize(const Q* q, float* y, Exec&& exec) const {
    detail::for_each_slice(exec, resolved_, detail::line_of<float>, 1,
                           [&](const detail::Slice& s) { dequantize_slice(s.r, q + s.at, y + s.at); });
  }
  template <class Exec>
  void fake_quantize(const float* x, float* y, Exec&& exec) const {
    detail::for_each_slice(exec, resolved_, detail::line_of<float>, 1,
                           [&](const detail::Slice& s) { fake_quantize_slice(s.r, x + s.at, y + s.at); });
  }
  template <class Exec>
  void fake_quantize_mask(const float* x, float* y, std::uint8_t* mask, Exec&& exec) const {
    detail::for_each_slice(exec, resolved_, detail::line_of<std::uint8_t>, 1, [&](const detail::Slice& s) {
      fake_quantize_mask_slice(s.r, x + s.at, y + s.at, mask + s.at);
    });
  }
  template <class Exec>
  void ste_backward(const float* x, const float* dy, float* dx, Exec&& exec) const {
    detail::for_each_slice(exec, resolved_, detail::line_of<float>, 1,
                           [&](const detail::Slice& s) { ste_backward_slice(s.r, x + s.at, dy + s.at, dx + s.at); });
  }

 private:
  // The whole-tensor kernels on a scheme: the quantizer's own, or a slice of it.
  static void quantize_slice(const ResolvedParams& r, const float* x, Q* q) {
    with_kernels<P>([&](auto k) { decltype(k)::template quantize<Q, N>(r, x, q); });
  }
  static void dequantize_slice(const ResolvedParams& r, const Q* q, float* y) {
    with_kernels<P>([&](auto k) { decltype(k)::template dequantize<Q>(r, q, y); });
  }
  static void fake_quantize_slice(const ResolvedParams& r, const float* x, float* y) {
    with_kernels<P>([&](auto k) { decltype(k)::template fake_quantize<N>(r, x, y); });
  }
  static void fake_quantize_mask_slice(const ResolvedParams& r, const float* x, float* y, std::uint8_t* mask) {
    with_kernels<P>([&](auto k) { decltype(k)::template fake_quantize_mask<N>(r, x, y, mask); });
  }
  static void ste_backward_slice(const ResolvedParams& r, const float* x, const float* dy, float* dx) {
    with_kernels<P>([&](auto k) { decltype(k)::template ste_backward<N>(r, x, dy, dx); });
  }

  // The per-parameter arrays the kernels read (PreparedParams): the scaling
  // factor under N, and (but per element) the clamp bounds relative to each
  // zero point and copies of the scales and zero points, which the kernels
  // then read in their place. O(parameters), when the parameters meet the
  // shape. Each array starts on a 64-byte line: a row of parameters loaded a
  // vector at a time from a caller's arrays (malloc aligns to 16 bytes)
  // splits a line on every load (per-axis dequantize along the fastest axis
  // ran at 1.6x the time with the caller's arrays). Per element the
  // parameters are as large as the tensor, and are not copied.
  void prepare() {
    QParamsView& p = resolved_.params;
    const std::size_t n = p.scale != nullptr ? resolved_.count : 0;  // 0: default-constructed
    const bool copies = p.granularity != Granularity::kPerElement;
    constexpr std::size_t kLine = 64 / sizeof(float);
    const std::size_t stride = (n + kLine - 1) / kLine * kLine;  // one array, whole lines
    prepared_.resize((copies ? 4 : 1) * stride + kLine - 1);
    float* factor = detail::line_aligned(prepared_.data());
    for (std::size_t i = 0; i < n; ++i) factor[i] = N::Scaling::factor(p.scale[i]);
    resolved_.prepared = {factor, nullptr, nullptr};
    if (!copies) return;
    float* lo = factor + stride;
    float* hi = lo + stride;
    float* scale = hi + stride;
    prepared_zero_point_.resize(stride + kLine - 1);
    std::int32_t* zero_point = detail::line_aligned(prepared_zero_point_.data());
    for (std::size_t i = 0; i < n; ++i) {
      lo[i] = static_cast<float>(std::int64_t{p.range.qmin} - p.zero_point[i]);
      hi[i] = static_cast<float>(std::int64_t{p.range.qmax} - p.zero_point[i]);
      scale[i] = p.scale[i];
      zero_point[i] = p.zero_point[i];
    }
    resolved_.prepared.lo = lo;
    resolved_.prepared.hi = hi;
    if (n > 0) p.scale = scale, p.zero_point = zero_point;
  }
  // After a copy, a view of owned parameters must point at our own copy.
  void rebind(const Quantizer& other) {
    if (!owned_.scale.empty() && other.resolved_.params.scale == other.owned_.scale.data()) {
      resolved_.params.scale = owned_.scale.data();
      resolved_.params.zero_point = owned_.zero_point.data();
    }
  }

  Shape shape_;
  ResolvedParams resolved_;
  QParams owned_;
  std::vector<float> prepared_;
  std::vector<std::int32_t> prepared_zero_point_;
};

/// One-shot raw-pointer entry points: validate, then apply. They return a
/// Status and write nothing when the parameters are invalid.
template <class Q, class N = DefaultNumerics, Path P = kBestPath>
Status quantize(const float* x, Q* q, const Shape& shape, const QParamsView& params) {
  Quantizer<Q, N, P> qz;
  EIGENQ_RETURN_IF_ERROR(Quantizer<Q, N, P>::create(shape, params, &qz));
  EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"x", x}, {"q", q}}));
  qz.quantize(x, q);
  return Status::ok();
}

/// Dequantizing never uses 1/scale: every finite scale > 0 is valid here
/// (ONNX Runtime dequantizes with 1e-45), whatever N's scaling.
template <class Q, class N = DefaultNumerics, Path P = kBestPath>
Status dequantize(const Q* q, float* y, const Shape& shape, const QParamsView& params) {
  using Dequantizer = Quantizer<Q, Numerics<typename N::Rounding, ScaleByDivision>, P>;
  Dequantizer qz;
  EIGENQ_RETURN_IF_ERROR(Dequantizer::create(shape, params, &qz));
  EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"q", q}, {"y", y}}));
  qz.dequantize(q, y);
  return Status::ok();
}

template <class Q = std::int32_t, class N = DefaultNumerics, Path P = kBestPath>
Status fake_quantize(const float* x, float* y, const Shape& shape, const QParamsView& params) {
  Quantizer<Q, N, P> qz;
  EIGENQ_RETURN_IF_ERROR(Quantizer<Q, N, P>::create(shape, params, &qz));
  EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"x", x}, {"y", y}}));
  qz.fake_quantize(x, y);
  return Status::ok();
}

}  // namespace eigenq
