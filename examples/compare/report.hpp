#pragma once
// The results as people read them: per scheme, the median and worst SQNR
// over tensors (of the tensor and of its layer's output), the bytes as
// stored and the speed; per activation scheme the same on held-out
// batches; then the decision (the mixed plan against the best uniform
// scheme, the Pareto front, the most sensitive tensors). Printed as aligned
// text and written as Markdown, CSV and JSON.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "decide.hpp"
#include "evaluate.hpp"
#include "text.hpp"

namespace eigenq::compare {

/// Everything a run measured and decided.
struct Measurements {
  std::vector<Tensor> tensors;  ///< compared (values released)
  std::vector<Scheme> schemes;  ///< weight rows
  std::vector<ActScheme> act_schemes;
  std::vector<Result> weights, activations;
  Costs costs;
  Decision decision;
};

// ---------------------------------------------------------------------------
// Summary

struct SummaryRow {
  std::string role;  ///< "weight" or "activation"
  Scheme scheme;
  std::string observer;  ///< activations: how the parameters were chosen
  int tensors = 0;
  int layers = 0;  ///< tensors with a layer SQNR
  std::int64_t elements = 0;
  double median_db = std::numeric_limits<double>::quiet_NaN();
  double worst_db = std::numeric_limits<double>::infinity();
  std::string worst_tensor;
  double median_layer_db = std::numeric_limits<double>::quiet_NaN();
  double worst_layer_db = std::numeric_limits<double>::quiet_NaN();
  std::string worst_layer_tensor;
  double metadata_bytes = 0.0;  ///< summed over tensors
  double total_bytes = 0.0;
  double quantize_seconds = 0.0;  ///< summed fastest-call times (NaN if not measured)
  double dequantize_seconds = 0.0;
  /// Throughput relative to per-tensor with the same format and symmetry
  /// (NaN if absent): metadata formats change no kernel.
  double quantize_vs_per_tensor = std::numeric_limits<double>::quiet_NaN();
  double dequantize_vs_per_tensor = std::numeric_limits<double>::quiet_NaN();

  double metadata_per_element() const { return elements ? metadata_bytes / elements : 0.0; }
  double bytes_per_element() const { return elements ? total_bytes / elements : 0.0; }
  double vs_float32() const { return elements ? total_bytes / (4.0 * elements) : 0.0; }
  /// Aggregate GB/s of float32 data: all tensors' bytes over all their time.
  double quantize_gbps() const { return 4.0 * elements / quantize_seconds * 1e-9; }
  double dequantize_gbps() const { return 4.0 * elements / dequantize_seconds * 1e-9; }
};

/// One row per scheme index (results hold scheme indices into `schemes`),
/// in scheme order; schemes no tensor has are left out.
inline std::vector<SummaryRow> summarize(const std::vector<Result>& results, const std::vector<Tensor>& tensors,
                                         const std::vector<Scheme>& schemes, const std::string& role,
                                         const std::vector<std::string>& observers = {}) {
  std::vector<SummaryRow> rows(schemes.size());
  std::vector<std::vector<double>> dbs(schemes.size()), layer_dbs(schemes.size());
  for (const Result& r : results) {
    SummaryRow& s = rows[r.scheme];
    const std::string& name = tensors[r.tensor].name;
    s.tensors += 1;
    s.elements += r.elements;
    s.metadata_bytes += r.metadata_bytes;
    s.total_bytes += r.total_bytes();
    s.quantize_seconds += r.timing.quantize_seconds;
    s.dequantize_seconds += r.timing.dequantize_seconds;
    if (r.sqnr_db < s.worst_db || s.worst_tensor.empty()) {
      s.worst_db = r.sqnr_db;
      s.worst_tensor = name;
    }
    dbs[r.scheme].push_back(r.sqnr_db);
    if (r.has_layer()) {
      s.layers += 1;
      if (!(r.layer_sqnr_db >= s.worst_layer_db)) {
        s.worst_layer_db = r.layer_sqnr_db;
        s.worst_layer_tensor = name;
      }
      layer_dbs[r.scheme].push_back(r.layer_sqnr_db);
    }
  }
  std::vector<SummaryRow> out;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].tensors == 0) continue;
    rows[i].role = role;
    rows[i].scheme = schemes[i];
    rows[i].observer = i < observers.size() ? observers[i] : "";
    rows[i].median_db = median(dbs[i]);
    rows[i].median_layer_db = median(layer_dbs[i]);
    out.push_back(rows[i]);
  }
  for (SummaryRow& s : out)
    for (const SummaryRow& base : out)
      if (base.scheme.granularity == Granularity::kPerTensor && base.scheme.format == s.scheme.format &&
          base.scheme.mode == s.scheme.mode && base.observer == s.observer) {
        s.quantize_vs_per_tensor = s.quantize_gbps() / base.quantize_gbps();
        s.dequantize_vs_per_tensor = s.dequantize_gbps() / base.dequantize_gbps();
        break;
      }
  return out;
}

inline std::vector<SummaryRow> weight_summary(const Measurements& m) {
  return summarize(m.weights, m.tensors, m.schemes, "weight");
}

inline std::vector<SummaryRow> activation_summary(const Measurements& m) {
  std::vector<Scheme> schemes;
  std::vector<std::string> observers;
  for (const ActScheme& a : m.act_schemes) {
    schemes.push_back(a.scheme);
    observers.push_back(observer_name(a.observer));
  }
  return summarize(m.activations, m.tensors, schemes, "activation", observers);
}

// ---------------------------------------------------------------------------
// Tables

namespace detail {

/// "41.2 (n)": a layer SQNR with the number of tensors it is over, or "-".
inline std::string layer_cell(double db, int layers) { return layers ? fmt(db, 1) : "-"; }

}  // namespace detail

inline Table weight_table(const std::vector<SummaryRow>& rows) {
  Table t;
  t.header = {"format",   "scheme",     "sym",          "metadata",       "tensors",        "SQNR med dB",
              "worst dB", "layers",     "layer med dB", "layer worst dB", "meta B/el",      "B/el",
              "vs f32",   "quant GB/s", "dequant GB/s", "quant vs p-t",   "dequant vs p-t", "worst layer or tensor"};
  t.right = {false, false, false, false, true, true, true, true, true,
             true,  true,  true,  true,  true, true, true, true, false};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const SummaryRow& s = rows[i];
    t.add({s.scheme.format->name, s.scheme.granularity_name(), mode_name(s.scheme.mode), s.scheme.metadata_name(),
           std::to_string(s.tensors), fmt(s.median_db, 1), fmt(s.worst_db, 1), std::to_string(s.layers),
           detail::layer_cell(s.median_layer_db, s.layers), detail::layer_cell(s.worst_layer_db, s.layers),
           fmt(s.metadata_per_element(), 3), fmt(s.bytes_per_element(), 3), fmt(100.0 * s.vs_float32(), 1) + "%",
           fmt(s.quantize_gbps(), 2), fmt(s.dequantize_gbps(), 2), fmt(s.quantize_vs_per_tensor, 2),
           fmt(s.dequantize_vs_per_tensor, 2), one_line(s.layers ? s.worst_layer_tensor : s.worst_tensor)},
          i > 0 && s.scheme.format != rows[i - 1].scheme.format);
  }
  return t;
}

inline Table activation_table(const std::vector<SummaryRow>& rows) {
  Table t;
  t.header = {"format",
              "scheme",
              "sym",
              "metadata",
              "observer",
              "activations",
              "SQNR med dB",
              "worst dB",
              "layers",
              "layer med dB",
              "layer worst dB",
              "B/el",
              "worst layer or activation"};
  t.right = {false, false, false, false, false, true, true, true, true, true, true, true, false};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const SummaryRow& s = rows[i];
    t.add({s.scheme.format->name, s.scheme.granularity_name(), mode_name(s.scheme.mode), s.scheme.metadata_name(),
           s.observer, std::to_string(s.tensors), fmt(s.median_db, 1), fmt(s.worst_db, 1), std::to_string(s.layers),
           detail::layer_cell(s.median_layer_db, s.layers), detail::layer_cell(s.worst_layer_db, s.layers),
           fmt(s.bytes_per_element(), 3), one_line(s.layers ? s.worst_layer_tensor : s.worst_tensor)},
          i > 0 &&
              (s.scheme.format != rows[i - 1].scheme.format || s.scheme.granularity != rows[i - 1].scheme.granularity));
  }
  return t;
}

/// "int8 per-channel sym f32: 12 tensors, int4 g32 asym f16+zp4: 3 tensors".
inline std::string plan_mix(const Plan& p, const Costs& c) {
  std::map<int, std::size_t> count;
  for (int s : p.choice) ++count[s];
  std::vector<std::pair<std::size_t, int>> order;
  for (const auto& [s, n] : count) order.emplace_back(n, s);
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::string out;
  for (const auto& [n, s] : order)
    out += (out.empty() ? "" : ", ") + (s == Plan::kFloat ? std::string("float32") : c.names[s]) + ": " +
           std::to_string(n);
  return out;
}

inline std::string plan_line(const Plan& p) {
  return fmt(p.bytes / 1e6, 3) + " MB, " + fmt(p.bytes_per_element(), 3) + " B/el (" + fmt(100.0 * p.vs_float32(), 1) +
         "% of float32), worst " + fmt(p.worst_db, 1) + " dB, median " + fmt(p.median_db, 1) + " dB";
}

/// The decision in words: the mixed plan, the best uniform scheme, the
/// Pareto front and the most sensitive tensors (`top` of them).
inline std::string decision_text(const Measurements& m, std::size_t top = 8) {
  const Decision& d = m.decision;
  const Costs& c = m.costs;
  if (c.tensors() == 0) return "Decision: no weights were compared.\n";
  std::string out = "Decision: every weight's SQNR >= " + fmt(d.target_db, 1) +
                    " dB (--target-db), measured on its layer output where its input is known (" +
                    std::to_string(std::count_if(m.tensors.begin(), m.tensors.end(),
                                                 [](const Tensor& t) { return t.role == "weight" && t.linked >= 0; })) +
                    " of " + std::to_string(c.tensors()) + " weights), else on the weight\n";
  out += "  mixed plan: " + plan_line(d.mixed) + "\n    " + plan_mix(d.mixed, c) + "\n";
  if (d.best_uniform >= 0) {
    const Plan& u = d.uniform[d.best_uniform];
    out += "  best uniform scheme: " + u.name + ": " + plan_line(u) + "\n";
    out +=
        "  the mixed plan takes " + fmt(100.0 * d.mixed.bytes / u.bytes, 1) + "% of the best uniform scheme's bytes\n";
  } else {
    out += "  no uniform scheme cheaper than float32 keeps every weight >= " + fmt(d.target_db, 1) + " dB\n";
  }
  out +=
      "  Pareto front (bytes against the worst weight's SQNR; the uniform schemes on it, and mixed plans every "
      "5 dB; all in pareto.csv):\n";
  const std::vector<Plan> plans = d.plans();
  for (std::size_t i : d.front)
    if (std::isfinite(plans[i].worst_db) && (i < d.uniform.size() || static_cast<long>(i - d.uniform.size()) % 5 == 0))
      out += "    " + fmt(plans[i].bytes_per_element(), 3) + " B/el  worst " + fmt(plans[i].worst_db, 1) + " dB  " +
             one_line(plans[i].name) + "\n";
  if (d.reference >= 0) {
    out += "  most sensitive weights (lowest SQNR under " + d.uniform[d.reference].name + "):\n";
    for (std::size_t k = 0; k < std::min(top, d.ranking.size()); ++k) {
      const std::size_t row = d.ranking[k];
      const int chosen = d.mixed.choice[row];
      out += "    " + fmt(c.db[row][d.reference], 1) + " dB  " + one_line(m.tensors[c.tensor[row]].name) +
             "  (plan: " + (chosen == Plan::kFloat ? std::string("float32") : c.names[chosen]) + ")\n";
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// CSV and JSON

namespace detail {

inline std::vector<std::string> scheme_fields(const Scheme& s, const std::string& observer) {
  return {
      s.format->name, s.granularity_name(), mode_name(s.mode), scale_format_name(s.scale), std::to_string(s.zero_bits),
      observer};
}

}  // namespace detail

/// Every tensor under every scheme, weights then activations.
inline std::string results_csv(const Measurements& m) {
  std::string out = csv_line({"tensor",         "role",          "shape",
                              "elements",       "channel_axis",  "block_shape",
                              "block_axis",     "format",        "scheme",
                              "symmetry",       "scale",         "zero_point_bits",
                              "observer",       "params",        "sqnr_db",
                              "max_abs_error",  "layer_sqnr_db", "data_bytes",
                              "metadata_bytes", "total_bytes",   "bytes_per_element",
                              "vs_float32",     "quantize_gbps", "dequantize_gbps"});
  auto rows = [&](const std::vector<Result>& results, bool weights) {
    for (const Result& r : results) {
      const Tensor& t = m.tensors[r.tensor];
      std::vector<std::string> f = {t.name,
                                    t.role,
                                    shape_text(t.shape),
                                    std::to_string(r.elements),
                                    std::to_string(t.channel_axis),
                                    shape_text(t.block_shape),
                                    std::to_string(t.block_axis)};
      const std::vector<std::string> s =
          weights
              ? detail::scheme_fields(m.schemes[r.scheme], "")
              : detail::scheme_fields(m.act_schemes[r.scheme].scheme, observer_name(m.act_schemes[r.scheme].observer));
      f.insert(f.end(), s.begin(), s.end());
      for (const std::string& v :
           {std::to_string(r.params), exact(r.sqnr_db), exact(r.max_abs_error), exact(r.layer_sqnr_db),
            exact(r.data_bytes), exact(r.metadata_bytes), exact(r.total_bytes()), brief(r.bytes_per_element()),
            brief(r.vs_float32()), brief(r.quantize_gbps()), brief(r.dequantize_gbps())})
        f.push_back(v);
      out += csv_line(f);
    }
  };
  rows(m.weights, true);
  rows(m.activations, false);
  return out;
}

inline std::string summary_csv(const std::vector<SummaryRow>& rows) {
  std::string out = csv_line({"role",
                              "format",
                              "scheme",
                              "symmetry",
                              "scale",
                              "zero_point_bits",
                              "observer",
                              "tensors",
                              "elements",
                              "median_sqnr_db",
                              "worst_sqnr_db",
                              "worst_tensor",
                              "layers",
                              "median_layer_sqnr_db",
                              "worst_layer_sqnr_db",
                              "worst_layer_tensor",
                              "metadata_bytes_per_element",
                              "bytes_per_element",
                              "vs_float32",
                              "quantize_gbps",
                              "dequantize_gbps",
                              "quantize_vs_per_tensor",
                              "dequantize_vs_per_tensor"});
  for (const SummaryRow& s : rows) {
    std::vector<std::string> f = {s.role};
    const std::vector<std::string> scheme = detail::scheme_fields(s.scheme, s.observer);
    f.insert(f.end(), scheme.begin(), scheme.end());
    for (const std::string& v :
         {std::to_string(s.tensors), std::to_string(s.elements), exact(s.median_db), exact(s.worst_db), s.worst_tensor,
          std::to_string(s.layers), exact(s.median_layer_db), exact(s.worst_layer_db), s.worst_layer_tensor,
          brief(s.metadata_per_element()), brief(s.bytes_per_element()), brief(s.vs_float32()),
          brief(s.quantize_gbps()), brief(s.dequantize_gbps()), brief(s.quantize_vs_per_tensor),
          brief(s.dequantize_vs_per_tensor)})
      f.push_back(v);
    out += csv_line(f);
  }
  return out;
}

/// The mixed plan per weight, most sensitive first.
inline std::string plan_csv(const Measurements& m) {
  const Decision& d = m.decision;
  const Costs& c = m.costs;
  std::string out = csv_line({"rank", "tensor", "elements", "measured_on", "reference_scheme", "reference_db",
                              "plan_scheme", "plan_bytes", "plan_db"});
  if (d.reference < 0) return out;
  for (std::size_t k = 0; k < d.ranking.size(); ++k) {
    const std::size_t row = d.ranking[k];
    const int s = d.mixed.choice[row];
    const Tensor& t = m.tensors[c.tensor[row]];
    out += csv_line({std::to_string(k + 1), t.name, std::to_string(c.elements[row]),
                     t.linked >= 0 ? "layer output" : "weight", c.names[d.reference], exact(c.db[row][d.reference]),
                     s == Plan::kFloat ? "float32" : c.names[s],
                     exact(s == Plan::kFloat ? 4.0 * c.elements[row] : c.bytes[row][s]),
                     exact(s == Plan::kFloat ? std::numeric_limits<double>::infinity() : c.db[row][s])});
  }
  return out;
}

/// Every plan (uniform, and mixed for each target) with its totals and
/// whether it is on the Pareto front.
inline std::string pareto_csv(const Decision& d) {
  std::string out = csv_line({"plan", "kind", "bytes", "bytes_per_element", "vs_float32", "worst_db", "median_db",
                              "kept_float32", "on_front"});
  const std::vector<Plan> plans = d.plans();
  for (std::size_t i = 0; i < plans.size(); ++i) {
    const Plan& p = plans[i];
    out += csv_line({p.name, i < d.uniform.size() ? "uniform" : "mixed", exact(p.bytes), brief(p.bytes_per_element()),
                     brief(p.vs_float32()), exact(p.worst_db), exact(p.median_db), std::to_string(p.kept_float),
                     std::find(d.front.begin(), d.front.end(), i) != d.front.end() ? "1" : "0"});
  }
  return out;
}

namespace detail {

inline std::string json_plan(const Plan& p) {
  return "{\"name\": " + json_string(p.name) + ", \"bytes\": " + json_number(p.bytes) +
         ", \"bytes_per_element\": " + json_brief(p.bytes_per_element()) +
         ", \"vs_float32\": " + json_brief(p.vs_float32()) + ", \"worst_db\": " + json_number(p.worst_db) +
         ", \"median_db\": " + json_number(p.median_db) + ", \"kept_float32\": " + std::to_string(p.kept_float) + "}";
}

}  // namespace detail

/// The run, its tensors (with the axes each scheme used), the problems that
/// kept files or tensors out of it, the summary and the decision as JSON;
/// the per-tensor results are in results.csv. Infinite or unmeasured
/// numbers are null.
inline std::string summary_json(const std::vector<std::pair<std::string, std::string>>& run_info, const Measurements& m,
                                const std::vector<SummaryRow>& rows, const std::vector<std::string>& problems = {}) {
  std::string out = "{\n";
  for (const auto& [key, value] : run_info) out += "  " + json_string(key) + ": " + json_string(value) + ",\n";
  out += "  \"problems\": [";
  for (std::size_t i = 0; i < problems.size(); ++i) out += (i ? ", " : "") + json_string(problems[i]);
  out += "],\n  \"tensors\": [\n";
  for (std::size_t i = 0; i < m.tensors.size(); ++i) {
    const Tensor& t = m.tensors[i];
    out += "    {\"name\": " + json_string(t.name) + ", \"file\": " + json_string(t.file) +
           ", \"tensor\": " + json_string(t.checkpoint.name) + ", \"role\": " + json_string(t.role) +
           ", \"shape\": " + json_string(shape_text(t.shape)) +
           ", \"layout\": " + json_string(t.shape.layout == Layout::kRowMajor ? "C" : "F") +
           ", \"channel_axis\": " + std::to_string(t.channel_axis) +
           ", \"block_shape\": " + json_string(shape_text(t.block_shape)) +
           ", \"block_axis\": " + std::to_string(t.block_axis) + ", \"op\": " + json_string(t.layer.op) +
           ", \"linked\": " + json_string(t.linked >= 0 ? t.link : "") + "}" +
           (i + 1 < m.tensors.size() ? ",\n" : "\n");
  }
  out += "  ],\n  \"summary\": [\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const SummaryRow& s = rows[i];
    out += "    {\"role\": " + json_string(s.role) + ", \"scheme\": " + json_string(s.scheme.name()) +
           ", \"format\": " + json_string(s.scheme.format->name) +
           ", \"granularity\": " + json_string(s.scheme.granularity_name()) +
           ", \"symmetry\": " + json_string(mode_name(s.scheme.mode)) +
           ", \"scale\": " + json_string(scale_format_name(s.scheme.scale)) +
           ", \"zero_point_bits\": " + std::to_string(s.scheme.zero_bits) +
           ", \"observer\": " + json_string(s.observer) + ", \"tensors\": " + std::to_string(s.tensors) +
           ", \"elements\": " + std::to_string(s.elements) + ", \"median_sqnr_db\": " + json_number(s.median_db) +
           ", \"worst_sqnr_db\": " + json_number(s.worst_db) + ", \"worst_tensor\": " + json_string(s.worst_tensor) +
           ", \"layers\": " + std::to_string(s.layers) +
           ", \"median_layer_sqnr_db\": " + json_number(s.median_layer_db) +
           ", \"worst_layer_sqnr_db\": " + json_number(s.worst_layer_db) +
           ", \"metadata_bytes_per_element\": " + json_brief(s.metadata_per_element()) +
           ", \"bytes_per_element\": " + json_brief(s.bytes_per_element()) +
           ", \"vs_float32\": " + json_brief(s.vs_float32()) + ", \"quantize_gbps\": " + json_brief(s.quantize_gbps()) +
           ", \"dequantize_gbps\": " + json_brief(s.dequantize_gbps()) + "}" + (i + 1 < rows.size() ? ",\n" : "\n");
  }
  const Decision& d = m.decision;
  out += "  ],\n  \"decision\": {\"target_db\": " + json_number(d.target_db) +
         ", \"mixed\": " + detail::json_plan(d.mixed) +
         ", \"best_uniform\": " + (d.best_uniform >= 0 ? detail::json_plan(d.uniform[d.best_uniform]) : "null") +
         ", \"front\": [";
  const std::vector<Plan> plans = d.plans();
  for (std::size_t i = 0; i < d.front.size(); ++i) out += (i ? ", " : "") + detail::json_plan(plans[d.front[i]]);
  out += "]}\n}\n";
  return out;
}

}  // namespace eigenq::compare
