#pragma once
/// \file
/// AVX-512 primitives (F, BW, VL, DQ): sixteen float lanes, the primitive
/// set arch/x86_avx2.hpp describes. Conditions are mask registers, tails are
/// masked loads and stores, and int32 narrows to bytes in the packs.

#include "../kernels.hpp"
#include "scalar.hpp"

#if EIGENQ_HAVE_AVX512

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

EIGENQ_TARGET_BEGIN(EIGENQ_AVX512_TARGET)

namespace eigenq {
namespace detail {
namespace avx512 {

constexpr std::size_t kLanes = 16;

using F = __m512;
using I = __m512i;
using M = __mmask16;
struct D {
  __m512d lo, hi;  // lanes 0-7 and 8-15
};

// ---------------------------------------------------------------------------
// Memory

EIGENQ_ALWAYS_INLINE M first(std::size_t n) { return static_cast<M>((1u << n) - 1); }

EIGENQ_ALWAYS_INLINE F load(const float* p) { return _mm512_loadu_ps(p); }
EIGENQ_ALWAYS_INLINE I load(const std::int32_t* p) { return _mm512_loadu_si512(p); }
EIGENQ_ALWAYS_INLINE void store(float* p, F v) { _mm512_storeu_ps(p, v); }
EIGENQ_ALWAYS_INLINE void store(std::int32_t* p, I v) { _mm512_storeu_si512(p, v); }
EIGENQ_ALWAYS_INLINE F load(const float* p, std::size_t n) { return _mm512_maskz_loadu_ps(first(n), p); }
EIGENQ_ALWAYS_INLINE I load(const std::int32_t* p, std::size_t n) { return _mm512_maskz_loadu_epi32(first(n), p); }
EIGENQ_ALWAYS_INLINE void store(float* p, F v, std::size_t n) { _mm512_mask_storeu_ps(p, first(n), v); }
EIGENQ_ALWAYS_INLINE void store(std::int32_t* p, I v, std::size_t n) { _mm512_mask_storeu_epi32(p, first(n), v); }

template <class Q>
EIGENQ_ALWAYS_INLINE I load_widened(const Q* p) {
  if constexpr (std::is_same_v<Q, std::int8_t>)
    return _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  else if constexpr (std::is_same_v<Q, std::uint8_t>)
    return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  else if constexpr (std::is_same_v<Q, std::int16_t>)
    return _mm512_cvtepi16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  else if constexpr (std::is_same_v<Q, std::uint16_t>)
    return _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  else
    return load(p);
}
template <class Q>
EIGENQ_ALWAYS_INLINE I load_widened(const Q* p, std::size_t n) {
  if constexpr (std::is_same_v<Q, std::int8_t>)
    return _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(first(n), p));
  else if constexpr (std::is_same_v<Q, std::uint8_t>)
    return _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(first(n), p));
  else if constexpr (std::is_same_v<Q, std::int16_t>)
    return _mm512_cvtepi16_epi32(_mm256_maskz_loadu_epi16(first(n), p));
  else if constexpr (std::is_same_v<Q, std::uint16_t>)
    return _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(first(n), p));
  else
    return load(p, n);
}

template <class Q>
EIGENQ_ALWAYS_INLINE void store_narrowed(Q* p, I v) {
  if constexpr (sizeof(Q) == 1)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_cvtepi32_epi8(v));
  else if constexpr (sizeof(Q) == 2)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvtepi32_epi16(v));
  else
    store(p, v);
}
// Bytes: the packs saturate (changing nothing in range) and interleave
// 128-bit lanes, which one permute undoes.
template <class Q>
EIGENQ_ALWAYS_INLINE void store_narrowed(Q* p, I a, I b, I c, I d) {
  if constexpr (sizeof(Q) == 1) {
    const I ab = _mm512_packs_epi32(a, b), cd = _mm512_packs_epi32(c, d);
    const I bytes = std::is_signed_v<Q> ? _mm512_packs_epi16(ab, cd) : _mm512_packus_epi16(ab, cd);
    const I order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    _mm512_storeu_si512(p, _mm512_permutexvar_epi32(order, bytes));
  } else {
    store_narrowed(p, a), store_narrowed(p + 16, b), store_narrowed(p + 32, c), store_narrowed(p + 48, d);
  }
}
template <class Q>
EIGENQ_ALWAYS_INLINE I quantized_bytes(I r0, I r1, I r2, I r3, I z0, I z1, I z2, I z3, Range range) {
  const I ab = _mm512_adds_epi16(_mm512_packs_epi32(r0, r1), _mm512_packs_epi32(z0, z1));
  const I cd = _mm512_adds_epi16(_mm512_packs_epi32(r2, r3), _mm512_packs_epi32(z2, z3));
  const I bytes = std::is_signed_v<Q> ? _mm512_packs_epi16(ab, cd) : _mm512_packus_epi16(ab, cd);
  const I lo = _mm512_set1_epi8(static_cast<char>(range.qmin)), hi = _mm512_set1_epi8(static_cast<char>(range.qmax));
  return std::is_signed_v<Q> ? _mm512_min_epi8(_mm512_max_epi8(bytes, lo), hi)
                             : _mm512_min_epu8(_mm512_max_epu8(bytes, lo), hi);
}
template <class Q>
EIGENQ_ALWAYS_INLINE void store_quantized(Q* p, I r0, I r1, I r2, I r3, I z0, I z1, I z2, I z3, Range range) {
  const I order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  _mm512_storeu_si512(p, _mm512_permutexvar_epi32(order, quantized_bytes<Q>(r0, r1, r2, r3, z0, z1, z2, z3, range)));
}
// One vector: its 16 bytes are dword k of each 128-bit lane k.
template <class Q>
EIGENQ_ALWAYS_INLINE __m128i quantized_vector(I r, I z, Range range) {
  const I order = _mm512_setr_epi32(0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12);
  return _mm512_castsi512_si128(_mm512_permutexvar_epi32(order, quantized_bytes<Q>(r, r, r, r, z, z, z, z, range)));
}
template <class Q>
EIGENQ_ALWAYS_INLINE void store_quantized(Q* p, I r, I z, Range range) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), quantized_vector<Q>(r, z, range));
}
template <class Q>
EIGENQ_ALWAYS_INLINE void store_quantized(Q* p, I r, I z, Range range, std::size_t n) {
  _mm_mask_storeu_epi8(p, first(n), quantized_vector<Q>(r, z, range));
}

template <class Q>
EIGENQ_ALWAYS_INLINE void store_narrowed(Q* p, I v, std::size_t n) {
  if constexpr (sizeof(Q) == 1)
    _mm512_mask_cvtepi32_storeu_epi8(p, first(n), v);
  else if constexpr (sizeof(Q) == 2)
    _mm512_mask_cvtepi32_storeu_epi16(p, first(n), v);
  else
    store(p, v, n);
}

// ---------------------------------------------------------------------------
// Float lanes

EIGENQ_ALWAYS_INLINE F splat(float v) { return _mm512_set1_ps(v); }
EIGENQ_ALWAYS_INLINE I splat(std::int32_t v) { return _mm512_set1_epi32(v); }
EIGENQ_ALWAYS_INLINE F zero() { return _mm512_setzero_ps(); }
EIGENQ_ALWAYS_INLINE F add(F a, F b) { return _mm512_add_ps(a, b); }
EIGENQ_ALWAYS_INLINE F mul(F a, F b) { return _mm512_mul_ps(a, b); }
EIGENQ_ALWAYS_INLINE F div(F a, F b) { return _mm512_div_ps(a, b); }
EIGENQ_ALWAYS_INLINE F fma(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
EIGENQ_ALWAYS_INLINE F clamp(F v, F lo, F hi) { return _mm512_min_ps(_mm512_max_ps(v, lo), hi); }

EIGENQ_ALWAYS_INLINE F opaque(F v) {
  __asm__("" : "+v"(v));
  return v;
}

EIGENQ_ALWAYS_INLINE F round_half_even(F v) {
  return _mm512_roundscale_ps(v, _MM_FROUND_CUR_DIRECTION | _MM_FROUND_NO_EXC);
}
EIGENQ_ALWAYS_INLINE F round_half_away(F v) {
  v = opaque(v);
  const F nudge = _mm512_or_ps(_mm512_and_ps(v, splat(-0.0f)), splat(0x1.fffffep-2f));
  return _mm512_roundscale_ps(_mm512_add_ps(v, nudge), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
}
EIGENQ_ALWAYS_INLINE F floor(F v) { return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
EIGENQ_ALWAYS_INLINE I convert_nearest(F v) { return _mm512_cvtps_epi32(v); }
EIGENQ_ALWAYS_INLINE I convert_exact(F v) { return _mm512_cvttps_epi32(v); }
EIGENQ_ALWAYS_INLINE F cap(F c, F v) { return _mm512_min_ps(c, v); }
EIGENQ_ALWAYS_INLINE F to_float(I v) { return _mm512_cvtepi32_ps(v); }

EIGENQ_ALWAYS_INLINE M ge(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
EIGENQ_ALWAYS_INLINE M le(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
EIGENQ_ALWAYS_INLINE M both(M a, M b) { return static_cast<M>(a & b); }
EIGENQ_ALWAYS_INLINE bool all(M m) { return m == 0xFFFF; }
// Hazard: the masked move is a select to the compiler, and clang folds
// mul(x, select(m, 1, 0)) into select(m, x, x * 0), dropping the multiply
// that quiets a signalling NaN in x (the scalar reference multiplies).
EIGENQ_ALWAYS_INLINE F one_where(M m) { return opaque(_mm512_maskz_mov_ps(m, splat(1.0f))); }
EIGENQ_ALWAYS_INLINE I one_where_int(M m) { return _mm512_maskz_mov_epi32(m, splat(1)); }

// ---------------------------------------------------------------------------
// Int32 lanes

EIGENQ_ALWAYS_INLINE I add(I a, I b) { return _mm512_add_epi32(a, b); }
EIGENQ_ALWAYS_INLINE I sub(I a, I b) { return _mm512_sub_epi32(a, b); }
EIGENQ_ALWAYS_INLINE I min(I a, I b) { return _mm512_min_epi32(a, b); }
EIGENQ_ALWAYS_INLINE I max(I a, I b) { return _mm512_max_epi32(a, b); }
/// The largest lane (signed).
EIGENQ_ALWAYS_INLINE std::int32_t max_lane(I a) { return _mm512_reduce_max_epi32(a); }

// ---------------------------------------------------------------------------
// Double lanes

EIGENQ_ALWAYS_INLINE D splat_wide(double v) { return {_mm512_set1_pd(v), _mm512_set1_pd(v)}; }
EIGENQ_ALWAYS_INLINE D widen(F v) {
  return {_mm512_cvtps_pd(_mm512_castps512_ps256(v)), _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1))};
}
EIGENQ_ALWAYS_INLINE D widen(I v) {
  return {_mm512_cvtepi32_pd(_mm512_castsi512_si256(v)), _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(v, 1))};
}
EIGENQ_ALWAYS_INLINE F narrow(D v) {
  return _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(v.lo)), _mm512_cvtpd_ps(v.hi), 1);
}
EIGENQ_ALWAYS_INLINE I truncate(D v) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvttpd_epi32(v.lo)), _mm512_cvttpd_epi32(v.hi), 1);
}
EIGENQ_ALWAYS_INLINE D add(D a, D b) { return {_mm512_add_pd(a.lo, b.lo), _mm512_add_pd(a.hi, b.hi)}; }
EIGENQ_ALWAYS_INLINE D sub(D a, D b) { return {_mm512_sub_pd(a.lo, b.lo), _mm512_sub_pd(a.hi, b.hi)}; }
EIGENQ_ALWAYS_INLINE D mul(D a, D b) { return {_mm512_mul_pd(a.lo, b.lo), _mm512_mul_pd(a.hi, b.hi)}; }
EIGENQ_ALWAYS_INLINE D clamp(D v, D lo, D hi) {
  return {_mm512_min_pd(_mm512_max_pd(v.lo, lo.lo), hi.lo), _mm512_min_pd(_mm512_max_pd(v.hi, lo.hi), hi.hi)};
}
EIGENQ_ALWAYS_INLINE M in_range(D v, D lo, D hi) {
  const __mmask8 a = _mm512_cmp_pd_mask(v.lo, lo.lo, _CMP_GE_OQ) & _mm512_cmp_pd_mask(v.lo, hi.lo, _CMP_LE_OQ);
  const __mmask8 b = _mm512_cmp_pd_mask(v.hi, lo.hi, _CMP_GE_OQ) & _mm512_cmp_pd_mask(v.hi, hi.hi, _CMP_LE_OQ);
  return static_cast<M>(a | (b << 8));
}

// ---------------------------------------------------------------------------
// Requantization

EIGENQ_ALWAYS_INLINE I saturated_toward(I x) { return _mm512_xor_si512(_mm512_srai_epi32(x, 31), splat(0x7fffffff)); }
EIGENQ_ALWAYS_INLINE I saturating_sub(I x, I z) {
  const I d = _mm512_sub_epi32(x, z);
  const M overflow = _mm512_movepi32_mask(_mm512_and_si512(_mm512_xor_si512(x, z), _mm512_xor_si512(x, d)));
  return _mm512_mask_mov_epi32(d, overflow, saturated_toward(x));
}
EIGENQ_ALWAYS_INLINE I saturating_left_shift(I x, I shift) {
  const I shifted = _mm512_sllv_epi32(x, shift);
  return _mm512_mask_mov_epi32(saturated_toward(x), _mm512_cmpeq_epi32_mask(_mm512_srav_epi32(shifted, shift), x),
                               shifted);
}
EIGENQ_ALWAYS_INLINE I rounding_doubling_high_mul(I a, I m) {
  const I nudge = _mm512_set1_epi64(std::int64_t{1} << 30);
  const I even = _mm512_add_epi64(_mm512_mul_epi32(a, m), nudge);
  const I odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(a, 32), _mm512_srli_epi64(m, 32)), nudge);
  return _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 31), _mm512_slli_epi64(odd, 1));
}
EIGENQ_ALWAYS_INLINE I rounding_divide_by_pot(I x, I exponent) {
  const I mask = _mm512_sub_epi32(_mm512_sllv_epi32(splat(1), exponent), splat(1));
  const I threshold = _mm512_sub_epi32(_mm512_srli_epi32(mask, 1), _mm512_srai_epi32(x, 31));
  const I r = _mm512_srav_epi32(x, exponent);
  return _mm512_mask_add_epi32(r, _mm512_cmpgt_epi32_mask(_mm512_and_si512(x, mask), threshold), r, splat(1));
}
// 64-bit lanes have an arithmetic shift and a min/max here: round, shift,
// clamp to int32, then take the low dwords of the even and odd products.
template <bool kTiesAway>
EIGENQ_ALWAYS_INLINE I round_shift_wide(I product, I count) {
  const I one = _mm512_set1_epi64(1);
  if constexpr (kTiesAway) product = _mm512_mask_sub_epi64(product, _mm512_movepi64_mask(product), product, one);
  const I r = _mm512_srav_epi64(_mm512_add_epi64(product, _mm512_sllv_epi64(one, _mm512_sub_epi64(count, one))), count);
  return _mm512_min_epi64(_mm512_max_epi64(r, _mm512_set1_epi64(INT32_MIN)), _mm512_set1_epi64(INT32_MAX));
}
template <bool kTiesAway>
EIGENQ_ALWAYS_INLINE I rounding_multiply_shift(I d, I m, I shift) {
  const I count = _mm512_sub_epi32(splat(31), shift);  // in [1, 62]
  const I even =
      round_shift_wide<kTiesAway>(_mm512_mul_epi32(d, m), _mm512_and_si512(count, _mm512_set1_epi64(0xffffffff)));
  const I odd = round_shift_wide<kTiesAway>(_mm512_mul_epi32(_mm512_srli_epi64(d, 32), _mm512_srli_epi64(m, 32)),
                                            _mm512_srli_epi64(count, 32));
  return _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
}

// ---------------------------------------------------------------------------
// Packing

constexpr std::size_t kNibbleBytes = 64;

EIGENQ_ALWAYS_INLINE __m256i nibble_pairs(const std::uint8_t* in) {
  const I w = _mm512_loadu_si512(in);
  return _mm512_cvtepi16_epi8(_mm512_or_si512(_mm512_and_si512(w, _mm512_set1_epi16(0x0F)),
                                              _mm512_and_si512(_mm512_srli_epi16(w, 4), _mm512_set1_epi16(0xF0))));
}
EIGENQ_ALWAYS_INLINE void pack_nibble_block(const std::uint8_t* in, std::uint8_t* out) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), nibble_pairs(in));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32), nibble_pairs(in + 64));
}
// Packed qwords reordered so that 128-bit lane k holds qwords k and k + 4:
// the unpacks then interleave nibbles in element order.
template <bool kSigned>
EIGENQ_ALWAYS_INLINE void unpack_nibble_block(const std::uint8_t* in, std::uint8_t* out) {
  const I packed = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 4, 1, 5, 2, 6, 3, 7), _mm512_loadu_si512(in));
  const I nibble = _mm512_set1_epi8(0x0F);
  I lo = _mm512_and_si512(packed, nibble), hi = _mm512_and_si512(_mm512_srli_epi16(packed, 4), nibble);
  if constexpr (kSigned) {
    const I eight = _mm512_set1_epi8(8);
    lo = _mm512_sub_epi8(_mm512_xor_si512(lo, eight), eight);
    hi = _mm512_sub_epi8(_mm512_xor_si512(hi, eight), eight);
  }
  _mm512_storeu_si512(out, _mm512_unpacklo_epi8(lo, hi));
  _mm512_storeu_si512(out + 64, _mm512_unpackhi_epi8(lo, hi));
}

// ---------------------------------------------------------------------------
// Selection and sums of doubles

EIGENQ_ALWAYS_INLINE F sub(F a, F b) { return _mm512_sub_ps(a, b); }
EIGENQ_ALWAYS_INLINE F select(M m, F a, F b) { return _mm512_mask_blend_ps(m, b, a); }
EIGENQ_ALWAYS_INLINE M first_lanes(std::size_t n) { return first(n); }

EIGENQ_ALWAYS_INLINE D load(const double* p) { return {_mm512_loadu_pd(p), _mm512_loadu_pd(p + 8)}; }
EIGENQ_ALWAYS_INLINE void store(double* p, D v) { _mm512_storeu_pd(p, v.lo), _mm512_storeu_pd(p + 8, v.hi); }
// The second half only touched when n > 8.
EIGENQ_ALWAYS_INLINE D load(const double* p, std::size_t n) {
  const M m = first(n);
  return {_mm512_maskz_loadu_pd(static_cast<__mmask8>(m), p),
          n > 8 ? _mm512_maskz_loadu_pd(static_cast<__mmask8>(m >> 8), p + 8) : _mm512_setzero_pd()};
}
EIGENQ_ALWAYS_INLINE void store(double* p, D v, std::size_t n) {
  const M m = first(n);
  _mm512_mask_storeu_pd(p, static_cast<__mmask8>(m), v.lo);
  if (n > 8) _mm512_mask_storeu_pd(p + 8, static_cast<__mmask8>(m >> 8), v.hi);
}
EIGENQ_ALWAYS_INLINE double halving_sum(D v) {
  const __m512d s = _mm512_add_pd(v.lo, v.hi);
  const __m256d q = _mm256_add_pd(_mm512_castpd512_pd256(s), _mm512_extractf64x4_pd(s, 1));
  const __m128d h = _mm_add_pd(_mm256_castpd256_pd128(q), _mm256_extractf128_pd(q, 1));
  return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
}

// ---------------------------------------------------------------------------
// Halves

EIGENQ_ALWAYS_INLINE F load_half(const std::uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
// The immediate's rounding (nearest even), not MXCSR's.
EIGENQ_ALWAYS_INLINE void store_half(std::uint16_t* p, F v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}
// Minifloat codes (arch/generic/minifloat_runs.inl): float bits as int32 lanes

EIGENQ_ALWAYS_INLINE I bits(F v) { return _mm512_castps_si512(v); }
EIGENQ_ALWAYS_INLINE F from_bits(I v) { return _mm512_castsi512_ps(v); }
EIGENQ_ALWAYS_INLINE I bit_and(I a, I b) { return _mm512_and_si512(a, b); }
EIGENQ_ALWAYS_INLINE I bit_or(I a, I b) { return _mm512_or_si512(a, b); }
template <int kCount>
EIGENQ_ALWAYS_INLINE I shift_left(I v) {
  return _mm512_slli_epi32(v, kCount);
}
template <int kCount>
EIGENQ_ALWAYS_INLINE I shift_right(I v) {  // logical
  return _mm512_srli_epi32(v, kCount);
}
EIGENQ_ALWAYS_INLINE M gt(I a, I b) { return _mm512_cmpgt_epi32_mask(a, b); }
EIGENQ_ALWAYS_INLINE M eq(I a, I b) { return _mm512_cmpeq_epi32_mask(a, b); }
EIGENQ_ALWAYS_INLINE I select(M m, I a, I b) { return _mm512_mask_blend_epi32(m, b, a); }

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

}  // namespace avx512
}  // namespace detail
}  // namespace eigenq

EIGENQ_TARGET_END

namespace eigenq {
template <>
struct Kernels<Path::kAvx512> : detail::avx512::TensorOps,
                                detail::avx512::LsqOps,
                                detail::avx512::FloatZpOps,
                                detail::avx512::MinifloatOps,
                                detail::avx512::HalfOps {};
}  // namespace eigenq

#endif  // EIGENQ_HAVE_AVX512
