// LSQ's backward pass over a whole scheme: the loop over its runs
// (runs.hpp) around the LSQ run kernels of the enclosing namespace
// (`LsqRunOps`: arch/lsq_scalar.hpp, arch/generic/lsq_runs.inl). Included
// once per path inside its namespace and target region, the portable path
// included, like tensors.inl.

struct LsqOps : LsqRunOps {
  /// dx (r.size() elements), and dscale and dzero_point (r.count each,
  /// overwritten): LSQ's gradients for upstream gradient dy at input x with
  /// gradient factor g, summed per parameter in the order of
  /// arch/lsq_scalar.hpp. `sums` is scratch for 2 * r.count doubles (unused
  /// per element). dx may alias dy.
  template <class N>
  static void lsq_backward(const ResolvedParams& r, const float* x, const float* dy, float* dx, float* dscale,
                           float* dzero_point, float g, double* sums) {
    if (!lsq_backward_sums<N>(r, x, dy, dx, dscale, dzero_point, g, sums)) return;
    for (std::size_t k = 0; k < r.count; ++k) {
      dscale[k] = static_cast<float>(sums[k]);
      dzero_point[k] = static_cast<float>(sums[r.count + k]);
    }
  }

  /// lsq_backward up to the sums: dx, and the per-parameter sums in double
  /// (sums[k] of dscale, sums[r.count + k] of dzero_point, overwritten);
  /// returns true. Per element there is nothing to sum: each element's terms
  /// go to dscale and dzero_point, and it returns false.
  template <class N>
  static bool lsq_backward_sums(const ResolvedParams& r, const float* x, const float* dy, float* dx, float* dscale,
                                float* dzero_point, float g, double* sums) {
    const QParamsView p = r.params;
    const Range range = p.range;
    if (p.granularity == Granularity::kPerElement) {  // one term per parameter: nothing to sum
      LsqRunOps::lsq_backward_terms<N>(x, dy, dx, dscale, dzero_point, static_cast<std::size_t>(r.size()),
                                       Aligned{p.scale, p.zero_point}, range, g);
      return false;
    }
    const std::size_t count = r.count;
    double* const ds = sums;
    double* const dz = sums + count;
    for (std::size_t k = 0; k < 2 * count; ++k) sums[k] = 0.0;
    for_each_run_indexed(r, [=](std::int64_t at, std::int64_t n, auto index) {
      const std::int64_t k = index.param;
      if constexpr (std::is_same_v<decltype(index), BroadcastIndex>) {
        const LsqSums s = LsqRunOps::lsq_backward_sum<N>(x + at, dy + at, dx + at, static_cast<std::size_t>(n),
                                                         Broadcast{p.scale[k], p.zero_point[k]}, range, g);
        ds[k] += s.dscale;
        dz[k] += s.dzero_point;
      } else {
        LsqRunOps::lsq_backward_accumulate<N>(x + at, dy + at, dx + at, ds + k, dz + k, static_cast<std::size_t>(n),
                                              Aligned{p.scale + k, p.zero_point + k}, range, g);
      }
    });
    return true;
  }
};
