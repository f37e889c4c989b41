#pragma once
/// \file
/// The kernel layer: every operation on every path.
///
/// `Kernels<P>` holds the operations of path P at two levels:
///
/// - **runs** (the raw-pointer kernels everything is built from): one run
///   of n contiguous elements with a `Broadcast` or `Aligned` parameter
///   source (runs.hpp): quantize, dequantize, fake_quantize,
///   fake_quantize_mask, ste_backward, ste_backward_masked, requantize,
///   pack_nibbles / unpack_nibbles;
/// - **tensors**: the same operations over a whole resolved scheme
///   (`ResolvedParams`), the loop over runs included, plus packed 4-bit
///   storage and bit-packed masks. This is what `Quantizer`,
///   `PackedQuantizer`, `Requantizer` and the QAT layers call; and LSQ's
///   backward pass with its per-parameter sums (`lsq_backward`, whose
///   reference and summation order are in arch/lsq_scalar.hpp);
/// - **float zero points** (float_qparams.hpp): `quantize_float_zp`,
///   `dequantize_float_zp`, `fake_quantize_float_zp` on a run
///   (`FloatBroadcast` / `FloatAligned`) or a whole scheme, and the packed
///   forms; the reference is numerics.hpp's `float_zp`.
///
/// The portable path (arch/scalar.hpp) applies the reference numerics
/// (numerics.hpp, requantize_rules.hpp, packing.hpp) element by element. The
/// SIMD paths are one generic source (arch/generic/) compiled once per
/// instruction set over that set's primitives (arch/x86_avx2.hpp,
/// arch/x86_avx512.hpp, arch/neon.hpp); on x86-64 each is compiled under
/// target attributes, so every program contains them whatever its flags.
/// Every path gives the portable path's bits for every input, and none
/// touches memory outside [ptr, ptr + n) of a buffer.
///
/// `Path::kAuto` (the default everywhere) is resolved by `with_kernels`: one
/// switch on `active_path()` (cpu.hpp) per call of a whole-tensor operation.
/// Kernels assume valid parameters, validated once when they meet a shape.

#include <cstddef>
#include <cstdint>

#include "config.hpp"
#include "cpu.hpp"
#include "numerics.hpp"
#include "packing.hpp"
#include "params.hpp"
#include "requantize_rules.hpp"
#include "runs.hpp"

namespace eigenq {

/// The operations of path P (see the file comment). A path that is not
/// compiled in runs the portable loops, so code naming it still builds.
template <Path P>
struct Kernels;

/// Not a kernel set: resolve it with `with_kernels<Path::kAuto>`.
template <>
struct Kernels<Path::kAuto>;

}  // namespace eigenq

// The portable path first: the SIMD paths fall back on it.
#include "arch/scalar.hpp"

#include "arch/neon.hpp"
#include "arch/x86_avx2.hpp"
#include "arch/x86_avx512.hpp"

namespace eigenq {

template <Path P>
struct Kernels : Kernels<Path::kScalar> {};

namespace detail {
// Kernels<P> named through a template parameter, so that it is looked up
// when a caller instantiates with_kernels, after every ISA header has
// declared its specialization (whichever header was included first).
template <Path P, class Fn>
decltype(auto) call_with(Fn&& fn) {
  return fn(Kernels<P>{});
}
}  // namespace detail

/// Calls fn(Kernels<path>{}) for the path P names, resolving `kAuto` to
/// `active_path()`: the one place where the run-time choice is made, once
/// per call of a whole-tensor operation. fn's call into the kernel set is
/// the only call into code compiled for another instruction set.
template <Path P, class Fn>
decltype(auto) with_kernels(Fn&& fn) {
  if constexpr (P != Path::kAuto) {
    return detail::call_with<P>(fn);
  } else {
    switch (active_path()) {
#if EIGENQ_HAVE_AVX512
      case Path::kAvx512:
        return detail::call_with<Path::kAvx512>(fn);
#endif
#if EIGENQ_HAVE_AVX2
      case Path::kAvx2:
        return detail::call_with<Path::kAvx2>(fn);
#endif
#if EIGENQ_HAVE_NEON
      case Path::kNeon:
        return detail::call_with<Path::kNeon>(fn);
#endif
      default:
        return detail::call_with<Path::kScalar>(fn);
    }
  }
}

}  // namespace eigenq
