#pragma once
/// \file
/// float16 and bfloat16 tensors: the two formats as types, for the bulk
/// conversions of every path (`Kernels<P>::widen_halves` /
/// `narrow_halves`) and the Quantizer's half-precision entry points.
///
/// Halves are raw `std::uint16_t` bits, or `Eigen::half` /
/// `Eigen::bfloat16` (the same bits; eigen_core.hpp maps them to their
/// format). Widening is exact, so quantizing half input gives the float32
/// path's result on the widened values; narrowing is one rounding to
/// nearest even (stored.hpp has the rules, NaN and subnormals included).
///
///     eigenq::Quantizer<int8_t> qz(shape, params);
///     qz.quantize<eigenq::BFloat16>(bits, q);  // bits: shape.size() bfloat16
///     qz.dequantize(q, y);                     // y: Eigen::half*

#include <cstdint>

#include "stored.hpp"

namespace eigenq {

/// IEEE binary16.
struct Float16 {
  static float widen(std::uint16_t h) { return half_to_float(h); }
  static std::uint16_t narrow(float x) { return float_to_half(x); }
};

/// bfloat16: the top half of a float32.
struct BFloat16 {
  static float widen(std::uint16_t b) { return bfloat16_to_float(b); }
  static std::uint16_t narrow(float x) { return float_to_bfloat16(x); }
};

/// `HalfFormatOf<T>::type` is the format of a 16-bit element type T
/// (specialized for Eigen::half and Eigen::bfloat16 in eigen_core.hpp).
template <class T>
struct HalfFormatOf {};

template <class T>
using half_format_t = typename HalfFormatOf<T>::type;

}  // namespace eigenq
