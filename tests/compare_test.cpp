// eigenq-compare (examples/compare/): the metrics on inputs whose answer is
// known by hand; the metadata formats and the bytes each scheme stores; the
// layer outputs and activation rows against an independent NumPy
// computation (tests/data/compare/layers, made by
// tests/conformance/gen_compare_layers.py); the safetensors reader on a good
// checkpoint and on headers that lie (tests/conformance/gen_safetensors.py);
// the decision (mixed plan, best uniform scheme, Pareto front, ranking) on a
// table made by hand; the plot, rendered; the folder and index reader and
// the command line's error paths (each message must name the file and the
// problem).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "compare_testing.hpp"

namespace eigenq::compare {
namespace {

using namespace testing_helpers;

const std::string kData = std::string(EIGENQ_TEST_DATA_DIR) + "/compare";

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

// ---------------------------------------------------------------------------
// Formats and metadata

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

Scheme scheme(const char* format, Granularity g, std::int64_t block, Mode mode, ScaleFormat scale = ScaleFormat::kAuto,
              int zero_bits = kZeroBitsAuto) {
  Scheme s;
  s.format = find_format(format);
  s.granularity = g;
  s.block = block;
  s.mode = mode;
  EXPECT_TRUE(resolve_metadata(&s, scale, zero_bits)) << s.name();
  return s;
}

Result evaluate(const Tensor& t, const Scheme& s) {
  Result r;
  EXPECT_TRUE(evaluate_weight(t, s, nullptr, SpeedOptions{false}, one_thread(), &r).is_ok()) << s.name();
  return r;
}

TEST(CompareFormats, TheTableHoldsEveryIntegerFormat) {
  const std::vector<std::string> names = {"int8", "uint8", "int4", "uint4", "int2"};
  ASSERT_GE(formats().size(), names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    const Format& f = formats()[i];
    EXPECT_EQ(f.name, names[i]);
    EXPECT_EQ(f.kind, Kind::kInteger) << f.name;
    EXPECT_EQ(f.range.qmax - f.range.qmin + 1, 1 << f.bits) << f.name;
    EXPECT_EQ(f.is_signed, f.range.qmin < 0) << f.name;
    EXPECT_EQ(f.block, 0) << f.name;  // any granularity
  }
  EXPECT_EQ(find_format("int2")->range.qmin, -2);
  EXPECT_EQ(find_format("fp8"), nullptr);
}

// The floating-point formats: FP8 at any granularity with a scale per group
// from its largest magnitude (so the group's extreme value is exact), MX
// and NVFP4 with their own block, scale format and bytes.
TEST(CompareFormats, FloatingPointFormatsQuantizeThroughTheLibrary) {
  std::vector<float> v(2 * 64);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::sin(0.37f * static_cast<float>(i)) * (1.0f + i / 64);
  const Tensor t = make_tensor(v, Shape::row_major({2, 64}), 0);

  const Scheme fp8 = scheme("e4m3", Granularity::kPerAxis, 0, Mode::kSym);
  EXPECT_EQ(fp8.name(), "e4m3 per-channel sym f32");
  std::vector<float> y;
  Result r;
  ASSERT_TRUE(evaluate_weight(t, fp8, nullptr, SpeedOptions{false}, one_thread(), &r, &y).is_ok());
  EXPECT_EQ(r.params, 2);
  EXPECT_EQ(r.data_bytes, 128.0);
  EXPECT_EQ(r.metadata_bytes, 2 * 4.0);
  // The row's largest magnitude is E4M3's 448 times the scale: exact up to
  // the rounding of scale = absmax / 448 and of 448 * scale.
  for (int row = 0; row < 2; ++row) {
    std::size_t at = row * 64;
    for (std::size_t i = row * 64; i < row * 64 + 64u; ++i)
      if (std::fabs(v[i]) > std::fabs(v[at])) at = i;
    EXPECT_NEAR(y[at], v[at], 2e-7 * std::fabs(v[at])) << "row " << row;
  }
  EXPECT_GT(r.sqnr_db, 25.0);  // 3 mantissa bits: about 30 dB on smooth data
  EXPECT_LT(r.sqnr_db, 45.0);

  struct Expect {
    const char* format;
    const char* name;
    std::int64_t params;
    double data, metadata;
  };
  for (const Expect& e :
       {Expect{"mxfp8", "mxfp8 g32 sym e8m0", 4, 128, 4}, Expect{"mxfp4", "mxfp4 g32 sym e8m0", 4, 64, 4},
        Expect{"mxfp6", "mxfp6 g32 sym e8m0", 4, 96, 4}, Expect{"mxint8", "mxint8 g32 sym e8m0", 4, 128, 4},
        Expect{"nvfp4", "nvfp4 g16 sym e4m3", 8, 64, 8 + 4}}) {
    const Format* f = find_format(e.format);
    ASSERT_NE(f, nullptr) << e.format;
    const Scheme s = scheme(e.format, Granularity::kBlocked, f->block, Mode::kSym);
    EXPECT_EQ(s.name(), e.name);
    ASSERT_TRUE(evaluate_weight(t, s, nullptr, SpeedOptions{false}, one_thread(), &r, &y).is_ok()) << e.format;
    EXPECT_EQ(r.params, e.params) << e.format;
    EXPECT_EQ(r.data_bytes, e.data) << e.format;
    EXPECT_EQ(r.metadata_bytes, e.metadata) << e.format;
    EXPECT_GT(r.sqnr_db, 10.0) << e.format;
  }
}

// Through the command line: the floating-point formats are weights-only,
// symmetric, and MX / NVFP4 take their own block whatever --schemes says.
TEST(CompareCli, FloatingPointFormatsAreWeightSchemes) {
  const CliRun r = run_cli({"--no-speed", "--quiet", "--formats", "e5m2,mxfp4,nvfp4", "--schemes", "per-tensor"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "e5m2    per-tensor  sym")) << r.out;
  EXPECT_TRUE(contains(r.out, "mxfp4   g32")) << r.out;
  EXPECT_TRUE(contains(r.out, "nvfp4   g16")) << r.out;
  EXPECT_FALSE(contains(r.out, "Activations")) << r.out;
}

TEST(CompareFormats, DefaultMetadataPerScheme) {
  // Groups: float16 scale and a zero point in the element's width; symmetric: no zero point.
  Scheme s = scheme("int4", Granularity::kBlocked, 32, Mode::kAsym);
  EXPECT_EQ(s.scale, ScaleFormat::kFloat16);
  EXPECT_EQ(s.zero_bits, 4);
  EXPECT_EQ(s.name(), "int4 g32 asym f16+zp4");
  s = scheme("int8", Granularity::kPerAxis, 0, Mode::kAsym);
  EXPECT_EQ(s.name(), "int8 per-channel asym f32+zp8");
  s = scheme("int2", Granularity::kPerTensor, 0, Mode::kSymNarrow, ScaleFormat::kE8M0, 32);
  EXPECT_EQ(s.zero_bits, 0);
  EXPECT_EQ(s.name(), "int2 per-tensor sym-narrow e8m0");
  // A zero point narrower than the element cannot hold its levels.
  Scheme narrow;
  narrow.format = find_format("int8");
  narrow.mode = Mode::kAsym;
  EXPECT_FALSE(resolve_metadata(&narrow, ScaleFormat::kAuto, 4));
}

TEST(CompareFormats, ScalesAreStoredAsTheFormatHoldsThem) {
  float v = 0;
  ASSERT_TRUE(store_scale(0.1f, ScaleFormat::kFloat16, 0, &v).is_ok());
  EXPECT_EQ(v, 0.0999755859375f);  // 0x2E66
  ASSERT_TRUE(store_scale(0.1f, ScaleFormat::kBFloat16, 0, &v).is_ok());
  EXPECT_EQ(v, 0.10009765625f);  // 0x3DCD: 0x3DCCCCCD rounds up
  ASSERT_TRUE(store_scale(0.1f, ScaleFormat::kE8M0, 0, &v).is_ok());
  EXPECT_EQ(v, 0.125f);  // rounded up: the range is never clipped
  ASSERT_TRUE(store_scale(0.125f, ScaleFormat::kE8M0, 0, &v).is_ok());
  EXPECT_EQ(v, 0.125f);
  ASSERT_TRUE(store_scale(1e-9f, ScaleFormat::kFloat16, 0, &v).is_ok());
  EXPECT_EQ(v, 0x1p-24f);  // a dead group keeps a positive scale
  ASSERT_TRUE(store_scale(0.1f, ScaleFormat::kFloat32, 0, &v).is_ok());
  EXPECT_EQ(v, 0.1f);
  const Status s = store_scale(70000.0f, ScaleFormat::kFloat16, 3, &v);
  EXPECT_FALSE(s.is_ok());
  EXPECT_TRUE(contains(s.message(), "scale[3] = 70000 does not fit f16 (largest 65504)")) << s.message();
}

TEST(CompareFormats, QuantizationUsesTheStoredScale) {
  // absmax 1: PyTorch's symmetric int8 scale 1 / 127.5 = 0.00784 rounds up
  // to 2^-6 in E8M0 (2^-7 = 0.0078125 would clip 1.0): 1.0 -> 64 levels,
  // -0.5 -> -32, 0.3 -> round(19.2) = 19.
  const Tensor t = make_tensor({1.0f, -0.5f, 0.3f, 0.0f}, Shape::row_major({4}), 0);
  const Result r = evaluate(t, scheme("int8", Granularity::kPerTensor, 0, Mode::kSym, ScaleFormat::kE8M0));
  const float y[] = {1.0f, -0.5f, 19 * 0x1p-6f, 0.0f};
  EXPECT_DOUBLE_EQ(r.sqnr_db, sqnr_db(t.data.data(), y, 4));
  EXPECT_DOUBLE_EQ(r.max_abs_error, double(0.3f) - 19 * 0x1p-6);
  EXPECT_EQ(r.metadata_bytes, 1.0);  // one E8M0 byte, no zero point

  // Affine uint8 on [-1, 2] with a float16 scale: s = 3/255 rounds to
  // 0.01177215576171875, and the zero point is chosen again for it:
  // 0 - round(-1 / s) = 85 (with the float32 scale it was 85 too, by 84.94).
  const Tensor a = make_tensor({-1.0f, 2.0f, 0.5f, 0.0f}, Shape::row_major({4}), 0);
  const Result f16 = evaluate(a, scheme("uint8", Granularity::kPerTensor, 0, Mode::kAsym, ScaleFormat::kFloat16));
  const float s = half_to_float(float_to_half(3.0f / 255.0f));
  auto fq = [&](float x) {
    const float q = std::clamp(std::nearbyint(x * (1.0f / s)) + 85.0f, 0.0f, 255.0f);
    return (q - 85.0f) * s;
  };
  const float ya[] = {fq(-1.0f), fq(2.0f), fq(0.5f), fq(0.0f)};
  EXPECT_DOUBLE_EQ(f16.sqnr_db, sqnr_db(a.data.data(), ya, 4));
  EXPECT_EQ(f16.metadata_bytes, 2.0 + 1.0);  // float16 scale, 8-bit zero point
}

TEST(CompareFormats, BytesAsStoredPerFormatAndMetadata) {
  // [8, 4, 3, 3]: 288 elements; groups of 32 along K = 36: 2 per row (ragged).
  std::vector<float> v(288);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::sin(0.37f * i) * (1 + i / 36);
  const Tensor t = make_tensor(v, Shape::row_major({8, 4, 3, 3}), 0);
  struct Expect {
    const char* format;
    Granularity g;
    std::int64_t block;
    Mode mode;
    ScaleFormat scale;
    int zero;
    std::int64_t params;
    double data, metadata;
  };
  using G = Granularity;
  const Expect cases[] = {
      {"int8", G::kPerTensor, 0, Mode::kAsym, ScaleFormat::kAuto, kZeroBitsAuto, 1, 288, 4 + 1},
      {"int8", G::kPerTensor, 0, Mode::kAsym, ScaleFormat::kAuto, 32, 1, 288, 4 + 4},
      {"uint8", G::kPerAxis, 0, Mode::kSym, ScaleFormat::kAuto, kZeroBitsAuto, 8, 288, 8 * 4},
      {"int4", G::kBlocked, 32, Mode::kAsym, ScaleFormat::kAuto, kZeroBitsAuto, 16, 144, 16 * 2 + 8},
      {"uint4", G::kBlocked, 32, Mode::kAsym, ScaleFormat::kBFloat16, 8, 16, 144, 16 * 2 + 16},
      {"int4", G::kBlocked, 128, Mode::kAsym, ScaleFormat::kE8M0, kZeroBitsAuto, 8, 144, 8 + 4},
      {"int2", G::kPerAxis, 0, Mode::kAsym, ScaleFormat::kAuto, kZeroBitsAuto, 8, 72, 8 * 4 + 2},
      {"int2", G::kBlocked, 16, Mode::kAsym, ScaleFormat::kAuto, 4, 24, 72, 24 * 2 + 12},
      {"int8", G::kPerElement, 0, Mode::kAsym, ScaleFormat::kAuto, kZeroBitsAuto, 288, 288, 288 * 5},
      {"int4", G::kPerElement, 0, Mode::kSym, ScaleFormat::kFloat16, kZeroBitsAuto, 288, 144, 288 * 2},
  };
  for (const Expect& e : cases) {
    const Scheme s = scheme(e.format, e.g, e.block, e.mode, e.scale, e.zero);
    const Result r = evaluate(t, s);
    EXPECT_EQ(r.params, e.params) << s.name();
    EXPECT_EQ(r.data_bytes, e.data) << s.name();
    EXPECT_EQ(r.metadata_bytes, e.metadata) << s.name();
  }
  // Packing rounds up: 5 elements of 2 bits take 2 bytes; 3 zero points of 4 bits 2 bytes.
  const Scheme s = scheme("int2", Granularity::kPerTensor, 0, Mode::kAsym, ScaleFormat::kAuto, 4);
  EXPECT_EQ(s.data_bytes(5), 2.0);
  EXPECT_EQ(s.metadata_bytes(3), 3 * 4 + 2.0);
  EXPECT_EQ(s.data_bytes(std::numeric_limits<std::int64_t>::max()), 2305843009213693952.0);  // no overflow
}

TEST(CompareFormats, PerElementAffineIsNearlyExact) {
  const Dataset data = synthetic_dataset();
  const Result r = evaluate(data.tensors[1], scheme("int8", Granularity::kPerElement, 0, Mode::kAsym));
  EXPECT_GT(r.sqnr_db, 130.0);
  EXPECT_EQ(r.bytes_per_element(), 6.0);  // int8 data + float32 scale + int8 zero point
  const Result c = evaluate(data.tensors[1], scheme("int8", Granularity::kPerAxis, 0, Mode::kAsym));
  EXPECT_LT(c.sqnr_db, 60.0);
  EXPECT_LT(c.bytes_per_element(), 1.1);
}

TEST(CompareFormats, SpeedIsMeasuredWhereAKernelExists) {
  const Tensor t = synthetic_dataset().tensors[0];
  SpeedOptions speed;
  speed.repetitions = 1;
  speed.batch_seconds = 1e-5;
  Result r;
  ASSERT_TRUE(
      evaluate_weight(t, scheme("int4", Granularity::kPerAxis, 0, Mode::kAsym), nullptr, speed, one_thread(), &r)
          .is_ok());
  EXPECT_GT(r.quantize_gbps(), 0.0);
  EXPECT_TRUE(std::isfinite(r.dequantize_gbps()));
  // int2 is packed four per byte (PackedQuantizer<Int2>) and timed too.
  ASSERT_TRUE(
      evaluate_weight(t, scheme("int2", Granularity::kPerAxis, 0, Mode::kAsym), nullptr, speed, one_thread(), &r)
          .is_ok());
  EXPECT_GT(r.quantize_gbps(), 0.0);
}

// ---------------------------------------------------------------------------
// Layer outputs

TEST(CompareLayer, ConvolutionAndMatMulByHand) {
  // x = [[1, 2], [3, 4]] (1x1x2x2). A 1x1 kernel of 2: y = 2x, energy 4 * 30.
  const std::vector<float> x = {1, 2, 3, 4};
  Geometry conv;
  conv.op = "Conv";
  LayerInput in;
  ASSERT_TRUE(
      LayerInput::make(conv, Shape::row_major({1, 1, 1, 1}), 0, x.data(), Shape::row_major({1, 1, 2, 2}), &in).is_ok());
  const float two = 2.0f;
  EXPECT_DOUBLE_EQ(in.output_energy(&two), 120.0);
  // A 3x3 kernel of ones, stride 1 "same": every output sums all four: 4 * 10^2.
  const std::vector<float> ones(9, 1.0f);
  ASSERT_TRUE(
      LayerInput::make(conv, Shape::row_major({1, 1, 3, 3}), 0, x.data(), Shape::row_major({1, 1, 2, 2}), &in).is_ok());
  EXPECT_DOUBLE_EQ(in.output_energy(ones.data()), 400.0);
  // Stride 2 with pads 1: a single window, centred on the top-left element.
  conv.strides = {2, 2};
  conv.pads = {1, 1, 1, 1};
  conv.pads_given = conv.strides_given = true;
  ASSERT_TRUE(
      LayerInput::make(conv, Shape::row_major({1, 1, 3, 3}), 0, x.data(), Shape::row_major({1, 1, 2, 2}), &in).is_ok());
  EXPECT_DOUBLE_EQ(in.output_energy(ones.data()), 100.0);  // one output: 1 + 2 + 3 + 4
  // Depthwise, 2 channels [1, 2] and [3, 4] as 1x2 images, 1x1 kernels 1 and -1.
  Geometry dw;
  dw.op = "Conv";
  dw.group = 2;
  const float k[] = {1.0f, -10.0f};
  ASSERT_TRUE(
      LayerInput::make(dw, Shape::row_major({2, 1, 1, 1}), 0, x.data(), Shape::row_major({1, 2, 1, 2}), &in).is_ok());
  EXPECT_DOUBLE_EQ(in.output_energy(k), 1 + 4 + 100 * (9 + 16));
  // MatMul: x [2, 2] times W [in 2, out 1] = [1, 1]: [3, 7]; the same weight stored [out, in].
  Geometry mm;
  mm.op = "MatMul";
  const float w[] = {1.0f, 1.0f};
  ASSERT_TRUE(LayerInput::make(mm, Shape::row_major({2, 1}), 1, x.data(), Shape::row_major({2, 2}), &in).is_ok());
  EXPECT_DOUBLE_EQ(in.output_energy(w), 9 + 49);
  ASSERT_TRUE(LayerInput::make(mm, Shape::row_major({1, 2}), 0, x.data(), Shape::row_major({2, 2}), &in).is_ok());
  EXPECT_DOUBLE_EQ(in.output_energy(w), 9 + 49);
}

TEST(CompareLayer, ShapesThatDoNotFitAreRefusedNamingBoth) {
  const std::vector<float> x(2 * 3 * 4 * 4, 1.0f);
  Geometry conv;
  conv.op = "Conv";
  LayerInput in;
  Status s = LayerInput::make(conv, Shape::row_major({8, 2, 3, 3}), 0, x.data(), Shape::row_major({2, 3, 4, 4}), &in);
  EXPECT_TRUE(contains(s.message(),
                       "input [2, 3, 4, 4] and weight [8, 2, 3, 3] (Conv), group 1: expected 2 input "
                       "channels"))
      << s.message();
  Geometry mm;
  mm.op = "MatMul";
  s = LayerInput::make(mm, Shape::row_major({5, 8}), 1, x.data(), Shape::row_major({2, 3, 4, 4}), &in);
  EXPECT_TRUE(contains(s.message(), "expected the input's last axis to be the weight's input axis")) << s.message();
  Geometry transposed;
  transposed.op = "ConvTranspose";
  s = LayerInput::make(transposed, Shape::row_major({3, 8, 2, 2}), 1, x.data(), Shape::row_major({2, 3, 4, 4}), &in);
  EXPECT_TRUE(contains(s.message(), "the layer output of op ConvTranspose is not computed")) << s.message();
}

// The NumPy golden file's rows (weights and activations), by their key.
using GoldenRow = std::map<std::string, std::string>;

std::vector<GoldenRow> read_csv_rows(const std::string& path) {
  std::vector<GoldenRow> rows;
  const std::string text = read_file(path);
  std::vector<std::string> header;
  std::size_t at = 0;
  for (std::size_t end; (end = text.find('\n', at)) != std::string::npos; at = end + 1) {
    std::vector<std::string> fields;
    std::string field;
    for (char c : text.substr(at, end - at)) {  // no quoted fields in these files
      if (c == ',') {
        fields.push_back(field);
        field.clear();
      } else {
        field += c;
      }
    }
    fields.push_back(field);
    if (header.empty()) {
      header = fields;
      continue;
    }
    GoldenRow row;
    for (std::size_t i = 0; i < header.size() && i < fields.size(); ++i) row[header[i]] = fields[i];
    rows.push_back(row);
  }
  return rows;
}

std::string row_key(const GoldenRow& r) {
  return r.at("tensor") + "|" + r.at("format") + "|" + r.at("scheme") + "|" + r.at("symmetry") + "|" + r.at("scale") +
         "|" + r.at("zero_point_bits") + "|" + r.at("observer");
}

TEST(CompareLayer, EveryRowMatchesTheNumPyReference) {
  const std::string out = temp_dir("golden");
  const CliRun r = run_cli({kData + "/layers", "--no-speed", "--quiet", "--formats", "int8,uint4,int2", "--schemes",
                            "per-tensor,per-channel,g16,per-element", "--symmetry", "asym,sym,sym-narrow", "--scale",
                            "f32,f16,bf16,e8m0", "--zero-point", "auto,32", "--act-symmetry", "asym,sym", "--observers",
                            "minmax,moving-average,dynamic", "--out", out});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "input known for 7 of 8 weights, consumer known for 7 of 7 activations")) << r.out;
  std::map<std::string, GoldenRow> ours;
  for (const GoldenRow& row : read_csv_rows(out + "/results.csv")) ours[row_key(row)] = row;
  const std::vector<GoldenRow> golden = read_csv_rows(kData + "/layers/golden.csv");
  ASSERT_GT(golden.size(), 400u);
  std::size_t layers = 0;
  for (const GoldenRow& g : golden) {
    const auto it = ours.find(row_key(g));
    ASSERT_NE(it, ours.end()) << row_key(g);
    const GoldenRow& o = it->second;
    for (const char* field : {"params", "data_bytes", "metadata_bytes"})
      EXPECT_EQ(std::stod(o.at(field)), std::stod(g.at(field))) << row_key(g) << " " << field;
    // The same float32 arithmetic: SQNR to summation order. The layer
    // output: float32 products here, float64 in NumPy.
    const double sqnr = std::stod(o.at("sqnr_db")), want = std::stod(g.at("sqnr_db"));
    if (std::isfinite(want))
      EXPECT_NEAR(sqnr, want, 1e-9) << row_key(g);
    else
      EXPECT_EQ(sqnr, want) << row_key(g);
    const double layer = std::stod(o.at("layer_sqnr_db")), want_layer = std::stod(g.at("layer_sqnr_db"));
    if (std::isnan(want_layer)) {
      EXPECT_TRUE(std::isnan(layer)) << row_key(g);
    } else if (std::isinf(want_layer)) {
      EXPECT_EQ(layer, want_layer) << row_key(g);
    } else {
      EXPECT_NEAR(layer, want_layer, 1e-4) << row_key(g);
      ++layers;
    }
  }
  EXPECT_GT(layers, 300u);
}

TEST(CompareLayer, NoPadsInTheIndexMeansStrideOneSame) {
  // pointwise_same has no strides or pads; the note says what was assumed.
  const CliRun r = run_cli(
      {kData + "/layers/weights", "--no-speed", "--formats", "int8", "--schemes", "per-tensor", "--symmetry", "sym"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "note: 1 convolution has no pads in the index: stride 1 and \"same\" padding assumed"))
      << r.err;
  // Run on weights/ alone, the inputs are still read from activations/.
  EXPECT_TRUE(contains(r.out, "input known for 7 of 8 weights")) << r.out;
}

// ---------------------------------------------------------------------------
// Activations

TEST(CompareActivations, SplitHoldsOutTheLastSampleOrStripe) {
  // Two samples [2, 2, 8, 3]: sample 0 in 4 stripes of rows, sample 1 held out.
  std::vector<float> v(2 * 2 * 8 * 3);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  Split s;
  ASSERT_TRUE(split_activation(make_tensor(v, Shape::row_major({2, 2, 8, 3}), 1, "activation"), &s).is_ok());
  ASSERT_EQ(s.calibration.size(), 4u);
  EXPECT_EQ(shape_text(s.calibration_shapes[0]), "1x2x2x3");
  EXPECT_EQ(s.calibration[1][0], 6.0f);   // rows 2-3 of channel 0
  EXPECT_EQ(s.calibration[1][6], 30.0f);  // rows 2-3 of channel 1
  EXPECT_EQ(shape_text(s.held_out_shape), "1x2x8x3");
  EXPECT_EQ(s.held_out.front(), 48.0f);
  EXPECT_EQ(s.held_out.back(), 95.0f);
  // One sample [1, 3, 10] (tokens on axis 1): 3 stripes calibrate, the last held out.
  std::vector<float> t(30);
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<float>(i);
  ASSERT_TRUE(split_activation(make_tensor(t, Shape::row_major({1, 10, 3}), 2, "activation"), &s).is_ok());
  ASSERT_EQ(s.calibration.size(), 3u);
  EXPECT_EQ(shape_text(s.held_out_shape), "1x3x3");  // tokens 7..9 (10 / 4 rounds the stripes)
  EXPECT_EQ(s.held_out.front(), 21.0f);
  // One sample of 1x1 has nothing to hold out.
  const Status e =
      split_activation(make_tensor(std::vector<float>(6, 1.0f), Shape::row_major({1, 6, 1, 1}), 1, "activation"), &s);
  EXPECT_TRUE(contains(e.message(), "of shape 1x6x1x1: one sample and no axis to cut")) << e.message();
}

TEST(CompareActivations, EveryObserverScoresAndClippingHelpsAtFourBits) {
  const std::string out = temp_dir("observers");
  const CliRun r = run_cli({"--no-speed", "--quiet", "--formats", "int4", "--schemes", "per-tensor", "--out", out});
  ASSERT_EQ(r.code, 0) << r.err;
  std::map<std::string, double> median;
  for (const GoldenRow& row : read_csv_rows(out + "/summary.csv"))
    if (row.at("role") == "activation") median[row.at("observer")] = std::stod(row.at("median_sqnr_db"));
  ASSERT_EQ(median.size(), 6u);
  // The MSE search clips the tails min/max keeps, and at 4 bits that pays.
  EXPECT_GT(median["mse"], median["minmax"] + 1.0);
  for (const auto& [observer, db] : median) EXPECT_GT(db, 5.0) << observer;
}

// ---------------------------------------------------------------------------
// Checkpoints

TEST(CompareSafetensors, ReadsEveryFloatDtypeExactly) {
  const std::string path = kData + "/safetensors/good.safetensors";
  safetensors::Header h;
  ASSERT_TRUE(safetensors::read_header(path, &h).is_ok());
  ASSERT_EQ(h.entries.size(), 5u);
  const std::vector<std::pair<std::string, std::string>> dtypes = {
      {"conv.weight", "F32"}, {"fc.weight", "F16"}, {"emb.weight", "BF16"}, {"fc.bias", "F32"}, {"step", "I64"}};
  for (std::size_t i = 0; i < dtypes.size(); ++i) {
    EXPECT_EQ(h.entries[i].name, dtypes[i].first);
    EXPECT_EQ(h.entries[i].dtype, dtypes[i].second);
  }
  EXPECT_EQ(dims_text(h.entries[0].shape), "[4, 2, 3, 3]");
  EXPECT_TRUE(h.entries[4].shape.empty());
  std::vector<float> v;
  ASSERT_TRUE(safetensors::read_tensor(path, h.entries[0], &v).is_ok());
  ASSERT_EQ(v.size(), 72u);
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_EQ(v[i], (static_cast<float>(i) - 36) / 8) << i;
  ASSERT_TRUE(safetensors::read_tensor(path, h.entries[1], &v).is_ok());
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_EQ(v[i], (static_cast<float>(i) - 12) / 4) << i;
  ASSERT_TRUE(safetensors::read_tensor(path, h.entries[2], &v).is_ok());
  ASSERT_EQ(v.size(), 20u);
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_EQ(v[i], (static_cast<float>(i) - 10) * 0.5f) << i;
  const Status s = safetensors::read_tensor(path, h.entries[4], &v);
  EXPECT_TRUE(contains(s.message(), "tensor 'step': dtype I64 is not a floating-point type")) << s.message();
}

TEST(CompareSafetensors, HeadersThatLieAreRefusedByName) {
  // bad.txt: file <tab> the message its header must get.
  const std::string list = read_file(kData + "/safetensors/bad.txt");
  std::size_t at = 0, files = 0;
  for (std::size_t end; (end = list.find('\n', at)) != std::string::npos; at = end + 1, ++files) {
    const std::string line = list.substr(at, end - at);
    const std::string file = kData + "/safetensors/" + line.substr(0, line.find('\t'));
    const std::string message = line.substr(line.find('\t') + 1);
    safetensors::Header h;
    const Status s = safetensors::read_header(file, &h);
    EXPECT_FALSE(s.is_ok()) << file;
    EXPECT_TRUE(contains(s.message(), file)) << s.message();
    EXPECT_TRUE(contains(s.message(), message)) << s.message() << "\nexpected: " << message;
  }
  EXPECT_EQ(files, 12u);
}

TEST(CompareSafetensors, ACheckpointIsComparedDirectly) {
  const CliRun r = run_cli({kData + "/safetensors/good.safetensors", "--no-speed", "--formats", "int8", "--schemes",
                            "per-channel", "--symmetry", "sym"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "3 tensors, 116 elements (3 weights, 0 activations)")) << r.out;
  EXPECT_TRUE(contains(r.err, "2 checkpoint tensors of rank 0 or 1 (biases, norm scales) or not floating-point"))
      << r.err;
  // In a folder, a lying checkpoint is one line and the good one is still compared.
  const std::string dir = temp_dir("checkpoints");
  fs::copy_file(kData + "/safetensors/good.safetensors", dir + "/a.safetensors");
  fs::copy_file(kData + "/safetensors/bad_overlap.safetensors", dir + "/b.safetensors");
  const CliRun f = run_cli({dir, "--no-speed", "--formats", "int8", "--schemes", "per-channel", "--symmetry", "sym"});
  EXPECT_EQ(f.code, 1);
  EXPECT_TRUE(contains(f.err, dir + "/b.safetensors: tensor 'fc.weight' (data bytes [280, 328)) overlaps")) << f.err;
  EXPECT_TRUE(contains(f.out, "3 tensors")) << f.out;
  EXPECT_TRUE(contains(f.out, "left out: 1 file or tensor")) << f.out;
}

// ---------------------------------------------------------------------------
// The decision

// Three tensors of 100 elements, three schemes: bytes per tensor and SQNR.
Costs hand_costs() {
  Costs c;
  c.names = {"cheap", "middle", "dear"};
  c.tensor = {0, 1, 2};
  c.elements = {100, 100, 100};
  c.bytes = {{25, 50, 100}, {25, 50, 100}, {25, 50, 100}};
  c.db = {{10, 25, 45}, {28, 32, 50}, {5, 18, 29}};
  return c;
}

TEST(CompareDecision, MixedPlanTakesTheCheapestSchemeThatMeetsTheTarget) {
  const Costs c = hand_costs();
  const Plan p = mixed_plan(c, 25.0);
  EXPECT_EQ(p.choice, (std::vector<int>{1, 0, 2}));
  EXPECT_EQ(p.bytes, 50 + 25 + 100);
  EXPECT_EQ(p.worst_db, 25.0);
  EXPECT_EQ(p.kept_float, 0u);
  // 30 dB: tensor 2 reaches only 29 dB with any scheme: kept in float32.
  const Plan q = mixed_plan(c, 30.0);
  EXPECT_EQ(q.choice, (std::vector<int>{2, 1, Plan::kFloat}));
  EXPECT_EQ(q.bytes, 100 + 50 + 400);
  EXPECT_EQ(q.kept_float, 1u);
  EXPECT_EQ(q.worst_db, 32.0);
  // Equal bytes: the higher SQNR wins.
  Costs tie = c;
  tie.bytes[0] = {50, 50, 100};
  EXPECT_EQ(mixed_plan(tie, 0.0).choice[0], 1);
}

TEST(CompareDecision, BestUniformFrontAndRanking) {
  const Costs c = hand_costs();
  const Decision d = decide(c, 25.0, 5.0);
  ASSERT_EQ(d.uniform.size(), 3u);
  EXPECT_EQ(d.uniform[1].worst_db, 18.0);
  EXPECT_EQ(d.uniform[2].worst_db, 29.0);
  EXPECT_EQ(d.best_uniform, 2);  // only "dear" keeps every tensor >= 25 dB
  EXPECT_EQ(d.mixed.bytes, 175.0);
  // The ranking is under the best uniform plan: lowest SQNR first.
  EXPECT_EQ(d.ranking, (std::vector<std::size_t>{2, 0, 1}));
  // No uniform scheme meets 40 dB: no best, and the ranking is under the
  // one whose worst tensor is highest.
  const Decision none = decide(c, 40.0, 5.0);
  EXPECT_EQ(none.best_uniform, -1);
  EXPECT_EQ(none.reference, 2);
  // The front: no plan on it is beaten on both counts by any plan.
  const std::vector<Plan> plans = d.plans();
  ASSERT_FALSE(d.front.empty());
  for (std::size_t i : d.front)
    for (const Plan& other : plans)
      EXPECT_FALSE(other.bytes <= plans[i].bytes && other.worst_db >= plans[i].worst_db &&
                   (other.bytes < plans[i].bytes || other.worst_db > plans[i].worst_db))
          << plans[i].name << " is beaten by " << other.name;
  // Uniform "cheap" (75 bytes, worst 5 dB) is on it; "middle" (150, 18 dB) is beaten by the
  // mixed plan for 10 dB (100 + 25 + 50... or less) and so is not.
  auto on_front = [&](const std::string& name) {
    for (std::size_t i : d.front)
      if (plans[i].name == name) return true;
    return false;
  };
  EXPECT_TRUE(on_front("cheap"));
  EXPECT_FALSE(on_front("middle"));
  for (std::size_t k = 1; k < d.front.size(); ++k) EXPECT_LT(plans[d.front[k - 1]].bytes, plans[d.front[k]].bytes);
}

// ---------------------------------------------------------------------------
// The plot

TEST(ComparePlot, RendersAndKeepsEveryMarkOnTheCanvas) {
  const std::string out = temp_dir("plot");
  const CliRun r = run_cli({"--no-speed", "--quiet", "--out", out});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string svg = read_file(out + "/sqnr_vs_bytes.svg");
  std::smatch size;
  ASSERT_TRUE(std::regex_search(svg, size, std::regex("width=\"([0-9.]+)\" height=\"([0-9.]+)\"")));
  const double width = std::stod(size[1]), height = std::stod(size[2]);
  // Every coordinate of every mark lies on the canvas.
  const std::regex coordinate("\\b(cx|cy|x|y|x1|x2|y1|y2)=\"(-?[0-9.]+)\"");
  std::size_t marks = 0;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), coordinate); it != std::sregex_iterator(); ++it) {
    const std::string axis = (*it)[1];
    const double v = std::stod((*it)[2]);
    EXPECT_GE(v, 0.0) << it->str();
    EXPECT_LE(v, axis[0] == 'x' || axis == "cx" ? width : height) << it->str();
    ++marks;
  }
  EXPECT_GT(marks, 300u);
  for (const char* panel : {"whole model (9 weights)", "the decision, zoomed (target 40 dB)", "8-bit: int8",
                            "4-bit: int4", "2-bit: int2", "Decision: every weight &gt;= 40 dB"})
    EXPECT_TRUE(contains(svg, panel)) << panel;
  EXPECT_TRUE(contains(svg, "class=\"front\"")) << "the Pareto line";
  EXPECT_TRUE(contains(svg, ">6.0 B/el</text>")) << "int8 per-element, off scale";

  // Rendered by librsvg (Debian's librsvg2-bin, installed by tests/install-deps.sh tests).
  if (std::system("command -v rsvg-convert >/dev/null 2>&1") != 0) GTEST_SKIP() << "rsvg-convert is not installed";
  const std::string png = out + "/plot.png";
  ASSERT_EQ(std::system(("rsvg-convert -o '" + png + "' '" + out + "/sqnr_vs_bytes.svg'").c_str()), 0);
  const std::string bytes = read_file(png);
  ASSERT_GT(bytes.size(), 24u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  auto be32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) v = v << 8 | static_cast<unsigned char>(bytes[at + k]);
    return v;
  };
  EXPECT_EQ(be32(16), static_cast<std::uint32_t>(width));
  EXPECT_EQ(be32(20), static_cast<std::uint32_t>(height));
  EXPECT_GT(bytes.size(), 20000u);  // not a blank page
}

TEST(ComparePlot, ActivationsAloneArePlottedByObserver) {
  // Without weights there is no decision to draw: each format's panel shows
  // every observer's median and worst layer-output SQNR instead.
  const std::string out = temp_dir("plot_act");
  const CliRun r = run_cli({kData + "/layers/activations", "--no-speed", "--quiet", "--formats", "int8,uint8,int4",
                            "--act-symmetry", "asym,sym", "--out", out});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string svg = read_file(out + "/sqnr_vs_bytes.svg");
  EXPECT_FALSE(contains(svg, "no weights compared")) << svg;
  for (const char* text : {"SQNR by observer: ", "(7 activations)", "int8 (uint8 the same): 1.0", "int4: 0.5",
                           ">minmax</text>", ">moving-average</text>", ">l2</text>", ">percentile</text>",
                           ">mse</text>", ">dynamic</text>", "per-tensor", "per-channel"})
    EXPECT_TRUE(contains(svg, text)) << text;
  std::smatch size;
  ASSERT_TRUE(std::regex_search(svg, size, std::regex("width=\"([0-9.]+)\" height=\"([0-9.]+)\"")));
  const double width = std::stod(size[1]), height = std::stod(size[2]);
  const std::regex coordinate("\\b(cx|cy|x|y|x1|x2|y1|y2)=\"(-?[0-9.]+)\"");
  std::size_t marks = 0;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), coordinate); it != std::sregex_iterator(); ++it) {
    const std::string axis = (*it)[1];
    const double v = std::stod((*it)[2]);
    EXPECT_GE(v, 0.0) << it->str();
    EXPECT_LE(v, axis[0] == 'x' || axis == "cx" ? width : height) << it->str();
    ++marks;
  }
  // 2 formats drawn x (6 per-tensor + 3 per-channel observers) x 2 symmetries, two markers each.
  EXPECT_GT(marks, 2u * 9 * 2 * 2);
  if (std::system("command -v rsvg-convert >/dev/null 2>&1") != 0) GTEST_SKIP() << "rsvg-convert is not installed";
  EXPECT_EQ(std::system(("rsvg-convert -o '" + out + "/plot.png' '" + out + "/sqnr_vs_bytes.svg'").c_str()), 0);
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

TEST(CompareDataset, SyntheticSetIsDeterministicWithDeadChannelsSpreadAndLinks) {
  const Dataset a = synthetic_dataset(), b = synthetic_dataset();
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  int dead = 0, weights = 0, linked = 0;
  double widest_spread = 0;
  for (std::size_t k = 0; k < a.tensors.size(); ++k) {
    EXPECT_EQ(a.tensors[k].data, b.tensors[k].data);
    const Tensor& t = a.tensors[k];
    if (t.linked >= 0) {
      ++linked;
      EXPECT_EQ(a.linked[t.linked].name, t.link);
    }
    if (t.role != "weight") continue;
    ++weights;
    // Channel absmax along the channel axis (row-major).
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
  EXPECT_EQ(weights, 9);
  EXPECT_EQ(linked, 12);  // six inputs, and their six consumers
  EXPECT_GE(dead, 5);
  EXPECT_GT(widest_spread, 300.0);
}

// ---------------------------------------------------------------------------
// The command line

TEST(CompareCli, HelpExplainsTheOptions) {
  const CliRun r = run_cli({"--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* option :
       {"--formats", "--schemes", "--scale", "--zero-point", "--observers", "--target-db", "--limit", "--threads",
        "--no-speed", "--out", "--write-weights", "index.json", "safetensors"})
    EXPECT_TRUE(contains(r.out, option)) << option;
}

TEST(CompareCli, MissingFolder) {
  const CliRun r = run_cli({"/nonexistent/eigenq/folder", "--no-speed"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "/nonexistent/eigenq/folder: no such directory")) << r.err;
}

TEST(CompareCli, WrongOptionValuesAreUsageErrors) {
  struct Bad {
    std::vector<std::string> args;
    std::string message;
  };
  for (const Bad& b : std::vector<Bad>{
           {{"--dtype", "int7"},
            "--dtype: unknown dtype 'int7' (expected int8, uint8, int4, uint4, int2, e4m3, e5m2, mxfp8, mxfp6, "
            "mxfp4, mxint8, nvfp4)"},
           {{"--formats", "fp8"}, "--formats: unknown format 'fp8'"},
           {{"--symmetry", "skew"}, "--symmetry: unknown value 'skew' (expected asym, sym, sym-narrow)"},
           {{"--schemes", "per-row"}, "unknown scheme 'per-row'"},
           {{"--schemes", "block0"}, "block size"},
           {{"--schemes", "g0"}, "--schemes g0: block size 0: expected an integer in [1, "},
           {{"--scale", "f8"}, "--scale: unknown scale format 'f8' (expected auto, f32, f16, bf16, e8m0)"},
           {{"--zero-point", "3"}, "--zero-point: unknown zero-point width '3' (expected auto, 32, 8, 4, 2)"},
           {{"--observers", "kl"},
            "--observers: unknown observer 'kl' (expected minmax, moving-average, l2, "
            "percentile, mse, dynamic)"},
           {{"--percentile", "20"}, "--percentile 20: expected a number in [50, 100]"},
           {{"--target-db", "thirty"}, "--target-db thirty: expected a number"},
           {{"--limit", "x"}, "--limit x: expected an integer in [1, 9223372036854775807]"},
           {{"--limit"}, "--limit: missing value"},
           {{"--frobnicate"}, "unknown option --frobnicate"},
           {{"--formats", "int8", "--symmetry", "asym", "--zero-point", "4"}, "no scheme left to compare"}}) {
    const CliRun r = run_cli(b.args);
    EXPECT_EQ(r.code, 2) << b.args[0];
    EXPECT_TRUE(contains(r.err, b.message)) << r.err;
  }
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

  write_file(dir + "/index.json", R"({"tensors": [{"name": "a", "file": "a.npy", "op": "Conv", "strides": [0, 1]}]})");
  r = run_cli({dir, "--no-speed"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "\"tensors\"[0] ('a'): \"strides\" is not a list of 2 integers >= 1")) << r.err;

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
  EXPECT_TRUE(contains(r.err, "1 files or checkpoint tensors not in the index")) << r.err;
  EXPECT_TRUE(contains(r.out, "2 tensors")) << r.out;
}

TEST(CompareCli, OutputsAreCompleteAndTheSyntheticFolderRoundTrips) {
  // The synthetic set written as .npy + index.json and read back must give
  // the same results as the built-in set, layer outputs and activations
  // included.
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
  EXPECT_EQ(read_file(a + "/plan.csv"), read_file(b + "/plan.csv"));

  // 9 weights x 6 schemes x 3 formats x 2 symmetries, 6 activations x 3
  // formats x (6 per-tensor + 3 per-channel observers), plus the header.
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 9 * 36 + 6 * 27);
  Json json;
  ASSERT_TRUE(read_json(a + "/summary.json", &json).is_ok());
  ASSERT_TRUE(json.get("summary") && json.get("summary")->is_array());
  EXPECT_EQ(json.get("summary")->items.size(), 36u + 27u);
  ASSERT_TRUE(json.get("tensors") && json.get("tensors")->is_array());
  EXPECT_EQ(json.get("tensors")->items.size(), 15u);
  EXPECT_EQ(json.get("tensors")->items[0].get_string("block_shape"), "32x27");
  ASSERT_TRUE(json.get("decision") && json.get("decision")->get("mixed"));
  const std::string text = read_file(a + "/summary.txt");
  for (const char* part : {"int8    per-channel  asym  f32+zp8", "Activations (parameters from calibration batches",
                           "mixed plan: ", "best uniform scheme: ", "Pareto front", "most sensitive weights"})
    EXPECT_TRUE(contains(text, part)) << part;
  // plan.csv ranks every weight once; pareto.csv marks the front.
  const std::string plan = read_file(a + "/plan.csv");
  EXPECT_EQ(std::count(plan.begin(), plan.end(), '\n'), 1 + 9);
  EXPECT_TRUE(contains(read_file(a + "/pareto.csv"), ",uniform,"));
  EXPECT_FALSE(fs::exists(a + "/results.csv.tmp"));
}

// The synthetic set holds tensors above one task (64Ki elements), so the
// kernels and observers really are cut: every output file is the same
// bytes at 1 and 3 threads; only the header's thread count differs.
TEST(CompareCli, ThreadsChangeNothingButTheThreadCount) {
  std::string outputs[2];
  const std::string threads[2] = {"1", "3"};
  for (int i = 0; i < 2; ++i) {
    const std::string dir = temp_dir("threads" + threads[i]);
    const CliRun r = run_cli({"--no-speed", "--quiet", "--threads", threads[i], "--out", dir});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(contains(r.out, i == 0 ? " on 1 thread," : " on 3 threads,")) << r.out;
    for (const char* file : {"results.csv", "summary.csv", "plan.csv", "pareto.csv", "summary.md"})
      outputs[i] += read_file(dir + "/" + file);
  }
  EXPECT_GT(outputs[0].size(), 10000u);
  EXPECT_TRUE(outputs[0] == outputs[1]);
}

TEST(CompareCli, TargetChangesThePlan) {
  const CliRun low = run_cli({"--no-speed", "--target-db", "10"}), high = run_cli({"--no-speed", "--target-db", "40"});
  ASSERT_EQ(low.code, 0) << low.err;
  ASSERT_EQ(high.code, 0) << high.err;
  EXPECT_TRUE(contains(low.out, "every weight's SQNR >= 10.0 dB")) << low.out;
  EXPECT_TRUE(contains(high.out, "every weight's SQNR >= 40.0 dB")) << high.out;
  auto bytes = [](const std::string& out) {
    const std::size_t at = out.find("mixed plan: ");
    return std::stod(out.substr(at + 12));
  };
  EXPECT_LT(bytes(low.out), bytes(high.out));
}

TEST(CompareCli, WriteWeightsWritesEverySchemeAndThePlan) {
  const std::string dir = temp_dir("write_weights");
  const CliRun r = run_cli({kData + "/layers/weights", "--no-speed", "--quiet", "--formats", "int4", "--schemes",
                            "per-channel,g16", "--symmetry", "sym", "--write-weights", dir});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* folder : {"int4_per-channel_sym_f32", "int4_g16_sym_f16", "plan"}) {
    Json index;
    ASSERT_TRUE(read_json(dir + "/" + folder + "/index.json", &index).is_ok()) << folder;
    EXPECT_EQ(index.get("tensors")->items.size(), 8u) << folder;
  }
  // The written tensor is the dequantized weight the table measured.
  npy::Array a;
  ASSERT_TRUE(npy::read(dir + "/int4_g16_sym_f16/conv_s2.npy", &a).is_ok());
  npy::Array w;
  ASSERT_TRUE(npy::read(kData + "/layers/weights/conv_s2.npy", &w).is_ok());
  Tensor t = make_tensor(w.values<float>(), w.shape(), 0);
  std::vector<float> y;
  Result res;
  ASSERT_TRUE(evaluate_weight(t, scheme("int4", Granularity::kBlocked, 16, Mode::kSym), nullptr, SpeedOptions{false},
                              one_thread(), &res, &y)
                  .is_ok());
  EXPECT_EQ(a.values<float>(), y);

  // --write-plan: the mixed plan alone.
  const std::string plan = temp_dir("write_plan");
  const CliRun p = run_cli({kData + "/layers/weights", "--no-speed", "--quiet", "--formats", "int4", "--schemes",
                            "per-channel,g16", "--symmetry", "sym", "--write-plan", plan});
  ASSERT_EQ(p.code, 0) << p.err;
  std::vector<std::string> folders;
  for (const auto& e : fs::directory_iterator(plan)) folders.push_back(e.path().filename().string());
  EXPECT_EQ(folders, std::vector<std::string>{"plan"});
}

TEST(CompareCli, LimitAndSelection) {
  const CliRun r = run_cli({"--no-speed", "--limit", "2", "--dtype", "int4", "--schemes", "per-channel,block64",
                            "--symmetry", "asym", "--scale", "bf16"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "2 tensors")) << r.out;
  EXPECT_TRUE(contains(r.out, "int4    g64          asym  bf16+zp4")) << r.out;
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
