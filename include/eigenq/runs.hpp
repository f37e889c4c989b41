#pragma once
/// \file
/// Schemes as runs. Every scheme on a contiguous tensor is a loop over runs
/// of contiguous elements whose parameters are either *broadcast* over the
/// run (one scale and zero point) or *aligned* with it (element i uses
/// scale[i], zero_point[i]); the kernels (kernels.hpp) take one run and its
/// parameter source. This header holds the two sources and the loops that
/// cut a resolved parameter set (params.hpp) into runs.
///
/// The loops are always inlined: a kernel compiled for an instruction set
/// (arch/) calls them with its own run bodies, which must be compiled for
/// that instruction set too.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "config.hpp"
#include "params.hpp"

namespace eigenq {

/// One scale and zero point for a whole run.
struct Broadcast {
  float scale;
  std::int32_t zero_point;

  float scale_at(std::size_t) const { return scale; }
  std::int32_t zero_point_at(std::size_t) const { return zero_point; }
  Broadcast advanced(std::size_t) const { return *this; }
};

/// Parameters aligned with the run: element i uses scale[i], zero_point[i].
struct Aligned {
  const float* scale;
  const std::int32_t* zero_point;

  float scale_at(std::size_t i) const { return scale[i]; }
  std::int32_t zero_point_at(std::size_t i) const { return zero_point[i]; }
  Aligned advanced(std::size_t n) const { return {scale + n, zero_point + n}; }
};

template <class Src>
constexpr bool is_param_source_v = std::is_same_v<Src, Broadcast> || std::is_same_v<Src, Aligned>;

namespace detail {

/// Per-axis runs shorter than this are not worth a broadcast kernel call
/// each; the parameters are expanded into an aligned buffer instead.
constexpr std::int64_t kShortRun = 16;
/// Elements of expanded parameters kept on the stack (4 KiB for both arrays).
constexpr std::int64_t kExpandedLength = 512;

/// Parameter index of a run whose elements all use one parameter.
struct BroadcastIndex {
  std::int64_t param;
};
/// Parameter index of the first element of a run whose element i uses
/// parameter param + i.
struct AlignedIndex {
  std::int64_t param;
};

/// Calls fn(offset, length, index) for every run of the scheme, in memory
/// order, where index is a `BroadcastIndex` or an `AlignedIndex` into the
/// parameter arrays. Reductions per parameter (observers, LSQ gradients)
/// are built on this.
template <class Fn>
EIGENQ_ALWAYS_INLINE void for_each_run_indexed(const ResolvedParams& r, Fn&& fn) {
  const std::int64_t C = r.channels, inner = r.inner;
  switch (r.params.granularity) {
    case Granularity::kPerTensor:
      if (inner > 0) fn(std::int64_t{0}, inner, BroadcastIndex{0});
      return;
    case Granularity::kPerElement:
      if (C > 0) fn(std::int64_t{0}, C, AlignedIndex{0});
      return;
    case Granularity::kPerAxis:
      for (std::int64_t o = 0; o < r.outer; ++o) {
        if (inner == 1) {
          if (C > 0) fn(o * C, C, AlignedIndex{0});
        } else if (inner > 0) {
          for (std::int64_t c = 0; c < C; ++c) fn((o * C + c) * inner, inner, BroadcastIndex{c});
        }
      }
      return;
    case Granularity::kBlocked: {
      const std::int64_t B = r.params.block_size, nb = r.blocks;
      for (std::int64_t o = 0; o < r.outer; ++o) {
        if (inner == 1) {  // blocks are contiguous: one broadcast run each
          for (std::int64_t b = 0; b < nb; ++b) fn(o * C + b * B, std::min(B, C - b * B), BroadcastIndex{o * nb + b});
        } else if (inner > 0) {  // each step along the axis is aligned with a parameter row
          for (std::int64_t c = 0; c < C; ++c) fn((o * C + c) * inner, inner, AlignedIndex{(o * nb + c / B) * inner});
        }
      }
      return;
    }
  }
}

inline Broadcast source(const QParamsView& p, BroadcastIndex i) { return {p.scale[i.param], p.zero_point[i.param]}; }
inline Aligned source(const QParamsView& p, AlignedIndex i) { return {p.scale + i.param, p.zero_point + i.param}; }

/// Calls fn(offset, length, source) for every run, where source is the
/// `Broadcast` or `Aligned` parameters of the run: what elementwise kernels
/// take. Per-axis runs too short for a kernel call each (a fast axis of
/// length < kShortRun) are merged into aligned runs over a stack buffer of
/// parameters expanded to element granularity.
template <class Fn>
EIGENQ_ALWAYS_INLINE void for_each_run(const ResolvedParams& r, Fn&& fn) {
  const QParamsView& p = r.params;
  const std::int64_t C = r.channels, inner = r.inner, slab = C * inner;
  const bool short_runs = inner < kShortRun && !(inner == 1 && C >= kShortRun);
  if (p.granularity != Granularity::kPerAxis || !short_runs || slab == 0) {
    for_each_run_indexed(r, [&](std::int64_t at, std::int64_t n, auto index) { fn(at, n, source(p, index)); });
    return;
  }
  float scale[kExpandedLength];
  std::int32_t zero_point[kExpandedLength];
  auto fill = [&](std::int64_t from, std::int64_t length) {  // slab positions [from, from + length)
    for (std::int64_t k = 0; k < length; ++k) {
      const std::int64_t c = ((from + k) % slab) / inner;
      scale[k] = p.scale[c];
      zero_point[k] = p.zero_point[c];
    }
  };
  const Aligned expanded{scale, zero_point};
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

}  // namespace detail

}  // namespace eigenq
