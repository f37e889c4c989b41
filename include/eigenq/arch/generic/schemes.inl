// The loops that cut a scheme into kernel runs (the parameter sources are in
// runs.hpp), included once per path inside its namespace and target region,
// so that a path's run bodies inline into its own loops. Not a header of its
// own.

/// Calls fn(offset, length, k) for each block a blocked run of n elements
/// spans: elements [offset, offset + length) of the run use parameter k.
template <class Fn>
EIGENQ_ALWAYS_INLINE void for_each_block_param(const Blocked& src, std::size_t n, Fn&& fn) {
  const std::size_t block = static_cast<std::size_t>(src.block);
  std::size_t k = static_cast<std::size_t>(src.first / src.block);
  std::size_t into = static_cast<std::size_t>(src.first % src.block);
  for (std::size_t at = 0; at < n; ++k, into = 0) {
    const std::size_t length = std::min(n - at, block - into);
    fn(at, length, k);
    at += length;
  }
}

/// Calls fn(offset, length, aligned) over a periodic run of n elements, once
/// per stretch within one period: from the run's place in its period to the
/// period's end, then whole periods.
template <class Fn>
EIGENQ_ALWAYS_INLINE void for_each_period(const Periodic& src, std::size_t n, Fn&& fn) {
  const std::size_t period = static_cast<std::size_t>(src.period);
  std::size_t into = static_cast<std::size_t>(src.first);
  for (std::size_t at = 0; at < n; into = 0) {
    const std::size_t length = std::min(n - at, period - into);
    fn(at, length, src.row.advanced(into));
    at += length;
  }
}

/// The sources for_each_block cuts into simpler ones.
template <class Src>
constexpr bool kSplitPerBlock = std::is_same_v<Src, Blocked> || std::is_same_v<Src, Periodic>;

/// Calls fn(offset, length, source) over a run of n elements: once with the
/// run's own source; for a blocked source, once per block with that block's
/// parameter as a `Broadcast`; for a periodic one, once per period as
/// `Aligned` (what a loop element by element wants).
template <class Src, class Fn>
EIGENQ_ALWAYS_INLINE void for_each_block(Src src, std::size_t n, Fn&& fn) {
  if constexpr (std::is_same_v<Src, Blocked>)
    for_each_block_param(src, n, [&](std::size_t at, std::size_t length, std::size_t k) EIGENQ_INLINE_LAMBDA {
      fn(at, length, Broadcast{src.scale[k], src.zero_point[k]});
    });
  else if constexpr (std::is_same_v<Src, Periodic>)
    for_each_period(src, n, fn);
  else
    fn(std::size_t{0}, n, src);
}

/// Calls fn(offset, length, source) with a run as the span kernels take it
/// (the run entry points): a periodic run whose period does not fit in
/// registers, or that starts within a period, cut into aligned rows.
template <class Src, class Fn>
EIGENQ_ALWAYS_INLINE void with_run(Src src, std::size_t n, Fn&& fn) {
  if constexpr (std::is_same_v<Src, Periodic>) {
    if (!periodic_in_registers(src)) {
      for_each_period(src, n, fn);
      return;
    }
  }
  fn(std::size_t{0}, n, src);
}

/// Per-axis runs of fewer than kShortRun elements per parameter (a step of
/// a few elements along the axis, or a fastest axis of a few channels),
/// merged into aligned runs: calls fn(offset, length, expanded) over chunks
/// of at most kExpandedLength elements, after set(j, c) has made entry j of
/// the stack arrays behind `expanded` parameter c (the channel of element j
/// of the chunk).
template <class Set, class Src, class Fn>
EIGENQ_ALWAYS_INLINE void for_each_expanded_run(const ResolvedParams& r, Set&& set, Src expanded, Fn&& fn) {
  const std::int64_t C = r.channels, inner = r.inner, slab = C * inner;
  // Entries for slab positions [from, from + length): the channel by
  // counting, not by a division per entry (which cost more than the kernel).
  auto fill = [&](std::int64_t from, std::int64_t length) EIGENQ_INLINE_LAMBDA {
    std::int64_t c = from % slab / inner, step = from % inner;  // channel, step along it
    for (std::int64_t k = 0; k < length; ++k) {
      set(k, c);
      if (++step == inner) step = 0, c = c + 1 == C ? 0 : c + 1;
    }
  };
  if (slab <= kExpandedLength) {  // whole periods fit: fill once, sweep the tensor
    const std::int64_t chunk = kExpandedLength / slab * slab, total = r.outer * slab;
    fill(0, std::min(chunk, total));
    for (std::int64_t at = 0; at < total; at += chunk) fn(at, std::min(chunk, total - at), expanded);
    return;
  }
  for (std::int64_t o = 0; o < r.outer; ++o)
    for (std::int64_t j = 0; j < slab; j += kExpandedLength) {
      const std::int64_t length = std::min(kExpandedLength, slab - j);
      fill(j, length);
      fn(o * slab + j, length, expanded);
    }
}

/// Calls fn(offset, length, source) for every run of a scheme whose
/// parameters are plain arrays, the float zero points and minifloat scales
/// (`Params`: `broadcast(k)`, parameter k as one source for a whole run;
/// `aligned(k)`, the arrays from parameter k on; an `Expanded` stack copy;
/// where `kSteps`, `stepped(k, shift)`, parameters k on stepping every
/// 2^shift elements).
/// The walk of for_each_run without prepared parameters: per axis, a
/// broadcast run per channel, an aligned run per row when the axis is the
/// fastest, short runs expanded; blocked along the fastest axis, one
/// stepped run per row where the blocks are a power of two of at least
/// kWidestVector, else a broadcast run per block inside this loop (no call
/// per block); blocked along another axis, an aligned run per step along it.
template <class Params, class Fn>
EIGENQ_ALWAYS_INLINE void for_each_array_run(const ResolvedParams& r, const Params& p, Fn&& fn) {
  const std::int64_t C = r.channels, inner = r.inner;
  if (C * inner == 0 || r.outer == 0) return;
  switch (r.params.granularity) {
    case Granularity::kPerTensor:
      fn(std::int64_t{0}, inner, p.broadcast(0));
      return;
    case Granularity::kPerElement:
      fn(std::int64_t{0}, C, p.aligned(0));
      return;
    case Granularity::kPerAxis:
      if (inner >= kShortRun) {
        for (std::int64_t o = 0; o < r.outer; ++o)
          for (std::int64_t c = 0; c < C; ++c) fn((o * C + c) * inner, inner, p.broadcast(c));
        return;
      }
      if (inner == 1 && C >= kShortRun) {
        for (std::int64_t o = 0; o < r.outer; ++o) fn(o * C, C, p.aligned(0));
        return;
      }
      break;  // short runs: expanded below
    case Granularity::kBlocked: {
      const std::int64_t B = r.params.block_size, nb = r.blocks;
      // B = 2^shift, a multiple of every vector: one run per row (SteppedScales)
      const bool stepped = Params::kSteps && inner == 1 && B >= kWidestVector && (B & (B - 1)) == 0;
      const int shift = stepped ? log2_exact(static_cast<std::uint64_t>(B)) : 0;
      for (std::int64_t o = 0; o < r.outer; ++o) {
        if (stepped) {
          if constexpr (Params::kSteps) fn(o * C, C, p.stepped(o * nb, shift));
        } else if (inner == 1) {  // blocks are contiguous along the row
          for (std::int64_t b = 0; b < nb; ++b) fn(o * C + b * B, std::min(B, C - b * B), p.broadcast(o * nb + b));
        } else {  // each step along the axis is aligned with a row of parameters
          for (std::int64_t c = 0; c < C; ++c) fn((o * C + c) * inner, inner, p.aligned((o * nb + c / B) * inner));
        }
      }
      return;
    }
  }
  typename Params::Expanded expanded;
  for_each_expanded_run(
      r, [&](std::int64_t j, std::int64_t c) EIGENQ_INLINE_LAMBDA { expanded.set(j, p, c); }, expanded.source(), fn);
}

/// Calls fn(offset, length, source) for every run, where source is the
/// `Broadcast`, `Aligned`, `Blocked` or `Periodic` parameters of the run:
/// what the elementwise kernels take. Needs prepared parameters
/// (`ResolvedParams::prepared`): per tensor, one broadcast run; per element,
/// one aligned run; per axis, one blocked run (a parameter per `inner`
/// elements) per outer index, or when the axis is the fastest one periodic
/// run (a row of parameters, over and over) where the path holds a row in
/// registers, else an aligned run per row; blocked along the fastest axis,
/// one blocked run for the tensor when its rows are whole blocks (or one
/// block each), else one per row; blocked along another axis, an aligned
/// run per step along it. Per-axis steps shorter than kShortBlockedStep, or
/// a fastest axis of fewer than kShortRun channels, are merged into aligned
/// runs over a stack buffer of parameters expanded to element granularity.
template <class Fn>
EIGENQ_ALWAYS_INLINE void for_each_run(const ResolvedParams& r, Fn&& fn) {
  const QParamsView& p = r.params;
  const PreparedParams& pp = r.prepared;
  const std::int64_t C = r.channels, inner = r.inner, slab = C * inner;
  if (slab == 0 || r.outer == 0) return;
  switch (p.granularity) {
    case Granularity::kPerTensor:
      fn(std::int64_t{0}, inner, Broadcast{p.scale[0], p.zero_point[0]});
      return;
    case Granularity::kPerElement:
      fn(std::int64_t{0}, C, Aligned{p.scale, p.zero_point, pp.factor});
      return;
    case Granularity::kPerAxis:
      if (inner >= kShortBlockedStep) {
        for (std::int64_t o = 0; o < r.outer; ++o) fn(o * slab, slab, Blocked{p.scale, p.zero_point, pp, inner});
        return;
      }
      if (inner == 1 && C >= kShortRun) {
        const Aligned row{p.scale, p.zero_point, pp.factor};
        if (periodic_in_registers(C)) {
          fn(std::int64_t{0}, r.outer * C, Periodic{row, C});
        } else {
          for (std::int64_t o = 0; o < r.outer; ++o) fn(o * C, C, row);
        }
        return;
      }
      break;  // short runs: expanded below
    case Granularity::kBlocked: {
      const std::int64_t B = r.params.block_size, nb = r.blocks;
      if (inner == 1 && (C % B == 0 || nb == 1)) {  // rows of whole blocks, or of one: blocks tile the tensor
        fn(std::int64_t{0}, r.outer * C, Blocked{p.scale, p.zero_point, pp, nb == 1 ? C : B});
        return;
      }
      for (std::int64_t o = 0; o < r.outer; ++o) {
        const std::int64_t row = o * nb;
        if (inner == 1) {  // blocks are contiguous along the row
          const PreparedParams at{pp.factor + row, pp.lo + row, pp.hi + row};
          fn(o * C, C, Blocked{p.scale + row, p.zero_point + row, at, B});
        } else {  // each step along the axis is aligned with a row of parameters
          for (std::int64_t c = 0; c < C; ++c) {
            const std::int64_t first = (row + c / B) * inner;
            fn((o * C + c) * inner, inner, Aligned{p.scale + first, p.zero_point + first, pp.factor + first});
          }
        }
      }
      return;
    }
  }
  alignas(64) float scale[kExpandedLength];
  alignas(64) float factor[kExpandedLength];
  alignas(64) std::int32_t zero_point[kExpandedLength];
  for_each_expanded_run(
      r,
      [&](std::int64_t j, std::int64_t c) EIGENQ_INLINE_LAMBDA {
        scale[j] = p.scale[c];
        factor[j] = pp.factor[c];
        zero_point[j] = p.zero_point[c];
      },
      Aligned{scale, zero_point, factor}, fn);
}
