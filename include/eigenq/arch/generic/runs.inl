// The run kernels, written once over the primitives of the enclosing
// namespace (arch/x86_avx2.hpp says what each promises). Included by every
// SIMD path's header inside its namespace and target region, after its
// primitives; not a header of its own.
//
// Each kernel computes what the portable loop (arch/scalar.hpp) computes,
// kLanes elements at a time, in the reference's order of operations or in
// an order shown exact where it says so. Whole vectors first, four per
// iteration (written out: GCC does not unroll at -O2), then one at a time,
// then the last n % kLanes elements as one partial vector.

// ---------------------------------------------------------------------------
// Policies per lane

template <class N>
constexpr bool kVectorized =
    (std::is_same_v<typename N::Rounding, RoundHalfEven> || std::is_same_v<typename N::Rounding, RoundHalfAway> ||
     std::is_same_v<typename N::Rounding, RoundHalfUp>)&&(std::is_same_v<typename N::Scaling, ScaleByReciprocal> ||
                                                          std::is_same_v<typename N::Scaling, ScaleByDivision>);

template <class Scaling>
inline F factor_lanes(F scale) {
  if constexpr (std::is_same_v<Scaling, ScaleByReciprocal>)
    return div(splat(1.0f), scale);
  else
    return scale;
}

template <class Scaling>
inline F scaled(F x, F factor) {
  if constexpr (std::is_same_v<Scaling, ScaleByReciprocal>)
    return mul(x, factor);
  else
    return div(x, factor);
}

template <class Rounding>
inline F rounded(F v) {
  if constexpr (std::is_same_v<Rounding, RoundHalfEven>)
    return round_half_even(v);
  else if constexpr (std::is_same_v<Rounding, RoundHalfAway>)
    return round_half_away(v);
  else  // RoundHalfUp: floor(v + 0.5f) in float32, v (a product) rounded before the addition
    return floor(add(opaque(v), splat(0.5f)));
}

/// rounded() as int32, for lanes within the int32 range.
template <class Rounding>
inline I rounded_int(F v) {
  if constexpr (std::is_same_v<Rounding, RoundHalfEven>)
    return convert_nearest(v);
  else
    return convert_exact(rounded<Rounding>(v));
}

// ---------------------------------------------------------------------------
// Parameters of kLanes consecutive elements

/// lo and hi are qmin - zero_point and qmax - zero_point as floats: exact
/// (and integer-valued) for ranges spanning at most 2^24; wider int32 ranges
/// use the double bounds of `Wide` instead.
struct Lanes {
  F scale, factor, lo, hi;
  I zero_point;
};

struct Wide {
  D lo, hi;  // qmin and qmax
  explicit Wide(Range r) : lo(splat_wide(r.qmin)), hi(splat_wide(r.qmax)) {}
};

/// True when a range is too wide for the float bounds of `Lanes`.
inline bool is_wide(Range range) {
  return static_cast<std::int64_t>(range.qmax) - range.qmin > (std::int64_t{1} << 24);
}

template <class Src, class Scaling>
class ParamLanes;

template <class Scaling>
class ParamLanes<Broadcast, Scaling> {
 public:
  ParamLanes(Broadcast p, Range range)
      : lanes_{splat(p.scale), splat(Scaling::factor(p.scale)),
               splat(static_cast<float>(static_cast<std::int64_t>(range.qmin) - p.zero_point)),
               splat(static_cast<float>(static_cast<std::int64_t>(range.qmax) - p.zero_point)), splat(p.zero_point)} {}
  const Lanes& at(std::size_t) const { return lanes_; }
  const Lanes& at(std::size_t, std::size_t) const { return lanes_; }

 private:
  Lanes lanes_;
};

template <class Scaling>
class ParamLanes<Aligned, Scaling> {
 public:
  ParamLanes(Aligned p, Range range) : p_(p), qmin_(splat(range.qmin)), qmax_(splat(range.qmax)) {}
  Lanes at(std::size_t i) const { return make(load(p_.scale + i), load(p_.zero_point + i)); }
  // Lanes past n hold scale 0 and zero point 0; their results are discarded.
  Lanes at(std::size_t i, std::size_t n) const { return make(load(p_.scale + i, n), load(p_.zero_point + i, n)); }

 private:
  Lanes make(F scale, I zero_point) const {
    return {scale, factor_lanes<Scaling>(scale), to_float(sub(qmin_, zero_point)), to_float(sub(qmax_, zero_point)),
            zero_point};
  }
  Aligned p_;
  I qmin_, qmax_;
};

// ---------------------------------------------------------------------------
// The operations on kLanes lanes

/// quantize() as int32 lanes.
template <class Q, class N>
inline I quantize_lanes(F x, const Lanes& l, const Wide& w) {
  const F v = scaled<typename N::Scaling>(x, l.factor);
  if constexpr (sizeof(Q) < 4) {
    // Clamping before rounding is exact: rounding is monotonic and keeps the
    // integer bounds (|bound| < 2^17). It also keeps the conversion in range.
    return add(rounded_int<typename N::Rounding>(clamp(v, l.lo, l.hi)), l.zero_point);
  } else {  // as numerics.hpp's saturate(): the sum in double, exact in the range
    return truncate(clamp(add(widen(rounded<typename N::Rounding>(v)), widen(l.zero_point)), w.lo, w.hi));
  }
}

template <class Q>
inline F dequantize_lanes(I q, const Lanes& l) {
  if constexpr (sizeof(Q) < 4)
    return mul(to_float(sub(q, l.zero_point)), l.scale);
  else  // q - zero_point can leave int32: exact in double, rounded to float once
    return mul(narrow(sub(widen(q), widen(l.zero_point))), l.scale);
}

/// fake_quantize() and ste_mask() of kLanes lanes.
struct FakeQuantized {
  F y;
  M mask;
};

template <class N, bool kWide>
inline FakeQuantized fake_quantize_lanes(F x, const Lanes& l, const Wide& w) {
  const F r = rounded<typename N::Rounding>(scaled<typename N::Scaling>(x, l.factor));
  if constexpr (!kWide) {
    // Adding +0.0f turns a clamped -0.0f into +0.0f, as the reference's round
    // trip through an integer does.
    const F c = add(clamp(r, l.lo, l.hi), zero());
    return {mul(c, l.scale), both(ge(r, l.lo), le(r, l.hi))};
  } else {
    const D zp = widen(l.zero_point), v = add(widen(r), zp);
    return {mul(narrow(sub(clamp(v, w.lo, w.hi), zp)), l.scale), in_range(v, w.lo, w.hi)};
  }
}

/// Calls fn(std::true_type) for ranges too wide for float bounds, else
/// fn(std::false_type).
template <class Fn>
inline void with_width(Range range, Fn&& fn) {
  if (is_wide(range))
    fn(std::true_type{});
  else
    fn(std::false_type{});
}

// ---------------------------------------------------------------------------
// Requantization rules on kLanes lanes

/// gemmlowp: saturating left shift, rounding doubling high multiply,
/// rounding divide by a power of two.
struct DoubleRoundingLanes {
  I multiplier, left, right;
  DoubleRoundingLanes(I m, I shift, F)
      : multiplier(m), left(max(shift, splat(0))), right(max(sub(splat(0), shift), splat(0))) {}
  I apply(I d) const {
    return rounding_divide_by_pot(rounding_doubling_high_mul(saturating_left_shift(d, left), multiplier), right);
  }
};

/// One rounding of the 64-bit product: half up, or ties away from zero.
template <bool kTiesAway>
struct SingleRoundingLanes {
  I multiplier, shift;
  SingleRoundingLanes(I m, I s, F) : multiplier(m), shift(s) {}
  I apply(I d) const { return rounding_multiply_shift<kTiesAway>(d, multiplier, shift); }
};

/// XNNPACK fp32: the float product; rounded in the kernel after clamping.
struct Fp32Lanes {
  F scale;
  Fp32Lanes(I, I, F s) : scale(s) {}
};

/// The multipliers of kLanes lanes as Rule uses them.
template <class Rule>
using RuleLanes = std::conditional_t<
    Rule::kind == RequantizeKind::kDoubleRounding, DoubleRoundingLanes,
    std::conditional_t<Rule::kind == RequantizeKind::kFp32, Fp32Lanes,
                       SingleRoundingLanes<Rule::kind == RequantizeKind::kSingleRoundingAway>>>;

template <class Rule, class Src>
class RequantLanes;

template <class Rule>
class RequantLanes<Rule, RequantBroadcast> {
 public:
  explicit RequantLanes(RequantBroadcast p) : lanes_(splat(p.multiplier), splat(p.shift), splat(p.scale)) {}
  const RuleLanes<Rule>& at(std::size_t) const { return lanes_; }
  const RuleLanes<Rule>& at(std::size_t, std::size_t) const { return lanes_; }

 private:
  RuleLanes<Rule> lanes_;
};

// Only the arrays the rule reads are loaded (the others may be null).
template <class Rule>
class RequantLanes<Rule, RequantAligned> {
 public:
  explicit RequantLanes(RequantAligned p) : p_(p) {}
  RuleLanes<Rule> at(std::size_t i) const {
    if constexpr (Rule::kFixedPoint)
      return {load(p_.multiplier + i), load(p_.shift + i), zero()};
    else
      return {splat(0), splat(0), load(p_.scale + i)};
  }
  RuleLanes<Rule> at(std::size_t i, std::size_t n) const {
    if constexpr (Rule::kFixedPoint)
      return {load(p_.multiplier + i, n), load(p_.shift + i, n), zero()};
    else
      return {splat(0), splat(0), load(p_.scale + i, n)};
  }

 private:
  RequantAligned p_;
};

/// Output bounds relative to the zero point, [qmin - zp, qmax - zp], as
/// int32 and float lanes (exact: |qmin - zp| < 2^17).
struct RequantBounds {
  I lo, hi, zero_point;
  F lof, hif;
  explicit RequantBounds(const RequantizeArgs& a)
      : lo(splat(a.range.qmin - a.output_zero_point)),
        hi(splat(a.range.qmax - a.output_zero_point)),
        zero_point(splat(a.output_zero_point)),
        lof(splat(static_cast<float>(a.range.qmin - a.output_zero_point))),
        hif(splat(static_cast<float>(a.range.qmax - a.output_zero_point))) {}
};

/// requantize() of kLanes lanes of d = x - input zero point: the rule, then
/// clamp(v, qmin - zp, qmax - zp) + zp, the form requantize_rules.hpp shows
/// equal to clamping v + zp (nothing can wrap).
template <class Rule>
inline I requantize_lanes(I d, const RuleLanes<Rule>& l, const RequantBounds& b) {
  if constexpr (Rule::kFixedPoint) {
    return add(min(max(l.apply(d), b.lo), b.hi), b.zero_point);
  } else {
    // Clamping before rounding is exact (rounding is monotonic and keeps the
    // integer bounds) and keeps the conversion in range.
    return add(convert_nearest(clamp(mul(to_float(d), l.scale), b.lof, b.hif)), b.zero_point);
  }
}

/// x - zero_point, saturated to int32 for int32 inputs (narrower ones
/// cannot overflow).
template <bool kZeroPoint, class In>
inline I input_lanes(I x, I zero_point) {
  if constexpr (!kZeroPoint)
    return x;
  else if constexpr (std::is_same_v<In, std::int32_t>)
    return saturating_sub(x, zero_point);
  else
    return sub(x, zero_point);
}

// ---------------------------------------------------------------------------
// The run kernels

struct RunOps {
  using Portable = scalar::RunOps;

  template <class Q, class N, class Src>
  static void quantize(const float* x, Q* q, std::size_t n, Src src, Range range) {
    if constexpr (!kVectorized<N>) {
      Portable::quantize<Q, N>(x, q, n, src, range);
    } else {
      const ParamLanes<Src, typename N::Scaling> p(src, range);
      const Wide w(range);
      std::size_t i = 0;
      for (; i + 4 * kLanes <= n; i += 4 * kLanes)
        store_narrowed(q + i, quantize_lanes<Q, N>(load(x + i), p.at(i), w),
                       quantize_lanes<Q, N>(load(x + i + kLanes), p.at(i + kLanes), w),
                       quantize_lanes<Q, N>(load(x + i + 2 * kLanes), p.at(i + 2 * kLanes), w),
                       quantize_lanes<Q, N>(load(x + i + 3 * kLanes), p.at(i + 3 * kLanes), w));
      for (; i + kLanes <= n; i += kLanes) store_narrowed(q + i, quantize_lanes<Q, N>(load(x + i), p.at(i), w));
      if (i < n) store_narrowed(q + i, quantize_lanes<Q, N>(load(x + i, n - i), p.at(i, n - i), w), n - i);
    }
  }

  template <class Q, class Src>
  static void dequantize(const Q* q, float* y, std::size_t n, Src src) {
    const ParamLanes<Src, ScaleByDivision> p(src, Range{});
    std::size_t i = 0;
    for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
      store(y + i, dequantize_lanes<Q>(load_widened(q + i), p.at(i)));
      store(y + i + kLanes, dequantize_lanes<Q>(load_widened(q + i + kLanes), p.at(i + kLanes)));
      store(y + i + 2 * kLanes, dequantize_lanes<Q>(load_widened(q + i + 2 * kLanes), p.at(i + 2 * kLanes)));
      store(y + i + 3 * kLanes, dequantize_lanes<Q>(load_widened(q + i + 3 * kLanes), p.at(i + 3 * kLanes)));
    }
    for (; i + kLanes <= n; i += kLanes) store(y + i, dequantize_lanes<Q>(load_widened(q + i), p.at(i)));
    if (i < n) store(y + i, dequantize_lanes<Q>(load_widened(q + i, n - i), p.at(i, n - i)), n - i);
  }

  /// y may alias x: every vector is loaded before its store.
  template <class N, class Src>
  static void fake_quantize(const float* x, float* y, std::size_t n, Src src, Range range) {
    if constexpr (!kVectorized<N>) {
      Portable::fake_quantize<N>(x, y, n, src, range);
    } else {
      with_width(range, [=](auto wide) {
        constexpr bool kWide = decltype(wide)::value;
        const ParamLanes<Src, typename N::Scaling> p(src, range);
        const Wide w(range);
        std::size_t i = 0;
        for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
          const F a = fake_quantize_lanes<N, kWide>(load(x + i), p.at(i), w).y;
          const F b = fake_quantize_lanes<N, kWide>(load(x + i + kLanes), p.at(i + kLanes), w).y;
          const F c = fake_quantize_lanes<N, kWide>(load(x + i + 2 * kLanes), p.at(i + 2 * kLanes), w).y;
          const F d = fake_quantize_lanes<N, kWide>(load(x + i + 3 * kLanes), p.at(i + 3 * kLanes), w).y;
          store(y + i, a), store(y + i + kLanes, b), store(y + i + 2 * kLanes, c), store(y + i + 3 * kLanes, d);
        }
        for (; i + kLanes <= n; i += kLanes) store(y + i, fake_quantize_lanes<N, kWide>(load(x + i), p.at(i), w).y);
        if (i < n) store(y + i, fake_quantize_lanes<N, kWide>(load(x + i, n - i), p.at(i, n - i), w).y, n - i);
      });
    }
  }

  /// y = fake_quantize(x) and mask = ste_mask(x) as 0/1 bytes; y may alias x.
  template <class N, class Src>
  static void fake_quantize_mask(const float* x, float* y, std::uint8_t* mask, std::size_t n, Src src, Range range) {
    if constexpr (!kVectorized<N>) {
      Portable::fake_quantize_mask<N>(x, y, mask, n, src, range);
    } else {
      with_width(range, [=](auto wide) {
        constexpr bool kWide = decltype(wide)::value;
        const ParamLanes<Src, typename N::Scaling> p(src, range);
        const Wide w(range);
        std::size_t i = 0;
        for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
          const FakeQuantized a = fake_quantize_lanes<N, kWide>(load(x + i), p.at(i), w);
          const FakeQuantized b = fake_quantize_lanes<N, kWide>(load(x + i + kLanes), p.at(i + kLanes), w);
          const FakeQuantized c = fake_quantize_lanes<N, kWide>(load(x + i + 2 * kLanes), p.at(i + 2 * kLanes), w);
          const FakeQuantized d = fake_quantize_lanes<N, kWide>(load(x + i + 3 * kLanes), p.at(i + 3 * kLanes), w);
          store(y + i, a.y), store(y + i + kLanes, b.y), store(y + i + 2 * kLanes, c.y), store(y + i + 3 * kLanes, d.y);
          store_narrowed(mask + i, one_where_int(a.mask), one_where_int(b.mask), one_where_int(c.mask),
                         one_where_int(d.mask));
        }
        for (; i + kLanes <= n; i += kLanes) {
          const FakeQuantized f = fake_quantize_lanes<N, kWide>(load(x + i), p.at(i), w);
          store(y + i, f.y);
          store_narrowed(mask + i, one_where_int(f.mask));
        }
        if (i < n) {
          const FakeQuantized f = fake_quantize_lanes<N, kWide>(load(x + i, n - i), p.at(i, n - i), w);
          store(y + i, f.y, n - i);
          store_narrowed(mask + i, one_where_int(f.mask), n - i);
        }
      });
    }
  }

  /// dx = dy * ste_mask(x), a multiply as the reference does; dx may alias dy.
  template <class N, class Src>
  static void ste_backward(const float* x, const float* dy, float* dx, std::size_t n, Src src, Range range) {
    if constexpr (!kVectorized<N>) {
      Portable::ste_backward<N>(x, dy, dx, n, src, range);
    } else {
      with_width(range, [=](auto wide) {
        constexpr bool kWide = decltype(wide)::value;
        const ParamLanes<Src, typename N::Scaling> p(src, range);
        const Wide w(range);
        auto mask = [&](std::size_t i) {
          return one_where(fake_quantize_lanes<N, kWide>(load(x + i), p.at(i), w).mask);
        };
        std::size_t i = 0;
        for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
          const F a = mul(load(dy + i), mask(i)), b = mul(load(dy + i + kLanes), mask(i + kLanes));
          const F c = mul(load(dy + i + 2 * kLanes), mask(i + 2 * kLanes));
          const F d = mul(load(dy + i + 3 * kLanes), mask(i + 3 * kLanes));
          store(dx + i, a), store(dx + i + kLanes, b), store(dx + i + 2 * kLanes, c), store(dx + i + 3 * kLanes, d);
        }
        for (; i + kLanes <= n; i += kLanes) store(dx + i, mul(load(dy + i), mask(i)));
        if (i < n) {
          const F m = one_where(fake_quantize_lanes<N, kWide>(load(x + i, n - i), p.at(i, n - i), w).mask);
          store(dx + i, mul(load(dy + i, n - i), m), n - i);
        }
      });
    }
  }

  /// dx = dy * mask for mask bytes (any value, normally 0 or 1).
  static void ste_backward_masked(const std::uint8_t* mask, const float* dy, float* dx, std::size_t n) {
    auto lanes = [&](std::size_t i) { return mul(load(dy + i), to_float(load_widened(mask + i))); };
    std::size_t i = 0;
    for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
      const F a = lanes(i), b = lanes(i + kLanes), c = lanes(i + 2 * kLanes), d = lanes(i + 3 * kLanes);
      store(dx + i, a), store(dx + i + kLanes, b), store(dx + i + 2 * kLanes, c), store(dx + i + 3 * kLanes, d);
    }
    for (; i + kLanes <= n; i += kLanes) store(dx + i, lanes(i));
    if (i < n) store(dx + i, mul(load(dy + i, n - i), to_float(load_widened(mask + i, n - i))), n - i);
  }

  template <class Rule, class In, class Out, class Src>
  static void requantize(const In* x, Out* y, std::size_t n, Src src, const RequantizeArgs& args) {
    if (args.input_zero_point != 0)
      requantize_run<Rule, true>(x, y, n, src, args);
    else
      requantize_run<Rule, false>(x, y, n, src, args);
  }

  /// Packs n int4/uint4 values into elements [at, at + n) of a packed buffer,
  /// as eigenq::pack does: whole blocks here, the odd ends portably.
  template <class T>
  static void pack_nibbles(const typename T::Unpacked* v, std::uint8_t* packed, std::int64_t at, std::int64_t n) {
    std::int64_t i = 0;
    if (n > 0 && (at & 1)) pack_at<T>(packed, at, v[i++]);  // leading high nibble
    std::uint8_t* out = packed + ((at + i) >> 1);
    constexpr std::int64_t kBlock = 2 * kNibbleBytes;
    for (; i + kBlock <= n; i += kBlock, out += kNibbleBytes)
      pack_nibble_block(reinterpret_cast<const std::uint8_t*>(v + i), out);
    eigenq::pack<T>(v + i, packed, at + i, n - i);
  }

  /// Unpacks elements [at, at + n) of a packed buffer, as eigenq::unpack.
  template <class T>
  static void unpack_nibbles(const std::uint8_t* packed, std::int64_t at, std::int64_t n, typename T::Unpacked* v) {
    std::int64_t i = 0;
    if (n > 0 && (at & 1)) v[i++] = unpack_at<T>(packed, at);  // leading high nibble
    const std::uint8_t* in = packed + ((at + i) >> 1);
    constexpr std::int64_t kBlock = 2 * kNibbleBytes;
    for (; i + kBlock <= n; i += kBlock, in += kNibbleBytes)
      unpack_nibble_block<std::is_same_v<T, Int4>>(in, reinterpret_cast<std::uint8_t*>(v + i));
    eigenq::unpack<T>(packed, at + i, n - i, v + i);
  }

 private:
  template <class Rule, bool kZeroPoint, class In, class Out, class Src>
  static void requantize_run(const In* x, Out* y, std::size_t n, Src src, const RequantizeArgs& args) {
    const RequantLanes<Rule, Src> m(src);
    const RequantBounds b(args);
    const I zi = splat(args.input_zero_point);
    auto lanes = [&](std::size_t i) {
      return requantize_lanes<Rule>(input_lanes<kZeroPoint, In>(load_widened(x + i), zi), m.at(i), b);
    };
    std::size_t i = 0;
    for (; i + 4 * kLanes <= n; i += 4 * kLanes)
      store_narrowed(y + i, lanes(i), lanes(i + kLanes), lanes(i + 2 * kLanes), lanes(i + 3 * kLanes));
    for (; i + kLanes <= n; i += kLanes) store_narrowed(y + i, lanes(i));
    if (i < n) {
      const I d = input_lanes<kZeroPoint, In>(load_widened(x + i, n - i), zi);
      store_narrowed(y + i, requantize_lanes<Rule>(d, m.at(i, n - i), b), n - i);
    }
  }
};
