#pragma once
/// \file
/// AVX2 primitives: eight float lanes. The operations are arch/generic/,
/// compiled here for AVX2 (and F16C, FMA) under a target region, so any x86-64
/// program contains them and runs them where the CPU can (cpu.hpp).
///
/// This file also states, once, what every primitive of every path
/// promises; the AVX-512 and NEON files implement the same names.
///
///   F, I, M, D        float lanes, int32 lanes, a per-lane condition, the
///                     float lanes as doubles; kLanes lanes each
///   load/store        whole vectors; with a count n < kLanes, only the first
///                     n elements are read or written (the rest of a loaded
///                     vector is zero)
///   load_widened<Q>   kLanes elements of int8/uint8/int16/int32 as int32
///   store_narrowed    int32 lanes already inside Q's range, as Q; the
///                     four-vector form stores 4 * kLanes elements
///   clamp(v, lo, hi)  min(max(v, lo), hi), NaN giving lo
///   round_half_even, round_half_away, floor
///                     integer-valued floats (half_away: as std::round)
///   convert_nearest   float to int32 rounding half to even; convert_exact
///                     for integer-valued floats; both for v < 2^31, NaN
///                     and v < -2^31 giving INT_MIN
///   cap(c, v)         min(v, c), NaN staying NaN
///   store_quantized   bytes q = clamp(r + z, qmin, qmax) for any int32 r
///                     and zero points z of a byte type, 4 * kLanes (or n)
///                     of them: in saturating 16-bit steps
///   ge, le, both      ordered comparisons (false for NaN) and their AND
///   all(m)            whether m holds in every lane
///   one_where         1.0f (or 1) where the condition holds, else +0.0f (0)
///   widen, narrow, truncate
///                     float or int32 lanes to D exactly; D to float
///                     rounding to nearest; D to int32 truncating (in range)
///   opaque            the value unchanged, hidden from FMA contraction
///   fma(a, b, c)      a * b + c rounded once
///   mul of D          the product of double lanes
/// Requantization (gemmlowp's fixed-point primitives, lane by lane as
/// requantize_rules.hpp defines them on one int32):
///   saturating_sub, saturating_left_shift, rounding_doubling_high_mul
///   (multiplier >= 0), rounding_divide_by_pot (exponent in [0, 31]) and
///   rounding_multiply_shift<kTiesAway>: d * m / 2^(31 - shift) rounded
///   once, half up (or away from zero), saturated to int32.
/// Packing: pack_nibble_block / unpack_nibble_block<kSigned> move
///   kNibbleBytes packed bytes to or from 2 * kNibbleBytes values.
/// Selection and sums of doubles (LSQ's gradients):
///   sub(a, b)         a - b of float lanes
///   select(m, a, b)   a where m holds, else b
///   first_lanes(n)    the condition "lane index < n"
///   load/store of D   kLanes doubles, whole or the first n (as for floats)
///   halving_sum       the sum of D's lanes in a fixed order: lane j plus
///                     lane j + h for h = kLanes / 2, ..., 1, then lane 0
/// Halves and bits (arch/generic/halves.inl):
///   load_half/store_half  kLanes float16 to or from float lanes, exactly and
///                     rounding to nearest even as float_to_half (stored.hpp)
///   bits, from_bits   float lanes as their int32 bits and back
///   shift_left<k>, shift_right<k>, bit_and, bit_or
///                     logical shifts and bitwise operations on int32 lanes

#include "../kernels.hpp"
#include "partial_bytes.hpp"
#include "scalar.hpp"

#if EIGENQ_HAVE_AVX2

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

EIGENQ_TARGET_BEGIN(EIGENQ_AVX2_TARGET)

namespace eigenq {
namespace detail {
namespace avx2 {

constexpr std::size_t kLanes = 8;

using F = __m256;
using I = __m256i;
using M = __m256;  // all-ones lanes where true
struct D {
  __m256d lo, hi;  // lanes 0-3 and 4-7
};

// ---------------------------------------------------------------------------
// Memory

EIGENQ_ALWAYS_INLINE F load(const float* p) { return _mm256_loadu_ps(p); }
EIGENQ_ALWAYS_INLINE I load(const std::int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
EIGENQ_ALWAYS_INLINE void store(float* p, F v) { _mm256_storeu_ps(p, v); }
EIGENQ_ALWAYS_INLINE void store(std::int32_t* p, I v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }

// Lanes [0, n) selected, as maskload/maskstore take them; neither touches
// the memory of an unselected lane.
EIGENQ_ALWAYS_INLINE I first(std::size_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
EIGENQ_ALWAYS_INLINE F load(const float* p, std::size_t n) { return _mm256_maskload_ps(p, first(n)); }
EIGENQ_ALWAYS_INLINE I load(const std::int32_t* p, std::size_t n) { return _mm256_maskload_epi32(p, first(n)); }
// A partial store as one or two stores of 4, 2 or 1 lanes, the second
// ending at lane n (overlapping the first, inside the n lanes): masked
// stores are microcoded on AMD's Zen 1-3, and cost more than the rest of a
// short run (per-channel 3x3 depthwise dequantize: steps of 9).
EIGENQ_ALWAYS_INLINE void store(std::int32_t* p, I v, std::size_t n) {
  const int k = static_cast<int>(n) >= 4 ? 4 : 2;  // lanes per store
  const __m128i tail = _mm256_castsi256_si128(     // lanes n - k ... n - 1 moved to lanes 0 ... k - 1
      _mm256_permutevar8x32_epi32(
          v, _mm256_add_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(static_cast<int>(n) - k))));
  const __m128i head = _mm256_castsi256_si128(v);
  if (n >= 4) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), head);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p + n - 4), tail);
  } else if (n >= 2) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), head);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p + n - 2), tail);
  } else if (n == 1) {
    _mm_storeu_si32(p, head);
  }
}
EIGENQ_ALWAYS_INLINE void store(float* p, F v, std::size_t n) {
  store(reinterpret_cast<std::int32_t*>(p), _mm256_castps_si256(v), n);
}

EIGENQ_ALWAYS_INLINE __m128i load64(const void* p) { return _mm_loadl_epi64(static_cast<const __m128i*>(p)); }

// The first n bytes of a vector, n < 16 (partial_bytes.hpp).
EIGENQ_ALWAYS_INLINE __m128i load_bytes(const void* p, std::size_t n) {
  const Bytes16 b = load_partial_bytes(p, n);
  return _mm_set_epi64x(static_cast<long long>(b.hi), static_cast<long long>(b.lo));
}
EIGENQ_ALWAYS_INLINE void store_bytes(void* p, __m128i v, std::size_t n) {
  store_partial_bytes(
      p, {static_cast<std::uint64_t>(_mm_cvtsi128_si64(v)), static_cast<std::uint64_t>(_mm_extract_epi64(v, 1))}, n);
}

// kLanes elements of a narrow Q, in the low bytes of v, as int32.
template <class Q>
EIGENQ_ALWAYS_INLINE I widened(__m128i v) {
  if constexpr (std::is_same_v<Q, std::int8_t>)
    return _mm256_cvtepi8_epi32(v);
  else if constexpr (std::is_same_v<Q, std::uint8_t>)
    return _mm256_cvtepu8_epi32(v);
  else if constexpr (std::is_same_v<Q, std::int16_t>)
    return _mm256_cvtepi16_epi32(v);
  else
    return _mm256_cvtepu16_epi32(v);
}
template <class Q>
EIGENQ_ALWAYS_INLINE I load_widened(const Q* p) {
  if constexpr (sizeof(Q) == 1)
    return widened<Q>(load64(p));
  else if constexpr (sizeof(Q) == 2)
    return widened<Q>(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  else
    return load(p);
}
template <class Q>
EIGENQ_ALWAYS_INLINE I load_widened(const Q* p, std::size_t n) {
  if constexpr (sizeof(Q) == 4)
    return load(p, n);
  else
    return widened<Q>(load_bytes(p, n * sizeof(Q)));
}

// The packs saturate, to Q's signedness: nothing changes for values already
// in range. They interleave 128-bit halves, which the permutes undo.
template <class Q>
EIGENQ_ALWAYS_INLINE __m128i narrow16(I v) {
  const __m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);
  return std::is_same_v<Q, std::uint16_t> ? _mm_packus_epi32(lo, hi) : _mm_packs_epi32(lo, hi);
}
template <class Q>
EIGENQ_ALWAYS_INLINE __m256i narrow16(I a, I b) {
  return std::is_same_v<Q, std::uint16_t> ? _mm256_packus_epi32(a, b) : _mm256_packs_epi32(a, b);
}

// kLanes int32 lanes as a narrow Q, in the low bytes.
template <class Q>
EIGENQ_ALWAYS_INLINE __m128i narrowed(I v) {
  if constexpr (sizeof(Q) == 1) {
    const __m128i w = narrow16<std::int16_t>(v);
    return std::is_signed_v<Q> ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w);
  } else {
    return narrow16<Q>(v);
  }
}
template <class Q>
EIGENQ_ALWAYS_INLINE void store_narrowed(Q* p, I v) {
  if constexpr (sizeof(Q) == 1)
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), narrowed<Q>(v));
  else if constexpr (sizeof(Q) == 2)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), narrowed<Q>(v));
  else
    store(p, v);
}
template <class Q>
EIGENQ_ALWAYS_INLINE void store_narrowed(Q* p, I a, I b, I c, I d) {
  if constexpr (sizeof(Q) == 1) {
    const __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
    const __m256i bytes = std::is_signed_v<Q> ? _mm256_packs_epi16(ab, cd) : _mm256_packus_epi16(ab, cd);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p),
                        _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
  } else if constexpr (sizeof(Q) == 2) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm256_permute4x64_epi64(narrow16<Q>(a, b), 0xD8));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p + 16), _mm256_permute4x64_epi64(narrow16<Q>(c, d), 0xD8));
  } else {
    store(p, a), store(p + 8, b), store(p + 16, c), store(p + 24, d);
  }
}
// The packs and adds saturate: an r beyond int16 stays beyond the byte range
// with any byte zero point added, and lands on the bound it passed.
template <class Q>
EIGENQ_ALWAYS_INLINE __m256i quantized_bytes(I r0, I r1, I r2, I r3, I z0, I z1, I z2, I z3, Range range) {
  const __m256i ab = _mm256_adds_epi16(_mm256_packs_epi32(r0, r1), _mm256_packs_epi32(z0, z1));
  const __m256i cd = _mm256_adds_epi16(_mm256_packs_epi32(r2, r3), _mm256_packs_epi32(z2, z3));
  const __m256i bytes = std::is_signed_v<Q> ? _mm256_packs_epi16(ab, cd) : _mm256_packus_epi16(ab, cd);
  const __m256i lo = _mm256_set1_epi8(static_cast<char>(range.qmin)),
                hi = _mm256_set1_epi8(static_cast<char>(range.qmax));
  return std::is_signed_v<Q> ? _mm256_min_epi8(_mm256_max_epi8(bytes, lo), hi)
                             : _mm256_min_epu8(_mm256_max_epu8(bytes, lo), hi);
}
template <class Q>
EIGENQ_ALWAYS_INLINE void store_quantized(Q* p, I r0, I r1, I r2, I r3, I z0, I z1, I z2, I z3, Range range) {
  const __m256i bytes = quantized_bytes<Q>(r0, r1, r2, r3, z0, z1, z2, z3, range);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p),
                      _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
}
// kLanes bytes of store_quantized, in the low 8 bytes.
template <class Q>
EIGENQ_ALWAYS_INLINE __m128i quantized_low_bytes(I r, I z, Range range) {
  const __m256i bytes = quantized_bytes<Q>(r, r, r, r, z, z, z, z, range);  // lanes 0-3 and 4-7 of r at bytes 0-3, 4-7
  return _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4)));
}
template <class Q>
EIGENQ_ALWAYS_INLINE void store_quantized(Q* p, I r, I z, Range range) {
  _mm_storel_epi64(reinterpret_cast<__m128i*>(p), quantized_low_bytes<Q>(r, z, range));
}
template <class Q>
EIGENQ_ALWAYS_INLINE void store_quantized(Q* p, I r, I z, Range range, std::size_t n) {
  store_bytes(p, quantized_low_bytes<Q>(r, z, range), n * sizeof(Q));
}

template <class Q>
EIGENQ_ALWAYS_INLINE void store_narrowed(Q* p, I v, std::size_t n) {
  if constexpr (sizeof(Q) == 4)
    store(p, v, n);
  else
    store_bytes(p, narrowed<Q>(v), n * sizeof(Q));
}

// ---------------------------------------------------------------------------
// Float lanes

EIGENQ_ALWAYS_INLINE F splat(float v) { return _mm256_set1_ps(v); }
EIGENQ_ALWAYS_INLINE I splat(std::int32_t v) { return _mm256_set1_epi32(v); }
EIGENQ_ALWAYS_INLINE F zero() { return _mm256_setzero_ps(); }
EIGENQ_ALWAYS_INLINE F add(F a, F b) { return _mm256_add_ps(a, b); }
EIGENQ_ALWAYS_INLINE F mul(F a, F b) { return _mm256_mul_ps(a, b); }
EIGENQ_ALWAYS_INLINE F div(F a, F b) { return _mm256_div_ps(a, b); }
EIGENQ_ALWAYS_INLINE F fma(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
// max_ps returns its second operand when either is NaN.
EIGENQ_ALWAYS_INLINE F clamp(F v, F lo, F hi) { return _mm256_min_ps(_mm256_max_ps(v, lo), hi); }

// Hazard: GCC contracts a product feeding an addition into one FMA when the
// target has FMA (even across intrinsics), which rounds once instead of
// twice and moves ties. Values passed through here are rounded first.
EIGENQ_ALWAYS_INLINE F opaque(F v) {
  __asm__("" : "+x"(v));
  return v;
}

EIGENQ_ALWAYS_INLINE F round_half_even(F v) { return _mm256_round_ps(v, _MM_FROUND_CUR_DIRECTION | _MM_FROUND_NO_EXC); }
// trunc(v + copysign(0.5f - 2^-25, v)): with the largest float below one
// half the sum reaches the next integer exactly when |frac(v)| >= 0.5; with
// 0.5f itself, 0.49999997f would round up (checked on every float).
EIGENQ_ALWAYS_INLINE F round_half_away(F v) {
  v = opaque(v);
  const F nudge = _mm256_or_ps(_mm256_and_ps(v, splat(-0.0f)), splat(0x1.fffffep-2f));
  return _mm256_round_ps(_mm256_add_ps(v, nudge), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
}
EIGENQ_ALWAYS_INLINE F floor(F v) { return _mm256_floor_ps(v); }
// Out-of-range lanes and NaN convert to INT_MIN: the contract for NaN and
// below; lanes at or above 2^31 would too, which callers rule out.
EIGENQ_ALWAYS_INLINE I convert_nearest(F v) { return _mm256_cvtps_epi32(v); }
EIGENQ_ALWAYS_INLINE I convert_exact(F v) { return _mm256_cvttps_epi32(v); }
// min_ps returns its second operand when either is NaN.
EIGENQ_ALWAYS_INLINE F cap(F c, F v) { return _mm256_min_ps(c, v); }
EIGENQ_ALWAYS_INLINE F to_float(I v) { return _mm256_cvtepi32_ps(v); }

EIGENQ_ALWAYS_INLINE M ge(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
EIGENQ_ALWAYS_INLINE M le(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
EIGENQ_ALWAYS_INLINE M both(M a, M b) { return _mm256_and_ps(a, b); }
EIGENQ_ALWAYS_INLINE bool all(M m) { return _mm256_movemask_ps(m) == 0xFF; }
EIGENQ_ALWAYS_INLINE F one_where(M m) { return _mm256_and_ps(m, splat(1.0f)); }
EIGENQ_ALWAYS_INLINE I one_where_int(M m) { return _mm256_srli_epi32(_mm256_castps_si256(m), 31); }

// ---------------------------------------------------------------------------
// Int32 lanes

EIGENQ_ALWAYS_INLINE I add(I a, I b) { return _mm256_add_epi32(a, b); }
EIGENQ_ALWAYS_INLINE I sub(I a, I b) { return _mm256_sub_epi32(a, b); }
EIGENQ_ALWAYS_INLINE I min(I a, I b) { return _mm256_min_epi32(a, b); }
EIGENQ_ALWAYS_INLINE I max(I a, I b) { return _mm256_max_epi32(a, b); }
/// The largest lane (signed).
EIGENQ_ALWAYS_INLINE std::int32_t max_lane(I a) {
  __m128i m = _mm_max_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
  m = _mm_max_epi32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(1, 0, 3, 2)));
  return _mm_cvtsi128_si32(_mm_max_epi32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(2, 3, 0, 1))));
}

// ---------------------------------------------------------------------------
// Double lanes

EIGENQ_ALWAYS_INLINE D splat_wide(double v) { return {_mm256_set1_pd(v), _mm256_set1_pd(v)}; }
EIGENQ_ALWAYS_INLINE D widen(F v) {
  return {_mm256_cvtps_pd(_mm256_castps256_ps128(v)), _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1))};
}
EIGENQ_ALWAYS_INLINE D widen(I v) {
  return {_mm256_cvtepi32_pd(_mm256_castsi256_si128(v)), _mm256_cvtepi32_pd(_mm256_extracti128_si256(v, 1))};
}
EIGENQ_ALWAYS_INLINE F narrow(D v) { return _mm256_set_m128(_mm256_cvtpd_ps(v.hi), _mm256_cvtpd_ps(v.lo)); }
EIGENQ_ALWAYS_INLINE I truncate(D v) { return _mm256_set_m128i(_mm256_cvttpd_epi32(v.hi), _mm256_cvttpd_epi32(v.lo)); }
EIGENQ_ALWAYS_INLINE D add(D a, D b) { return {_mm256_add_pd(a.lo, b.lo), _mm256_add_pd(a.hi, b.hi)}; }
EIGENQ_ALWAYS_INLINE D sub(D a, D b) { return {_mm256_sub_pd(a.lo, b.lo), _mm256_sub_pd(a.hi, b.hi)}; }
EIGENQ_ALWAYS_INLINE D mul(D a, D b) { return {_mm256_mul_pd(a.lo, b.lo), _mm256_mul_pd(a.hi, b.hi)}; }
EIGENQ_ALWAYS_INLINE D clamp(D v, D lo, D hi) {
  return {_mm256_min_pd(_mm256_max_pd(v.lo, lo.lo), hi.lo), _mm256_min_pd(_mm256_max_pd(v.hi, lo.hi), hi.hi)};
}
EIGENQ_ALWAYS_INLINE M in_range(D v, D lo, D hi) {
  const __m256d a = _mm256_and_pd(_mm256_cmp_pd(v.lo, lo.lo, _CMP_GE_OQ), _mm256_cmp_pd(v.lo, hi.lo, _CMP_LE_OQ));
  const __m256d b = _mm256_and_pd(_mm256_cmp_pd(v.hi, lo.hi, _CMP_GE_OQ), _mm256_cmp_pd(v.hi, hi.hi, _CMP_LE_OQ));
  // Each 64-bit all-ones lane to a 32-bit one.
  const __m256 packed = _mm256_shuffle_ps(_mm256_castpd_ps(a), _mm256_castpd_ps(b), _MM_SHUFFLE(2, 0, 2, 0));
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(packed), _MM_SHUFFLE(3, 1, 2, 0)));
}

// ---------------------------------------------------------------------------
// Requantization

EIGENQ_ALWAYS_INLINE I saturated_toward(I x) { return _mm256_xor_si256(_mm256_srai_epi32(x, 31), splat(0x7fffffff)); }

// Overflow iff x and z differ in sign and the difference's sign differs from x's.
EIGENQ_ALWAYS_INLINE I saturating_sub(I x, I z) {
  const I d = _mm256_sub_epi32(x, z);
  const I overflow = _mm256_srai_epi32(_mm256_and_si256(_mm256_xor_si256(x, z), _mm256_xor_si256(x, d)), 31);
  return _mm256_blendv_epi8(d, saturated_toward(x), overflow);
}
// Where shifting back does not restore x, the shift overflowed.
EIGENQ_ALWAYS_INLINE I saturating_left_shift(I x, I shift) {
  const I shifted = _mm256_sllv_epi32(x, shift);
  return _mm256_blendv_epi8(saturated_toward(x), shifted, _mm256_cmpeq_epi32(_mm256_srav_epi32(shifted, shift), x));
}
// floor((a * m + 2^30) / 2^31) from the 64-bit products of the even and the
// odd lanes: the low dword of each is bits 31..62 of the sum, whatever its
// sign (|result| < 2^31 as m >= 0).
EIGENQ_ALWAYS_INLINE I rounding_doubling_high_mul(I a, I m) {
  const I nudge = _mm256_set1_epi64x(std::int64_t{1} << 30);
  const I even = _mm256_add_epi64(_mm256_mul_epi32(a, m), nudge);
  const I odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(m, 32)), nudge);
  return _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xAA);
}
// Adds one where the remainder exceeds half (half plus one if x < 0).
EIGENQ_ALWAYS_INLINE I rounding_divide_by_pot(I x, I exponent) {
  const I mask = _mm256_sub_epi32(_mm256_sllv_epi32(splat(1), exponent), splat(1));
  const I threshold = _mm256_sub_epi32(_mm256_srli_epi32(mask, 1), _mm256_srai_epi32(x, 31));
  return _mm256_sub_epi32(_mm256_srav_epi32(x, exponent), _mm256_cmpgt_epi32(_mm256_and_si256(x, mask), threshold));
}

// One rounding of the exact product p = d * m by 2^s, s = 31 - shift:
// floor((p + 2^(s - 1)) / 2^s), half up; for ties away from zero, negative
// products first lose one.
//
// For shift <= 0 in every lane (multipliers below 1, the usual case) the
// result fits 32-bit lanes: with Q = floor(p / 2^30) and r = -shift,
// floor((Q + 2^r) / 2^(r + 1)) = (h >> r) + bit r of Q, where
// h = floor(p / 2^31); h and the low 32 bits of Q are bits 31..62 and
// 30..61 of p. Otherwise 64-bit lanes: AVX2 has no 64-bit arithmetic shift,
// but flipping the sign bit maps v to v + 2^63 >= 0, whose logical shift is
// floor(v / 2^s) + 2^(63 - s); then a saturating clamp to int32.
template <bool kTiesAway>
EIGENQ_ALWAYS_INLINE I away(I product) {
  return kTiesAway ? _mm256_add_epi64(product, _mm256_cmpgt_epi64(_mm256_setzero_si256(), product)) : product;
}
EIGENQ_ALWAYS_INLINE I round_shift_wide(I product, I count) {
  const I one = _mm256_set1_epi64x(1);
  const I bias = _mm256_sllv_epi64(one, _mm256_sub_epi64(count, one));
  const I offset = _mm256_sllv_epi64(one, _mm256_sub_epi64(_mm256_set1_epi64x(63), count));
  const I flipped = _mm256_xor_si256(_mm256_add_epi64(product, bias), _mm256_set1_epi64x(INT64_MIN));
  I r = _mm256_sub_epi64(_mm256_srlv_epi64(flipped, count), offset);
  const I lo = _mm256_set1_epi64x(INT32_MIN), hi = _mm256_set1_epi64x(INT32_MAX);
  r = _mm256_blendv_epi8(r, lo, _mm256_cmpgt_epi64(lo, r));
  return _mm256_blendv_epi8(r, hi, _mm256_cmpgt_epi64(r, hi));
}
template <bool kTiesAway>
EIGENQ_ALWAYS_INLINE I rounding_multiply_shift(I d, I m, I shift) {
  const I even = away<kTiesAway>(_mm256_mul_epi32(d, m));
  const I odd = away<kTiesAway>(_mm256_mul_epi32(_mm256_srli_epi64(d, 32), _mm256_srli_epi64(m, 32)));
  const I left = _mm256_cmpgt_epi32(shift, _mm256_setzero_si256());
  if (_mm256_movemask_ps(_mm256_castsi256_ps(left)) != 0) {
    const I count = _mm256_sub_epi32(splat(31), shift);
    const I low = round_shift_wide(even, _mm256_and_si256(count, _mm256_set1_epi64x(0xffffffff)));
    const I high = round_shift_wide(odd, _mm256_srli_epi64(count, 32));
    return _mm256_blend_epi32(low, _mm256_slli_epi64(high, 32), 0xAA);
  }
  const I right = _mm256_sub_epi32(_mm256_setzero_si256(), shift);
  const I h = _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xAA);
  const I q = _mm256_blend_epi32(_mm256_srli_epi64(even, 30), _mm256_slli_epi64(odd, 2), 0xAA);
  return _mm256_add_epi32(_mm256_srav_epi32(h, right), _mm256_and_si256(_mm256_srlv_epi32(q, right), splat(1)));
}

// ---------------------------------------------------------------------------
// Packing

constexpr std::size_t kNibbleBytes = 32;

// Byte pairs as 16-bit words w = a | b << 8: the packed byte is
// (w & 0x0F) | ((w >> 4) & 0xF0), narrowed without saturation.
EIGENQ_ALWAYS_INLINE __m256i nibble_pairs(const std::uint8_t* in) {
  const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in));
  return _mm256_or_si256(_mm256_and_si256(w, _mm256_set1_epi16(0x0F)),
                         _mm256_and_si256(_mm256_srli_epi16(w, 4), _mm256_set1_epi16(0xF0)));
}
EIGENQ_ALWAYS_INLINE void pack_nibble_block(const std::uint8_t* in, std::uint8_t* out) {
  const __m256i a = nibble_pairs(in), b = nibble_pairs(in + 32);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_permute4x64_epi64(_mm256_packus_epi16(a, b), 0xD8));
}
// Low and high nibbles interleaved back into bytes; int4 sign-extends as
// (v ^ 8) - 8.
template <bool kSigned>
EIGENQ_ALWAYS_INLINE void unpack_nibble_block(const std::uint8_t* in, std::uint8_t* out) {
  const __m256i packed = _mm256_permute4x64_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in)), 0xD8);
  const __m256i nibble = _mm256_set1_epi8(0x0F);
  __m256i lo = _mm256_and_si256(packed, nibble), hi = _mm256_and_si256(_mm256_srli_epi16(packed, 4), nibble);
  if constexpr (kSigned) {
    const __m256i eight = _mm256_set1_epi8(8);
    lo = _mm256_sub_epi8(_mm256_xor_si256(lo, eight), eight);
    hi = _mm256_sub_epi8(_mm256_xor_si256(hi, eight), eight);
  }
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_unpacklo_epi8(lo, hi));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32), _mm256_unpackhi_epi8(lo, hi));
}

// ---------------------------------------------------------------------------
// Selection and sums of doubles

EIGENQ_ALWAYS_INLINE F sub(F a, F b) { return _mm256_sub_ps(a, b); }
EIGENQ_ALWAYS_INLINE F select(M m, F a, F b) { return _mm256_blendv_ps(b, a, m); }
EIGENQ_ALWAYS_INLINE M first_lanes(std::size_t n) { return _mm256_castsi256_ps(first(n)); }

EIGENQ_ALWAYS_INLINE D load(const double* p) { return {_mm256_loadu_pd(p), _mm256_loadu_pd(p + 4)}; }
EIGENQ_ALWAYS_INLINE void store(double* p, D v) { _mm256_storeu_pd(p, v.lo), _mm256_storeu_pd(p + 4, v.hi); }
// 64-bit lanes [0, n) of four selected; the second half only touched when n > 4.
EIGENQ_ALWAYS_INLINE __m256i first_wide(std::size_t n) {
  return _mm256_cmpgt_epi64(_mm256_set1_epi64x(static_cast<std::int64_t>(n)), _mm256_setr_epi64x(0, 1, 2, 3));
}
EIGENQ_ALWAYS_INLINE D load(const double* p, std::size_t n) {
  return {_mm256_maskload_pd(p, first_wide(n)),
          n > 4 ? _mm256_maskload_pd(p + 4, first_wide(n - 4)) : _mm256_setzero_pd()};
}
EIGENQ_ALWAYS_INLINE void store(double* p, D v, std::size_t n) {
  _mm256_maskstore_pd(p, first_wide(n), v.lo);
  if (n > 4) _mm256_maskstore_pd(p + 4, first_wide(n - 4), v.hi);
}
EIGENQ_ALWAYS_INLINE double halving_sum(D v) {
  const __m256d s = _mm256_add_pd(v.lo, v.hi);
  const __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
  return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
}

// ---------------------------------------------------------------------------
// Halves (F16C)

EIGENQ_ALWAYS_INLINE F load_half(const std::uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
// The immediate's rounding (nearest even), not MXCSR's.
EIGENQ_ALWAYS_INLINE void store_half(std::uint16_t* p, F v) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
// Minifloat codes (arch/generic/minifloat_runs.inl): float bits as int32 lanes

EIGENQ_ALWAYS_INLINE I bits(F v) { return _mm256_castps_si256(v); }
EIGENQ_ALWAYS_INLINE F from_bits(I v) { return _mm256_castsi256_ps(v); }
EIGENQ_ALWAYS_INLINE I bit_and(I a, I b) { return _mm256_and_si256(a, b); }
EIGENQ_ALWAYS_INLINE I bit_or(I a, I b) { return _mm256_or_si256(a, b); }
template <int kCount>
EIGENQ_ALWAYS_INLINE I shift_left(I v) {
  return _mm256_slli_epi32(v, kCount);
}
template <int kCount>
EIGENQ_ALWAYS_INLINE I shift_right(I v) {  // logical
  return _mm256_srli_epi32(v, kCount);
}
EIGENQ_ALWAYS_INLINE M gt(I a, I b) { return _mm256_castsi256_ps(_mm256_cmpgt_epi32(a, b)); }
EIGENQ_ALWAYS_INLINE M eq(I a, I b) { return _mm256_castsi256_ps(_mm256_cmpeq_epi32(a, b)); }
EIGENQ_ALWAYS_INLINE I select(M m, I a, I b) {
  return _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(b), _mm256_castsi256_ps(a), m));
}

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

}  // namespace avx2
}  // namespace detail
}  // namespace eigenq

EIGENQ_TARGET_END

namespace eigenq {
template <>
struct Kernels<Path::kAvx2> : detail::avx2::TensorOps,
                              detail::avx2::LsqOps,
                              detail::avx2::FloatZpOps,
                              detail::avx2::MinifloatOps,
                              detail::avx2::HalfOps {};
}  // namespace eigenq

#endif  // EIGENQ_HAVE_AVX2
