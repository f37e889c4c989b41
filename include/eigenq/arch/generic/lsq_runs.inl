// LSQ's run kernels, written once over the primitives of the enclosing
// namespace, after runs.inl (whose policies per lane, `Lanes` and `Wide` they
// use). Each computes what the portable loop of arch/lsq_scalar.hpp
// computes, kLanes elements at a time, and sums a run's terms in its order:
// partial sum j of kLsqPartialSums is lane j % kLanes of accumulator
// j / kLanes, and the accumulators are added by halving, then their lanes.

// ---------------------------------------------------------------------------
// Parameters and terms of kLanes elements

/// One parameter's lanes, as a broadcast run uses them.
template <class Scaling>
EIGENQ_ALWAYS_INLINE Lanes lsq_lanes(Broadcast p, Range range) {
  return {splat(p.scale), splat(Scaling::factor(p.scale)),
          splat(static_cast<float>(std::int64_t{range.qmin} - p.zero_point)),
          splat(static_cast<float>(std::int64_t{range.qmax} - p.zero_point)), splat(p.zero_point)};
}

/// Aligned parameters' lanes. lo and hi wrap for ranges wider than int32
/// differences (`is_wide`), where only the zero point is used.
template <class Scaling>
EIGENQ_ALWAYS_INLINE Lanes lsq_lanes(F scale, I zero_point, Range range) {
  return {scale, factor_lanes<Scaling>(scale), to_float(sub(splat(range.qmin), zero_point)),
          to_float(sub(splat(range.qmax), zero_point)), zero_point};
}

/// lsq_gradients() of kLanes lanes.
struct LsqGradientLanes {
  F dx, dscale, dzero_point;
};

template <class N, bool kWide>
EIGENQ_ALWAYS_INLINE LsqGradientLanes lsq_gradient_lanes(F x, F dy, const Lanes& l, const Wide& w, F g) {
  using Scaling = typename N::Scaling;
  const F r = rounded<typename N::Rounding>(scaled<Scaling>(x, l.factor));
  // level: r clamped to [qmin - z, qmax - z] (NaN to the lower bound), which
  // is q - z of y inside the range and the bound's term outside it.
  F level;
  M inside;
  if constexpr (!kWide) {
    level = add(clamp(r, l.lo, l.hi), zero());  // + 0.0f: a clamped -0.0f becomes +0.0f, as through an integer
    inside = both(ge(r, l.lo), le(r, l.hi));
  } else {  // the bounds in double, as fake_quantize_lanes; the bound's term rounded to float as the reference's
    const D z = widen(l.zero_point), v = add(widen(r), z);
    level = narrow(sub(clamp(v, w.lo, w.hi), z));
    inside = in_range(v, w.lo, w.hi);
  }
  const F y = opaque(mul(level, l.scale));  // rounded before y - x, as the reference
  const F dscale = select(inside, scaled<Scaling>(mul(dy, sub(y, x)), l.factor), mul(dy, level));
  // dy * -scale is the reference's (dy * -1) * scale: negating is exact and rounding symmetric.
  const F dzero_point = mul(mul(dy, mul(l.scale, splat(-1.0f))), g);
  return {mul(dy, one_where(inside)), mul(dscale, g), select(inside, zero(), dzero_point)};
}

/// Calls fn(std::integral_constant<std::size_t, A>{}) for A = 0 .. kCount - 1,
/// unrolled: accumulator arrays indexed by constants stay in registers.
template <class Fn, std::size_t... A>
EIGENQ_ALWAYS_INLINE void for_each_constant(Fn&& fn, std::index_sequence<A...>) {
  (fn(std::integral_constant<std::size_t, A>{}), ...);
}
template <std::size_t kCount, class Fn>
EIGENQ_ALWAYS_INLINE void for_each_constant(Fn&& fn) {
  for_each_constant(fn, std::make_index_sequence<kCount>{});
}

// ---------------------------------------------------------------------------
// The run kernels

struct LsqRunOps {
  using Portable = scalar::LsqRunOps;

  template <class N>
  static LsqSums lsq_backward_sum(const float* x, const float* dy, float* dx, std::size_t n, Broadcast src, Range range,
                                  float g) {
    if constexpr (!kVectorized<N>) {
      return Portable::lsq_backward_sum<N>(x, dy, dx, n, src, range, g);
    } else {
      LsqSums sums;
      with_width(range, [&](auto wide) {
        sums = sum_run<N, decltype(wide)::value>(x, dy, dx, n, lsq_lanes<typename N::Scaling>(src, range), Wide(range),
                                                 splat(g));
      });
      return sums;
    }
  }

  template <class N>
  static void lsq_backward_accumulate(const float* x, const float* dy, float* dx, double* dscale, double* dzero_point,
                                      std::size_t n, Aligned src, Range range, float g) {
    if constexpr (!kVectorized<N>) {
      Portable::lsq_backward_accumulate<N>(x, dy, dx, dscale, dzero_point, n, src, range, g);
    } else {
      aligned_run<N>(
          x, dy, dx, n, src, range, g,
          [=](std::size_t i, const LsqGradientLanes& t) {
            store(dscale + i, add(load(dscale + i), widen(t.dscale)));
            store(dzero_point + i, add(load(dzero_point + i), widen(t.dzero_point)));
          },
          [=](std::size_t i, const LsqGradientLanes& t, std::size_t m) {
            store(dscale + i, add(load(dscale + i, m), widen(t.dscale)), m);
            store(dzero_point + i, add(load(dzero_point + i, m), widen(t.dzero_point)), m);
          });
    }
  }

  template <class N>
  static void lsq_backward_terms(const float* x, const float* dy, float* dx, float* dscale, float* dzero_point,
                                 std::size_t n, Aligned src, Range range, float g) {
    if constexpr (!kVectorized<N>) {
      Portable::lsq_backward_terms<N>(x, dy, dx, dscale, dzero_point, n, src, range, g);
    } else {
      aligned_run<N>(
          x, dy, dx, n, src, range, g,
          [=](std::size_t i, const LsqGradientLanes& t) {
            store(dscale + i, t.dscale), store(dzero_point + i, t.dzero_point);
          },
          [=](std::size_t i, const LsqGradientLanes& t, std::size_t m) {
            store(dscale + i, t.dscale, m), store(dzero_point + i, t.dzero_point, m);
          });
    }
  }

 private:
  static_assert(kLsqPartialSums % kLanes == 0, "the partial sums must be whole vectors");
  static constexpr std::size_t kAccumulators = kLsqPartialSums / kLanes;
  using Accumulators = std::array<D, kAccumulators>;

  // Accumulators a and a + h added for h = kAccumulators / 2, ..., 1: the
  // reference's first halvings; halving_sum does the rest within a vector.
  template <std::size_t kCount>
  EIGENQ_ALWAYS_INLINE static D halved(const std::array<D, kCount>& v) {
    if constexpr (kCount == 1) {
      return v[0];
    } else {
      std::array<D, kCount / 2> h;
      for_each_constant<kCount / 2>([&](auto j) { h[j] = add(v[j], v[j + kCount / 2]); });
      return halved(h);
    }
  }

  template <class N, bool kWide>
  EIGENQ_ALWAYS_INLINE static LsqSums sum_run(const float* x, const float* dy, float* dx, std::size_t n, const Lanes& l,
                                              const Wide& w, F g) {
    Accumulators ds, dz;
    for_each_constant<kAccumulators>([&](auto a) { ds[a] = dz[a] = splat_wide(0.0); });
    // Vector a of each kLsqPartialSums elements into accumulator a.
    auto step = [&](std::size_t i, auto a) {
      const LsqGradientLanes t = lsq_gradient_lanes<N, kWide>(load(x + i), load(dy + i), l, w, g);
      store(dx + i, t.dx);
      ds[a] = add(ds[a], widen(t.dscale));
      dz[a] = add(dz[a], widen(t.dzero_point));
    };
    std::size_t i = 0;
    for (; i + kLsqPartialSums <= n; i += kLsqPartialSums)
      for_each_constant<kAccumulators>([&](auto a) { step(i + a * kLanes, a); });
    for_each_constant<kAccumulators>([&](auto a) {
      const std::size_t at = i + a * kLanes;
      if (at + kLanes <= n) {
        step(at, a);
      } else if (at < n) {
        // Lanes past n add +0.0 (their terms are 0 * g, NaN for an infinite
        // g), which changes no partial sum: none is -0.0.
        const std::size_t m = n - at;
        const LsqGradientLanes t = lsq_gradient_lanes<N, kWide>(load(x + at, m), load(dy + at, m), l, w, g);
        store(dx + at, t.dx, m);
        const M valid = first_lanes(m);
        ds[a] = add(ds[a], widen(select(valid, t.dscale, zero())));
        dz[a] = add(dz[a], widen(select(valid, t.dzero_point, zero())));
      }
    });
    return {halving_sum(halved(ds)), halving_sum(halved(dz))};
  }

  // Calls whole(i, terms) for each whole vector of an aligned run and
  // part(i, terms, m) for its last m < kLanes elements.
  template <class N, class Whole, class Part>
  static void aligned_run(const float* x, const float* dy, float* dx, std::size_t n, Aligned src, Range range, float g,
                          Whole&& whole, Part&& part) {
    using Scaling = typename N::Scaling;
    with_width(range, [&](auto wide) {
      constexpr bool kWide = decltype(wide)::value;
      const Wide w(range);
      const F gv = splat(g);
      std::size_t i = 0;
      for (; i + kLanes <= n; i += kLanes) {
        const Lanes l = lsq_lanes<Scaling>(load(src.scale + i), load(src.zero_point + i), range);
        const LsqGradientLanes t = lsq_gradient_lanes<N, kWide>(load(x + i), load(dy + i), l, w, gv);
        store(dx + i, t.dx);
        whole(i, t);
      }
      if (i < n) {  // lanes past n hold scale 0 and zero point 0; their results are not stored
        const std::size_t m = n - i;
        const Lanes l = lsq_lanes<Scaling>(load(src.scale + i, m), load(src.zero_point + i, m), range);
        const LsqGradientLanes t = lsq_gradient_lanes<N, kWide>(load(x + i, m), load(dy + i, m), l, w, gv);
        store(dx + i, t.dx, m);
        part(i, t, m);
      }
    });
  }
};
