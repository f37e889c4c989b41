#pragma once
// The plot people read: SQNR against bytes per element, zoomed on the
// region where the choice is made. The first panel is the whole model:
// every uniform plan (one scheme for every weight) at its worst weight's
// SQNR, the Pareto front drawn as a line, the mixed plans for every target
// as a faint curve, the target and the mixed plan for it marked. Then one
// panel per bit width: each scheme's median (large marker) and worst
// (small marker, joined) weight SQNR, measured on the layer output where
// the layer input is known. Per-element schemes (5 to 9 bytes per element)
// would squeeze everything else into a sliver: they are drawn off scale at
// the right edge, with their bytes written beside.
#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "report.hpp"

namespace eigenq::compare {

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
inline const char* series_color(std::size_t i) {
  static const char* colors[] = {"#D55E00", "#0072B2", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000"};
  return colors[i % 7];
}

/// A marker of shape k (circle, square, triangle up, triangle down,
/// diamond, ...) of radius r centred on (x, y): the granularity is told by
/// shape as well as color, so overlapping points stay distinguishable.
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

/// A panel's frame: its place on the canvas and its axes' ranges.
struct Panel {
  double left, top, width, height;
  double x_lo, x_hi, y_lo, y_hi;

  double x(double v) const { return left + width * (std::clamp(v, x_lo, x_hi) - x_lo) / (x_hi - x_lo); }
  double y(double v) const { return top + height * (1.0 - (std::clamp(v, y_lo, y_hi) - y_lo) / (y_hi - y_lo)); }
  bool in_x(double v) const { return v >= x_lo && v <= x_hi; }
};

/// A step for about `ticks` ticks over [lo, hi]: 1, 2 or 5 times a power of ten.
inline double tick_step(double lo, double hi, int ticks) {
  const double raw = (hi - lo) / ticks, p = std::pow(10.0, std::floor(std::log10(raw)));
  return raw / p < 1.5 ? p : raw / p < 3.5 ? 2 * p : raw / p < 7.5 ? 5 * p : 10 * p;
}

inline void draw_frame(std::ostringstream& svg, const Panel& p, const std::string& title, const std::string& x_label,
                       bool y_label) {
  const double step = tick_step(p.x_lo, p.x_hi, 5);
  for (double b = std::ceil(p.x_lo / step) * step; b <= p.x_hi + 1e-9; b += step)
    svg << "<line class=\"grid\" x1=\"" << num(p.x(b)) << "\" y1=\"" << num(p.top) << "\" x2=\"" << num(p.x(b))
        << "\" y2=\"" << num(p.top + p.height) << "\"/><text x=\"" << num(p.x(b)) << "\" y=\""
        << num(p.top + p.height + 16) << "\" text-anchor=\"middle\">" << fmt(b, step < 0.1 ? 2 : 1) << "</text>\n";
  const double y_step = p.y_hi - p.y_lo > 40 ? 10 : 5;
  for (double db = std::ceil(p.y_lo / y_step) * y_step; db <= p.y_hi + 1e-9; db += y_step)
    svg << "<line class=\"grid\" x1=\"" << num(p.left) << "\" y1=\"" << num(p.y(db)) << "\" x2=\""
        << num(p.left + p.width) << "\" y2=\"" << num(p.y(db)) << "\"/><text x=\"" << num(p.left - 6) << "\" y=\""
        << num(p.y(db) + 4) << "\" text-anchor=\"end\">" << fmt(db, 0) << "</text>\n";
  svg << "<rect class=\"axis\" x=\"" << num(p.left) << "\" y=\"" << num(p.top) << "\" width=\"" << num(p.width)
      << "\" height=\"" << num(p.height) << "\"/>\n";
  svg << "<text x=\"" << num(p.left + p.width / 2) << "\" y=\"" << num(p.top - 8)
      << "\" text-anchor=\"middle\" font-weight=\"bold\">" << xml_escape(title) << "</text>\n";
  svg << "<text x=\"" << num(p.left + p.width / 2) << "\" y=\"" << num(p.top + p.height + 34)
      << "\" text-anchor=\"middle\">" << xml_escape(x_label) << "</text>\n";
  if (y_label)
    svg << "<text transform=\"translate(" << num(p.left - 40) << "," << num(p.top + p.height / 2)
        << ") rotate(-90)\" text-anchor=\"middle\">SQNR (dB)</text>\n";
}

/// The class of a marker: filled for asymmetric, hollow for symmetric,
/// tinted for symmetric narrow range; series i's color.
inline std::string style_class(Mode m, std::size_t i) {
  return std::string(m == Mode::kAsym ? "f" : m == Mode::kSym ? "h" : "n") + std::to_string(i);
}

/// A marker just right of the frame for a point beyond the x range, with
/// its bytes per element written beside it; `taken` holds the heights used
/// beside this panel so far, and a point that would overlap one moves down.
inline void off_scale(std::ostringstream& svg, const Panel& p, double y, double bytes, std::size_t shape,
                      const std::string& cls, std::vector<double>* taken) {
  for (bool moved = true; moved;) {
    moved = false;
    for (double t : *taken)
      if (std::fabs(t - y) < 11.0) {
        y = t + 11.0;
        moved = true;
      }
  }
  taken->push_back(y);
  const double x = p.left + p.width + 9;
  svg << marker(shape, x, y, 4.0, "class=\"" + cls + "\"") << "<text x=\"" << num(x + 7) << "\" y=\"" << num(y + 3.5)
      << "\" font-size=\"9.5\">" << fmt(bytes, 1) << " B/el</text>\n";
}

/// A five-pointed star of outer radius r at (x, y).
inline std::string star(double x, double y, double r, const std::string& attributes) {
  std::string d;
  for (int k = 0; k < 10; ++k) {
    const double a = 3.14159265358979 * k / 5 - 3.14159265358979 / 2, radius = k % 2 ? 0.4 * r : r;
    d += (k ? "L" : "M") + num(x + radius * std::cos(a)) + " " + num(y + radius * std::sin(a));
  }
  return "<path d=\"" + d + "z\" " + attributes + "/>";
}

}  // namespace detail

/// The plot of a run's weight results and decision (see the file comment).
inline std::string sqnr_svg(const std::string& title, const Measurements& m) {
  using detail::num;
  using detail::Panel;
  const Decision& d = m.decision;
  const std::vector<Scheme>& schemes = m.schemes;
  if (d.uniform.size() != schemes.size())  // no weight was compared
    return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"400\" height=\"60\" font-family=\"sans-serif\">"
           "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><text x=\"10\" y=\"30\">" +
           detail::xml_escape(one_line(title)) + ": no weights compared</text></svg>\n";
  // Series: one per granularity, in the order they first appear.
  std::vector<std::string> series;
  std::vector<int> bits;
  for (const Scheme& s : schemes) {
    if (std::find(series.begin(), series.end(), s.granularity_name()) == series.end())
      series.push_back(s.granularity_name());
    if (std::find(bits.begin(), bits.end(), s.format->bits) == bits.end()) bits.push_back(s.format->bits);
  }
  std::sort(bits.rbegin(), bits.rend());
  auto series_of = [&](const Scheme& s) {
    return static_cast<std::size_t>(std::find(series.begin(), series.end(), s.granularity_name()) - series.begin());
  };
  // Unsigned formats land on their signed twin's points when both were
  // measured (the same levels shifted): they are drawn only when alone.
  auto drawn = [&](std::size_t i) {
    const Scheme& s = schemes[i];
    if (s.format->is_signed) return true;
    for (std::size_t j = 0; j < schemes.size(); ++j) {
      const Scheme& t = schemes[j];
      if (t.format->is_signed && t.format->bits == s.format->bits && t.granularity == s.granularity &&
          t.block == s.block && t.mode == s.mode && std::fabs(d.uniform[j].median_db - d.uniform[i].median_db) < 0.05 &&
          std::fabs(d.uniform[j].bytes - d.uniform[i].bytes) < 1e-6 * d.uniform[i].bytes)
        return false;
    }
    return true;
  };
  auto per_element = [](const Scheme& s) { return s.granularity == Granularity::kPerElement; };

  // The shared y range: every finite SQNR of a scheme that is not per-element.
  double y_lo = 0.0, y_top = 10.0;
  const std::vector<Plan> plans = d.plans();
  for (std::size_t i = 0; i < d.uniform.size(); ++i) {
    if (per_element(schemes[i])) continue;
    for (double v : {d.uniform[i].median_db, d.uniform[i].worst_db})
      if (std::isfinite(v)) {
        y_lo = std::min(y_lo, v);
        y_top = std::max(y_top, v);
      }
  }
  y_lo = 10.0 * std::floor(y_lo / 10.0);
  const double y_hi = 10.0 * std::ceil(y_top / 10.0 + 0.3);

  // Two rows: the model and the decision above, one panel per bit width
  // below; each panel keeps a strip on its right for off-scale points.
  const double pw = 300, ph = 300, left = 64, gap = 92, top = 128, row_gap = 92, bottom = 64;
  const std::size_t columns = std::max<std::size_t>(2, bits.size());
  const double width = left + columns * (pw + gap), height = top + 2 * ph + row_gap + bottom;
  const double second_row = top + ph + row_gap;
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(width) << "\" height=\"" << num(height)
      << "\" viewBox=\"0 0 " << num(width) << " " << num(height) << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg << "<style>";
  for (std::size_t i = 0; i < series.size(); ++i) {
    const char* c = detail::series_color(i);
    svg << ".f" << i << "{fill:" << c << ";stroke:#000;stroke-width:0.8}"
        << ".h" << i << "{fill:#fff;stroke:" << c << ";stroke-width:2}"
        << ".n" << i << "{fill:" << c << ";fill-opacity:0.35;stroke:" << c << ";stroke-width:2}"
        << ".w" << i << "{stroke:" << c << ";stroke-width:1.2;stroke-opacity:0.7}";
  }
  svg << ".grid{stroke:#e2e2e2;stroke-width:1}.axis{stroke:#333;stroke-width:1;fill:none}"
         ".front{stroke:#000;stroke-width:1.6;fill:none}.sweep{stroke:#999;stroke-width:1;fill:none;"
         "stroke-dasharray:3,3}.target{stroke:#B00;stroke-width:1;stroke-dasharray:6,4}</style>\n";
  svg << "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
  svg << "<text x=\"" << num(left) << "\" y=\"22\" font-size=\"15\" font-weight=\"bold\">"
      << detail::xml_escape(one_line(title)) << "</text>\n";
  double lx = left;
  for (std::size_t i = 0; i < series.size(); ++i) {
    svg << detail::marker(i, lx + 5, 44, 5, "class=\"f" + std::to_string(i) + "\"") << "<text x=\"" << num(lx + 14)
        << "\" y=\"48\">" << series[i] << "</text>\n";
    lx += 26 + 7.0 * series[i].size();
  }
  svg << "<text x=\"" << num(lx + 10) << "\" y=\"48\" fill=\"#333\">filled: asymmetric; hollow: symmetric; tinted: "
      << "symmetric, narrow range</text>\n";
  svg << "<text x=\"" << num(left) << "\" y=\"68\" fill=\"#333\">SQNR of the layer output W&#183;x where the layer "
      << "input is known, else of the weight; bytes as stored (data + scales + zero points)</text>\n";
  svg << "<text x=\"" << num(left) << "\" y=\"86\" fill=\"#333\">whole model: each uniform scheme at its worst "
      << "weight; black line: Pareto front; dashed: mixed plans for every target; red: the target "
      << fmt(d.target_db, 0) << " dB, its mixed plan (star), the best uniform scheme (ring)</text>\n";
  svg << "<text x=\"" << num(left) << "\" y=\"104\" fill=\"#333\">per bit width: large marker the median over "
      << "weights, small marker the worst, joined; beyond the x range (per-element): beside the frame</text>\n";

  // The model panels: every uniform plan at its worst weight, the front,
  // the mixed plans, the target. `all` draws everything (off-scale plans
  // beside the frame); otherwise only what lies in the panel's ranges.
  auto model_panel = [&](const Panel& p, const std::string& name, bool all) {
    detail::draw_frame(svg, p, name, "bytes per element, all weights", true);
    auto inside = [&](const Plan& q) {
      return p.in_x(q.bytes_per_element()) && std::isfinite(q.worst_db) && q.worst_db >= p.y_lo &&
             (all || q.worst_db <= p.y_hi);
    };
    auto path_through = [&](const std::vector<std::size_t>& idx, const char* cls) {
      std::string pts;
      for (std::size_t i : idx)
        if (inside(plans[i]))
          pts += (pts.empty() ? "M" : "L") + num(p.x(plans[i].bytes_per_element())) + " " + num(p.y(plans[i].worst_db));
      if (!pts.empty()) svg << "<path class=\"" << cls << "\" d=\"" << pts << "\"/>\n";
    };
    std::vector<std::size_t> sweep;
    for (std::size_t i = d.uniform.size(); i < plans.size(); ++i) sweep.push_back(i);
    path_through(sweep, "sweep");
    path_through(d.front, "front");
    svg << "<line class=\"target\" x1=\"" << num(p.left) << "\" y1=\"" << num(p.y(d.target_db)) << "\" x2=\""
        << num(p.left + p.width) << "\" y2=\"" << num(p.y(d.target_db)) << "\"/>\n";
    std::vector<double> taken;
    std::vector<std::tuple<double, double, double>> labels;  // x, y, width
    for (std::size_t i = 0; i < d.uniform.size(); ++i) {
      const Plan& u = d.uniform[i];
      if (!drawn(i) || (!all && !inside(u))) continue;
      const std::size_t k = series_of(schemes[i]);
      const std::string cls = detail::style_class(schemes[i].mode, k);
      if (!p.in_x(u.bytes_per_element())) {
        detail::off_scale(svg, p, p.y(u.worst_db), u.bytes_per_element(), k, cls, &taken);
        continue;
      }
      const double x = p.x(u.bytes_per_element()), y = p.y(u.worst_db);
      svg << detail::marker(k, x, y, 4.5, "class=\"" + cls + "\"") << "\n";
      if (!all) {  // the zoomed panel names its few schemes, where a name does not cover another
        const std::string label = std::string(schemes[i].format->name) + " " + schemes[i].granularity_name() + " " +
                                  mode_name(schemes[i].mode);
        const double w = 5.2 * label.size();
        double ly = y + 3.5;
        auto overlaps = [&](double at) {
          for (const auto& [bx, by, bw] : labels)
            if (std::fabs(by - at) < 10 && x + 7 < bx + bw && bx < x + 7 + w) return true;
          return false;
        };
        for (int tries = 0; tries < 3 && overlaps(ly); ++tries) ly += 10;
        if (!overlaps(ly)) {
          labels.emplace_back(x + 7, ly, w);
          svg << "<text x=\"" << num(x + 7) << "\" y=\"" << num(ly) << "\" font-size=\"9\" fill=\"#444\">"
              << detail::xml_escape(label) << "</text>\n";
        }
      }
      if (static_cast<int>(i) == d.best_uniform)
        svg << "<circle cx=\"" << num(x) << "\" cy=\"" << num(y) << "\" r=\"9\" fill=\"none\" stroke=\"#B00\" "
            << "stroke-width=\"1.5\"/>\n";
    }
    if (inside(d.mixed))
      svg << detail::star(p.x(d.mixed.bytes_per_element()), p.y(d.mixed.worst_db), 9.0,
                          "fill=\"#B00\" stroke=\"#000\" stroke-width=\"0.8\"")
          << "\n";
  };
  double x_lo = 1e30, x_hi = 0.0;
  for (std::size_t i = 0; i < d.uniform.size(); ++i)
    if (!per_element(schemes[i])) {
      x_lo = std::min(x_lo, d.uniform[i].bytes_per_element());
      x_hi = std::max(x_hi, d.uniform[i].bytes_per_element());
    }
  if (x_hi <= 0.0) x_lo = 0.0, x_hi = 1.0;
  const double span = std::max(x_hi - x_lo, 0.1);
  model_panel({left, top, pw, ph, std::max(0.0, x_lo - 0.06 * span), x_hi + 0.08 * span, y_lo, y_hi},
              "whole model (" + std::to_string(m.costs.tensors()) + " weights)", true);

  // The decision, zoomed: the mixed plan, the best uniform scheme, and the
  // uniform schemes near the target at most a quarter dearer.
  double z_lo = d.mixed.bytes_per_element(), z_hi = z_lo, z_top = d.target_db;
  const double dearest = 1.25 * std::max(z_hi, d.best_uniform >= 0 ? d.uniform[d.best_uniform].bytes_per_element() : 0);
  for (std::size_t i = 0; i < d.uniform.size(); ++i) {
    const Plan& u = d.uniform[i];
    if (per_element(schemes[i]) || !drawn(i) || !(u.worst_db >= d.target_db - 10) || u.bytes_per_element() > dearest)
      continue;
    z_lo = std::min(z_lo, u.bytes_per_element());
    z_hi = std::max(z_hi, u.bytes_per_element());
    z_top = std::max(z_top, u.worst_db);
  }
  if (std::isfinite(d.mixed.worst_db)) z_top = std::max(z_top, d.mixed.worst_db);
  const double z_span = std::max(z_hi - z_lo, 0.02);
  model_panel({left + pw + gap, top, pw, ph, z_lo - 0.08 * z_span, z_hi + 0.08 * z_span,
               5.0 * std::floor((d.target_db - 12.0) / 5.0), 5.0 * std::ceil((z_top + 3.0) / 5.0)},
              "the decision, zoomed (target " + fmt(d.target_db, 0) + " dB)", false);

  // The decision in words, beside the panels when there is room.
  if (columns >= 3) {
    std::vector<std::string> lines = {"Decision: every weight >= " + fmt(d.target_db, 0) + " dB",
                                      "mixed plan: " + fmt(d.mixed.bytes_per_element(), 3) + " B/el, worst " +
                                          fmt(d.mixed.worst_db, 1) + " dB (" + fmt(100 * d.mixed.vs_float32(), 1) +
                                          "% of float32)"};
    std::map<int, std::size_t> count;
    for (int c : d.mixed.choice) ++count[c];
    std::vector<std::pair<std::size_t, int>> order;
    for (const auto& [c, n] : count) order.emplace_back(n, c);
    std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (std::size_t k = 0; k < std::min<std::size_t>(order.size(), 5); ++k)
      lines.push_back("  " + std::to_string(order[k].first) + " x " +
                      (order[k].second == Plan::kFloat ? std::string("float32") : m.costs.names[order[k].second]));
    if (order.size() > 5) lines.push_back("  and " + std::to_string(order.size() - 5) + " more schemes");
    if (d.best_uniform >= 0)
      lines.push_back("best uniform: " + d.uniform[d.best_uniform].name + ", " +
                      fmt(d.uniform[d.best_uniform].bytes_per_element(), 3) + " B/el, worst " +
                      fmt(d.uniform[d.best_uniform].worst_db, 1) + " dB");
    else
      lines.push_back("no uniform scheme keeps every weight >= " + fmt(d.target_db, 0) + " dB");
    if (!d.ranking.empty() && d.reference >= 0) {
      lines.push_back("most sensitive under " + d.uniform[d.reference].name + ":");
      for (std::size_t k = 0; k < std::min<std::size_t>(d.ranking.size(), 4); ++k)
        lines.push_back("  " + fmt(m.costs.db[d.ranking[k]][d.reference], 1) + " dB  " +
                        one_line(m.tensors[m.costs.tensor[d.ranking[k]]].name));
    }
    const double x = left + 2 * (pw + gap);
    for (std::size_t k = 0; k < lines.size(); ++k)
      svg << "<text x=\"" << num(x) << "\" y=\"" << num(top + 14 + 18 * k) << "\""
          << (k == 0 ? " font-weight=\"bold\"" : "") << " xml:space=\"preserve\">" << detail::xml_escape(lines[k])
          << "</text>\n";
  }

  // One panel per bit width.
  for (std::size_t b = 0; b < bits.size(); ++b) {
    double lo = 1e30, hi = 0.0;
    std::string formats;
    for (std::size_t i = 0; i < schemes.size(); ++i) {
      if (schemes[i].format->bits != bits[b] || !drawn(i)) continue;
      if (formats.find(schemes[i].format->name) == std::string::npos)
        formats += (formats.empty() ? "" : ", ") + std::string(schemes[i].format->name);
      if (per_element(schemes[i])) continue;
      lo = std::min(lo, d.uniform[i].bytes_per_element());
      hi = std::max(hi, d.uniform[i].bytes_per_element());
    }
    if (hi <= 0.0) lo = bits[b] / 8.0, hi = lo + 0.1;
    const double w = std::max(hi - lo, 0.04);
    const Panel p{left + b * (pw + gap), second_row, pw, ph, lo - 0.08 * w, hi + 0.08 * w, y_lo, y_hi};
    detail::draw_frame(svg, p, std::to_string(bits[b]) + "-bit: " + formats, "bytes per element", b == 0);
    std::vector<double> taken_here;
    for (std::size_t i = 0; i < schemes.size(); ++i) {
      if (schemes[i].format->bits != bits[b] || !drawn(i)) continue;
      const Plan& u = d.uniform[i];
      const std::size_t k = series_of(schemes[i]);
      const std::string cls = detail::style_class(schemes[i].mode, k);
      if (per_element(schemes[i])) {
        detail::off_scale(svg, p, p.y(u.median_db), u.bytes_per_element(), k, cls, &taken_here);
        continue;
      }
      const double x = p.x(u.bytes_per_element());
      svg << "<line class=\"w" << k << "\" x1=\"" << num(x) << "\" y1=\"" << num(p.y(u.median_db)) << "\" x2=\""
          << num(x) << "\" y2=\"" << num(p.y(u.worst_db)) << "\"/>"
          << detail::marker(k, x, p.y(u.worst_db), 2.6, "class=\"" + cls + "\"")
          << detail::marker(k, x, p.y(u.median_db), 5.5, "class=\"" + cls + "\"") << "\n";
    }
  }
  svg << "</svg>\n";
  return svg.str();
}

/// The plot of a run without weights (activations only). On real
/// activations a scheme's bytes hardly depend on its granularity (a few
/// parameters per tensor or per channel beside many positions), so instead
/// of bytes the x axis is the observer that chose the parameters on the calibration
/// batches: one panel per format, each observer's median (large marker)
/// and worst (small marker, joined) SQNR of the consuming layer's output
/// on the held-out batch (of the activation itself where the consumer is
/// unknown); per-tensor and per-channel side by side.
inline std::string activation_svg(const std::string& title, const Measurements& m) {
  using detail::num;
  const std::vector<SummaryRow> rows = activation_summary(m);
  if (rows.empty())
    return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"400\" height=\"60\" font-family=\"sans-serif\">"
           "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><text x=\"10\" y=\"30\">" +
           detail::xml_escape(one_line(title)) + ": nothing compared</text></svg>\n";
  auto median_of = [](const SummaryRow& r) { return r.layers ? r.median_layer_db : r.median_db; };
  auto worst_of = [](const SummaryRow& r) { return r.layers ? r.worst_layer_db : r.worst_db; };
  std::vector<const Format*> formats;
  std::vector<std::string> observers, series;
  std::vector<Mode> modes;
  for (const SummaryRow& r : rows) {
    if (std::find(formats.begin(), formats.end(), r.scheme.format) == formats.end()) formats.push_back(r.scheme.format);
    if (std::find(observers.begin(), observers.end(), r.observer) == observers.end()) observers.push_back(r.observer);
    if (std::find(series.begin(), series.end(), r.scheme.granularity_name()) == series.end())
      series.push_back(r.scheme.granularity_name());
    if (std::find(modes.begin(), modes.end(), r.scheme.mode) == modes.end()) modes.push_back(r.scheme.mode);
  }
  // An unsigned format whose every row lands on its signed twin's (the same
  // levels shifted) is named in the twin's panel instead of drawn again.
  std::vector<std::string> panel_names;
  std::vector<const Format*> panels;
  for (const Format* f : formats) {
    const Format* twin = nullptr;
    for (const Format* g : formats)
      if (!f->is_signed && g->is_signed && g->bits == f->bits) twin = g;
    bool same = twin != nullptr;
    for (const SummaryRow& r : rows) {
      if (!same || r.scheme.format != f) continue;
      bool found = false;
      for (const SummaryRow& t : rows)
        found |= t.scheme.format == twin && t.scheme.granularity == r.scheme.granularity &&
                 t.scheme.mode == r.scheme.mode && t.observer == r.observer &&
                 std::fabs(median_of(t) - median_of(r)) < 0.05 && std::fabs(worst_of(t) - worst_of(r)) < 0.05;
      same = found;
    }
    if (same) {
      const std::size_t k = static_cast<std::size_t>(std::find(panels.begin(), panels.end(), twin) - panels.begin());
      if (k < panels.size()) panel_names[k] += " (" + std::string(f->name) + " the same)";
      continue;
    }
    panels.push_back(f);
    panel_names.push_back(f->name);
  }
  double y_lo = 0.0, y_hi = 10.0;
  for (const SummaryRow& r : rows)
    for (double v : {median_of(r), worst_of(r)})
      if (std::isfinite(v)) y_lo = std::min(y_lo, v), y_hi = std::max(y_hi, v);
  y_lo = 10.0 * std::floor(y_lo / 10.0);
  y_hi = 10.0 * std::ceil(y_hi / 10.0 + 0.1);

  const double pw = 330, ph = 280, left = 64, gap = 70, top = 110, row_gap = 120, bottom = 100;
  const std::size_t columns = std::min<std::size_t>(3, panels.size());
  const std::size_t panel_rows = (panels.size() + columns - 1) / columns;
  const double width = left + columns * (pw + gap), height = top + panel_rows * (ph + row_gap) - row_gap + bottom;
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(width) << "\" height=\"" << num(height)
      << "\" viewBox=\"0 0 " << num(width) << " " << num(height) << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg << "<style>";
  for (std::size_t i = 0; i < series.size(); ++i) {
    const char* c = detail::series_color(i);
    svg << ".f" << i << "{fill:" << c << ";stroke:#000;stroke-width:0.8}"
        << ".h" << i << "{fill:#fff;stroke:" << c << ";stroke-width:2}"
        << ".n" << i << "{fill:" << c << ";fill-opacity:0.35;stroke:" << c << ";stroke-width:2}"
        << ".w" << i << "{stroke:" << c << ";stroke-width:1.2;stroke-opacity:0.7}";
  }
  svg << ".grid{stroke:#e2e2e2;stroke-width:1}.axis{stroke:#333;stroke-width:1;fill:none}</style>\n";
  svg << "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
  svg << "<text x=\"" << num(left) << "\" y=\"22\" font-size=\"15\" font-weight=\"bold\">"
      << detail::xml_escape(one_line(title)) << "</text>\n";
  double lx = left;
  for (std::size_t i = 0; i < series.size(); ++i) {
    svg << detail::marker(i, lx + 5, 44, 5, "class=\"f" + std::to_string(i) + "\"") << "<text x=\"" << num(lx + 14)
        << "\" y=\"48\">" << series[i] << "</text>\n";
    lx += 26 + 7.0 * series[i].size();
  }
  svg << "<text x=\"" << num(lx + 10) << "\" y=\"48\" fill=\"#333\">filled: asymmetric; hollow: symmetric; tinted: "
      << "symmetric, narrow range</text>\n";
  svg << "<text x=\"" << num(left) << "\" y=\"68\" fill=\"#333\">parameters chosen by each observer on calibration "
      << "batches, scored on a held-out batch: SQNR of the consuming layer's output W&#183;x where it is known, "
      << "else of the activation</text>\n";
  svg << "<text x=\"" << num(left) << "\" y=\"86\" fill=\"#333\">large marker: the median over activations; small "
      << "marker: the worst, joined; bytes per element (data + parameters) in each panel's title</text>\n";

  const std::size_t slots = observers.size(), per_slot = series.size() * modes.size();
  for (std::size_t b = 0; b < panels.size(); ++b) {
    const double px = left + (b % columns) * (pw + gap), py = top + (b / columns) * (ph + row_gap);
    const detail::Panel p{px, py, pw, ph, 0.0, static_cast<double>(slots), y_lo, y_hi};
    double lo = 1e30, hi = 0.0;
    for (const SummaryRow& r : rows)
      if (r.scheme.format == panels[b])
        lo = std::min(lo, r.bytes_per_element()), hi = std::max(hi, r.bytes_per_element());
    const std::string bytes = fmt(lo, 3) + (hi - lo >= 0.0005 ? " to " + fmt(hi, 3) : std::string()) + " B/el";
    const double y_step = y_hi - y_lo > 40 ? 10 : 5;
    for (double db = y_lo; db <= y_hi + 1e-9; db += y_step)
      svg << "<line class=\"grid\" x1=\"" << num(px) << "\" y1=\"" << num(p.y(db)) << "\" x2=\"" << num(px + pw)
          << "\" y2=\"" << num(p.y(db)) << "\"/><text x=\"" << num(px - 6) << "\" y=\"" << num(p.y(db) + 4)
          << "\" text-anchor=\"end\">" << fmt(db, 0) << "</text>\n";
    svg << "<rect class=\"axis\" x=\"" << num(px) << "\" y=\"" << num(py) << "\" width=\"" << num(pw) << "\" height=\""
        << num(ph) << "\"/>\n";
    svg << "<text x=\"" << num(px + pw / 2) << "\" y=\"" << num(py - 8)
        << "\" text-anchor=\"middle\" font-weight=\"bold\">" << detail::xml_escape(panel_names[b] + ": " + bytes)
        << "</text>\n";
    if (b % columns == 0)
      svg << "<text transform=\"translate(" << num(px - 40) << "," << num(py + ph / 2)
          << ") rotate(-90)\" text-anchor=\"middle\">SQNR (dB)</text>\n";
    for (std::size_t o = 0; o < slots; ++o) {
      const double cx = p.x(o + 0.5);
      if (o > 0)
        svg << "<line class=\"grid\" x1=\"" << num(p.x(o)) << "\" y1=\"" << num(py) << "\" x2=\"" << num(p.x(o))
            << "\" y2=\"" << num(py + ph) << "\"/>\n";
      svg << "<text transform=\"translate(" << num(cx + 4) << "," << num(py + ph + 12)
          << ") rotate(-35)\" text-anchor=\"end\">" << detail::xml_escape(observers[o]) << "</text>\n";
    }
    for (const SummaryRow& r : rows) {
      if (r.scheme.format != panels[b]) continue;
      const std::size_t o =
          static_cast<std::size_t>(std::find(observers.begin(), observers.end(), r.observer) - observers.begin());
      const std::size_t k = static_cast<std::size_t>(
          std::find(series.begin(), series.end(), r.scheme.granularity_name()) - series.begin());
      const std::size_t j =
          k * modes.size() +
          static_cast<std::size_t>(std::find(modes.begin(), modes.end(), r.scheme.mode) - modes.begin());
      const double step = std::min(12.0, 0.8 * pw / slots / std::max<std::size_t>(per_slot, 1));
      const double x = p.x(o + 0.5) + step * (static_cast<double>(j) - 0.5 * (per_slot - 1.0));
      const std::string cls = detail::style_class(r.scheme.mode, k);
      const double med = median_of(r), worst = worst_of(r);
      if (!std::isfinite(med)) continue;
      if (std::isfinite(worst))
        svg << "<line class=\"w" << k << "\" x1=\"" << num(x) << "\" y1=\"" << num(p.y(med)) << "\" x2=\"" << num(x)
            << "\" y2=\"" << num(p.y(worst)) << "\"/>"
            << detail::marker(k, x, p.y(worst), 2.6, "class=\"" + cls + "\"");
      svg << detail::marker(k, x, p.y(med), 5.0, "class=\"" + cls + "\"") << "\n";
    }
  }
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace eigenq::compare
