#pragma once
/// \file
/// Schemes as runs. Every scheme on a contiguous tensor is a loop over runs
/// of contiguous elements whose parameters are *broadcast* over the run (one
/// scale and zero point), *aligned* with it (element i uses scale[i],
/// zero_point[i]) or *blocked* (they step every `block` elements); the
/// kernels (kernels.hpp) take one run and its parameter source. This header
/// holds the sources and the loops that cut a resolved parameter set
/// (params.hpp) into runs, so that the number of kernel runs does not grow
/// with the number of parameters: a per-axis scheme is one blocked run per
/// outer index, a group-wise one a blocked run per row.
///
/// The loops that feed kernels (for_each_run and its kin) are in
/// arch/generic/schemes.inl, compiled with each path's kernels; the one here,
/// for_each_run_indexed, serves reductions per parameter.

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
/// `factor`, when given, is each scale's scaling factor (prepared once, see
/// `PreparedParams`); kernels otherwise compute it per lane.
struct Aligned {
  const float* scale;
  const std::int32_t* zero_point;
  const float* factor = nullptr;

  float scale_at(std::size_t i) const { return scale[i]; }
  std::int32_t zero_point_at(std::size_t i) const { return zero_point[i]; }
  Aligned advanced(std::size_t n) const { return {scale + n, zero_point + n, factor ? factor + n : nullptr}; }
};

/// Parameters that step every `block` elements: element i uses parameter
/// (first + i) / block of the arrays, prepared once (`PreparedParams`).
/// Kernels process it block by block inside one call.
struct Blocked {
  const float* scale;
  const std::int32_t* zero_point;
  PreparedParams prepared;
  std::int64_t block;
  std::int64_t first = 0;  ///< elements of the run's first block that lie before the run

  std::int64_t param_at(std::size_t i) const { return (first + static_cast<std::int64_t>(i)) / block; }
  float scale_at(std::size_t i) const { return scale[param_at(i)]; }
  std::int32_t zero_point_at(std::size_t i) const { return zero_point[param_at(i)]; }
  Blocked advanced(std::size_t n) const {
    Blocked b = *this;
    b.first += static_cast<std::int64_t>(n);
    return b;
  }
};

/// Parameters that repeat every `period` elements: element i uses entry
/// (first + i) % period of `row` (per axis on the fastest axis: a row of
/// channels, over and over). Kernels keep a period of one, two or four
/// vectors in registers and walk longer ones row by row, inside one call.
struct Periodic {
  Aligned row;
  std::int64_t period;
  std::int64_t first = 0;  ///< the run's first element's place in its period, in [0, period)

  std::size_t param_at(std::size_t i) const {
    return static_cast<std::size_t>((first + static_cast<std::int64_t>(i)) % period);
  }
  float scale_at(std::size_t i) const { return row.scale[param_at(i)]; }
  std::int32_t zero_point_at(std::size_t i) const { return row.zero_point[param_at(i)]; }
  Periodic advanced(std::size_t n) const {
    Periodic p = *this;
    p.first = static_cast<std::int64_t>(param_at(n));
    return p;
  }
};

/// Float zero points (float_qparams.hpp): one scale and zero point for a
/// whole run.
struct FloatBroadcast {
  float scale, zero_point;

  float scale_at(std::size_t) const { return scale; }
  float zero_point_at(std::size_t) const { return zero_point; }
  FloatBroadcast advanced(std::size_t) const { return *this; }
};

/// Float zero points aligned with the run: element i uses scale[i],
/// zero_point[i].
struct FloatAligned {
  const float* scale;
  const float* zero_point;

  float scale_at(std::size_t i) const { return scale[i]; }
  float zero_point_at(std::size_t i) const { return zero_point[i]; }
  FloatAligned advanced(std::size_t n) const { return {scale + n, zero_point + n}; }
};

template <class Src>
constexpr bool is_param_source_v = std::is_same_v<Src, Broadcast> || std::is_same_v<Src, Aligned> ||
                                   std::is_same_v<Src, Blocked> || std::is_same_v<Src, Periodic>;

namespace detail {

/// log2 of a power of two, in one instruction where the compiler has one
/// (a loop of log2 steps otherwise: it ran once per row of blocks).
inline int log2_exact(std::uint64_t power_of_two) {
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_ctzll(power_of_two);
#else
  int shift = 0;
  while ((std::uint64_t{1} << shift) < power_of_two) ++shift;
  return shift;
#endif
}

/// Per-axis runs shorter than this are not worth a broadcast kernel call
/// each; the parameters are expanded into an aligned buffer instead
/// (for_each_array_run, and a fastest axis of fewer channels than this;
/// for_each_run expands only steps shorter than kShortBlockedStep).
constexpr std::int64_t kShortRun = 16;
/// for_each_run takes per-axis steps of at least this many elements as the
/// blocks of one blocked run (a span each, a partial vector for a short
/// one), shorter ones expanded: measured faster than expanding for steps of
/// 9 (a depthwise 3x3 per channel, int8 on AVX-512: 6 -> 20 GB/s), slower
/// for steps of 4 (a 2x2 kernel: 40 -> 5-10 GB/s).
constexpr std::int64_t kShortBlockedStep = 8;
/// Elements of expanded parameters kept on the stack (6 KiB for the three
/// arrays), each array on a 64-byte line: kernels load them a vector at a
/// time (a load across two lines costs two).
constexpr std::int64_t kExpandedLength = 512;

/// Floats in the widest vector of any path (AVX-512).
constexpr std::int64_t kWidestVector = 16;

/// Scales that step every 2^shift elements of a run (blocks along the
/// fastest axis), 2^shift a multiple of every path's vector: the lanes of
/// a vector never straddle two blocks.
struct SteppedScales {
  const float* scale;
  int shift;

  float at(std::size_t i) const { return scale[i >> shift]; }
};

/// Minifloat scales (minifloat_quantize.hpp) as the parameters of
/// for_each_array_run: a run's scales are one float, an array aligned with
/// it, or SteppedScales.
struct MinifloatScales {
  const float* scale;

  static constexpr bool kSteps = true;
  float broadcast(std::int64_t k) const { return scale[k]; }
  const float* aligned(std::int64_t k) const { return scale + k; }
  SteppedScales stepped(std::int64_t k, int shift) const { return {scale + k, shift}; }
  struct Expanded {
    alignas(64) float scale[kExpandedLength];
    void set(std::int64_t j, const MinifloatScales& p, std::int64_t c) { scale[j] = p.scale[c]; }
    const float* source() const { return scale; }
  };
};

/// Float zero points as the parameters of for_each_array_run: a run's
/// parameters are a FloatBroadcast or a FloatAligned.
struct FloatZpParams {
  FloatAligned arrays;

  static constexpr bool kSteps = false;
  FloatBroadcast broadcast(std::int64_t k) const { return {arrays.scale[k], arrays.zero_point[k]}; }
  FloatAligned aligned(std::int64_t k) const { return arrays.advanced(static_cast<std::size_t>(k)); }
  struct Expanded {
    alignas(64) float scale[kExpandedLength];
    alignas(64) float zero_point[kExpandedLength];
    void set(std::int64_t j, const FloatZpParams& p, std::int64_t c) {
      scale[j] = p.arrays.scale[c];
      zero_point[j] = p.arrays.zero_point[c];
    }
    FloatAligned source() const { return {scale, zero_point}; }
  };
};

/// Parameter index of a run whose elements all use one parameter.
struct BroadcastIndex {
  std::int64_t param;
};
/// Parameter index of the first element of a run whose element i uses
/// parameter param + i.
struct AlignedIndex {
  std::int64_t param;
};

/// The groups of a scheme (its parameters' indices) as the parameters of
/// for_each_array_run, for reductions per group: a run's are one index
/// (BroadcastIndex), consecutive ones (AlignedIndex), or one per element
/// (ExpandedIndex).
struct ExpandedIndex {
  const std::int64_t* param;
};
struct GroupIndex {
  static constexpr bool kSteps = false;
  BroadcastIndex broadcast(std::int64_t k) const { return {k}; }
  AlignedIndex aligned(std::int64_t k) const { return {k}; }
  struct Expanded {
    std::int64_t param[kExpandedLength];
    void set(std::int64_t j, const GroupIndex&, std::int64_t c) { param[j] = c; }
    ExpandedIndex source() const { return {param}; }
  };
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

/// fn(element, parameter) for every element, run by run: the portable
/// loops of the op families that have no kernels yet.
template <class Fn>
void for_each_element(const ResolvedParams& r, Fn&& fn) {
  for_each_run_indexed(r, [&](std::int64_t at, std::int64_t n, auto index) {
    constexpr bool kAligned = std::is_same_v<decltype(index), AlignedIndex>;
    for (std::int64_t k = 0; k < n; ++k)
      fn(static_cast<std::size_t>(at + k), static_cast<std::size_t>(index.param + (kAligned ? k : 0)));
  });
}

}  // namespace detail

}  // namespace eigenq
