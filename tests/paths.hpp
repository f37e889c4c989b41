// Kernel paths in tests: every path compiled into the test binary that this
// CPU can run, as a compile-time constant, so one test covers them all.
#pragma once

#include <string>
#include <type_traits>

#include "eigenq/kernels.hpp"

namespace eigenq {
namespace testing_paths {

/// Calls fn(std::integral_constant<Path, P>{}) for every kernel path that is
/// compiled in and supported by this CPU, the portable one first.
template <class Fn>
void for_each_supported_path(Fn&& fn) {
  fn(std::integral_constant<Path, Path::kScalar>{});
  if constexpr (path_compiled(Path::kAvx2))
    if (path_supported(Path::kAvx2)) fn(std::integral_constant<Path, Path::kAvx2>{});
  if constexpr (path_compiled(Path::kAvx512))
    if (path_supported(Path::kAvx512)) fn(std::integral_constant<Path, Path::kAvx512>{});
  if constexpr (path_compiled(Path::kNeon))
    if (path_supported(Path::kNeon)) fn(std::integral_constant<Path, Path::kNeon>{});
}

/// "scalar avx2 avx512": the paths for_each_supported_path visits.
inline std::string supported_path_names() {
  std::string names;
  for_each_supported_path([&](auto p) { names += std::string(names.empty() ? "" : " ") + path_name(p.value); });
  return names;
}

/// Runs fn(Kernels<P>{}) for a path known at run time (kAuto is not one).
template <class Fn>
void for_path(Path path, Fn&& fn) {
  switch (path) {
    case Path::kScalar:
      return fn(Kernels<Path::kScalar>{});
    case Path::kAvx2:
      return fn(Kernels<Path::kAvx2>{});
    case Path::kAvx512:
      return fn(Kernels<Path::kAvx512>{});
    case Path::kNeon:
    case Path::kAuto:
      return fn(Kernels<Path::kNeon>{});
  }
}

}  // namespace testing_paths
}  // namespace eigenq
