// The element functors (qat/functors.hpp) against the scalar reference of
// numerics.hpp and the kernels, bit for bit (floats compared as bits, NaN
// included): packetOp on every packet size Eigen has here, and whole
// expressions that Eigen vectorizes, under every rounding x scaling policy,
// for per-tensor and per-axis parameters, narrow, 4-bit, full and
// wider-than-float (int32) ranges. Inputs: every float class (zeros,
// subnormals, normals, infinities, NaN with payloads and signs), ties and
// their one-ulp neighbours at every level of the range and past it, and a
// sweep over the bit patterns.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "eigenq/eigenq.hpp"

namespace eigenq {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

std::uint32_t bits(float v) {
  std::uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}
float from_bits(std::uint32_t b) {
  float v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

using AllNumerics = std::tuple<Numerics<RoundHalfEven, ScaleByReciprocal>, Numerics<RoundHalfEven, ScaleByDivision>,
                               Numerics<RoundHalfAway, ScaleByReciprocal>, Numerics<RoundHalfAway, ScaleByDivision>,
                               Numerics<RoundHalfUp, ScaleByReciprocal>, Numerics<RoundHalfUp, ScaleByDivision>>;

template <class... T, class Fn>
void for_each_numerics(std::tuple<T...>*, Fn&& fn) {
  (fn(T{}), ...);
}
template <class Fn>
void for_each_numerics(Fn&& fn) {
  for_each_numerics(static_cast<AllNumerics*>(nullptr), fn);
}

template <class N>
std::string label() {
  return std::string(std::is_same_v<typename N::Rounding, RoundHalfEven>   ? "half-even"
                     : std::is_same_v<typename N::Rounding, RoundHalfAway> ? "half-away"
                                                                           : "half-up") +
         (std::is_same_v<typename N::Scaling, ScaleByReciprocal> ? " x*(1/s)" : " x/s");
}

struct Params {
  float scale;
  std::int32_t zero_point;
  Range range;
};

// Zero points at both ends and inside narrow, 4-bit, full and wide ranges;
// small, ordinary and large scales.
std::vector<Params> parameter_sets() {
  return {
      {0.05f, 3, Range::full<std::int8_t>()},
      {1.7067393f, -128, Range::full<std::int8_t>()},
      {0.6661661f, 127, Range::narrow<std::int8_t>()},
      {0.25f, 0, Range::full<std::uint8_t>()},
      {1.0f, 255, Range::full<std::uint8_t>()},
      {0.1f, -8, Range::bits<std::int8_t>(4)},
      {3e-5f, 100, Range::full<std::int16_t>()},
      {7.0f, 0, Range{-(1 << 24), 1 << 24}},  // exactly 2^25 wide: not float-exact, the per-lane path
      {0.5f, 12345, Range::full<std::int32_t>()},
      {1e-30f, 0, Range::full<std::int32_t>()},
  };
}

// Every float class, then ties, their neighbours and the saturation edges of p.
std::vector<float> inputs_for(const Params& p, std::mt19937& rng) {
  std::vector<float> v = {0.0f,
                          -0.0f,
                          std::numeric_limits<float>::denorm_min(),
                          -std::numeric_limits<float>::denorm_min(),
                          from_bits(0x007FFFFF),
                          std::numeric_limits<float>::min(),
                          -std::numeric_limits<float>::min(),
                          std::numeric_limits<float>::max(),
                          std::numeric_limits<float>::lowest(),
                          kInf,
                          -kInf,
                          std::numeric_limits<float>::quiet_NaN(),
                          -std::numeric_limits<float>::quiet_NaN(),
                          from_bits(0x7F800001),  // signalling NaN payload
                          from_bits(0xFFC12345),
                          0.5f,
                          -0.5f,
                          0.49999997f,
                          -0.49999997f,
                          1.5f,
                          2.5f,
                          -2.5f,
                          8388607.5f,
                          8388608.0f,
                          16777216.0f,
                          48.64207f,
                          -6.328578f};
  const double lo = static_cast<double>(p.range.qmin) - p.zero_point;
  const double hi = static_cast<double>(p.range.qmax) - p.zero_point;
  const double step = std::max(1.0, (hi - lo) / 300.0);
  for (double k = lo - 3; k <= hi + 3; k += step)
    for (double half : {-0.5, 0.0, 0.5}) {
      const float t = static_cast<float>((std::floor(k) + half) * p.scale);
      v.insert(v.end(), {t, std::nextafter(t, kInf), std::nextafter(t, -kInf), -t});
    }
  std::uniform_real_distribution<float> u(static_cast<float>(lo * p.scale * 1.5),
                                          static_cast<float>(hi * p.scale * 1.5));
  for (int i = 0; i < 2000; ++i) v.push_back(u(rng));
  // A sweep over the bit patterns: every exponent, both signs.
  for (std::uint64_t b = 0; b < (std::uint64_t{1} << 32); b += 65537)
    v.push_back(from_bits(static_cast<std::uint32_t>(b)));
  return v;
}

// packetOp of every packet size against the scalar reference, lane by lane.
// (Packets are passed as values: a packet type written as a template
// argument loses its attributes, and GCC says so.)
template <class N, class Packet>
void check_packets(const std::vector<float>& x, const Params& p, Packet) {
  using namespace Eigen::internal;
  constexpr int n = static_cast<int>(sizeof(Packet) / sizeof(float));
  const FakeQuantOp<N> fq(p.scale, p.zero_point, p.range);
  const SteOp<N> ste(fq);
  const SteMaskOp<N> mask(fq);
  std::vector<float> xs = x;
  while (xs.size() % n != 0) xs.push_back(0.0f);
  float y[n], m[n], dx[n];
  for (std::size_t i = 0; i < xs.size(); i += n) {
    const Packet v = ploadu<Packet>(&xs[i]);
    pstoreu(y, fq.packetOp(v));
    pstoreu(m, mask.packetOp(v));
    pstoreu(dx, ste.packetOp(v, pset1<Packet>(-1.25f)));
    for (int j = 0; j < n; ++j) {
      const float a = xs[i + static_cast<std::size_t>(j)];
      const bool in = ste_mask<N>(a, p.scale, p.zero_point, p.range);
      ASSERT_EQ(bits(y[j]), bits(fake_quantize<N>(a, p.scale, p.zero_point, p.range)))
          << label<N>() << " x = " << a << " (0x" << std::hex << bits(a) << std::dec << ") scale " << p.scale << " zp "
          << p.zero_point << " [" << p.range.qmin << ", " << p.range.qmax << "] packet of " << n;
      ASSERT_EQ(bits(m[j]), bits(in ? 1.0f : 0.0f)) << label<N>() << " mask, x = " << a;
      ASSERT_EQ(bits(dx[j]), bits(-1.25f * static_cast<float>(in))) << label<N>() << " ste, x = " << a;
    }
  }
}

TEST(Functors, PacketOpMatchesTheReferenceOnEveryFloatClass) {
  const Eigen::internal::packet_traits<float>::type full{};
  const Eigen::internal::packet_traits<float>::half half{};
  std::mt19937 rng(13);
  for (const Params& p : parameter_sets()) {
    const std::vector<float> x = inputs_for(p, rng);
    for_each_numerics([&](auto n) {
      using N = decltype(n);
      check_packets<N>(x, p, full);
      check_packets<N>(x, p, half);
    });
  }
  std::printf("packets of %zu and %zu floats checked\n", sizeof(full) / sizeof(float), sizeof(half) / sizeof(float));
}

// Whole expressions Eigen vectorizes (the evaluator has packet access) give
// the kernels' bits; lengths cover the scalar tail after the last packet.
TEST(Functors, ExpressionsGiveTheKernelsBits) {
  std::mt19937 rng(14);
  for (const Params& p : parameter_sets()) {
    std::vector<float> x = inputs_for(p, rng);
    x.resize(x.size() - x.size() % 64 + 37);
    const auto n = static_cast<Eigen::Index>(x.size());
    for_each_numerics([&](auto num) {
      using N = decltype(num);
      const FakeQuantOp<N> fq(p.scale, p.zero_point, p.range);
      const Eigen::Map<const Eigen::ArrayXf> a(x.data(), n);
      const auto expr = a.unaryExpr(fq);
      static_assert(Eigen::internal::evaluator<std::decay_t<decltype(expr)>>::Flags & Eigen::PacketAccessBit);
      const Eigen::ArrayXf y = expr;
      std::vector<float> want(x.size());
      Quantizer<std::int32_t, N> qz(Shape::row_major({n}), QParams::per_tensor(p.scale, p.zero_point, p.range));
      qz.fake_quantize(x.data(), want.data());
      std::vector<std::uint8_t> mask(x.size());
      std::vector<float> ignored(x.size());
      qz.fake_quantize_mask(x.data(), ignored.data(), mask.data());
      const Eigen::ArrayXf dx = a.binaryExpr(Eigen::ArrayXf::Constant(n, 3.0f), SteOp<N>(fq));
      const Eigen::ArrayXf m = ste_mask_expr(a, fq);
      for (Eigen::Index i = 0; i < n; ++i) {
        const auto k = static_cast<std::size_t>(i);
        ASSERT_EQ(bits(y[i]), bits(want[k])) << label<N>() << " x = " << x[k];
        ASSERT_EQ(bits(dx[i]), bits(3.0f * mask[k])) << label<N>() << " x = " << x[k];
        ASSERT_EQ(m[i], mask[k]) << label<N>() << " x = " << x[k];
      }
      // The tensor evaluator too.
      const Eigen::TensorMap<const Eigen::Tensor<float, 1>> t(x.data(), n);
      const Eigen::Tensor<float, 1> ty = t.unaryExpr(fq);
      for (Eigen::Index i = 0; i < n; ++i) ASSERT_EQ(bits(ty(i)), bits(want[static_cast<std::size_t>(i)]));
    });
  }
}

// Fake-quant fused with the arithmetic around it: (x * w) in one pass.
TEST(Functors, FuseWithArithmetic) {
  Eigen::MatrixXf x = Eigen::MatrixXf::Random(37, 19), w = Eigen::MatrixXf::Random(19, 23);
  const FakeQuantOp<> fq(0.01f, 3, Range::full<std::int8_t>());
  const Eigen::MatrixXf y = (x * w).unaryExpr(fq);
  const Eigen::MatrixXf product = x * w;
  const Eigen::MatrixXf want = fake_quantize(product, QParams::per_tensor(0.01f, 3, Range::full<std::int8_t>()));
  for (Eigen::Index i = 0; i < y.size(); ++i) ASSERT_EQ(bits(y(i)), bits(want(i)));
  Eigen::Tensor<float, 2> a(5, 7), b(5, 7);
  a.setRandom();
  b.setRandom();
  const Eigen::Tensor<float, 2> ty = (a * 3.0f + b).unaryExpr(fq);
  for (Eigen::Index i = 0; i < ty.size(); ++i)
    ASSERT_EQ(bits(ty.data()[i]), bits(fq(a.data()[i] * 3.0f + b.data()[i])));
}

// Per axis, every traversal: matrices of both storage orders on both axes
// (packets of one channel, of consecutive channels), blocks, and tensors
// (packets crossing rows: the gather path), against the per-axis kernels.
template <class N>
void check_per_axis(std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-4.0f, 4.0f), su(0.01f, 0.3f);
  std::uniform_int_distribution<int> zu(-20, 20);
  for (int axis : {0, 1, -1}) {
    const Eigen::Index rows = 13, cols = 21;
    const Eigen::Index channels = axis == 0 ? rows : cols;
    std::vector<float> s;
    std::vector<std::int32_t> z;
    for (Eigen::Index c = 0; c < channels; ++c) {
      s.push_back(su(rng));
      z.push_back(zu(rng));
    }
    const QParams p = QParams::per_axis(axis, s, z, Range::full<std::int8_t>());
    const FakeQuantAxisOp<N> op(p);
    Eigen::MatrixXf col(rows, cols);
    for (Eigen::Index i = 0; i < col.size(); ++i) col(i) = u(rng);
    col(3, 4) = std::numeric_limits<float>::quiet_NaN();
    col(5, 6) = kInf;
    col(7, 8) = (std::round(col(7, 8) / 0.1f) + 0.5f) * 0.1f;
    const Eigen::Matrix<float, -1, -1, Eigen::RowMajor> row = col;

    const Eigen::MatrixXf want = fake_quantize<N>(col, p);
    const Eigen::Matrix<std::uint8_t, -1, -1> mask = fake_quantize_mask<N>(col, p).mask;
    const Eigen::MatrixXf got_col = fake_quantize_expr(col, op);
    const Eigen::Matrix<float, -1, -1, Eigen::RowMajor> got_row = fake_quantize_expr(row, op);
    const Eigen::MatrixXf mask_col = ste_mask_expr(col, op);
    const Eigen::Matrix<float, -1, -1, Eigen::RowMajor> mask_row = ste_mask_expr(row, op);
    for (Eigen::Index i = 0; i < rows; ++i)
      for (Eigen::Index j = 0; j < cols; ++j) {
        ASSERT_EQ(bits(got_col(i, j)), bits(want(i, j)))
            << label<N>() << " axis " << axis << " (" << i << ", " << j << ")";
        ASSERT_EQ(bits(got_row(i, j)), bits(want(i, j))) << label<N>() << " axis " << axis << " row-major";
        ASSERT_EQ(mask_col(i, j), mask(i, j));
        ASSERT_EQ(mask_row(i, j), mask(i, j));
      }
    // A block with its own channel indices (the axis of the block).
    if (axis == 0) {
      const Eigen::MatrixXf block_want = want.topRows(5);
      const QParams top = QParams::per_axis(0, {s.begin(), s.begin() + 5}, {z.begin(), z.begin() + 5}, p.range);
      const Eigen::MatrixXf block = fake_quantize_expr(col.topRows(5), FakeQuantAxisOp<N>(top));
      for (Eigen::Index i = 0; i < block.size(); ++i) ASSERT_EQ(bits(block(i)), bits(block_want(i)));
    }

    // Tensors: the same values, and a rank-3 tensor on each axis.
    Eigen::TensorMap<const Eigen::Tensor<float, 2>> t(col.data(), rows, cols);
    const Eigen::Tensor<float, 2> tt = fake_quantize_expr(t, op);
    const Eigen::Tensor<float, 2> tm = ste_mask_expr(t, op);
    for (Eigen::Index i = 0; i < rows; ++i)
      for (Eigen::Index j = 0; j < cols; ++j) {
        ASSERT_EQ(bits(tt(i, j)), bits(want(i, j))) << label<N>() << " tensor axis " << axis;
        ASSERT_EQ(tm(i, j), mask(i, j));
      }
  }
  for (int axis = 0; axis < 3; ++axis) {
    Eigen::Tensor<float, 3, Eigen::RowMajor> x(3, 5, 7);
    x.setRandom();
    x = x * 8.0f - 4.0f;
    const Eigen::Index channels = x.dimension(axis);
    std::vector<float> s(static_cast<std::size_t>(channels));
    for (float& v : s) v = su(rng);
    const QParams p = QParams::per_axis(axis, s, {}, Range::narrow<std::int8_t>());
    const Eigen::Tensor<float, 3, Eigen::RowMajor> want = fake_quantize<N>(x, p);
    const Eigen::Tensor<float, 3, Eigen::RowMajor> got = fake_quantize_expr(x, FakeQuantAxisOp<N>(p));
    for (Eigen::Index i = 0; i < x.size(); ++i)
      ASSERT_EQ(bits(got.data()[i]), bits(want.data()[i])) << label<N>() << " rank 3, axis " << axis;
  }
}

TEST(Functors, PerAxisMatchesTheKernelsInEveryLayout) {
  std::mt19937 rng(15);
  for_each_numerics([&](auto n) { check_per_axis<decltype(n)>(rng); });
}

// Packets of channel indices in any order: the gather path, lane by lane.
template <class Packet>
void check_gather(Packet) {
  using namespace Eigen::internal;
  constexpr int n = static_cast<int>(sizeof(Packet) / sizeof(float));
  const QParams p = QParams::per_axis(0, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f}, {1, -2, 3, 0, 5}, Range{-50, 50});
  const FakeQuantAxisOp<> op(p);
  std::mt19937 rng(16);
  std::uniform_int_distribution<int> pick(0, 4);
  std::uniform_real_distribution<float> u(-30.0f, 30.0f);
  for (int trial = 0; trial < 200; ++trial) {
    float x[n], c[n], y[n], m[n];
    for (int i = 0; i < n; ++i) {
      x[i] = u(rng);
      c[i] = static_cast<float>(pick(rng));
    }
    pstoreu(y, op.packetOp(ploadu<Packet>(x), ploadu<Packet>(c)));
    pstoreu(m, SteMaskAxisOp<>(op).packetOp(ploadu<Packet>(x), ploadu<Packet>(c)));
    for (int i = 0; i < n; ++i) {
      const auto k = static_cast<std::size_t>(c[i]);
      ASSERT_EQ(bits(y[i]), bits(fake_quantize(x[i], p.scale[k], p.zero_point[k], p.range)));
      ASSERT_EQ(m[i], ste_mask(x[i], p.scale[k], p.zero_point[k], p.range) ? 1.0f : 0.0f);
    }
  }
}

TEST(Functors, PerAxisGathersAnyChannelPattern) { check_gather(Eigen::internal::packet_traits<float>::type{}); }

// A policy without a packet form: Eigen calls the scalar operator(), which
// still gives the reference's bits.
struct RoundTowardZero {
  static float round(float v) { return std::trunc(v); }
};

TEST(Functors, PacketAccessOnlyForThePresetsPolicies) {
  using Custom = Numerics<RoundTowardZero, ScaleByDivision>;
  static_assert(Eigen::internal::functor_traits<FakeQuantOp<presets::pytorch>>::PacketAccess);
  static_assert(Eigen::internal::functor_traits<FakeQuantOp<presets::tensorflow_vars>>::PacketAccess);
  static_assert(Eigen::internal::functor_traits<FakeQuantAxisOp<presets::tflite>>::PacketAccess);
  static_assert(Eigen::internal::functor_traits<SteOp<presets::onnx>>::PacketAccess);
  static_assert(!Eigen::internal::functor_traits<FakeQuantOp<Custom>>::PacketAccess);
  static_assert(!Eigen::internal::functor_traits<SteOp<Custom>>::PacketAccess);
  const FakeQuantOp<Custom> fq(0.5f, 0, Range::full<std::int8_t>());
  Eigen::ArrayXf x(5);
  x << -1.75f, -0.25f, 0.25f, 1.75f, 100.0f;
  const Eigen::ArrayXf y = x.unaryExpr(fq);
  EXPECT_EQ(y[0], -1.5f);  // trunc(-3.5) = -3
  EXPECT_EQ(y[3], 1.5f);
  EXPECT_EQ(y[4], 63.5f);  // 127 * 0.5
}

// No default silently zeroes: an unset functor gives NaN, a failed create()
// leaves the functor as it was, and errors name the value.
TEST(Functors, UnsetAndInvalidFunctors) {
  FakeQuantOp<> unset;
  EXPECT_FALSE(unset.valid());
  EXPECT_TRUE(std::isnan(unset(0.3f)));
  Eigen::ArrayXf x = Eigen::ArrayXf::LinSpaced(20, -1.0f, 1.0f);
  const Eigen::ArrayXf y = x.unaryExpr(unset);
  EXPECT_TRUE(y.isNaN().all());

  FakeQuantOp<> op(0.5f, 1, Range{0, 7});
  const Status s = FakeQuantOp<>::create(std::numeric_limits<float>::quiet_NaN(), 0, Range{0, 1}, &op);
  EXPECT_EQ(s.code(), StatusCode::kInvalidScale);
  EXPECT_NE(s.message().find("scale[0] = nan"), std::string::npos) << s.message();
  EXPECT_EQ(op(1.0f), 1.0f);  // unchanged
  EXPECT_THROW(FakeQuantOp<>(1.0f, 5, Range{0, 1}), Error);

  FakeQuantAxisOp<> axis_unset;
  EXPECT_FALSE(axis_unset.valid());
  FakeQuantAxisOp<> a;
  const Status t = FakeQuantAxisOp<>::create(QParams::per_tensor(1.0f, 0, Range{0, 1}), &a);
  EXPECT_NE(t.message().find("per-axis parameters, got per-tensor"), std::string::npos) << t.message();
  const Status u = FakeQuantAxisOp<>::create(QParams::per_axis(0, {1.0f, -1.0f}, {}, Range{0, 1}), &a);
  EXPECT_NE(u.message().find("scale[1] = -1"), std::string::npos) << u.message();
  EXPECT_FALSE(a.valid());
}

}  // namespace
}  // namespace eigenq
