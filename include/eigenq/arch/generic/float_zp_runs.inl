// Float zero points (float_qparams.hpp): the run kernels, written once over
// the primitives of the enclosing namespace, computing numerics.hpp's
// float_zp kLanes elements at a time in its order of operations. Included
// by every SIMD path after runs.inl (its Wide bounds); not a header of its
// own.

/// The parameters of kLanes consecutive elements; `inv` is
/// float_zp::inverse_scale (1 where the scale is 0).
struct FloatZpLanes {
  F scale, inv, zero_point;
};

EIGENQ_ALWAYS_INLINE F inverse_scale_lanes(F scale) {
  return select(le(scale, zero()), splat(1.0f), div(splat(1.0f), scale));  // scales are >= 0
}

/// The lanes of a run's parameters; kInverse: whether the kernel reads `inv`.
template <class Src, bool kInverse = true>
class FloatZpSource;

template <bool kInverse>
class FloatZpSource<FloatBroadcast, kInverse> {
 public:
  explicit FloatZpSource(FloatBroadcast p)
      : lanes_{splat(p.scale), splat(float_zp::inverse_scale(p.scale)), splat(p.zero_point)} {}
  const FloatZpLanes& at(std::size_t) const { return lanes_; }
  const FloatZpLanes& at(std::size_t, std::size_t) const { return lanes_; }

 private:
  FloatZpLanes lanes_;
};

template <bool kInverse>
class FloatZpSource<FloatAligned, kInverse> {
 public:
  explicit FloatZpSource(FloatAligned p) : p_(p) {}
  EIGENQ_ALWAYS_INLINE FloatZpLanes at(std::size_t i) const {
    return make(load(p_.scale + i), load(p_.zero_point + i));
  }
  // Lanes past n hold scale 0 (inverse 1) and zero point 0; their results are discarded.
  EIGENQ_ALWAYS_INLINE FloatZpLanes at(std::size_t i, std::size_t n) const {
    return make(load(p_.scale + i, n), load(p_.zero_point + i, n));
  }

 private:
  EIGENQ_ALWAYS_INLINE FloatZpLanes make(F scale, F zero_point) const {
    return {scale, kInverse ? inverse_scale_lanes(scale) : scale, zero_point};
  }
  FloatAligned p_;
};

/// float_zp::lrintf_as_int32 of integer-valued lanes r: the low 32 bits of
/// r as an int64, 0 for NaN, infinities and |r| >= 2^63 (INT64_MIN's). The
/// remainder r - k * 2^32, k = r / 2^32 rounded, is exact: both terms are
/// multiples of r's ulp and it lies in [-2^31, 2^31] (or k = 0); 2^31 wraps
/// to -2^31. It is 0 for finite |r| >= 2^56 and NaN for NaN and infinities.
EIGENQ_ALWAYS_INLINE I low_int32_bits(F r) {
  const F k = round_half_even(mul(r, splat(0x1p-32f)));
  F rem = sub(r, mul(k, splat(0x1p32f)));
  rem = select(ge(rem, splat(0x1p31f)), sub(rem, splat(0x1p32f)), rem);
  return convert_exact(select(ge(rem, splat(-0x1p31f)), rem, zero()));
}

/// float_zp::quantize: x * inv + zp unfused, rounded, wrapped, clamped.
/// When every lane lies in [-2^31, 2^31 - 128] (the float below 2^31), so
/// does its rounding, and one conversion rounds and converts; a vector
/// with any other lane (or NaN) takes the wrapping path.
EIGENQ_ALWAYS_INLINE I quantize_float_zp_lanes(F x, const FloatZpLanes& l, I qmin, I qmax) {
  const F v = add(opaque(mul(x, l.inv)), l.zero_point);
  const bool in_int32 = all(both(ge(v, splat(-0x1p31f)), le(v, splat(0x1.fffffep30f))));
  return min(max(in_int32 ? convert_nearest(v) : low_int32_bits(round_half_even(v)), qmin), qmax);
}

EIGENQ_ALWAYS_INLINE F dequantize_float_zp_lanes(I q, const FloatZpLanes& l) {
  return mul(sub(to_float(q), l.zero_point), l.scale);
}

/// float_zp::fake_quantize: the rounded value as an int64 in double lanes
/// (2^63 and above, +inf included, become INT64_MIN; NaN is left to the
/// clamp, which gives qmin; adding +0.0f makes -0.0f the integer 0), then
/// clamped and dequantized in double, rounded to float once.
template <bool kHalf>
EIGENQ_ALWAYS_INLINE F fake_quantize_float_zp_lanes(F x, const FloatZpLanes& l, const Wide& w) {
  const F v = kHalf ? add(opaque(mul(x, l.inv)), l.zero_point) : fma(x, l.inv, l.zero_point);
  const F r = round_half_even(v);
  const F q = add(select(ge(r, splat(0x1p63f)), splat(-0x1p63f), r), zero());
  return narrow(mul(sub(clamp(widen(q), w.lo, w.hi), widen(l.zero_point)), widen(l.scale)));
}

struct FloatZpRunOps {
  template <class Q, class Src>
  static void quantize_float_zp(const float* x, Q* q, std::size_t n, Src src, Range range) {
    const FloatZpSource<Src> p(src);
    const I qmin = splat(range.qmin), qmax = splat(range.qmax);
    auto lanes = [&](std::size_t i)
                     EIGENQ_INLINE_LAMBDA { return quantize_float_zp_lanes(load(x + i), p.at(i), qmin, qmax); };
    std::size_t i = 0;
    for (; i + 4 * kLanes <= n; i += 4 * kLanes)
      store_narrowed(q + i, lanes(i), lanes(i + kLanes), lanes(i + 2 * kLanes), lanes(i + 3 * kLanes));
    for (; i + kLanes <= n; i += kLanes) store_narrowed(q + i, lanes(i));
    if (i < n) store_narrowed(q + i, quantize_float_zp_lanes(load(x + i, n - i), p.at(i, n - i), qmin, qmax), n - i);
  }

  template <class Q, class Src>
  static void dequantize_float_zp(const Q* q, float* y, std::size_t n, Src src) {
    const FloatZpSource<Src, false> p(src);
    auto lanes = [&](std::size_t i)
                     EIGENQ_INLINE_LAMBDA { return dequantize_float_zp_lanes(load_widened(q + i), p.at(i)); };
    std::size_t i = 0;
    for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
      const F a = lanes(i), b = lanes(i + kLanes), c = lanes(i + 2 * kLanes), d = lanes(i + 3 * kLanes);
      store(y + i, a), store(y + i + kLanes, b), store(y + i + 2 * kLanes, c), store(y + i + 3 * kLanes, d);
    }
    for (; i + kLanes <= n; i += kLanes) store(y + i, lanes(i));
    if (i < n) store(y + i, dequantize_float_zp_lanes(load_widened(q + i, n - i), p.at(i, n - i)), n - i);
  }

  /// y may alias x: every vector is loaded before its store.
  template <bool kHalf, class Src>
  static void fake_quantize_float_zp(const float* x, float* y, std::size_t n, Src src, Range range) {
    const FloatZpSource<Src> p(src);
    const Wide w(range);
    auto lanes = [&](std::size_t i)
                     EIGENQ_INLINE_LAMBDA { return fake_quantize_float_zp_lanes<kHalf>(load(x + i), p.at(i), w); };
    std::size_t i = 0;
    for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
      const F a = lanes(i), b = lanes(i + kLanes), c = lanes(i + 2 * kLanes), d = lanes(i + 3 * kLanes);
      store(y + i, a), store(y + i + kLanes, b), store(y + i + 2 * kLanes, c), store(y + i + 3 * kLanes, d);
    }
    for (; i + kLanes <= n; i += kLanes) store(y + i, lanes(i));
    if (i < n) store(y + i, fake_quantize_float_zp_lanes<kHalf>(load(x + i, n - i), p.at(i, n - i), w), n - i);
  }
};
