#pragma once
// Runs the quantization cases of a golden file (the fields are described in
// tests/conformance/golden_writer.py) through the library, for any preset,
// storage type, scheme, path and layout, and compares with the engine's
// values bit for bit.
//
// Golden tensors are row-major. The same bytes read as a column-major
// tensor have the dimensions reversed and axis a becomes rank - 1 - a (the
// blocked parameters, laid out like the tensor, reverse with it), so every
// case also runs through the column-major scheme resolution.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "eigenq/packed.hpp"
#include "eigenq/presets.hpp"
#include "eigenq/scheme.hpp"
#include "golden.hpp"

namespace eigenq::golden {

struct QuantCase {
  std::string name, op, preset, type;
  int line = 0;
  Shape shape;  // row-major
  QParams params;
  std::vector<float> x;          // quantize, fake_quantize
  std::vector<std::int64_t> q;   // dequantize input
  std::vector<std::int64_t> yq;  // quantize output
  std::vector<float> yf;         // dequantize, fake_quantize output
  std::vector<std::int64_t> mask, packed;
  bool has_mask = false, has_packed = false;
};

inline Granularity parse_scheme(const std::string& s) {
  if (s == "per_tensor") return Granularity::kPerTensor;
  if (s == "per_axis") return Granularity::kPerAxis;
  if (s == "blocked") return Granularity::kBlocked;
  if (s == "per_element") return Granularity::kPerElement;
  throw std::runtime_error("unknown scheme " + s);
}

inline QuantCase parse_quant_case(const Case& c) {
  QuantCase k;
  k.name = c.name;
  k.line = c.line;
  k.op = c.text("op");
  k.preset = c.text("preset");
  k.type = c.text("type");
  std::vector<std::int64_t> dims = c.ints("shape");
  k.shape = Shape::from(dims.data(), static_cast<int>(dims.size()), Layout::kRowMajor);
  k.params.granularity = parse_scheme(c.text("scheme"));
  k.params.axis = c.has("axis") ? static_cast<int>(c.integer("axis")) : 0;
  k.params.block_size = c.has("block") ? c.integer("block") : 0;
  k.params.range = {static_cast<std::int32_t>(c.integer("qmin")), static_cast<std::int32_t>(c.integer("qmax"))};
  k.params.scale = c.floats("scale");
  for (std::int64_t z : c.ints("zp")) k.params.zero_point.push_back(static_cast<std::int32_t>(z));
  if (k.op == "dequantize")
    k.q = c.ints("x");
  else
    k.x = c.floats("x");
  if (k.op == "quantize")
    k.yq = c.ints("y");
  else
    k.yf = c.floats("y");
  if ((k.has_mask = c.has("mask"))) k.mask = c.ints("mask");
  if ((k.has_packed = c.has("packed"))) k.packed = c.ints("packed");
  return k;
}

inline std::vector<QuantCase> load_quant_cases(const std::string& file) {
  std::vector<QuantCase> out;
  for (const Case& c : load(file)) out.push_back(parse_quant_case(c));
  return out;
}

/// What the library computed for a case.
struct Outcome {
  std::vector<std::int64_t> q;
  std::vector<float> y;
  std::vector<std::int64_t> mask, packed;
};

/// The same memory seen as a column-major tensor.
inline void to_col_major(Shape* shape, QParams* params) {
  Shape s = *shape;
  for (int d = 0; d < s.rank; ++d) s.dims[d] = shape->dims[s.rank - 1 - d];
  s.layout = Layout::kColMajor;
  if (params->granularity == Granularity::kPerAxis || params->granularity == Granularity::kBlocked)
    params->axis = s.rank - 1 - normalize_axis(params->axis, s.rank);
  *shape = s;
}

/// Runs one case with numerics preset N (presets.hpp) on `path`
/// (Path::kScalar or kBestPath) in the given layout; sub-byte types run
/// through the packed API, every output buffer guarded. Defined in
/// golden_runner.cpp and instantiated once per preset in its own object
/// (tests/CMakeLists.txt): every storage type on every path is the costliest
/// code of the suites, so it is compiled once for all that run golden files.
template <class N>
Outcome run_case_with(const QuantCase& c, Layout layout, Path path);

/// The same, the preset by name.
template <Path P>
Outcome run_case(const QuantCase& c, Layout layout, const std::string& preset) {
  static_assert(P == Path::kScalar || P == kBestPath, "golden_runner.cpp has kScalar and kBestPath");
  Outcome out;
  const Status st = with_preset(preset, [&](auto n) { out = run_case_with<decltype(n)>(c, layout, P); });
  EXPECT_TRUE(st.is_ok()) << st.message();
  return out;
}

inline bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

inline std::string show(float v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a (%.9g)", v, v);
  return buf;
}

/// Element indices where the library knowingly departs from the engine.
using Departures = std::map<std::string, std::set<std::size_t>>;

/// Compares an outcome with the engine's values: equal bits everywhere
/// except at the listed departures, where they must differ (so a fixed
/// engine, or a new difference, both fail). Returns the number of elements
/// compared.
inline std::size_t compare(const QuantCase& c, const Outcome& out, const std::string& context,
                           const Departures& departures = {}) {
  const auto it = departures.find(c.name);
  const std::set<std::size_t> none;
  const std::set<std::size_t>& departs = it == departures.end() ? none : it->second;
  const std::string where = c.name + " (line " + std::to_string(c.line) + ", " + context + ")";
  auto at = [&](std::size_t i) -> std::string {
    std::string s = " at element " + std::to_string(i);
    if (!c.x.empty()) s += ", x = " + show(c.x[i]);
    if (!c.q.empty()) s += ", q = " + std::to_string(c.q[i]);
    return s;
  };
  std::size_t compared = 0;
  if (c.op == "quantize") {
    EXPECT_EQ(out.q.size(), c.yq.size()) << where;
    for (std::size_t i = 0; i < std::min(out.q.size(), c.yq.size()); ++i, ++compared) {
      if (departs.count(i)) {
        EXPECT_NE(out.q[i], c.yq[i]) << where << at(i) << ": listed departure no longer differs";
      } else {
        EXPECT_EQ(out.q[i], c.yq[i]) << where << at(i);
      }
    }
    if (c.has_packed && departs.empty()) {
      EXPECT_EQ(out.packed, c.packed) << where << ": packed bytes";
    }
  } else {
    EXPECT_EQ(out.y.size(), c.yf.size()) << where;
    for (std::size_t i = 0; i < std::min(out.y.size(), c.yf.size()); ++i, ++compared) {
      if (departs.count(i)) {
        EXPECT_FALSE(same_bits(out.y[i], c.yf[i])) << where << at(i) << ": listed departure no longer differs";
      } else {
        EXPECT_TRUE(same_bits(out.y[i], c.yf[i]))
            << where << at(i) << ": got " << show(out.y[i]) << ", engine " << show(c.yf[i]);
      }
    }
    if (c.has_mask && c.op == "fake_quantize") {
      EXPECT_EQ(out.mask.size(), c.mask.size()) << where;
      for (std::size_t i = 0; i < std::min(out.mask.size(), c.mask.size()); ++i)
        if (!departs.count(i)) {
          EXPECT_EQ(out.mask[i], c.mask[i]) << where << at(i) << ": mask";
        }
    }
  }
  return compared;
}

}  // namespace eigenq::golden
