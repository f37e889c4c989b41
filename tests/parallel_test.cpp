// Parallel entry points: every operation and scheme on executors of 1, 2, 3
// and 7 threads (the std::thread pool, and Eigen's ThreadPoolDevice) gives
// the serial call's bytes, on shapes of odd sizes cut every way the slicer
// cuts (along the tensor, outer rows, channels, blocks, inside a channel)
// and on tensors smaller than one task. The slicer itself is checked with
// small grains: slices cover the tensor once, in order, on aligned cuts.
// Built on the path chosen at run time only; CI runs it under
// ThreadSanitizer (tests/run.sh, stage tsan), without the Eigen adapter.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "eigenq/observers.hpp"
#include "eigenq/packed.hpp"
#include "eigenq/parallel.hpp"
#include "eigenq/qat.hpp"
#include "eigenq/requantize.hpp"
#include "eigenq/scheme.hpp"

// Eigen's thread pool synchronizes with std::atomic_thread_fence, which
// ThreadSanitizer does not model (GCC refuses it under -Werror=tsan, and
// the reports would be false): the Eigen adapter is left out of that build.
#if defined(__SANITIZE_THREAD__)
#define EIGENQ_TEST_EIGEN_POOL 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define EIGENQ_TEST_EIGEN_POOL 0
#endif
#endif
#ifndef EIGENQ_TEST_EIGEN_POOL
#define EIGENQ_TEST_EIGEN_POOL 1
#endif
#if EIGENQ_TEST_EIGEN_POOL
#include "eigenq/parallel_eigen.hpp"
#endif

namespace eigenq {
namespace {

constexpr int kThreads[] = {1, 2, 3, 7};

ThreadPoolExecutor& pool(int threads) {
  static std::unique_ptr<ThreadPoolExecutor> pools[8];
  if (!pools[threads]) pools[threads] = std::make_unique<ThreadPoolExecutor>(threads);
  return *pools[threads];
}

template <class T>
bool same_bytes(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

struct Case {
  std::string name;
  Shape shape;
  ParamLayout layout;
};

// Shapes that exercise every cut of slices.hpp at the default grain, and
// tensors below it.
std::vector<Case> cases() {
  using S = Shape;
  return {
      {"per_tensor_odd", S::row_major({3, 100003}), per_tensor_layout()},
      {"per_tensor_small", S::row_major({17, 33}), per_tensor_layout()},
      {"per_element_odd", S::row_major({100003}), per_element_layout()},
      {"axis0_rows", S::row_major({7, 40001}), per_axis_layout(0)},
      {"axis1_rows", S::row_major({513, 257}), per_axis_layout(1)},
      {"axis1_colmajor_channels", S::col_major({301, 517}), per_axis_layout(1)},
      {"middle_axis", S::row_major({5, 77, 301}), per_axis_layout(1)},
      {"middle_axis_colmajor", S::col_major({301, 77, 5}), per_axis_layout(1)},
      {"axis0_inside_channel", S::row_major({2, 200000}), per_axis_layout(0)},
      {"axis0_short_runs", S::row_major({3, 70001}), per_axis_layout(1)},
      {"axis_small", S::row_major({17, 33}), per_axis_layout(0)},
      {"blocked_rows", S::row_major({64, 4099}), blocked_layout(1, 32)},
      {"blocked_units", S::row_major({3, 150001}), blocked_layout(1, 128)},
      {"blocked_inner", S::row_major({1000, 301}), blocked_layout(0, 64)},
      {"blocked_colmajor", S::col_major({1001, 257}), blocked_layout(0, 16)},
      {"blocked_small", S::row_major({9, 70}), blocked_layout(1, 32)},
  };
}

struct Data {
  ResolvedParams r;
  QParams params;
  std::vector<float> x, dy;
};

Data make(const Case& c, Range range, std::uint32_t seed) {
  Data d;
  EXPECT_TRUE(resolve_layout(c.layout, c.shape, &d.r).is_ok());
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> scale(0.01f, 0.1f), value(-8.0f, 8.0f);
  std::uniform_int_distribution<std::int32_t> zp(range.qmin, range.qmax);
  std::vector<float> s(d.r.count);
  std::vector<std::int32_t> z(d.r.count);
  for (std::size_t i = 0; i < d.r.count; ++i) {
    s[i] = scale(rng);
    z[i] = zp(rng);
  }
  d.params = QParams{c.layout.granularity, c.layout.axis, c.layout.block_size, s, z, range};
  const std::int64_t n = c.shape.size();
  d.x.resize(static_cast<std::size_t>(n));
  d.dy.resize(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    d.x[static_cast<std::size_t>(i)] = value(rng);
    d.dy[static_cast<std::size_t>(i)] = value(rng);
  }
  return d;
}

// Every Quantizer operation with `exec` against the serial call.
template <class Q, class Exec>
void expect_quantizer_matches(const Quantizer<Q>& qz, const Data& d, Exec&& exec, const std::string& what) {
  const std::size_t n = d.x.size();
  std::vector<Q> q0(n), q1(n);
  qz.quantize(d.x.data(), q0.data());
  qz.quantize(d.x.data(), q1.data(), exec);
  EXPECT_TRUE(same_bytes(q0, q1)) << what << " quantize";

  std::vector<float> y0(n), y1(n);
  qz.dequantize(q0.data(), y0.data());
  qz.dequantize(q0.data(), y1.data(), exec);
  EXPECT_TRUE(same_bytes(y0, y1)) << what << " dequantize";

  qz.fake_quantize(d.x.data(), y0.data());
  qz.fake_quantize(d.x.data(), y1.data(), exec);
  EXPECT_TRUE(same_bytes(y0, y1)) << what << " fake_quantize";

  std::vector<std::uint8_t> m0(n), m1(n);
  qz.fake_quantize_mask(d.x.data(), y0.data(), m0.data());
  qz.fake_quantize_mask(d.x.data(), y1.data(), m1.data(), exec);
  EXPECT_TRUE(same_bytes(y0, y1) && same_bytes(m0, m1)) << what << " fake_quantize_mask";

  qz.ste_backward(d.x.data(), d.dy.data(), y0.data());
  qz.ste_backward(d.x.data(), d.dy.data(), y1.data(), exec);
  EXPECT_TRUE(same_bytes(y0, y1)) << what << " ste_backward";
}

template <class Q>
void check_quantizer(Range range) {
  std::uint32_t seed = 1;
  for (const Case& c : cases()) {
    const Data d = make(c, range, seed++);
    const Quantizer<Q> qz(c.shape, d.params);
    for (int t : kThreads) expect_quantizer_matches(qz, d, pool(t), c.name + " threads " + std::to_string(t));
    expect_quantizer_matches(qz, d, SerialExecutor{}, c.name + " serial executor");
  }
}

TEST(ParallelQuantizer, Int8EqualsSerialAtEveryThreadCount) {
  check_quantizer<std::int8_t>(Range::full<std::int8_t>());
}
TEST(ParallelQuantizer, UInt8EqualsSerialAtEveryThreadCount) {
  check_quantizer<std::uint8_t>(Range::full<std::uint8_t>());
}

#if EIGENQ_TEST_EIGEN_POOL
TEST(ParallelQuantizer, EigenThreadPoolDeviceEqualsSerial) {
  Eigen::ThreadPool threads(3);
  Eigen::ThreadPoolDevice device(&threads, 3);
  std::uint32_t seed = 100;
  for (const Case& c : cases()) {
    const Data d = make(c, Range::full<std::int8_t>(), seed++);
    const Quantizer<std::int8_t> qz(c.shape, d.params);
    expect_quantizer_matches(qz, d, EigenThreadPoolExecutor(device), c.name + " eigen device");
  }
}
#endif

template <class T>
void packed_equals_serial(std::uint32_t seed) {
  for (const Case& c : cases()) {
    const Data d = make(c, T::range(), seed++);
    const PackedQuantizer<T> qz(c.shape, d.params);
    const std::size_t n = d.x.size(), bytes = qz.packed_bytes();
    std::vector<std::uint8_t> p0(bytes), p1(bytes);
    std::vector<float> y0(n), y1(n);
    qz.quantize(d.x.data(), p0.data());
    qz.dequantize(p0.data(), y0.data());
    for (int t : kThreads) {
      std::fill(p1.begin(), p1.end(), std::uint8_t{0xA5});
      qz.quantize(d.x.data(), p1.data(), pool(t));
      EXPECT_TRUE(same_bytes(p0, p1)) << T::name() << " " << c.name << " threads " << t << " quantize";
      qz.dequantize(p0.data(), y1.data(), pool(t));
      EXPECT_TRUE(same_bytes(y0, y1)) << T::name() << " " << c.name << " threads " << t << " dequantize";
    }
  }
}

TEST(ParallelPacked, Int4EqualsSerialAtEveryThreadCount) { packed_equals_serial<Int4>(200); }
// Four values a byte: slices must start on multiples of 4 elements.
TEST(ParallelPacked, UInt2EqualsSerialAtEveryThreadCount) { packed_equals_serial<UInt2>(300); }

TEST(ParallelRequantizer, EqualsSerialAtEveryThreadCount) {
  std::mt19937 rng(500);
  for (const Case& c : cases()) {
    ResolvedParams r;
    ASSERT_TRUE(resolve_layout(c.layout, c.shape, &r).is_ok());
    std::uniform_int_distribution<std::int32_t> m(1 << 30, std::numeric_limits<std::int32_t>::max()), sh(-12, 2),
        acc(-100000, 100000);
    RequantizeParams p;
    p.granularity = c.layout.granularity;
    p.axis = c.layout.axis;
    p.block_size = c.layout.block_size;
    for (std::size_t k = 0; k < r.count; ++k) {
      p.multiplier.push_back(m(rng));
      p.shift.push_back(sh(rng));
    }
    p.output_zero_point = 5;
    p.range = Range::full<std::int8_t>();
    const Requantizer<std::int8_t> rq(c.shape, p.view());
    std::vector<std::int32_t> x(static_cast<std::size_t>(c.shape.size()));
    for (std::int32_t& v : x) v = acc(rng);
    std::vector<std::int8_t> y0(x.size()), y1(x.size());
    rq.requantize(x.data(), y0.data());
    for (int t : kThreads) {
      rq.requantize(x.data(), y1.data(), pool(t));
      EXPECT_TRUE(same_bytes(y0, y1)) << c.name << " threads " << t;
    }
  }
}

// Every layout of the cases, a NaN and signed zeros included: the same
// min, max and parameters as the serial observer.
TEST(ParallelMinMax, EqualsSerialAtEveryThreadCount) {
  std::uint32_t seed = 600;
  for (const Case& c : cases()) {
    Data d = make(c, Range::full<std::int8_t>(), seed++);
    d.x[d.x.size() / 3] = std::numeric_limits<float>::quiet_NaN();
    d.x[d.x.size() / 2] = -0.0f;
    d.x[d.x.size() / 2 + 1] = 0.0f;
    MinMaxObserver<std::int8_t> serial(c.layout);
    ASSERT_TRUE(serial.observe(d.x.data(), c.shape).is_ok());
    for (int t : kThreads) {
      MinMaxObserver<std::int8_t> obs(c.layout);
      ASSERT_TRUE(obs.observe(d.x.data(), c.shape, pool(t)).is_ok());
      EXPECT_TRUE(same_bytes(obs.min(), serial.min()) && same_bytes(obs.max(), serial.max()))
          << c.name << " threads " << t;
    }
  }
}

// The STE layer's passes with every mask storage (bytes, bits cut on whole
// mask bytes, none) and the QAT FakeQuantize (moving-average observer, then
// fake-quantize) over two batches: outputs, masks, gradients and the
// running range are the serial ones at every thread count.
TEST(ParallelSte, EveryMaskStorageEqualsSerialAtEveryThreadCount) {
  std::uint32_t seed = 700;
  for (const Case& c : cases()) {
    const Data d = make(c, Range::full<std::int8_t>(), seed++);
    const std::size_t n = d.x.size();
    for (MaskStorage storage : {MaskStorage::kBytes, MaskStorage::kBits, MaskStorage::kNone}) {
      FakeQuantSTE<> serial(d.params, storage);
      std::vector<float> y0(n), dx0(n);
      ASSERT_TRUE(serial.forward(d.x.data(), y0.data(), c.shape).is_ok());
      ASSERT_TRUE((storage == MaskStorage::kNone ? serial.backward(d.x.data(), d.dy.data(), dx0.data(), c.shape)
                                                 : serial.backward(d.dy.data(), dx0.data(), c.shape))
                      .is_ok());
      for (int t : kThreads) {
        FakeQuantSTE<> fq(d.params, storage);
        std::vector<float> y1(n), dx1(n);
        ASSERT_TRUE(fq.forward(d.x.data(), y1.data(), c.shape, pool(t)).is_ok());
        ASSERT_TRUE((storage == MaskStorage::kNone ? fq.backward(d.x.data(), d.dy.data(), dx1.data(), c.shape, pool(t))
                                                   : fq.backward(d.dy.data(), dx1.data(), c.shape, pool(t)))
                        .is_ok());
        EXPECT_TRUE(same_bytes(y0, y1) && same_bytes(serial.mask(), fq.mask()) && same_bytes(dx0, dx1))
            << c.name << " mask storage " << static_cast<int>(storage) << " threads " << t;
      }
    }
  }
}

TEST(ParallelFakeQuantize, MovingAverageObserverAndPassesEqualSerial) {
  std::uint32_t seed = 800;
  for (const Case& c : cases()) {
    const Data a = make(c, Range::full<std::uint8_t>(), seed++), b = make(c, Range::full<std::uint8_t>(), seed++);
    const std::size_t n = a.x.size();
    auto run = [&](auto&& exec, std::vector<float>* y, std::vector<float>* dx, QParams* p) {
      FakeQuantize<std::uint8_t> fq(MovingAverageMinMax<std::uint8_t>(c.layout, Range::full<std::uint8_t>()));
      y->assign(2 * n, 0.0f);
      dx->assign(n, 0.0f);
      ASSERT_TRUE(fq.forward(a.x.data(), y->data(), c.shape, exec).is_ok());
      ASSERT_TRUE(fq.forward(b.x.data(), y->data() + n, c.shape, exec).is_ok());
      ASSERT_TRUE(fq.backward(b.dy.data(), dx->data(), c.shape, exec).is_ok());
      *p = fq.qparams();
    };
    std::vector<float> y0, dx0;
    QParams p0;
    run(SerialExecutor{}, &y0, &dx0, &p0);
    for (int t : kThreads) {
      std::vector<float> y1, dx1;
      QParams p1;
      run(pool(t), &y1, &dx1, &p1);
      EXPECT_TRUE(same_bytes(y0, y1) && same_bytes(dx0, dx1) && same_bytes(p0.scale, p1.scale) &&
                  same_bytes(p0.zero_point, p1.zero_point))
          << c.name << " threads " << t;
    }
  }
}

// LSQ: the forward pass, dx and the per-parameter sums of dscale and
// dzero_point (summed per slice, the slices added in order) are the serial
// call's bits at every thread count, for every cut.
TEST(ParallelLsq, GradientsEqualSerialAtEveryThreadCount) {
  std::uint32_t seed = 900;
  for (const Case& c : cases()) {
    const Range range{-8, 7};
    const Data d = make(c, range, seed++);
    std::vector<float> zp(d.params.zero_point.begin(), d.params.zero_point.end());
    for (std::size_t k = 0; k < zp.size(); ++k) zp[k] += 0.25f * static_cast<float>(k % 3);  // learnable: not integers
    const LearnableParams p{c.layout.granularity, c.layout.axis, c.layout.block_size, d.params.scale, zp, range};
    LearnableFakeQuant<> lq(c.shape, p.view());
    const std::size_t n = d.x.size(), count = lq.count();
    std::vector<float> y0(n), dx0(n), ds0(count), dz0(count);
    lq.forward(d.x.data(), y0.data());
    lq.backward(d.x.data(), d.dy.data(), dx0.data(), ds0.data(), dz0.data());
    for (int t : kThreads) {
      std::vector<float> y1(n), dx1(n), ds1(count), dz1(count);
      lq.forward(d.x.data(), y1.data(), pool(t));
      lq.backward(d.x.data(), d.dy.data(), dx1.data(), ds1.data(), dz1.data(), pool(t));
      EXPECT_TRUE(same_bytes(y0, y1) && same_bytes(dx0, dx1) && same_bytes(ds0, ds1) && same_bytes(dz0, dz1))
          << c.name << " threads " << t;
    }
  }
}

// Batches above and below the grain, growing the range, with NaNs and
// repeated values: the histogram, its range and the chosen parameters are
// the serial observer's at every thread count; an infinite element is
// reported at the same index.
TEST(ParallelHistogram, EqualsSerialAtEveryThreadCount) {
  std::mt19937 rng(400);
  std::vector<std::vector<float>> batches;
  for (std::size_t n : {300001u, 1000u, 200003u, 65536u, 65537u}) {
    std::normal_distribution<float> value(0.0f, 1.0f + static_cast<float>(batches.size()));
    std::vector<float> b(n);
    for (float& v : b) v = value(rng);
    b[n / 3] = std::numeric_limits<float>::quiet_NaN();
    b[n / 2] = b[n / 5];
    batches.push_back(std::move(b));
  }
  {  // one batch above the grain: what the serial count over the whole batch gives
    HistogramObserver<std::int8_t> one;
    ASSERT_TRUE(one.observe(batches[0].data(), batches[0].size(), pool(2)).is_ok());
    const std::vector<float> whole =
        detail::torch_histc(batches[0].data(), batches[0].size(), one.options().bins, one.min(), one.max());
    EXPECT_TRUE(same_bytes(one.histogram(), whole));
  }
  HistogramObserver<std::int8_t> serial;
  for (const auto& b : batches) ASSERT_TRUE(serial.observe(b.data(), b.size()).is_ok());
  for (int t : kThreads) {
    HistogramObserver<std::int8_t> obs;
    for (const auto& b : batches) ASSERT_TRUE(obs.observe(b.data(), b.size(), pool(t)).is_ok());
    EXPECT_TRUE(same_bytes(obs.histogram(), serial.histogram())) << "threads " << t;
    EXPECT_EQ(obs.min(), serial.min());
    EXPECT_EQ(obs.max(), serial.max());
    QParams a, b;
    ASSERT_TRUE(obs.qparams(&a).is_ok());
    ASSERT_TRUE(serial.qparams(&b).is_ok());
    EXPECT_TRUE(same_bytes(a.scale, b.scale) && same_bytes(a.zero_point, b.zero_point)) << "threads " << t;
  }
  std::vector<float> bad = batches[0];
  bad[200000] = std::numeric_limits<float>::infinity();
  bad[250000] = -std::numeric_limits<float>::infinity();
  HistogramObserver<std::int8_t> s1, s2;
  const Status e1 = s1.observe(bad.data(), bad.size()), e2 = s2.observe(bad.data(), bad.size(), pool(3));
  EXPECT_FALSE(e1.is_ok());
  EXPECT_EQ(e1.message(), e2.message());
}

// Empty tensors: nothing written, nothing read, no task.
TEST(ParallelQuantizer, EmptyTensorsRunNothing) {
  const Shape shape = Shape::row_major({0, 5});
  const Quantizer<std::int8_t> qz(shape,
                                  QParams::per_axis(1, std::vector<float>(5, 0.1f), {}, Range::full<std::int8_t>()));
  qz.quantize(nullptr, nullptr, pool(3));
  qz.dequantize(nullptr, nullptr, pool(3));
  qz.fake_quantize_mask(nullptr, nullptr, nullptr, pool(3));
  MinMaxObserver<std::int8_t> minmax(per_axis_layout(1));
  EXPECT_TRUE(minmax.observe(nullptr, shape, pool(3)).is_ok());
  EXPECT_FALSE(minmax.initialized());
  HistogramObserver<std::int8_t> histogram;
  EXPECT_TRUE(histogram.observe(nullptr, std::size_t{0}, pool(3)).is_ok());
  EXPECT_FALSE(histogram.initialized());
}

// The slicer at small grains: every slice of every plan, in order, covers
// the next elements of the tensor with the parameters the whole tensor
// gives them (checked by quantizing each slice on its own), and every cut
// lies on a multiple of the alignment asked for.
TEST(Slices, CoverTheTensorOnceOnAlignedCuts) {
  const std::vector<Case> shapes = {
      {"per_tensor", Shape::row_major({1001}), per_tensor_layout()},
      {"per_element", Shape::row_major({7, 143}), per_element_layout()},
      {"axis0", Shape::row_major({7, 143}), per_axis_layout(0)},
      {"axis1", Shape::row_major({7, 143}), per_axis_layout(1)},
      {"axis1_col", Shape::col_major({13, 11, 7}), per_axis_layout(1)},
      {"axis0_one_row", Shape::row_major({3, 999}), per_axis_layout(0)},
      {"blocked_last", Shape::row_major({5, 301}), blocked_layout(1, 16)},
      {"blocked_first", Shape::row_major({301, 5}), blocked_layout(0, 16)},
      {"blocked_col", Shape::col_major({37, 29}), blocked_layout(1, 3)},
  };
  std::uint32_t seed = 300;
  for (const Case& c : shapes) {
    const Data d = make(c, Range::full<std::int8_t>(), seed++);
    const Quantizer<std::int8_t> qz(c.shape, d.params);
    const std::size_t n = d.x.size();
    std::vector<std::int8_t> whole(n);
    qz.quantize(d.x.data(), whole.data());
    for (std::int64_t grain : {1, 5, 16, 64, 100, 1000}) {
      for (std::int64_t align : {1, 2, 8}) {
        const detail::SlicePlan plan = detail::plan_slices(qz.resolved(), 4 * align, align, grain);
        std::vector<std::int8_t> pieces(n, 0x55);
        std::int64_t next = 0;
        for (std::int64_t i = 0; i < plan.count; ++i) {
          const detail::Slice s = detail::slice_at(qz.resolved(), plan, i);
          const std::string what = c.name + " grain " + std::to_string(grain) + " align " + std::to_string(align) +
                                   " slice " + std::to_string(i);
          ASSERT_EQ(s.at, next) << what;
          ASSERT_EQ(s.at % align, 0) << what;
          ASSERT_GT(s.r.size(), 0) << what;
          ASSERT_EQ(s.r.params.scale, qz.resolved().params.scale + s.param) << what;
          next += s.r.size();
          with_kernels<Path::kAuto>([&](auto k) {
            decltype(k)::template quantize<std::int8_t, DefaultNumerics>(s.r, d.x.data() + s.at, pieces.data() + s.at);
          });
        }
        EXPECT_EQ(next, static_cast<std::int64_t>(n)) << c.name << " grain " << grain;
        EXPECT_TRUE(same_bytes(whole, pieces)) << c.name << " grain " << grain << " align " << align;
      }
    }
  }
}

TEST(ThreadPool, RunsEveryTaskOnceAndNestsInline) {
  for (int t : kThreads) {
    ThreadPoolExecutor& p = pool(t);
    EXPECT_EQ(p.threads(), t);
    std::vector<int> hits(1000, 0);
    p.parallel_for(1000, [&](std::int64_t i) { ++hits[static_cast<std::size_t>(i)]; });
    for (int h : hits) ASSERT_EQ(h, 1);
    std::vector<int> nested(64, 0);
    p.parallel_for(8, [&](std::int64_t i) {
      p.parallel_for(8, [&](std::int64_t j) { ++nested[static_cast<std::size_t>(i * 8 + j)]; });
    });
    for (int h : nested) ASSERT_EQ(h, 1);
    p.parallel_for(0, [&](std::int64_t) { FAIL(); });
  }
}

}  // namespace
}  // namespace eigenq
