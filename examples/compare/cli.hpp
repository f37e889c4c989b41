#pragma once
// eigenq-compare's command line: options, the run over tensors × schemes,
// the decision, and the outputs. `run` takes its arguments and streams so
// the tests can drive it; main.cpp only forwards argv.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <ostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "dataset.hpp"
#include "decide.hpp"
#include "eigenq/config.hpp"
#include "eigenq/numerics.hpp"
#include "evaluate.hpp"
#include "plot.hpp"
#include "report.hpp"
#include "synthetic.hpp"

namespace eigenq::compare {

inline const char* kUsage = R"(usage: eigenq-compare [DIR | FILE.safetensors] [options]

Which quantization scheme for this model? Quantizes every weight with every
scheme (format x granularity x symmetry, with its scales and zero points
stored as an engine stores them), dequantizes, and reports the error of the
weight and of its layer's output, the bytes as stored and the quantize /
dequantize speed; quantizes activations with parameters each observer chose
on calibration batches and scores them on a held-out batch; then decides:
the cheapest scheme per weight that keeps its SQNR >= --target-db (the
mixed plan) against the best single scheme, the Pareto front of bytes
against the worst weight's SQNR, and the most sensitive weights.

  DIR               a folder of .npy float32 (or float64) tensors and
                    .safetensors checkpoints (F32, F16, BF16; F64 converted),
                    or one checkpoint. Without it, a built-in synthetic set
                    of weights and layer inputs is used. An index.json in DIR
                    (or in its parent) describes the tensors: "tensors" /
                    "activations" lists of objects with "file" (relative to
                    the index; a checkpoint's tensor by "tensor"), "out_axis"
                    (weights), "channel_axis" (activations) or "axis";
                    optional "name", "role" ("bias" entries are skipped),
                    "shape" (checked), and for the layer output a weight's
                    "op" (Conv, MatMul), "group", "strides", "pads",
                    "dilations" (ONNX's) and "activation" (the name of its
                    input's entry; or "layer_input" matching an activation's
                    "onnx_tensor"). Listed files below DIR are read; listed
                    inputs of its weights are read wherever they are.
                    Without an index every tensor is a weight with its output
                    channel on axis 0; checkpoint tensors of rank 0 or 1
                    (biases, norm scales) are skipped.

options:
  --formats LIST    element formats: int8,uint8,int4,uint4,int2, and the
                    floating-point e4m3,e5m2 (FP8, a scale per group from
                    its largest magnitude), mxfp8,mxfp6,mxfp4,mxint8 (OCP
                    MX: blocks of 32, E8M0 scales), nvfp4 (blocks of 16,
                    E4M3 scales and a float32 per tensor); default
                    int8,int4,int2 (--dtype is the same option). 4-bit
                    integers are packed two per byte, int2 four per byte;
                    floating-point elements are counted at their bits.
                    Floating-point formats are symmetric and weights only;
                    MX and NVFP4 take their own block size.
  --schemes LIST    per-tensor,per-channel,g32,g64,g128,per-element (the
                    default; any gN, or blockN, is accepted). Activations
                    take the per-tensor and per-channel ones.
  --symmetry LIST   weights: asym,sym,sym-narrow (default asym,sym).
                    Symmetric stores no zero point; sym follows PyTorch
                    (int8: scale absmax/127.5 over [-128,127]), sym-narrow
                    drops the lowest level (int8: absmax/127 over [-127,127]).
  --act-symmetry LIST  the same for activations (default asym)
  --scale LIST      how scales are stored: auto,f32,f16,bf16,e8m0 (default
                    auto: f16 for gN, f32 otherwise). f16 and bf16 round to
                    nearest; e8m0 (a power of two) rounds up. Quantization
                    uses the stored scale.
  --zero-point LIST bits of an asymmetric zero point: auto,32,8,4,2 (default
                    auto: the element's own width, packed); a width narrower
                    than the element leaves that format out
  --observers LIST  activations: minmax,moving-average,l2,percentile,mse,
                    dynamic (default: all). l2, percentile and mse clip a
                    histogram (per tensor only); dynamic takes the range of
                    the scored batch itself.
  --percentile P    the percentile observer's, in [50, 100] (99.99)
  --target-db T     the SQNR every weight must keep in the mixed plan (40).
                    Errors add up over the layers: on PP-OCRv4's 111
                    weights the detection map kept 10 to 15 dB less than
                    the target, and 40 dB was the lowest target that kept
                    the recognized text as float reads it.
  --limit N         compare only the first N tensors
  --threads N       run the kernels and observers on N threads, 1 to 1024
                    (default: every core). Results are the same bits at
                    every N; the throughput is measured on N threads.
  --no-speed        skip the throughput measurement (error and bytes only)
  --reps N          timed repetitions per measurement, 1 to 1000; the fastest
                    counts (3)
  --out DIR         write into DIR the summary (summary.txt, .md, .csv and
                    .json), every tensor's results (results.csv), the mixed
                    plan with the sensitivity ranking (plan.csv), every plan
                    and the Pareto front (pareto.csv) and the plot
                    (sqnr_vs_bytes.svg; with activations only, their SQNR
                    by observer): all of them or, when one cannot be
                    written, none
  --write-weights DIR
                    also write every weight dequantized under every scheme,
                    and under the mixed plan, as DIR/<scheme>/<name>.npy with
                    an index.json in each folder (for end-to-end runs)
  --write-plan DIR  the same for the mixed plan only (DIR/plan)
  --write-synthetic DIR
                    write the synthetic set as .npy files + index.json, and exit
  --progress        show progress on stderr even when it is not a terminal
  --quiet           no progress and no notes on stderr
  -h, --help        this text

Schemes: per-channel uses the channel axis; gN groups N consecutive elements
along the reduction axis of the product the tensor feeds (weights: the
input-channel x kernel axes merged, [Cout, K]; activations: the channel
axis), as GPTQ/AWQ groups do; per-element chooses a scale and zero point for
every element (exact but costly: more metadata than data). Parameters follow
PyTorch's observer rules (min/max, zero always exact), then the scale is
rounded to its stored format and the zero point chosen again for it.

Layer output: W·x without the bias, convolutions by im2col (groups, strides,
pads and dilations from the index; without them stride 1 and "same"
padding), MatMul as x·W. Its SQNR is what the decision uses where the input
is known; elsewhere the weight's own SQNR.

Activations: with two or more samples on axis 0 the last is held out and
the others, each cut into 4 stripes along its longest spatial or token axis,
are the calibration batches; with one sample, its stripes, the last held
out. The consumer's layer output on the held-out batch is scored too (float
weights).

Throughput is GB/s of float32 data (quantize reads 4 bytes per element,
dequantize writes 4), the fastest of --reps timed batches, measured in this
run on the kernel path compiled in; "vs p-t" is the ratio to per-tensor.

A file or index entry that cannot be used (unreadable, not a float tensor,
non-finite values, a bad axis or shape, a checkpoint whose header does not
match its data, parameters no scale can represent) is reported on stderr,
one line each, and left out; the others are still compared, and the summary
says how many were left out.

Exit status: 0 on success; 1 if any file, index entry or tensor could not be
used (the others are still compared and written), or nothing could be
compared; 2 on a usage error.
)";

struct Options {
  std::string dir;  ///< empty: the synthetic set
  std::string index;
  std::vector<const Format*> formats = {find_format("int8"), find_format("int4"), find_format("int2")};
  std::vector<std::pair<Granularity, std::int64_t>> granularities = {
      {Granularity::kPerTensor, 0}, {Granularity::kPerAxis, 0},   {Granularity::kBlocked, 32},
      {Granularity::kBlocked, 64},  {Granularity::kBlocked, 128}, {Granularity::kPerElement, 0}};
  std::vector<Mode> modes = {Mode::kAsym, Mode::kSym};
  std::vector<Mode> act_modes = {Mode::kAsym};
  std::vector<ScaleFormat> scales = {ScaleFormat::kAuto};
  std::vector<int> zero_bits = {kZeroBitsAuto};
  std::vector<Observer> observers = {Observer::kMinMax,     Observer::kMovingAverage, Observer::kL2,
                                     Observer::kPercentile, Observer::kMse,           Observer::kDynamic};
  double percentile = 99.99;
  double target_db = 40.0;
  std::int64_t limit = 0;
  SpeedOptions speed;
  int threads = ThreadPoolExecutor::default_threads();
  std::string out;
  std::string write_weights;
  bool plan_only = false;  ///< --write-plan: write the mixed plan's weights only
  std::string write_synthetic;
  bool progress = false;  ///< set by main when stderr is a terminal
  bool quiet = false;
  bool help = false;
};

namespace detail {

inline std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

inline Status usage_error(const std::string& what) {
  return eigenq::detail::error(StatusCode::kInvalidArgument, what, " (see --help)");
}

/// A decimal integer in [min, max], digits only: a value out of range is
/// refused, never clamped.
inline Status parse_count(const std::string& option, const std::string& text, std::int64_t min, std::int64_t max,
                          std::int64_t* out) {
  std::int64_t v = 0;
  bool ok = !text.empty();
  for (char c : text) {
    if (c < '0' || c > '9' || v > (max - (c - '0')) / 10) {
      ok = false;
      break;
    }
    v = v * 10 + (c - '0');
  }
  if (!ok || v < min)
    return usage_error(option + " " + text + ": expected an integer in [" + std::to_string(min) + ", " +
                       std::to_string(max) + "]");
  *out = v;
  return Status::ok();
}

/// A decimal number in [min, max] (the whole text: "30", "27.5").
inline Status parse_number(const std::string& option, const std::string& text, double min, double max, double* out) {
  std::istringstream in(text);
  in.imbue(std::locale::classic());
  double v = 0;
  if (text.empty() || !(in >> v) || in.peek() != EOF || !(v >= min && v <= max))
    return usage_error(option + " " + text + ": expected a number in [" + fmt(min, 0) + ", " + fmt(max, 0) + "]");
  *out = v;
  return Status::ok();
}

/// A comma-separated list of names from `names` (each with its value),
/// e.g. --symmetry asym,sym. Unknown or empty lists are usage errors that
/// list what is accepted.
template <class T>
Status parse_list(const std::string& option, const std::string& text, const char* what,
                  const std::vector<std::pair<std::string, T>>& names, std::vector<T>* out) {
  std::vector<T> values;
  for (const std::string& item : split_list(text)) {
    auto it = std::find_if(names.begin(), names.end(), [&](const auto& n) { return n.first == item; });
    if (it == names.end()) {
      std::string expected;
      for (std::size_t i = 0; i < names.size(); ++i)
        if (i == 0 || names[i].second != names[i - 1].second)  // aliases follow their name
          expected += (expected.empty() ? "" : ", ") + names[i].first;
      return usage_error(option + ": unknown " + what + " '" + item + "' (expected " + expected + ")");
    }
    values.push_back(it->second);
  }
  if (values.empty()) return usage_error(option + ": empty list");
  *out = std::move(values);
  return Status::ok();
}

inline Status parse_schemes(const std::string& text, std::vector<std::pair<Granularity, std::int64_t>>* out) {
  std::vector<std::pair<Granularity, std::int64_t>> values;
  for (const std::string& s : split_list(text)) {
    if (s == "per-tensor") {
      values.emplace_back(Granularity::kPerTensor, 0);
    } else if (s == "per-channel") {
      values.emplace_back(Granularity::kPerAxis, 0);
    } else if (s == "per-element") {
      values.emplace_back(Granularity::kPerElement, 0);
    } else if (s.rfind("block", 0) == 0 || s.rfind("g", 0) == 0) {
      std::int64_t b = 0;
      EIGENQ_RETURN_IF_ERROR(parse_count("--schemes " + s + ": block size", s.substr(s[0] == 'g' ? 1 : 5), 1,
                                         std::numeric_limits<std::int64_t>::max(), &b));
      values.emplace_back(Granularity::kBlocked, b);
    } else {
      return usage_error("--schemes: unknown scheme '" + s +
                         "' (expected per-tensor, per-channel, gN such as g32 (or blockN), per-element)");
    }
  }
  if (values.empty()) return usage_error("--schemes: empty list");
  *out = std::move(values);
  return Status::ok();
}

inline const std::vector<std::pair<std::string, Mode>>& mode_names() {
  static const std::vector<std::pair<std::string, Mode>> names = {
      {"asym", Mode::kAsym}, {"asymmetric", Mode::kAsym}, {"affine", Mode::kAsym},
      {"sym", Mode::kSym},   {"symmetric", Mode::kSym},   {"sym-narrow", Mode::kSymNarrow}};
  return names;
}

}  // namespace detail

/// Parses arguments (without the program name).
inline Status parse_args(const std::vector<std::string>& args, Options* opt) {
  using detail::usage_error;
  std::vector<std::pair<std::string, const Format*>> format_names;
  for (const Format& f : formats()) format_names.emplace_back(f.name, &f);
  const std::vector<std::pair<std::string, ScaleFormat>> scale_names = {
      {"auto", ScaleFormat::kAuto},         {"f32", ScaleFormat::kFloat32},     {"float32", ScaleFormat::kFloat32},
      {"f16", ScaleFormat::kFloat16},       {"float16", ScaleFormat::kFloat16}, {"bf16", ScaleFormat::kBFloat16},
      {"bfloat16", ScaleFormat::kBFloat16}, {"e8m0", ScaleFormat::kE8M0}};
  const std::vector<std::pair<std::string, int>> zero_names = {
      {"auto", kZeroBitsAuto}, {"32", 32}, {"int32", 32}, {"8", 8}, {"int8", 8}, {"4", 4}, {"int4", 4}, {"2", 2}};
  std::vector<std::pair<std::string, Observer>> observer_names;
  for (Observer o : Options().observers) observer_names.emplace_back(observer_name(o), o);

  // Options that take a value, by name (aliases share the handler).
  using Handler = std::function<Status(const std::string& option, const std::string& value)>;
  const std::vector<std::pair<std::vector<std::string>, Handler>> valued = {
      {{"--formats", "--format", "--dtype", "--dtypes"},
       [&](const std::string& o, const std::string& v) {
         return detail::parse_list(o, v, o.rfind("--dtype", 0) == 0 ? "dtype" : "format", format_names, &opt->formats);
       }},
      {{"--schemes", "--scheme"},
       [&](const std::string&, const std::string& v) { return detail::parse_schemes(v, &opt->granularities); }},
      {{"--symmetry"},
       [&](const std::string& o, const std::string& v) {
         return detail::parse_list(o, v, "value", detail::mode_names(), &opt->modes);
       }},
      {{"--act-symmetry"},
       [&](const std::string& o, const std::string& v) {
         return detail::parse_list(o, v, "value", detail::mode_names(), &opt->act_modes);
       }},
      {{"--scale", "--scales"},
       [&](const std::string& o, const std::string& v) {
         return detail::parse_list(o, v, "scale format", scale_names, &opt->scales);
       }},
      {{"--zero-point", "--zero-points"},
       [&](const std::string& o, const std::string& v) {
         return detail::parse_list(o, v, "zero-point width", zero_names, &opt->zero_bits);
       }},
      {{"--observers", "--observer"},
       [&](const std::string& o, const std::string& v) {
         return detail::parse_list(o, v, "observer", observer_names, &opt->observers);
       }},
      {{"--percentile"},
       [&](const std::string& o, const std::string& v) {
         return detail::parse_number(o, v, 50, 100, &opt->percentile);
       }},
      {{"--target-db"},
       [&](const std::string& o, const std::string& v) {
         return detail::parse_number(o, v, -1000, 1000, &opt->target_db);
       }},
      {{"--limit"},
       [&](const std::string& o, const std::string& v) {
         return detail::parse_count(o, v, 1, std::numeric_limits<std::int64_t>::max(), &opt->limit);
       }},
      {{"--reps"},
       [&](const std::string& o, const std::string& v) {
         std::int64_t reps = 0;
         EIGENQ_RETURN_IF_ERROR(detail::parse_count(o, v, 1, 1000, &reps));
         opt->speed.repetitions = static_cast<int>(reps);
         return Status::ok();
       }},
      {{"--threads"},
       [&](const std::string& o, const std::string& v) {
         std::int64_t threads = 0;
         EIGENQ_RETURN_IF_ERROR(detail::parse_count(o, v, 1, 1024, &threads));
         opt->threads = static_cast<int>(threads);
         return Status::ok();
       }},
      {{"--index"}, [&](const std::string&, const std::string& v) { return (opt->index = v, Status::ok()); }},
      {{"--out"}, [&](const std::string&, const std::string& v) { return (opt->out = v, Status::ok()); }},
      {{"--write-weights", "--write-plan"},
       [&](const std::string& o, const std::string& v) {
         opt->plan_only = o == "--write-plan";
         return (opt->write_weights = v, Status::ok());
       }},
      {{"--write-synthetic"},
       [&](const std::string&, const std::string& v) { return (opt->write_synthetic = v, Status::ok()); }},
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const auto handler = std::find_if(valued.begin(), valued.end(), [&](const auto& h) {
      return std::find(h.first.begin(), h.first.end(), a) != h.first.end();
    });
    if (handler != valued.end()) {
      if (i + 1 >= args.size()) return usage_error(a + ": missing value");
      EIGENQ_RETURN_IF_ERROR(handler->second(a, args[++i]));
    } else if (a == "-h" || a == "--help") {
      opt->help = true;
    } else if (a == "--no-speed") {
      opt->speed.enabled = false;
    } else if (a == "--progress") {
      opt->progress = true;
    } else if (a == "--quiet") {
      opt->quiet = true;
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("unknown option " + a);
    } else if (opt->dir.empty()) {
      opt->dir = a;
    } else {
      return usage_error("more than one folder given: " + opt->dir + " and " + a);
    }
  }
  if (!opt->index.empty() && opt->dir.empty()) return usage_error("--index needs a folder");
  return Status::ok();
}

// ---------------------------------------------------------------------------
// The schemes a run compares

/// Every combination of the options' formats, granularities, symmetries
/// and metadata formats, each once (symmetric schemes store no zero point,
/// so their zero-point widths collapse); a combination whose zero point
/// cannot hold the format's levels is left out and counted in `narrow`.
/// `activations` keeps per-tensor and per-channel only.
inline std::vector<Scheme> schemes_of(const Options& opt, const std::vector<Mode>& modes, bool activations,
                                      std::size_t* narrow) {
  std::vector<Scheme> out;
  for (const Format* f : opt.formats) {
    if (activations && f->symmetric_only()) continue;  // activations: the integer formats
    // Floating-point formats have one mode; block formats one granularity.
    const std::vector<Mode> own_modes = f->symmetric_only() ? std::vector<Mode>{Mode::kSym} : modes;
    const std::vector<std::pair<Granularity, std::int64_t>> own_granularities =
        f->block ? std::vector<std::pair<Granularity, std::int64_t>>{{Granularity::kBlocked, f->block}}
                 : opt.granularities;
    for (Mode mode : own_modes)
      for (const auto& [granularity, block] : own_granularities) {
        if (activations && granularity != Granularity::kPerTensor && granularity != Granularity::kPerAxis) continue;
        for (ScaleFormat scale : opt.scales)
          for (int zero : opt.zero_bits) {
            Scheme s;
            s.format = f;
            s.granularity = granularity;
            s.block = block;
            s.mode = mode;
            if (!resolve_metadata(&s, scale, zero)) {
              ++*narrow;
              continue;
            }
            if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
          }
      }
  }
  return out;
}

inline std::vector<ActScheme> act_schemes_of(const Options& opt, std::size_t* narrow) {
  std::vector<ActScheme> out;
  for (const Scheme& s : schemes_of(opt, opt.act_modes, true, narrow))
    for (Observer o : opt.observers)
      if (s.granularity == Granularity::kPerTensor || !observer_per_tensor_only(o)) out.push_back({s, o});
  return out;
}

namespace detail {

inline std::string command_line(const std::vector<std::string>& args) {
  std::string s = "eigenq-compare";
  for (const std::string& a : args) s += " " + a;
  return s;
}

/// A scheme's folder name under --write-weights: "int4_g32_asym_f16+zp4".
inline std::string folder_of(const std::string& scheme) {
  std::string out;
  for (char c : scheme) out += c == ' ' || c == '/' || c == ',' || c == '>' || c == '=' ? '_' : c;
  return out;
}

}  // namespace detail

/// A status message without the library's "eigenq: " prefix.
inline std::string message_of(const Status& s) {
  const std::string& m = s.message();
  return m.rfind("eigenq: ", 0) == 0 ? m.substr(8) : m;
}

/// Writes every weight dequantized under each scheme (unless `plan_only`)
/// and under the mixed plan, one folder each with an index.json of name,
/// file, axis and scheme. Tensors are read once more, one at a time.
inline Status write_weights(const std::string& dir, bool plan_only, Measurements& m, ThreadPoolExecutor& pool) {
  std::vector<std::string> folders, indexes(m.schemes.size() + 1);
  for (const Scheme& s : m.schemes) folders.push_back(plan_only ? "" : detail::folder_of(s.name()));
  folders.push_back("plan");
  const Costs& c = m.costs;
  for (std::size_t row = 0; row < c.tensors(); ++row) {
    Tensor& t = m.tensors[c.tensor[row]];
    EIGENQ_RETURN_IF_ERROR(reload(&t));
    std::vector<std::vector<float>> ys(m.schemes.size());
    for (std::size_t s = 0; s < m.schemes.size(); ++s) {
      Result r;
      EIGENQ_RETURN_IF_ERROR(evaluate_weight(t, m.schemes[s], nullptr, SpeedOptions{false}, pool, &r, &ys[s]));
    }
    const int chosen = m.decision.mixed.choice[row];
    const std::string file = file_name_of(t.name);
    for (std::size_t k = 0; k < folders.size(); ++k) {
      if (folders[k].empty()) continue;
      const std::vector<float>& y = k < ys.size() ? ys[k] : chosen == Plan::kFloat ? t.data : ys[chosen];
      const fs::path folder = fs::path(dir) / folders[k];
      std::error_code ec;
      fs::create_directories(folder, ec);
      if (ec) return eigenq::detail::error(StatusCode::kIoError, folder.string(), ": cannot create: ", ec.message());
      EIGENQ_RETURN_IF_ERROR(npy::write((folder / file).string(), y.data(), t.shape));
      indexes[k] += std::string(indexes[k].empty() ? "" : ",\n") + "  {\"name\": " + json_string(t.name) +
                    ", \"file\": " + json_string(file) + ", \"out_axis\": " + std::to_string(t.channel_axis) +
                    ", \"scheme\": " +
                    json_string(k < ys.size()            ? m.schemes[k].name()
                                : chosen == Plan::kFloat ? "float32"
                                                         : m.schemes[chosen].name()) +
                    "}";
    }
    release(&t);
  }
  for (std::size_t k = 0; k < folders.size(); ++k)
    if (!folders[k].empty())
      EIGENQ_RETURN_IF_ERROR(detail::write_files((fs::path(dir) / folders[k]).string(),
                                                 {{"index.json", "{\"tensors\": [\n" + indexes[k] + "\n]}\n"}}));
  return Status::ok();
}

/// Runs the tool with parsed options; returns the exit status. `args` is
/// recorded in the outputs as the command.
inline int run_with(const Options& opt, const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                    bool err_is_terminal) {
  if (opt.help) {
    out << kUsage;
    return 0;
  }
  ThreadPoolExecutor pool(opt.threads);
  // Every message is one line, whatever bytes the names in it hold.
  std::vector<std::string> problems;
  auto report = [&](const Status& s) {
    problems.push_back(one_line(message_of(s)));
    err << "eigenq-compare: " << problems.back() << "\n";
  };
  auto fail = [&](const Status& s) {
    err << "eigenq-compare: " << one_line(message_of(s)) << "\n";
    return 1;
  };
  auto note = [&](const std::string& n) {
    if (!opt.quiet) err << "note: " << one_line(n) << "\n";
  };
  if (!opt.write_synthetic.empty()) {
    const Dataset data = synthetic_dataset();
    if (Status s = write_folder(data, opt.write_synthetic); !s.is_ok()) return fail(s);
    out << "wrote " << data.tensors.size() << " synthetic tensors and index.json to " << opt.write_synthetic << "\n";
    return 0;
  }

  Measurements m;
  std::size_t narrow = 0;
  m.schemes = schemes_of(opt, opt.modes, false, &narrow);
  m.act_schemes = act_schemes_of(opt, &narrow);
  if (narrow) note(std::to_string(narrow) + " combinations left out: their zero point is narrower than the element");
  if (m.schemes.empty()) {
    err << "eigenq-compare: "
        << message_of(detail::usage_error("no scheme left to compare: widen --zero-point or choose other --formats"))
        << "\n";
    return 2;
  }

  Dataset data;
  if (opt.dir.empty()) {
    data = synthetic_dataset();
    if (opt.limit > 0 && static_cast<std::int64_t>(data.tensors.size()) > opt.limit) data.tensors.resize(opt.limit);
  } else {
    std::vector<std::string> notes;
    std::vector<Status> unusable;
    const Status s = load_folder({opt.dir, opt.index, opt.limit, /*keep_data=*/false}, &data, &notes, &unusable);
    for (const Status& p : unusable) report(p);
    for (const std::string& n : notes) note(n);
    if (!s.is_ok()) return fail(s);
  }

  // A tensor that fails (its file changed, or no usable parameters) is left
  // out of every result; the others go on. A layer input that cannot be
  // used is a problem too, but its weight is still compared.
  const bool progress = !opt.quiet && (opt.progress || err_is_terminal);
  std::int64_t elements = 0;
  for (std::size_t i = 0; i < data.tensors.size(); ++i) {
    Tensor& t = data.tensors[i];
    if (progress) {
      err << (err_is_terminal ? "\r\x1b[K" : "") << "[" << i + 1 << "/" << data.tensors.size() << "] "
          << one_line(t.name) << " (" << shape_text(t.shape) << ")" << (err_is_terminal ? "" : "\n");
      err.flush();
    }
    if (Status s = reload(&t); !s.is_ok()) {
      report(s);
      continue;
    }
    const std::string who = t.file.empty() ? "tensor '" + t.name + "'" : t.file + " (tensor '" + t.name + "')";
    Tensor other;  // the tensor across the layer, with its values
    bool linked = t.linked >= 0;
    if (linked) {
      if (Status s = load_linked(data.linked[t.linked], &other); !s.is_ok()) {
        report(eigenq::detail::with_context(s, who + ": its layer " + (t.role == "weight" ? "input" : "consumer")));
        linked = false;
      }
    }
    const bool weight = t.role != "activation";
    std::vector<Result> mine;
    Status failed;
    std::string failed_at;
    // Every scheme in turn until one fails: measure(k, &result) fills row k.
    auto each_scheme = [&](const auto& schemes, auto&& measure) {
      for (std::size_t k = 0; k < schemes.size() && failed.is_ok(); ++k) {
        Result r;
        r.tensor = m.tensors.size();
        r.scheme = k;
        failed = measure(k, &r);
        if (failed.is_ok()) mine.push_back(r);
        failed_at = schemes[k].name();
      }
    };
    if (weight) {
      LayerReference layer;
      if (linked) {
        if (Status s = layer_reference(t, other, &layer); !s.is_ok()) {
          report(eigenq::detail::with_context(s, who + ": layer output"));
          linked = false;
        }
      }
      each_scheme(m.schemes, [&](std::size_t k, Result* r) {
        return evaluate_weight(t, m.schemes[k], linked ? &layer : nullptr, opt.speed, pool, r);
      });
    } else {
      Split split;
      if (Status s = split_activation(t, &split); !s.is_ok()) {
        note(message_of(s) + ": its activation rows are left out");
      } else {
        LayerReference held_out_layer;
        if (linked) {
          Tensor held_out = t;
          held_out.data = split.held_out;
          held_out.shape = split.held_out_shape;
          if (Status s = layer_reference(other, held_out, &held_out_layer); !s.is_ok()) {
            report(eigenq::detail::with_context(s, who + ": layer output"));
            linked = false;
          }
        }
        each_scheme(m.act_schemes, [&](std::size_t k, Result* r) {
          return evaluate_activation(t, split, m.act_schemes[k], opt.percentile, linked ? &other : nullptr,
                                     linked ? &held_out_layer : nullptr, pool, r);
        });
      }
    }
    release(&t);
    if (!linked) t.linked = -1;  // not measured across the layer after all
    if (!failed.is_ok()) {
      report(eigenq::detail::with_context(failed, who + ", " + failed_at));
      continue;
    }
    elements += t.shape.size();
    (weight ? m.weights : m.activations).insert((weight ? m.weights : m.activations).end(), mine.begin(), mine.end());
    m.tensors.push_back(std::move(t));
  }
  if (progress && err_is_terminal) err << "\r\x1b[K";
  if (m.tensors.empty())
    return fail(eigenq::detail::error(StatusCode::kInvalidArgument, "no tensor could be compared (", problems.size(),
                                      " problems above)"));

  std::vector<std::string> names;
  for (const Scheme& s : m.schemes) names.push_back(s.name());
  m.costs = Costs::from(m.weights, names);
  m.decision = decide(m.costs, opt.target_db);

  const std::vector<SummaryRow> weight_rows = weight_summary(m), act_rows = activation_summary(m);
  const std::string input = opt.dir.empty() ? std::string("built-in synthetic set") : opt.dir;
  const std::size_t weights = m.costs.tensors(), activations = m.tensors.size() - weights;
  std::size_t weights_linked = 0, activations_linked = 0;
  for (const Tensor& t : m.tensors) (t.role == "activation" ? activations_linked : weights_linked) += t.linked >= 0;
  std::ostringstream head;
  head << "eigenq-compare: " << m.tensors.size() << " tensors, " << elements << " elements ("
       << detail::count_text(weights, "weight", "weights") << ", "
       << detail::count_text(activations, "activation", "activations") << "), from " << one_line(input) << "\n";
  if (!problems.empty())
    head << "left out: " << problems.size() << (problems.size() == 1 ? " file or tensor" : " files or tensors")
         << " that could not be used (listed on stderr and in summary.json); exit status 1\n";
  head << "kernel path " << path_name(active_path()) << " on "
       << detail::count_text(pool.threads(), "thread", "threads") << ", numerics " << numerics_name<DefaultNumerics>()
       << "; parameters from min/max (PyTorch's rules), then the scale rounded to its stored format\n"
       << "layer output W·x (no bias): input known for " << weights_linked << " of " << weights
       << " weights, consumer known for " << activations_linked << " of " << activations << " activations\n"
       << (opt.speed.enabled ? "throughput: GB/s of float32 data, fastest of " + std::to_string(opt.speed.repetitions) +
                                   " timed batches per tensor, summed over tensors"
                             : std::string("throughput: not measured (--no-speed)"))
       << "\n\n";
  std::string tables;
  if (!weight_rows.empty()) tables += "Weights\n" + weight_table(weight_rows).text();
  if (!act_rows.empty())
    tables += std::string(tables.empty() ? "" : "\n") +
              "Activations (parameters from calibration batches, scored on a held-out batch)\n" +
              activation_table(act_rows).text();
  if (weights) tables += "\n" + decision_text(m);
  out << head.str() << tables;
  out.flush();

  const int status = problems.empty() ? 0 : 1;
  if (!opt.write_weights.empty() && weights) {
    if (Status s = write_weights(opt.write_weights, opt.plan_only, m, pool); !s.is_ok()) return fail(s);
    if (!opt.quiet)
      err << "wrote the weights under " << (opt.plan_only ? "the mixed plan" : "every scheme and the mixed plan")
          << " to " << one_line(opt.write_weights) << "\n";
  }
  if (opt.out.empty()) return status;
  std::error_code ec;
  std::filesystem::create_directories(opt.out, ec);
  if (ec) return fail(eigenq::detail::error(StatusCode::kIoError, opt.out, ": cannot create: ", ec.message()));
  const std::vector<std::pair<std::string, std::string>> info = {
      {"tool", "eigenq-compare"},
      {"command", detail::command_line(args)},
      {"input", input},
      {"kernel_path", path_name(active_path())},
      {"threads", std::to_string(pool.threads())},
      {"numerics", numerics_name<DefaultNumerics>()},
      {"metadata",
       "scales stored as the scheme says (f32, f16, bf16 rounded to nearest; e8m0 rounded up to a power "
       "of two); asymmetric zero points chosen again for the stored scale, packed at zero_point_bits"},
      {"layer_output",
       "W·x without bias; Conv by im2col with the index's group, strides, pads, dilations (else stride "
       "1, same padding); MatMul as x·W"},
      {"activations",
       "parameters from calibration batches (all samples but the last, each in 4 stripes; or 3 of 4 "
       "stripes of one sample), scored on the held-out batch"},
      {"throughput", "GB/s of float32 data; null when not measured"},
      {"sqnr_null_means", "infinite (dequantized tensor equals the input exactly)"},
      {"per_tensor_results", "results.csv"},
      {"problems_mean", "files, index entries or tensors left out of every result, one message each"}};
  const std::string title = "SQNR vs bytes per element: " + input + " (" + std::to_string(weights) + " weights)";
  std::vector<SummaryRow> all_rows = weight_rows;
  all_rows.insert(all_rows.end(), act_rows.begin(), act_rows.end());
  std::string md = "## Weights\n\n" + weight_table(weight_rows).markdown();
  if (!act_rows.empty()) md += "\n## Activations\n\n" + activation_table(act_rows).markdown();
  const std::vector<std::pair<std::string, std::string>> files = {
      {"summary.txt", head.str() + tables},
      {"summary.md", md},
      {"summary.csv", summary_csv(all_rows)},
      {"results.csv", results_csv(m)},
      {"summary.json", summary_json(info, m, all_rows, problems)},
      {"plan.csv", plan_csv(m)},
      {"pareto.csv", pareto_csv(m.decision)},
      {"sqnr_vs_bytes.svg",
       weights == 0 && !m.activations.empty()
           ? activation_svg("SQNR by observer: " + input + " (" + std::to_string(activations) + " activations)", m)
           : sqnr_svg(title, m)}};
  if (Status s = detail::write_files(opt.out, files); !s.is_ok()) return fail(s);
  if (!opt.quiet)
    err << "wrote " << one_line(opt.out)
        << "/{summary.txt,summary.md,summary.csv,results.csv,summary.json,plan.csv,pareto.csv,sqnr_vs_bytes.svg}\n";
  return status;
}

/// Parses `args` (without the program name) and runs; returns the exit
/// status: 0 ok, 1 unreadable input, 2 usage error.
inline int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
               bool err_is_terminal = false) {
  Options opt;
  if (Status s = parse_args(args, &opt); !s.is_ok()) {
    err << "eigenq-compare: " << message_of(s) << "\n";
    return 2;
  }
  return run_with(opt, args, out, err, err_is_terminal);
}

}  // namespace eigenq::compare
