#pragma once
/// \file
/// Cutting a resolved scheme into slices for parallel work, and the serial
/// executor every entry point uses by default.
///
/// An *executor* is any object with
///
///     template <class F> void parallel_for(std::int64_t n, F&& fn);  // fn(i) for i in [0, n), maybe concurrently
///     int threads() const;                                          // how many run at once (1: serial)
///
/// (parallel.hpp has a thread pool and an OpenMP adapter, parallel_eigen.hpp
/// an adapter for Eigen's ThreadPoolDevice). fn never throws and returns
/// only once its task is done; parallel_for returns when every task is.
///
/// A slice is a `ResolvedParams` of its own (the same scheme over a part of
/// the tensor, its parameter pointers offset) with the offset of its first
/// element, so each task runs the existing whole-tensor kernel on it: no
/// kernel is compiled for parallel work. The cut depends on the shape, the
/// scheme and the output's element size only, never on the thread count,
/// and every element is computed by the same kernel code whatever the cut,
/// so results are the same bits with any executor.

#include <algorithm>
#include <cstdint>
#include <numeric>

#include "params.hpp"

namespace eigenq {

/// Runs every task on the caller's thread, in order: the default.
struct SerialExecutor {
  template <class F>
  void parallel_for(std::int64_t n, F&& fn) const {
    for (std::int64_t i = 0; i < n; ++i) fn(i);
  }
  int threads() const { return 1; }
};

namespace detail {

/// Elements per task: a tensor of at most this many runs inline, in one
/// call, whatever the executor. Chosen with bench/parallel_bench.cpp (see
/// bench/README.md): a task of 64Ki elements takes 4 us (int8 quantize,
/// AVX-512, in cache) to about 100 us (histogram), against about 1 us for a
/// round trip through ThreadPoolExecutor's spinning workers; at 1Mi on 2
/// threads 16Ki tasks gained 1.16x, 64Ki 1.40x, 256Ki 1.81x (64Ki keeps 16
/// tasks at 1Mi for many cores). The reductions' partitions (observers.hpp,
/// qparams.hpp) use it too, so changing it changes which slices their
/// partial results come from.
constexpr std::int64_t kParallelGrain = std::int64_t{1} << 16;

/// A slice: the scheme over elements [at, at + r.size()) of the tensor,
/// whose parameters start at parameter `param` of the whole scheme's.
struct Slice {
  ResolvedParams r;
  std::int64_t at = 0;
  std::int64_t param = 0;
};

/// How a resolved scheme is cut (see `plan_slices`).
struct SlicePlan {
  enum class Cut {
    kWhole,     ///< one slice: the tensor itself
    kElements,  ///< per-tensor, per-element: `per` elements a slice
    kRows,      ///< per-axis, blocked: `per` outer rows a slice
    kUnits,     ///< per-axis, blocked: `per` channels (blocks) of one row a slice, `pieces` a row
    kInner,     ///< per-axis: `per` elements of one channel of one row, `pieces` a channel
  };
  Cut cut = Cut::kWhole;
  std::int64_t per = 0;
  std::int64_t pieces = 1;
  std::int64_t count = 1;  ///< slices in all
};

inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return a / b + (a % b != 0); }
inline std::int64_t round_up(std::int64_t a, std::int64_t m) { return ceil_div(a, m) * m; }
/// The smallest k' >= k with k' * unit a multiple of align.
inline std::int64_t round_for(std::int64_t k, std::int64_t unit, std::int64_t align) {
  return round_up(k, align / std::gcd(unit, align));
}

/// A plan whose every cut lies on a multiple of `align` elements (from the
/// tensor's first element), or a single slice when there is no such cut.
inline SlicePlan plan_slices_aligned(const ResolvedParams& r, std::int64_t align, std::int64_t grain) {
  using Cut = SlicePlan::Cut;
  SlicePlan p;
  const std::int64_t size = r.size();
  if (size <= grain) return p;
  switch (r.params.granularity) {
    case Granularity::kPerTensor:
    case Granularity::kPerElement:
      p.cut = Cut::kElements;
      p.per = round_up(grain, align);
      p.count = ceil_div(size, p.per);
      return p;
    case Granularity::kPerAxis:
    case Granularity::kBlocked:
      break;
  }
  const bool blocked = r.params.granularity == Granularity::kBlocked;
  const std::int64_t slab = r.channels * r.inner;
  const std::int64_t unit = blocked ? r.params.block_size * r.inner : r.inner;  // elements of one parameter step
  const std::int64_t units = blocked ? r.blocks : r.channels;
  if (slab > grain && slab % align == 0) {  // cut inside rows
    if (unit <= grain || blocked) {
      p.cut = Cut::kUnits;
      p.per = round_for(std::max<std::int64_t>(1, grain / unit), unit, align);
      p.pieces = ceil_div(units, p.per);
      if (p.pieces > 1) {
        p.count = r.outer * p.pieces;
        return p;
      }
    } else if (r.inner % align == 0) {  // per-axis channels longer than a grain
      p.cut = Cut::kInner;
      p.per = round_up(grain, align);
      p.pieces = ceil_div(r.inner, p.per);
      p.count = r.outer * r.channels * p.pieces;
      return p;
    }
  }
  p.cut = Cut::kRows;
  p.per = round_for(std::max<std::int64_t>(1, grain / slab), slab, align);
  p.count = ceil_div(r.outer, p.per);
  if (p.count <= 1) p = SlicePlan{};
  return p;
}

/// The cut of `r` into tasks of about `grain` elements: along the tensor
/// (per-tensor, per-element), along outer rows, else along the channels
/// (blocks) of a row, else inside a channel. Cuts lie on multiples of `line`
/// elements (one cache line of output) where the shape allows, else on
/// multiples of `align` (the elements sharing a byte of output: 2 for
/// packed nibbles, 8 for packed bits), so no two tasks write one byte, and
/// where the shape allows no two write one cache line.
inline SlicePlan plan_slices(const ResolvedParams& r, std::int64_t line, std::int64_t align = 1,
                             std::int64_t grain = kParallelGrain) {
  const SlicePlan p = plan_slices_aligned(r, line, grain);
  if (p.count > 1 || align >= line) return p;
  return plan_slices_aligned(r, align, grain);
}

/// The slice's parameter view and prepared arrays advanced by k
/// parameters, holding `count` of them (null arrays stay null: a layout
/// resolved without values).
inline void offset_params(Slice& s, std::int64_t k, std::int64_t count) {
  ResolvedParams& r = s.r;
  s.param = k;
  if (r.params.scale) r.params.scale += k;
  if (r.params.zero_point) r.params.zero_point += k;
  r.params.count = static_cast<std::size_t>(count);
  r.count = static_cast<std::size_t>(count);
  if (r.prepared.factor) r.prepared.factor += k;
  if (r.prepared.lo) r.prepared.lo += k;
  if (r.prepared.hi) r.prepared.hi += k;
}

/// Slice i of the plan p of r.
inline Slice slice_at(const ResolvedParams& r, const SlicePlan& p, std::int64_t i) {
  using Cut = SlicePlan::Cut;
  Slice s{r, 0, 0};
  const std::int64_t slab = r.channels * r.inner;
  const bool blocked = r.params.granularity == Granularity::kBlocked;
  switch (p.cut) {
    case Cut::kWhole:
      break;
    case Cut::kElements: {
      s.at = i * p.per;
      const std::int64_t n = std::min(p.per, r.size() - s.at);
      if (r.params.granularity == Granularity::kPerTensor) {
        s.r.inner = n;
      } else {
        s.r.channels = s.r.blocks = n;
        offset_params(s, s.at, n);
      }
      break;
    }
    case Cut::kRows: {
      const std::int64_t o = i * p.per, rows = std::min(p.per, r.outer - o);
      s.at = o * slab;
      s.r.outer = rows;
      if (blocked) offset_params(s, o * r.blocks * r.inner, rows * r.blocks * r.inner);
      break;
    }
    case Cut::kUnits: {
      const std::int64_t o = i / p.pieces, u = (i % p.pieces) * p.per;
      s.r.outer = 1;
      if (blocked) {
        const std::int64_t B = r.params.block_size, nb = std::min(p.per, r.blocks - u);
        const std::int64_t c = u * B;
        s.at = o * slab + c * r.inner;
        s.r.channels = std::min(r.channels - c, nb * B);
        s.r.blocks = nb;
        offset_params(s, (o * r.blocks + u) * r.inner, nb * r.inner);
      } else {
        const std::int64_t n = std::min(p.per, r.channels - u);
        s.at = o * slab + u * r.inner;
        s.r.channels = s.r.blocks = n;
        offset_params(s, u, n);
      }
      break;
    }
    case Cut::kInner: {
      const std::int64_t per_row = r.channels * p.pieces;
      const std::int64_t o = i / per_row, c = (i % per_row) / p.pieces, j = (i % p.pieces) * p.per;
      s.at = o * slab + c * r.inner + j;
      s.r.outer = s.r.channels = s.r.blocks = 1;
      s.r.inner = std::min(p.per, r.inner - j);
      offset_params(s, c, 1);
      break;
    }
  }
  return s;
}

/// Calls op(slice) for every slice of r (see `plan_slices`) on the
/// executor; once, with r itself, when the tensor is one slice or the
/// executor runs one task at a time.
template <class Exec, class Op>
void for_each_slice(Exec&& exec, const ResolvedParams& r, std::int64_t line, std::int64_t align, Op&& op,
                    std::int64_t grain = kParallelGrain) {
  const SlicePlan p = exec.threads() <= 1 ? SlicePlan{} : plan_slices(r, line, align, grain);
  if (p.count <= 1) {
    op(Slice{r, 0, 0});
    return;
  }
  exec.parallel_for(p.count, [&](std::int64_t i) { op(slice_at(r, p, i)); });
}

/// fn(at, count) over [0, n) of a flat buffer, in tasks of `grain` elements
/// (a multiple of 512: whole cache lines of floats, bytes and packed bits),
/// the last one shorter; one call of the whole when serial or small.
template <class Exec, class Fn>
void for_each_chunk(Exec&& exec, std::int64_t n, Fn&& fn, std::int64_t grain = kParallelGrain) {
  const std::int64_t tasks = exec.threads() <= 1 ? 1 : ceil_div(n, grain);
  if (tasks <= 1) {
    fn(std::int64_t{0}, n);
    return;
  }
  exec.parallel_for(tasks, [&](std::int64_t i) { fn(i * grain, std::min(grain, n - i * grain)); });
}

/// Elements of T in a 64-byte cache line.
template <class T>
constexpr std::int64_t line_of = static_cast<std::int64_t>(64 / sizeof(T));

}  // namespace detail

}  // namespace eigenq
