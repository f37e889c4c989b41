#pragma once
/// \file
/// The portable path: the reference numerics (numerics.hpp,
/// requantize_rules.hpp, packing.hpp) applied element by element. The SIMD
/// paths must match these loops bit for bit, and run them for presets they
/// do not vectorize.

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "../config.hpp"
#include "../half.hpp"
#include "../numerics.hpp"
#include "../packing.hpp"
#include "../params.hpp"
#include "../requantize_rules.hpp"
#include "../runs.hpp"
#include "lsq_scalar.hpp"
#include "minifloat_scalar.hpp"

namespace eigenq {

template <Path P>
struct Kernels;

namespace detail {
namespace scalar {

// The portable loops go element by element: no periodic run is held in
// registers (schemes.inl asks).
inline bool periodic_in_registers(std::int64_t) { return false; }
inline bool periodic_in_registers(const Periodic&) { return false; }

#include "generic/schemes.inl"

struct RunOps {
  /// q[i] = quantize(x[i]).
  template <class Q, class N, class Src>
  static void quantize(const float* x, Q* q, std::size_t n, Src p, Range range) {
    if constexpr (kSplitPerBlock<Src>)
      return for_each_block(
          p, n, [&](std::size_t at, std::size_t m, auto b) { quantize<Q, N>(x + at, q + at, m, b, range); });
    for (std::size_t i = 0; i < n; ++i) q[i] = eigenq::quantize<Q, N>(x[i], p.scale_at(i), p.zero_point_at(i), range);
  }

  /// y[i] = dequantize(q[i]).
  template <class Q, class Src>
  static void dequantize(const Q* q, float* y, std::size_t n, Src p) {
    if constexpr (kSplitPerBlock<Src>)
      return for_each_block(p, n, [&](std::size_t at, std::size_t m, auto b) { dequantize<Q>(q + at, y + at, m, b); });
    for (std::size_t i = 0; i < n; ++i) y[i] = eigenq::dequantize(q[i], p.scale_at(i), p.zero_point_at(i));
  }

  /// y[i] = fake_quantize(x[i]); y may alias x.
  template <class N, class Src>
  static void fake_quantize(const float* x, float* y, std::size_t n, Src p, Range range) {
    if constexpr (kSplitPerBlock<Src>)
      return for_each_block(
          p, n, [&](std::size_t at, std::size_t m, auto b) { fake_quantize<N>(x + at, y + at, m, b, range); });
    for (std::size_t i = 0; i < n; ++i) y[i] = eigenq::fake_quantize<N>(x[i], p.scale_at(i), p.zero_point_at(i), range);
  }

  /// y[i] = fake_quantize(x[i]) and mask[i] = ste_mask(x[i]) (0 or 1) in one
  /// pass, as PyTorch's *_cachemask operators; y may alias x.
  template <class N, class Src>
  static void fake_quantize_mask(const float* x, float* y, std::uint8_t* mask, std::size_t n, Src p, Range range) {
    if constexpr (kSplitPerBlock<Src>)
      return for_each_block(p, n, [&](std::size_t at, std::size_t m, auto b) {
        fake_quantize_mask<N>(x + at, y + at, mask + at, m, b, range);
      });
    for (std::size_t i = 0; i < n; ++i) {
      const float s = p.scale_at(i);
      const std::int32_t zp = p.zero_point_at(i);
      const float r = N::rounded(x[i], s);
      mask[i] = in_range(r, zp, range);
      y[i] = eigenq::dequantize(saturate(r, zp, range), s, zp);
    }
  }

  /// Straight-through estimator from the forward input:
  /// dx[i] = dy[i] * ste_mask(x[i]). A multiply, not a select, as PyTorch
  /// does: a NaN or infinite dy outside the range gives NaN, and a negative
  /// dy gives -0.0. dx may alias dy.
  template <class N, class Src>
  static void ste_backward(const float* x, const float* dy, float* dx, std::size_t n, Src p, Range range) {
    if constexpr (kSplitPerBlock<Src>)
      return for_each_block(
          p, n, [&](std::size_t at, std::size_t m, auto b) { ste_backward<N>(x + at, dy + at, dx + at, m, b, range); });
    for (std::size_t i = 0; i < n; ++i)
      dx[i] = dy[i] * static_cast<float>(ste_mask<N>(x[i], p.scale_at(i), p.zero_point_at(i), range));
  }

  /// Straight-through estimator from a saved mask: dx[i] = dy[i] * mask[i].
  static void ste_backward_masked(const std::uint8_t* mask, const float* dy, float* dx, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) dx[i] = dy[i] * static_cast<float>(mask[i]);
  }

  /// y[i] = requantize(x[i]) under Rule.
  template <class Rule, class In, class Out, class Src>
  static void requantize(const In* x, Out* y, std::size_t n, Src p, const RequantizeArgs& args) {
    for (std::size_t i = 0; i < n; ++i) {
      if constexpr (Rule::kFixedPoint)
        y[i] = static_cast<Out>(eigenq::requantize<Rule>(x[i], p.multiplier_at(i), p.shift_at(i), 0.0f, args));
      else
        y[i] = static_cast<Out>(eigenq::requantize<Rule>(x[i], 0, 0, p.scale_at(i), args));
    }
  }

  /// y[i] = requantize_offset(x[i], offset[i]) under Rule: the fused output
  /// stage (output_stage.hpp); `offset` is one int32 for a broadcast source,
  /// an array aligned with the run for an aligned one.
  template <class Rule, class Out, class Src>
  static void requantize_offset(const std::int32_t* x, Out* y, std::size_t n, Src p, RequantOffset<Src> offset,
                                const RequantizeArgs& args) {
    for (std::size_t i = 0; i < n; ++i) {
      if constexpr (Rule::kFixedPoint)
        y[i] = static_cast<Out>(
            eigenq::requantize_offset<Rule>(x[i], offset_at(offset, i), p.multiplier_at(i), p.shift_at(i), 0.0f, args));
      else
        y[i] = static_cast<Out>(eigenq::requantize_offset<Rule>(x[i], offset_at(offset, i), 0, 0, p.scale_at(i), args));
    }
  }

  /// Elements [at, at + n) of a packed 4-bit buffer (packing.hpp).
  template <class T>
  static void pack_nibbles(const typename T::Unpacked* v, std::uint8_t* packed, std::int64_t at, std::int64_t n) {
    eigenq::pack<T>(v, packed, at, n);
  }
  template <class T>
  static void unpack_nibbles(const std::uint8_t* packed, std::int64_t at, std::int64_t n, typename T::Unpacked* v) {
    eigenq::unpack<T>(packed, at, n, v);
  }
};

/// Float zero points (float_qparams.hpp): numerics.hpp's float_zp, element
/// by element.
struct FloatZpRunOps {
  template <class Q, class Src>
  static void quantize_float_zp(const float* x, Q* q, std::size_t n, Src p, Range range) {
    for (std::size_t i = 0; i < n; ++i)
      q[i] = static_cast<Q>(float_zp::quantize(x[i], p.scale_at(i), p.zero_point_at(i), range));
  }
  template <class Q, class Src>
  static void dequantize_float_zp(const Q* q, float* y, std::size_t n, Src p) {
    for (std::size_t i = 0; i < n; ++i) y[i] = float_zp::dequantize(q[i], p.scale_at(i), p.zero_point_at(i));
  }
  /// y may alias x.
  template <bool kHalf, class Src>
  static void fake_quantize_float_zp(const float* x, float* y, std::size_t n, Src p, Range range) {
    for (std::size_t i = 0; i < n; ++i)
      y[i] = float_zp::fake_quantize(x[i], p.scale_at(i), p.zero_point_at(i), range, kHalf);
  }
};

#include "generic/minifloat_tensors.inl"
#include "generic/tensors.inl"

#include "generic/float_zp_tensors.inl"  // after tensors.inl, whose packing it uses
struct HalfOps {
  /// y[i] = Format::widen(h[i]).
  template <class Format>
  static void widen_halves(const std::uint16_t* h, float* y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] = Format::widen(h[i]);
  }
  /// h[i] = Format::narrow(x[i]).
  template <class Format>
  static void narrow_halves(const float* x, std::uint16_t* h, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) h[i] = Format::narrow(x[i]);
  }
};

}  // namespace scalar
}  // namespace detail

template <>
struct Kernels<Path::kScalar> : detail::scalar::TensorOps,
                                detail::scalar::LsqOps,
                                detail::scalar::FloatZpOps,
                                detail::scalar::MinifloatOps,
                                detail::scalar::HalfOps {};

}  // namespace eigenq
