// Run-time dispatch: the CPU probe against the kernel's own view of the CPU
// (/proc/cpuinfo), the choice of Path::kAuto and its override, and every
// whole-tensor operation (the scheme loops, not only the run kernels that
// simd_test covers) on every path this CPU runs against the portable path,
// bit for bit, for every scheme.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "eigenq/packed.hpp"
#include "eigenq/qat.hpp"
#include "eigenq/requantize.hpp"
#include "eigenq/scheme.hpp"
#include "paths.hpp"

namespace eigenq {
namespace {

// Restores the default choice when a test ends, whatever it forced.
class Dispatch : public ::testing::Test {
 protected:
  void TearDown() override { reset_active_path(); }
};

#if defined(__linux__) && defined(__x86_64__)
std::set<std::string> cpuinfo_flags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("flags", 0) == 0) {
      std::istringstream words(line.substr(line.find(':') + 1));
      std::set<std::string> flags;
      for (std::string w; words >> w;) flags.insert(w);
      return flags;
    }
  return {};
}

// The kernel lists a flag only when the CPU has it and the OS saves its
// registers, the two things the probe checks.
TEST_F(Dispatch, ProbeAgreesWithTheKernel) {
  const std::set<std::string> f = cpuinfo_flags();
  if (f.empty()) GTEST_SKIP() << "no /proc/cpuinfo flags";
  const bool avx2 = f.count("avx2") && f.count("f16c");
  const bool avx512 = avx2 && f.count("avx512f") && f.count("avx512bw") && f.count("avx512vl") && f.count("avx512dq");
  EXPECT_EQ(cpu_features().avx2, avx2);
  EXPECT_EQ(cpu_features().avx512, avx512);
  EXPECT_EQ(cpu_features().avx512_bf16, avx512 && f.count("avx512_bf16") > 0);
  // A path runs where the CPU has it and the build compiled it (not under
  // EIGENQ_FORCE_SCALAR).
  const bool run_avx2 = avx2 && path_compiled(Path::kAvx2), run_avx512 = avx512 && path_compiled(Path::kAvx512);
  EXPECT_EQ(path_supported(Path::kAvx2), run_avx2);
  EXPECT_EQ(path_supported(Path::kAvx512), run_avx512);
  EXPECT_EQ(best_path(), run_avx512 ? Path::kAvx512 : run_avx2 ? Path::kAvx2 : Path::kScalar);
  std::printf("cpu: avx2 %d, avx512 %d, avx512_bf16 %d; best path %s\n", avx2, avx512, cpu_features().avx512_bf16,
              path_name(best_path()));
}
#endif

TEST_F(Dispatch, AutoRunsTheBestPathUnlessForced) {
  const char* env = std::getenv("EIGENQ_PATH");
  Path requested;
  if (env == nullptr || !detail::parse_path(env, &requested) || requested == Path::kAuto || !path_supported(requested))
    EXPECT_EQ(active_path(), best_path());
  else
    EXPECT_EQ(active_path(), requested);
  EXPECT_TRUE(path_supported(Path::kScalar));
  EXPECT_TRUE(path_supported(Path::kAuto));
  EXPECT_TRUE(path_compiled(Path::kAuto));
}

TEST_F(Dispatch, SetActivePathForcesEverySupportedPath) {
  testing_paths::for_each_supported_path([](auto p) {
    ASSERT_TRUE(set_active_path(p.value).is_ok()) << path_name(p.value);
    EXPECT_EQ(active_path(), p.value);
  });
  ASSERT_TRUE(set_active_path(Path::kAuto).is_ok());
  EXPECT_EQ(active_path(), detail::default_path());
}

TEST_F(Dispatch, RefusesPathsThisCpuOrBuildLacks) {
  const Path before = active_path();
  for (Path p : {Path::kAvx2, Path::kAvx512, Path::kNeon}) {
    if (path_supported(p)) continue;
    const Status s = set_active_path(p);
    EXPECT_FALSE(s.is_ok()) << path_name(p);
    EXPECT_NE(s.message().find(path_name(p)), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("supported: scalar"), std::string::npos) << s.message();
    EXPECT_EQ(active_path(), before) << "a refused path changed the choice";
  }
}

TEST_F(Dispatch, ParsesPathNames) {
  Path p;
  for (Path q : {Path::kScalar, Path::kAvx2, Path::kAvx512, Path::kNeon, Path::kAuto}) {
    ASSERT_TRUE(detail::parse_path(path_name(q), &p));
    EXPECT_EQ(p, q);
  }
  EXPECT_FALSE(detail::parse_path("AVX2", &p));
  EXPECT_FALSE(detail::parse_path("", &p));
  EXPECT_FALSE(detail::parse_path("sse4", &p));
}

// The kernel sets of compiled SIMD paths are their own, not the portable
// fallback (a missing include would silently leave them so).
TEST_F(Dispatch, SimdPathsHaveTheirOwnKernels) {
#if EIGENQ_HAVE_AVX2
  EXPECT_FALSE((std::is_base_of_v<Kernels<Path::kScalar>, Kernels<Path::kAvx2>>));
#endif
#if EIGENQ_HAVE_AVX512
  EXPECT_FALSE((std::is_base_of_v<Kernels<Path::kScalar>, Kernels<Path::kAvx512>>));
#endif
#if EIGENQ_HAVE_NEON
  EXPECT_FALSE((std::is_base_of_v<Kernels<Path::kScalar>, Kernels<Path::kNeon>>));
#endif
}

// ---------------------------------------------------------------------------
// Whole-tensor operations on every path

struct Scheme {
  const char* name;
  Shape shape;
  Granularity granularity;
  int axis;
  std::int64_t block;
};

std::vector<Scheme> schemes() {
  return {
      {"per-tensor", Shape::row_major({7, 53}), Granularity::kPerTensor, 0, 0},
      {"per-axis first", Shape::row_major({7, 53}), Granularity::kPerAxis, 0, 0},
      {"per-axis last (aligned runs)", Shape::row_major({9, 67}), Granularity::kPerAxis, 1, 0},
      {"per-axis short inner (expanded)", Shape::row_major({5, 6, 3}), Granularity::kPerAxis, 1, 0},
      {"per-axis col-major", Shape({6, 40, 3}, Layout::kColMajor), Granularity::kPerAxis, 2, 0},
      {"blocked 32 last", Shape::row_major({5, 100}), Granularity::kBlocked, 1, 32},
      {"blocked 16 first", Shape::row_major({70, 6}), Granularity::kBlocked, 0, 16},
      {"per-element", Shape::row_major({11, 19}), Granularity::kPerElement, 0, 0},
  };
}

std::size_t param_count(const Scheme& s) {
  ResolvedParams r;
  QParamsView layout;
  layout.granularity = s.granularity;
  layout.axis = s.axis;
  layout.block_size = s.block;
  EXPECT_TRUE(resolve_layout(layout, s.shape, &r).is_ok());
  return r.count;
}

QParams params_for(const Scheme& s, Range range, std::mt19937& rng) {
  const std::size_t n = param_count(s);
  std::vector<float> scale(n);
  std::vector<std::int32_t> zp(n);
  std::uniform_real_distribution<float> u(0.01f, 0.5f);
  std::uniform_int_distribution<std::int32_t> z(range.qmin, range.qmax);
  for (std::size_t i = 0; i < n; ++i) scale[i] = u(rng), zp[i] = z(rng);
  QParams p;
  p.granularity = s.granularity;
  p.axis = s.axis;
  p.block_size = s.block;
  p.scale = scale;
  p.zero_point = zp;
  p.range = range;
  return p;
}

std::vector<float> inputs(std::size_t n, std::mt19937& rng) {
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            0.5f,
                            -0.5f,
                            1e30f,
                            -0.0f};
  std::uniform_real_distribution<float> u(-40.0f, 40.0f);
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = rng() % 9 == 0 ? specials[rng() % 7] : u(rng);
  return x;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

// Everything one path computes for one scheme, through the public classes
// with Path::kAuto (so through the dispatch switch).
struct Results {
  std::vector<std::int8_t> q;
  std::vector<float> y, fq, fqm, dx, dx_masked, dx_bits, y_packed, y_bits;
  std::vector<std::uint8_t> mask, packed, bits;
  std::vector<std::int8_t> requantized;
};

Results run_auto(const Scheme& s, const QParams& p, const QParams& p4, const std::vector<float>& x,
                 const std::vector<float>& dy, const std::vector<std::int32_t>& acc) {
  const std::size_t n = x.size();
  Results r;
  r.q.resize(n), r.y.resize(n), r.fq.resize(n), r.fqm.resize(n), r.dx.resize(n), r.dx_masked.resize(n);
  r.dx_bits.resize(n), r.y_packed.resize(n), r.y_bits.resize(n), r.mask.resize(n), r.requantized.resize(n);
  const Quantizer<std::int8_t> qz(s.shape, p);
  qz.quantize(x.data(), r.q.data());
  qz.dequantize(r.q.data(), r.y.data());
  qz.fake_quantize(x.data(), r.fq.data());
  qz.fake_quantize_mask(x.data(), r.fqm.data(), r.mask.data());
  qz.ste_backward(x.data(), dy.data(), r.dx.data());
  ste_backward_masked(r.mask.data(), dy.data(), r.dx_masked.data(), static_cast<std::int64_t>(n));
  r.bits.resize(static_cast<std::size_t>(packed_mask_bytes(static_cast<std::int64_t>(n))));
  fake_quantize_packed_mask(qz, x.data(), r.y_bits.data(), r.bits.data());
  ste_backward_packed(r.bits.data(), dy.data(), r.dx_bits.data(), static_cast<std::int64_t>(n));
  const PackedQuantizer<Int4> pq(s.shape, p4);
  r.packed.resize(pq.packed_bytes());
  pq.quantize(x.data(), r.packed.data());
  pq.dequantize(r.packed.data(), r.y_packed.data());
  // Requantize with the scheme's scales as the accumulators' per-parameter scales.
  QParams acc_params = p;
  acc_params.range = Range::full<std::int32_t>();
  std::fill(acc_params.zero_point.begin(), acc_params.zero_point.end(), 0);
  Requantizer<std::int8_t, GemmlowpRounding> rq;
  EXPECT_TRUE((Requantizer<std::int8_t, GemmlowpRounding>::from_scales(s.shape, acc_params.view(), 0.37f, -3,
                                                                       Range::full<std::int8_t>(), &rq)
                   .is_ok()));
  rq.requantize(acc.data(), r.requantized.data());
  return r;
}

TEST_F(Dispatch, EveryTensorOperationMatchesThePortablePathOnEveryPath) {
  std::mt19937 rng(2024);
  std::set<std::string> checked;
  for (const Scheme& s : schemes()) {
    SCOPED_TRACE(s.name);
    const std::size_t n = static_cast<std::size_t>(s.shape.size());
    const QParams p = params_for(s, Range::full<std::int8_t>(), rng);
    const QParams p4 = params_for(s, Int4::range(), rng);
    const std::vector<float> x = inputs(n, rng), dy = inputs(n, rng);
    std::vector<std::int32_t> acc(n);
    for (auto& a : acc) a = static_cast<std::int32_t>(rng());
    ASSERT_TRUE(set_active_path(Path::kScalar).is_ok());
    const Results want = run_auto(s, p, p4, x, dy, acc);
    testing_paths::for_each_supported_path([&](auto path) {
      SCOPED_TRACE(path_name(path.value));
      ASSERT_TRUE(set_active_path(path.value).is_ok());
      const Results got = run_auto(s, p, p4, x, dy, acc);
      EXPECT_TRUE(same_bits(want.q, got.q)) << "quantize";
      EXPECT_TRUE(same_bits(want.y, got.y)) << "dequantize";
      EXPECT_TRUE(same_bits(want.fq, got.fq)) << "fake_quantize";
      EXPECT_TRUE(same_bits(want.fqm, got.fqm)) << "fake_quantize_mask y";
      EXPECT_TRUE(same_bits(want.mask, got.mask)) << "fake_quantize_mask mask";
      EXPECT_TRUE(same_bits(want.dx, got.dx)) << "ste_backward";
      EXPECT_TRUE(same_bits(want.dx_masked, got.dx_masked)) << "ste_backward_masked";
      EXPECT_TRUE(same_bits(want.bits, got.bits)) << "packed mask bits";
      EXPECT_TRUE(same_bits(want.y_bits, got.y_bits)) << "packed mask y";
      EXPECT_TRUE(same_bits(want.dx_bits, got.dx_bits)) << "ste_backward_packed";
      EXPECT_TRUE(same_bits(want.packed, got.packed)) << "int4 quantize";
      EXPECT_TRUE(same_bits(want.y_packed, got.y_packed)) << "int4 dequantize";
      EXPECT_TRUE(same_bits(want.requantized, got.requantized)) << "requantize";
      checked.insert(path_name(path.value));
    });
  }
  std::printf("whole-tensor operations compared on:");
  for (const std::string& c : checked) std::printf(" %s", c.c_str());
  std::printf("\n");
}

}  // namespace
}  // namespace eigenq
