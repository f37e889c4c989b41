#pragma once
/// \file
/// The tail of a run of narrow elements (int8, int16: fewer than 16 bytes)
/// moved between memory and two 64-bit words, by at most two
/// fixed-size loads or stores that overlap inside the n bytes and never
/// touch a byte past them. The SIMD paths whose masked loads and stores stop
/// at 32-bit lanes (AVX2) use it. Through a stack buffer, the tail cost a
/// call to memcpy and, on loads, a vector read of bytes just stored one by
/// one, which store-to-load forwarding cannot serve: more than the rest of
/// the kernel on runs of a few vectors (per-channel 3x3 depthwise weights,
/// steps of 9).

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace eigenq {
namespace detail {

/// Byte i of the 16 is bits [8 (i % 8), 8 (i % 8) + 8) of lo (i < 8) or hi.
struct Bytes16 {
  std::uint64_t lo = 0, hi = 0;
};

template <class T>
inline T load_as(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class T>
inline void store_as(unsigned char* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

/// Bytes [0, n) of p, n < 16; the other bytes zero.
inline Bytes16 load_partial_bytes(const void* from, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(from);
  if (n >= 8)  // the last 8 bytes, shifted down to bytes [8, n)
    return {load_as<std::uint64_t>(p), n == 8 ? 0 : load_as<std::uint64_t>(p + n - 8) >> 8 * (16 - n)};
  // The two halves overlap by the same bytes, so or-ing them is exact.
  if (n >= 4) return {load_as<std::uint32_t>(p) | std::uint64_t{load_as<std::uint32_t>(p + n - 4)} << 8 * (n - 4)};
  if (n >= 2) return {load_as<std::uint16_t>(p) | std::uint64_t{load_as<std::uint16_t>(p + n - 2)} << 8 * (n - 2)};
  return {n == 1 ? p[0] : std::uint64_t{0}};
}

/// Writes bytes [0, n) of b to p, n < 16.
inline void store_partial_bytes(void* to, Bytes16 b, std::size_t n) {
  auto* p = static_cast<unsigned char*>(to);
  if (n > 8) {
    const std::size_t k = n - 8;  // in [1, 7]: the last 8 bytes are bytes [k, k + 8) of b
    store_as(p, b.lo);
    store_as(p + k, b.lo >> 8 * k | b.hi << 8 * (8 - k));
  } else if (n == 8) {
    store_as(p, b.lo);
  } else if (n >= 4) {
    store_as(p, static_cast<std::uint32_t>(b.lo));
    store_as(p + n - 4, static_cast<std::uint32_t>(b.lo >> 8 * (n - 4)));
  } else if (n >= 2) {
    store_as(p, static_cast<std::uint16_t>(b.lo));
    store_as(p + n - 2, static_cast<std::uint16_t>(b.lo >> 8 * (n - 2)));
  } else if (n == 1) {
    p[0] = static_cast<unsigned char>(b.lo);
  }
}

}  // namespace detail
}  // namespace eigenq
