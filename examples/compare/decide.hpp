#pragma once
// From measurements to a decision, over the whole model: every uniform plan
// (one scheme for every weight), the mixed plan for a target ("the cheapest
// scheme per tensor that keeps its SQNR >= T dB"), the Pareto front of
// bytes against the worst tensor's SQNR, and the tensors ranked by how
// much they suffer. A tensor's SQNR here is its layer output's where the
// layer input is known, else its own (Result::score).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "evaluate.hpp"

namespace eigenq::compare {

/// The scheme every weight gets, and what that costs and keeps.
struct Plan {
  std::string name;
  std::vector<int> choice;  ///< per tensor: a scheme index, or kFloat (kept in float32)
  double bytes = 0.0;       ///< data and metadata of every weight
  std::int64_t elements = 0;
  double worst_db = std::numeric_limits<double>::infinity();  ///< the lowest tensor SQNR
  double median_db = std::numeric_limits<double>::quiet_NaN();
  std::size_t kept_float = 0;  ///< tensors no scheme brings to the target, kept in float32

  static constexpr int kFloat = -1;
  double bytes_per_element() const { return elements ? bytes / elements : 0.0; }
  double vs_float32() const { return elements ? bytes / (4.0 * elements) : 0.0; }
};

/// Every tensor's bytes and SQNR under every scheme: the table decisions
/// are made on (rows: tensors; columns: schemes).
struct Costs {
  std::vector<std::size_t> tensor;             ///< per row: the index of its compared tensor
  std::vector<std::int64_t> elements;          ///< per row
  std::vector<std::vector<double>> bytes, db;  ///< [tensor][scheme]
  std::vector<std::string> names;              ///< scheme names

  std::size_t tensors() const { return elements.size(); }
  std::size_t schemes() const { return names.size(); }

  /// The table of weight results (each compared tensor has every scheme).
  static Costs from(const std::vector<Result>& results, const std::vector<std::string>& scheme_names) {
    Costs c;
    c.names = scheme_names;
    std::vector<std::size_t> row;  // tensor index -> row
    for (const Result& r : results) {
      if (row.size() <= r.tensor) row.resize(r.tensor + 1, SIZE_MAX);
      if (row[r.tensor] == SIZE_MAX) {
        row[r.tensor] = c.elements.size();
        c.tensor.push_back(r.tensor);
        c.elements.push_back(r.elements);
        c.bytes.emplace_back(scheme_names.size(), std::numeric_limits<double>::quiet_NaN());
        c.db.emplace_back(scheme_names.size(), std::numeric_limits<double>::quiet_NaN());
      }
      c.bytes[row[r.tensor]][r.scheme] = r.total_bytes();
      c.db[row[r.tensor]][r.scheme] = r.score();
    }
    return c;
  }
};

/// A plan's totals from its choices.
inline void total(const Costs& c, Plan* p) {
  p->bytes = 0.0;
  p->elements = 0;
  p->worst_db = std::numeric_limits<double>::infinity();
  p->kept_float = 0;
  std::vector<double> dbs;
  for (std::size_t t = 0; t < c.tensors(); ++t) {
    const int s = p->choice[t];
    p->elements += c.elements[t];
    p->bytes += s == Plan::kFloat ? 4.0 * c.elements[t] : c.bytes[t][s];
    const double db = s == Plan::kFloat ? std::numeric_limits<double>::infinity() : c.db[t][s];
    p->kept_float += s == Plan::kFloat;
    p->worst_db = std::min(p->worst_db, db);
    dbs.push_back(db);
  }
  p->median_db = median(dbs);
}

inline Plan uniform_plan(const Costs& c, std::size_t s) {
  Plan p;
  p.name = c.names[s];
  p.choice.assign(c.tensors(), static_cast<int>(s));
  total(c, &p);
  return p;
}

/// The cheapest scheme per tensor whose SQNR is at least `target_db`
/// (fewest bytes; among equals the higher SQNR, then the earlier scheme),
/// among those cheaper than float32; a tensor none brings there is kept in
/// float32.
inline Plan mixed_plan(const Costs& c, double target_db) {
  Plan p;
  p.name = "mixed, every tensor >= " + std::to_string(static_cast<long long>(std::round(target_db))) + " dB";
  for (std::size_t t = 0; t < c.tensors(); ++t) {
    int best = Plan::kFloat;
    for (std::size_t s = 0; s < c.schemes(); ++s) {
      const double b = c.bytes[t][s], db = c.db[t][s];
      if (!(db >= target_db) || !(b < 4.0 * c.elements[t])) continue;
      if (best == Plan::kFloat || b < c.bytes[t][best] || (b == c.bytes[t][best] && db > c.db[t][best]))
        best = static_cast<int>(s);
    }
    p.choice.push_back(best);
  }
  total(c, &p);
  return p;
}

/// Indices of the plans no other plan beats on both counts (fewer or equal
/// bytes and a higher or equal worst SQNR, one of them strictly), by bytes.
inline std::vector<std::size_t> pareto_front(const std::vector<Plan>& plans) {
  std::vector<std::size_t> front;
  for (std::size_t i = 0; i < plans.size(); ++i) {
    bool dominated = false;
    for (std::size_t j = 0; j < plans.size() && !dominated; ++j)
      dominated = plans[j].bytes <= plans[i].bytes && plans[j].worst_db >= plans[i].worst_db &&
                  (plans[j].bytes < plans[i].bytes || plans[j].worst_db > plans[i].worst_db);
    // Of plans equal on both counts, the first stands for them.
    for (std::size_t k : front) dominated |= plans[k].bytes == plans[i].bytes && plans[k].worst_db == plans[i].worst_db;
    if (!dominated) front.push_back(i);
  }
  std::stable_sort(front.begin(), front.end(),
                   [&](std::size_t a, std::size_t b) { return plans[a].bytes < plans[b].bytes; });
  return front;
}

struct Decision {
  double target_db = 40.0;
  std::vector<Plan> uniform;  ///< one per scheme, in scheme order
  /// The cheapest uniform plan cheaper than float32 whose worst tensor
  /// meets the target; -1 if none.
  int best_uniform = -1;
  Plan mixed;
  /// Mixed plans for targets every `sweep_step_db` from 0 to just above the
  /// highest SQNR a scheme cheaper than float32 reaches (where every tensor
  /// is kept in float32): the bytes each target costs.
  std::vector<Plan> sweep;
  /// Indices into plans() on the Pareto front, by bytes.
  std::vector<std::size_t> front;
  /// The uniform plan the ranking is measured under: the best one, else the
  /// one cheaper than float32 with the highest worst SQNR; -1 if none is.
  int reference = -1;
  /// Tensor rows (of Costs), most sensitive first: lowest SQNR under the
  /// reference plan.
  std::vector<std::size_t> ranking;

  /// Uniform plans, then the sweep.
  std::vector<Plan> plans() const {
    std::vector<Plan> all = uniform;
    all.insert(all.end(), sweep.begin(), sweep.end());
    return all;
  }
};

inline Decision decide(const Costs& c, double target_db, double sweep_step_db = 1.0) {
  Decision d;
  d.target_db = target_db;
  if (c.tensors() == 0) return d;
  double highest = 0.0;
  for (std::size_t s = 0; s < c.schemes(); ++s) {
    d.uniform.push_back(uniform_plan(c, s));
    const Plan& p = d.uniform.back();
    for (std::size_t t = 0; t < c.tensors(); ++t)  // what any scheme cheaper than float32 reaches
      if (std::isfinite(c.db[t][s]) && c.bytes[t][s] < 4.0 * c.elements[t]) highest = std::max(highest, c.db[t][s]);
    if (p.worst_db >= target_db && p.vs_float32() < 1.0 &&
        (d.best_uniform < 0 || p.bytes < d.uniform[d.best_uniform].bytes))
      d.best_uniform = static_cast<int>(s);
    if (p.vs_float32() < 1.0 && (d.reference < 0 || p.worst_db > d.uniform[d.reference].worst_db))
      d.reference = static_cast<int>(s);
  }
  if (d.best_uniform >= 0) d.reference = d.best_uniform;
  d.mixed = mixed_plan(c, target_db);
  for (double t = 0.0; t <= highest + sweep_step_db && sweep_step_db > 0; t += sweep_step_db)
    d.sweep.push_back(mixed_plan(c, t));
  d.front = pareto_front(d.plans());
  if (d.reference < 0) return d;
  for (std::size_t t = 0; t < c.tensors(); ++t) d.ranking.push_back(t);
  const std::size_t ref = static_cast<std::size_t>(d.reference);
  std::stable_sort(d.ranking.begin(), d.ranking.end(),
                   [&](std::size_t a, std::size_t b) { return c.db[a][ref] < c.db[b][ref]; });
  return d;
}

}  // namespace eigenq::compare
