#pragma once
/// \file
/// Which kernel path runs: the CPU probed once, the best supported path,
/// and the override.
///
///     eigenq::active_path();                  // what Path::kAuto runs now, e.g. Path::kAvx512
///     eigenq::set_active_path(Path::kAvx2);   // force a path (Status: refused if the CPU lacks it)
///     eigenq::reset_active_path();            // back to the environment's choice or the best
///
/// The environment variable `EIGENQ_PATH` (`scalar`, `avx2`, `avx512`,
/// `neon` or `auto`), read once at the first call, forces a path for a whole
/// program run; a path this CPU or build lacks, or an unknown name, is
/// ignored (`auto`). Choosing costs one relaxed atomic load per call of a
/// whole scheme, never per run or element.
///
/// x86: a path needs its instructions (cpuid) and the operating system's
/// support for saving its registers (XCR0 via xgetbv): AVX2 needs AVX2, F16C
/// and FMA (float-zero-point fake quantization fuses; x86-64-v3 has all
/// three) and the YMM state; AVX-512 needs F, BW, VL and DQ and the ZMM state.

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "config.hpp"
#include "status.hpp"

#if EIGENQ_X86_DISPATCH || (defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)))
#include <cpuid.h>
#define EIGENQ_HAVE_CPUID 1
#else
#define EIGENQ_HAVE_CPUID 0
#endif

namespace eigenq {

/// What the CPU and operating system support, as far as eigenq cares.
struct CpuFeatures {
  bool avx2 = false;         ///< AVX2 + F16C + FMA, YMM state enabled
  bool avx512 = false;       ///< AVX-512 F/BW/VL/DQ, ZMM state enabled
  bool avx512_bf16 = false;  ///< AVX512_BF16 (with avx512)
  bool neon = false;         ///< AArch64 Advanced SIMD
};

namespace detail {

#if EIGENQ_HAVE_CPUID
inline std::uint64_t xgetbv0() {
  std::uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
}
#endif

inline CpuFeatures probe_cpu() {
  CpuFeatures f;
#if EIGENQ_HAVE_CPUID
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, f16c = (c >> 29) & 1;
  if (!osxsave) return f;
  const std::uint64_t xcr0 = xgetbv0();
  const bool ymm = (xcr0 & 0x6) == 0x6;           // SSE and AVX state
  const bool zmm = ymm && (xcr0 & 0xE0) == 0xE0;  // opmask, ZMM0-15 upper halves, ZMM16-31
  unsigned a7 = 0, b7 = 0, c7 = 0, d7 = 0;
  if (!__get_cpuid_count(7, 0, &a7, &b7, &c7, &d7)) return f;
  const bool avx2 = (b7 >> 5) & 1;
  const bool avx512 = ((b7 >> 16) & 1) && ((b7 >> 17) & 1) && ((b7 >> 30) & 1) && ((b7 >> 31) & 1);  // F DQ BW VL
  f.avx2 = ymm && avx2 && f16c && fma;
  f.avx512 = f.avx2 && zmm && avx512;
  unsigned a71 = 0, b71 = 0, c71 = 0, d71 = 0;
  if (f.avx512 && a7 >= 1 && __get_cpuid_count(7, 1, &a71, &b71, &c71, &d71)) f.avx512_bf16 = (a71 >> 5) & 1;
#elif defined(__aarch64__)
  f.neon = true;
#endif
  return f;
}

/// Parses a path name as `EIGENQ_PATH` spells it; false if unknown.
inline bool parse_path(const char* name, Path* out) {
  for (Path p : {Path::kScalar, Path::kAvx2, Path::kAvx512, Path::kNeon, Path::kAuto})
    if (std::strcmp(name, path_name(p)) == 0) {
      *out = p;
      return true;
    }
  return false;
}

}  // namespace detail

/// The CPU's features, probed once.
inline const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detail::probe_cpu();
  return features;
}

/// True when `path` is compiled in and this CPU can run it (`kAuto` always).
inline bool path_supported(Path path) {
  if (!path_compiled(path)) return false;
  switch (path) {
    case Path::kAvx2:
      return cpu_features().avx2;
    case Path::kAvx512:
      return cpu_features().avx512;
    case Path::kNeon:
      return EIGENQ_HAVE_NEON != 0;
    case Path::kScalar:
    case Path::kAuto:
      return true;
  }
  return false;
}

/// The best path this CPU supports.
inline Path best_path() {
  Path best = Path::kScalar;
  for (Path p : kKernelPaths)
    if (path_supported(p)) best = p;
  return best;
}

namespace detail {

/// What kAuto means when nothing was forced through the API: EIGENQ_PATH if
/// it names a supported path, else the best one. Read once.
inline Path default_path() {
  static const Path chosen = [] {
    Path p = Path::kAuto;
    const char* env = std::getenv("EIGENQ_PATH");
    if (env != nullptr && parse_path(env, &p) && p != Path::kAuto && path_supported(p)) return p;
    return best_path();
  }();
  return chosen;
}

/// A path forced through set_active_path, or -1. One object for the whole
/// program (an inline function's static).
inline std::atomic<int>& forced_path() {
  static std::atomic<int> forced{-1};
  return forced;
}

}  // namespace detail

/// The path `Path::kAuto` runs now.
inline Path active_path() {
  const int forced = detail::forced_path().load(std::memory_order_relaxed);
  return forced >= 0 ? static_cast<Path>(forced) : detail::default_path();
}

/// Forces the path `Path::kAuto` runs (for every thread) until
/// `reset_active_path()`. Refused, naming the path, when it is not compiled
/// in or the CPU cannot run it; `kAuto` means the default choice.
inline Status set_active_path(Path path) {
  if (path == Path::kAuto) {
    detail::forced_path().store(-1, std::memory_order_relaxed);
    return Status::ok();
  }
  if (!path_supported(path)) {
    std::string supported;
    for (Path p : kKernelPaths)
      if (path_supported(p)) supported += std::string(supported.empty() ? "" : ", ") + path_name(p);
    return detail::error(StatusCode::kInvalidArgument, "path ", path_name(path),
                         path_compiled(path) ? " is not supported by this CPU" : " is not compiled into this program",
                         " (supported: ", supported, ")");
  }
  detail::forced_path().store(static_cast<int>(path), std::memory_order_relaxed);
  return Status::ok();
}

/// Back to EIGENQ_PATH's choice or the best supported path.
inline void reset_active_path() { detail::forced_path().store(-1, std::memory_order_relaxed); }

}  // namespace eigenq
