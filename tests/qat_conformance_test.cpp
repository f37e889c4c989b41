// QAT against PyTorch 1.13: fake-quant with mask, learnable scale and zero
// point (forward, dx, dscale, dzero_point), moving-average observers and the
// FakeQuantize module. Golden values in tests/data/pytorch_qat.txt, written
// by tests/conformance/gen_pytorch_qat.py. y, mask and dx must match bit for
// bit on every path; reduced gradients within float summation error.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "eigenq/eigenq.hpp"
#include "eigenq/qat.hpp"
#include "golden.hpp"

namespace eigenq {
namespace {

const std::vector<golden::Case>& cases() {
  static const std::vector<golden::Case> all = golden::load("pytorch_qat.txt");
  return all;
}

std::vector<const golden::Case*> named(const std::string& name) {
  std::vector<const golden::Case*> out;
  for (const auto& c : cases())
    if (c.name == name) out.push_back(&c);
  EXPECT_FALSE(out.empty()) << "no golden case " << name;
  return out;
}

std::uint32_t bits(float v) {
  std::uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  return u;
}

// Same bits, any NaN equal to any NaN.
::testing::AssertionResult same_floats(const std::vector<float>& got, const std::vector<float>& want, int line) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << "golden line " << line << ": size " << got.size() << " vs " << want.size();
  for (std::size_t i = 0; i < got.size(); ++i)
    if (!(bits(got[i]) == bits(want[i]) || (std::isnan(got[i]) && std::isnan(want[i]))))
      return ::testing::AssertionFailure() << "golden line " << line << " element " << i << ": " << got[i] << " ("
                                           << std::hexfloat << got[i] << ") vs " << want[i] << std::defaultfloat;
  return ::testing::AssertionSuccess();
}

std::vector<std::uint8_t> bytes(const std::vector<std::int64_t>& v) { return {v.begin(), v.end()}; }

Shape shape_of_case(const golden::Case& c) {
  const auto dims = c.ints("shape");
  return Shape::from(dims.data(), static_cast<int>(dims.size()), Layout::kRowMajor);
}

template <Path P>
void check_fake_quant(const golden::Case& c, const Shape& shape, const QParamsView& p) {
  const std::vector<float> x = c.floats("x"), want = c.floats("y");
  const std::vector<std::uint8_t> want_mask = bytes(c.ints("mask"));
  const Quantizer<std::int32_t, DefaultNumerics, P> qz(shape, p);
  std::vector<float> y(x.size()), y2(x.size());
  std::vector<std::uint8_t> mask(x.size());
  qz.fake_quantize_mask(x.data(), y.data(), mask.data());
  EXPECT_TRUE(same_floats(y, want, c.line)) << path_name(P);
  EXPECT_EQ(mask, want_mask) << "golden line " << c.line << " " << path_name(P);

  std::vector<std::uint8_t> packed(static_cast<std::size_t>(packed_mask_bytes(shape.size())));
  fake_quantize_packed_mask(qz, x.data(), y2.data(), packed.data());
  EXPECT_TRUE(same_floats(y2, want, c.line));
  for (std::size_t i = 0; i < x.size(); ++i)
    ASSERT_EQ(packed_mask_bit(packed.data(), static_cast<std::int64_t>(i)), want_mask[i] != 0) << i;

  // STE backward three ways: from the byte mask, the packed mask, and x.
  std::vector<float> dy(x.size()), dx1(x.size()), dx2(x.size()), dx3(x.size()), want_dx(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    dy[i] = 0.25f * static_cast<float>(i % 7) - 0.5f;
    want_dx[i] = dy[i] * static_cast<float>(want_mask[i]);
  }
  ste_backward_masked<P>(mask.data(), dy.data(), dx1.data(), static_cast<std::int64_t>(x.size()));
  ste_backward_packed<P>(packed.data(), dy.data(), dx2.data(), static_cast<std::int64_t>(x.size()));
  qz.ste_backward(x.data(), dy.data(), dx3.data());
  EXPECT_TRUE(same_floats(dx1, want_dx, c.line));
  EXPECT_TRUE(same_floats(dx2, want_dx, c.line));
  EXPECT_TRUE(same_floats(dx3, want_dx, c.line));
}

TEST(PytorchQat, FakeQuantizePerTensorCachemask) {
  for (const golden::Case* c : named("fq_tensor")) {
    const float scale = c->real("scale");
    const std::int32_t zp = static_cast<std::int32_t>(c->integer("zp"));
    const Range range{static_cast<std::int32_t>(c->integer("qmin")), static_cast<std::int32_t>(c->integer("qmax"))};
    const std::vector<float> x = c->floats("x");
    const Shape shape = Shape::row_major({static_cast<std::int64_t>(x.size())});
    const QParams p = QParams::per_tensor(scale, zp, range);
    check_fake_quant<Path::kScalar>(*c, shape, p.view());
    check_fake_quant<kBestPath>(*c, shape, p.view());

    // The element functor inside an Eigen expression gives the same bits.
    Eigen::TensorMap<const Eigen::Tensor<float, 1, Eigen::RowMajor>> xt(x.data(), static_cast<Eigen::Index>(x.size()));
    Eigen::Tensor<float, 1, Eigen::RowMajor> y = xt.unaryExpr(FakeQuantOp<>(scale, zp, range));
    EXPECT_TRUE(same_floats(std::vector<float>(y.data(), y.data() + y.size()), c->floats("y"), c->line));
  }
}

TEST(PytorchQat, FakeQuantizePerChannelCachemask) {
  for (const golden::Case* c : named("fq_channel")) {
    const Range range{static_cast<std::int32_t>(c->integer("qmin")), static_cast<std::int32_t>(c->integer("qmax"))};
    const auto zp64 = c->ints("zp");
    const QParams p =
        QParams::per_axis(static_cast<int>(c->integer("axis")), c->floats("scale"), {zp64.begin(), zp64.end()}, range);
    check_fake_quant<Path::kScalar>(*c, shape_of_case(*c), p.view());
    check_fake_quant<kBestPath>(*c, shape_of_case(*c), p.view());
  }
}

// Learnable ops: our forward y and dx bit for bit, dscale and dzero_point
// within the float summation error PyTorch's own sum can make.
struct LsqResult {
  std::vector<float> y, dx, dscale, dzp;
};

template <Path P>
LsqResult run_lsq(const Shape& shape, const LearnableParams& params, const std::vector<float>& x,
                  const std::vector<float>& dy, float gf) {
  LearnableFakeQuant<DefaultNumerics, P> lq(shape, params.view());
  LsqResult r{std::vector<float>(x.size()), std::vector<float>(x.size()), std::vector<float>(lq.count()),
              std::vector<float>(lq.count())};
  lq.forward(x.data(), r.y.data());
  lq.backward(x.data(), dy.data(), r.dx.data(), r.dscale.data(), r.dzp.data(), gf);
  return r;
}

// The tolerances (from the generator) cover float32 summation and PyTorch's
// unrounded y - x, and are far below one element's term being wrong.
void expect_sums_near(const std::vector<float>& got, const std::vector<float>& want, const std::vector<double>& tol,
                      const char* what, int line) {
  ASSERT_EQ(got.size(), want.size());
  ASSERT_EQ(tol.size(), want.size());
  for (std::size_t k = 0; k < got.size(); ++k)
    EXPECT_NEAR(got[k], want[k], tol[k] + 1e-30) << what << "[" << k << "], golden line " << line;
}

template <Path P>
void check_lsq(const golden::Case& c, const Shape& shape, const LearnableParams& params) {
  const std::vector<float> x = c.floats("x"), dy = c.floats("dy");
  const LsqResult r = run_lsq<P>(shape, params, x, dy, c.real("gf"));
  EXPECT_TRUE(same_floats(r.y, c.floats("y"), c.line)) << path_name(P);
  EXPECT_TRUE(same_floats(r.dx, c.floats("dx"), c.line)) << path_name(P);
  expect_sums_near(r.dscale, c.floats("dscale"), c.numbers("tol_ds"), "dscale", c.line);
  expect_sums_near(r.dzp, c.floats("dzp"), c.numbers("tol_dz"), "dzero_point", c.line);
}

TEST(PytorchQat, LearnablePerTensor) {
  for (const golden::Case* c : named("lsq_tensor")) {
    const Range range{static_cast<std::int32_t>(c->integer("qmin")), static_cast<std::int32_t>(c->integer("qmax"))};
    const auto params = LearnableParams::per_tensor(c->real("scale"), c->real("zp"), range);
    const Shape shape = Shape::row_major({static_cast<std::int64_t>(c->floats("x").size())});
    check_lsq<Path::kScalar>(*c, shape, params);
    check_lsq<kBestPath>(*c, shape, params);
  }
}

TEST(PytorchQat, LearnablePerChannel) {
  for (const golden::Case* c : named("lsq_channel")) {
    const Range range{static_cast<std::int32_t>(c->integer("qmin")), static_cast<std::int32_t>(c->integer("qmax"))};
    const auto params =
        LearnableParams::per_axis(static_cast<int>(c->integer("axis")), c->floats("scale"), c->floats("zp"), range);
    check_lsq<Path::kScalar>(*c, shape_of_case(*c), params);
    check_lsq<kBestPath>(*c, shape_of_case(*c), params);
  }
}

// PyTorch's per-tensor learnable op rounds the zero point half to even in
// its forward pass and as trunc(clamp(zp + 0.5)) in its backward pass: 2.5
// is 2 then 3, 0.5 is 0 then 1, -3.4 is -3 then -2, and a negative integer z
// is z then z + 1. eigenq rounds half to even in both. So eigenq's forward is
// PyTorch's; eigenq's backward is PyTorch's backward run at a zero point it
// rounds to the forward's integer; and PyTorch's own backward is eigenq's at
// the other integer.
TEST(PytorchQat, LearnableZeroPointRoundingDiffersInPytorchBackward) {
  for (const golden::Case* c : named("lsq_zp")) {
    const Range range{static_cast<std::int32_t>(c->integer("qmin")), static_cast<std::int32_t>(c->integer("qmax"))};
    const float scale = c->real("scale"), zp = c->real("zp");
    const float z_forward = c->real("zp_forward"), z_backward = c->real("zp_backward");
    ASSERT_NE(z_forward, z_backward);
    EXPECT_EQ(round_zero_point(zp, range), static_cast<std::int32_t>(z_forward));
    EXPECT_EQ(z_backward, std::trunc(std::fmin(std::fmax(zp + 0.5f, static_cast<float>(range.qmin)),
                                               static_cast<float>(range.qmax))));

    const std::vector<float> x = c->floats("x"), dy = c->floats("dy");
    const Shape shape = Shape::row_major({static_cast<std::int64_t>(x.size())});
    const std::vector<double> tol(1, 1e-3);
    const LsqResult ours = run_lsq<kBestPath>(shape, LearnableParams::per_tensor(scale, zp, range), x, dy, 1.0f);
    EXPECT_TRUE(same_floats(ours.y, c->floats("y"), c->line));
    EXPECT_TRUE(same_floats(ours.dx, c->floats("dx_f"), c->line));
    expect_sums_near(ours.dscale, c->floats("dscale_f"), tol, "dscale", c->line);
    expect_sums_near(ours.dzp, c->floats("dzp_f"), tol, "dzero_point", c->line);

    const LsqResult theirs =
        run_lsq<kBestPath>(shape, LearnableParams::per_tensor(scale, z_backward, range), x, dy, 1.0f);
    EXPECT_TRUE(same_floats(theirs.dx, c->floats("dx"), c->line));
    expect_sums_near(theirs.dscale, c->floats("dscale"), tol, "dscale", c->line);
    expect_sums_near(theirs.dzp, c->floats("dzp"), tol, "dzero_point", c->line);
    // The two differ: the range edges moved by one step.
    EXPECT_FALSE(same_floats(ours.dx, c->floats("dx"), c->line)) << "zero point " << zp;
  }
}

// PyTorch's backward rounds zp + x * (1/scale) written as one expression,
// which its x86 build contracts into a fused multiply-add: near a tie it
// rounds differently from its own forward pass. (1) x / scale = 0.49999997,
// zp = 3: fma gives 3.49999997, float32 3.5, rounded 4; the forward 0 + 3.
// (2) x * (1/scale) = -18.5 in float32 but -18.50000014 exactly, zp = 18:
// the forward gives 0 (inside [0, 255]), the backward -1 (outside).
// eigenq's backward is the gradient of the forward it computes.
TEST(PytorchQat, PytorchBackwardRoundsAFusedMultiplyAdd) {
  for (const golden::Case* c : named("lsq_backward_rounding")) {
    const std::vector<float> x = c->floats("x"), dy = c->floats("dy"), want_dx = c->floats("dx");
    const auto differs = c->ints("differs");
    ASSERT_EQ(differs, std::vector<std::int64_t>{0});
    const float scale = c->real("scale"), zp = c->real("zp");
    const Range range{0, 255};
    const Shape shape = Shape::row_major({static_cast<std::int64_t>(x.size())});
    const LsqResult ours = run_lsq<kBestPath>(shape, LearnableParams::per_tensor(scale, zp, range), x, dy, 1.0f);
    EXPECT_TRUE(same_floats(ours.y, c->floats("y"), c->line));  // the forward passes agree
    // Our dx is dy * (the forward's mask); PyTorch's agrees except at `differs`.
    const Quantizer<std::int32_t> qz(shape, QParams::per_tensor(scale, static_cast<std::int32_t>(zp), range));
    std::vector<float> y(x.size());
    std::vector<std::uint8_t> mask(x.size());
    qz.fake_quantize_mask(x.data(), y.data(), mask.data());
    for (std::size_t i = 0; i < x.size(); ++i) {
      EXPECT_EQ(ours.dx[i], dy[i] * mask[i]) << i;
      if (i != 0) {
        EXPECT_EQ(ours.dx[i], want_dx[i]) << i;
      }
    }
    if (x[0] > 0.0f) {
      // (1): both inside; PyTorch's y - x used 1 for the first element, eigenq 0.
      EXPECT_EQ(want_dx[0], ours.dx[0]);
      EXPECT_FLOAT_EQ(ours.dscale[0], -0.49999997f + 0.25f);
      EXPECT_FLOAT_EQ(c->real("dscale"), 0.50000003f + 0.25f);
    } else {
      // (2): inside for eigenq (dx = dy), outside for PyTorch's backward.
      EXPECT_EQ(mask[0], 1);
      EXPECT_EQ(want_dx[0], 0.0f);
      EXPECT_EQ(ours.dzp[0], 0.0f);
      EXPECT_EQ(c->real("dzp"), -scale);
    }
  }
}

// LSQ's dscale term dy * (y - x) / scale with y rounded to float32 first, as
// the forward pass returns it, under any contraction flags (this suite is
// also built with -ffp-contract=fast). x = 0.3f, scale = 0.1f: y = 3 * 0.1f
// rounds to 0.3f exactly, so the term is 0; fused, y - x would be the exact
// 3 * 0.1f - 0.3f = -7.45e-9 and the term -7.45e-8.
TEST(PytorchQat, ScaleGradientRoundsYBeforeYMinusX) {
  const std::vector<float> x = {0.3f, -0.3f, 0.71f}, dy = {1.0f, 1.0f, 2.0f};
  const Shape shape = Shape::row_major({3});
  const LearnableParams params = LearnableParams::per_element({0.1f, 0.1f, 0.1f}, {}, Range{-128, 127});
  for (const LsqResult& r :
       {run_lsq<Path::kScalar>(shape, params, x, dy, 1.0f), run_lsq<kBestPath>(shape, params, x, dy, 1.0f)}) {
    EXPECT_EQ(r.y[0], 0.3f);
    EXPECT_EQ(r.dscale[0], 0.0f);
    EXPECT_EQ(r.dscale[1], 0.0f);
    // x = 0.71f: y = 7 * 0.1f rounds to 0.7f, and (y - x is exact here)
    // the term is (2 * (0.7f - 0.71f)) * 10, where the fused form differs.
    const float rounded = (2.0f * (0.7f - 0.71f)) * 10.0f;
    const float fused =
        static_cast<float>(2.0 * (7.0 * static_cast<double>(0.1f) - static_cast<double>(0.71f))) * 10.0f;
    EXPECT_NE(rounded, fused);
    EXPECT_EQ(r.y[2], 0.7f);
    EXPECT_EQ(r.dscale[2], rounded);
  }
}

// +inf and x / scale >= 2^63: PyTorch 1.13 on x86 converts round(x / scale)
// to int64, which gives INT64_MIN out of range, and so fake-quantizes them to
// qmin; eigenq's contract saturates them to qmax. Both give mask 0. Values
// that fit int64, -inf and NaN agree.
TEST(PytorchQat, HugePositiveValuesDifferFromPytorch) {
  const golden::Case& c = *named("fq_overflow").at(0);
  const std::vector<float> x = c.floats("x"), want = c.floats("y");
  const std::vector<std::uint8_t> want_mask = bytes(c.ints("mask"));
  const std::size_t n = x.size(), overflow = static_cast<std::size_t>(c.integer("overflow"));
  const Quantizer<std::int32_t> qz(Shape::row_major({static_cast<std::int64_t>(n)}),
                                   QParams::per_tensor(0.5f, 3, Range{0, 255}));
  std::vector<float> y(n);
  std::vector<std::uint8_t> mask(n);
  qz.fake_quantize_mask(x.data(), y.data(), mask.data());
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(mask[i], want_mask[i]) << i;
    if (i < overflow) {
      EXPECT_EQ(want[i], (0 - 3) * 0.5f) << i;  // PyTorch: qmin
      EXPECT_EQ(y[i], (255 - 3) * 0.5f) << i;   // eigenq: qmax
    } else {
      EXPECT_EQ(bits(y[i]), bits(want[i])) << i;
    }
  }
}

// Observers and the FakeQuantize module, step by step: the moving-average
// range, scale and zero point, and the module's output, bit for bit.
template <class Q>
void check_observer_sequence(const std::vector<const golden::Case*>& steps, bool module) {
  const golden::Case& first = *steps.at(0);
  const int axis = static_cast<int>(first.integer("axis"));
  const Range range{static_cast<std::int32_t>(first.integer("qmin")), static_cast<std::int32_t>(first.integer("qmax"))};
  const ParamLayout layout = axis < 0 ? per_tensor_layout() : per_axis_layout(axis);
  const Symmetry sym = first.integer("symmetric") ? Symmetry::kSymmetric : Symmetry::kAffine;
  MovingAverageMinMax<Q> obs(layout, range, sym);
  FakeQuantize<Q> fq(MovingAverageMinMax<Q>(layout, range, sym));
  for (const golden::Case* c : steps) {
    const std::vector<float> x = c->floats("x");
    const Shape shape = shape_of_case(*c);
    QParams p;
    const MovingAverageMinMax<Q>* state = &obs;
    if (module) {
      std::vector<float> y(x.size());
      ASSERT_TRUE(fq.forward(x.data(), y.data(), shape).is_ok());
      EXPECT_TRUE(same_floats(y, c->floats("y"), c->line));
      state = &fq.observer();
      p = fq.qparams();
    } else {
      ASSERT_TRUE(obs.observe(x.data(), shape).is_ok());
      p = obs.qparams();
    }
    EXPECT_TRUE(same_floats(state->min(), c->floats("min"), c->line)) << "min, step " << c->integer("step");
    EXPECT_TRUE(same_floats(state->max(), c->floats("max"), c->line)) << "max, step " << c->integer("step");
    EXPECT_TRUE(same_floats(p.scale, c->floats("scale"), c->line)) << "scale, step " << c->integer("step");
    const auto zp = c->ints("zp");
    EXPECT_EQ(p.zero_point, std::vector<std::int32_t>(zp.begin(), zp.end())) << "golden line " << c->line;
  }
}

void check_observers(const char* name, bool module) {
  std::map<std::int64_t, std::vector<const golden::Case*>> by_case;
  for (const golden::Case* c : named(name)) by_case[c->integer("case")].push_back(c);
  EXPECT_GE(by_case.size(), 4u);
  for (const auto& [id, steps] : by_case) {
    SCOPED_TRACE(std::string(name) + " case " + std::to_string(id));
    if (steps.at(0)->integer("qmin") < 0)
      check_observer_sequence<std::int8_t>(steps, module);
    else
      check_observer_sequence<std::uint8_t>(steps, module);
  }
}

TEST(PytorchQat, MovingAverageMinMaxObservers) { check_observers("obs", false); }
TEST(PytorchQat, FakeQuantizeModule) { check_observers("fqmod", true); }

}  // namespace
}  // namespace eigenq
