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

/// Bytes past the end of every output buffer, checked after each call.
constexpr std::size_t kGuard = 16;
constexpr unsigned char kGuardByte = 0xA5;

template <class T>
void check_guard(const std::vector<T>& buffer, std::size_t used, const std::string& what) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(buffer.data()) + used * sizeof(T);
  const std::size_t extra = buffer.size() * sizeof(T) - used * sizeof(T);
  for (std::size_t i = 0; i < extra; ++i) ASSERT_EQ(bytes[i], kGuardByte) << what << ": wrote past the end";
}

template <class T>
std::vector<T> guarded(std::size_t n) {
  std::vector<T> v(n + (kGuard + sizeof(T) - 1) / sizeof(T));
  std::memset(v.data(), kGuardByte, v.size() * sizeof(T));
  return v;
}

template <class Q, class N, Path P>
Outcome run_storage(const QuantCase& c, const Shape& shape, const QParams& params) {
  Outcome out;
  const std::size_t n = static_cast<std::size_t>(shape.size());
  Quantizer<Q, N, P> qz;
  const Status st = Quantizer<Q, N, P>::create(shape, params, &qz);
  EXPECT_TRUE(st.is_ok()) << c.name << ": " << st.message();
  if (!st.is_ok()) return out;
  if (c.op == "quantize") {
    auto q = guarded<Q>(n);
    qz.quantize(c.x.data(), q.data());
    check_guard(q, n, c.name);
    out.q.assign(q.begin(), q.begin() + n);
  } else if (c.op == "dequantize") {
    std::vector<Q> q(c.q.begin(), c.q.end());
    auto y = guarded<float>(n);
    qz.dequantize(q.data(), y.data());
    check_guard(y, n, c.name);
    out.y.assign(y.begin(), y.begin() + n);
  } else {
    auto y = guarded<float>(n);
    auto mask = guarded<std::uint8_t>(n);
    qz.fake_quantize_mask(c.x.data(), y.data(), mask.data());
    check_guard(y, n, c.name);
    check_guard(mask, n, c.name);
    out.y.assign(y.begin(), y.begin() + n);
    out.mask.assign(mask.begin(), mask.begin() + n);
    // fake_quantize alone must agree with the masked form.
    auto y2 = guarded<float>(n);
    qz.fake_quantize(c.x.data(), y2.data());
    check_guard(y2, n, c.name);
    EXPECT_EQ(0, std::memcmp(y.data(), y2.data(), n * sizeof(float))) << c.name << ": fake_quantize vs _mask";
  }
  return out;
}

template <class T, class N, Path P>
Outcome run_packed(const QuantCase& c, const Shape& shape, const QParams& params) {
  Outcome out;
  const std::size_t n = static_cast<std::size_t>(shape.size()), bytes = packed_bytes<T>(shape.size());
  PackedQuantizer<T, N, P> qz;
  const Status st = PackedQuantizer<T, N, P>::create(shape, params, &qz);
  EXPECT_TRUE(st.is_ok()) << c.name << ": " << st.message();
  if (!st.is_ok()) return out;
  if (c.op == "quantize") {
    auto packed = guarded<std::uint8_t>(bytes);
    qz.quantize(c.x.data(), packed.data());
    check_guard(packed, bytes, c.name);
    out.packed.assign(packed.begin(), packed.begin() + bytes);
    for (std::size_t i = 0; i < n; ++i) out.q.push_back(unpack_at<T>(packed.data(), static_cast<std::int64_t>(i)));
  } else if (c.op == "dequantize") {
    std::vector<std::uint8_t> packed(bytes, 0);
    for (std::size_t i = 0; i < n; ++i)
      pack_at<T>(packed.data(), static_cast<std::int64_t>(i), static_cast<typename T::Unpacked>(c.q[i]));
    auto y = guarded<float>(n);
    qz.dequantize(packed.data(), y.data());
    check_guard(y, n, c.name);
    out.y.assign(y.begin(), y.begin() + n);
  } else {
    return run_storage<typename T::Unpacked, N, P>(c, shape, params);
  }
  return out;
}

/// Runs one case with preset N on path P in the given layout. Sub-byte types
/// run through the packed API.
template <class N, Path P>
Outcome run_case(const QuantCase& c, Layout layout) {
  Shape shape = c.shape;
  QParams params = c.params;
  if (layout == Layout::kColMajor) to_col_major(&shape, &params);
  const std::string& t = c.type;
  if (t == "int8") return run_storage<std::int8_t, N, P>(c, shape, params);
  if (t == "uint8") return run_storage<std::uint8_t, N, P>(c, shape, params);
  if (t == "int16") return run_storage<std::int16_t, N, P>(c, shape, params);
  if (t == "uint16") return run_storage<std::uint16_t, N, P>(c, shape, params);
  if (t == "int32") return run_storage<std::int32_t, N, P>(c, shape, params);
  if (t == "int4") return run_packed<Int4, N, P>(c, shape, params);
  if (t == "uint4") return run_packed<UInt4, N, P>(c, shape, params);
  if (t == "int2") return run_packed<Int2, N, P>(c, shape, params);
  if (t == "uint2") return run_packed<UInt2, N, P>(c, shape, params);
  ADD_FAILURE() << c.name << ": unknown type " << t;
  return {};
}

template <Path P>
Outcome run_case(const QuantCase& c, Layout layout, const std::string& preset) {
  Outcome out;
  const Status st = with_preset(preset, [&](auto n) { out = run_case<decltype(n), P>(c, layout); });
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
