// QAT building blocks against naive references on index arithmetic, for every
// scheme and both layouts: fake-quant with byte and bit masks, STE backward,
// the FakeQuantSTE layer, the element functors, LSQ gradients (against a
// reference and against finite differences), observers and FakeQuantize.
// Every compiled SIMD path must give the scalar path's bits.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "eigenq/eigenq.hpp"
#include "eigenq/qat.hpp"

namespace eigenq {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

std::uint32_t bits(float v) {
  std::uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  return u;
}

// ---------------------------------------------------------------------------
// Schemes: shapes, parameters, and each element's parameter index found from
// its multi-index (independently of the run decomposition in scheme.hpp).

struct Scheme {
  std::vector<std::int64_t> dims;
  Layout layout;
  Granularity granularity;
  int axis;
  std::int64_t block;
};

std::string describe(const Scheme& s) {
  std::string d = granularity_name(s.granularity);
  d += s.layout == Layout::kRowMajor ? " row-major [" : " col-major [";
  for (std::size_t i = 0; i < s.dims.size(); ++i) d += (i ? "," : "") + std::to_string(s.dims[i]);
  return d + "] axis " + std::to_string(s.axis) + " block " + std::to_string(s.block);
}

const std::vector<Scheme>& schemes() {
  static const std::vector<Scheme> all = {
      {{37}, Layout::kRowMajor, Granularity::kPerTensor, 0, 0},
      {{0, 3}, Layout::kRowMajor, Granularity::kPerTensor, 0, 0},
      {{5, 6, 7}, Layout::kRowMajor, Granularity::kPerAxis, 1, 0},   // broadcast runs of 7
      {{5, 6, 7}, Layout::kRowMajor, Granularity::kPerAxis, -1, 0},  // fast axis: aligned runs
      {{40, 3}, Layout::kRowMajor, Granularity::kPerAxis, 1, 0},     // short fast axis: expanded
      {{7, 6, 5}, Layout::kColMajor, Granularity::kPerAxis, 0, 0},   // ColMajor: axis 0 is fastest
      {{7, 6, 5}, Layout::kColMajor, Granularity::kPerAxis, 2, 0},   // slowest axis
      {{3, 40, 2}, Layout::kColMajor, Granularity::kPerAxis, 1, 0},  // short runs of 3
      {{4, 10}, Layout::kRowMajor, Granularity::kBlocked, 1, 3},     // contiguous blocks, ragged
      {{10, 4}, Layout::kRowMajor, Granularity::kBlocked, 0, 3},     // aligned parameter rows
      {{6, 5, 3}, Layout::kColMajor, Granularity::kBlocked, 1, 2},
      {{3, 5}, Layout::kRowMajor, Granularity::kPerElement, 0, 0},
  };
  return all;
}

std::int64_t offset_of(const std::vector<std::int64_t>& idx, const std::vector<std::int64_t>& dims, Layout layout) {
  std::int64_t off = 0;
  const int rank = static_cast<int>(dims.size());
  if (layout == Layout::kRowMajor)
    for (int d = 0; d < rank; ++d) off = off * dims[d] + idx[d];
  else
    for (int d = rank - 1; d >= 0; --d) off = off * dims[d] + idx[d];
  return off;
}

struct Resolved {
  Shape shape;
  std::int64_t n = 0;
  std::size_t count = 0;
  std::vector<std::int64_t> param;  // parameter index of each element (memory order)
};

Resolved resolve_scheme(const Scheme& s) {
  Resolved r;
  const int rank = static_cast<int>(s.dims.size());
  r.shape = Shape::from(s.dims.data(), rank, s.layout);
  r.n = r.shape.size();
  const int axis = s.axis < 0 ? s.axis + rank : s.axis;
  r.param.assign(static_cast<std::size_t>(r.n), 0);
  std::vector<std::int64_t> pdims = s.dims;
  if (s.granularity == Granularity::kBlocked) pdims[axis] = (s.dims[axis] + s.block - 1) / s.block;
  r.count = s.granularity == Granularity::kPerTensor ? 1
            : s.granularity == Granularity::kPerAxis ? static_cast<std::size_t>(s.dims[axis])
            : s.granularity == Granularity::kPerElement
                ? static_cast<std::size_t>(r.n)
                : static_cast<std::size_t>(Shape::from(pdims.data(), rank, s.layout).size());
  std::vector<std::int64_t> idx(rank, 0);
  for (std::int64_t k = 0; k < r.n; ++k) {
    std::int64_t p = 0;
    switch (s.granularity) {
      case Granularity::kPerTensor:
        p = 0;
        break;
      case Granularity::kPerElement:
        p = offset_of(idx, s.dims, s.layout);
        break;
      case Granularity::kPerAxis:
        p = idx[axis];
        break;
      case Granularity::kBlocked: {
        std::vector<std::int64_t> pidx = idx;
        pidx[axis] = idx[axis] / s.block;
        p = offset_of(pidx, pdims, s.layout);
        break;
      }
    }
    r.param[static_cast<std::size_t>(offset_of(idx, s.dims, s.layout))] = p;
    for (int d = rank - 1; d >= 0; --d) {
      if (++idx[d] < s.dims[d]) break;
      idx[d] = 0;
    }
  }
  return r;
}

// Values around the range of each element's parameters, with ties, edges,
// NaN and infinities sprinkled in.
std::vector<float> inputs(const Resolved& r, const std::vector<float>& scale, const std::vector<std::int32_t>& zp,
                          Range range, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-0.3f, 1.3f);
  std::uniform_int_distribution<int> pick(0, 19);
  std::vector<float> x(static_cast<std::size_t>(r.n));
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::int64_t p = r.param[i];
    const float s = scale[p];
    const float lo = static_cast<float>(range.qmin - zp[p]), hi = static_cast<float>(range.qmax - zp[p]);
    const int k = pick(rng);
    if (k == 0)
      x[i] = kNaN;
    else if (k == 1)
      x[i] = (i % 2 ? kInf : -kInf);
    else if (k < 6)  // ties and the range edges +- half a step
      x[i] = (std::round(lo + (hi - lo) * u(rng)) + 0.5f) * s;
    else
      x[i] = (lo + (hi - lo) * u(rng)) * s;
  }
  return x;
}

struct Params {
  std::vector<float> scale;
  std::vector<std::int32_t> zp;
  Range range;
  QParamsView view(const Scheme& s) const {
    return {s.granularity, s.axis, s.block, scale.data(), zp.data(), scale.size(), range};
  }
};

Params random_params(std::size_t count, Range range, std::mt19937& rng) {
  std::uniform_real_distribution<float> scale(0.01f, 0.2f);
  std::uniform_int_distribution<int> zp(range.qmin, range.qmax);
  Params p{std::vector<float>(count), std::vector<std::int32_t>(count), range};
  for (auto& v : p.scale) v = scale(rng);
  for (auto& v : p.zp) v = zp(rng);
  return p;
}

// ---------------------------------------------------------------------------
// Bit packing

TEST(Qat, PackAndUnpackEveryByte) {
  for (unsigned v = 0; v < 256; ++v) {
    std::uint8_t mask[8];
    for (int j = 0; j < 8; ++j) mask[j] = (v >> j) & 1u;
    ASSERT_EQ(detail::pack8(mask), v);
    const std::uint8_t byte = static_cast<std::uint8_t>(v);
    std::uint8_t unpacked[8];
    detail::unpack_mask_bits(&byte, 0, 8, unpacked);
    for (int j = 0; j < 8; ++j) ASSERT_EQ(unpacked[j], mask[j]);
  }
}

TEST(Qat, PackMaskBitsAtAnyOffset) {
  std::mt19937 rng(1);
  std::bernoulli_distribution coin(0.5);
  for (std::int64_t at = 0; at < 17; ++at)
    for (std::int64_t n = 0; n < 40; ++n) {
      std::vector<std::uint8_t> mask(static_cast<std::size_t>(n));
      for (auto& m : mask) m = coin(rng);
      std::vector<std::uint8_t> packed(static_cast<std::size_t>(packed_mask_bytes(at + n)) + 1, 0);
      detail::pack_mask_bits(mask.data(), n, packed.data(), at);
      for (std::int64_t i = 0; i < at + n + 8; ++i) {
        const bool want = i >= at && i < at + n && mask[static_cast<std::size_t>(i - at)];
        ASSERT_EQ(packed_mask_bit(packed.data(), i), want) << "at " << at << " n " << n << " bit " << i;
      }
    }
}

// ---------------------------------------------------------------------------
// Fake-quant with mask and STE backward, every scheme, every path

template <Path P>
void check_masked_scheme(const Scheme& s, std::mt19937& rng) {
  SCOPED_TRACE(describe(s) + " " + path_name(P));
  const Resolved r = resolve_scheme(s);
  const Range range = Range::full<std::int8_t>();
  const Params p = random_params(r.count, range, rng);
  const std::vector<float> x = inputs(r, p.scale, p.zp, range, rng);
  const std::size_t n = x.size();

  const Quantizer<std::int32_t, DefaultNumerics, P> qz(r.shape, p.view(s));
  std::vector<float> y(n), y_packed(n), dy(n), dx_bytes(n), dx_bits(n), dx_input(n);
  std::vector<std::uint8_t> mask(n), packed(static_cast<std::size_t>(packed_mask_bytes(r.n)) + 1, 0xA5);
  qz.fake_quantize_mask(x.data(), y.data(), mask.data());
  fake_quantize_packed_mask(qz, x.data(), y_packed.data(), packed.data());
  EXPECT_EQ(packed.back(), 0xA5) << "wrote past the packed mask";
  std::normal_distribution<float> normal;
  for (auto& v : dy) v = normal(rng);
  ste_backward_masked<P>(mask.data(), dy.data(), dx_bytes.data(), r.n);
  ste_backward_packed<P>(packed.data(), dy.data(), dx_bits.data(), r.n);
  qz.ste_backward(x.data(), dy.data(), dx_input.data());

  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t k = r.param[i];
    const float want = fake_quantize(x[i], p.scale[k], p.zp[k], range);
    const bool want_mask = ste_mask(x[i], p.scale[k], p.zp[k], range);
    ASSERT_EQ(bits(y[i]), bits(want)) << "element " << i << " x " << x[i];
    ASSERT_EQ(bits(y_packed[i]), bits(want)) << "element " << i;
    ASSERT_EQ(mask[i], want_mask) << "element " << i << " x " << x[i];
    ASSERT_EQ(packed_mask_bit(packed.data(), static_cast<std::int64_t>(i)), want_mask) << "element " << i;
    const float want_dx = dy[i] * static_cast<float>(want_mask);
    ASSERT_EQ(bits(dx_bytes[i]), bits(want_dx));
    ASSERT_EQ(bits(dx_bits[i]), bits(want_dx));
    ASSERT_EQ(bits(dx_input[i]), bits(want_dx));
  }
}

TEST(Qat, FakeQuantMaskEverySchemeEveryPath) {
  std::mt19937 rng(3);
  for (const Scheme& s : schemes()) {
    check_masked_scheme<Path::kScalar>(s, rng);
    check_masked_scheme<kBestPath>(s, rng);
  }
}

// Lengths around vector widths, from unaligned offsets: the packed mask and
// the STE kernels against the scalar path, bit for bit.
TEST(Qat, SimdMatchesScalarAtEveryLengthAndOffset) {
  std::mt19937 rng(4);
  const Range range{-7, 8};
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  std::vector<float> buf(200), dy(200);
  for (auto& v : buf) v = u(rng);
  for (auto& v : dy) v = u(rng);
  buf[5] = kNaN;
  buf[9] = 0.25f;  // ties at scale 0.1: 2.5 steps
  for (std::int64_t off = 0; off < 9; ++off)
    for (std::int64_t n = 0; n < 70; ++n) {
      const Shape shape = Shape::row_major({n});
      const QParams p = QParams::per_tensor(0.1f, 1, range);
      const Quantizer<std::int32_t, DefaultNumerics, Path::kScalar> ref(shape, p);
      const Quantizer<std::int32_t, DefaultNumerics, kBestPath> fast(shape, p);
      std::vector<float> y1(n + 1, 9.0f), y2(n + 1, 9.0f), d1(n + 1, 9.0f), d2(n + 1, 9.0f);
      std::vector<std::uint8_t> b1(packed_mask_bytes(n) + 1, 0x5A), b2(packed_mask_bytes(n) + 1, 0x5A);
      fake_quantize_packed_mask(ref, buf.data() + off, y1.data(), b1.data());
      fake_quantize_packed_mask(fast, buf.data() + off, y2.data(), b2.data());
      ASSERT_EQ(b1, b2) << "n " << n << " off " << off;
      ste_backward_packed(b2.data(), dy.data() + off, d2.data(), n);
      ref.ste_backward(buf.data() + off, dy.data() + off, d1.data());
      for (std::int64_t i = 0; i <= n; ++i) {
        ASSERT_EQ(bits(y1[i]), bits(y2[i])) << "n " << n << " i " << i;
        ASSERT_EQ(bits(d1[i]), bits(d2[i])) << "n " << n << " i " << i;
      }
      ASSERT_EQ(y2[n], 9.0f);  // nothing written past the end
      ASSERT_EQ(d2[n], 9.0f);
    }
}

// ---------------------------------------------------------------------------
// Eigen front end and the FakeQuantSTE layer

TEST(Qat, EigenFakeQuantizeMaskAndBackwardInBothLayouts) {
  Eigen::Tensor<float, 3, Eigen::ColMajor> col(4, 5, 6);
  col.setRandom();
  col = col * 4.0f - 2.0f;
  Eigen::Tensor<float, 3, Eigen::RowMajor> row = col.swap_layout().shuffle(Eigen::array<int, 3>{2, 1, 0});
  const QParams p = QParams::per_axis(1, {0.01f, 0.02f, 0.03f, 0.04f, 0.05f}, {1, -2, 3, -4, 5}, Range{-50, 50});
  const auto fc = fake_quantize_mask(col, p);
  const auto fr = fake_quantize_mask(row, p);
  Eigen::Tensor<float, 3, Eigen::ColMajor> dyc(4, 5, 6);
  dyc.setConstant(1.5f);
  const auto dxc = ste_backward(fc.mask, dyc);
  const auto dxc2 = ste_backward(col, p, dyc);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 5; ++j)
      for (int k = 0; k < 6; ++k) {
        ASSERT_EQ(fc.output(i, j, k), fr.output(i, j, k));
        ASSERT_EQ(fc.mask(i, j, k), fr.mask(i, j, k));
        ASSERT_EQ(fc.output(i, j, k), fake_quantize(col(i, j, k), p.scale[j], p.zero_point[j], p.range));
        ASSERT_EQ(dxc(i, j, k), fc.mask(i, j, k) ? 1.5f : 0.0f);
        ASSERT_EQ(dxc2(i, j, k), dxc(i, j, k));
      }

  // Matrices: a 2-D tensor.
  Eigen::MatrixXf m(3, 4);
  m.setRandom();
  const auto fm = fake_quantize_mask(m, QParams::per_axis(1, {0.1f, 0.2f, 0.3f, 0.4f}, {}, Range{-3, 3}));
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) EXPECT_EQ(fm.mask(i, j), ste_mask(m(i, j), 0.1f * (j + 1), 0, Range{-3, 3}));
}

TEST(Qat, EigenErrorsWriteNothing) {
  Eigen::Tensor<float, 2> x(2, 3), y(2, 3);
  x.setConstant(1.0f);
  y.setConstant(7.0f);
  Eigen::Tensor<std::uint8_t, 2> mask(2, 3), small(2, 2);
  mask.setConstant(9);
  const QParams bad = QParams::per_axis(1, {0.1f, 0.0f, 0.1f}, {}, Range{-8, 7});
  const Status s = fake_quantize_mask_into(x, bad.view(), y, mask);
  EXPECT_EQ(s.code(), StatusCode::kInvalidScale);
  EXPECT_NE(s.message().find("scale[1] = 0"), std::string::npos) << s.message();
  const QParams good = QParams::per_tensor(0.1f, 0, Range{-8, 7});
  EXPECT_EQ(fake_quantize_mask_into(x, good.view(), y, small).code(), StatusCode::kShapeMismatch);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(y.data()[i], 7.0f);
    EXPECT_EQ(mask.data()[i], 9);
  }
  EXPECT_THROW(fake_quantize_mask(x, bad), Error);
}

TEST(Qat, FakeQuantSteLayerWithEveryMaskStorage) {
  std::mt19937 rng(8);
  const Scheme s{{6, 9}, Layout::kRowMajor, Granularity::kBlocked, 1, 4};
  const Resolved r = resolve_scheme(s);
  const Params p = random_params(r.count, Range{0, 15}, rng);
  const QParams qp{s.granularity, s.axis, s.block, p.scale, p.zp, p.range};
  const std::vector<float> x = inputs(r, p.scale, p.zp, p.range, rng);
  std::vector<float> dy(x.size());
  std::normal_distribution<float> normal;
  for (auto& v : dy) v = normal(rng);

  for (MaskStorage storage : {MaskStorage::kBytes, MaskStorage::kBits, MaskStorage::kNone}) {
    FakeQuantSTE<> layer(qp, storage);
    std::vector<float> y(x.size()), dx(x.size()), dx_x(x.size());
    EXPECT_FALSE(layer.backward(dy.data(), dx.data(), r.shape).is_ok());  // no forward pass yet
    ASSERT_TRUE(layer.forward(x.data(), y.data(), r.shape).is_ok());
    ASSERT_TRUE(layer.backward(x.data(), dy.data(), dx_x.data(), r.shape).is_ok());
    const Status s_bwd = layer.backward(dy.data(), dx.data(), r.shape);
    EXPECT_EQ(s_bwd.is_ok(), storage != MaskStorage::kNone) << s_bwd.message();
    EXPECT_EQ(layer.mask().size(), storage == MaskStorage::kBytes  ? x.size()
                                   : storage == MaskStorage::kBits ? (x.size() + 7) / 8
                                                                   : 0u);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::int64_t k = r.param[i];
      ASSERT_EQ(bits(y[i]), bits(fake_quantize(x[i], p.scale[k], p.zp[k], p.range)));
      const float want = dy[i] * static_cast<float>(ste_mask(x[i], p.scale[k], p.zp[k], p.range));
      ASSERT_EQ(bits(dx_x[i]), bits(want));
      if (storage != MaskStorage::kNone) {
        ASSERT_EQ(bits(dx[i]), bits(want));
      }
    }
    // dy of another shape is refused by name.
    const Status wrong = layer.backward(dy.data(), dx.data(), Shape::row_major({9, 6}));
    if (storage != MaskStorage::kNone) {
      EXPECT_EQ(wrong.code(), StatusCode::kShapeMismatch);
      EXPECT_NE(wrong.message().find("[9, 6]"), std::string::npos) << wrong.message();
    }
  }
}

TEST(Qat, FakeQuantSteLayerRevalidatesOnNewShapesAndParameters) {
  FakeQuantSTE<> layer(QParams::per_axis(0, {0.5f, 0.25f}, {}, Range{-8, 7}));
  Eigen::Tensor<float, 2, Eigen::RowMajor> a(2, 3), b(3, 2);
  a.setConstant(1.0f);
  b.setConstant(1.0f);
  const auto ya = layer.forward(a);
  EXPECT_EQ(ya(0, 0), 1.0f);
  EXPECT_EQ(ya(1, 0), 1.0f);
  EXPECT_THROW(layer.forward(b), Error);  // axis 0 has 3 entries now, 2 scales
  layer.set_params(QParams::per_axis(0, {0.5f, 0.25f, 0.75f}, {}, Range{-8, 7}));
  const auto yb = layer.forward(b);
  EXPECT_EQ(yb(2, 0), 0.75f);
  const auto dx = layer.backward(b);
  EXPECT_EQ(dx(2, 1), 1.0f);
  EXPECT_THROW(layer.backward(a), Error);  // the last forward pass had b's shape
}

// ---------------------------------------------------------------------------
// Element functors

template <class N>
void check_element_functors(std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-3.0f, 3.0f), su(0.01f, 0.5f);
  for (int trial = 0; trial < 50; ++trial) {
    const float scale = su(rng);
    const std::int32_t zp = trial % 7 - 3;
    const Range range{-8, 7};
    const FakeQuantOp<N> fq(scale, zp, range);
    const SteOp<N> ste(fq);
    for (int i = 0; i < 40; ++i) {
      float x = u(rng);
      if (i == 0) x = kNaN;
      if (i == 1) x = kInf;
      if (i == 2) x = (std::round(x / scale) + 0.5f) * scale;
      ASSERT_EQ(bits(fq(x)), bits(fake_quantize<N>(x, scale, zp, range))) << numerics_name<N>() << " x " << x;
      ASSERT_EQ(fq.mask(x), ste_mask<N>(x, scale, zp, range));
      ASSERT_EQ(bits(ste(x, -1.25f)), bits(-1.25f * static_cast<float>(ste_mask<N>(x, scale, zp, range))));
    }
  }
}

TEST(Qat, ElementFunctorsMatchTheReferenceForEveryPreset) {
  std::mt19937 rng(9);
  check_element_functors<presets::pytorch>(rng);
  check_element_functors<presets::onnx>(rng);
  check_element_functors<presets::tflite>(rng);
  check_element_functors<presets::tensorflow>(rng);
}

TEST(Qat, ElementFunctorsFuseIntoEigenExpressions) {
  Eigen::Tensor<float, 2> x(3, 4), dy(3, 4);
  x.setRandom();
  dy.setConstant(2.0f);
  const FakeQuantOp<> fq(0.05f, 2, Range{-16, 15});
  Eigen::Tensor<float, 2> y = (x * 3.0f - 1.0f).unaryExpr(fq) + x;                    // fused: one pass
  Eigen::Tensor<float, 2> dx = (x * 3.0f - 1.0f).binaryExpr(dy, SteOp<>(fq)) * 3.0f;  // chain rule
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) {
      const float a = x(i, j) * 3.0f - 1.0f;
      EXPECT_EQ(y(i, j), fake_quantize(a, 0.05f, 2, Range{-16, 15}) + x(i, j));
      EXPECT_EQ(dx(i, j), ste_mask(a, 0.05f, 2, Range{-16, 15}) ? 6.0f : 0.0f);
    }
  EXPECT_THROW(FakeQuantOp<>(0.0f, 0, Range{0, 1}), Error);
  EXPECT_THROW(FakeQuantOp<>(1.0f, 5, Range{0, 1}), Error);
  FakeQuantOp<> op;
  const Status s = FakeQuantOp<>::create(kNaN, 0, Range{0, 1}, &op);
  EXPECT_EQ(s.code(), StatusCode::kInvalidScale);
  EXPECT_TRUE(std::isnan(op(0.3f)));  // still unset: NaN, never a silent 0
}

// ---------------------------------------------------------------------------
// LSQ: reference loop, both paths, and finite differences

struct LsqParams {
  LearnableParams params;
  std::vector<std::int32_t> rounded;
};

LsqParams random_learnable(const Scheme& s, std::size_t count, Range range, std::mt19937& rng) {
  std::uniform_real_distribution<float> scale(0.02f, 0.2f),
      zp(static_cast<float>(range.qmin) - 2.0f, static_cast<float>(range.qmax) + 2.0f);
  LsqParams p;
  p.params = {s.granularity, s.axis, s.block, std::vector<float>(count), std::vector<float>(count), range};
  for (auto& v : p.params.scale) v = scale(rng);
  for (std::size_t k = 0; k < count; ++k) {
    float z = zp(rng);
    if (k % 5 == 1) z = std::floor(z) + 0.5f;  // ties: rounded half to even
    p.params.zero_point[k] = z;
    p.rounded.push_back(round_zero_point(z, range));
  }
  return p;
}

struct Grads {
  std::vector<float> y, dx, ds, dz;
};

template <Path P>
Grads lsq(const Resolved& r, const LearnableParams& p, const std::vector<float>& x, const std::vector<float>& dy,
          float g) {
  LearnableFakeQuant<DefaultNumerics, P> lq(r.shape, p.view());
  Grads out{std::vector<float>(x.size()), std::vector<float>(x.size()), std::vector<float>(lq.count()),
            std::vector<float>(lq.count())};
  lq.forward(x.data(), out.y.data());
  lq.backward(x.data(), dy.data(), out.dx.data(), out.ds.data(), out.dz.data(), g);
  return out;
}

TEST(Qat, LearnableGradientsEverySchemeAgainstAReference) {
  std::mt19937 rng(12);
  std::vector<Scheme> all = schemes();
  // Many parameters: per element, and per axis on the fast axis of a long tensor.
  all.push_back({{300, 250}, Layout::kRowMajor, Granularity::kPerElement, 0, 0});
  all.push_back({{3, 70000}, Layout::kColMajor, Granularity::kPerAxis, 1, 0});
  for (const Scheme& s : all) {
    SCOPED_TRACE(describe(s));
    const Resolved r = resolve_scheme(s);
    const Range range{-8, 7};
    const LsqParams p = random_learnable(s, r.count, range, rng);
    const std::vector<float> x = inputs(r, p.params.scale, p.rounded, range, rng);
    std::vector<float> dy(x.size());
    std::normal_distribution<float> normal;
    for (auto& v : dy) v = normal(rng);
    const float g = 0.375f;
    const Grads a = lsq<Path::kScalar>(r, p.params, x, dy, g);
    const Grads b = lsq<kBestPath>(r, p.params, x, dy, g);

    // Reference: the formulas of lsq.hpp element by element, sums in double.
    std::vector<double> ds(r.count, 0.0), dz(r.count, 0.0);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::int64_t k = r.param[i];
      const float sc = p.params.scale[k], inv = 1.0f / sc;
      const std::int32_t z = p.rounded[k];
      const float rd = std::nearbyint(x[i] * inv);
      const double q = static_cast<double>(rd) + z;
      const bool inside = q >= range.qmin && q <= range.qmax;
      const float y = fake_quantize(x[i], sc, z, range);
      ASSERT_EQ(bits(a.y[i]), bits(y)) << i;
      ASSERT_EQ(bits(a.dx[i]), bits(dy[i] * (inside ? 1.0f : 0.0f))) << i;
      if (inside) {
        ds[k] += ((dy[i] * (y - x[i])) * inv) * g;
      } else {
        const float bound = static_cast<float>((q > range.qmax ? range.qmax : range.qmin) - z);
        ds[k] += (dy[i] * bound) * g;
        dz[k] += ((dy[i] * -1.0f) * sc) * g;
      }
    }
    for (std::size_t k = 0; k < r.count; ++k) {
      EXPECT_EQ(a.ds[k], static_cast<float>(ds[k])) << "dscale " << k;
      EXPECT_EQ(a.dz[k], static_cast<float>(dz[k])) << "dzero_point " << k;
    }
    // Every path: the same bits.
    for (std::size_t i = 0; i < x.size(); ++i) {
      ASSERT_EQ(bits(a.y[i]), bits(b.y[i]));
      ASSERT_EQ(bits(a.dx[i]), bits(b.dx[i]));
    }
    EXPECT_EQ(a.ds, b.ds);
    EXPECT_EQ(a.dz, b.dz);
  }
}

// Finite differences, in double, of the loss L = sum w * f(x; s, z) where f
// is LSQ's function: round() passes the gradient straight through (its
// residual round(x/s) - x/s held at the evaluation point), the zero point is
// used through its rounding the same way, and the clamp is real:
//
//     f = s * (clamp(x/s + c + z + d, qmin, qmax) - (z + d)),
//     c = round(x0/s0) - x0/s0,  d = round(z0) - z0
//
// Away from the clamp's kinks f is smooth in x, s and z, and LSQ's dx,
// dscale and dzero_point are its exact derivatives. The kinks are where
// round(x/s) + z is qmin or qmax: such elements are left out.
TEST(Qat, LearnableGradientsMatchFiniteDifferences) {
  std::mt19937 rng(13);
  for (const Scheme& s : schemes()) {
    SCOPED_TRACE(describe(s));
    const Resolved r = resolve_scheme(s);
    if (r.n == 0) continue;
    const Range range{0, 15};
    const LsqParams p = random_learnable(s, r.count, range, rng);
    std::vector<float> x(static_cast<std::size_t>(r.n)), w(x.size());
    // Rounded values q = round(x/s) + z inside or outside the range, never on
    // its edges qmin, qmax: there the surrogate's clamp has its kink.
    std::uniform_int_distribution<int> level(range.qmin - 3, range.qmax + 3);
    std::uniform_real_distribution<float> frac(-0.45f, 0.45f);
    std::normal_distribution<float> normal;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::int64_t k = r.param[i];
      int q;
      do q = level(rng);
      while (q == range.qmin || q == range.qmax);
      x[i] = (static_cast<float>(q - p.rounded[k]) + frac(rng)) * p.params.scale[k];
      w[i] = normal(rng);
    }
    const float g = 0.5f;
    const Grads a = lsq<Path::kScalar>(r, p.params, x, w, g);

    // The surrogate, with residuals frozen at the evaluation point.
    std::vector<double> c(x.size()), d(r.count);
    for (std::size_t k = 0; k < r.count; ++k) d[k] = p.rounded[k] - static_cast<double>(p.params.zero_point[k]);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::int64_t k = r.param[i];
      const double u0 = static_cast<double>(x[i]) / p.params.scale[k];
      c[i] = std::nearbyint(x[i] * (1.0f / p.params.scale[k])) - u0;
    }
    auto loss = [&](const std::vector<double>& xs, const std::vector<double>& sc, const std::vector<double>& zs) {
      double sum = 0.0;
      for (std::size_t i = 0; i < xs.size(); ++i) {
        const std::int64_t k = r.param[i];
        const double zr = zs[k] + d[k];
        const double q = std::min<double>(std::max<double>(xs[i] / sc[k] + c[i] + zr, range.qmin), range.qmax);
        sum += w[i] * sc[k] * (q - zr);
      }
      return sum * g;  // the gradient factor scales the loss's parameter gradients
    };
    std::vector<double> xs(x.begin(), x.end()), sc(p.params.scale.begin(), p.params.scale.end()),
        zs(p.params.zero_point.begin(), p.params.zero_point.end());
    for (std::size_t k = 0; k < r.count; ++k) {
      const double h = 1e-4 * sc[k];
      auto sp = sc, sm = sc;
      sp[k] += h;
      sm[k] -= h;
      const double fd_s = (loss(xs, sp, zs) - loss(xs, sm, zs)) / (2 * h);
      EXPECT_NEAR(a.ds[k], fd_s, 1e-4 + 1e-4 * std::fabs(fd_s)) << "dscale " << k;
      auto zp = zs, zm = zs;
      zp[k] += 1e-3;
      zm[k] -= 1e-3;
      const double fd_z = (loss(xs, sc, zp) - loss(xs, sc, zm)) / 2e-3;
      EXPECT_NEAR(a.dz[k], fd_z, 1e-4 + 1e-4 * std::fabs(fd_z)) << "dzero_point " << k;
    }
    for (std::size_t i = 0; i < x.size(); i += 3) {
      const double h = 1e-4 * sc[r.param[i]];
      auto xp = xs, xm = xs;
      xp[i] += h;
      xm[i] -= h;
      // dx has no gradient factor: divide it back out of the loss.
      const double fd_x = (loss(xp, sc, zs) - loss(xm, sc, zs)) / (2 * h) / g;
      EXPECT_NEAR(a.dx[i], fd_x, 1e-4 + 1e-4 * std::fabs(fd_x)) << "dx " << i;
    }
  }
}

// Where every element is clamped, the real fake-quant output is smooth in the
// scale: y = (qmin or qmax - z) * s. Its finite difference (of the library's
// own forward pass) is LSQ's dscale, with no straight-through assumption.
TEST(Qat, ClampedScaleGradientIsTheTrueDerivative) {
  std::mt19937 rng(14);
  for (const Scheme& s : schemes()) {
    SCOPED_TRACE(describe(s));
    const Resolved r = resolve_scheme(s);
    if (r.n == 0) continue;
    const Range range{-8, 7};
    const LsqParams p = random_learnable(s, r.count, range, rng);
    std::vector<float> x(static_cast<std::size_t>(r.n)), w(x.size());
    std::normal_distribution<float> normal;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::int64_t k = r.param[i];
      const float far = i % 2 ? static_cast<float>(range.qmax - p.rounded[k]) + 20.0f
                              : static_cast<float>(range.qmin - p.rounded[k]) - 20.0f;
      x[i] = far * p.params.scale[k];
      w[i] = normal(rng);
    }
    const Grads a = lsq<Path::kScalar>(r, p.params, x, w, 1.0f);
    for (std::size_t k = 0; k < r.count; ++k) {
      auto loss = [&](float scale) {
        LearnableParams q = p.params;
        q.scale[k] = scale;
        LearnableFakeQuant<> lq(r.shape, q.view());
        std::vector<float> y(x.size());
        lq.forward(x.data(), y.data());
        double sum = 0.0;
        for (std::size_t i = 0; i < x.size(); ++i) sum += static_cast<double>(w[i]) * y[i];
        return sum;
      };
      const float s0 = p.params.scale[k], h = s0 / 64.0f;  // exact in float
      const double fd = (loss(s0 + h) - loss(s0 - h)) / (2.0 * h);
      EXPECT_NEAR(a.ds[k], fd, 1e-3 * (1.0 + std::fabs(fd))) << "dscale " << k;
    }
  }
}

TEST(Qat, LearnableParameterValidation) {
  const Shape shape = Shape::row_major({2, 3});
  std::vector<float> x(6, 0.1f), y(6, 7.0f);
  LearnableFakeQuant<> lq;
  auto p = LearnableParams::per_axis(1, {0.1f, -0.1f, 0.1f}, {}, Range{-8, 7});
  Status s = LearnableFakeQuant<>::create(shape, p.view(), &lq);
  EXPECT_EQ(s.code(), StatusCode::kInvalidScale);
  EXPECT_NE(s.message().find("scale[1] = -0.1"), std::string::npos) << s.message();
  p = LearnableParams::per_axis(1, {0.1f, 0.1f, 0.1f}, {0.0f, kNaN, 0.0f}, Range{-8, 7});
  s = LearnableFakeQuant<>::create(shape, p.view(), &lq);
  EXPECT_EQ(s.code(), StatusCode::kInvalidZeroPoint);
  EXPECT_NE(s.message().find("zero_point[1]"), std::string::npos) << s.message();
  p = LearnableParams::per_axis(1, {0.1f, 0.1f}, {}, Range{-8, 7});
  EXPECT_EQ(LearnableFakeQuant<>::create(shape, p.view(), &lq).code(), StatusCode::kShapeMismatch);
  p = LearnableParams::per_axis(3, {0.1f, 0.1f, 0.1f}, {}, Range{-8, 7});
  EXPECT_EQ(LearnableFakeQuant<>::create(shape, p.view(), &lq).code(), StatusCode::kInvalidAxis);
  p = LearnableParams::per_tensor(0.1f, 0.0f, Range{7, -8});
  EXPECT_EQ(LearnableFakeQuant<>::create(shape, p.view(), &lq).code(), StatusCode::kInvalidRange);
  // A zero point outside the range is clamped into it, as PyTorch does.
  p = LearnableParams::per_tensor(0.5f, 100.0f, Range{-8, 7});
  ASSERT_TRUE(LearnableFakeQuant<>::create(shape, p.view(), &lq).is_ok());
  EXPECT_EQ(lq.quantizer().params().zero_point[0], 7);
  lq.forward(x.data(), y.data());
  EXPECT_EQ(y[0], 0.0f);

  EXPECT_EQ(round_zero_point(2.5f, Range{0, 255}), 2);
  EXPECT_EQ(round_zero_point(3.5f, Range{0, 255}), 4);
  EXPECT_EQ(round_zero_point(-3.4f, Range{-128, 127}), -3);
  EXPECT_EQ(round_zero_point(-300.0f, Range{-128, 127}), -128);
  EXPECT_EQ(lsq_grad_factor(1000, Range{0, 255}), static_cast<float>(1.0 / std::sqrt(255000.0)));
  EXPECT_EQ(lsq_grad_factor(1000, Range{-8, 0}), 1.0f);
  const float data[4] = {1.0f, -1.0f, 3.0f, -3.0f};
  EXPECT_FLOAT_EQ(lsq_initial_scale(data, 4, Range{-8, 7}), 2.0f * 2.0f / std::sqrt(7.0f));
}

TEST(Qat, LearnableUpdateTakesNewValuesOrChangesNothing) {
  const Shape shape = Shape::row_major({2, 3});
  const std::vector<float> x = {0.11f, -0.52f, 0.3f, 1.7f, -0.05f, 0.26f}, dy(6, 1.0f);
  auto p = LearnableParams::per_axis(1, {0.1f, 0.2f, 0.3f}, {0.0f, 1.0f, -1.0f}, Range{-4, 3});
  LearnableFakeQuant<> lq(shape, p.view());
  p.scale = {0.05f, 0.25f, 0.5f};
  p.zero_point = {0.5f, 1.5f, -2.6f};
  ASSERT_TRUE(lq.update(p.view()).is_ok());
  const LearnableFakeQuant<> fresh(shape, p.view());
  std::vector<float> y1(6), y2(6), dx1(6), dx2(6), ds1(3), ds2(3), dz1(3), dz2(3);
  lq.forward(x.data(), y1.data());
  fresh.forward(x.data(), y2.data());
  lq.backward(x.data(), dy.data(), dx1.data(), ds1.data(), dz1.data(), 1.0f);
  LearnableFakeQuant<> copy = fresh;  // copies rebind to their own parameters
  copy.backward(x.data(), dy.data(), dx2.data(), ds2.data(), dz2.data(), 1.0f);
  EXPECT_EQ(y1, y2);
  EXPECT_EQ(dx1, dx2);
  EXPECT_EQ(ds1, ds2);
  EXPECT_EQ(dz1, dz2);
  EXPECT_EQ(lq.quantizer().params().zero_point[2], -3);

  // A bad value, or another layout: an error naming it, the old values kept.
  auto bad = p;
  bad.scale[1] = kInf;
  const Status s = lq.update(bad.view());
  EXPECT_EQ(s.code(), StatusCode::kInvalidScale);
  EXPECT_NE(s.message().find("scale[1] = inf"), std::string::npos) << s.message();
  EXPECT_EQ(lq.update(LearnableParams::per_tensor(0.1f, 0.0f, Range{-4, 3}).view()).code(), StatusCode::kShapeMismatch);
  lq.forward(x.data(), y1.data());
  EXPECT_EQ(y1, y2);
}

TEST(Qat, LearnableEigenFrontEnd) {
  Eigen::Tensor<float, 2, Eigen::RowMajor> x(4, 3), dy(4, 3);
  x.setValues({{-1.0f, 0.02f, 0.5f}, {0.3f, -0.4f, 2.0f}, {0.0f, 0.11f, -0.26f}, {0.9f, 0.9f, -0.9f}});
  dy.setConstant(1.0f);
  const auto p = LearnableParams::per_axis(1, {0.1f, 0.05f, 0.2f}, {0.4f, -1.6f, 2.5f}, Range{-4, 3});
  const auto y = learnable_fake_quantize(x, p);
  const auto g = learnable_fake_quantize_backward(x, dy, p);
  ASSERT_EQ(g.dscale.size(), 3u);
  const std::int32_t z[3] = {0, -2, 2};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j) {
      EXPECT_EQ(y(i, j), fake_quantize(x(i, j), p.scale[j], z[j], p.range));
      EXPECT_EQ(g.dx(i, j), ste_mask(x(i, j), p.scale[j], z[j], p.range) ? 1.0f : 0.0f);
    }
  // The default gradient factor is LSQ's.
  const auto g1 = learnable_fake_quantize_backward(x, dy, p, 1.0f);
  const float f = lsq_grad_factor(12, p.range);
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(g.dscale[k], g1.dscale[k] * f, 1e-6f);
  const auto q = LearnableParams::from(QParams::per_axis(1, {0.1f, 0.2f, 0.3f}, {1, 2, 3}, Range{-4, 3}));
  EXPECT_EQ(q.zero_point, (std::vector<float>{1.0f, 2.0f, 3.0f}));
}

// ---------------------------------------------------------------------------
// Observers and FakeQuantize

TEST(Qat, MovingAverageMinMaxPerTensor) {
  MovingAverageMinMax<std::uint8_t> obs;
  EXPECT_FALSE(obs.initialized());
  EXPECT_EQ(obs.qparams().scale, std::vector<float>{1.0f});  // PyTorch's defaults before data
  const std::vector<float> a = {-1.0f, 2.0f, kNaN}, b = {-3.0f, 4.0f, 0.0f};
  ASSERT_TRUE(obs.observe(a.data(), Shape::row_major({3})).is_ok());
  EXPECT_EQ(obs.min(), std::vector<float>{-1.0f});  // NaN skipped
  EXPECT_EQ(obs.max(), std::vector<float>{2.0f});
  ASSERT_TRUE(obs.observe(b.data(), Shape::row_major({3})).is_ok());
  EXPECT_EQ(obs.min()[0], -1.0f + 0.01f * (-3.0f - -1.0f));
  EXPECT_EQ(obs.max()[0], 2.0f + 0.01f * (4.0f - 2.0f));
  const QParams p = obs.qparams();
  const AffineParams want = choose_qparams<std::uint8_t>(obs.min()[0], obs.max()[0], Range::full<std::uint8_t>());
  EXPECT_EQ(p.scale[0], want.scale);
  EXPECT_EQ(p.zero_point[0], want.zero_point);
  obs.reset();
  EXPECT_FALSE(obs.initialized());
}

TEST(Qat, MovingAverageMinMaxPerChannel) {
  MovingAverageMinMax<std::int8_t> obs(per_axis_layout(-1), Range::narrow<std::int8_t>(), Symmetry::kSymmetric, 0.5f);
  QParams none;
  EXPECT_EQ(obs.qparams(&none).code(), StatusCode::kInvalidArgument);
  Eigen::Tensor<float, 2, Eigen::RowMajor> x(2, 3);
  x.setValues({{1.0f, -2.0f, 0.0f}, {3.0f, 1.0f, 0.0f}});
  obs.observe(x);
  EXPECT_EQ(obs.min(), (std::vector<float>{1.0f, -2.0f, 0.0f}));
  EXPECT_EQ(obs.max(), (std::vector<float>{3.0f, 1.0f, 0.0f}));
  x.setValues({{5.0f, 0.0f, 0.0f}, {5.0f, 0.0f, 0.0f}});
  obs.observe(x);
  EXPECT_EQ(obs.min(), (std::vector<float>{3.0f, -1.0f, 0.0f}));
  EXPECT_EQ(obs.max(), (std::vector<float>{4.0f, 0.5f, 0.0f}));
  const QParams p = obs.qparams();
  EXPECT_EQ(p.granularity, Granularity::kPerAxis);
  EXPECT_EQ(p.scale[0], 4.0f / 127.0f);
  EXPECT_EQ(p.scale[2], kScaleEpsilon);  // a dead channel: tiny, never 0
  EXPECT_EQ(p.zero_point, (std::vector<std::int32_t>{0, 0, 0}));
  Eigen::Tensor<float, 2, Eigen::RowMajor> other(2, 4);
  other.setZero();
  EXPECT_THROW(obs.observe(other), Error);  // 4 channels, the observer has 3
  EXPECT_EQ(obs.min().size(), 3u);
}

TEST(Qat, FakeQuantizeModuleFlags) {
  FakeQuantize<std::uint8_t> fq(MovingAverageMinMax<std::uint8_t>(per_tensor_layout(), Range{0, 15}));
  Eigen::Tensor<float, 1> x(4), dy(4);
  x.setValues({-1.0f, 0.1f, 0.5f, 2.0f});
  dy.setConstant(1.0f);
  const auto y = fq.forward(x);
  const QParams first = fq.qparams();
  EXPECT_EQ(first.scale[0], 3.0f / 15.0f);
  EXPECT_EQ(first.zero_point[0], 5);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(y(i), fake_quantize(x(i), first.scale[0], 5, Range{0, 15}));
  const auto dx = fq.backward(dy);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(dx(i), 1.0f);

  // Observer off: the parameters stay; fake-quant off: identity both ways.
  fq.enable_observer(false);
  Eigen::Tensor<float, 1> big(4);
  big.setValues({-10.0f, 0.0f, 10.0f, 20.0f});
  const auto y2 = fq.forward(big);
  EXPECT_EQ(fq.qparams().scale, first.scale);
  EXPECT_EQ(y2(3), (15 - 5) * first.scale[0]);
  const auto dx2 = fq.backward(dy);
  EXPECT_EQ(dx2(3), 0.0f);
  fq.enable_fake_quant(false);
  const auto y3 = fq.forward(big);
  const auto dx3 = fq.backward(dy);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(y3(i), big(i));
    EXPECT_EQ(dx3(i), 1.0f);
  }
  // Observer on, fake-quant off: parameters follow the data, output is x.
  fq.enable_observer(true);
  fq.forward(big);
  EXPECT_NE(fq.qparams().scale, first.scale);

  // Errors change nothing: an infinite input gives an infinite scale.
  const QParams before = fq.qparams();
  const std::vector<float> before_min = fq.observer().min();
  fq.enable_fake_quant(true);
  Eigen::Tensor<float, 1> inf(4);
  inf.setValues({-kInf, 0.0f, 1.0f, 2.0f});
  EXPECT_THROW(fq.forward(inf), Error);
  EXPECT_EQ(fq.qparams().scale, before.scale);
  EXPECT_EQ(fq.observer().min(), before_min);
}

}  // namespace
}  // namespace eigenq
