#pragma once
// The results as people read them: a summary per configuration (median and
// worst SQNR over tensors, bytes, speed), printed as an aligned table and
// written as CSV, JSON, Markdown and an SVG plot of SQNR vs bytes per
// element.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "evaluate.hpp"

namespace eigenq::compare {

// ---------------------------------------------------------------------------
// Summary

struct SummaryRow {
  Config config;
  int tensors = 0;
  std::int64_t elements = 0;
  double median_sqnr = 0.0;
  double worst_sqnr = 0.0;
  std::string worst_tensor;
  double metadata_bytes = 0.0;  ///< summed over tensors
  double total_bytes = 0.0;
  double quantize_seconds = 0.0;  ///< summed fastest-call times (NaN if not measured)
  double dequantize_seconds = 0.0;
  /// Throughput relative to per-tensor with the same dtype and mode (NaN if absent).
  double quantize_vs_per_tensor = std::numeric_limits<double>::quiet_NaN();
  double dequantize_vs_per_tensor = std::numeric_limits<double>::quiet_NaN();

  double metadata_per_element() const { return elements ? metadata_bytes / elements : 0.0; }
  double bytes_per_element() const { return elements ? total_bytes / elements : 0.0; }
  double vs_float32() const { return elements ? total_bytes / (4.0 * elements) : 0.0; }
  /// Aggregate GB/s of float32 data: all tensors' bytes over all their time.
  double quantize_gbps() const { return 4.0 * elements / quantize_seconds * 1e-9; }
  double dequantize_gbps() const { return 4.0 * elements / dequantize_seconds * 1e-9; }
};

inline double median(std::vector<double> v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (std::isinf(v[m - 1]) && v[m - 1] == v[m] ? v[m] : 0.5 * (v[m - 1] + v[m]));
}

/// One row per configuration, in the order configurations first appear.
inline std::vector<SummaryRow> summarize(const std::vector<Result>& results, const std::vector<Tensor>& tensors) {
  std::vector<SummaryRow> rows;
  std::vector<std::vector<double>> sqnrs;
  for (const Result& r : results) {
    auto it = std::find_if(rows.begin(), rows.end(), [&](const SummaryRow& s) {
      return s.config.scheme == r.config.scheme && s.config.dtype == r.config.dtype && s.config.mode == r.config.mode;
    });
    if (it == rows.end()) {
      rows.push_back({});
      rows.back().config = r.config;
      rows.back().worst_sqnr = std::numeric_limits<double>::infinity();
      sqnrs.emplace_back();
      it = rows.end() - 1;
    }
    SummaryRow& s = *it;
    s.tensors += 1;
    s.elements += r.elements;
    s.metadata_bytes += r.metadata_bytes;
    s.total_bytes += r.total_bytes();
    s.quantize_seconds += r.quantize_seconds;
    s.dequantize_seconds += r.dequantize_seconds;
    if (r.sqnr_db < s.worst_sqnr || s.worst_tensor.empty()) {
      s.worst_sqnr = r.sqnr_db;
      s.worst_tensor = tensors[r.tensor].name;
    }
    sqnrs[it - rows.begin()].push_back(r.sqnr_db);
  }
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i].median_sqnr = median(sqnrs[i]);
  for (SummaryRow& s : rows)
    for (const SummaryRow& base : rows)
      if (base.config.scheme.granularity == Granularity::kPerTensor && base.config.dtype == s.config.dtype &&
          base.config.mode == s.config.mode) {
        s.quantize_vs_per_tensor = s.quantize_gbps() / base.quantize_gbps();
        s.dequantize_vs_per_tensor = s.dequantize_gbps() / base.dequantize_gbps();
      }
  return rows;
}

// ---------------------------------------------------------------------------
// Formatting helpers

inline std::string fmt(double v, int decimals) {
  if (std::isnan(v)) return "-";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

/// Full precision for machine-readable files (CSV, JSON); inf/nan spelled
/// as NumPy parses them.
inline std::string exact(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

/// Six significant digits, for measured or derived quantities (speeds,
/// ratios) where more would be noise.
inline std::string brief(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

inline std::string json_number(double v) { return std::isfinite(v) ? exact(v) : "null"; }
inline std::string json_brief(double v) { return std::isfinite(v) ? brief(v) : "null"; }

// Names come from file names and index.json and may hold any bytes. Every
// output is valid UTF-8 with one record per line: bytes that are not UTF-8
// are spelled \xNN everywhere, and each format quotes or escapes the rest.

namespace detail {

/// The length of the valid UTF-8 sequence at s[i] (shortest form, no
/// surrogates, at most U+10FFFF), or 0.
inline std::size_t utf8_length(const std::string& s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b = byte(i);
  if (b < 0x80) return 1;
  const std::size_t n = b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  const unsigned char c = byte(i + 1);
  if ((b == 0xE0 && c < 0xA0) || (b == 0xED && c > 0x9F) || (b == 0xF0 && c < 0x90) || (b == 0xF4 && c > 0x8F))
    return 0;  // overlong, a surrogate, or above U+10FFFF
  return n;
}

inline std::string hex_byte(unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02X", c);
  return buf;
}

}  // namespace detail

/// `s` with every byte that is not part of valid UTF-8 spelled \xNN.
inline std::string utf8_clean(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = detail::utf8_length(s, i);
    if (n == 0) {
      out += detail::hex_byte(static_cast<unsigned char>(s[i++]));
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  return out;
}

/// `s` for one line of text (the terminal, summary.txt, Markdown, SVG):
/// `utf8_clean`, and control characters spelled \n, \r, \t or \xNN.
inline std::string one_line(const std::string& s) {
  std::string out;
  for (char c : utf8_clean(s)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7F)
      out += c;
    else
      out += c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : detail::hex_byte(u);
  }
  return out;
}

/// A Markdown table cell: one line, '|' escaped.
inline std::string markdown_cell(const std::string& s) {
  std::string out;
  for (char c : one_line(s)) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

inline std::string json_string(const std::string& raw) {
  const std::string s = utf8_clean(raw);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

/// A CSV field (RFC 4180): quoted when it holds a comma, quote or line break.
inline std::string csv_field(const std::string& raw) {
  const std::string s = utf8_clean(raw);
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

/// Lines of columns padded to their widest cell; `right[i]` aligns column i
/// right. Cells must be one line each (see `one_line`).
inline std::vector<std::string> aligned_lines(const std::vector<std::vector<std::string>>& rows,
                                              const std::vector<bool>& right, const std::string& separator = "  ") {
  std::vector<std::size_t> width;
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  std::vector<std::string> lines;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      const std::string pad(width[i] - row[i].size(), ' ');
      const bool r = i < right.size() && right[i];
      line += (i ? separator : "") + (r ? pad + row[i] : row[i] + (i + 1 < row.size() ? pad : ""));
    }
    lines.push_back(line);
  }
  return lines;
}

inline std::vector<std::string> summary_header() {
  return {"scheme", "dtype",  "sym",        "tensors",      "SQNR med dB",  "SQNR worst dB",  "meta B/el",
          "B/el",   "vs f32", "quant GB/s", "dequant GB/s", "quant vs p-t", "dequant vs p-t", "worst tensor"};
}

inline std::vector<std::string> summary_cells(const SummaryRow& s) {
  return {s.config.scheme.name(),
          dtype_name(s.config.dtype),
          mode_name(s.config.mode),
          std::to_string(s.tensors),
          fmt(s.median_sqnr, 1),
          fmt(s.worst_sqnr, 1),
          fmt(s.metadata_per_element(), 3),
          fmt(s.bytes_per_element(), 3),
          fmt(100.0 * s.vs_float32(), 1) + "%",
          fmt(s.quantize_gbps(), 2),
          fmt(s.dequantize_gbps(), 2),
          fmt(s.quantize_vs_per_tensor, 2),
          fmt(s.dequantize_vs_per_tensor, 2),
          one_line(s.worst_tensor)};
}

/// The summary as aligned text, a blank line between dtypes.
inline std::string summary_text(const std::vector<SummaryRow>& rows) {
  std::vector<std::vector<std::string>> cells = {summary_header()};
  for (const SummaryRow& s : rows) cells.push_back(summary_cells(s));
  const std::vector<bool> right = {false, false, false, true, true, true, true,
                                   true,  true,  true,  true, true, true, false};
  const std::vector<std::string> lines = aligned_lines(cells, right);
  std::string out = lines[0] + "\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i > 0 && rows[i].config.dtype != rows[i - 1].config.dtype) out += "\n";  // for the eye
    out += lines[i + 1] + "\n";
  }
  return out;
}

/// The summary as a Markdown table.
inline std::string summary_markdown(const std::vector<SummaryRow>& rows) {
  const std::vector<std::string> header = summary_header();
  std::string out = "|";
  for (const auto& h : header) out += " " + h + " |";
  out += "\n|";
  for (std::size_t i = 0; i < header.size(); ++i) out += (i < 3 || i + 1 == header.size()) ? "---|" : "---:|";
  out += "\n";
  for (const SummaryRow& s : rows) {
    out += "|";
    for (const auto& c : summary_cells(s)) out += " " + markdown_cell(c) + " |";
    out += "\n";
  }
  return out;
}

// ---------------------------------------------------------------------------
// CSV and JSON

inline std::string results_csv(const std::vector<Result>& results, const std::vector<Tensor>& tensors) {
  std::string out =
      "tensor,role,shape,elements,channel_axis,block_shape,block_axis,scheme,dtype,symmetry,params,sqnr_db,"
      "max_abs_error,data_bytes,metadata_bytes,total_bytes,bytes_per_element,vs_float32,quantize_gbps,"
      "dequantize_gbps\n";
  for (const Result& r : results) {
    const Tensor& t = tensors[r.tensor];
    out += csv_field(t.name) + "," + csv_field(t.role) + "," + shape_text(t.shape) + "," + std::to_string(r.elements) +
           "," + std::to_string(t.channel_axis) + "," + shape_text(t.block_shape) + "," + std::to_string(t.block_axis) +
           "," + r.config.scheme.name() + "," + dtype_name(r.config.dtype) + "," + mode_name(r.config.mode) + "," +
           std::to_string(r.params) + "," + exact(r.sqnr_db) + "," + exact(r.max_abs_error) + "," +
           exact(r.data_bytes) + "," + exact(r.metadata_bytes) + "," + exact(r.total_bytes()) + "," +
           brief(r.bytes_per_element()) + "," + brief(r.vs_float32()) + "," + brief(r.quantize_gbps()) + "," +
           brief(r.dequantize_gbps()) + "\n";
  }
  return out;
}

inline std::string summary_csv(const std::vector<SummaryRow>& rows) {
  std::string out =
      "scheme,dtype,symmetry,tensors,elements,median_sqnr_db,worst_sqnr_db,worst_tensor,metadata_bytes_per_element,"
      "bytes_per_element,vs_float32,quantize_gbps,dequantize_gbps,quantize_vs_per_tensor,dequantize_vs_per_tensor\n";
  for (const SummaryRow& s : rows)
    out += s.config.scheme.name() + "," + dtype_name(s.config.dtype) + "," + mode_name(s.config.mode) + "," +
           std::to_string(s.tensors) + "," + std::to_string(s.elements) + "," + exact(s.median_sqnr) + "," +
           exact(s.worst_sqnr) + "," + csv_field(s.worst_tensor) + "," + brief(s.metadata_per_element()) + "," +
           brief(s.bytes_per_element()) + "," + brief(s.vs_float32()) + "," + brief(s.quantize_gbps()) + "," +
           brief(s.dequantize_gbps()) + "," + brief(s.quantize_vs_per_tensor) + "," +
           brief(s.dequantize_vs_per_tensor) + "\n";
  return out;
}

/// The run, its tensors (with the axes each scheme used), the problems that
/// kept files or tensors out of it, and the summary as JSON; the per-tensor
/// results are in results.csv. Infinite or unmeasured numbers are null.
inline std::string summary_json(const std::vector<std::pair<std::string, std::string>>& run_info,
                                const std::vector<Tensor>& tensors, const std::vector<SummaryRow>& rows,
                                const std::vector<std::string>& problems = {}) {
  std::string out = "{\n";
  for (const auto& [key, value] : run_info) out += "  " + json_string(key) + ": " + json_string(value) + ",\n";
  out += "  \"problems\": [";
  for (std::size_t i = 0; i < problems.size(); ++i) out += (i ? ", " : "") + json_string(problems[i]);
  out += "],\n";
  out += "  \"tensors\": [\n";
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    out += "    {\"name\": " + json_string(t.name) + ", \"file\": " + json_string(t.file) +
           ", \"role\": " + json_string(t.role) + ", \"shape\": " + json_string(shape_text(t.shape)) +
           ", \"layout\": " + json_string(t.shape.layout == Layout::kRowMajor ? "C" : "F") +
           ", \"channel_axis\": " + std::to_string(t.channel_axis) +
           ", \"block_shape\": " + json_string(shape_text(t.block_shape)) +
           ", \"block_axis\": " + std::to_string(t.block_axis) + "}" + (i + 1 < tensors.size() ? ",\n" : "\n");
  }
  out += "  ],\n  \"summary\": [\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const SummaryRow& s = rows[i];
    out += "    {\"scheme\": " + json_string(s.config.scheme.name()) +
           ", \"dtype\": " + json_string(dtype_name(s.config.dtype)) +
           ", \"symmetry\": " + json_string(mode_name(s.config.mode)) + ", \"tensors\": " + std::to_string(s.tensors) +
           ", \"elements\": " + std::to_string(s.elements) + ", \"median_sqnr_db\": " + json_number(s.median_sqnr) +
           ", \"worst_sqnr_db\": " + json_number(s.worst_sqnr) + ", \"worst_tensor\": " + json_string(s.worst_tensor) +
           ", \"metadata_bytes_per_element\": " + json_brief(s.metadata_per_element()) +
           ", \"bytes_per_element\": " + json_brief(s.bytes_per_element()) +
           ", \"vs_float32\": " + json_brief(s.vs_float32()) + ", \"quantize_gbps\": " + json_brief(s.quantize_gbps()) +
           ", \"dequantize_gbps\": " + json_brief(s.dequantize_gbps()) +
           ", \"quantize_vs_per_tensor\": " + json_brief(s.quantize_vs_per_tensor) +
           ", \"dequantize_vs_per_tensor\": " + json_brief(s.dequantize_vs_per_tensor) + "}" +
           (i + 1 < rows.size() ? ",\n" : "\n");
  }
  out += "  ]\n}\n";
  return out;
}

// ---------------------------------------------------------------------------
// SVG: SQNR against bytes per element, one panel per dtype

namespace detail {

inline std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s)
    out += c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '"' ? "&quot;" : std::string(1, c);
  return out;
}

inline std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

/// Okabe-Ito colors, distinguishable with the common color deficiencies.
inline const char* scheme_color(std::size_t i) {
  static const char* colors[] = {"#D55E00", "#0072B2", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000"};
  return colors[i % 7];
}

/// A marker of shape k (circle, square, triangle up, triangle down,
/// diamond, ...) of radius r centred on (x, y): the scheme is told by shape
/// as well as color, so overlapping schemes stay distinguishable.
inline std::string marker(std::size_t k, double x, double y, double r, const std::string& attributes) {
  std::ostringstream m;
  switch (k % 5) {
    case 0:
      m << "<circle cx=\"" << num(x) << "\" cy=\"" << num(y) << "\" r=\"" << num(r) << "\"";
      break;
    case 1:
      m << "<rect x=\"" << num(x - 0.85 * r) << "\" y=\"" << num(y - 0.85 * r) << "\" width=\"" << num(1.7 * r)
        << "\" height=\"" << num(1.7 * r) << "\"";
      break;
    case 2:
      m << "<path d=\"M" << num(x) << " " << num(y - 1.2 * r) << "l" << num(1.1 * r) << " " << num(1.9 * r) << "h"
        << num(-2.2 * r) << "z\"";
      break;
    case 3:
      m << "<path d=\"M" << num(x) << " " << num(y + 1.2 * r) << "l" << num(1.1 * r) << " " << num(-1.9 * r) << "h"
        << num(-2.2 * r) << "z\"";
      break;
    default:
      m << "<path d=\"M" << num(x) << " " << num(y - 1.3 * r) << "l" << num(1.1 * r) << " " << num(1.3 * r) << "l"
        << num(-1.1 * r) << " " << num(1.3 * r) << "l" << num(-1.1 * r) << " " << num(-1.3 * r) << "z\"";
  }
  m << " " << attributes << "/>";
  return m.str();
}

}  // namespace detail

/// One panel per dtype; x: total bytes per element (log2 scale), y: SQNR.
/// Each scheme has a color and a marker shape; filled markers are
/// asymmetric, hollow ones symmetric; large ones with a black edge are the
/// medians over tensors. Points above the y range (per-element affine
/// reaches ~140 dB and more) sit on the top edge.
inline std::string sqnr_svg(const std::string& title, const std::vector<Result>& results,
                            const std::vector<SummaryRow>& rows) {
  using detail::num;
  std::vector<Scheme> schemes;
  std::vector<DType> dtypes;
  for (const SummaryRow& s : rows) {
    if (std::find(schemes.begin(), schemes.end(), s.config.scheme) == schemes.end()) schemes.push_back(s.config.scheme);
    if (std::find(dtypes.begin(), dtypes.end(), s.config.dtype) == dtypes.end()) dtypes.push_back(s.config.dtype);
  }
  auto scheme_index = [&](const Scheme& s) {
    return static_cast<std::size_t>(std::find(schemes.begin(), schemes.end(), s) - schemes.begin());
  };

  // Ranges. The y range covers every finite SQNR except where each element
  // has its own parameters (per-element, or per-channel on a [1, C, 1, 1]
  // tensor), which reach 150 dB and more and would squeeze the rest; those
  // that exceed the range are drawn off scale.
  double x_lo = 4.0, x_hi = 4.0, y_lo = 0.0, y_top = 10.0, off_max = -1.0;
  for (const Result& r : results) {
    x_lo = std::min(x_lo, r.bytes_per_element());
    x_hi = std::max(x_hi, r.bytes_per_element());
    if (std::isfinite(r.sqnr_db)) {
      y_lo = std::min(y_lo, r.sqnr_db);
      if (r.params < r.elements) y_top = std::max(y_top, r.sqnr_db);
    }
  }
  x_lo = std::exp2(std::floor(std::log2(x_lo * 0.95) * 2) / 2);  // a half octave of margin at most
  x_hi = x_hi * 1.25;
  y_lo = 10.0 * std::floor(y_lo / 10.0);
  const double y_hi = 10.0 * std::ceil(y_top / 10.0 + 0.5);
  int off_scale = 0;
  for (const Result& r : results)
    if (r.sqnr_db > y_hi) {
      ++off_scale;
      if (std::isfinite(r.sqnr_db)) off_max = std::max(off_max, r.sqnr_db);
    }

  const double pw = 400, ph = 340, left = 62, gap = 40, top = 112, bottom = 58;
  // At least wide enough for the legend lines, whatever the number of panels.
  const double width = std::max(940.0, left + dtypes.size() * pw + (dtypes.size() - 1) * gap + 20),
               height = top + ph + bottom;
  auto px = [&](std::size_t panel, double bytes) {
    return left + panel * (pw + gap) + pw * (std::log2(bytes) - std::log2(x_lo)) / (std::log2(x_hi) - std::log2(x_lo));
  };
  auto py = [&](double db) { return top + ph * (1.0 - (std::min(db, y_hi) - y_lo) / (y_hi - y_lo)); };

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(width) << "\" height=\"" << num(height)
      << "\" viewBox=\"0 0 " << num(width) << " " << num(height) << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg << "<style>";
  for (std::size_t i = 0; i < schemes.size(); ++i) {
    const char* c = detail::scheme_color(i);
    svg << ".f" << i << "{fill:" << c << ";fill-opacity:0.55;stroke:none}"
        << ".h" << i << "{fill:none;stroke:" << c << ";stroke-opacity:0.75;stroke-width:1}"
        << ".n" << i << "{fill:" << c << ";fill-opacity:0.2;stroke:" << c << ";stroke-width:1}"
        << ".m" << i << "{fill:" << c << ";stroke:#000;stroke-width:1.2}";
  }
  svg << ".grid{stroke:#ddd;stroke-width:1}.axis{stroke:#333;stroke-width:1;fill:none}"
         ".ref{stroke:#555;stroke-width:1;stroke-dasharray:5,4}</style>\n";
  svg << "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
  svg << "<text x=\"" << num(left) << "\" y=\"22\" font-size=\"15\" font-weight=\"bold\">"
      << detail::xml_escape(one_line(title)) << "</text>\n";

  // Legend: scheme colors, then marker meanings.
  double lx = left;
  for (std::size_t i = 0; i < schemes.size(); ++i) {
    svg << detail::marker(i, lx + 5, 44, 5, std::string("fill=\"") + detail::scheme_color(i) + "\"") << "<text x=\""
        << num(lx + 14) << "\" y=\"48\">" << schemes[i].name() << "</text>\n";
    lx += 24 + 7.0 * schemes[i].name().size();
  }
  bool narrow = false;
  for (const SummaryRow& s : rows) narrow |= s.config.mode == Mode::kSymNarrow;
  svg << "<text x=\"" << num(left) << "\" y=\"70\" fill=\"#333\">filled: asymmetric (scale + zero point);"
      << " hollow: symmetric (scale only)" << (narrow ? "; tinted: symmetric, narrow range" : "") << "</text>\n";
  svg << "<text x=\"" << num(left) << "\" y=\"88\" fill=\"#333\">small: one tensor; large: median over tensors";
  if (off_scale)
    svg << "; on the top edge: SQNR above " << num(y_hi) << " dB, off scale (" << off_scale << " points"
        << (off_max > 0 ? ", up to " + fmt(off_max, 0) + " dB" : std::string()) << "; inf = exact)";
  svg << "</text>\n";

  for (std::size_t p = 0; p < dtypes.size(); ++p) {
    const double x0 = left + p * (pw + gap);
    // Grid, ticks and the float32 reference.
    for (double b = std::exp2(std::ceil(std::log2(x_lo))); b <= x_hi; b *= 2) {
      const double x = px(p, b);
      svg << "<line class=\"grid\" x1=\"" << num(x) << "\" y1=\"" << num(top) << "\" x2=\"" << num(x) << "\" y2=\""
          << num(top + ph) << "\"/><text x=\"" << num(x) << "\" y=\"" << num(top + ph + 16)
          << "\" text-anchor=\"middle\">" << (b < 1 ? fmt(b, b < 0.5 ? 2 : 1) : fmt(b, 0)) << "</text>\n";
    }
    for (double db = y_lo; db <= y_hi + 1e-9; db += 10) {
      const double y = py(db);
      svg << "<line class=\"grid\" x1=\"" << num(x0) << "\" y1=\"" << num(y) << "\" x2=\"" << num(x0 + pw) << "\" y2=\""
          << num(y) << "\"/><text x=\"" << num(x0 - 6) << "\" y=\"" << num(y + 4) << "\" text-anchor=\"end\">"
          << fmt(db, 0) << "</text>\n";
    }
    if (4.0 >= x_lo && 4.0 <= x_hi) {
      const double x = px(p, 4.0);
      svg << "<line class=\"ref\" x1=\"" << num(x) << "\" y1=\"" << num(top) << "\" x2=\"" << num(x) << "\" y2=\""
          << num(top + ph) << "\"/><text x=\"" << num(x - 4) << "\" y=\"" << num(top + ph - 6)
          << "\" text-anchor=\"end\" fill=\"#555\">float32</text>\n";
    }
    svg << "<rect class=\"axis\" x=\"" << num(x0) << "\" y=\"" << num(top) << "\" width=\"" << num(pw) << "\" height=\""
        << num(ph) << "\"/>\n";
    svg << "<text x=\"" << num(x0 + pw / 2) << "\" y=\"" << num(top - 6) << "\" text-anchor=\"middle\""
        << " font-weight=\"bold\">" << dtype_name(dtypes[p]) << "</text>\n";
    svg << "<text x=\"" << num(x0 + pw / 2) << "\" y=\"" << num(top + ph + 36) << "\" text-anchor=\"middle\">"
        << "bytes per element (data + metadata), log scale</text>\n";
    if (p == 0)
      svg << "<text transform=\"translate(" << num(x0 - 42) << "," << num(top + ph / 2) << ") rotate(-90)\""
          << " text-anchor=\"middle\">SQNR (dB)</text>\n";

    // Points, then medians on top. Off-scale points sit on the top edge.
    for (const Result& r : results) {
      if (r.config.dtype != dtypes[p]) continue;
      const std::size_t i = scheme_index(r.config.scheme);
      const char* cls = r.config.mode == Mode::kAsym ? "f" : r.config.mode == Mode::kSym ? "h" : "n";
      const double y = r.sqnr_db > y_hi ? top + 3 : py(r.sqnr_db);
      svg << detail::marker(i, px(p, r.bytes_per_element()), y, 2.6,
                            "class=\"" + std::string(cls) + std::to_string(i) + "\"")
          << "\n";
    }
    for (const SummaryRow& s : rows) {
      if (s.config.dtype != dtypes[p] || std::isnan(s.median_sqnr)) continue;
      const double x = px(p, s.bytes_per_element()), y = s.median_sqnr > y_hi ? top + 8 : py(s.median_sqnr);
      const std::size_t i = scheme_index(s.config.scheme);
      const std::string c = detail::scheme_color(i);
      const std::string style = s.config.mode == Mode::kSym ? " style=\"fill:#fff;stroke:" + c + ";stroke-width:2.5\""
                                : s.config.mode == Mode::kSymNarrow
                                    ? " style=\"fill:" + c + ";fill-opacity:0.3;stroke:" + c + ";stroke-width:2.5\""
                                    : std::string();
      svg << detail::marker(i, x, y, 6.5, "class=\"m" + std::to_string(i) + "\"" + style) << "\n";
      if (s.median_sqnr > y_hi)  // off scale: say where it is
        svg << "<text x=\"" << num(x - 11) << "\" y=\"" << num(y + 4) << "\" text-anchor=\"end\" font-size=\"11\">"
            << "median " << (std::isinf(s.median_sqnr) ? std::string("inf") : fmt(s.median_sqnr, 0)) << " dB</text>\n";
    }
  }
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace eigenq::compare
