#pragma once
/// \file
/// Fake-quantization for training: the forward pass that also records the
/// straight-through estimator's mask, the backward pass from that mask, a
/// functor object holding parameters and mask between the two passes, and
/// element functors that fuse fake-quant into Eigen expressions.
///
/// The mask is on the rounded, unclamped value (numerics.hpp):
///
///     mask(x) = qmin <= round(x / scale) + zero_point <= qmax
///
/// as PyTorch's `fake_quantize_per_{tensor,channel}_affine_cachemask` compute
/// it (so x = -0.5 with scale 1, zero point 0 and range [0, 10] has mask 1,
/// and NaN has mask 0). The backward pass is dx = dy * mask: a multiply, not a
/// select, as PyTorch does, so an infinite or NaN dy where the mask is 0 gives
/// NaN, and a negative dy gives -0.0.
///
/// Masks are one byte (0 or 1) per element, or packed one bit per element
/// (element i is bit i % 8 of byte i / 8, least significant bit first): an
/// eighth of the memory for activations kept between the passes.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "../eigen.hpp"
#include "../scheme.hpp"

namespace eigenq {

namespace detail {

inline bool same_shape(const Shape& a, const Shape& b) {
  if (a.rank != b.rank || a.layout != b.layout) return false;
  for (int d = 0; d < a.rank; ++d)
    if (a.dims[d] != b.dims[d]) return false;
  return true;
}

inline Status check_same_shape(const Shape& expected, const Shape& got, const char* what) {
  if (same_shape(expected, got)) return Status::ok();
  return error(StatusCode::kShapeMismatch, what, " has shape ", shape_text(got), ", expected ", shape_text(expected),
               expected.layout != got.layout ? " (or a different layout)" : "");
}

}  // namespace detail

/// y = fake_quantize(x) and the STE mask packed one bit per element, in one
/// pass over x. `bits` must hold packed_mask_bytes(qz.size()) bytes; every
/// one of them is written. y may alias x.
template <class Q, class N, Path P>
void fake_quantize_packed_mask(const Quantizer<Q, N, P>& qz, const float* x, float* y, std::uint8_t* bits) {
  with_kernels<P>([&](auto k) { decltype(k)::template fake_quantize_packed_mask<N>(qz.resolved(), x, y, bits); });
}

/// dx[i] = dy[i] * mask byte i, for n elements; dx may alias dy.
template <Path P = kBestPath>
void ste_backward_masked(const std::uint8_t* mask, const float* dy, float* dx, std::int64_t n) {
  with_kernels<P>([&](auto k) { decltype(k)::ste_backward_masked(mask, dy, dx, static_cast<std::size_t>(n)); });
}

/// dx[i] = dy[i] * mask bit i, for a packed mask of n elements; dx may alias
/// dy.
template <Path P = kBestPath>
void ste_backward_packed(const std::uint8_t* bits, const float* dy, float* dx, std::int64_t n) {
  with_kernels<P>([&](auto k) { decltype(k)::ste_backward_packed(bits, dy, dx, n); });
}

// ---------------------------------------------------------------------------
// Eigen front end: fake-quantize with mask, STE backward

/// Writes y = fake_quantize(x) and mask (uint8, 0 or 1, same shape and
/// layout as x) in one pass. Nothing is written when the status is not ok.
template <class N = DefaultNumerics, Path P = kBestPath, class In, class Out, class Mask>
Status fake_quantize_mask_into(const In& x, const QParamsView& params, Out&& y, Mask&& mask) {
  static_assert(std::is_same_v<typename detail::Traits<In>::Scalar, float>, "fake_quantize takes float input");
  static_assert(std::is_same_v<typename detail::Traits<Out>::Scalar, float>, "fake_quantize writes float");
  static_assert(std::is_same_v<typename detail::Traits<Mask>::Scalar, std::uint8_t>, "the mask is uint8");
  EIGENQ_RETURN_IF_ERROR(detail::check_output(x, y));
  EIGENQ_RETURN_IF_ERROR(detail::check_output(x, mask));
  Quantizer<std::int32_t, N, P> qz;
  EIGENQ_RETURN_IF_ERROR(Quantizer<std::int32_t, N, P>::create(shape_of(x), params, &qz));
  qz.fake_quantize_mask(x.data(), y.data(), mask.data());
  return Status::ok();
}

/// The output of `fake_quantize_mask`: tensors (or matrices) of the input's
/// rank and layout.
template <class In>
struct FakeQuantMasked {
  typename detail::Traits<In>::template Plain<float> output;
  typename detail::Traits<In>::template Plain<std::uint8_t> mask;
};

/// y = fake_quantize(x) and its STE mask. Throws `eigenq::Error` on bad
/// parameters.
template <class N = DefaultNumerics, Path P = kBestPath, class In>
FakeQuantMasked<In> fake_quantize_mask(const In& x, const QParams& params) {
  FakeQuantMasked<In> r{detail::Traits<In>::template make<float>(x),
                        detail::Traits<In>::template make<std::uint8_t>(x)};
  detail::raise_if_error(fake_quantize_mask_into<N, P>(x, params.view(), r.output, r.mask));
  return r;
}

/// dx = dy * mask, for a mask from `fake_quantize_mask`.
template <Path P = kBestPath, class Mask, class DY, class DX>
Status ste_backward_into(const Mask& mask, const DY& dy, DX&& dx) {
  static_assert(std::is_same_v<typename detail::Traits<Mask>::Scalar, std::uint8_t>, "the mask is uint8");
  static_assert(std::is_same_v<typename detail::Traits<DY>::Scalar, float>, "gradients are float");
  static_assert(std::is_same_v<typename detail::Traits<DX>::Scalar, float>, "gradients are float");
  EIGENQ_RETURN_IF_ERROR(detail::check_output(mask, dy));
  EIGENQ_RETURN_IF_ERROR(detail::check_output(mask, dx));
  ste_backward_masked<P>(mask.data(), dy.data(), dx.data(), shape_of(dy).size());
  return Status::ok();
}

template <Path P = kBestPath, class Mask, class DY>
auto ste_backward(const Mask& mask, const DY& dy) -> typename detail::Traits<DY>::template Plain<float> {
  auto dx = detail::Traits<DY>::template make<float>(dy);
  detail::raise_if_error(ste_backward_into<P>(mask, dy, dx));
  return dx;
}

/// dx = dy * mask(x), recomputing the mask from the forward input: no mask
/// kept between the passes, one more read of x.
template <class N = DefaultNumerics, Path P = kBestPath, class In, class DY, class DX>
Status ste_backward_into(const In& x, const QParamsView& params, const DY& dy, DX&& dx) {
  static_assert(std::is_same_v<typename detail::Traits<In>::Scalar, float>, "inputs are float");
  static_assert(std::is_same_v<typename detail::Traits<DY>::Scalar, float>, "gradients are float");
  static_assert(std::is_same_v<typename detail::Traits<DX>::Scalar, float>, "gradients are float");
  EIGENQ_RETURN_IF_ERROR(detail::check_output(x, dy));
  EIGENQ_RETURN_IF_ERROR(detail::check_output(x, dx));
  Quantizer<std::int32_t, N, P> qz;
  EIGENQ_RETURN_IF_ERROR(Quantizer<std::int32_t, N, P>::create(shape_of(x), params, &qz));
  qz.ste_backward(x.data(), dy.data(), dx.data());
  return Status::ok();
}

template <class N = DefaultNumerics, Path P = kBestPath, class In, class DY>
auto ste_backward(const In& x, const QParams& params, const DY& dy) ->
    typename detail::Traits<DY>::template Plain<float> {
  auto dx = detail::Traits<DY>::template make<float>(dy);
  detail::raise_if_error(ste_backward_into<N, P>(x, params.view(), dy, dx));
  return dx;
}

// ---------------------------------------------------------------------------
// The STE functor: parameters and mask between the forward and backward pass

/// How `FakeQuantSTE` keeps the mask between forward and backward.
enum class MaskStorage {
  kBytes,  ///< one byte per element (as PyTorch's cachemask ops)
  kBits,   ///< one bit per element
  kNone,   ///< no mask: backward(x, dy) recomputes it from the input
};

/// Fake-quantization as a differentiable layer:
///
///     eigenq::FakeQuantSTE<> fq(eigenq::QParams::per_axis(0, scales, zps, range));
///     auto y  = fq.forward(x);    // fake-quantized x; the mask is kept
///     auto dx = fq.backward(dy);  // dy where x was inside the range, else 0
///
/// Parameters are validated against the input's shape at the first forward
/// pass and again whenever the shape or the parameters change; the passes
/// themselves run the `Quantizer` kernels (SIMD where compiled in).
template <class N = DefaultNumerics, Path P = kBestPath>
class FakeQuantSTE {
 public:
  FakeQuantSTE() = default;
  explicit FakeQuantSTE(QParams params, MaskStorage storage = MaskStorage::kBytes)
      : params_(std::move(params)), storage_(storage) {}

  const QParams& params() const { return params_; }
  /// New parameters for the next forward pass (validated there).
  void set_params(QParams params) {
    params_ = std::move(params);
    ready_ = false;
  }
  MaskStorage storage() const { return storage_; }
  /// The mask of the last forward pass: bytes or packed bits (see storage()).
  const std::vector<std::uint8_t>& mask() const { return mask_; }
  /// Shape of the last forward pass.
  const Shape& shape() const { return shape_; }

  /// y = fake_quantize(x), keeping the mask. y may alias x. Nothing is
  /// written when the status is not ok.
  Status forward(const float* x, float* y, const Shape& shape) {
    EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"x", x}, {"y", y}}));
    EIGENQ_RETURN_IF_ERROR(prepare(shape));
    const std::int64_t n = shape.size();
    switch (storage_) {
      case MaskStorage::kBytes:
        mask_.resize(static_cast<std::size_t>(n));
        qz_.fake_quantize_mask(x, y, mask_.data());
        break;
      case MaskStorage::kBits:
        mask_.resize(static_cast<std::size_t>(packed_mask_bytes(n)));
        fake_quantize_packed_mask(qz_, x, y, mask_.data());
        break;
      case MaskStorage::kNone:
        mask_.clear();
        qz_.fake_quantize(x, y);
        break;
    }
    has_mask_ = storage_ != MaskStorage::kNone;
    return Status::ok();
  }

  /// dx = dy * mask of the last forward pass; dy must have its shape.
  Status backward(const float* dy, float* dx, const Shape& shape) const {
    if (!has_mask_)
      return detail::error(StatusCode::kInvalidArgument,
                           storage_ == MaskStorage::kNone ? "no mask is kept (MaskStorage::kNone): call backward(x, dy)"
                                                          : "backward before any forward pass");
    EIGENQ_RETURN_IF_ERROR(detail::check_same_shape(shape_, shape, "dy"));
    EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"dy", dy}, {"dx", dx}}));
    const std::int64_t n = shape.size();
    if (storage_ == MaskStorage::kBits)
      ste_backward_packed<P>(mask_.data(), dy, dx, n);
    else
      ste_backward_masked<P>(mask_.data(), dy, dx, n);
    return Status::ok();
  }

  /// dx = dy * mask(x), recomputing the mask from the forward input.
  Status backward(const float* x, const float* dy, float* dx, const Shape& shape) {
    EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"x", x}, {"dy", dy}, {"dx", dx}}));
    EIGENQ_RETURN_IF_ERROR(prepare(shape));
    qz_.ste_backward(x, dy, dx);
    return Status::ok();
  }

  /// Eigen tensors, maps and matrices; throw `eigenq::Error`.
  template <class In>
  auto forward(const In& x) -> typename detail::Traits<In>::template Plain<float> {
    static_assert(std::is_same_v<typename detail::Traits<In>::Scalar, float>, "fake-quant takes float input");
    auto y = detail::Traits<In>::template make<float>(x);
    detail::raise_if_error(contiguous(x));
    detail::raise_if_error(forward(x.data(), y.data(), shape_of(x)));
    return y;
  }
  template <class DY>
  auto backward(const DY& dy) const -> typename detail::Traits<DY>::template Plain<float> {
    static_assert(std::is_same_v<typename detail::Traits<DY>::Scalar, float>, "gradients are float");
    auto dx = detail::Traits<DY>::template make<float>(dy);
    detail::raise_if_error(contiguous(dy));
    detail::raise_if_error(backward(dy.data(), dx.data(), shape_of(dy)));
    return dx;
  }
  template <class In, class DY>
  auto backward(const In& x, const DY& dy) -> typename detail::Traits<DY>::template Plain<float> {
    auto dx = detail::Traits<DY>::template make<float>(dy);
    detail::raise_if_error(detail::check_output(x, dy));
    detail::raise_if_error(backward(x.data(), dy.data(), dx.data(), shape_of(x)));
    return dx;
  }

 private:
  template <class T>
  static Status contiguous(const T& t) {
    return detail::Traits<T>::contiguous(t)
               ? Status::ok()
               : detail::error(StatusCode::kInvalidArgument, "tensors must be contiguous (inner stride 1, no gaps)");
  }
  Status prepare(const Shape& shape) {
    if (ready_ && detail::same_shape(shape, shape_)) return Status::ok();
    Quantizer<std::int32_t, N, P> qz;
    EIGENQ_RETURN_IF_ERROR(Quantizer<std::int32_t, N, P>::create(shape, params_, &qz));
    qz_ = std::move(qz);
    shape_ = shape;
    ready_ = true;
    has_mask_ = false;
    return Status::ok();
  }

  QParams params_;
  MaskStorage storage_ = MaskStorage::kBytes;
  Quantizer<std::int32_t, N, P> qz_;
  Shape shape_;
  bool ready_ = false;
  bool has_mask_ = false;
  std::vector<std::uint8_t> mask_;
};

// ---------------------------------------------------------------------------
// Element functors for Eigen expressions

/// Fake-quantizes one value with per-tensor parameters, for use inside an
/// Eigen expression, so fake-quant fuses with the surrounding arithmetic:
///
///     eigenq::FakeQuantOp<> fq(scale, zero_point, range);
///     Eigen::Tensor<float, 2> y = (x * gain + bias).unaryExpr(fq);
///
/// Gives exactly the bits of `fake_quantize` (numerics.hpp); the reciprocal
/// of the scale is computed once, at construction. Scalar code: Eigen does
/// not vectorize custom functors, so for a plain tensor the kernels
/// (`fake_quantize`, `FakeQuantSTE`) are faster.
template <class N = DefaultNumerics>
class FakeQuantOp {
 public:
  /// scale 1, zero point 0, range [0, 0]: fake-quantizes everything to 0.
  FakeQuantOp() = default;
  /// Throws `eigenq::Error` on a bad scale, zero point or range.
  FakeQuantOp(float scale, std::int32_t zero_point, Range range) {
    detail::raise_if_error(create(scale, zero_point, range, this));
  }
  static Status create(float scale, std::int32_t zero_point, Range range, FakeQuantOp* out) {
    EIGENQ_RETURN_IF_ERROR(check_range<std::int32_t>(range));
    EIGENQ_RETURN_IF_ERROR(check_pair(scale, zero_point, range, 0));
    out->scale_ = scale;
    out->factor_ = N::Scaling::factor(scale);
    out->zero_point_ = zero_point;
    out->range_ = range;
    return Status::ok();
  }

  float operator()(float x) const { return dequantize(saturate(rounded(x), zero_point_, range_), scale_, zero_point_); }
  /// The STE mask of x.
  bool mask(float x) const { return in_range(rounded(x), zero_point_, range_); }

  float scale() const { return scale_; }
  std::int32_t zero_point() const { return zero_point_; }
  Range range() const { return range_; }

 private:
  // N::rounded(x, scale) with the factor hoisted out of the element loop.
  float rounded(float x) const { return N::Rounding::round(N::Scaling::apply(x, factor_)); }

  float scale_ = 1.0f;
  float factor_ = 1.0f;
  std::int32_t zero_point_ = 0;
  Range range_;
};

/// The straight-through estimator as a binary functor on (x, dy):
///
///     Eigen::Tensor<float, 2> dx = x.binaryExpr(dy, eigenq::SteOp<>(scale, zero_point, range));
///
/// gives dy * mask(x), the bits of `Quantizer::ste_backward`.
template <class N = DefaultNumerics>
class SteOp {
 public:
  SteOp() = default;
  SteOp(float scale, std::int32_t zero_point, Range range) : fq_(scale, zero_point, range) {}
  explicit SteOp(const FakeQuantOp<N>& fq) : fq_(fq) {}

  float operator()(float x, float dy) const { return dy * static_cast<float>(fq_.mask(x)); }

 private:
  FakeQuantOp<N> fq_;
};

}  // namespace eigenq
