// Bulk float16 / bfloat16 conversions: the reference rules (stored.hpp)
// lane by lane. float16 narrows with the instruction set's conversion,
// which rounds as the reference does; bfloat16 with the reference's integer
// rounding (AVX512_BF16's vcvtneps2bf16 flushes subnormals, see
// float_to_bfloat16). A tail goes through one vector on the stack: no lane
// reads or writes outside the caller's buffers.

template <class Format>
EIGENQ_ALWAYS_INLINE F widen_lanes(const std::uint16_t* h) {
  if constexpr (std::is_same_v<Format, Float16>)
    return load_half(h);
  else
    return from_bits(shift_left<16>(load_widened(h)));
}

template <class Format>
EIGENQ_ALWAYS_INLINE void narrow_lanes(F v, std::uint16_t* h) {
  if constexpr (std::is_same_v<Format, Float16>) {
    store_half(h, v);
  } else {
    const I b = bits(v), kept = shift_right<16>(b);
    const I rounded = shift_right<16>(add(b, add(splat(0x7FFF), bit_and(kept, splat(1)))));
    const I quiet = bit_or(kept, splat(0x40));
    store_narrowed(h, bits(select(le(v, v), from_bits(rounded), from_bits(quiet))));  // le: false for NaN
  }
}

struct HalfOps {
  /// y[i] = Format::widen(h[i]).
  template <class Format>
  static void widen_halves(const std::uint16_t* h, float* y, std::size_t n) {
    std::size_t i = 0;
    for (; i + kLanes <= n; i += kLanes) store(y + i, widen_lanes<Format>(h + i));
    if (i == n) return;
    std::uint16_t part[kLanes] = {};
    std::memcpy(part, h + i, (n - i) * sizeof(std::uint16_t));
    store(y + i, widen_lanes<Format>(part), n - i);
  }

  /// h[i] = Format::narrow(x[i]).
  template <class Format>
  static void narrow_halves(const float* x, std::uint16_t* h, std::size_t n) {
    std::size_t i = 0;
    for (; i + kLanes <= n; i += kLanes) narrow_lanes<Format>(load(x + i), h + i);
    if (i == n) return;
    std::uint16_t part[kLanes];
    narrow_lanes<Format>(load(x + i, n - i), part);
    std::memcpy(h + i, part, (n - i) * sizeof(std::uint16_t));
  }
};
