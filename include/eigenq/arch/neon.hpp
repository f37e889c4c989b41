#pragma once
/// \file
/// AArch64 NEON primitives: four float lanes, the primitive set
/// arch/x86_avx2.hpp describes. NEON is the AArch64 baseline, so no target
/// region is needed. gemmlowp's fixed-point primitives are single
/// instructions here (sqshl, sqrdmulh, srshl).

#include "../kernels.hpp"
#include "scalar.hpp"

#if EIGENQ_HAVE_NEON

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace eigenq {
namespace detail {
namespace neon {

constexpr std::size_t kLanes = 4;

using F = float32x4_t;
using I = int32x4_t;
using M = uint32x4_t;  // all-ones lanes where true
struct D {
  float64x2_t lo, hi;
};

// ---------------------------------------------------------------------------
// Memory

EIGENQ_ALWAYS_INLINE F load(const float* p) { return vld1q_f32(p); }
EIGENQ_ALWAYS_INLINE I load(const std::int32_t* p) { return vld1q_s32(p); }
EIGENQ_ALWAYS_INLINE void store(float* p, F v) { vst1q_f32(p, v); }
EIGENQ_ALWAYS_INLINE void store(std::int32_t* p, I v) { vst1q_s32(p, v); }

// Partial vectors go through a register-sized buffer: NEON has no masked
// loads or stores.
template <class T>
EIGENQ_ALWAYS_INLINE auto load(const T* p, std::size_t n) {
  T part[kLanes] = {};
  std::memcpy(part, p, n * sizeof(T));
  return load(part);
}
template <class T, class V>
EIGENQ_ALWAYS_INLINE void store(T* p, V v, std::size_t n) {
  T part[kLanes];
  store(part, v);
  std::memcpy(p, part, n * sizeof(T));
}

template <class Q>
EIGENQ_ALWAYS_INLINE I load_widened(const Q* p) {
  if constexpr (sizeof(Q) == 1) {
    std::uint32_t word;
    std::memcpy(&word, p, 4);
    const uint8x8_t bytes = vreinterpret_u8_u32(vdup_n_u32(word));
    if constexpr (std::is_signed_v<Q>)
      return vmovl_s16(vget_low_s16(vmovl_s8(vreinterpret_s8_u8(bytes))));
    else
      return vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(vmovl_u8(bytes))));
  } else if constexpr (std::is_same_v<Q, std::uint16_t>) {
    return vreinterpretq_s32_u32(vmovl_u16(vld1_u16(p)));
  } else if constexpr (sizeof(Q) == 2) {
    return vmovl_s16(vld1_s16(p));
  } else {
    return load(p);
  }
}
template <class Q>
EIGENQ_ALWAYS_INLINE I load_widened(const Q* p, std::size_t n) {
  Q part[kLanes] = {};
  std::memcpy(part, p, n * sizeof(Q));
  return load_widened(part);
}

template <class Q>
EIGENQ_ALWAYS_INLINE void store_narrowed(Q* p, I v) {
  if constexpr (sizeof(Q) == 1) {
    const int16x4_t h = vmovn_s32(v);
    const std::uint32_t word = vget_lane_u32(vreinterpret_u32_s8(vmovn_s16(vcombine_s16(h, h))), 0);
    std::memcpy(p, &word, 4);
  } else if constexpr (sizeof(Q) == 2) {
    vst1_s16(reinterpret_cast<std::int16_t*>(p), vmovn_s32(v));
  } else {
    store(p, v);
  }
}
template <class Q>
EIGENQ_ALWAYS_INLINE void store_narrowed(Q* p, I a, I b, I c, I d) {
  if constexpr (sizeof(Q) == 1) {
    const int16x8_t ab = vcombine_s16(vmovn_s32(a), vmovn_s32(b)), cd = vcombine_s16(vmovn_s32(c), vmovn_s32(d));
    vst1q_u8(reinterpret_cast<std::uint8_t*>(p), vreinterpretq_u8_s8(vcombine_s8(vmovn_s16(ab), vmovn_s16(cd))));
  } else if constexpr (sizeof(Q) == 2) {
    vst1q_s16(reinterpret_cast<std::int16_t*>(p), vcombine_s16(vmovn_s32(a), vmovn_s32(b)));
    vst1q_s16(reinterpret_cast<std::int16_t*>(p + 8), vcombine_s16(vmovn_s32(c), vmovn_s32(d)));
  } else {
    store(p, a), store(p + 4, b), store(p + 8, c), store(p + 12, d);
  }
}
// Saturating narrows and add: an r beyond int16 stays beyond the byte range
// with any byte zero point added, and lands on the bound it passed.
template <class Q>
EIGENQ_ALWAYS_INLINE uint8x16_t quantized_bytes(I r0, I r1, I r2, I r3, I z0, I z1, I z2, I z3, Range range) {
  const int16x8_t ab =
      vqaddq_s16(vcombine_s16(vqmovn_s32(r0), vqmovn_s32(r1)), vcombine_s16(vqmovn_s32(z0), vqmovn_s32(z1)));
  const int16x8_t cd =
      vqaddq_s16(vcombine_s16(vqmovn_s32(r2), vqmovn_s32(r3)), vcombine_s16(vqmovn_s32(z2), vqmovn_s32(z3)));
  if constexpr (std::is_signed_v<Q>) {
    const int8x16_t b = vcombine_s8(vqmovn_s16(ab), vqmovn_s16(cd));
    const int8x16_t c = vminq_s8(vmaxq_s8(b, vdupq_n_s8(static_cast<std::int8_t>(range.qmin))),
                                 vdupq_n_s8(static_cast<std::int8_t>(range.qmax)));
    return vreinterpretq_u8_s8(c);
  } else {
    const uint8x16_t b = vcombine_u8(vqmovun_s16(ab), vqmovun_s16(cd));
    return vminq_u8(vmaxq_u8(b, vdupq_n_u8(static_cast<std::uint8_t>(range.qmin))),
                    vdupq_n_u8(static_cast<std::uint8_t>(range.qmax)));
  }
}
template <class Q>
EIGENQ_ALWAYS_INLINE void store_quantized(Q* p, I r0, I r1, I r2, I r3, I z0, I z1, I z2, I z3, Range range) {
  vst1q_u8(reinterpret_cast<std::uint8_t*>(p), quantized_bytes<Q>(r0, r1, r2, r3, z0, z1, z2, z3, range));
}
template <class Q>
EIGENQ_ALWAYS_INLINE void store_quantized(Q* p, I r, I z, Range range) {
  const std::uint32_t word = vgetq_lane_u32(vreinterpretq_u32_u8(quantized_bytes<Q>(r, r, r, r, z, z, z, z, range)), 0);
  std::memcpy(p, &word, 4);
}
template <class Q>
EIGENQ_ALWAYS_INLINE void store_quantized(Q* p, I r, I z, Range range, std::size_t n) {
  Q part[kLanes];
  store_quantized(part, r, z, range);
  std::memcpy(p, part, n * sizeof(Q));
}

template <class Q>
EIGENQ_ALWAYS_INLINE void store_narrowed(Q* p, I v, std::size_t n) {
  Q part[kLanes];
  store_narrowed(part, v);
  std::memcpy(p, part, n * sizeof(Q));
}

// ---------------------------------------------------------------------------
// Float lanes

EIGENQ_ALWAYS_INLINE F splat(float v) { return vdupq_n_f32(v); }
EIGENQ_ALWAYS_INLINE I splat(std::int32_t v) { return vdupq_n_s32(v); }
EIGENQ_ALWAYS_INLINE F zero() { return vdupq_n_f32(0.0f); }
EIGENQ_ALWAYS_INLINE F add(F a, F b) { return vaddq_f32(a, b); }
EIGENQ_ALWAYS_INLINE F mul(F a, F b) { return vmulq_f32(a, b); }
EIGENQ_ALWAYS_INLINE F div(F a, F b) { return vdivq_f32(a, b); }
EIGENQ_ALWAYS_INLINE F fma(F a, F b, F c) { return vfmaq_f32(c, a, b); }
// maxnm returns the number when the other operand is a quiet NaN, and v is
// always quiet here (it comes out of arithmetic): NaN goes to lo.
EIGENQ_ALWAYS_INLINE F clamp(F v, F lo, F hi) { return vminq_f32(vmaxnmq_f32(v, lo), hi); }

// Hazard: GCC contracts a product feeding an addition into one fmla under
// -ffp-contract=fast, even across intrinsics. Values passed through here
// are rounded first.
EIGENQ_ALWAYS_INLINE F opaque(F v) {
  __asm__("" : "+w"(v));
  return v;
}

EIGENQ_ALWAYS_INLINE F round_half_even(F v) { return vrndnq_f32(v); }
EIGENQ_ALWAYS_INLINE F round_half_away(F v) { return vrndaq_f32(v); }
EIGENQ_ALWAYS_INLINE F floor(F v) { return vrndmq_f32(v); }
// The conversions give 0 for NaN: maxnm sends NaN (and what lies below the
// int32 range) to -2^31 first, as the contract wants.
EIGENQ_ALWAYS_INLINE I convert_nearest(F v) { return vcvtnq_s32_f32(vmaxnmq_f32(v, vdupq_n_f32(-0x1p31f))); }
EIGENQ_ALWAYS_INLINE I convert_exact(F v) { return vcvtq_s32_f32(vmaxnmq_f32(v, vdupq_n_f32(-0x1p31f))); }
// vminq keeps a NaN.
EIGENQ_ALWAYS_INLINE F cap(F c, F v) { return vminq_f32(c, v); }
EIGENQ_ALWAYS_INLINE F to_float(I v) { return vcvtq_f32_s32(v); }

EIGENQ_ALWAYS_INLINE M ge(F a, F b) { return vcgeq_f32(a, b); }
EIGENQ_ALWAYS_INLINE M le(F a, F b) { return vcleq_f32(a, b); }
EIGENQ_ALWAYS_INLINE M both(M a, M b) { return vandq_u32(a, b); }
EIGENQ_ALWAYS_INLINE bool all(M m) { return vminvq_u32(m) != 0; }
EIGENQ_ALWAYS_INLINE F one_where(M m) {
  return vreinterpretq_f32_u32(vandq_u32(m, vreinterpretq_u32_f32(splat(1.0f))));
}
EIGENQ_ALWAYS_INLINE I one_where_int(M m) { return vreinterpretq_s32_u32(vshrq_n_u32(m, 31)); }

// ---------------------------------------------------------------------------
// Int32 lanes

EIGENQ_ALWAYS_INLINE I add(I a, I b) { return vaddq_s32(a, b); }
EIGENQ_ALWAYS_INLINE I sub(I a, I b) { return vsubq_s32(a, b); }
EIGENQ_ALWAYS_INLINE I min(I a, I b) { return vminq_s32(a, b); }
EIGENQ_ALWAYS_INLINE I max(I a, I b) { return vmaxq_s32(a, b); }
/// The largest lane (signed).
EIGENQ_ALWAYS_INLINE std::int32_t max_lane(I a) { return vmaxvq_s32(a); }

// ---------------------------------------------------------------------------
// Double lanes

EIGENQ_ALWAYS_INLINE D splat_wide(double v) { return {vdupq_n_f64(v), vdupq_n_f64(v)}; }
EIGENQ_ALWAYS_INLINE D widen(F v) { return {vcvt_f64_f32(vget_low_f32(v)), vcvt_high_f64_f32(v)}; }
EIGENQ_ALWAYS_INLINE D widen(I v) {
  return {vcvtq_f64_s64(vmovl_s32(vget_low_s32(v))), vcvtq_f64_s64(vmovl_high_s32(v))};
}
EIGENQ_ALWAYS_INLINE F narrow(D v) { return vcvt_high_f32_f64(vcvt_f32_f64(v.lo), v.hi); }
EIGENQ_ALWAYS_INLINE I truncate(D v) {
  return vcombine_s32(vmovn_s64(vcvtq_s64_f64(v.lo)), vmovn_s64(vcvtq_s64_f64(v.hi)));
}
EIGENQ_ALWAYS_INLINE D add(D a, D b) { return {vaddq_f64(a.lo, b.lo), vaddq_f64(a.hi, b.hi)}; }
EIGENQ_ALWAYS_INLINE D sub(D a, D b) { return {vsubq_f64(a.lo, b.lo), vsubq_f64(a.hi, b.hi)}; }
EIGENQ_ALWAYS_INLINE D mul(D a, D b) { return {vmulq_f64(a.lo, b.lo), vmulq_f64(a.hi, b.hi)}; }
EIGENQ_ALWAYS_INLINE D clamp(D v, D lo, D hi) {
  return {vminq_f64(vmaxnmq_f64(v.lo, lo.lo), hi.lo), vminq_f64(vmaxnmq_f64(v.hi, lo.hi), hi.hi)};
}
EIGENQ_ALWAYS_INLINE M in_range(D v, D lo, D hi) {
  const uint64x2_t a = vandq_u64(vcgeq_f64(v.lo, lo.lo), vcleq_f64(v.lo, hi.lo));
  const uint64x2_t b = vandq_u64(vcgeq_f64(v.hi, lo.hi), vcleq_f64(v.hi, hi.hi));
  return vcombine_u32(vmovn_u64(a), vmovn_u64(b));
}

// ---------------------------------------------------------------------------
// Requantization

EIGENQ_ALWAYS_INLINE I saturating_sub(I x, I z) { return vqsubq_s32(x, z); }
EIGENQ_ALWAYS_INLINE I saturating_left_shift(I x, I shift) { return vqshlq_s32(x, shift); }
EIGENQ_ALWAYS_INLINE I rounding_doubling_high_mul(I a, I m) { return vqrdmulhq_s32(a, m); }
// srshl by a negative count rounds half up; subtracting one from negative
// values first (when the exponent is nonzero: the AND with the negative
// count keeps x's sign bit only then) sends ties away from zero. The
// saturating add only touches INT32_MIN, which has no tie.
EIGENQ_ALWAYS_INLINE I rounding_divide_by_pot(I x, I exponent) {
  const I count = vnegq_s32(exponent);
  const I fixup = vshrq_n_s32(vandq_s32(x, count), 31);
  return vrshlq_s32(vqaddq_s32(x, fixup), count);
}
template <bool kTiesAway>
EIGENQ_ALWAYS_INLINE int32x2_t round_shift(int64x2_t product, int64x2_t count) {
  if constexpr (kTiesAway) product = vaddq_s64(product, vreinterpretq_s64_u64(vcltzq_s64(product)));
  return vqmovn_s64(vrshlq_s64(product, count));  // saturating: the clamp after it is then exact
}
template <bool kTiesAway>
EIGENQ_ALWAYS_INLINE I rounding_multiply_shift(I d, I m, I shift) {
  const I count = vsubq_s32(shift, splat(31));  // a right shift
  return vcombine_s32(
      round_shift<kTiesAway>(vmull_s32(vget_low_s32(d), vget_low_s32(m)), vmovl_s32(vget_low_s32(count))),
      round_shift<kTiesAway>(vmull_high_s32(d, m), vmovl_high_s32(count)));
}

// ---------------------------------------------------------------------------
// Packing

constexpr std::size_t kNibbleBytes = 16;

EIGENQ_ALWAYS_INLINE void pack_nibble_block(const std::uint8_t* in, std::uint8_t* out) {
  const uint8x16x2_t v = vld2q_u8(in);  // even and odd elements
  vst1q_u8(out, vsliq_n_u8(vandq_u8(v.val[0], vdupq_n_u8(0x0F)), v.val[1], 4));
}
template <bool kSigned>
EIGENQ_ALWAYS_INLINE void unpack_nibble_block(const std::uint8_t* in, std::uint8_t* out) {
  const uint8x16_t packed = vld1q_u8(in);
  uint8x16x2_t v = {{vandq_u8(packed, vdupq_n_u8(0x0F)), vshrq_n_u8(packed, 4)}};
  if constexpr (kSigned) {
    const uint8x16_t eight = vdupq_n_u8(8);
    v.val[0] = vsubq_u8(veorq_u8(v.val[0], eight), eight);
    v.val[1] = vsubq_u8(veorq_u8(v.val[1], eight), eight);
  }
  vst2q_u8(out, v);
}

// ---------------------------------------------------------------------------
// Selection and sums of doubles

EIGENQ_ALWAYS_INLINE F sub(F a, F b) { return vsubq_f32(a, b); }
EIGENQ_ALWAYS_INLINE F select(M m, F a, F b) { return vbslq_f32(m, a, b); }
EIGENQ_ALWAYS_INLINE M first_lanes(std::size_t n) {
  const std::uint32_t index[kLanes] = {0, 1, 2, 3};
  return vcltq_u32(vld1q_u32(index), vdupq_n_u32(static_cast<std::uint32_t>(n)));
}

EIGENQ_ALWAYS_INLINE D load(const double* p) { return {vld1q_f64(p), vld1q_f64(p + 2)}; }
EIGENQ_ALWAYS_INLINE void store(double* p, D v) { vst1q_f64(p, v.lo), vst1q_f64(p + 2, v.hi); }
// Not through the templates above: their unqualified load(part) and
// store(part, v) cannot find overloads declared after them for double.
EIGENQ_ALWAYS_INLINE D load(const double* p, std::size_t n) {
  double part[kLanes] = {};
  std::memcpy(part, p, n * sizeof(double));
  return load(part);
}
EIGENQ_ALWAYS_INLINE void store(double* p, D v, std::size_t n) {
  double part[kLanes];
  store(part, v);
  std::memcpy(p, part, n * sizeof(double));
}
EIGENQ_ALWAYS_INLINE double halving_sum(D v) { return vaddvq_f64(vaddq_f64(v.lo, v.hi)); }

// ---------------------------------------------------------------------------
// Halves

EIGENQ_ALWAYS_INLINE F load_half(const std::uint16_t* p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
// FPCR's rounding: nearest even unless a program changed it.
EIGENQ_ALWAYS_INLINE void store_half(std::uint16_t* p, F v) { vst1_u16(p, vreinterpret_u16_f16(vcvt_f16_f32(v))); }
// Minifloat codes (arch/generic/minifloat_runs.inl): float bits as int32 lanes

EIGENQ_ALWAYS_INLINE I bits(F v) { return vreinterpretq_s32_f32(v); }
EIGENQ_ALWAYS_INLINE F from_bits(I v) { return vreinterpretq_f32_s32(v); }
EIGENQ_ALWAYS_INLINE I bit_and(I a, I b) { return vandq_s32(a, b); }
EIGENQ_ALWAYS_INLINE I bit_or(I a, I b) { return vorrq_s32(a, b); }
template <int kCount>
EIGENQ_ALWAYS_INLINE I shift_left(I v) {
  return vshlq_n_s32(v, kCount);
}
template <int kCount>
EIGENQ_ALWAYS_INLINE I shift_right(I v) {  // logical
  return vreinterpretq_s32_u32(vshrq_n_u32(vreinterpretq_u32_s32(v), kCount));
}
EIGENQ_ALWAYS_INLINE M gt(I a, I b) { return vcgtq_s32(a, b); }
EIGENQ_ALWAYS_INLINE M eq(I a, I b) { return vceqq_s32(a, b); }
EIGENQ_ALWAYS_INLINE I select(M m, I a, I b) { return vbslq_s32(m, a, b); }

#include "generic/runs.inl"
#include "generic/schemes.inl"
#include "generic/tensors.inl"

#include "generic/halves.inl"
#include "generic/lsq_runs.inl"  // after runs.inl, whose lanes it uses
#include "generic/lsq_tensors.inl"

#include "generic/float_zp_runs.inl"  // after tensors.inl and runs.inl
#include "generic/float_zp_tensors.inl"
#include "generic/minifloat_runs.inl"
#include "generic/minifloat_tensors.inl"

}  // namespace neon
}  // namespace detail

template <>
struct Kernels<Path::kNeon> : detail::neon::TensorOps,
                              detail::neon::LsqOps,
                              detail::neon::FloatZpOps,
                              detail::neon::MinifloatOps,
                              detail::neon::HalfOps {};

}  // namespace eigenq

#endif  // EIGENQ_HAVE_NEON
