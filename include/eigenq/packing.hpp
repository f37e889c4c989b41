#pragma once
/// \file
/// Sub-byte storage, the portable reference for packing it:
///
/// - 4-bit values: int4 [-8, 7] and uint4 [0, 15], two per byte, element 2i
///   in the low nibble and element 2i+1 in the high nibble (ONNX int4/uint4,
///   PyTorch quint4x2).
/// - 2-bit values: int2 [-2, 1] and uint2 [0, 3], four per byte, element 4i
///   in the low two bits (PyTorch quint2x4).
/// - n values take ceil(n / per byte) bytes (`packed_bytes<T>(n)`); the
///   unused high bits of a partial last byte are zero.
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
// Sub-byte values

/// Signed 4-bit storage: values in [-8, 7], unpacked into int8.
struct Int4 {
  using Unpacked = std::int8_t;
  static constexpr int kBits = 4;
  static constexpr Range range() { return {-8, 7}; }
  static constexpr const char* name() { return "int4"; }
};

/// Unsigned 4-bit storage: values in [0, 15], unpacked into uint8.
struct UInt4 {
  using Unpacked = std::uint8_t;
  static constexpr int kBits = 4;
  static constexpr Range range() { return {0, 15}; }
  static constexpr const char* name() { return "uint4"; }
};

/// Signed 2-bit storage: values in [-2, 1], unpacked into int8.
struct Int2 {
  using Unpacked = std::int8_t;
  static constexpr int kBits = 2;
  static constexpr Range range() { return {-2, 1}; }
  static constexpr const char* name() { return "int2"; }
};

/// Unsigned 2-bit storage: values in [0, 3], unpacked into uint8 (PyTorch
/// quint2x4).
struct UInt2 {
  using Unpacked = std::uint8_t;
  static constexpr int kBits = 2;
  static constexpr Range range() { return {0, 3}; }
  static constexpr const char* name() { return "uint2"; }
};

template <class T>
constexpr bool is_packed4_v = std::is_same_v<T, Int4> || std::is_same_v<T, UInt4>;
template <class T>
constexpr bool is_packed2_v = std::is_same_v<T, Int2> || std::is_same_v<T, UInt2>;
/// The sub-byte storage types: Int4, UInt4, Int2, UInt2.
template <class T>
constexpr bool is_packed_v = is_packed4_v<T> || is_packed2_v<T>;

namespace detail {
/// ok when `range` lies inside sub-byte storage T's; else the error naming both.
template <class T>
Status check_packed_range(Range range) {
  const Range limit = T::range();
  if (range.qmin < limit.qmin || range.qmax > limit.qmax)
    return error(StatusCode::kInvalidRange, "range [", range.qmin, ", ", range.qmax, "] is outside ", T::name(), " [",
                 limit.qmin, ", ", limit.qmax, "]");
  return Status::ok();
}
}  // namespace detail

/// Values per byte of T.
template <class T>
constexpr std::int64_t kPerByte = 8 / T::kBits;

/// Bytes needed for n packed values of T.
template <class T>
constexpr std::size_t packed_bytes(std::int64_t n) {
  static_assert(is_packed_v<T>, "T must be Int4, UInt4, Int2 or UInt2");
  return n > 0 ? static_cast<std::size_t>(n / kPerByte<T> + (n % kPerByte<T> != 0)) : 0;
}
/// Bytes needed for n packed 4-bit values.
constexpr std::size_t packed_size(std::int64_t n) { return packed_bytes<Int4>(n); }

namespace detail {
/// The low kBits of a byte's field, sign-extended for a signed T.
template <class T>
constexpr typename T::Unpacked from_field(unsigned field) {
  constexpr unsigned kSign = 1u << (T::kBits - 1);
  if constexpr (std::is_signed_v<typename T::Unpacked>)
    return static_cast<typename T::Unpacked>(static_cast<int>(field ^ kSign) -
                                             static_cast<int>(kSign));  // e.g. 8..15 -> -8..-1
  else
    return static_cast<typename T::Unpacked>(field);
}
template <class T>
constexpr unsigned kFieldMask = (1u << T::kBits) - 1;
}  // namespace detail

/// Element i of a packed buffer, sign-extended for the signed types.
template <class T>
inline typename T::Unpacked unpack_at(const std::uint8_t* packed, std::int64_t i) {
  static_assert(is_packed_v<T>, "T must be Int4, UInt4, Int2 or UInt2");
  const int shift = static_cast<int>(i % kPerByte<T>) * T::kBits;
  return detail::from_field<T>((static_cast<unsigned>(packed[i / kPerByte<T>]) >> shift) & detail::kFieldMask<T>);
}

/// Writes element i of a packed buffer, keeping the other values of its
/// byte. The value is assumed in range; only its low kBits are stored.
template <class T>
inline void pack_at(std::uint8_t* packed, std::int64_t i, typename T::Unpacked v) {
  const int shift = static_cast<int>(i % kPerByte<T>) * T::kBits;
  std::uint8_t& byte = packed[i / kPerByte<T>];
  byte = static_cast<std::uint8_t>((byte & ~(detail::kFieldMask<T> << shift)) |
                                   ((static_cast<unsigned>(v) & detail::kFieldMask<T>) << shift));
}

/// Packs n values into elements [at, at + n) of a packed buffer. Bytes that
/// lie wholly inside the span are written without being read; a value that
/// shares its byte with an element outside the span is written alone.
template <class T>
void pack(const typename T::Unpacked* v, std::uint8_t* packed, std::int64_t at, std::int64_t n) {
  constexpr std::int64_t kPer = kPerByte<T>;
  std::int64_t i = 0;
  for (; i < n && (at + i) % kPer != 0; ++i) pack_at<T>(packed, at + i, v[i]);  // leading part of a byte
  std::uint8_t* out = packed + (at + i) / kPer;
  for (; i + kPer <= n; i += kPer) {
    unsigned byte = 0;
    for (std::int64_t k = 0; k < kPer; ++k)
      byte |= (static_cast<unsigned>(v[i + k]) & detail::kFieldMask<T>) << (k * T::kBits);
    *out++ = static_cast<std::uint8_t>(byte);
  }
  for (; i < n; ++i) pack_at<T>(packed, at + i, v[i]);  // trailing part of a byte
}

/// Unpacks elements [at, at + n) of a packed buffer: whole bytes at a time
/// (a loop the compiler vectorizes), partial ends one value each.
template <class T>
void unpack(const std::uint8_t* packed, std::int64_t at, std::int64_t n, typename T::Unpacked* v) {
  constexpr std::int64_t kPer = kPerByte<T>;
  std::int64_t i = 0;
  for (; i < n && (at + i) % kPer != 0; ++i) v[i] = unpack_at<T>(packed, at + i);  // leading part of a byte
  const std::uint8_t* in = packed + (at + i) / kPer;
  const std::int64_t bytes = (n - i) / kPer;
  for (std::int64_t j = 0; j < bytes; ++j) {
    const unsigned b = in[j];
    for (std::int64_t k = 0; k < kPer; ++k)
      v[i + kPer * j + k] = detail::from_field<T>((b >> (k * T::kBits)) & detail::kFieldMask<T>);
  }
  i += kPer * bytes;
  for (; i < n; ++i) v[i] = unpack_at<T>(packed, at + i);  // trailing part of a byte
}

/// Zeroes the unused high bits of the last byte of n packed values.
template <class T>
void clear_padding(std::uint8_t* packed, std::int64_t n) {
  const int used = static_cast<int>(n % kPerByte<T>) * T::kBits;
  if (used != 0) packed[n / kPerByte<T>] &= static_cast<std::uint8_t>((1u << used) - 1);
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
