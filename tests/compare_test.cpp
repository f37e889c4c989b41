// eigenq-compare (examples/compare/): the metrics on inputs whose answer is
// known by hand, the byte accounting, the block views, the synthetic set,
// the folder and index reader, and the command line's error paths (each
// message must name the file and the problem).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "compare_testing.hpp"

namespace eigenq::compare {
namespace {

using namespace testing_helpers;

// ---------------------------------------------------------------------------
// Metrics

TEST(CompareMetrics, SqnrOfAKnownError) {
  const float x[] = {1, 1, 1, 1};
  const float y[] = {1.1f, 0.9f, 1.1f, 0.9f};
  // signal 4, noise 4 * 0.01 (to float rounding): 20 dB.
  EXPECT_NEAR(sqnr_db(x, y, 4), 20.0, 1e-5);
  const float x2[] = {3, -4};
  const float y2[] = {3, -3};  // signal 25, noise 1: 10 log10(25)
  EXPECT_DOUBLE_EQ(sqnr_db(x2, y2, 2), 10.0 * std::log10(25.0));
  EXPECT_DOUBLE_EQ(max_abs_error(x2, y2, 2), 1.0);
}

TEST(CompareMetrics, SqnrEdgeCases) {
  const float x[] = {3, -4};
  EXPECT_EQ(sqnr_db(x, x, 2), std::numeric_limits<double>::infinity());
  const float zero[] = {0, 0};
  EXPECT_EQ(sqnr_db(zero, zero, 2), std::numeric_limits<double>::infinity());
  EXPECT_EQ(sqnr_db(zero, x, 2), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(max_abs_error(x, x, 2), 0.0);
}

TEST(CompareMetrics, MedianHandlesEvenCountsAndInfinity) {
  EXPECT_DOUBLE_EQ(median({3, 1, 2}), 2.0);
  EXPECT_DOUBLE_EQ(median({4, 1, 3, 2}), 2.5);
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(median({inf, inf, 1, inf}), inf);
  EXPECT_TRUE(std::isnan(median({})));
}

Tensor make_tensor(std::vector<float> data, Shape shape, int channel_axis, const std::string& role = "weight") {
  Tensor t;
  t.name = "t";
  t.role = role;
  t.data = std::move(data);
  t.shape = shape;
  t.channel_axis = channel_axis;
  set_block_view(&t);
  return t;
}

TEST(CompareEvaluate, Int4SymmetricPerTensorByHand) {
  // absmax 7.5 -> scale 7.5 / 7.5 = 1; 7.5 rounds to 8 and saturates to 7
  // (error 0.5), -7.5 is a tie that rounds to even -8 (error 0.5), 1.2 -> 1
  // (error 0.2), 0 is exact.
  const Tensor t = make_tensor({7.5f, -7.5f, 1.2f, 0.0f}, Shape::row_major({4}), 0);
  SpeedOptions no_speed;
  no_speed.enabled = false;
  Result r;
  ASSERT_TRUE(evaluate(t, {{Granularity::kPerTensor, 0}, DType::kInt4, Mode::kSym}, no_speed, &r).is_ok());
  const double signal = 7.5 * 7.5 * 2 + double(1.2f) * double(1.2f);
  const double noise = 0.25 + 0.25 + (double(1.2f) - 1.0) * (double(1.2f) - 1.0);
  EXPECT_NEAR(r.sqnr_db, 10.0 * std::log10(signal / noise), 1e-9);
  EXPECT_DOUBLE_EQ(r.max_abs_error, 0.5);
  EXPECT_EQ(r.params, 1);
  EXPECT_EQ(r.data_bytes, 2.0);      // 4 elements, packed two per byte
  EXPECT_EQ(r.metadata_bytes, 4.0);  // one float32 scale, no zero point
  EXPECT_TRUE(std::isnan(r.quantize_seconds));
}

TEST(CompareEvaluate, Int4SymmetricNarrowRangeByHand) {
  // Range [-7, 7]: scale 7.5f / 7.0f, so both extremes land on levels +-7;
  // 1.2 -> round(1.12) = 1.
  const Tensor t = make_tensor({7.5f, -7.5f, 1.2f, 0.0f}, Shape::row_major({4}), 0);
  SpeedOptions no_speed;
  no_speed.enabled = false;
  Result r;
  ASSERT_TRUE(evaluate(t, {{Granularity::kPerTensor, 0}, DType::kInt4, Mode::kSymNarrow}, no_speed, &r).is_ok());
  const float s = 7.5f / 7.0f;
  const float y[] = {7 * s, -7 * s, 1 * s, 0.0f};
  EXPECT_DOUBLE_EQ(r.sqnr_db, sqnr_db(t.data.data(), y, 4));
  EXPECT_NEAR(r.max_abs_error, double(1.2f) - double(s), 1e-12);
  EXPECT_GT(r.sqnr_db, 35.0);  // much better than the full range's 23.2 dB on this input
  EXPECT_EQ(r.metadata_bytes, 4.0);
}

TEST(CompareEvaluate, ExactlyRepresentableTensorHasInfiniteSqnr) {
  // k * 0.5 for k in [-128, 127]: int8 affine per-tensor picks scale
  // (63.5 + 64) / 255 = 0.5 and zero point 0, so every value is exact.
  std::vector<float> v;
  for (int k = -128; k <= 127; ++k) v.push_back(0.5f * k);
  const Tensor t = make_tensor(v, Shape::row_major({256}), 0);
  SpeedOptions no_speed;
  no_speed.enabled = false;
  Result r;
  ASSERT_TRUE(evaluate(t, {{Granularity::kPerTensor, 0}, DType::kInt8, Mode::kAsym}, no_speed, &r).is_ok());
  EXPECT_EQ(r.sqnr_db, std::numeric_limits<double>::infinity());
  EXPECT_EQ(r.max_abs_error, 0.0);
  EXPECT_EQ(r.total_bytes(), 256.0 + 8.0);  // data + float32 scale + int32 zero point
}

TEST(CompareEvaluate, BytesPerSchemeOnAConvWeight) {
  // [8, 4, 3, 3]: 288 elements; blocks of 32 along K = 36 -> 2 per row (ragged).
  std::vector<float> v(288);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::sin(0.37f * i) * (1 + i / 36);
  const Tensor t = make_tensor(v, Shape::row_major({8, 4, 3, 3}), 0);
  SpeedOptions no_speed;
  no_speed.enabled = false;
  struct Expect {
    Scheme scheme;
    std::int64_t params;
  };
  for (const Expect& e : {Expect{{Granularity::kPerTensor, 0}, 1}, Expect{{Granularity::kPerAxis, 0}, 8},
                          Expect{{Granularity::kBlocked, 32}, 16}, Expect{{Granularity::kBlocked, 128}, 8},
                          Expect{{Granularity::kPerElement, 0}, 288}}) {
    for (Mode sym : {Mode::kAsym, Mode::kSym, Mode::kSymNarrow}) {
      Result r;
      ASSERT_TRUE(evaluate(t, {e.scheme, DType::kUInt8, sym}, no_speed, &r).is_ok());
      EXPECT_EQ(r.params, e.params) << e.scheme.name();
      EXPECT_EQ(r.metadata_bytes, e.params * (sym == Mode::kAsym ? 8.0 : 4.0)) << e.scheme.name();
      EXPECT_EQ(r.data_bytes, 288.0);
    }
  }
}

TEST(CompareEvaluate, PerElementAffineIsNearlyExactAndCostsNineBytes) {
  const std::vector<Tensor> tensors = synthetic_tensors();
  SpeedOptions no_speed;
  no_speed.enabled = false;
  Result r;
  ASSERT_TRUE(evaluate(tensors[1], {{Granularity::kPerElement, 0}, DType::kInt8, Mode::kAsym}, no_speed, &r).is_ok());
  EXPECT_GT(r.sqnr_db, 130.0);
  EXPECT_EQ(r.bytes_per_element(), 9.0);
  Result c;
  ASSERT_TRUE(evaluate(tensors[1], {{Granularity::kPerAxis, 0}, DType::kInt8, Mode::kAsym}, no_speed, &c).is_ok());
  EXPECT_LT(c.sqnr_db, 60.0);
  EXPECT_LT(c.bytes_per_element(), 1.1);
}

TEST(CompareEvaluate, SpeedIsMeasuredWhenAsked) {
  const Tensor t = synthetic_tensors()[0];
  SpeedOptions speed;
  speed.repetitions = 1;
  speed.batch_seconds = 1e-5;
  Result r;
  ASSERT_TRUE(evaluate(t, {{Granularity::kPerAxis, 0}, DType::kInt8, Mode::kAsym}, speed, &r).is_ok());
  EXPECT_GT(r.quantize_gbps(), 0.0);
  EXPECT_GT(r.dequantize_gbps(), 0.0);
  EXPECT_TRUE(std::isfinite(r.quantize_gbps()));
}

// ---------------------------------------------------------------------------
// Block views and the synthetic set

TEST(CompareDataset, BlockViewRunsAlongTheReductionAxis) {
  Tensor conv = make_tensor(std::vector<float>(8 * 4 * 9), Shape::row_major({8, 4, 3, 3}), 0);
  EXPECT_EQ(shape_text(conv.block_shape), "8x36");
  EXPECT_EQ(conv.block_axis, 1);
  Tensor linear = make_tensor(std::vector<float>(64 * 16), Shape::row_major({64, 16}), 1);  // [in, out]
  EXPECT_EQ(shape_text(linear.block_shape), "64x16");
  EXPECT_EQ(linear.block_axis, 0);
  Tensor hwio = make_tensor(std::vector<float>(3 * 3 * 4 * 8), Shape::row_major({3, 3, 4, 8}), 3);
  EXPECT_EQ(shape_text(hwio.block_shape), "36x8");
  EXPECT_EQ(hwio.block_axis, 0);
  Tensor transposed = make_tensor(std::vector<float>(4 * 8 * 4), Shape::row_major({4, 8, 2, 2}), 1);
  EXPECT_EQ(shape_text(transposed.block_shape), "4x8x2x2");
  EXPECT_EQ(transposed.block_axis, 0);
  Tensor act = make_tensor(std::vector<float>(16 * 25), Shape::row_major({1, 16, 5, 5}), 1, "activation");
  EXPECT_EQ(shape_text(act.block_shape), "1x16x5x5");
  EXPECT_EQ(act.block_axis, 1);
  Tensor col = make_tensor(std::vector<float>(8 * 36), Shape({8, 4, 3, 3}, Layout::kColMajor), 0);
  EXPECT_EQ(col.block_shape.layout, Layout::kColMajor);
  EXPECT_EQ(shape_text(col.block_shape), "8x36");
}

TEST(CompareDataset, SyntheticSetIsDeterministicWithDeadChannelsAndSpread) {
  const std::vector<Tensor> a = synthetic_tensors(), b = synthetic_tensors();
  ASSERT_EQ(a.size(), b.size());
  int dead = 0;
  double widest_spread = 0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    EXPECT_EQ(a[k].data, b[k].data);
    // Channel absmax along the channel axis (row-major).
    const Tensor& t = a[k];
    std::int64_t inner = 1;
    for (int d = t.channel_axis + 1; d < t.shape.rank; ++d) inner *= t.shape.dims[d];
    const std::int64_t C = t.shape.dims[t.channel_axis];
    std::vector<double> absmax(C, 0.0);
    for (std::size_t i = 0; i < t.data.size(); ++i)
      absmax[(i / inner) % C] = std::max(absmax[(i / inner) % C], double(std::fabs(t.data[i])));
    double lo = 1e30, hi = 0;
    for (double m : absmax) {
      dead += m == 0.0;
      if (m > 0) lo = std::min(lo, m);
      hi = std::max(hi, m);
    }
    widest_spread = std::max(widest_spread, hi / lo);
  }
  EXPECT_GE(dead, 5);
  EXPECT_GT(widest_spread, 300.0);
}

// ---------------------------------------------------------------------------
// The command line

TEST(CompareCli, HelpExplainsTheOptions) {
  const CliRun r = run_cli({"--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* option : {"--dtype", "--schemes", "--limit", "--no-speed", "--out", "index.json"})
    EXPECT_TRUE(contains(r.out, option)) << option;
}

TEST(CompareCli, MissingFolder) {
  const CliRun r = run_cli({"/nonexistent/eigenq/folder", "--no-speed"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "/nonexistent/eigenq/folder: no such directory")) << r.err;
}

TEST(CompareCli, WrongOptionValuesAreUsageErrors) {
  CliRun r = run_cli({"--dtype", "int7"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "--dtype: unknown dtype 'int7'")) << r.err;
  r = run_cli({"--symmetry", "skew"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "--symmetry: unknown value 'skew'")) << r.err;
  r = run_cli({"--dtype", "int7"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "--dtype: unknown dtype 'int7'")) << r.err;
  r = run_cli({"--schemes", "per-row"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "unknown scheme 'per-row'")) << r.err;
  r = run_cli({"--schemes", "block0"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "block size")) << r.err;
  r = run_cli({"--limit", "x"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "--limit x: expected an integer in [1, 9223372036854775807]")) << r.err;
  r = run_cli({"--limit"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "--limit: missing value")) << r.err;
  r = run_cli({"--frobnicate"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "unknown option --frobnicate")) << r.err;
}

TEST(CompareCli, NonFloatNpyNamesTheFile) {
  const std::string dir = temp_dir("nonfloat");
  const std::vector<std::int8_t> q = {1, 2, 3, 4};
  ASSERT_TRUE(npy::write(dir + "/q.npy", q.data(), Shape::row_major({2, 2})).is_ok());
  const CliRun r = run_cli({dir, "--no-speed"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, dir + "/q.npy: dtype int8 is not a floating-point type")) << r.err;
}

TEST(CompareCli, BrokenNpyNamesTheFile) {
  const std::string dir = temp_dir("broken");
  write_file(dir + "/w.npy", "not a numpy file");
  const CliRun r = run_cli({dir, "--no-speed"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, dir + "/w.npy: not a .npy file (bad magic")) << r.err;
}

TEST(CompareCli, AxisOutOfRangeInIndex) {
  const std::string dir = temp_dir("axis");
  write_floats(dir + "/a.npy", Shape::row_major({4, 3}));
  write_file(dir + "/index.json", R"({"tensors": [{"name": "layer/a", "file": "a.npy", "out_axis": 2}]})");
  const CliRun r = run_cli({dir, "--no-speed"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, dir + "/index.json: tensor 'layer/a' (")) << r.err;
  EXPECT_TRUE(contains(r.err, "out_axis = 2 is out of range for shape [4, 3]")) << r.err;
}

TEST(CompareCli, IndexErrorsNameTheIndex) {
  const std::string dir = temp_dir("index");
  write_floats(dir + "/a.npy", Shape::row_major({4, 3}));
  write_file(dir + "/index.json", "{\"tensors\": [\n  {\"file\": \"a.npy\" \"out_axis\": 0}]}");
  CliRun r = run_cli({dir, "--no-speed"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, dir + "/index.json:2:")) << r.err;
  EXPECT_TRUE(contains(r.err, "expected ',' or '}'")) << r.err;

  write_file(dir + "/index.json", R"({"tensors": [{"name": "a", "file": "a.npy", "out_axis": 0.5}]})");
  r = run_cli({dir, "--no-speed"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, dir + "/index.json: \"tensors\"[0] ('a'): out_axis = 0.5 is not an integer axis"))
      << r.err;

  write_file(dir + "/index.json", R"({"tensors": [{"name": "a", "file": "a.npy", "out_axis": 0, "shape": [3, 4]}]})");
  r = run_cli({dir, "--no-speed"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "tensor 'a': shape [3, 4] does not match")) << r.err;

  r = run_cli({dir, "--index", dir + "/nope.json", "--no-speed"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, dir + "/nope.json: no such index file")) << r.err;
}

TEST(CompareCli, EmptyFolder) {
  const std::string dir = temp_dir("empty");
  const CliRun r = run_cli({dir, "--no-speed"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, dir + ": no .npy tensors to compare")) << r.err;
}

TEST(CompareCli, IndexInParentSkipsMissingFilesAndBiases) {
  // The layout of a model export: root/index.json lists weights/ and activations/.
  const std::string root = temp_dir("parent");
  fs::create_directories(root + "/weights");
  write_floats(root + "/weights/w.npy", Shape::row_major({6, 2, 3, 3}));
  write_floats(root + "/weights/b.npy", Shape::row_major({6}));
  write_floats(root + "/weights/extra.npy", Shape::row_major({5, 5}));
  write_file(root + "/index.json", R"({
    "tensors": [
      {"name": "m/w", "file": "weights/w.npy", "role": "weight", "out_axis": 0, "shape": [6, 2, 3, 3]},
      {"name": "m/b", "file": "weights/b.npy", "role": "bias", "shape": [6]},
      {"name": "m/gone", "file": "weights/gone.npy", "role": "weight", "out_axis": 0},
    ],
    "activations": [{"name": "m/act", "file": "activations/x.npy", "channel_axis": 1}]
  })");
  const CliRun r = run_cli({root + "/weights", "--no-speed", "--dtype", "int8", "--symmetry", "sym"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "1 tensors listed in the index are missing: skipped")) << r.err;
  EXPECT_TRUE(contains(r.err, "1 biases skipped")) << r.err;
  EXPECT_TRUE(contains(r.err, "1 .npy files not in the index")) << r.err;
  EXPECT_TRUE(contains(r.out, "2 tensors")) << r.out;
}

TEST(CompareCli, OutputsAreCompleteAndTheSyntheticFolderRoundTrips) {
  // The synthetic set written as .npy + index.json and read back must give
  // the same results as the built-in set.
  const std::string dir = temp_dir("synthetic"), a = temp_dir("out_a"), b = temp_dir("out_b");
  CliRun r = run_cli({"--write-synthetic", dir});
  ASSERT_EQ(r.code, 0) << r.err;
  r = run_cli({"--no-speed", "--quiet", "--out", a});
  ASSERT_EQ(r.code, 0) << r.err;
  r = run_cli({dir, "--no-speed", "--quiet", "--out", b});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string csv = read_file(a + "/results.csv");
  EXPECT_EQ(csv, read_file(b + "/results.csv"));
  EXPECT_EQ(read_file(a + "/summary.csv"), read_file(b + "/summary.csv"));

  // 9 tensors x 5 schemes x 3 dtypes x 2 symmetries, plus the header.
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 9 * 30);
  const std::string svg = read_file(a + "/sqnr_vs_bytes.svg");
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_TRUE(contains(svg, "per-element"));
  EXPECT_TRUE(contains(svg, "</svg>\n"));
  Json json;
  ASSERT_TRUE(read_json(a + "/summary.json", &json).is_ok());
  ASSERT_TRUE(json.get("summary") && json.get("summary")->is_array());
  EXPECT_EQ(json.get("summary")->items.size(), 30u);
  ASSERT_TRUE(json.get("tensors") && json.get("tensors")->is_array());
  EXPECT_EQ(json.get("tensors")->items.size(), 9u);
  EXPECT_EQ(json.get("tensors")->items[0].get_string("block_shape"), "32x27");
  EXPECT_TRUE(contains(read_file(a + "/summary.txt"), "per-channel  int8"));
  EXPECT_FALSE(fs::exists(a + "/results.csv.tmp"));
}

TEST(CompareCli, LimitAndSelection) {
  const CliRun r = run_cli(
      {"--no-speed", "--limit", "2", "--dtype", "int4", "--schemes", "per-channel,block64", "--symmetry", "asym"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "2 tensors")) << r.out;
  EXPECT_TRUE(contains(r.out, "block64      int4   asym")) << r.out;
  EXPECT_FALSE(contains(r.out, "per-tensor")) << r.out;
}

// ---------------------------------------------------------------------------
// The JSON reader

TEST(CompareJson, ReadsWhatPythonWritesAndToleratesTrailingCommas) {
  Json j;
  ASSERT_TRUE(
      parse_json(R"({"a": [1, -2.5e3, true, false, null, "x\"y\u00e9\n"], "b": {"c": {},},})", "t", &j).is_ok());
  const Json* a = j.get("a");
  ASSERT_TRUE(a && a->is_array());
  EXPECT_EQ(a->items[0].number, 1.0);
  EXPECT_EQ(a->items[1].number, -2500.0);
  EXPECT_TRUE(a->items[2].boolean);
  EXPECT_FALSE(a->items[3].boolean);
  EXPECT_EQ(a->items[4].type, Json::Type::kNull);
  EXPECT_EQ(a->items[5].string, "x\"y\xc3\xa9\n");
  EXPECT_TRUE(j.get("b")->get("c")->is_object());
}

TEST(CompareJson, ErrorsGiveLineAndColumn) {
  Json j;
  Status s = parse_json("{\n  \"a\": [1, 2\n}", "f.json", &j);
  EXPECT_TRUE(contains(s.message(), "f.json:3:1: expected ',' or ']'")) << s.message();
  s = parse_json("{\"a\": \"unterminated", "f.json", &j);
  EXPECT_TRUE(contains(s.message(), "unterminated string")) << s.message();
  s = parse_json("[1] x", "f.json", &j);
  EXPECT_TRUE(contains(s.message(), "unexpected text after")) << s.message();
  s = parse_json(std::string(1000, '['), "f.json", &j);
  EXPECT_TRUE(contains(s.message(), "nested too deeply")) << s.message();
}

}  // namespace
}  // namespace eigenq::compare
