// Which kernel paths a GoogleTest suite ran and which it skipped, printed
// when the binary ends, so a log says what was compared.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <string>

#include "eigenq/kernels.hpp"

namespace eigenq {
namespace testing_paths {

/// Which paths a suite ran and which it skipped, printed when the binary
/// ends as "<suite>: paths run: ...; skipped: ...".
class PathReport : public ::testing::Environment {
 public:
  explicit PathReport(const char* suite) : suite_(suite) {}
  void TearDown() override {
    std::printf("%s: paths run:%s; skipped:%s\n", suite_, join(ran_).c_str(), join(skipped_).c_str());
  }
  /// Skips the calling test (from SetUp) unless this CPU runs `path`;
  /// records which.
  void enter(Path path) {
    if (!path_supported(path)) {
      skipped_.insert(path_name(path));
      GTEST_SKIP() << path_name(path)
                   << (path_compiled(path) ? " is not supported by this CPU" : " is not compiled into this binary");
    }
    ran_.insert(path_name(path));
  }

 private:
  static std::string join(const std::set<std::string>& s) {
    std::string out;
    for (const std::string& p : s) out += " " + p;
    return out.empty() ? std::string(" none") : out;
  }
  const char* suite_;
  std::set<std::string> ran_, skipped_;
};

/// A suite's report, registered with GoogleTest on first use.
inline PathReport& path_report(const char* suite) {
  static PathReport* const report =
      static_cast<PathReport*>(::testing::AddGlobalTestEnvironment(new PathReport(suite)));
  return *report;
}

}  // namespace testing_paths
}  // namespace eigenq
