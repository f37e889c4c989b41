// Hostile input to the library: shapes whose size overflows, ranks outside
// [0, kMaxRank], block sizes near 2^63, bit widths that would be undefined
// shifts, granularities cast into the enum, null buffers. Each is refused
// with a message naming the value (or, where an answer exists, answered
// correctly), and nothing is written or changed.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "eigenq/eigenq.hpp"

namespace eigenq {
namespace {

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();

void expect_error(const Status& status, StatusCode code, const std::string& part) {
  EXPECT_FALSE(status.is_ok());
  EXPECT_EQ(status.code(), code) << status.message();
  EXPECT_NE(status.message().find(part), std::string::npos)
      << "message \"" << status.message() << "\" does not contain \"" << part << "\"";
}

const Range kInt8 = Range::full<std::int8_t>();

// ---------------------------------------------------------------------------
// Shapes

TEST(HostileShape, ElementCountOverflowIsRefused) {
  const std::int64_t big = (std::int64_t{1} << 62) + 1;  // times 4 wraps to 4
  const Shape wraps({big, 4});
  EXPECT_EQ(wraps.size(), -1);
  expect_error(check_shape(wraps), StatusCode::kInvalidArgument,
               "shape [4611686018427387905, 4] has more than 2^63 - 1 elements");
  Quantizer<std::int8_t> qz;
  expect_error(Quantizer<std::int8_t>::create(wraps, QParams::per_tensor(1.0f, 0, kInt8), &qz),
               StatusCode::kInvalidArgument, "has more than 2^63 - 1 elements");
  // A zero dimension does not excuse the others: no such tensor exists, and
  // per-axis strides over the other dimensions would overflow.
  const Shape hollow({0, std::int64_t{1} << 32, std::int64_t{1} << 32});
  EXPECT_EQ(hollow.size(), -1);
  const std::vector<float> scales(1, 1.0f);
  expect_error(Quantizer<std::int8_t>::create(hollow, QParams::per_axis(0, {}, {}, kInt8), &qz),
               StatusCode::kInvalidArgument, "more than 2^63 - 1 elements");
  // The largest valid count is accepted.
  EXPECT_EQ(Shape({kInt64Max}).size(), kInt64Max);
  EXPECT_EQ(Shape({0, kInt64Max}).size(), 0);
  EXPECT_TRUE(check_shape(Shape({0, kInt64Max})).is_ok());
}

TEST(HostileShape, RankOutsideZeroToMaxRankIsKeptAndRefused) {
  std::vector<std::int64_t> dims(40, 1);
  dims[1] = 3;
  // Rank 9 used to write its ninth dimension over `rank` (becoming 2); rank
  // 40 wrote past the array.
  for (int rank : {9, 40, -1}) {
    const Shape s = Shape::from(dims.data(), rank, Layout::kRowMajor);
    EXPECT_EQ(s.rank, rank);
    EXPECT_EQ(s.size(), -1);
    expect_error(check_shape(s), StatusCode::kInvalidArgument, "rank " + std::to_string(rank) + " is outside [0, 8]");
    Quantizer<std::int8_t> qz;
    expect_error(Quantizer<std::int8_t>::create(s, QParams::per_tensor(1.0f, 0, kInt8), &qz),
                 StatusCode::kInvalidArgument, "rank " + std::to_string(rank));
  }
  const Shape nine({1, 3, 1, 1, 1, 1, 1, 1, 1});
  EXPECT_EQ(nine.rank, 9);
  expect_error(check_shape(nine), StatusCode::kInvalidArgument, "rank 9 is outside [0, 8]");
  EXPECT_TRUE(check_shape(Shape::from(dims.data(), 8, Layout::kColMajor)).is_ok());
}

TEST(HostileShape, BlockCountDoesNotOverflowForHugeBlockSizes) {
  // ceil(5 / (2^63 - 1)) is 1 block per row; (5 + block - 1) used to overflow.
  const Shape shape({3, 5});
  Quantizer<std::int8_t> qz;
  const Status s =
      Quantizer<std::int8_t>::create(shape, QParams::blocked(1, kInt64Max, {1.0f, 2.0f, 4.0f}, {}, kInt8), &qz);
  ASSERT_TRUE(s.is_ok()) << s.message();
  EXPECT_EQ(qz.resolved().blocks, 1);
  EXPECT_EQ(qz.resolved().count, 3u);
  const std::vector<float> x = {1, 2, 3, 4, 5, 2, 4, 6, 8, 10, 4, 8, 12, 16, 20};
  std::vector<std::int8_t> q(x.size());
  qz.quantize(x.data(), q.data());
  EXPECT_EQ(q, std::vector<std::int8_t>({1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2, 3, 4, 5}));
  MinMax mm;
  ASSERT_TRUE(compute_min_max(x.data(), shape, blocked_layout(1, kInt64Max), &mm).is_ok());
  EXPECT_EQ(mm.max, std::vector<float>({5, 10, 20}));
}

TEST(HostileShape, GranularityCastIntoTheEnumIsRefused) {
  const float scale = 1.0f;
  const std::int32_t zero_point = 0;
  QParamsView v{static_cast<Granularity>(7), 0, 0, &scale, &zero_point, 1, kInt8};
  Quantizer<std::int8_t> qz;
  expect_error(Quantizer<std::int8_t>::create(Shape({4}), v, &qz), StatusCode::kInvalidArgument,
               "granularity = 7 is not a Granularity");
  MinMax mm;
  const float x[4] = {1, 2, 3, 4};
  expect_error(compute_min_max(x, Shape({4}), v, &mm), StatusCode::kInvalidArgument, "granularity = 7");
}

// ---------------------------------------------------------------------------
// Bit widths

TEST(HostileRange, BitsOutsideTheStorageWidthAreRefusedByWidth) {
  Range r{1, 2};
  for (int bits : {0, -1, 9, 33, 64}) {
    expect_error(
        Range::bits<std::int8_t>(bits, &r), StatusCode::kInvalidRange,
        "Range::bits<int8>(" + std::to_string(bits) + "): width " + std::to_string(bits) + " is outside [1, 8]");
    EXPECT_EQ(r, (Range{1, 2}));  // unchanged
  }
  expect_error(Range::bits<std::uint8_t>(0, &r), StatusCode::kInvalidRange, "Range::bits<uint8>(0)");
  expect_error(Range::bits<std::int32_t>(33, &r), StatusCode::kInvalidRange, "is outside [1, 32]");
  try {
    (void)Range::bits<std::uint8_t>(0);  // used to be the one-level range [0, 0]
    ADD_FAILURE() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), StatusCode::kInvalidRange);
    EXPECT_NE(std::string(e.what()).find("width 0 is outside [1, 8]"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)Range::bits<std::int16_t>(64), Error);
  // Every valid width, at compile time too.
  static_assert(Range::bits<std::int8_t>(4) == Range{-8, 7});
  static_assert(Range::bits<std::int32_t>(32) == Range::full<std::int32_t>());
  static_assert(Range::bits<std::uint8_t>(1) == Range{0, 1});
  ASSERT_TRUE(Range::bits<std::uint8_t>(8, &r).is_ok());
  EXPECT_EQ(r, Range::full<std::uint8_t>());
}

// ---------------------------------------------------------------------------
// Null buffers

TEST(HostileBuffers, NullPointersWithElementsAreRefusedByName) {
  const Shape four({4});
  const std::vector<float> x(4, 1.0f);
  std::vector<float> y(4, 7.0f);
  QParams p;
  expect_error(choose_qparams<std::int8_t>(nullptr, four, per_tensor_layout(), kInt8, Symmetry::kAffine, &p),
               StatusCode::kInvalidArgument, "x is a null pointer, but shape [4] has 4 elements");
  MinMaxObserver<std::int8_t> minmax;
  expect_error(minmax.observe(nullptr, four), StatusCode::kInvalidArgument, "x is a null pointer");
  MovingAverageMinMaxObserver<std::int8_t> moving;
  expect_error(moving.observe(nullptr, four), StatusCode::kInvalidArgument, "x is a null pointer");

  FakeQuantSTE<> ste(QParams::per_tensor(0.5f, 0, kInt8));
  expect_error(ste.forward(nullptr, y.data(), four), StatusCode::kInvalidArgument, "x is a null pointer");
  expect_error(ste.forward(x.data(), nullptr, four), StatusCode::kInvalidArgument, "y is a null pointer");
  ASSERT_TRUE(ste.forward(x.data(), y.data(), four).is_ok());
  expect_error(ste.backward(nullptr, y.data(), four), StatusCode::kInvalidArgument, "dy is a null pointer");
  expect_error(ste.backward(x.data(), x.data(), nullptr, four), StatusCode::kInvalidArgument, "dx is a null pointer");
  FakeQuantize<std::uint8_t> module;
  module.enable_observer(false);
  module.enable_fake_quant(false);
  expect_error(module.forward(x.data(), nullptr, four), StatusCode::kInvalidArgument, "y is a null pointer");

  std::vector<std::uint8_t> packed(2);
  expect_error(quantize_packed<Int4>(nullptr, packed.data(), four, QParams::per_tensor(1.0f, 0, Int4::range()).view()),
               StatusCode::kInvalidArgument, "x is a null pointer");
  expect_error(
      dequantize_packed<Int4>(packed.data(), nullptr, four, QParams::per_tensor(1.0f, 0, Int4::range()).view()),
      StatusCode::kInvalidArgument, "y is a null pointer");

  const std::int32_t m = 1 << 30, shift = 0;
  RequantizeParamsView rp;
  rp.multiplier = &m;
  rp.shift = &shift;
  rp.count = 1;
  rp.range = kInt8;
  std::vector<std::int8_t> q(4);
  expect_error(requantize<DoubleRounding, std::int32_t, std::int8_t>(nullptr, q.data(), four, rp),
               StatusCode::kInvalidArgument, "x is a null pointer");

  const float lo = -1.0f, hi = 1.0f;
  tf::MinMaxView mm;
  mm.min = &lo;
  mm.max = &hi;
  mm.count = 1;
  expect_error(tf::fake_quant_with_min_max(nullptr, y.data(), four, mm, tf::Op::kArgs), StatusCode::kInvalidArgument,
               "x is a null pointer");
  float dmax = 0;
  expect_error(
      tf::fake_quant_with_min_max_gradient(x.data(), x.data(), y.data(), nullptr, &dmax, four, mm, tf::Op::kVars),
      StatusCode::kInvalidArgument, "dmin and dmax");
  EXPECT_EQ(y, std::vector<float>(4, 1.0f));  // the one forward pass above, nothing else

  // Empty tensors need no buffer.
  const Shape empty({0, 3});
  EXPECT_TRUE(minmax.observe(nullptr, empty).is_ok());
  EXPECT_TRUE(ste.forward(nullptr, nullptr, empty).is_ok());
}

}  // namespace
}  // namespace eigenq
