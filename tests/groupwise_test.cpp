// Group-wise weights: parameters per group of 32 / 64 / 128 along the input
// axis (symmetric and affine, int4 and int8), float16 scale storage, and the
// portable float16 conversion against the hardware's (F16C) where available.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#if defined(__F16C__)
#include <immintrin.h>
#endif

#include "eigenq/groupwise.hpp"
#include "eigenq/packed.hpp"
#include "eigenq/stored.hpp"

namespace eigenq {
namespace {

float bits_to_float(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

TEST(Half, NamedValues) {
  EXPECT_EQ(float_to_half(0.0f), 0x0000);
  EXPECT_EQ(float_to_half(-0.0f), 0x8000);
  EXPECT_EQ(float_to_half(1.0f), 0x3C00);
  EXPECT_EQ(float_to_half(-2.0f), 0xC000);
  EXPECT_EQ(float_to_half(65504.0f), 0x7BFF);               // largest finite
  EXPECT_EQ(float_to_half(65519.996f), 0x7BFF);             // just below the midpoint to infinity
  EXPECT_EQ(float_to_half(65520.0f), 0x7C00);               // the midpoint: ties to even = infinity
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -25)), 0x0000);  // half of it: tie to even (0)
  EXPECT_EQ(float_to_half(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -14)), 0x0400);             // smallest normal
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3C00);      // tie: to even
  EXPECT_EQ(float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);  // tie: to even (up)
  EXPECT_EQ(float_to_half(std::numeric_limits<float>::infinity()), 0x7C00);
  EXPECT_EQ(float_to_half(-std::numeric_limits<float>::infinity()), 0xFC00);
  EXPECT_EQ(float_to_half(std::nanf("")) & 0x7E00, 0x7E00);  // quiet NaN
  EXPECT_EQ(half_to_float(0x3555), 0.333251953125f);
  EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::signbit(half_to_float(0x8000)));
}

TEST(Half, EveryHalfRoundTrips) {
  for (std::uint32_t h = 0; h <= 0xFFFF; ++h) {
    const float f = half_to_float(static_cast<std::uint16_t>(h));
    if (std::isnan(f)) {
      EXPECT_EQ((h & 0x7C00), 0x7C00u);
      EXPECT_TRUE(std::isnan(half_to_float(float_to_half(f))));
    } else {
      ASSERT_EQ(float_to_half(f), h) << std::hex << h;
    }
  }
}

TEST(Half, FloatToHalfIsRoundToNearestEven) {
  // Against exact arithmetic: the half is the nearest, ties to the even one.
  std::mt19937 rng(5);
  for (int i = 0; i < 2000000; ++i) {
    const float f = bits_to_float(rng());
    if (std::isnan(f)) continue;
    const std::uint16_t h = float_to_half(f);
    const double v = f, got = half_to_float(h);
    if (std::isinf(got)) {
      ASSERT_GE(std::fabs(v), 65520.0) << f;
      continue;
    }
    // Neighbours of the result (same sign): no closer half exists.
    const double up = half_to_float(static_cast<std::uint16_t>(h + 1));
    const double down = (h & 0x7FFF) ? half_to_float(static_cast<std::uint16_t>(h - 1)) : -got;
    const double err = std::fabs(v - got);
    if (!std::isinf(up) && !std::isnan(up)) {
      ASSERT_LE(err, std::fabs(v - up)) << f;
    }
    ASSERT_LE(err, std::fabs(v - down)) << f;
    if (err == std::fabs(v - up) && err > 0) {
      ASSERT_EQ(h & 1, 0) << f;  // a tie went to even
    }
  }
}

#if defined(__F16C__)
TEST(Half, MatchesF16C) {
  std::uint32_t checked = 0;
  for (std::uint64_t b = 0; b <= 0xFFFFFFFFull; b += 4093) {  // a stride through every exponent
    for (std::uint32_t k = 0; k < 8; ++k) {
      const float f = bits_to_float(static_cast<std::uint32_t>(b) + k);
      const auto hw = static_cast<std::uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
      const std::uint16_t sw = float_to_half(f);
      if (std::isnan(f)) {
        ASSERT_TRUE(std::isnan(half_to_float(sw)));
      } else {
        ASSERT_EQ(sw, hw) << std::hex << (static_cast<std::uint32_t>(b) + k);
      }
      const float a = half_to_float(hw), b = _cvtsh_ss(hw);
      ASSERT_EQ(0, std::memcmp(&a, &b, sizeof a)) << std::hex << hw;
      ++checked;
    }
  }
  EXPECT_GT(checked, 8000000u);
}
#endif

// ---------------------------------------------------------------------------
// Group-wise parameters

std::vector<float> weights(std::int64_t rows, std::int64_t cols, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<float> w(static_cast<std::size_t>(rows * cols));
  for (auto& v : w) v = normal(rng);
  for (std::int64_t c = 0; c < std::min<std::int64_t>(cols, 40); ++c) w[static_cast<std::size_t>(c)] = 0.0f;  // dead
  w[static_cast<std::size_t>(cols + 3)] = 3.0f;  // an outlier in row 1
  return w;
}

struct GroupCase {
  std::int64_t group;
  Symmetry symmetry;
  Range range;
};

template <class Q>
void check_groups(const GroupCase& gc, ScaleStorage storage) {
  std::mt19937 rng(static_cast<unsigned>(gc.group));
  const std::int64_t rows = 6, cols = 300;  // 300 is not a multiple of any group size: ragged last group
  const std::vector<float> w = weights(rows, cols, rng);
  const Shape shape = Shape::row_major({rows, cols});
  QParams p;
  ASSERT_TRUE(
      (choose_groupwise_qparams<Q>(w.data(), shape, {-1, gc.group, gc.range, gc.symmetry, storage}, &p).is_ok()));
  const std::int64_t groups = (cols + gc.group - 1) / gc.group;
  ASSERT_EQ(p.granularity, Granularity::kBlocked);
  ASSERT_EQ(p.scale.size(), static_cast<std::size_t>(rows * groups));
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t g = 0; g < groups; ++g) {
      // The group's parameters are choose_qparams of its own min and max.
      float mn = INFINITY, mx = -INFINITY;
      for (std::int64_t c = g * gc.group; c < std::min(cols, (g + 1) * gc.group); ++c) {
        mn = std::min(mn, w[static_cast<std::size_t>(r * cols + c)]);
        mx = std::max(mx, w[static_cast<std::size_t>(r * cols + c)]);
      }
      const AffineParams a = choose_qparams<Q>(mn, mx, gc.range, gc.symmetry);
      const std::size_t k = static_cast<std::size_t>(r * groups + g);
      EXPECT_GT(p.scale[k], 0.0f);
      if (storage == ScaleStorage::kFloat32) {
        EXPECT_EQ(p.scale[k], a.scale) << r << "," << g;
        EXPECT_EQ(p.zero_point[k], a.zero_point) << r << "," << g;
      } else {
        // Stored exactly as float16, the nearest one (or the smallest positive).
        EXPECT_EQ(half_to_float(float_to_half(p.scale[k])), p.scale[k]);
        if (a.scale >= std::ldexp(1.0f, -24)) {
          EXPECT_EQ(p.scale[k], half_to_float(float_to_half(a.scale)));
        }
        if (gc.symmetry == Symmetry::kSymmetric) {
          EXPECT_EQ(p.zero_point[k], a.zero_point);
        }
      }
      EXPECT_GE(p.zero_point[k], gc.range.qmin);
      EXPECT_LE(p.zero_point[k], gc.range.qmax);
    }
  // Quantizing with the chosen parameters: within half a step of each group's
  // scale (a float16 scale rounded down may clip the extreme by one more step).
  Quantizer<Q> qz(shape, p);
  std::vector<float> y(w.size());
  qz.fake_quantize(w.data(), y.data());
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) {
      const std::size_t i = static_cast<std::size_t>(r * cols + c);
      const float s = p.scale[static_cast<std::size_t>(r * groups + c / gc.group)];
      const float tolerance = storage == ScaleStorage::kFloat16 ? 1.6f * s : 0.5001f * s;
      EXPECT_LE(std::fabs(y[i] - w[i]), tolerance) << r << "," << c;
    }
  // Dead (all-zero) groups reproduce zero exactly.
  EXPECT_EQ(y[0], 0.0f);
}

TEST(Groupwise, ChoosesParametersPerGroup) {
  for (std::int64_t group : {32, 64, 128})
    for (Symmetry sym : {Symmetry::kSymmetric, Symmetry::kAffine})
      for (ScaleStorage storage : {ScaleStorage::kFloat32, ScaleStorage::kFloat16}) {
        SCOPED_TRACE(testing::Message() << "group " << group << (sym == Symmetry::kSymmetric ? " sym" : " affine")
                                        << (storage == ScaleStorage::kFloat16 ? " fp16" : " fp32"));
        check_groups<std::int8_t>({group, sym, Range::bits<std::int8_t>(4)}, storage);  // int4 values in int8
        check_groups<std::uint8_t>({group, sym, Range::bits<std::uint8_t>(4)}, storage);
        check_groups<std::int8_t>({group, sym, Range::full<std::int8_t>()}, storage);
      }
}

TEST(Groupwise, Int4PackedMatchesInt8WithTheSameGroups) {
  std::mt19937 rng(3);
  const std::vector<float> w = weights(8, 256, rng);
  const Shape shape = Shape::row_major({8, 256});
  QParams p;
  ASSERT_TRUE((choose_groupwise_qparams<std::int8_t>(
                   w.data(), shape, {1, 64, Int4::range(), Symmetry::kSymmetric, ScaleStorage::kFloat16}, &p)
                   .is_ok()));
  Quantizer<std::int8_t> unpacked(shape, p);
  PackedQuantizer<Int4> packed(shape, p);
  std::vector<std::int8_t> q(w.size());
  std::vector<std::uint8_t> bytes(packed.packed_bytes());
  unpacked.quantize(w.data(), q.data());
  packed.quantize(w.data(), bytes.data());
  for (std::size_t i = 0; i < q.size(); ++i)
    ASSERT_EQ(unpack_at<Int4>(bytes.data(), static_cast<std::int64_t>(i)), q[i]);
  // The stored float16 scales give the same dequantized weights.
  const QParams stored = QParams::blocked(1, 64, from_half(to_half(p.scale)), p.zero_point, Int4::range());
  std::vector<float> y0(w.size()), y1(w.size());
  packed.dequantize(bytes.data(), y0.data());
  PackedQuantizer<Int4>(shape, stored).dequantize(bytes.data(), y1.data());
  EXPECT_EQ(y0, y1);
}

TEST(Groupwise, ColumnMajorWeightsGroupAlongTheirInputAxis) {
  std::mt19937 rng(4);
  std::vector<float> w = weights(4, 96, rng);  // read as ColMajor [96, 4]: axis 0 is the input axis
  QParams row, col;
  ASSERT_TRUE((choose_groupwise_qparams<std::int8_t>(w.data(), Shape::row_major({4, 96}), {1, 32}, &row).is_ok()));
  ASSERT_TRUE(
      (choose_groupwise_qparams<std::int8_t>(w.data(), Shape({96, 4}, Layout::kColMajor), {0, 32}, &col).is_ok()));
  EXPECT_EQ(row.scale, col.scale);
  EXPECT_EQ(row.zero_point, col.zero_point);
}

TEST(Groupwise, RefusesScalesBeyondFloat16) {
  std::vector<float> w(64, 0.0f);
  w[5] = 1e7f;  // symmetric int4: scale 1e7 / 7.5, above 65504
  QParams p;
  const Status st = choose_groupwise_qparams<std::int8_t>(
      w.data(), Shape::row_major({2, 32}), {1, 32, Int4::range(), Symmetry::kSymmetric, ScaleStorage::kFloat16}, &p);
  EXPECT_EQ(st.code(), StatusCode::kInvalidScale);
  EXPECT_NE(st.message().find("float16"), std::string::npos) << st.message();
  EXPECT_TRUE((choose_groupwise_qparams<std::int8_t>(w.data(), Shape::row_major({2, 32}), {1, 0}, &p).code() ==
               StatusCode::kInvalidBlockSize));
}

// Scales and zero points in their stored formats, read directly: the same
// parameters as their float32 / int32 widening, bytes equal after packing.
TEST(StoredParams, EveryFormatQuantizesAsItsWidening) {
  std::mt19937 rng(5);
  const std::vector<float> w = weights(6, 80, rng);
  const Shape shape = Shape::row_major({6, 80});
  QParams p;  // affine uint4 groups of 32 (the last one ragged), float16-exact scales
  ASSERT_TRUE((choose_groupwise_qparams<std::uint8_t>(
                   w.data(), shape, {1, 32, UInt4::range(), Symmetry::kAffine, ScaleStorage::kFloat16}, &p)
                   .is_ok()));
  const std::size_t n = p.scale.size();
  const std::vector<std::uint16_t> f16 = to_half(p.scale);
  std::vector<std::uint16_t> bf16(n);  // the bfloat16 of each scale, and the float it stands for
  std::vector<float> bf16_scale(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, &p.scale[i], 4);
    bf16[i] = static_cast<std::uint16_t>(bits >> 16);
    bf16_scale[i] = bits_to_float(bits & 0xFFFF0000u);
  }
  std::vector<std::uint8_t> zp_u8(n), zp_u4(packed_bytes<UInt4>(static_cast<std::int64_t>(n)), 0);
  for (std::size_t i = 0; i < n; ++i) {
    zp_u8[i] = static_cast<std::uint8_t>(p.zero_point[i]);
    pack_at<UInt4>(zp_u4.data(), static_cast<std::int64_t>(i), zp_u8[i]);
  }
  struct Form {
    ScaleFormat scale_format;
    const void* scale;
    ZeroPointFormat zp_format;
    const void* zp;
    std::vector<float> want_scale;
    std::vector<std::int32_t> want_zp;
  };
  const std::vector<std::int32_t> zeros(n, 0);
  const std::vector<Form> forms = {
      {ScaleFormat::kFloat32, p.scale.data(), ZeroPointFormat::kInt32, p.zero_point.data(), p.scale, p.zero_point},
      {ScaleFormat::kFloat16, f16.data(), ZeroPointFormat::kUInt8, zp_u8.data(), p.scale, p.zero_point},
      {ScaleFormat::kFloat16, f16.data(), ZeroPointFormat::kUInt4, zp_u4.data(), p.scale, p.zero_point},
      {ScaleFormat::kBFloat16, bf16.data(), ZeroPointFormat::kUInt4, zp_u4.data(), bf16_scale, p.zero_point},
      {ScaleFormat::kFloat16, f16.data(), ZeroPointFormat::kNone, nullptr, p.scale, zeros},
  };
  for (const Form& f : forms) {
    SCOPED_TRACE(static_cast<int>(f.scale_format) * 10 + static_cast<int>(f.zp_format));
    const StoredParamsView stored{blocked_layout(1, 32), f.scale_format, f.scale, f.zp_format, f.zp, n, UInt4::range()};
    QParams wide;
    ASSERT_TRUE(widen(stored, &wide).is_ok());
    EXPECT_EQ(wide.scale, f.want_scale);
    EXPECT_EQ(wide.zero_point, f.want_zp);
    PackedQuantizer<UInt4> from_stored;
    ASSERT_TRUE(PackedQuantizer<UInt4>::create(shape, stored, &from_stored).is_ok());
    const PackedQuantizer<UInt4> from_wide(shape, QParams::blocked(1, 32, f.want_scale, f.want_zp, UInt4::range()));
    std::vector<std::uint8_t> a(from_stored.packed_bytes()), b(from_wide.packed_bytes());
    from_stored.quantize(w.data(), a.data());
    from_wide.quantize(w.data(), b.data());
    EXPECT_EQ(a, b);
    Quantizer<std::uint8_t> unpacked;
    ASSERT_TRUE(Quantizer<std::uint8_t>::create(shape, stored, &unpacked).is_ok());
  }
  EXPECT_EQ(stored_bytes(ZeroPointFormat::kUInt4, n), zp_u4.size());
  EXPECT_EQ(stored_bytes(ScaleFormat::kBFloat16, n), 2 * n);
  EXPECT_EQ(stored_bytes(ZeroPointFormat::kNone, n), 0u);
}

TEST(StoredParams, BadValuesAreNamedAfterWidening) {
  const std::uint16_t f16[] = {0x3C00, 0x7C00};  // 1.0, +inf
  const std::int8_t zp[] = {0, -3};
  const StoredParamsView stored{per_axis_layout(0),        ScaleFormat::kFloat16, f16, ZeroPointFormat::kInt8, zp, 2,
                                Range::full<std::int8_t>()};
  Quantizer<std::int8_t> q;
  Status st = Quantizer<std::int8_t>::create(Shape::row_major({2, 3}), stored, &q);
  EXPECT_EQ(st.code(), StatusCode::kInvalidScale);
  EXPECT_NE(st.message().find("scale[1] = inf"), std::string::npos) << st.message();
  StoredParamsView null_zp = stored;
  null_zp.zero_point = nullptr;
  st = Quantizer<std::int8_t>::create(Shape::row_major({2, 3}), null_zp, &q);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("zero_point is a null pointer"), std::string::npos) << st.message();
  // A 4-bit range outside Int4's is refused before anything is widened.
  PackedQuantizer<Int4> p4;
  StoredParamsView wide_range = stored;
  wide_range.range = Range::full<std::int8_t>();
  EXPECT_EQ(PackedQuantizer<Int4>::create(Shape::row_major({2, 3}), wide_range, &p4).code(), StatusCode::kInvalidRange);
}

}  // namespace
}  // namespace eigenq
