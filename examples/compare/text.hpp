#pragma once
// Text for people and files for programs: numbers formatted for tables and
// for exact reading back, and names (from file names and index.json, any
// bytes) made safe for every output: one line, valid UTF-8, quoted or
// escaped as each format needs.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace eigenq::compare {

// ---------------------------------------------------------------------------
// Formatting helpers

namespace detail {

/// v by printf's `format` at `precision`; infinities as "inf" / "-inf", NaN as `nan`.
inline std::string number_text(double v, const char* format, int precision, const char* nan) {
  if (std::isnan(v)) return nan;
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, precision, v);
  return buf;
}

}  // namespace detail

/// For tables: `decimals` after the point; "-" when not measured (NaN).
inline std::string fmt(double v, int decimals) { return detail::number_text(v, "%.*f", decimals, "-"); }

/// Full precision for machine-readable files (CSV, JSON); inf/nan spelled
/// as NumPy parses them.
inline std::string exact(double v) { return detail::number_text(v, "%.*g", 17, "nan"); }

/// Six significant digits, for measured or derived quantities (speeds,
/// ratios) where more would be noise.
inline std::string brief(double v) { return detail::number_text(v, "%.*g", 6, "nan"); }

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

/// A table of one-line cells, as aligned text or Markdown.
struct Table {
  std::vector<std::string> header;
  std::vector<bool> right;  ///< per column: aligned right (numbers)
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> gap;  ///< per row: a blank line before it in the text, for the eye

  void add(std::vector<std::string> cells, bool gap_before = false) {
    rows.push_back(std::move(cells));
    gap.push_back(gap_before && rows.size() > 1);
  }
  std::string text() const {
    std::vector<std::vector<std::string>> cells = {header};
    cells.insert(cells.end(), rows.begin(), rows.end());
    const std::vector<std::string> lines = aligned_lines(cells, right);
    std::string out = lines[0] + "\n";
    for (std::size_t i = 0; i < rows.size(); ++i) out += (gap[i] ? "\n" : "") + lines[i + 1] + "\n";
    return out;
  }
  std::string markdown() const {
    std::string out = "|";
    for (const auto& h : header) out += " " + markdown_cell(h) + " |";
    out += "\n|";
    for (std::size_t i = 0; i < header.size(); ++i) out += i < right.size() && right[i] ? "---:|" : "---|";
    out += "\n";
    for (const auto& row : rows) {
      out += "|";
      for (const auto& c : row) out += " " + markdown_cell(c) + " |";
      out += "\n";
    }
    return out;
  }
};

/// One CSV record of `fields` (each quoted as it needs).
inline std::string csv_line(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) out += (i ? "," : "") + csv_field(fields[i]);
  return out + "\n";
}

}  // namespace eigenq::compare
