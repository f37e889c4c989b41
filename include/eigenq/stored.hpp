#pragma once
/// \file
/// Parameters as checkpoints store them: float16 / bfloat16 scales, int8 or
/// packed 4-bit zero points, or none (symmetric), read by Quantizer and
/// PackedQuantizer directly (`StoredParamsView`, widened once and exactly
/// when they meet a shape), and the float16 / bfloat16 conversions: the
/// reference every path's bulk conversions (half.hpp) match bit for bit.
///
///     // A symmetric int4 g128 weight: float16 scales, no zero points.
///     eigenq::StoredParamsView stored{eigenq::blocked_layout(1, 128), eigenq::ScaleFormat::kFloat16,
///                                     scales_f16.data(), eigenq::ZeroPointFormat::kNone, nullptr,
///                                     scales_f16.size(), eigenq::Int4::range()};
///     eigenq::PackedQuantizer<eigenq::Int4> qz;
///     EIGENQ_RETURN_IF_ERROR(eigenq::PackedQuantizer<eigenq::Int4>::create(shape, stored, &qz));
///
/// float16 conversion here is portable and rounds to nearest, ties to even,
/// as F16C's vcvtps2ph and ARM's fcvt do under the default rounding mode.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "packing.hpp"
#include "params.hpp"
#include "status.hpp"

namespace eigenq {

// ---------------------------------------------------------------------------
// float16 (IEEE binary16)

/// The binary16 bits of x, rounded to nearest, ties to even. Overflow gives
/// infinity, NaN stays a (quiet) NaN with its sign, tiny values become
/// subnormal or zero.
inline std::uint16_t float_to_half(float x) {
  std::uint32_t f;
  std::memcpy(&f, &x, sizeof f);
  const std::uint32_t sign = (f >> 16) & 0x8000u;
  const std::uint32_t abs = f & 0x7FFFFFFFu;
  if (abs >= 0x7F800000u)  // inf or NaN: keep the top mantissa bits, force quiet
    return static_cast<std::uint16_t>(sign | 0x7C00u | (abs > 0x7F800000u ? 0x200u | ((abs >> 13) & 0x3FFu) : 0u));
  if (abs >= 0x477FF000u) return static_cast<std::uint16_t>(sign | 0x7C00u);  // rounds to >= 65520: inf
  const int exponent = static_cast<int>(abs >> 23) - 127;
  if (exponent < -25) return static_cast<std::uint16_t>(sign);  // below half the smallest subnormal: 0
  // Mantissa with the implicit bit, shifted to half precision; `shift` bits
  // are dropped and rounded (normal halves drop 13, subnormals more).
  const std::uint32_t mantissa = (abs & 0x7FFFFFu) | 0x800000u;
  const int shift = exponent < -14 ? 13 + (-14 - exponent) : 13;
  std::uint32_t half = mantissa >> shift;
  const std::uint32_t rest = mantissa & ((1u << shift) - 1), tie = 1u << (shift - 1);
  if (rest > tie || (rest == tie && (half & 1u))) ++half;                        // a carry into the exponent is correct
  if (exponent >= -14) half += static_cast<std::uint32_t>(exponent + 14) << 10;  // (exp+15) - 1 for the implicit bit
  return static_cast<std::uint16_t>(sign | half);
}

/// The float value of binary16 bits: exact (every half is a float), but
/// that a signaling NaN becomes quiet.
inline float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1Fu, mantissa = h & 0x3FFu;
  std::uint32_t f;
  if (exponent == 0x1F) {  // inf, or NaN made quiet with its payload (as F16C's vcvtph2ps and ARM's fcvt do)
    f = sign | 0x7F800000u | (mantissa << 13) | (mantissa != 0 ? 0x400000u : 0u);
  } else if (exponent != 0) {
    f = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else {  // zero or subnormal: mantissa * 2^-24, exact in float
    const float v = static_cast<float>(mantissa) * 0x1p-24f;
    std::memcpy(&f, &v, sizeof f);
    f |= sign;
  }
  float out;
  std::memcpy(&out, &f, sizeof out);
  return out;
}

inline std::vector<std::uint16_t> to_half(const std::vector<float>& v) {
  std::vector<std::uint16_t> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = float_to_half(v[i]);
  return out;
}

inline std::vector<float> from_half(const std::vector<std::uint16_t>& v) {
  std::vector<float> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = half_to_float(v[i]);
  return out;
}

/// The float value of bfloat16 bits (exact: the top half of a float).
inline float bfloat16_to_float(std::uint16_t b) {
  const std::uint32_t f = static_cast<std::uint32_t>(b) << 16;
  float out;
  std::memcpy(&out, &f, sizeof out);
  return out;
}

/// The bfloat16 bits of x (its top 16 bits), rounded to nearest, ties to
/// even: adding 0x7FFF plus the lowest kept bit carries into the kept bits
/// exactly when the dropped half is above the tie or at it with an odd
/// kept part; a carry into the exponent is correct, up to infinity. NaN
/// keeps its sign and top payload bits and is made quiet (never rounded,
/// which could carry it into infinity). float32 subnormals round like any
/// value, to bfloat16 subnormals or zero: AVX512_BF16's vcvtneps2bf16
/// instead flushes them to signed zero, whatever MXCSR says, so the SIMD
/// paths do not use it (the 16,711,678 subnormals whose rounding is not
/// zero are the only inputs on which the two differ; tests/half_test.cpp).
/// PyTorch's c10::BFloat16 and Eigen::bfloat16 round subnormals the same
/// way, and return a canonical 0x7FC0 for every NaN.
inline std::uint16_t float_to_bfloat16(float x) {
  std::uint32_t f;
  std::memcpy(&f, &x, sizeof f);
  if ((f & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<std::uint16_t>((f >> 16) | 0x40u);
  return static_cast<std::uint16_t>((f + 0x7FFFu + ((f >> 16) & 1u)) >> 16);
}

// ---------------------------------------------------------------------------
// Parameters as checkpoints store them

/// How a checkpoint stores scales.
enum class ScaleFormat { kFloat32, kFloat16, kBFloat16 };
/// How a checkpoint stores zero points. The 4-bit ones are packed as
/// packing.hpp packs values (element 2i in the low nibble); kNone means
/// symmetric: every zero point is 0.
enum class ZeroPointFormat { kInt32, kInt8, kUInt8, kInt4, kUInt4, kNone };

/// A non-owning view of parameters in their stored form: `count` scales
/// of `scale_format` and (but for kNone) `count` zero points of
/// `zero_point_format`, laid out as QParamsView's. Quantizer and
/// PackedQuantizer take it directly (`create(shape, stored, &q)`): the
/// values are widened once, exactly, when they meet the shape, so a
/// symmetric int4 g128 weight need not carry int32 zeros or float32 scales.
struct StoredParamsView {
  ParamLayout layout;
  ScaleFormat scale_format = ScaleFormat::kFloat32;
  const void* scale = nullptr;
  ZeroPointFormat zero_point_format = ZeroPointFormat::kNone;
  const void* zero_point = nullptr;
  std::size_t count = 0;
  Range range;
};

/// Bytes a stored parameter array of `count` values takes.
inline std::size_t stored_bytes(ScaleFormat f, std::size_t count) {
  return count * (f == ScaleFormat::kFloat32 ? 4 : 2);
}
inline std::size_t stored_bytes(ZeroPointFormat f, std::size_t count) {
  switch (f) {
    case ZeroPointFormat::kInt32:
      return 4 * count;
    case ZeroPointFormat::kInt8:
    case ZeroPointFormat::kUInt8:
      return count;
    case ZeroPointFormat::kInt4:
    case ZeroPointFormat::kUInt4:
      return count / 2 + count % 2;
    default:
      return 0;
  }
}

/// The float32 / int32 parameter set a stored one describes (exact: every
/// float16, bfloat16 and narrow integer is a float32 / int32). Values are
/// not checked here; Quantizer::create checks them and names a bad one.
inline Status widen(const StoredParamsView& s, QParams* out) {
  if (s.count > 0 && (s.scale == nullptr || (s.zero_point == nullptr && s.zero_point_format != ZeroPointFormat::kNone)))
    return detail::error(StatusCode::kInvalidArgument, "stored ", s.scale == nullptr ? "scale" : "zero_point",
                         " is a null pointer for ", s.count, " parameters");
  QParams p;
  p.granularity = s.layout.granularity;
  p.axis = s.layout.axis;
  p.block_size = s.layout.block_size;
  p.range = s.range;
  p.scale.resize(s.count);
  p.zero_point.assign(s.count, 0);
  for (std::size_t i = 0; i < s.count; ++i) {
    if (s.scale_format == ScaleFormat::kFloat32) {
      std::memcpy(&p.scale[i], static_cast<const unsigned char*>(s.scale) + 4 * i, 4);
    } else {
      std::uint16_t bits;
      std::memcpy(&bits, static_cast<const unsigned char*>(s.scale) + 2 * i, 2);
      p.scale[i] = s.scale_format == ScaleFormat::kFloat16 ? half_to_float(bits) : bfloat16_to_float(bits);
    }
  }
  const auto* z = static_cast<const unsigned char*>(s.zero_point);
  for (std::size_t i = 0; i < s.count; ++i) {
    switch (s.zero_point_format) {
      case ZeroPointFormat::kInt32:
        std::memcpy(&p.zero_point[i], z + 4 * i, 4);
        break;
      case ZeroPointFormat::kInt8:
        p.zero_point[i] = static_cast<std::int8_t>(z[i]);
        break;
      case ZeroPointFormat::kUInt8:
        p.zero_point[i] = z[i];
        break;
      case ZeroPointFormat::kInt4:
        p.zero_point[i] = unpack_at<Int4>(z, static_cast<std::int64_t>(i));
        break;
      case ZeroPointFormat::kUInt4:
        p.zero_point[i] = unpack_at<UInt4>(z, static_cast<std::int64_t>(i));
        break;
      default:
        break;
    }
  }
  *out = std::move(p);
  return Status::ok();
}

}  // namespace eigenq
