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

/// Calls fn(offset, length, source) over a run of n elements: once with the
/// run's own source, or, for a blocked source, once per block with that
/// block's parameter as a `Broadcast` (what a loop element by element wants).
template <class Src, class Fn>
EIGENQ_ALWAYS_INLINE void for_each_block(Src src, std::size_t n, Fn&& fn) {
  if constexpr (std::is_same_v<Src, Blocked>)
    for_each_block_param(src, n, [&](std::size_t at, std::size_t length, std::size_t k) EIGENQ_INLINE_LAMBDA {
      fn(at, length, Broadcast{src.scale[k], src.zero_point[k]});
    });
  else
    fn(std::size_t{0}, n, src);
}

/// Calls fn(offset, length, source) for every run, where source is the
/// `Broadcast`, `Aligned` or `Blocked` parameters of the run: what the
/// elementwise kernels take. Needs prepared parameters
/// (`ResolvedParams::prepared`): per tensor, one broadcast run; per element,
/// one aligned run; per axis, one blocked run (a parameter per `inner`
/// elements) per outer index, or an aligned run per row when the axis is the
/// fastest; blocked along the fastest axis, one blocked run per row, else an
/// aligned run per step along the axis. Runs shorter than kShortRun per
/// parameter (a per-axis step of a few elements, or a fastest axis of a few
/// channels) are merged into aligned runs over a stack buffer of parameters
/// expanded to element granularity.
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
      if (inner >= kShortRun) {
        for (std::int64_t o = 0; o < r.outer; ++o) fn(o * slab, slab, Blocked{p.scale, p.zero_point, pp, inner});
        return;
      }
      if (inner == 1 && C >= kShortRun) {
        for (std::int64_t o = 0; o < r.outer; ++o) fn(o * C, C, Aligned{p.scale, p.zero_point, pp.factor});
        return;
      }
      break;  // short runs: expanded below
    case Granularity::kBlocked: {
      const std::int64_t B = r.params.block_size, nb = r.blocks;
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
  float scale[kExpandedLength], factor[kExpandedLength];
  std::int32_t zero_point[kExpandedLength];
  auto fill = [&](std::int64_t from, std::int64_t length) {  // slab positions [from, from + length)
    for (std::int64_t k = 0; k < length; ++k) {
      const std::int64_t c = ((from + k) % slab) / inner;
      scale[k] = p.scale[c];
      factor[k] = pp.factor[c];
      zero_point[k] = p.zero_point[c];
    }
  };
  const Aligned expanded{scale, zero_point, factor};
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
