// Choosing parameters (qparams.hpp): the rules of choose_qparams on
// hand-computed cases and as properties over many ranges; compute_min_max
// for every granularity, rank and layout against a naive loop on index
// arithmetic; NaN skipping, empty groups, and dead channels getting 2^-23.
// (Bit-exactness against PyTorch's observers is in conformance_pytorch_test.)
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "eigenq/eigenq.hpp"

namespace eigenq {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kEps = std::ldexp(1.0f, -23);
const Range kInt8 = Range::full<std::int8_t>();
const Range kUint8 = Range::full<std::uint8_t>();

// ---------------------------------------------------------------------------
// choose_qparams(min, max)

TEST(ChooseQParams, AffineOnHandComputedRanges) {
  // [1, 6]: min' = 0, so s = 6/255 and zp = qmin.
  AffineParams p = choose_qparams<std::int8_t>(1.0f, 6.0f, kInt8);
  EXPECT_EQ(p.scale, 6.0f / 255.0f);
  EXPECT_EQ(p.zero_point, -128);
  // [-1, 3] in uint8: s = 4/255, zp = -round(-1 / s) = round(63.75) = 64.
  p = choose_qparams<std::uint8_t>(-1.0f, 3.0f, kUint8);
  EXPECT_EQ(p.scale, 4.0f / 255.0f);
  EXPECT_EQ(p.zero_point, 64);
  // The zero point rounds half to even: min' / s = -2.5 exactly gives 2, not 3.
  p = choose_qparams<std::uint8_t>(-2.5f, 252.5f, kUint8);
  EXPECT_EQ(p.scale, 1.0f);
  EXPECT_EQ(p.zero_point, 2);
  p = choose_qparams<std::uint8_t>(-3.5f, 251.5f, kUint8);
  EXPECT_EQ(p.zero_point, 4);
  // The scale is a float32 division, not a multiplication by 1/255.
  const float lo = -0.3f, hi = 0.7f;
  EXPECT_EQ(choose_qparams<std::int8_t>(lo, hi, kInt8).scale, (hi - lo) / 255.0f);
  // Only negative values: zero is the top of the range.
  p = choose_qparams<std::int8_t>(-2.0f, -1.0f, kInt8);
  EXPECT_EQ(p.scale, 2.0f / 255.0f);
  EXPECT_EQ(p.zero_point, 127);
}

TEST(ChooseQParams, SymmetricZeroPointsPerStorage) {
  // max(-min', max') / ((qmax - qmin) / 2)
  AffineParams p = choose_qparams<std::int8_t>(-2.0f, 1.0f, kInt8, Symmetry::kSymmetric);
  EXPECT_EQ(p.scale, 2.0f / 127.5f);
  EXPECT_EQ(p.zero_point, 0);
  p = choose_qparams<std::int8_t>(-1.0f, 3.0f, Range::narrow<std::int8_t>(), Symmetry::kSymmetric);
  EXPECT_EQ(p.scale, 3.0f / 127.0f);
  EXPECT_EQ(p.zero_point, 0);
  p = choose_qparams<std::int8_t>(-1.0f, 3.0f, Range::bits<std::int8_t>(4), Symmetry::kSymmetric);
  EXPECT_EQ(p.scale, 3.0f / 7.5f);
  EXPECT_EQ(p.zero_point, 0);
  // Unsigned: 128 over the full uint8 range, else the midpoint rounded down.
  p = choose_qparams<std::uint8_t>(-1.0f, 3.0f, kUint8, Symmetry::kSymmetric);
  EXPECT_EQ(p.scale, 3.0f / 127.5f);
  EXPECT_EQ(p.zero_point, 128);
  EXPECT_EQ(choose_qparams<std::uint8_t>(-1.0f, 3.0f, Range::reduced<std::uint8_t>(), Symmetry::kSymmetric).zero_point,
            63);
  EXPECT_EQ(choose_qparams<std::uint8_t>(-1.0f, 3.0f, Range::bits<std::uint8_t>(4), Symmetry::kSymmetric).zero_point,
            7);
  EXPECT_EQ(choose_qparams<std::int32_t>(-1.0f, 3.0f, Range::full<std::int32_t>(), Symmetry::kSymmetric).zero_point, 0);
}

TEST(ChooseQParams, DegenerateRanges) {
  for (Symmetry sym : {Symmetry::kAffine, Symmetry::kSymmetric}) {
    // All zero: the epsilon scale, never 0.
    AffineParams p = choose_qparams<std::int8_t>(0.0f, 0.0f, kInt8, sym);
    EXPECT_EQ(p.scale, kEps);
    EXPECT_EQ(p.zero_point, sym == Symmetry::kAffine ? -128 : 0);
    p = choose_qparams<std::uint8_t>(0.0f, 0.0f, kUint8, sym);
    EXPECT_EQ(p.scale, kEps);
    EXPECT_EQ(p.zero_point, sym == Symmetry::kAffine ? 0 : 128);
    // A range so small that its step is below epsilon.
    EXPECT_EQ((choose_qparams<std::int8_t>(0.0f, 1e-30f, kInt8, sym).scale), kEps);
    EXPECT_EQ((choose_qparams<std::int8_t>(-1e-45f, 0.0f, kInt8, sym).scale), kEps);
    // NaN bounds count as 0 (the range always includes zero).
    p = choose_qparams<std::int8_t>(kNaN, kNaN, kInt8, sym);
    EXPECT_EQ(p.scale, kEps);
    EXPECT_EQ(choose_qparams<std::int8_t>(kNaN, 2.0f, kInt8, sym).scale,
              choose_qparams<std::int8_t>(0.0f, 2.0f, kInt8, sym).scale);
    // Infinite bounds give an infinite scale, which validation refuses by name.
    p = choose_qparams<std::int8_t>(-kInf, 1.0f, kInt8, sym);
    EXPECT_EQ(p.scale, kInf);
    Quantizer<std::int8_t> qz;
    const Status s =
        Quantizer<std::int8_t>::create(Shape::row_major({4}), QParams::per_tensor(p.scale, p.zero_point, kInt8), &qz);
    EXPECT_EQ(s.code(), StatusCode::kInvalidScale);
    EXPECT_NE(s.message().find("scale[0] = inf"), std::string::npos) << s.message();
  }
  // min == max != 0: the range still reaches zero.
  AffineParams p = choose_qparams<std::int8_t>(3.7f, 3.7f, kInt8);
  EXPECT_EQ(p.scale, 3.7f / 255.0f);
  EXPECT_EQ(p.zero_point, -128);
  // A range whose width overflows float32: infinite scale, zero point qmin.
  p = choose_qparams<std::int8_t>(-3.4e38f, 3.4e38f, kInt8);
  EXPECT_EQ(p.scale, kInf);
  EXPECT_EQ(p.zero_point, -128);
}

TEST(ChooseQParams, Int32ZeroPointUsesPyTorchsInt32Arithmetic) {
  // Over the full int32 range round(min' / s) can be below INT32_MIN; PyTorch's
  // int32 conversion then gives INT32_MIN and the zero point comes out 0.
  // (Ranges wide enough that the scale, range / 2^32, is above epsilon.)
  const Range r = Range::full<std::int32_t>();
  EXPECT_EQ(choose_qparams<std::int32_t>(-5e6f, -1e6f, r).zero_point, 0);
  EXPECT_EQ(choose_qparams<std::int32_t>(-3e6f, 1e6f, r).zero_point, 0);
  // When the quotient fits, the usual rule: qmin - round(min' / s).
  const AffineParams p = choose_qparams<std::int32_t>(-1e6f, 3e6f, r);
  EXPECT_EQ(p.zero_point,
            static_cast<std::int32_t>(INT32_MIN - static_cast<std::int64_t>(std::nearbyint(-1e6f / p.scale))));
  EXPECT_EQ(p.zero_point, -(1 << 30));
  // An int32 range below 2^31 levels is never affected.
  const Range half{-(1 << 29), 1 << 29};
  EXPECT_EQ(choose_qparams<std::int32_t>(-5e6f, -1e6f, half).zero_point, half.qmax);
  // Small ranges hit the epsilon scale first: [-5, 0] / 2^32 < 2^-23.
  const AffineParams small = choose_qparams<std::int32_t>(-5.0f, -1.0f, r);
  EXPECT_EQ(small.scale, kEps);
  EXPECT_EQ(small.zero_point, INT32_MIN + 41943040);  // qmin - round(-5 / 2^-23)
}

TEST(ChooseQParams, PropertiesOverManyRanges) {
  // Zero is exact, the zero point is in range, the scale is at least eps and
  // both ends of the range are reproduced to within half a step (plus the
  // float32 rounding of the scale).
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> exponent(-20.0f, 20.0f), unit(-1.0f, 1.0f);
  const Range ranges[] = {kInt8,
                          kUint8,
                          Range::narrow<std::int8_t>(),
                          Range::reduced<std::uint8_t>(),
                          Range::bits<std::int8_t>(4),
                          Range{-1000, 3000}};
  for (int i = 0; i < 20000; ++i) {
    const float a = unit(rng) * std::exp2(exponent(rng)), b = unit(rng) * std::exp2(exponent(rng));
    const float lo = std::min(a, b), hi = std::max(a, b);
    for (const Range r : ranges)
      for (Symmetry sym : {Symmetry::kAffine, Symmetry::kSymmetric}) {
        // Symmetric on signed storage puts zero at 0, which only suits ranges
        // balanced around it.
        if (sym == Symmetry::kSymmetric && r.qmin < 0 && r.qmin + r.qmax < -1) continue;
        if (sym == Symmetry::kSymmetric && r.qmin < 0 && r.qmin + r.qmax > 0) continue;
        const bool unsigned_range = r.qmin >= 0;
        const AffineParams p = unsigned_range ? choose_qparams<std::uint8_t>(lo, hi, r, sym)
                                              : choose_qparams<std::int16_t>(lo, hi, r, sym);
        ASSERT_GE(p.scale, kEps);
        ASSERT_TRUE(std::isfinite(p.scale));
        ASSERT_GE(p.zero_point, r.qmin);
        ASSERT_LE(p.zero_point, r.qmax);
        ASSERT_EQ(fake_quantize(0.0f, p.scale, p.zero_point, r), 0.0f);
        const float tolerance = p.scale * 0.5f * (1.0f + 1e-5f) + std::abs(hi - lo) * 1e-6f;
        for (const float v : {lo, hi}) {
          ASSERT_LE(std::abs(fake_quantize(v, p.scale, p.zero_point, r) - v), tolerance)
              << "range [" << lo << ", " << hi << "] in [" << r.qmin << ", " << r.qmax << "], "
              << (sym == Symmetry::kAffine ? "affine" : "symmetric");
        }
      }
  }
}

// ---------------------------------------------------------------------------
// compute_min_max against a naive loop

std::int64_t offset_of(const std::vector<std::int64_t>& idx, const std::vector<std::int64_t>& dims, Layout layout) {
  std::int64_t off = 0;
  const int rank = static_cast<int>(dims.size());
  if (layout == Layout::kRowMajor)
    for (int d = 0; d < rank; ++d) off = off * dims[d] + idx[d];
  else
    for (int d = rank - 1; d >= 0; --d) off = off * dims[d] + idx[d];
  return off;
}

// The parameter of the element at idx, from the definition of each scheme.
std::int64_t param_of(const std::vector<std::int64_t>& idx, const std::vector<std::int64_t>& dims, Layout layout,
                      const ParamLayout& layout_params) {
  const int rank = static_cast<int>(dims.size());
  const int axis = layout_params.axis < 0 ? layout_params.axis + rank : layout_params.axis;
  switch (layout_params.granularity) {
    case Granularity::kPerTensor:
      return 0;
    case Granularity::kPerElement:
      return offset_of(idx, dims, layout);
    case Granularity::kPerAxis:
      return idx[axis];
    case Granularity::kBlocked: {
      std::vector<std::int64_t> pdims = dims, pidx = idx;
      const std::int64_t b = layout_params.block_size;
      pdims[axis] = (dims[axis] + b - 1) / b;
      pidx[axis] = idx[axis] / b;
      return offset_of(pidx, pdims, layout);
    }
  }
  return -1;
}

MinMax naive_min_max(const std::vector<float>& x, const std::vector<std::int64_t>& dims, Layout layout,
                     const ParamLayout& lp, std::size_t count) {
  MinMax mm;
  mm.min.assign(count, kInf);
  mm.max.assign(count, -kInf);
  std::vector<bool> seen(count, false);
  const int rank = static_cast<int>(dims.size());
  std::vector<std::int64_t> idx(rank, 0);
  for (std::size_t k = 0; k < x.size(); ++k) {
    const float v = x[offset_of(idx, dims, layout)];
    const auto p = static_cast<std::size_t>(param_of(idx, dims, layout, lp));
    if (!std::isnan(v)) {
      mm.min[p] = std::min(mm.min[p], v);
      mm.max[p] = std::max(mm.max[p], v);
      seen[p] = true;
    }
    for (int d = rank - 1; d >= 0; --d) {
      if (++idx[d] < dims[d]) break;
      idx[d] = 0;
    }
  }
  for (std::size_t p = 0; p < count; ++p)
    if (!seen[p]) mm.min[p] = mm.max[p] = 0.0f;  // empty or all-NaN group
  return mm;
}

void check_min_max(const std::vector<std::int64_t>& dims, Layout layout, const ParamLayout& lp, std::mt19937& rng) {
  const Shape shape = Shape::from(dims.data(), static_cast<int>(dims.size()), layout);
  std::vector<float> x(static_cast<std::size_t>(shape.size()));
  std::uniform_real_distribution<float> value(-50.0f, 50.0f);
  std::uniform_int_distribution<int> pick(0, 9);
  for (auto& v : x) v = pick(rng) == 0 ? kNaN : value(rng);  // a tenth NaN

  ResolvedParams r;
  ASSERT_TRUE(resolve_layout(lp, shape, &r).is_ok());
  MinMax got;
  ASSERT_TRUE(compute_min_max(x.data(), shape, lp, &got).is_ok());
  const MinMax want = naive_min_max(x, dims, layout, lp, r.count);
  ASSERT_EQ(got.min.size(), r.count);
  for (std::size_t p = 0; p < r.count; ++p) {
    ASSERT_EQ(got.min[p], want.min[p]) << granularity_name(lp.granularity) << " axis " << lp.axis << " block "
                                       << lp.block_size << " layout " << int(layout) << " group " << p;
    ASSERT_EQ(got.max[p], want.max[p]) << granularity_name(lp.granularity) << " group " << p;
  }
}

TEST(ComputeMinMax, EveryGranularityRankAndLayoutAgainstANaiveLoop) {
  std::mt19937 rng(99);
  const std::vector<std::vector<std::int64_t>> shapes = {{37},       {5, 19},       {20, 3},      {3, 4, 5},
                                                         {2, 17, 3}, {2, 3, 2, 40}, {4, 1, 3, 5}, {1, 33, 2, 2}};
  for (const auto& dims : shapes)
    for (Layout layout : {Layout::kRowMajor, Layout::kColMajor}) {
      const int rank = static_cast<int>(dims.size());
      check_min_max(dims, layout, per_tensor_layout(), rng);
      check_min_max(dims, layout, per_element_layout(), rng);
      for (int axis = -rank; axis < rank; ++axis) {
        check_min_max(dims, layout, per_axis_layout(axis), rng);
        for (std::int64_t block : {1, 2, 3, 7, 64}) check_min_max(dims, layout, blocked_layout(axis, block), rng);
      }
    }
}

TEST(ComputeMinMax, SkipsNaNAndGivesZeroForEmptyGroups) {
  // Row-major [3, 4], per row: a normal row, a row with NaN among values, an
  // all-NaN row.
  const std::vector<float> x = {1, -2, 3, 0.5f, kNaN, 7, kNaN, -1, kNaN, kNaN, kNaN, kNaN};
  MinMax mm;
  ASSERT_TRUE(compute_min_max(x.data(), Shape::row_major({3, 4}), per_axis_layout(0), &mm).is_ok());
  EXPECT_EQ(mm.min, (std::vector<float>{-2, -1, 0}));
  EXPECT_EQ(mm.max, (std::vector<float>{3, 7, 0}));
  // Per tensor, NaN first: still skipped.
  ASSERT_TRUE(compute_min_max(x.data() + 4, Shape::row_major({4}), per_tensor_layout(), &mm).is_ok());
  EXPECT_EQ(mm.min, std::vector<float>{-1});
  EXPECT_EQ(mm.max, std::vector<float>{7});
  // Infinities are values, not skipped.
  const std::vector<float> inf = {kInf, 1.0f, -kInf};
  ASSERT_TRUE(compute_min_max(inf.data(), Shape::row_major({3}), per_tensor_layout(), &mm).is_ok());
  EXPECT_EQ(mm.min[0], -kInf);
  EXPECT_EQ(mm.max[0], kInf);

  // Empty groups: a zero-length dimension leaves every channel empty.
  for (const Shape& shape : {Shape::row_major({0, 3}), Shape::row_major({3, 0}), Shape({2, 0, 3}, Layout::kColMajor)}) {
    const int axis = shape.dims[1] == 0 ? 0 : 1;
    ASSERT_TRUE(compute_min_max(nullptr, shape, per_axis_layout(axis), &mm).is_ok());
    ASSERT_EQ(mm.min.size(), static_cast<std::size_t>(shape.dims[axis]));
    for (std::size_t k = 0; k < mm.min.size(); ++k) {
      EXPECT_EQ(mm.min[k], 0.0f);
      EXPECT_EQ(mm.max[k], 0.0f);
    }
    QParams p;
    ASSERT_TRUE(
        choose_qparams<std::int8_t>(nullptr, shape, per_axis_layout(axis), kInt8, Symmetry::kAffine, &p).is_ok());
    for (float s : p.scale) EXPECT_EQ(s, kEps);
  }
  ASSERT_TRUE(compute_min_max(nullptr, Shape::row_major({0}), per_tensor_layout(), &mm).is_ok());
  EXPECT_EQ(mm.min, std::vector<float>{0.0f});
}

// ---------------------------------------------------------------------------
// Dead channels and the data entry points

TEST(ChooseQParamsFromData, DeadChannelsGetTheEpsilonScaleAndRoundTripZero) {
  // [4, 3] row-major weights; channel (row) 1 is all zero, row 3 is all NaN.
  const std::vector<float> w = {0.5f, -1.0f, 2.0f, 0, 0, 0, -0.25f, 0.75f, 0.1f, kNaN, kNaN, kNaN};
  const Shape shape = Shape::row_major({4, 3});
  for (Symmetry sym : {Symmetry::kAffine, Symmetry::kSymmetric}) {
    QParams p;
    ASSERT_TRUE(choose_qparams<std::int8_t>(w.data(), shape, per_axis_layout(0), kInt8, sym, &p).is_ok());
    EXPECT_EQ(p.granularity, Granularity::kPerAxis);
    EXPECT_EQ(p.axis, 0);
    EXPECT_EQ(p.range, kInt8);
    ASSERT_EQ(p.scale.size(), 4u);
    EXPECT_EQ(p.scale[1], kEps);
    EXPECT_EQ(p.scale[3], kEps);
    EXPECT_EQ(p.zero_point[1], sym == Symmetry::kAffine ? -128 : 0);
    EXPECT_GT(p.scale[0], kEps);
    // The parameters are valid and the dead channel round-trips exactly.
    std::vector<std::int8_t> q(w.size());
    std::vector<float> back(w.size());
    ASSERT_TRUE(quantize<std::int8_t>(w.data(), q.data(), shape, p.view()).is_ok());
    ASSERT_TRUE(dequantize<std::int8_t>(q.data(), back.data(), shape, p.view()).is_ok());
    for (int j = 3; j < 6; ++j) {
      EXPECT_EQ(q[j], p.zero_point[1]);
      EXPECT_EQ(back[j], 0.0f);
    }
    // Every channel is its own: channel 0 spans [-1, 2], channel 2 [-0.25, 0.75].
    EXPECT_EQ(p.scale[0], choose_qparams<std::int8_t>(-1.0f, 2.0f, kInt8, sym).scale);
    EXPECT_EQ(p.scale[2], choose_qparams<std::int8_t>(-0.25f, 0.75f, kInt8, sym).scale);
  }
}

TEST(ChooseQParamsFromData, EigenEntryPointMatchesTheRawOneInBothLayouts) {
  Eigen::Tensor<float, 4, Eigen::RowMajor> w(8, 3, 3, 3);  // [Cout, Cin, kH, kW]
  w.setRandom();
  w.chip(5, 0).setZero();  // a dead output channel
  Eigen::Tensor<float, 4, Eigen::ColMajor> wc = w.swap_layout().shuffle(Eigen::array<int, 4>{3, 2, 1, 0});
  for (Symmetry sym : {Symmetry::kAffine, Symmetry::kSymmetric}) {
    const QParams row = choose_qparams<std::int8_t>(w, per_axis_layout(0), kInt8, sym);
    const QParams col = choose_qparams<std::int8_t>(wc, per_axis_layout(0), kInt8, sym);
    const QParams neg = choose_qparams<std::int8_t>(w, per_axis_layout(-4), kInt8, sym);
    QParams raw;
    ASSERT_TRUE(choose_qparams<std::int8_t>(w.data(), shape_of(w), per_axis_layout(0), kInt8, sym, &raw).is_ok());
    EXPECT_EQ(row.scale, raw.scale);
    EXPECT_EQ(row.zero_point, raw.zero_point);
    EXPECT_EQ(col.scale, raw.scale);
    EXPECT_EQ(col.zero_point, raw.zero_point);
    EXPECT_EQ(neg.scale, raw.scale);
    EXPECT_EQ(row.scale[5], kEps);
    // Blocked along the input channels: parameters shaped [8, 1, 3, 3].
    const QParams blocked = choose_qparams<std::int8_t>(w, blocked_layout(1, 4), kInt8, sym);
    EXPECT_EQ(blocked.granularity, Granularity::kBlocked);
    EXPECT_EQ(blocked.block_size, 4);
    EXPECT_EQ(blocked.scale.size(), 8u * 9u);
  }
}

TEST(ChooseQParamsFromData, PerTensorOfTheBlogExample) {
  const std::vector<float> x = {1, 2, 3, 4, 5, 6};
  QParams p;
  ASSERT_TRUE(
      choose_qparams<std::int8_t>(x.data(), Shape::row_major({2, 3}), per_tensor_layout(), kInt8, Symmetry::kAffine, &p)
          .is_ok());
  EXPECT_EQ(p.scale, std::vector<float>{6.0f / 255.0f});
  EXPECT_EQ(p.zero_point, std::vector<std::int32_t>{-128});
  ASSERT_TRUE(
      choose_qparams<std::int8_t>(x.data(), Shape::row_major({2, 3}), per_axis_layout(0), kInt8, Symmetry::kAffine, &p)
          .is_ok());
  EXPECT_EQ(p.scale, (std::vector<float>{3.0f / 255.0f, 6.0f / 255.0f}));
  EXPECT_EQ(p.zero_point, (std::vector<std::int32_t>{-128, -128}));
}

}  // namespace
}  // namespace eigenq
