#pragma once
/// \file
/// Sub-byte storage, the portable reference for packing it:
///
/// - 4-bit values: int4 [-8, 7] and uint4 [0, 15], two per byte, element 2i
///   in the low nibble and element 2i+1 in the high nibble (ONNX int4/uint4,
///   PyTorch quint4x2). n elements take (n + 1) / 2 bytes; when n is odd the
///   last high nibble is zero.
/// - STE masks packed one bit per element: element i is bit i % 8 of byte
///   i / 8, least significant bit first.
///
/// The kernel paths (kernels.hpp) pack and unpack whole vectors at a time and
/// must give these bytes.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "numerics.hpp"

namespace eigenq {

// ---------------------------------------------------------------------------
// 4-bit values

/// Signed 4-bit storage: values in [-8, 7], unpacked into int8.
struct Int4 {
  using Unpacked = std::int8_t;
  static constexpr Range range() { return {-8, 7}; }
  static constexpr const char* name() { return "int4"; }
};

/// Unsigned 4-bit storage: values in [0, 15], unpacked into uint8.
struct UInt4 {
  using Unpacked = std::uint8_t;
  static constexpr Range range() { return {0, 15}; }
  static constexpr const char* name() { return "uint4"; }
};

template <class T>
constexpr bool is_packed4_v = std::is_same_v<T, Int4> || std::is_same_v<T, UInt4>;

/// Bytes needed for n packed 4-bit values.
constexpr std::size_t packed_size(std::int64_t n) { return n > 0 ? static_cast<std::size_t>(n / 2 + (n & 1)) : 0; }

/// Element i of a packed buffer, sign-extended for Int4.
template <class T>
inline typename T::Unpacked unpack_at(const std::uint8_t* packed, std::int64_t i) {
  static_assert(is_packed4_v<T>, "T must be Int4 or UInt4");
  const unsigned nibble = (static_cast<unsigned>(packed[i >> 1]) >> ((i & 1) * 4)) & 0xFu;
  if constexpr (std::is_same_v<T, Int4>)
    return static_cast<std::int8_t>(static_cast<int>(nibble ^ 8u) - 8);  // 8..15 -> -8..-1
  else
    return static_cast<std::uint8_t>(nibble);
}

/// Writes element i of a packed buffer, keeping the other nibble of its byte.
/// The value is assumed in range; only its low four bits are stored.
template <class T>
inline void pack_at(std::uint8_t* packed, std::int64_t i, typename T::Unpacked v) {
  const int shift = static_cast<int>(i & 1) * 4;
  std::uint8_t& byte = packed[i >> 1];
  byte = static_cast<std::uint8_t>((byte & ~(0xFu << shift)) | ((static_cast<unsigned>(v) & 0xFu) << shift));
}

/// Packs n values into elements [at, at + n) of a packed buffer. Bytes that
/// lie wholly inside the span are written without being read; a nibble that
/// shares its byte with an element outside the span is written alone.
template <class T>
void pack(const typename T::Unpacked* v, std::uint8_t* packed, std::int64_t at, std::int64_t n) {
  std::int64_t i = 0;
  if (n > 0 && (at & 1)) pack_at<T>(packed, at, v[i++]);  // leading high nibble
  std::uint8_t* out = packed + ((at + i) >> 1);
  for (; i + 1 < n; i += 2)
    *out++ = static_cast<std::uint8_t>((static_cast<unsigned>(v[i]) & 0xFu) |
                                       ((static_cast<unsigned>(v[i + 1]) & 0xFu) << 4));
  if (i < n) pack_at<T>(packed, at + i, v[i]);  // trailing low nibble
}

/// Unpacks elements [at, at + n) of a packed buffer: whole bytes two values
/// at a time (a loop the compiler vectorizes), odd ends one nibble each.
template <class T>
void unpack(const std::uint8_t* packed, std::int64_t at, std::int64_t n, typename T::Unpacked* v) {
  using U = typename T::Unpacked;
  std::int64_t i = 0;
  if (n > 0 && (at & 1)) v[i++] = unpack_at<T>(packed, at);  // leading high nibble
  const std::uint8_t* in = packed + ((at + i) >> 1);
  const std::int64_t pairs = (n - i) / 2;
  for (std::int64_t j = 0; j < pairs; ++j) {
    const unsigned b = in[j];
    if constexpr (std::is_same_v<T, Int4>) {  // sign-extend each nibble: (x ^ 8) - 8
      v[i + 2 * j] = static_cast<U>(static_cast<int>((b & 0xFu) ^ 8u) - 8);
      v[i + 2 * j + 1] = static_cast<U>(static_cast<int>((b >> 4) ^ 8u) - 8);
    } else {
      v[i + 2 * j] = static_cast<U>(b & 0xFu);
      v[i + 2 * j + 1] = static_cast<U>(b >> 4);
    }
  }
  i += 2 * pairs;
  if (i < n) v[i] = unpack_at<T>(packed, at + i);  // trailing low nibble
}

// ---------------------------------------------------------------------------
// Bit-packed masks

/// Bytes needed for a packed mask of n elements.
constexpr std::int64_t packed_mask_bytes(std::int64_t n) { return (n + 7) / 8; }

/// Element i of a packed mask.
inline bool packed_mask_bit(const std::uint8_t* bits, std::int64_t i) { return (bits[i >> 3] >> (i & 7)) & 1; }

namespace detail {

/// Mask bytes computed per kernel call before packing (on the stack).
constexpr std::int64_t kMaskChunk = 1024;

/// Packs 8 mask bytes (each 0 or 1) into one byte, element j in bit j.
inline std::uint8_t pack8(const std::uint8_t* mask) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  // Byte j (bit 8j of the word) times 2^(56 - 7j) lands on bit 56 + j; the
  // other partial products fall elsewhere and no carry reaches the top byte
  // (checked for all 256 inputs in tests/qat_test.cpp).
  std::uint64_t v;
  std::memcpy(&v, mask, 8);
  return static_cast<std::uint8_t>((v * 0x0102040810204080ull) >> 56);
#else
  unsigned b = 0;
  for (int j = 0; j < 8; ++j) b |= static_cast<unsigned>(mask[j]) << j;
  return static_cast<std::uint8_t>(b);
#endif
}

/// ORs n mask bytes (each 0 or 1) into a zeroed bit array, starting at bit
/// `at`. Runs may start and end in the middle of a byte.
inline void pack_mask_bits(const std::uint8_t* mask, std::int64_t n, std::uint8_t* bits, std::int64_t at) {
  std::int64_t i = 0;
  for (; i < n && ((at + i) & 7) != 0; ++i) bits[(at + i) >> 3] |= static_cast<std::uint8_t>(mask[i] << ((at + i) & 7));
  for (; i + 8 <= n; i += 8) bits[(at + i) >> 3] |= pack8(mask + i);
  for (; i < n; ++i) bits[(at + i) >> 3] |= static_cast<std::uint8_t>(mask[i] << ((at + i) & 7));
}

/// Each byte's 8 bits spread to 8 bytes (bit j to byte j, little-endian):
/// 2 KiB, built at compile time.
struct SpreadBits {
  std::uint64_t v[256];
  constexpr SpreadBits() : v() {
    for (int b = 0; b < 256; ++b)
      for (int j = 0; j < 8; ++j) v[b] |= static_cast<std::uint64_t>((b >> j) & 1) << (8 * j);
  }
};
inline constexpr SpreadBits kSpreadBits{};

/// Unpacks n mask bits starting at bit `at` (a multiple of 8) into bytes.
inline void unpack_mask_bits(const std::uint8_t* bits, std::int64_t at, std::int64_t n, std::uint8_t* mask) {
  EIGENQ_ASSERT(at % 8 == 0);
  const std::uint8_t* b = bits + at / 8;
  std::int64_t i = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  for (; i + 8 <= n; i += 8) std::memcpy(mask + i, &kSpreadBits.v[b[i >> 3]], 8);
#endif
  for (; i < n; ++i) mask[i] = (b[i >> 3] >> (i & 7)) & 1;
}

}  // namespace detail

}  // namespace eigenq
