// golden_cases.hpp's run_case_with<N>, compiled once per numerics preset:
// tests/CMakeLists.txt builds this file once for each preset with
// EIGENQ_GOLDEN_PRESET set to its name (presets::pytorch, ...), into objects
// linked by every suite that runs golden files.
#include "golden_cases.hpp"

#ifndef EIGENQ_GOLDEN_PRESET
#error "define EIGENQ_GOLDEN_PRESET to a preset of eigenq::presets (pytorch, onnx, ...)"
#endif

namespace eigenq::golden {

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

template <class N, Path P>
Outcome run_case_on(const QuantCase& c, Layout layout) {
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

template <class N>
Outcome run_case_with(const QuantCase& c, Layout layout, Path path) {
  return path == Path::kScalar ? run_case_on<N, Path::kScalar>(c, layout) : run_case_on<N, kBestPath>(c, layout);
}

template Outcome run_case_with<presets::EIGENQ_GOLDEN_PRESET>(const QuantCase& c, Layout layout, Path path);

}  // namespace eigenq::golden
