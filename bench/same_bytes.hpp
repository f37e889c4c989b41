// Same-bytes loops (same_bytes.inl) for every path compiled into the
// benchmark: SameBytes<P>::truncate(...) and so on. The portable ones are
// plain loops compiled with the benchmark's own flags; the SIMD ones use the
// library's primitives under the path's target region, so a benchmark built
// for baseline x86-64 has the AVX-512 loops (the in-cache limit here).
#pragma once

#include <cstdint>

#include "eigenq/kernels.hpp"

namespace eigenq {
namespace bench_portable {

struct SameBytes {
  __attribute__((noinline)) static void truncate(const float* x, std::int8_t* q, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) q[i] = static_cast<std::int8_t>(static_cast<std::int32_t>(x[i]));
  }
  __attribute__((noinline)) static void widen(const std::int8_t* q, float* y, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(q[i]);
  }
  __attribute__((noinline)) static void copy(const float* x, float* y, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) y[i] = x[i];
  }
  __attribute__((noinline)) static void copy_with_bytes(const float* x, float* y, std::uint8_t* m, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) y[i] = x[i], m[i] = static_cast<std::uint8_t>(i);
  }
  __attribute__((noinline)) static void multiply(const float* a, const float* b, float* y, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) y[i] = a[i] * b[i];
  }
  __attribute__((noinline)) static void narrow(const std::int32_t* x, std::int8_t* y, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) y[i] = static_cast<std::int8_t>(x[i] < -128 ? -128 : x[i] > 127 ? 127 : x[i]);
  }
  __attribute__((noinline)) static void read_per_element(const float* x, const float* s, const std::int32_t* z,
                                                         std::int8_t* q, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) q[i] = static_cast<std::int8_t>(static_cast<std::int32_t>(x[i] + s[i]) + z[i]);
  }
};

}  // namespace bench_portable

#if EIGENQ_HAVE_AVX2
EIGENQ_TARGET_BEGIN(EIGENQ_AVX2_TARGET)
namespace detail {
namespace avx2 {
#include "same_bytes.inl"
}  // namespace avx2
}  // namespace detail
EIGENQ_TARGET_END
#endif

#if EIGENQ_HAVE_AVX512
EIGENQ_TARGET_BEGIN(EIGENQ_AVX512_TARGET)
namespace detail {
namespace avx512 {
#include "same_bytes.inl"
}  // namespace avx512
}  // namespace detail
EIGENQ_TARGET_END
#endif

#if EIGENQ_HAVE_NEON
namespace detail {
namespace neon {
#include "same_bytes.inl"
}  // namespace neon
}  // namespace detail
#endif

/// The same-bytes loops of path P (kAuto: those of the best path).
template <Path P>
struct SameBytes : bench_portable::SameBytes {};
#if EIGENQ_HAVE_AVX2
template <>
struct SameBytes<Path::kAvx2> : detail::avx2::SameBytes {};
#endif
#if EIGENQ_HAVE_AVX512
template <>
struct SameBytes<Path::kAvx512> : detail::avx512::SameBytes {};
#endif
#if EIGENQ_HAVE_NEON
template <>
struct SameBytes<Path::kNeon> : detail::neon::SameBytes {};
#endif

}  // namespace eigenq
