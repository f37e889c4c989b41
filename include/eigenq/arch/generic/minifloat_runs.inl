// Minifloat codes (minifloat.hpp), written once over the primitives of the
// enclosing namespace: float32 -> code and back for every format whose codes
// fit a byte, on the bits of float32 lanes held as int32, and the run
// kernels of minifloat_quantize.hpp. Each gives the bits of the portable
// path (arch/minifloat_scalar.hpp) for every input. Beyond the division and
// the product by the scale, which the portable path computes alike, no
// intermediate is a float32 subnormal, and a subnormal input only meets an
// addition that gives code 0 either way: flushing modes (FTZ / DAZ) change
// nothing the portable path would not see. Rounding is to nearest.

/// minifloat_encode() of kLanes lanes. Codes of one sign are ordered like
/// the magnitudes they stand for, so the code's magnitude is computed as if
/// the format had no specials, then capped at the overflow code; NaN is
/// selected apart.
template <class Fmt, bool kSaturate>
EIGENQ_ALWAYS_INLINE I minifloat_encode_lanes(F v) {
  constexpr MinifloatFormat f = Fmt::kFormat;
  constexpr int kM = f.mantissa_bits;
  constexpr std::int32_t kInf = 0x7f800000;
  const I b = bits(v);
  const I a = bit_and(b, splat(std::int32_t{0x7fffffff}));
  // Normal range: rebiased, the 23 - kM dropped bits rounded to nearest even
  // (adding half - 1, plus the kept bit's parity), the carry running into
  // the exponent. Beyond the range (inf included) this overshoots the
  // largest code, which the minimum below catches. Rebiasing changes no bit
  // below the exponent, so the parity is read from a, and the rebias and
  // the half - 1 are one constant.
  constexpr std::int32_t kRebiasHalf = (1 << (22 - kM)) - 1 - ((127 - f.bias) << 23);
  const I normal = shift_right<23 - kM>(add(add(a, splat(kRebiasHalf)), bit_and(shift_right<23 - kM>(a), splat(1))));
  // Below the normal range: |v| + 2^(min_exponent - kM + 23) lies in a
  // binade whose ulp is the format's smallest subnormal, so the float
  // addition rounds |v| to a multiple of it (to nearest even), and the
  // multiple is the sum's mantissa. Zero and float32 subnormals give 0.
  constexpr std::int32_t kMagic = (f.min_exponent() - kM + 23 + 127) << 23;
  const I small = sub(bits(add(from_bits(a), from_bits(splat(kMagic)))), splat(kMagic));
  const I magnitude = select(gt(splat(std::int32_t{(f.min_exponent() + 127) << 23}), a), small, normal);

  // Past the largest finite code the overflow code is the largest one when
  // saturating (and in the finite formats), else the next code up: inf
  // (E5M2), the NaN S.1111.111 (E4M3FN), or 0x80 (fnuz, whose NaN is
  // unsigned: the sign added below leaves it). Either way a minimum.
  constexpr std::uint32_t kOverflow =
      kSaturate || f.specials == MinifloatSpecials::kFinite ? f.max_magnitude() : f.max_magnitude() + 1;
  constexpr std::uint32_t kNaN = f.specials == MinifloatSpecials::kFnuz     ? f.sign_bit()
                                 : f.specials == MinifloatSpecials::kFinite ? 0
                                                                            : f.all_ones();
  const M nan = gt(a, splat(kInf));
  I code = min(magnitude, splat(static_cast<std::int32_t>(kOverflow)));
  code = select(nan, splat(static_cast<std::int32_t>(kNaN)), code);
  // The sign, where the code has one: fnuz has no -0 (its NaN and overflow
  // codes already hold the sign bit), and the finite formats' NaN code 0 is
  // unsigned.
  I sign = shift_left<f.exponent_bits + kM>(shift_right<31>(b));
  if constexpr (f.specials == MinifloatSpecials::kFnuz) sign = select(eq(code, splat(0)), splat(0), sign);
  if constexpr (f.specials == MinifloatSpecials::kFinite) sign = select(nan, splat(0), sign);
  return bit_or(code, sign);
}

/// minifloat_decode() of kLanes codes, bytes held as int32 lanes (bits above
/// the format's width ignored): normal codes by rebiasing the bits,
/// subnormal ones as mantissa * smallest subnormal (exact, as the reference
/// computes them).
template <class Fmt>
EIGENQ_ALWAYS_INLINE F minifloat_decode_lanes(I q) {
  constexpr MinifloatFormat f = Fmt::kFormat;
  constexpr int kM = f.mantissa_bits;
  I c = q;  // a byte: nothing above an 8-bit format's width
  if constexpr (f.bits() < 8) c = bit_and(q, splat(static_cast<std::int32_t>(f.sign_bit() | f.all_ones())));
  const I magnitude = bit_and(c, splat(static_cast<std::int32_t>(f.all_ones())));
  const F normal = from_bits(add(shift_left<23 - kM>(magnitude), splat(std::int32_t{(127 - f.bias) << 23})));
  const F quantum = from_bits(splat(std::int32_t{(f.min_exponent() - kM + 127) << 23}));
  const F small = mul(to_float(magnitude), quantum);
  I v = bits(select(gt(splat(std::int32_t{1} << kM), magnitude), small, normal));
  const I qnan = splat(std::int32_t{0x7fc00000});
  if constexpr (f.specials == MinifloatSpecials::kIeee) {
    const M zero_mantissa = eq(bit_and(magnitude, splat(static_cast<std::int32_t>(f.mantissa_mask()))), splat(0));
    v = select(gt(magnitude, splat(static_cast<std::int32_t>(f.max_magnitude()))),
               select(zero_mantissa, splat(std::int32_t{0x7f800000}), qnan), v);
  } else if constexpr (f.specials == MinifloatSpecials::kFiniteNaN) {
    v = select(eq(magnitude, splat(static_cast<std::int32_t>(f.all_ones()))), qnan, v);
  } else if constexpr (f.specials == MinifloatSpecials::kFnuz) {
    v = select(eq(c, splat(static_cast<std::int32_t>(f.sign_bit()))), qnan, v);
  }
  const I sign = shift_left<31 - f.exponent_bits - kM>(bit_and(c, splat(static_cast<std::int32_t>(f.sign_bit()))));
  return from_bits(bit_or(v, sign));
}

/// A run's scales as lanes: one float for the whole run, an array aligned
/// with it (lanes past n read as 0; their results are discarded), or one
/// block's scale (SteppedScales: i is a multiple of kLanes, and so are the
/// blocks).
EIGENQ_ALWAYS_INLINE F scale_lanes(float scale, std::size_t) { return splat(scale); }
EIGENQ_ALWAYS_INLINE F scale_lanes(float scale, std::size_t, std::size_t) { return splat(scale); }
EIGENQ_ALWAYS_INLINE F scale_lanes(const float* scale, std::size_t i) { return load(scale + i); }
EIGENQ_ALWAYS_INLINE F scale_lanes(const float* scale, std::size_t i, std::size_t n) { return load(scale + i, n); }
EIGENQ_ALWAYS_INLINE F scale_lanes(SteppedScales scale, std::size_t i) { return splat(scale.at(i)); }
EIGENQ_ALWAYS_INLINE F scale_lanes(SteppedScales scale, std::size_t i, std::size_t) { return splat(scale.at(i)); }

struct MinifloatRunOps {
  /// The largest magnitude of n elements as float bits, the sign cleared
  /// (+inf above every finite value, a NaN above +inf), and `m`'s.
  EIGENQ_ALWAYS_INLINE static std::uint32_t magnitude_max(const float* x, std::size_t n, std::uint32_t m) {
    const I magnitude = splat(std::int32_t{0x7fffffff});
    I a = splat(static_cast<std::int32_t>(m)), b = splat(0);
    std::size_t i = 0;
    for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
      a = max(a, bit_and(bits(load(x + i)), magnitude));
      b = max(b, bit_and(bits(load(x + i + kLanes)), magnitude));
    }
    for (; i < n; i += kLanes) a = max(a, bit_and(bits(load(x + i, n - i)), magnitude));  // lanes past n read 0
    return static_cast<std::uint32_t>(max_lane(max(a, b)));
  }

  /// m[i] = the larger of m[i] and |x[i]|, as magnitude_max.
  EIGENQ_ALWAYS_INLINE static void magnitude_max(const float* x, std::size_t n, float* m) {
    const I magnitude = splat(std::int32_t{0x7fffffff});
    std::size_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
      store(m + i, from_bits(max(bits(load(m + i)), bit_and(bits(load(x + i)), magnitude))));
    if (i < n)
      store(m + i, from_bits(max(bits(load(m + i, n - i)), bit_and(bits(load(x + i, n - i)), magnitude))), n - i);
  }

  /// q = encode<Fmt>(x / scale): a true division, as the reference.
  template <class Fmt, bool kSaturate, class Scales>
  EIGENQ_ALWAYS_INLINE static void quantize_minifloat(const float* x, std::uint8_t* q, std::size_t n, Scales scale) {
    auto lanes = [=](std::size_t i) EIGENQ_INLINE_LAMBDA {
      return minifloat_encode_lanes<Fmt, kSaturate>(div(load(x + i), scale_lanes(scale, i)));
    };
    std::size_t i = 0;
    for (; i + 4 * kLanes <= n; i += 4 * kLanes)
      store_narrowed(q + i, lanes(i), lanes(i + kLanes), lanes(i + 2 * kLanes), lanes(i + 3 * kLanes));
    for (; i + kLanes <= n; i += kLanes) store_narrowed(q + i, lanes(i));
    if (i < n)
      store_narrowed(
          q + i, minifloat_encode_lanes<Fmt, kSaturate>(div(load(x + i, n - i), scale_lanes(scale, i, n - i))), n - i);
  }

  /// y = decode<Fmt>(q) * scale.
  template <class Fmt, class Scales>
  EIGENQ_ALWAYS_INLINE static void dequantize_minifloat(const std::uint8_t* q, float* y, std::size_t n, Scales scale) {
    auto lanes = [=](std::size_t i) EIGENQ_INLINE_LAMBDA {
      return mul(minifloat_decode_lanes<Fmt>(load_widened(q + i)), scale_lanes(scale, i));
    };
    std::size_t i = 0;
    for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
      const F a = lanes(i), b = lanes(i + kLanes), c = lanes(i + 2 * kLanes), d = lanes(i + 3 * kLanes);
      store(y + i, a), store(y + i + kLanes, b), store(y + i + 2 * kLanes, c), store(y + i + 3 * kLanes, d);
    }
    for (; i + kLanes <= n; i += kLanes) store(y + i, lanes(i));
    if (i < n)
      store(y + i, mul(minifloat_decode_lanes<Fmt>(load_widened(q + i, n - i)), scale_lanes(scale, i, n - i)), n - i);
  }
};
