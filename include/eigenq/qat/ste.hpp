#pragma once
/// \file
/// Fake-quantization for training: the forward pass that also records the
/// straight-through estimator's mask, the backward pass from that mask, and
/// a layer holding parameters and mask between the two passes. The element
/// functors that fuse fake-quant into Eigen expressions are in functors.hpp.
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

#include "../eigen_matrix.hpp"
#include "../scheme.hpp"
#include "functors.hpp"  // IWYU pragma: export

namespace eigenq {

namespace detail {

inline bool same_shape(const Shape& a, const Shape& b) { return same_dims(a, b) && a.layout == b.layout; }

}  // namespace detail

/// y = fake_quantize(x) and the STE mask packed one bit per element, in one
/// pass over x. `bits` must hold packed_mask_bytes(qz.size()) bytes; every
/// one of them is written. y may alias x. On an executor (slices.hpp), the
/// tensor is cut on whole bytes of the mask: the same bits as serially.
template <class Q, class N, Path P, class Exec = SerialExecutor>
void fake_quantize_packed_mask(const Quantizer<Q, N, P>& qz, const float* x, float* y, std::uint8_t* bits,
                               Exec&& exec = {}) {
  detail::for_each_slice(exec, qz.resolved(), 8 * 64, 8, [&](const detail::Slice& s) {
    with_kernels<P>(
        [&](auto k) { decltype(k)::template fake_quantize_packed_mask<N>(s.r, x + s.at, y + s.at, bits + s.at / 8); });
  });
}

/// dx[i] = dy[i] * mask byte i, for n elements; dx may alias dy.
template <Path P = kBestPath, class Exec = SerialExecutor>
void ste_backward_masked(const std::uint8_t* mask, const float* dy, float* dx, std::int64_t n, Exec&& exec = {}) {
  detail::for_each_chunk(exec, n, [&](std::int64_t at, std::int64_t count) {
    with_kernels<P>([&](auto k) {
      decltype(k)::ste_backward_masked(mask + at, dy + at, dx + at, static_cast<std::size_t>(count));
    });
  });
}

/// dx[i] = dy[i] * mask bit i, for a packed mask of n elements; dx may alias
/// dy.
template <Path P = kBestPath, class Exec = SerialExecutor>
void ste_backward_packed(const std::uint8_t* bits, const float* dy, float* dx, std::int64_t n, Exec&& exec = {}) {
  detail::for_each_chunk(exec, n, [&](std::int64_t at, std::int64_t count) {
    with_kernels<P>([&](auto k) { decltype(k)::ste_backward_packed(bits + at / 8, dy + at, dx + at, count); });
  });
}

// ---------------------------------------------------------------------------
// Eigen front end: fake-quantize with mask, STE backward

/// Writes y = fake_quantize(x) and mask (uint8, 0 or 1) in one pass: x is
/// any float object or expression of y's dimensions, the mask has them too.
/// Nothing is written when the status is not ok.
template <class N = DefaultNumerics, Path P = kBestPath, class In, class Out, class Mask>
Status fake_quantize_mask_into(const In& x, const QParamsView& params, Out&& y, Mask&& mask) {
  detail::check_scalar<In, float>();
  detail::check_scalar<Out, float>();
  detail::check_scalar<Mask, std::uint8_t>();
  using Y = std::remove_reference_t<Out>;
  detail::OutputView<Y> out(y);
  detail::OutputView<std::remove_reference_t<Mask>, Y> m(mask, out.shape(), "the mask");
  EIGENQ_RETURN_IF_ERROR(m.status());
  const detail::InputView<In, Y> in(x, out.shape(), "the input");
  EIGENQ_RETURN_IF_ERROR(in.status());
  Quantizer<std::int32_t, N, P> qz;
  EIGENQ_RETURN_IF_ERROR(Quantizer<std::int32_t, N, P>::create(out.shape(), params, &qz));
  qz.fake_quantize_mask(in.data(), out.data(), m.data());
  out.commit();
  m.commit();
  return Status::ok();
}

/// The output of `fake_quantize_mask`: tensors (or matrices) of the input's
/// rank and layout.
template <class In>
struct FakeQuantMasked {
  detail::PlainOf<In, float> output;
  detail::PlainOf<In, std::uint8_t> mask;
};

/// y = fake_quantize(x) and its STE mask. Throws `eigenq::Error` on bad
/// parameters.
template <class N = DefaultNumerics, Path P = kBestPath, class In>
FakeQuantMasked<In> fake_quantize_mask(const In& x, const QParams& params) {
  detail::check_scalar<In, float>();
  detail::raise_if_error(check_lengths(params));
  const Shape shape = shape_of(x);
  FakeQuantMasked<In> r{detail::make_plain<In, float>(shape), detail::make_plain<In, std::uint8_t>(shape)};
  detail::raise_if_error(fake_quantize_mask_into<N, P>(x, params.view(), r.output, r.mask));
  return r;
}

/// dx = dy * mask, for a mask from `fake_quantize_mask` (all of dx's dimensions).
template <Path P = kBestPath, class Mask, class DY, class DX>
Status ste_backward_into(const Mask& mask, const DY& dy, DX&& dx) {
  detail::check_scalar<Mask, std::uint8_t>();
  detail::check_scalar<DY, float>();
  detail::check_scalar<DX, float>();
  return detail::map_into(mask, "the mask", dy, "dy", dx,
                          [](const std::uint8_t* m, const float* g, float* out, const Shape& shape) {
                            ste_backward_masked<P>(m, g, out, shape.size());
                            return Status::ok();
                          });
}

template <Path P = kBestPath, class Mask, class DY>
auto ste_backward(const Mask& mask, const DY& dy) {
  detail::check_scalar<DY, float>();
  auto dx = detail::make_plain<DY, float>(shape_of(dy));
  detail::raise_if_error(ste_backward_into<P>(mask, dy, dx));
  return dx;
}

/// dx = dy * mask(x), recomputing the mask from the forward input: no mask
/// kept between the passes, one more read of x.
template <class N = DefaultNumerics, Path P = kBestPath, class In, class DY, class DX>
Status ste_backward_into(const In& x, const QParamsView& params, const DY& dy, DX&& dx) {
  detail::check_scalar<In, float>();
  detail::check_scalar<DY, float>();
  detail::check_scalar<DX, float>();
  return detail::map_into(x, "the input", dy, "dy", dx,
                          [&](const float* xs, const float* g, float* out, const Shape& shape) {
                            Quantizer<std::int32_t, N, P> qz;
                            EIGENQ_RETURN_IF_ERROR(Quantizer<std::int32_t, N, P>::create(shape, params, &qz));
                            qz.ste_backward(xs, g, out);
                            return Status::ok();
                          });
}

template <class N = DefaultNumerics, Path P = kBestPath, class In, class DY>
auto ste_backward(const In& x, const QParams& params, const DY& dy) {
  detail::check_scalar<DY, float>();
  detail::raise_if_error(check_lengths(params));
  auto dx = detail::make_plain<DY, float>(shape_of(dy));
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
class FakeQuantSTE : public detail::EigenPasses<FakeQuantSTE<N, P>> {
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
  /// written when the status is not ok. Every pass also takes an executor
  /// (slices.hpp, parallel.hpp) last: the same bits at every thread count.
  template <class Exec = SerialExecutor>
  Status forward(const float* x, float* y, const Shape& shape, Exec&& exec = {}) {
    EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"x", x}, {"y", y}}));
    EIGENQ_RETURN_IF_ERROR(prepare(shape));
    const std::int64_t n = shape.size();
    switch (storage_) {
      case MaskStorage::kBytes:
        mask_.resize(static_cast<std::size_t>(n));
        qz_.fake_quantize_mask(x, y, mask_.data(), exec);
        break;
      case MaskStorage::kBits:
        mask_.resize(static_cast<std::size_t>(packed_mask_bytes(n)));
        fake_quantize_packed_mask(qz_, x, y, mask_.data(), exec);
        break;
      case MaskStorage::kNone:
        mask_.clear();
        qz_.fake_quantize(x, y, exec);
        break;
    }
    has_mask_ = storage_ != MaskStorage::kNone;
    return Status::ok();
  }

  /// dx = dy * mask of the last forward pass; dy must have its shape.
  template <class Exec = SerialExecutor>
  Status backward(const float* dy, float* dx, const Shape& shape, Exec&& exec = {}) const {
    if (!has_mask_)
      return detail::error(StatusCode::kInvalidArgument,
                           storage_ == MaskStorage::kNone ? "no mask is kept (MaskStorage::kNone): call backward(x, dy)"
                                                          : "backward before any forward pass");
    EIGENQ_RETURN_IF_ERROR(detail::check_same_shape(shape_, shape, "dy"));
    EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"dy", dy}, {"dx", dx}}));
    const std::int64_t n = shape.size();
    if (storage_ == MaskStorage::kBits)
      ste_backward_packed<P>(mask_.data(), dy, dx, n, exec);
    else
      ste_backward_masked<P>(mask_.data(), dy, dx, n, exec);
    return Status::ok();
  }

  /// dx = dy * mask(x), recomputing the mask from the forward input.
  template <class Exec = SerialExecutor>
  Status backward(const float* x, const float* dy, float* dx, const Shape& shape, Exec&& exec = {}) {
    EIGENQ_RETURN_IF_ERROR(detail::check_buffers(shape, {{"x", x}, {"dy", dy}, {"dx", dx}}));
    EIGENQ_RETURN_IF_ERROR(prepare(shape));
    qz_.ste_backward(x, dy, dx, exec);
    return Status::ok();
  }

  /// Eigen objects and expressions (from detail::EigenPasses):
  /// forward_into(x, y) and backward_into(dy, dx) return a Status and write
  /// nothing on an error; forward(x) and backward(dy) return new tensors or
  /// matrices and throw `eigenq::Error`.
  using detail::EigenPasses<FakeQuantSTE>::forward;
  using detail::EigenPasses<FakeQuantSTE>::backward;

  /// dx = dy * mask(x) for Eigen objects and expressions, recomputing the mask.
  template <class In, class DY, class DX>
  Status backward_into(const In& x, const DY& dy, DX&& dx) {
    detail::check_scalar<In, float>();
    detail::check_scalar<DY, float>();
    detail::check_scalar<DX, float>();
    return detail::map_into(x, "x", dy, "dy", dx, [&](const float* xs, const float* g, float* out, const Shape& shape) {
      return backward(xs, g, out, shape);
    });
  }
  using detail::EigenPasses<FakeQuantSTE>::backward_into;
  template <class In, class DY>
  auto backward(const In& x, const DY& dy) {
    detail::check_scalar<DY, float>();
    auto dx = detail::make_plain<DY, float>(shape_of(dy));
    detail::raise_if_error(backward_into(x, dy, dx));
    return dx;
  }

 private:
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

}  // namespace eigenq
