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
EIGENQ_ALWAYS_INLINE F factor_lanes(F scale) {
  if constexpr (std::is_same_v<Scaling, ScaleByReciprocal>)
    return div(splat(1.0f), scale);
  else
    return scale;
}

template <class Scaling>
EIGENQ_ALWAYS_INLINE F scaled(F x, F factor) {
  if constexpr (std::is_same_v<Scaling, ScaleByReciprocal>)
    return mul(x, factor);
  else
    return div(x, factor);
}

template <class Rounding>
EIGENQ_ALWAYS_INLINE F rounded(F v) {
  if constexpr (std::is_same_v<Rounding, RoundHalfEven>)
    return round_half_even(v);
  else if constexpr (std::is_same_v<Rounding, RoundHalfAway>)
    return round_half_away(v);
  else  // RoundHalfUp: floor(v + 0.5f) in float32, v (a product) rounded before the addition
    return floor(add(opaque(v), splat(0.5f)));
}

/// rounded() as int32, for lanes within the int32 range.
template <class Rounding>
EIGENQ_ALWAYS_INLINE I rounded_int(F v) {
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
EIGENQ_ALWAYS_INLINE bool is_wide(Range range) {
  return static_cast<std::int64_t>(range.qmax) - range.qmin > (std::int64_t{1} << 24);
}

/// The same lanes for every element of a span: a broadcast run, or one
/// block of a blocked run (its prepared parameter).
class SpanLanes {
 public:
  SpanLanes(float scale, float factor, float lo, float hi, std::int32_t zero_point)
      : lanes_{splat(scale), splat(factor), splat(lo), splat(hi), splat(zero_point)} {}
  const Lanes& at(std::size_t) const { return lanes_; }
  const Lanes& at(std::size_t, std::size_t) const { return lanes_; }

 private:
  Lanes lanes_;
};

/// Lanes loaded from aligned parameter arrays, the scaling factors among
/// them (prepared: the source's `factor` is not null).
class AlignedLanes {
 public:
  AlignedLanes(Aligned p, Range range) : p_(p), qmin_(splat(range.qmin)), qmax_(splat(range.qmax)) {}
  EIGENQ_ALWAYS_INLINE Lanes at(std::size_t i) const {
    return make(load(p_.scale + i), load(p_.factor + i), load(p_.zero_point + i));
  }
  // Lanes past n hold scale 0 and zero point 0; their results are discarded.
  EIGENQ_ALWAYS_INLINE Lanes at(std::size_t i, std::size_t n) const {
    return make(load(p_.scale + i, n), load(p_.factor + i, n), load(p_.zero_point + i, n));
  }

 private:
  EIGENQ_ALWAYS_INLINE Lanes make(F scale, F factor, I zero_point) const {
    return {scale, factor, to_float(sub(qmin_, zero_point)), to_float(sub(qmax_, zero_point)), zero_point};
  }
  Aligned p_;
  I qmin_, qmax_;
};

/// Lanes of a blocked run whose blocks are a power of two, at least two
/// vectors long, and start on a pair of vectors: each pair of vectors lies in
/// one block, whose parameter (prepared) is broadcast from the arrays once
/// per pair (lanes_of; once per block would save no more: measured). The
/// loop then runs across blocks without stopping at each.
class VectorBlockLanes {
 public:
  VectorBlockLanes(const Blocked& b, int shift) : b_(b), shift_(shift) {}
  EIGENQ_ALWAYS_INLINE Lanes at(std::size_t i) const {
    const std::size_t k = (static_cast<std::size_t>(b_.first) + i) >> shift_;
    return {splat(b_.scale[k]), splat(b_.prepared.factor[k]), splat(b_.prepared.lo[k]), splat(b_.prepared.hi[k]),
            splat(b_.zero_point[k])};
  }
  EIGENQ_ALWAYS_INLINE Lanes at(std::size_t i, std::size_t) const { return at(i); }

 private:
  Blocked b_;
  int shift_;
};

/// Lanes of a periodic run whose period is one, two or four vectors and
/// which starts at the beginning of a period: the period's lanes are made
/// once, four vectors' worth (repeated for shorter periods), and vector v of
/// the run takes lanes v % 4. The per-axis fastest axis of a few channels
/// (NHWC) then runs as a per-tensor loop, its parameters in registers.
class PeriodicLanes {
 public:
  PeriodicLanes(const AlignedLanes& row, std::size_t period)
      : l0_(row.at(0)),
        l1_(row.at(kLanes % period)),
        l2_(row.at(2 * kLanes % period)),
        l3_(row.at(3 * kLanes % period)) {}
  // Named lanes, chosen by value: an array indexed at run time would live in
  // memory, and GCC then copies it to the stack on every iteration.
  EIGENQ_ALWAYS_INLINE Lanes at(std::size_t i) const {
    switch (i / kLanes % 4) {
      case 0:
        return l0_;
      case 1:
        return l1_;
      case 2:
        return l2_;
      default:
        return l3_;
    }
  }
  EIGENQ_ALWAYS_INLINE Lanes at(std::size_t i, std::size_t) const { return at(i); }
  template <std::size_t k>
  EIGENQ_ALWAYS_INLINE const Lanes& vector() const {
    if constexpr (k == 0)
      return l0_;
    else if constexpr (k == 1)
      return l1_;
    else if constexpr (k == 2)
      return l2_;
    else
      return l3_;
  }

 private:
  Lanes l0_, l1_, l2_, l3_;
};

/// The lanes of vector k of the four at element i of a span, i a multiple of
/// 4 * kLanes (the four-vector loops ask this way, all four before their
/// stores): a periodic source answers from registers without an index, and
/// the vectors of a pair in one block ask for the same lanes (loaded once).
template <std::size_t k, class P>
EIGENQ_ALWAYS_INLINE decltype(auto) lanes_of(const P& p, std::size_t i) {
  if constexpr (std::is_same_v<P, PeriodicLanes>)
    return p.template vector<k>();
  else if constexpr (std::is_same_v<P, VectorBlockLanes>)
    return p.at(i + k / 2 * 2 * kLanes);
  else
    return p.at(i + k * kLanes);
}

/// log2(block) when a blocked run can be walked vector by vector
/// (VectorBlockLanes: blocks a power of two of at least two vectors, the run
/// starting on a pair of vectors), else -1.
EIGENQ_ALWAYS_INLINE int vector_block_shift(const Blocked& b) {
  const std::int64_t block = b.block, pair = static_cast<std::int64_t>(2 * kLanes);
  if (block < pair || (block & (block - 1)) != 0 || b.first % pair != 0) return -1;
  return log2_exact(static_cast<std::uint64_t>(block));  // once per run: a row of a group-wise scheme
}

/// Whether a periodic run's lanes fit in registers (PeriodicLanes): its
/// period one, two or four vectors, prepared, starting at its beginning.
EIGENQ_ALWAYS_INLINE bool periodic_in_registers(std::int64_t period) {
  const std::int64_t lanes = static_cast<std::int64_t>(kLanes);
  return period % lanes == 0 && (4 * lanes) % period == 0;
}
EIGENQ_ALWAYS_INLINE bool periodic_in_registers(const Periodic& p) {
  return p.first == 0 && p.row.factor != nullptr && periodic_in_registers(p.period);
}

/// Calls body(at, length, lanes) over a run of n elements in spans whose
/// lanes come from one source: the whole run for a broadcast, aligned
/// (unprepared: a chunk at a time) or periodic source (one that fits in
/// registers), and for a blocked one the whole run where VectorBlockLanes
/// can, else a block at a time.
/// `lanes.at(i)` gives the parameters of the vector at element i of the
/// span. Each kind of lanes calls body from one place: every call inlines a
/// copy of the span's loops.
template <class Scaling, class Src, class Body>
EIGENQ_ALWAYS_INLINE void for_each_span(Src src, std::size_t n, Range range, Body&& body) {
  if constexpr (std::is_same_v<Src, Broadcast>) {
    const std::int32_t zp = src.zero_point;
    body(std::size_t{0}, n,
         SpanLanes(src.scale, Scaling::factor(src.scale), static_cast<float>(std::int64_t{range.qmin} - zp),
                   static_cast<float>(std::int64_t{range.qmax} - zp), zp));
  } else if constexpr (std::is_same_v<Src, Periodic>) {
    // Only periods that fit come here (for_each_run, with_run): a fallback
    // would be one more copy of every span's loops.
    body(std::size_t{0}, n, PeriodicLanes(AlignedLanes(src.row, range), static_cast<std::size_t>(src.period)));
  } else if constexpr (std::is_same_v<Src, Aligned>) {
    constexpr std::size_t kChunk = 256;
    alignas(64) float factor[kChunk];
    const bool prepared = src.factor != nullptr;
    for (std::size_t at = 0; at < n;) {
      const std::size_t m = prepared ? n - at : std::min(kChunk, n - at);
      Aligned a = src.advanced(at);
      if (!prepared) {  // a caller's own arrays: the factors made a chunk at a time
        for (std::size_t k = 0; k < m; ++k) factor[k] = Scaling::factor(a.scale[k]);
        a.factor = factor;
      }
      body(at, m, AlignedLanes(a, range));
      at += m;
    }
  } else if (const int shift = vector_block_shift(src); shift >= 0) {
    body(std::size_t{0}, n, VectorBlockLanes(src, shift));
  } else {
    const PreparedParams& pp = src.prepared;
    for_each_block_param(src, n, [&](std::size_t at, std::size_t length, std::size_t k) EIGENQ_INLINE_LAMBDA {
      body(at, length, SpanLanes(src.scale[k], pp.factor[k], pp.lo[k], pp.hi[k], src.zero_point[k]));
    });
  }
}

// ---------------------------------------------------------------------------
// The operations on kLanes lanes

/// quantize() as int32 lanes.
template <class Q, class N>
EIGENQ_ALWAYS_INLINE I quantize_lanes(F x, const Lanes& l, const Wide& w) {
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
EIGENQ_ALWAYS_INLINE F dequantize_lanes(I q, const Lanes& l) {
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
EIGENQ_ALWAYS_INLINE FakeQuantized fake_quantize_lanes(F x, const Lanes& l, const Wide& w) {
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
EIGENQ_ALWAYS_INLINE void with_width(Range range, Fn&& fn) {
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
  EIGENQ_ALWAYS_INLINE I apply(I d) const {
    return rounding_divide_by_pot(rounding_doubling_high_mul(saturating_left_shift(d, left), multiplier), right);
  }
};

/// One rounding of the 64-bit product: half up, or ties away from zero.
template <bool kTiesAway>
struct SingleRoundingLanes {
  I multiplier, shift;
  SingleRoundingLanes(I m, I s, F) : multiplier(m), shift(s) {}
  EIGENQ_ALWAYS_INLINE I apply(I d) const { return rounding_multiply_shift<kTiesAway>(d, multiplier, shift); }
};

/// XNNPACK fp32: the float product; rounded in the kernel after clamping.
struct Fp32Lanes {
  F scale;
  Fp32Lanes(I, I, F s) : scale(s) {}
};

/// The multipliers of kLanes lanes as Rule uses them.
template <class Rule>
using RuleLanes =
    std::conditional_t<Rule::kind == RequantizeKind::kDoubleRounding, DoubleRoundingLanes,
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
  EIGENQ_ALWAYS_INLINE RuleLanes<Rule> at(std::size_t i) const {
    if constexpr (Rule::kFixedPoint)
      return {load(p_.multiplier + i), load(p_.shift + i), zero()};
    else
      return {splat(0), splat(0), load(p_.scale + i)};
  }
  EIGENQ_ALWAYS_INLINE RuleLanes<Rule> at(std::size_t i, std::size_t n) const {
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
EIGENQ_ALWAYS_INLINE I requantize_lanes(I d, const RuleLanes<Rule>& l, const RequantBounds& b) {
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
EIGENQ_ALWAYS_INLINE I input_lanes(I x, I zero_point) {
  if constexpr (!kZeroPoint)
    return x;
  else if constexpr (std::is_same_v<In, std::int32_t>)
    return saturating_sub(x, zero_point);
  else
    return sub(x, zero_point);
}

/// The output stage's additive term (requantize_rules.hpp's
/// requantize_offset) as lanes: none (plain requantization), one int32 for
/// the run, or an array aligned with it. The add wraps, as the reference's.
template <class Offset>
struct OffsetLanes;

template <>
struct OffsetLanes<std::nullptr_t> {
  explicit OffsetLanes(std::nullptr_t) {}
  EIGENQ_ALWAYS_INLINE I added(I x, std::size_t) const { return x; }
  EIGENQ_ALWAYS_INLINE I added(I x, std::size_t, std::size_t) const { return x; }
};

template <>
struct OffsetLanes<std::int32_t> {
  I offset;
  explicit OffsetLanes(std::int32_t o) : offset(splat(o)) {}
  EIGENQ_ALWAYS_INLINE I added(I x, std::size_t) const { return add(x, offset); }
  EIGENQ_ALWAYS_INLINE I added(I x, std::size_t, std::size_t) const { return add(x, offset); }
};

template <>
struct OffsetLanes<const std::int32_t*> {
  const std::int32_t* offset;
  explicit OffsetLanes(const std::int32_t* o) : offset(o) {}
  EIGENQ_ALWAYS_INLINE I added(I x, std::size_t i) const { return add(x, load(offset + i)); }
  EIGENQ_ALWAYS_INLINE I added(I x, std::size_t i, std::size_t n) const { return add(x, load(offset + i, n)); }
};

// ---------------------------------------------------------------------------
// The run kernels

// The run bodies. They are inlined into whatever calls them in this path
// (TensorOps: its loops over runs and its run-level entry points), so that a
// loop over many short runs makes no call per run.
struct RunOps {
  using Portable = scalar::RunOps;

  template <class Q, class N, class Src>
  EIGENQ_ALWAYS_INLINE static void quantize(const float* x, Q* q, std::size_t n, Src src, Range range) {
    if constexpr (!kVectorized<N>) {
      Portable::quantize<Q, N>(x, q, n, src, range);
    } else {
      const Wide w(range);
      for_each_span<typename N::Scaling>(src, n, range,
                                         [=](std::size_t at, std::size_t length, const auto& p) EIGENQ_INLINE_LAMBDA {
                                           quantize_span<Q, N>(x + at, q + at, length, p, w, range);
                                         });
    }
  }

  template <class Q, class Src>
  EIGENQ_ALWAYS_INLINE static void dequantize(const Q* q, float* y, std::size_t n, Src src) {
    for_each_span<ScaleByDivision>(src, n, Range{},
                                   [=](std::size_t at, std::size_t length, const auto& p)
                                       EIGENQ_INLINE_LAMBDA { dequantize_span<Q>(q + at, y + at, length, p); });
  }

  /// y may alias x: every vector is loaded before its store.
  template <class N, class Src>
  EIGENQ_ALWAYS_INLINE static void fake_quantize(const float* x, float* y, std::size_t n, Src src, Range range) {
    if constexpr (!kVectorized<N>) {
      Portable::fake_quantize<N>(x, y, n, src, range);
    } else {
      with_width(range, [=](auto wide) EIGENQ_INLINE_LAMBDA {
        const Wide w(range);
        for_each_span<typename N::Scaling>(src, n, range,
                                           [=](std::size_t at, std::size_t length, const auto& p) EIGENQ_INLINE_LAMBDA {
                                             fake_quantize_span<N, decltype(wide)::value>(x + at, y + at, length, p, w);
                                           });
      });
    }
  }

  /// y = fake_quantize(x) and mask = ste_mask(x) as 0/1 bytes; y may alias x.
  template <class N, class Src>
  EIGENQ_ALWAYS_INLINE static void fake_quantize_mask(const float* x, float* y, std::uint8_t* mask, std::size_t n,
                                                      Src src, Range range) {
    if constexpr (!kVectorized<N>) {
      Portable::fake_quantize_mask<N>(x, y, mask, n, src, range);
    } else {
      with_width(range, [=](auto wide) EIGENQ_INLINE_LAMBDA {
        const Wide w(range);
        for_each_span<typename N::Scaling>(
            src, n, range, [=](std::size_t at, std::size_t length, const auto& p) EIGENQ_INLINE_LAMBDA {
              fake_quantize_mask_span<N, decltype(wide)::value>(x + at, y + at, mask + at, length, p, w);
            });
      });
    }
  }

  /// dx = dy * ste_mask(x), a multiply as the reference does; dx may alias dy.
  template <class N, class Src>
  EIGENQ_ALWAYS_INLINE static void ste_backward(const float* x, const float* dy, float* dx, std::size_t n, Src src,
                                                Range range) {
    if constexpr (!kVectorized<N>) {
      Portable::ste_backward<N>(x, dy, dx, n, src, range);
    } else {
      with_width(range, [=](auto wide) EIGENQ_INLINE_LAMBDA {
        const Wide w(range);
        for_each_span<typename N::Scaling>(
            src, n, range, [=](std::size_t at, std::size_t length, const auto& p) EIGENQ_INLINE_LAMBDA {
              ste_backward_span<N, decltype(wide)::value>(x + at, dy + at, dx + at, length, p, w);
            });
      });
    }
  }

  /// dx = dy * mask for mask bytes (any value, normally 0 or 1).
  EIGENQ_ALWAYS_INLINE static void ste_backward_masked(const std::uint8_t* mask, const float* dy, float* dx,
                                                       std::size_t n) {
    auto lanes = [&](std::size_t i)
                     EIGENQ_INLINE_LAMBDA { return mul(load(dy + i), to_float(load_widened(mask + i))); };
    std::size_t i = 0;
    for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
      const F a = lanes(i), b = lanes(i + kLanes), c = lanes(i + 2 * kLanes), d = lanes(i + 3 * kLanes);
      store(dx + i, a), store(dx + i + kLanes, b), store(dx + i + 2 * kLanes, c), store(dx + i + 3 * kLanes, d);
    }
    for (; i + kLanes <= n; i += kLanes) store(dx + i, lanes(i));
    if (i < n) store(dx + i, mul(load(dy + i, n - i), to_float(load_widened(mask + i, n - i))), n - i);
  }

  // Not forced inline: requantization runs are long (a channel or a row of
  // accumulators), and each rule x type x source is a large body.
  template <class Rule, class In, class Out, class Src>
  static void requantize(const In* x, Out* y, std::size_t n, Src src, const RequantizeArgs& args) {
    if (args.input_zero_point != 0)
      requantize_run<Rule, true>(x, y, n, src, args);
    else
      requantize_run<Rule, false>(x, y, n, src, args);
  }

  /// The fused output stage: requantize(x + offset), the add wrapping, with
  /// the requantization run's body (int32 accumulators only).
  template <class Rule, class Out, class Src>
  static void requantize_offset(const std::int32_t* x, Out* y, std::size_t n, Src src, RequantOffset<Src> offset,
                                const RequantizeArgs& args) {
    RequantizeArgs a = args;
    a.input_zero_point = 0;
    requantize_run<Rule, false>(x, y, n, src, a, offset);
  }

  /// Packs n int4/uint4 values into elements [at, at + n) of a packed buffer,
  /// as eigenq::pack does: whole blocks here, the odd ends portably.
  template <class T>
  EIGENQ_ALWAYS_INLINE static void pack_nibbles(const typename T::Unpacked* v, std::uint8_t* packed, std::int64_t at,
                                                std::int64_t n) {
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
  EIGENQ_ALWAYS_INLINE static void unpack_nibbles(const std::uint8_t* packed, std::int64_t at, std::int64_t n,
                                                  typename T::Unpacked* v) {
    std::int64_t i = 0;
    if (n > 0 && (at & 1)) v[i++] = unpack_at<T>(packed, at);  // leading high nibble
    const std::uint8_t* in = packed + ((at + i) >> 1);
    constexpr std::int64_t kBlock = 2 * kNibbleBytes;
    for (; i + kBlock <= n; i += kBlock, in += kNibbleBytes)
      unpack_nibble_block<std::is_same_v<T, Int4>>(in, reinterpret_cast<std::uint8_t*>(v + i));
    eigenq::unpack<T>(packed, at + i, n - i, v + i);
  }

 private:
  // The spans: a stretch of a run whose lanes come from p (see for_each_span).

  template <class Q, class N, class P>
  EIGENQ_ALWAYS_INLINE static void quantize_span(const float* x, Q* q, std::size_t n, const P& p, const Wide& w,
                                                 Range range) {
    if constexpr (sizeof(Q) == 1) {
      quantize_bytes_span<Q, N>(x, q, n, p, range);
      return;
    }
    std::size_t i = 0;
    for (; i + 4 * kLanes <= n; i += 4 * kLanes)
      store_narrowed(q + i, quantize_lanes<Q, N>(load(x + i), lanes_of<0>(p, i), w),
                     quantize_lanes<Q, N>(load(x + i + kLanes), lanes_of<1>(p, i), w),
                     quantize_lanes<Q, N>(load(x + i + 2 * kLanes), lanes_of<2>(p, i), w),
                     quantize_lanes<Q, N>(load(x + i + 3 * kLanes), lanes_of<3>(p, i), w));
    for (; i + kLanes <= n; i += kLanes) store_narrowed(q + i, quantize_lanes<Q, N>(load(x + i), p.at(i), w));
    if (i < n) store_narrowed(q + i, quantize_lanes<Q, N>(load(x + i, n - i), p.at(i, n - i), w), n - i);
  }

  // Bytes: rounded first, capped above so the conversion stays in range
  // (NaN and what lies below the int32 range convert to INT_MIN), then the
  // zero points added and the range applied in saturating 16-bit steps
  // (store_quantized: zero points lie in the byte range, so nothing wraps);
  // with one zero point for the span its packing is hoisted out of the loop.
  template <class Q, class N, class P>
  EIGENQ_ALWAYS_INLINE static void quantize_bytes_span(const float* x, Q* q, std::size_t n, const P& p, Range range) {
    const F limit = splat(65536.0f);
    auto rounded_lanes = [&](F v, const Lanes& l) EIGENQ_INLINE_LAMBDA {
      return rounded_int<typename N::Rounding>(cap(limit, scaled<typename N::Scaling>(v, l.factor)));
    };
    std::size_t i = 0;
    for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
      const Lanes a = lanes_of<0>(p, i), b = lanes_of<1>(p, i), c = lanes_of<2>(p, i), d = lanes_of<3>(p, i);
      const F xa = load(x + i), xb = load(x + i + kLanes), xc = load(x + i + 2 * kLanes), xd = load(x + i + 3 * kLanes);
      store_quantized(q + i, rounded_lanes(xa, a), rounded_lanes(xb, b), rounded_lanes(xc, c), rounded_lanes(xd, d),
                      a.zero_point, b.zero_point, c.zero_point, d.zero_point, range);
    }
    for (; i + kLanes <= n; i += kLanes) {
      const Lanes a = p.at(i);
      store_quantized(q + i, rounded_lanes(load(x + i), a), a.zero_point, range);
    }
    if (i < n) {
      const Lanes a = p.at(i, n - i);
      store_quantized(q + i, rounded_lanes(load(x + i, n - i), a), a.zero_point, range, n - i);
    }
  }

  template <class Q, class P>
  EIGENQ_ALWAYS_INLINE static void dequantize_span(const Q* q, float* y, std::size_t n, const P& p) {
    std::size_t i = 0;
    for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
      const F a = dequantize_lanes<Q>(load_widened(q + i), lanes_of<0>(p, i));
      const F b = dequantize_lanes<Q>(load_widened(q + i + kLanes), lanes_of<1>(p, i));
      const F c = dequantize_lanes<Q>(load_widened(q + i + 2 * kLanes), lanes_of<2>(p, i));
      const F d = dequantize_lanes<Q>(load_widened(q + i + 3 * kLanes), lanes_of<3>(p, i));
      store(y + i, a), store(y + i + kLanes, b), store(y + i + 2 * kLanes, c), store(y + i + 3 * kLanes, d);
    }
    for (; i + kLanes <= n; i += kLanes) store(y + i, dequantize_lanes<Q>(load_widened(q + i), p.at(i)));
    if (i < n) store(y + i, dequantize_lanes<Q>(load_widened(q + i, n - i), p.at(i, n - i)), n - i);
  }

  template <class N, bool kWide, class P>
  EIGENQ_ALWAYS_INLINE static void fake_quantize_span(const float* x, float* y, std::size_t n, const P& p,
                                                      const Wide& w) {
    std::size_t i = 0;
    for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
      const F a = fake_quantize_lanes<N, kWide>(load(x + i), lanes_of<0>(p, i), w).y;
      const F b = fake_quantize_lanes<N, kWide>(load(x + i + kLanes), lanes_of<1>(p, i), w).y;
      const F c = fake_quantize_lanes<N, kWide>(load(x + i + 2 * kLanes), lanes_of<2>(p, i), w).y;
      const F d = fake_quantize_lanes<N, kWide>(load(x + i + 3 * kLanes), lanes_of<3>(p, i), w).y;
      store(y + i, a), store(y + i + kLanes, b), store(y + i + 2 * kLanes, c), store(y + i + 3 * kLanes, d);
    }
    for (; i + kLanes <= n; i += kLanes) store(y + i, fake_quantize_lanes<N, kWide>(load(x + i), p.at(i), w).y);
    if (i < n) store(y + i, fake_quantize_lanes<N, kWide>(load(x + i, n - i), p.at(i, n - i), w).y, n - i);
  }

  template <class N, bool kWide, class P>
  EIGENQ_ALWAYS_INLINE static void fake_quantize_mask_span(const float* x, float* y, std::uint8_t* mask, std::size_t n,
                                                           const P& p, const Wide& w) {
    std::size_t i = 0;
    for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
      const FakeQuantized a = fake_quantize_lanes<N, kWide>(load(x + i), lanes_of<0>(p, i), w);
      const FakeQuantized b = fake_quantize_lanes<N, kWide>(load(x + i + kLanes), lanes_of<1>(p, i), w);
      const FakeQuantized c = fake_quantize_lanes<N, kWide>(load(x + i + 2 * kLanes), lanes_of<2>(p, i), w);
      const FakeQuantized d = fake_quantize_lanes<N, kWide>(load(x + i + 3 * kLanes), lanes_of<3>(p, i), w);
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
  }

  template <class N, bool kWide, class P>
  EIGENQ_ALWAYS_INLINE static void ste_backward_span(const float* x, const float* dy, float* dx, std::size_t n,
                                                     const P& p, const Wide& w) {
    auto masked = [&](std::size_t i, const Lanes& l) EIGENQ_INLINE_LAMBDA {
      return mul(load(dy + i), one_where(fake_quantize_lanes<N, kWide>(load(x + i), l, w).mask));
    };
    std::size_t i = 0;
    for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
      const F a = masked(i, lanes_of<0>(p, i)), b = masked(i + kLanes, lanes_of<1>(p, i));
      const F c = masked(i + 2 * kLanes, lanes_of<2>(p, i)), d = masked(i + 3 * kLanes, lanes_of<3>(p, i));
      store(dx + i, a), store(dx + i + kLanes, b), store(dx + i + 2 * kLanes, c), store(dx + i + 3 * kLanes, d);
    }
    for (; i + kLanes <= n; i += kLanes) store(dx + i, masked(i, p.at(i)));
    if (i < n) {
      const F m = one_where(fake_quantize_lanes<N, kWide>(load(x + i, n - i), p.at(i, n - i), w).mask);
      store(dx + i, mul(load(dy + i, n - i), m), n - i);
    }
  }

  // `offset` (the output stage's) is added after the input zero point is
  // subtracted; the output stage has none.
  template <class Rule, bool kZeroPoint, class In, class Out, class Src, class Offset = std::nullptr_t>
  EIGENQ_NOINLINE static void requantize_run(const In* x, Out* y, std::size_t n, Src src, const RequantizeArgs& args,
                                             Offset offset = nullptr) {
    const RequantLanes<Rule, Src> m(src);
    const RequantBounds b(args);
    const OffsetLanes<Offset> o(offset);
    const I zi = splat(args.input_zero_point);
    auto lanes = [&](std::size_t i) EIGENQ_INLINE_LAMBDA {
      return requantize_lanes<Rule>(o.added(input_lanes<kZeroPoint, In>(load_widened(x + i), zi), i), m.at(i), b);
    };
    std::size_t i = 0;
    for (; i + 4 * kLanes <= n; i += 4 * kLanes)
      store_narrowed(y + i, lanes(i), lanes(i + kLanes), lanes(i + 2 * kLanes), lanes(i + 3 * kLanes));
    for (; i + kLanes <= n; i += kLanes) store_narrowed(y + i, lanes(i));
    if (i < n) {
      const I d = o.added(input_lanes<kZeroPoint, In>(load_widened(x + i, n - i), zi), i, n - i);
      store_narrowed(y + i, requantize_lanes<Rule>(d, m.at(i, n - i), b), n - i);
    }
  }
};
