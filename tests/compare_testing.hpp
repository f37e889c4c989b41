// Helpers for the eigenq-compare suites (compare_test.cpp,
// compare_hostile_test.cpp): scratch folders, files, and running the command
// line in-process.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "../examples/compare/cli.hpp"

namespace eigenq::compare::testing_helpers {

namespace fs = std::filesystem;

// A fresh, empty directory for one test, private to this process (ctest runs
// the same binary under several kernel paths at once).
// A pool of one thread: the kernels run on the caller's thread.
inline ThreadPoolExecutor& one_thread() {
  static ThreadPoolExecutor pool(1);
  return pool;
}

inline std::string temp_dir(const std::string& name) {
  const fs::path p = fs::path(testing::TempDir()) / ("eigenq_compare_test_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_floats(const std::string& path, const Shape& shape, float scale = 1.0f) {
  std::vector<float> v(static_cast<std::size_t>(shape.size()));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = scale * static_cast<float>(static_cast<int>(i * 7 % 23) - 11);
  ASSERT_TRUE(npy::write(path, v.data(), shape).is_ok());
}

struct CliRun {
  int code;
  std::string out, err;
};

inline CliRun run_cli(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int code = run(args, out, err);
  return {code, out.str(), err.str()};
}

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace eigenq::compare::testing_helpers
