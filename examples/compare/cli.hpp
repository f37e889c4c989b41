#pragma once
// eigenq-compare's command line: options, the run over tensors ×
// configurations, and the outputs. `run` takes its arguments and streams so
// the tests can drive it; main.cpp only forwards argv.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <ostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "dataset.hpp"
#include "eigenq/config.hpp"
#include "eigenq/numerics.hpp"
#include "evaluate.hpp"
#include "report.hpp"

namespace eigenq::compare {

inline const char* kUsage = R"(usage: eigenq-compare [DIR] [options]

Which quantization scheme should this tensor use? Quantizes every tensor
with every scheme, storage type and symmetry, dequantizes, and reports the
error (SQNR, max abs error), the bytes (data + scales + zero points) and the
quantize / dequantize speed, per tensor and summarized over tensors.

  DIR               a folder of .npy float32 (or float64) tensors. Without it,
                    a built-in synthetic set of weight-like tensors is used.
                    An index.json in DIR (or in its parent) names each
                    tensor's channel axis: a "tensors"/"activations" list of
                    objects with "file" (relative to the index), and
                    "out_axis" (weights), "channel_axis" (activations) or
                    "axis"; optional "name", "role" ("bias" entries are
                    skipped) and "shape" (checked). Listed files that are
                    missing, listed twice or outside DIR are skipped with a
                    note. Without an index every tensor is a weight with its
                    output channel on axis 0. Scalars and empty tensors are
                    skipped.

options:
  --index FILE      use this index.json instead of looking in DIR and DIR/..
  --dtype LIST      storage types, comma-separated: int8,uint8,int4,uint4
                    (default: int8,uint8,int4). int4 [-8,7] and uint4 [0,15]
                    are packed two per byte.
  --schemes LIST    per-tensor,per-channel,block32,block128,per-element
                    (default: all). Any blockN is accepted.
  --symmetry LIST   asym,sym,sym-narrow (default: asym,sym). Symmetric
                    stores no zero point; sym follows PyTorch (int8: scale
                    absmax/127.5 over [-128,127]), sym-narrow drops the
                    lowest level (int8: absmax/127 over [-127,127]).
  --limit N         compare only the first N tensors
  --no-speed        skip the throughput measurement (error and bytes only)
  --reps N          timed repetitions per measurement, 1 to 1000; the fastest
                    counts (3)
  --out DIR         write into DIR the summary (summary.txt, .md, .csv and
                    .json, the latter with each tensor's axes), every
                    tensor's results (results.csv) and the plot of SQNR
                    against bytes per element (sqnr_vs_bytes.svg): all of
                    them or, when one cannot be written, none
  --write-synthetic DIR
                    write the synthetic set as .npy files + index.json, and exit
  --progress        show progress on stderr even when it is not a terminal
  --quiet           no progress and no notes on stderr
  -h, --help        this text

Schemes: per-channel uses the channel axis; blockN groups N consecutive
elements along the reduction axis of the product the tensor feeds (weights:
the input-channel x kernel axes merged, [Cout, K]; activations: the channel
axis), as GPTQ/AWQ groups do; per-element chooses a scale and zero point for
every element (exact but costly: 8 bytes of metadata per element, 4 if
symmetric).
Parameters follow PyTorch's observer rules (min/max, zero always exact).

Throughput is GB/s of float32 data (quantize reads 4 bytes per element,
dequantize writes 4), the fastest of --reps timed batches, measured in this
run on the kernel path compiled in; "vs p-t" is the ratio to per-tensor.

A file or index entry that cannot be used (unreadable, not a float tensor,
non-finite values, a bad axis or shape, parameters no scale can represent)
is reported on stderr, one line each, and left out; the others are still
compared, and the summary says how many were left out.

Exit status: 0 on success; 1 if any file, index entry or tensor could not be
used (the others are still compared and written), or nothing could be
compared; 2 on a usage error.
)";

struct Options {
  std::string dir;  ///< empty: the synthetic set
  std::string index;
  std::vector<DType> dtypes = {DType::kInt8, DType::kUInt8, DType::kInt4};
  std::vector<Scheme> schemes = {{Granularity::kPerTensor, 0},
                                 {Granularity::kPerAxis, 0},
                                 {Granularity::kBlocked, 32},
                                 {Granularity::kBlocked, 128},
                                 {Granularity::kPerElement, 0}};
  std::vector<Mode> modes = {Mode::kAsym, Mode::kSym};
  std::int64_t limit = 0;
  SpeedOptions speed;
  std::string out;
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

}  // namespace detail

/// Parses arguments (without the program name).
inline Status parse_args(const std::vector<std::string>& args, Options* opt) {
  using detail::usage_error;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* v) {
      if (i + 1 >= args.size()) return usage_error(a + ": missing value");
      *v = args[++i];
      return Status::ok();
    };
    std::string v;
    if (a == "-h" || a == "--help") {
      opt->help = true;
    } else if (a == "--dtype" || a == "--dtypes") {
      EIGENQ_RETURN_IF_ERROR(value(&v));
      opt->dtypes.clear();
      for (const std::string& d : detail::split_list(v)) {
        if (d == "int8")
          opt->dtypes.push_back(DType::kInt8);
        else if (d == "uint8")
          opt->dtypes.push_back(DType::kUInt8);
        else if (d == "int4")
          opt->dtypes.push_back(DType::kInt4);
        else if (d == "uint4")
          opt->dtypes.push_back(DType::kUInt4);
        else
          return usage_error("--dtype: unknown dtype '" + d + "' (expected int8, uint8, int4 or uint4)");
      }
      if (opt->dtypes.empty()) return usage_error("--dtype: empty list");
    } else if (a == "--schemes" || a == "--scheme") {
      EIGENQ_RETURN_IF_ERROR(value(&v));
      opt->schemes.clear();
      for (const std::string& s : detail::split_list(v)) {
        if (s == "per-tensor") {
          opt->schemes.push_back({Granularity::kPerTensor, 0});
        } else if (s == "per-channel") {
          opt->schemes.push_back({Granularity::kPerAxis, 0});
        } else if (s == "per-element") {
          opt->schemes.push_back({Granularity::kPerElement, 0});
        } else if (s.rfind("block", 0) == 0) {
          std::int64_t b = 0;
          EIGENQ_RETURN_IF_ERROR(detail::parse_count("--schemes " + s + ": block size", s.substr(5), 1,
                                                     std::numeric_limits<std::int64_t>::max(), &b));
          opt->schemes.push_back({Granularity::kBlocked, b});
        } else {
          return usage_error("--schemes: unknown scheme '" + s +
                             "' (expected per-tensor, per-channel, blockN such as block32, per-element)");
        }
      }
      if (opt->schemes.empty()) return usage_error("--schemes: empty list");
    } else if (a == "--symmetry") {
      EIGENQ_RETURN_IF_ERROR(value(&v));
      opt->modes.clear();
      for (const std::string& s : detail::split_list(v)) {
        if (s == "asym" || s == "asymmetric" || s == "affine")
          opt->modes.push_back(Mode::kAsym);
        else if (s == "sym" || s == "symmetric")
          opt->modes.push_back(Mode::kSym);
        else if (s == "sym-narrow")
          opt->modes.push_back(Mode::kSymNarrow);
        else
          return usage_error("--symmetry: unknown value '" + s + "' (expected asym, sym or sym-narrow)");
      }
      if (opt->modes.empty()) return usage_error("--symmetry: empty list");
    } else if (a == "--limit") {
      EIGENQ_RETURN_IF_ERROR(value(&v));
      EIGENQ_RETURN_IF_ERROR(
          detail::parse_count("--limit", v, 1, std::numeric_limits<std::int64_t>::max(), &opt->limit));
    } else if (a == "--reps") {
      EIGENQ_RETURN_IF_ERROR(value(&v));
      std::int64_t reps = 0;
      EIGENQ_RETURN_IF_ERROR(detail::parse_count("--reps", v, 1, 1000, &reps));
      opt->speed.repetitions = static_cast<int>(reps);
    } else if (a == "--no-speed") {
      opt->speed.enabled = false;
    } else if (a == "--index") {
      EIGENQ_RETURN_IF_ERROR(value(&opt->index));
    } else if (a == "--out") {
      EIGENQ_RETURN_IF_ERROR(value(&opt->out));
    } else if (a == "--write-synthetic") {
      EIGENQ_RETURN_IF_ERROR(value(&opt->write_synthetic));
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

namespace detail {

inline std::string command_line(const std::vector<std::string>& args) {
  std::string s = "eigenq-compare";
  for (const std::string& a : args) s += " " + a;
  return s;
}

}  // namespace detail

/// A status message without the library's "eigenq: " prefix.
inline std::string message_of(const Status& s) {
  const std::string& m = s.message();
  return m.rfind("eigenq: ", 0) == 0 ? m.substr(8) : m;
}

/// Runs the tool with parsed options; returns the exit status. `args` is
/// recorded in the outputs as the command.
inline int run_with(const Options& opt, const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                    bool err_is_terminal) {
  if (opt.help) {
    out << kUsage;
    return 0;
  }
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
  if (!opt.write_synthetic.empty()) {
    const std::vector<Tensor> tensors = synthetic_tensors();
    if (Status s = write_folder(tensors, opt.write_synthetic); !s.is_ok()) return fail(s);
    out << "wrote " << tensors.size() << " synthetic tensors and index.json to " << opt.write_synthetic << "\n";
    return 0;
  }

  std::vector<Tensor> tensors;
  if (opt.dir.empty()) {
    tensors = synthetic_tensors();
    if (opt.limit > 0 && static_cast<std::int64_t>(tensors.size()) > opt.limit) tensors.resize(opt.limit);
  } else {
    std::vector<std::string> notes;
    std::vector<Status> unusable;
    const Status s = load_folder({opt.dir, opt.index, opt.limit, /*keep_data=*/false}, &tensors, &notes, &unusable);
    for (const Status& p : unusable) report(p);
    if (!opt.quiet)
      for (const std::string& n : notes) err << "note: " << one_line(n) << "\n";
    if (!s.is_ok()) return fail(s);
  }

  std::vector<Config> configs;
  for (DType d : opt.dtypes)
    for (Mode m : opt.modes)
      for (const Scheme& s : opt.schemes) configs.push_back({s, d, m});

  // A tensor that fails (its file changed, or no usable parameters) is left
  // out of every result; the others go on.
  const bool progress = !opt.quiet && (opt.progress || err_is_terminal);
  std::vector<Tensor> compared;
  std::vector<Result> results;
  std::int64_t elements = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    Tensor& t = tensors[i];
    if (progress) {
      err << (err_is_terminal ? "\r\x1b[K" : "") << "[" << i + 1 << "/" << tensors.size() << "] " << one_line(t.name)
          << " (" << shape_text(t.shape) << ")" << (err_is_terminal ? "" : "\n");
      err.flush();
    }
    // Folder tensors were checked and released by load_folder: one at a time
    // in memory, so the folder may be larger than memory.
    const bool reloaded = t.data.empty();
    if (Status s = reload(&t); !s.is_ok()) {
      report(s);
      continue;
    }
    std::vector<Result> mine;
    Status failed;
    for (const Config& c : configs) {
      Result r;
      r.tensor = compared.size();
      failed = evaluate(t, c, opt.speed, &r);
      if (!failed.is_ok()) break;
      mine.push_back(r);
    }
    if (reloaded) std::vector<float>().swap(t.data);
    if (!failed.is_ok()) {
      const std::string tensor = "tensor '" + t.name + "'";
      report(eigenq::detail::with_context(
          failed, (t.file.empty() ? tensor : t.file + " (" + tensor + ")") + ", " + configs[mine.size()].name()));
      continue;
    }
    elements += t.shape.size();
    results.insert(results.end(), mine.begin(), mine.end());
    compared.push_back(std::move(t));
  }
  if (progress && err_is_terminal) err << "\r\x1b[K";
  if (compared.empty())
    return fail(eigenq::detail::error(StatusCode::kInvalidArgument, "no tensor could be compared (", problems.size(),
                                      " problems above)"));

  const std::vector<SummaryRow> rows = summarize(results, compared);
  const std::string input = opt.dir.empty() ? std::string("built-in synthetic set") : opt.dir;
  std::ostringstream head;
  head << "eigenq-compare: " << compared.size() << " tensors, " << elements << " elements, from " << one_line(input)
       << "\n";
  if (!problems.empty())
    head << "left out: " << problems.size() << (problems.size() == 1 ? " file or tensor" : " files or tensors")
         << " that could not be used (listed on stderr and in summary.json); exit status 1\n";
  head << "kernel path " << path_name(active_path()) << ", numerics " << numerics_name<DefaultNumerics>()
       << ", parameters from min/max (PyTorch rules); metadata = float32 scale + int32 zero point (asym) per "
          "parameter\n"
       << (opt.speed.enabled ? "throughput: GB/s of float32 data, fastest of " + std::to_string(opt.speed.repetitions) +
                                   " timed batches per tensor, summed over tensors"
                             : std::string("throughput: not measured (--no-speed)"))
       << "\n\n";
  const std::string table = summary_text(rows);
  out << head.str() << table;
  out.flush();

  const int status = problems.empty() ? 0 : 1;
  if (opt.out.empty()) return status;
  std::error_code ec;
  std::filesystem::create_directories(opt.out, ec);
  if (ec) return fail(eigenq::detail::error(StatusCode::kIoError, opt.out, ": cannot create: ", ec.message()));
  const std::vector<std::pair<std::string, std::string>> info = {
      {"tool", "eigenq-compare"},
      {"command", detail::command_line(args)},
      {"input", input},
      {"kernel_path", path_name(active_path())},
      {"numerics", numerics_name<DefaultNumerics>()},
      {"metadata", "float32 scale per parameter, plus int32 zero point for asymmetric schemes"},
      {"int4", "int4 [-8, 7] and uint4 [0, 15] packed two per byte (eigenq/packed.hpp)"},
      {"throughput", "GB/s of float32 data; null when not measured"},
      {"sqnr_null_means", "infinite (dequantized tensor equals the input exactly)"},
      {"per_tensor_results", "results.csv"},
      {"problems_mean", "files, index entries or tensors left out of every result, one message each"}};
  const std::string title =
      "SQNR vs bytes per element: " + input + " (" + std::to_string(compared.size()) + " tensors)";
  const std::vector<std::pair<std::string, std::string>> files = {
      {"summary.txt", head.str() + table},
      {"summary.md", summary_markdown(rows)},
      {"summary.csv", summary_csv(rows)},
      {"results.csv", results_csv(results, compared)},
      {"summary.json", summary_json(info, compared, rows, problems)},
      {"sqnr_vs_bytes.svg", sqnr_svg(title, results, rows)}};
  if (Status s = detail::write_files(opt.out, files); !s.is_ok()) return fail(s);
  if (!opt.quiet)
    err << "wrote " << one_line(opt.out)
        << "/{summary.txt,summary.md,summary.csv,results.csv,summary.json,"
           "sqnr_vs_bytes.svg}\n";
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
