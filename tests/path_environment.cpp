// Linked into every test binary: says which kernel path Path::kAuto runs
// (the default of every entry point), and skips the whole binary when
// EIGENQ_PATH asks for a path this CPU or build lacks, rather than passing
// on another path. ctest runs each binary once per supported path this way
// (tests/CMakeLists.txt).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "eigenq/cpu.hpp"
#include "paths.hpp"

namespace {

class PathEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    const char* requested = std::getenv("EIGENQ_PATH");
    std::printf("eigenq: Path::kAuto runs %s (supported here: %s; EIGENQ_PATH=%s)\n",
                eigenq::path_name(eigenq::active_path()), eigenq::testing_paths::supported_path_names().c_str(),
                requested ? requested : "unset");
    eigenq::Path p;
    if (requested != nullptr && eigenq::detail::parse_path(requested, &p) && p != eigenq::Path::kAuto &&
        eigenq::active_path() != p)
      GTEST_SKIP() << "EIGENQ_PATH=" << requested << ": not supported by this CPU or build, nothing tested";
  }
};

const auto* const environment = ::testing::AddGlobalTestEnvironment(new PathEnvironment);

}  // namespace
