// Float zero points (float_qparams.hpp) on every kernel path this binary has
// and this CPU runs, against the portable path bit for bit (floats compared
// as bits, NaN included), and the portable path against numerics.hpp's
// float_zp element by element. Every scheme (per tensor, per axis on the
// first, a middle and the last axis, blocked along the fastest and a slower
// axis with ragged blocks, per element) in both layouts; odd sizes, so every
// tail length is met; buffers misaligned by 0..3 elements with guards after
// each output. Inputs are drawn (fixed seeds) from ties of x * inv + zp and
// their neighbours, values that wrap through int64 -> int32 (2^31 .. 2^63),
// NaN, infinities, denormals and ordinary values (cases of in-range values
// only, and cases with a share of the others); scales from 0 (quantize and
// dequantize), denormal, tiny, huge and ordinary; zero points non-integer,
// zero and large. The paths that ran are printed.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "eigenq/float_qparams.hpp"
#include "paths.hpp"

namespace eigenq {
namespace {

using testing_paths::for_each_supported_path;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr std::size_t kGuard = 16;
constexpr unsigned char kSentinel = 0xA5;

// A buffer of n elements starting `offset` elements into its allocation,
// followed by kGuard sentinel elements.
template <class T>
class Buffer {
 public:
  Buffer(std::size_t n, std::size_t offset) : n_(n), offset_(offset), bytes_((offset + n + kGuard) * sizeof(T)) {
    std::memset(bytes_.data(), kSentinel, bytes_.size());
  }
  T* data() { return reinterpret_cast<T*>(bytes_.data()) + offset_; }
  const T* data() const { return reinterpret_cast<const T*>(bytes_.data()) + offset_; }
  T& operator[](std::size_t i) { return data()[i]; }
  const T& operator[](std::size_t i) const { return data()[i]; }
  std::size_t size() const { return n_; }
  bool guards_intact() const {
    for (std::size_t b = (offset_ + n_) * sizeof(T); b < bytes_.size(); ++b)
      if (bytes_[b] != kSentinel) return false;
    for (std::size_t b = 0; b < offset_ * sizeof(T); ++b)
      if (bytes_[b] != kSentinel) return false;
    return true;
  }

 private:
  std::size_t n_, offset_;
  std::vector<unsigned char> bytes_;
};

template <class T>
std::string show(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    char s[64];
    std::uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    std::snprintf(s, sizeof s, "%.9g (0x%08x)", static_cast<double>(v), bits);
    return s;
  } else {
    return std::to_string(v);
  }
}

// The first element where two outputs of n elements differ in their bits, or n.
template <class T>
std::size_t first_difference(const T* expected, const T* got, std::size_t n) {
  std::size_t i = 0;
  while (i < n && std::memcmp(expected + i, got + i, sizeof(T)) == 0) ++i;
  return i;
}

// A scheme on a shape: the layout and the number of parameters it needs.
struct Scheme {
  std::string name;
  Shape shape;
  ParamLayout layout;
  std::size_t count;
};

std::string describe(const Shape& s) {
  std::string d = "[";
  for (int i = 0; i < s.rank; ++i) d += (i ? ", " : "") + std::to_string(s[i]);
  return d + (s.layout == Layout::kRowMajor ? "] RowMajor" : "] ColMajor");
}

// The schemes of one shape of dims (as listed, in either layout).
std::vector<Scheme> schemes_of(std::initializer_list<std::int64_t> dims) {
  std::vector<Scheme> out;
  for (Layout l : {Layout::kRowMajor, Layout::kColMajor}) {
    const Shape s(dims, l);
    std::int64_t size = 1;
    for (int a = 0; a < s.rank; ++a) size *= s[a];
    out.push_back({"per tensor", s, ParamLayout(Granularity::kPerTensor), 1});
    out.push_back({"per element", s, ParamLayout(Granularity::kPerElement), static_cast<std::size_t>(size)});
    for (int a = 0; a < s.rank; ++a) {
      out.push_back(
          {"per axis " + std::to_string(a), s, ParamLayout(Granularity::kPerAxis, a), static_cast<std::size_t>(s[a])});
      for (std::int64_t block : {1, 3, 16, 32}) {
        if (block > s[a]) continue;
        const std::int64_t blocks = (s[a] + block - 1) / block;
        out.push_back({"blocked " + std::to_string(block) + " on axis " + std::to_string(a), s,
                       ParamLayout(Granularity::kBlocked, a, block), static_cast<std::size_t>(size / s[a] * blocks)});
      }
    }
  }
  return out;
}

std::vector<Scheme> all_schemes() {
  std::vector<Scheme> out;
  for (auto dims : {std::initializer_list<std::int64_t>{0}, {1}, {7}, {37}, {131}, {1031}})
    for (Scheme& s : schemes_of(dims)) out.push_back(s);
  for (auto dims :
       {std::initializer_list<std::int64_t>{3, 67}, {67, 3}, {33, 35}, {5, 3, 41}, {2, 130, 3}, {2, 200, 3}})
    for (Scheme& s : schemes_of(dims)) out.push_back(s);
  return out;
}

// Parameters: scales and zero points drawn from the edges.
struct Params {
  std::vector<float> scale, zero_point;
  Range range;
  FloatQParamsView view(ParamLayout layout) const {
    return {layout, scale.data(), zero_point.data(), scale.size(), range};
  }
};

float draw_scale(std::mt19937& rng, bool allow_zero) {
  const float edges[] = {1.0f, 0.5f, 1e-45f, 1e-40f, 1e-38f, 3e-39f, 1e-10f, 1e30f, 3.4e38f, 0.1f, 1e-5f, 7.0f};
  const unsigned pick = rng() % 8;
  if (pick == 0 && allow_zero) return rng() % 2 ? 0.0f : -0.0f;
  if (pick == 1) return edges[rng() % 12];
  return std::exp2(std::uniform_real_distribution<float>(-12.0f, 6.0f)(rng));
}

float draw_zero_point(std::mt19937& rng) {
  const float edges[] = {0.0f, -0.0f, 0.5f, -0.5f, 127.5f, 3e9f, -3e9f, 1e20f, -2147483648.0f, 1e-30f, 65504.0f};
  const unsigned pick = rng() % 6;
  if (pick == 0) return edges[rng() % 11];
  if (pick == 1) return static_cast<float>(static_cast<int>(rng() % 512) - 256);
  return std::uniform_real_distribution<float>(-300.0f, 300.0f)(rng);
}

Params draw_params(std::mt19937& rng, std::size_t count, Range range, bool allow_zero_scale) {
  Params p;
  p.range = range;
  const bool one_scale = rng() % 4 == 0;  // every parameter the same: the tests's ties lie where expected
  const float s0 = draw_scale(rng, allow_zero_scale), z0 = draw_zero_point(rng);
  for (std::size_t k = 0; k < count; ++k) {
    p.scale.push_back(one_scale ? s0 : draw_scale(rng, allow_zero_scale));
    p.zero_point.push_back(one_scale ? z0 : draw_zero_point(rng));
  }
  return p;
}

// An input for an element with parameters (s, zp): with probability
// wild / 100 a special or a value beyond the int32 range (wrapping through
// int64, or on the edge of the vector paths' int32 test), else a tie of
// x * inv + zp (or its neighbour) or an ordinary value. Sweeps vary `wild`
// so that whole vectors lie in the int32 range, or some lanes do not.
float draw_input(std::mt19937& rng, float s, float zp, unsigned wild) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float specials[] = {nan,      -nan,    kInf,     -kInf,    0.0f,           -0.0f,          1e-45f,
                            -1e-45f,  1e-39f,  3.4e38f,  -3.4e38f, 0x1p31f,        -0x1p31f,       0x1p32f,
                            -0x1p32f, 0x1p63f, -0x1p63f, 4.5e9f,   0x1.fffffep62f, 0x1.fffffep30f, -0x1.000002p31f};
  const float inv = float_zp::inverse_scale(s);
  auto nudged = [&](float x) {  // up to two ulps either way
    for (int step = static_cast<int>(rng() % 5) - 2; step != 0; step += step > 0 ? -1 : 1)
      x = std::nextafter(x, step > 0 ? kInf : -kInf);
    return x;
  };
  if (rng() % 100 < wild) {
    switch (rng() % 3) {
      case 0:
        return specials[rng() % 21];
      case 1:  // x * inv + zp in the wrapping band 2^31 .. 2^64
        return std::ldexp(std::uniform_real_distribution<float>(0.5f, 1.0f)(rng), 32 + static_cast<int>(rng() % 33)) *
               (rng() % 2 ? 1.0f : -1.0f) / inv;
      default:  // x * inv + zp near +-2^31
        return nudged(((rng() % 2 ? 0x1p31f : -0x1p31f) - zp) / inv);
    }
  }
  if (rng() % 2) {  // x * inv + zp near k + 0.5
    const float k = static_cast<float>(static_cast<int>(rng() % 600) - 300) + 0.5f;
    return nudged((k - zp) / inv);
  }
  return std::uniform_real_distribution<float>(-400.0f, 400.0f)(rng) / inv;
}

/// The share of wild inputs (draw_input) of one sweep case.
unsigned draw_wildness(std::mt19937& rng) {
  const unsigned wild[] = {0, 1, 5, 30};
  return wild[rng() % 4];
}

// The ranges to draw from for a storage type Q.
template <class Q>
std::vector<Range> ranges_for() {
  std::vector<Range> r = {Range::full<Q>()};
  if constexpr (std::is_same_v<Q, std::uint8_t>) r.insert(r.end(), {Range{0, 15}, Range{0, 127}, Range{3, 200}});
  if constexpr (std::is_same_v<Q, std::int8_t>) r.insert(r.end(), {Range{-127, 127}, Range{-8, 7}});
  if constexpr (std::is_same_v<Q, std::int32_t>) r.insert(r.end(), {Range{-1000, 1000}, Range{0, 65535}});
  return r;
}

std::set<std::string>& ran() {
  static std::set<std::string> paths;
  return paths;
}

// Calls check(scheme, params, x, offset) for every scheme, a few draws of
// parameters and inputs each.
template <class Check>
void sweep(unsigned seed, std::vector<Range> ranges, bool allow_zero_scale, Check&& check) {
  std::mt19937 rng(seed);
  std::size_t at = 0;
  for (const Scheme& s : all_schemes()) {
    for (int draw = 0; draw < 4; ++draw, ++at) {
      const Range range = ranges[at % ranges.size()];
      const Params p = draw_params(rng, s.count, range, allow_zero_scale);
      const std::int64_t size = s.shape.size();
      SCOPED_TRACE(s.name + " on " + describe(s.shape) + ", range [" + std::to_string(range.qmin) + ", " +
                   std::to_string(range.qmax) + "]");
      if (!check(s, p, static_cast<std::size_t>(size), rng, at % 4)) return;
    }
  }
}

// The parameter index of each element, from the scalar path's own loop:
// fake-quantize with scale 1 and the zero point k reproduces k.
std::vector<std::size_t> parameter_index(const Scheme& s) {
  const std::size_t n = static_cast<std::size_t>(s.shape.size());
  std::vector<float> scale(s.count, 1.0f), zp(s.count), x(n, 0.0f), y(n);
  for (std::size_t k = 0; k < s.count; ++k) zp[k] = static_cast<float>(k);
  const FloatQParamsView v{s.layout, scale.data(), zp.data(), s.count, Range{std::numeric_limits<int>::min(), 0}};
  const std::vector<std::int32_t> q(n, 0);
  EXPECT_TRUE((dequantize_float_qparams<std::int32_t, Path::kScalar>(q.data(), y.data(), s.shape, v).is_ok()));
  std::vector<std::size_t> index(n);
  for (std::size_t i = 0; i < n; ++i) index[i] = static_cast<std::size_t>(-y[i]);  // (0 - k) * 1
  return index;
}

template <class Q>
void test_quantize(unsigned seed) {
  sweep(seed, ranges_for<Q>(), true,
        [](const Scheme& s, const Params& p, std::size_t n, std::mt19937& rng, std::size_t off) {
          const std::vector<std::size_t> k = parameter_index(s);
          Buffer<float> x(n, off);
          const unsigned wild = draw_wildness(rng);
          for (std::size_t i = 0; i < n; ++i) x[i] = draw_input(rng, p.scale[k[i]], p.zero_point[k[i]], wild);
          Buffer<Q> expected(n, 0);
          EXPECT_TRUE(
              (quantize_float_qparams<Q, Path::kScalar>(x.data(), expected.data(), s.shape, p.view(s.layout))).is_ok());
          for (std::size_t i = 0; i < n; ++i) {
            const Q e = static_cast<Q>(float_zp::quantize(x[i], p.scale[k[i]], p.zero_point[k[i]], p.range));
            if (e != expected[i]) {
              ADD_FAILURE() << "portable path differs from float_zp at " << i << ": x " << show(x[i]);
              return false;
            }
          }
          bool ok = true;
          for_each_supported_path([&](auto path) {
            ran().insert(path_name(path.value));
            Buffer<Q> q(n, (off + 1) % 4);
            EXPECT_TRUE((quantize_float_qparams<Q, path.value>(x.data(), q.data(), s.shape, p.view(s.layout))).is_ok());
            const std::size_t i = first_difference(expected.data(), q.data(), n);
            if (i < n) {
              ADD_FAILURE() << path_name(path.value) << ": q[" << i << "] = " << show(q[i]) << ", expected "
                            << show(expected[i]) << "\n  x " << show(x[i]) << ", scale " << show(p.scale[k[i]])
                            << ", zero point " << show(p.zero_point[k[i]]);
              ok = false;
            }
            EXPECT_TRUE(q.guards_intact()) << path_name(path.value);
          });
          return ok;
        });
}

template <class Q>
void test_dequantize(unsigned seed) {
  sweep(
      seed, ranges_for<Q>(), true,
      [](const Scheme& s, const Params& p, std::size_t n, std::mt19937& rng, std::size_t off) {
        Buffer<Q> q(n, off);  // any stored value: dequantize does not clamp
        for (std::size_t i = 0; i < n; ++i) q[i] = static_cast<Q>(rng());
        Buffer<float> expected(n, 0);
        EXPECT_TRUE(
            (dequantize_float_qparams<Q, Path::kScalar>(q.data(), expected.data(), s.shape, p.view(s.layout))).is_ok());
        const std::vector<std::size_t> k = parameter_index(s);
        for (std::size_t i = 0; i < n; ++i) {
          const float e = float_zp::dequantize(q[i], p.scale[k[i]], p.zero_point[k[i]]);
          if (std::memcmp(&e, &expected[i], sizeof e) != 0) {
            ADD_FAILURE() << "portable path differs from float_zp at " << i;
            return false;
          }
        }
        bool ok = true;
        for_each_supported_path([&](auto path) {
          Buffer<float> y(n, (off + 3) % 4);
          EXPECT_TRUE((dequantize_float_qparams<Q, path.value>(q.data(), y.data(), s.shape, p.view(s.layout))).is_ok());
          const std::size_t i = first_difference(expected.data(), y.data(), n);
          if (i < n) {
            ADD_FAILURE() << path_name(path.value) << ": y[" << i << "] = " << show(y[i]) << ", expected "
                          << show(expected[i]) << "\n  q " << show(q[i]);
            ok = false;
          }
          EXPECT_TRUE(y.guards_intact()) << path_name(path.value);
        });
        return ok;
      });
}

void test_fake_quantize(unsigned seed, ZeroPointPrecision precision) {
  const bool half = precision == ZeroPointPrecision::kHalf;
  const std::vector<Range> ranges = {Range{0, 255},    Range{-128, 127}, Range::full<std::int32_t>(),
                                     Range{0, 15},     Range{-8, 7},     Range{-2147483647, 2147483600},
                                     Range{-5, 100000}};
  sweep(seed, ranges, false, [&](const Scheme& s, const Params& p, std::size_t n, std::mt19937& rng, std::size_t off) {
    const std::vector<std::size_t> k = parameter_index(s);
    Buffer<float> x(n, off);
    const unsigned wild = draw_wildness(rng);
    for (std::size_t i = 0; i < n; ++i) x[i] = draw_input(rng, p.scale[k[i]], p.zero_point[k[i]], wild);
    Buffer<float> expected(n, 0);
    EXPECT_TRUE(
        fake_quantize_float_qparams<Path::kScalar>(x.data(), expected.data(), s.shape, p.view(s.layout), precision)
            .is_ok());
    for (std::size_t i = 0; i < n; ++i) {
      const float e = float_zp::fake_quantize(x[i], p.scale[k[i]], p.zero_point[k[i]], p.range, half);
      if (std::memcmp(&e, &expected[i], sizeof e) != 0) {
        ADD_FAILURE() << "portable path differs from float_zp at " << i;
        return false;
      }
    }
    bool ok = true;
    for_each_supported_path([&](auto path) {
      Buffer<float> y(n, (off + 2) % 4);
      EXPECT_TRUE(
          fake_quantize_float_qparams<path.value>(x.data(), y.data(), s.shape, p.view(s.layout), precision).is_ok());
      std::size_t i = first_difference(expected.data(), y.data(), n);
      EXPECT_TRUE(y.guards_intact()) << path_name(path.value);
      // In place.
      Buffer<float> z(n, off);
      if (n > 0) std::memcpy(z.data(), x.data(), n * sizeof(float));
      EXPECT_TRUE(
          fake_quantize_float_qparams<path.value>(z.data(), z.data(), s.shape, p.view(s.layout), precision).is_ok());
      const std::size_t j = first_difference(expected.data(), z.data(), n);
      if (i < n || j < n) {
        const std::size_t at = i < j ? i : j;
        ADD_FAILURE() << path_name(path.value) << (i < n ? "" : " in place") << ": y[" << at
                      << "] = " << show(i < n ? y[at] : z[at]) << ", expected " << show(expected[at]) << "\n  x "
                      << show(x[at]) << ", scale " << show(p.scale[k[at]]) << ", zero point "
                      << show(p.zero_point[k[at]]);
        ok = false;
      }
    });
    return ok;
  });
}

template <class T>
void test_packed(unsigned seed) {
  using U = typename T::Unpacked;
  const std::vector<Range> ranges = {T::range(), Range{T::range().qmin + 1, T::range().qmax}};
  sweep(seed, ranges, true, [](const Scheme& s, const Params& p, std::size_t n, std::mt19937& rng, std::size_t) {
    const std::vector<std::size_t> k = parameter_index(s);
    std::vector<float> x(n);
    const unsigned wild = draw_wildness(rng);
    for (std::size_t i = 0; i < n; ++i) x[i] = draw_input(rng, p.scale[k[i]], p.zero_point[k[i]], wild);
    const std::size_t bytes = static_cast<std::size_t>(packed_bytes<T>(static_cast<std::int64_t>(n)));
    Buffer<std::uint8_t> expected(bytes, 0);
    Buffer<float> expected_y(n, 0);
    EXPECT_TRUE((quantize_float_qparams_packed<T, Path::kScalar>(x.data(), expected.data(), s.shape, p.view(s.layout)))
                    .is_ok());
    EXPECT_TRUE((dequantize_float_qparams_packed<T, Path::kScalar>(expected.data(), expected_y.data(), s.shape,
                                                                   p.view(s.layout)))
                    .is_ok());
    for (std::size_t i = 0; i < n; ++i) {
      const auto e = static_cast<U>(float_zp::quantize(x[i], p.scale[k[i]], p.zero_point[k[i]], p.range));
      if (unpack_at<T>(expected.data(), static_cast<std::int64_t>(i)) != e) {
        ADD_FAILURE() << "portable path differs from float_zp at " << i;
        return false;
      }
    }
    bool ok = true;
    for_each_supported_path([&](auto path) {
      Buffer<std::uint8_t> packed(bytes, 0);
      Buffer<float> y(n, 1);
      EXPECT_TRUE(
          (quantize_float_qparams_packed<T, path.value>(x.data(), packed.data(), s.shape, p.view(s.layout))).is_ok());
      EXPECT_TRUE((dequantize_float_qparams_packed<T, path.value>(expected.data(), y.data(), s.shape, p.view(s.layout)))
                      .is_ok());
      const std::size_t i = first_difference(expected.data(), packed.data(), bytes);
      const std::size_t j = first_difference(expected_y.data(), y.data(), n);
      if (i < bytes || j < n) {
        ADD_FAILURE() << path_name(path.value) << ": packed byte " << i << " of " << bytes << ", y[" << j << "] of "
                      << n;
        ok = false;
      }
      EXPECT_TRUE(packed.guards_intact() && y.guards_intact()) << path_name(path.value);
    });
    return ok;
  });
}

TEST(FloatQParamsSimd, QuantizeInt8) { test_quantize<std::int8_t>(1); }
TEST(FloatQParamsSimd, QuantizeUint8) { test_quantize<std::uint8_t>(2); }
TEST(FloatQParamsSimd, QuantizeInt16) { test_quantize<std::int16_t>(3); }
TEST(FloatQParamsSimd, QuantizeInt32) { test_quantize<std::int32_t>(4); }
TEST(FloatQParamsSimd, DequantizeInt8) { test_dequantize<std::int8_t>(5); }
TEST(FloatQParamsSimd, DequantizeUint8) { test_dequantize<std::uint8_t>(6); }
TEST(FloatQParamsSimd, DequantizeInt16) { test_dequantize<std::int16_t>(7); }
TEST(FloatQParamsSimd, DequantizeInt32) { test_dequantize<std::int32_t>(8); }
TEST(FloatQParamsSimd, FakeQuantizeFloatZeroPoint) { test_fake_quantize(9, ZeroPointPrecision::kFloat); }
TEST(FloatQParamsSimd, FakeQuantizeHalfZeroPoint) { test_fake_quantize(10, ZeroPointPrecision::kHalf); }
TEST(FloatQParamsSimd, PackedUInt4) { test_packed<UInt4>(11); }
TEST(FloatQParamsSimd, PackedInt4) { test_packed<Int4>(12); }
TEST(FloatQParamsSimd, PackedUInt2) { test_packed<UInt2>(13); }

// Named cases in the middle of a vector and in the tail, per tensor.
TEST(FloatQParamsSimd, NamedCases) {
  struct Named {
    float x, scale, zero_point;
    std::int32_t q;  // uint8 [0, 255]
    float fake;      // [-128, 127], float zero point
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Named named[] = {
      {2.5f, 1.0f, 0.0f, 2, 2.0f},                  // tie to even
      {3.5f, 1.0f, 0.0f, 4, 4.0f},                  // tie to even
      {-0.3f, 1.0f, 0.0f, 0, 0.0f},                 // -0.0 rounded: +0.0 out
      {1.0f, 1.0f, 0.25f, 1, 0.75f},                // non-integer zero point
      {0x1p32f + 512.0f, 1.0f, 0.0f, 255, 127.0f},  // wraps to 512, clamped; fake: beyond int32, clamped
      {4294967040.0f, 1.0f, 0.0f, 0, 127.0f},       // 2^32 - 256 wraps to -256
      {0x1p31f + 200.0f * 256.0f, 1.0f, 0.0f, 0, 127.0f},
      {0x1p63f, 1.0f, 0.0f, 0, -128.0f},  // INT64_MIN: low bits 0; fake: qmin
      {kInf, 1.0f, 0.0f, 0, -128.0f},     // as PyTorch: +inf to qmin
      {nan, 1.0f, 0.0f, 0, -128.0f},
      {7.0f, 0.0f, 1.5f, 8, 6.5f},  // scale 0 quantizes with inv = 1 (fake: scale 1 below)
  };
  for (std::size_t n : {std::size_t{16}, std::size_t{37}}) {
    for (const Named& c : named) {
      std::vector<float> x(n, c.x);
      const float s = c.scale;
      const FloatQParamsView v{ParamLayout(), &s, &c.zero_point, 1, Range{0, 255}};
      const float fs = c.scale == 0.0f ? 1.0f : c.scale;
      const FloatQParamsView fv{ParamLayout(), &fs, &c.zero_point, 1, Range{-128, 127}};
      for_each_supported_path([&](auto path) {
        std::vector<std::uint8_t> q(n);
        std::vector<float> y(n);
        ASSERT_TRUE((quantize_float_qparams<std::uint8_t, path.value>(x.data(), q.data(),
                                                                      Shape::row_major({std::int64_t(n)}), v))
                        .is_ok());
        ASSERT_TRUE(
            (fake_quantize_float_qparams<path.value>(x.data(), y.data(), Shape::row_major({std::int64_t(n)}), fv))
                .is_ok());
        for (std::size_t i = 0; i < n; ++i) {
          ASSERT_EQ(q[i], c.q) << path_name(path.value) << ", x = " << show(c.x) << ", i = " << i;
          ASSERT_EQ(std::memcmp(&c.fake, &y[i], sizeof(float)), 0)
              << path_name(path.value) << ", x = " << show(c.x) << ": " << show(y[i]);
        }
      });
    }
  }
}

TEST(FloatQParamsSimd, PathsThatRan) {
  std::string names;
  for (const std::string& p : ran()) names += " " + p;
  std::printf("float zero points compared on:%s (this CPU: %s)\n", names.c_str(),
              testing_paths::supported_path_names().c_str());
}

}  // namespace
}  // namespace eigenq
