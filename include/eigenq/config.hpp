#pragma once
/// \file
/// Build configuration: which kernel paths are compiled in, the `Path` enum
/// that names them, and the debug assertion macro.
///
/// On x86-64 with GCC or Clang every path is compiled into every program,
/// whatever its `-m` flags: the AVX2 and AVX-512 kernels are built under
/// target attributes (arch/x86_avx2.hpp, arch/x86_avx512.hpp) and the CPU is
/// probed at run time (cpu.hpp), so a program built for baseline x86-64 runs
/// AVX-512 where the CPU has it. On AArch64 the NEON path is the baseline.
///
/// - `EIGENQ_FORCE_SCALAR`: compile only the portable path.
/// - `EIGENQ_NO_DISPATCH`: compile only the paths the compiler flags enable
///   (`-mavx2`, `-mavx512f -mavx512bw -mavx512vl -mavx512dq`), for compilers
///   without target attributes.

#include <cassert>

#if defined(__FAST_MATH__) && !defined(EIGENQ_ALLOW_FAST_MATH)
#error \
    "eigenq: -ffast-math breaks the numeric contract (NaN handling, ties); define EIGENQ_ALLOW_FAST_MATH to build anyway"
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(EIGENQ_NO_DISPATCH)
#define EIGENQ_X86_DISPATCH 1
#else
#define EIGENQ_X86_DISPATCH 0
#endif

#if defined(EIGENQ_FORCE_SCALAR)
#define EIGENQ_HAVE_AVX2 0
#define EIGENQ_HAVE_AVX512 0
#elif EIGENQ_X86_DISPATCH
#define EIGENQ_HAVE_AVX2 1
#define EIGENQ_HAVE_AVX512 1
#else
#if defined(__AVX2__) && defined(__F16C__) && defined(__FMA__)
#define EIGENQ_HAVE_AVX2 1
#else
#define EIGENQ_HAVE_AVX2 0
#endif
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512DQ__)
#define EIGENQ_HAVE_AVX512 1
#else
#define EIGENQ_HAVE_AVX512 0
#endif
#endif

#if !defined(EIGENQ_FORCE_SCALAR) && defined(__aarch64__) && defined(__ARM_NEON)
#define EIGENQ_HAVE_NEON 1
#else
#define EIGENQ_HAVE_NEON 0
#endif

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND)
#define EIGENQ_EXCEPTIONS 1
#else
#define EIGENQ_EXCEPTIONS 0
#endif

/// Checks a kernel precondition in debug builds. Kernels assume validated
/// input; validation happens once, when parameters meet a shape.
#ifndef EIGENQ_ASSERT
#define EIGENQ_ASSERT(cond) assert(cond)
#endif

/// For the loops that cut a tensor into runs: inlined into whichever kernel
/// calls them, so the kernel's instruction set reaches the run bodies.
/// EIGENQ_INLINE_LAMBDA, after a lambda's parameter list, does the same for a
/// lambda (a run body passed to those loops). EIGENQ_NOINLINE keeps a large
/// body that runs long (a requantization run) out of its many callers: one
/// copy per instantiation instead of one per call site.
#if defined(__GNUC__) || defined(__clang__)
#define EIGENQ_ALWAYS_INLINE inline __attribute__((always_inline))
#define EIGENQ_INLINE_LAMBDA __attribute__((always_inline))
#define EIGENQ_NOINLINE __attribute__((noinline))
#else
#define EIGENQ_ALWAYS_INLINE inline
#define EIGENQ_INLINE_LAMBDA
#define EIGENQ_NOINLINE
#endif

/// Regions of code compiled for an instruction set whatever the compiler
/// flags (GCC and Clang), as the ISA headers use them:
///
///     EIGENQ_TARGET_BEGIN(EIGENQ_AVX512_TARGET)
///     ... functions, templates and lambdas defined here use AVX-512 ...
///     EIGENQ_TARGET_END
///
/// Only code defined inside is compiled for the target; templates defined
/// elsewhere and instantiated inside are not (so no inline function leaks
/// wider instructions into code every CPU runs). Hazard: GCC 12's
/// _mm512_undefined_* initialize a variable with itself, which -Wall reports
/// wherever such an intrinsic is inlined (GCC bug 105593); the region turns
/// those two warnings off. Without optimization GCC's immediate-operand
/// intrinsics (_mm512_roundscale_ps, ...) are macros that cast -1 to a
/// mask type in the caller's code, which -Wsign-conversion reports: an
/// unoptimized GCC build turns that one off in the region too.
// clang-format off
#define EIGENQ_PRAGMA(...) _Pragma(#__VA_ARGS__)
#if defined(__clang__)
#define EIGENQ_TARGET_BEGIN(targets) \
  EIGENQ_PRAGMA(clang attribute push(__attribute__((target(targets))), apply_to = function))
#define EIGENQ_TARGET_END EIGENQ_PRAGMA(clang attribute pop)
#elif defined(__GNUC__) && defined(__OPTIMIZE__)
#define EIGENQ_TARGET_BEGIN(targets)                           \
  EIGENQ_PRAGMA(GCC push_options)                              \
  EIGENQ_PRAGMA(GCC target(targets))                           \
  EIGENQ_PRAGMA(GCC diagnostic push)                           \
  EIGENQ_PRAGMA(GCC diagnostic ignored "-Wuninitialized")      \
  EIGENQ_PRAGMA(GCC diagnostic ignored "-Wmaybe-uninitialized")
#define EIGENQ_TARGET_END EIGENQ_PRAGMA(GCC diagnostic pop) EIGENQ_PRAGMA(GCC pop_options)
#elif defined(__GNUC__)
#define EIGENQ_TARGET_BEGIN(targets)                           \
  EIGENQ_PRAGMA(GCC push_options)                              \
  EIGENQ_PRAGMA(GCC target(targets))                           \
  EIGENQ_PRAGMA(GCC diagnostic push)                           \
  EIGENQ_PRAGMA(GCC diagnostic ignored "-Wuninitialized")      \
  EIGENQ_PRAGMA(GCC diagnostic ignored "-Wmaybe-uninitialized") \
  EIGENQ_PRAGMA(GCC diagnostic ignored "-Wsign-conversion")
#define EIGENQ_TARGET_END EIGENQ_PRAGMA(GCC diagnostic pop) EIGENQ_PRAGMA(GCC pop_options)
#else
#define EIGENQ_TARGET_BEGIN(targets)
#define EIGENQ_TARGET_END
#endif
// clang-format on
/// What each x86 path is compiled for (and needs from the CPU, cpu.hpp).
#define EIGENQ_AVX2_TARGET "avx2,f16c,fma"
#define EIGENQ_AVX512_TARGET "avx2,f16c,avx512f,avx512bw,avx512vl,avx512dq"

namespace eigenq {

/// An implementation of the kernels. Every kernel is a template on `Path`,
/// so all paths compiled into a binary coexist and can be compared.
/// `kAuto`, the default, is not a kernel set: it is the best path the CPU
/// supports, chosen at run time once per call of a whole scheme
/// (`active_path()`, cpu.hpp).
enum class Path { kScalar, kAvx2, kAvx512, kNeon, kAuto };

/// The kernel paths, best last (what `kAuto` chooses among).
constexpr Path kKernelPaths[] = {Path::kScalar, Path::kNeon, Path::kAvx2, Path::kAvx512};

/// True when `path` is compiled into this translation unit (`kAuto` always
/// is). Whether the CPU can run it is `path_supported` (cpu.hpp).
constexpr bool path_compiled(Path path) {
  return path == Path::kScalar || path == Path::kAuto || (path == Path::kAvx2 && EIGENQ_HAVE_AVX2) ||
         (path == Path::kAvx512 && EIGENQ_HAVE_AVX512) || (path == Path::kNeon && EIGENQ_HAVE_NEON);
}

/// The default path of every kernel, Quantizer and entry point: chosen at
/// run time.
constexpr Path kBestPath = Path::kAuto;

constexpr const char* path_name(Path path) {
  switch (path) {
    case Path::kScalar:
      return "scalar";
    case Path::kAvx2:
      return "avx2";
    case Path::kAvx512:
      return "avx512";
    case Path::kNeon:
      return "neon";
    case Path::kAuto:
      return "auto";
  }
  return "unknown";
}

}  // namespace eigenq
