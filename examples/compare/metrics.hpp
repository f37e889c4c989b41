#pragma once
// What eigenq-compare measures: signal-to-quantization-noise ratio and max
// abs error in double precision, and the speed of a call.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

namespace eigenq::compare {

/// 10 log10(signal / noise) in dB: +inf when the noise is exactly zero
/// (including an all-zero signal), -inf when only the signal is zero.
inline double db_ratio(double signal, double noise) {
  if (noise == 0.0) return std::numeric_limits<double>::infinity();
  if (signal == 0.0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

/// Signal-to-quantization-noise ratio in dB: 10 log10(sum x^2 / sum (x - y)^2).
inline double sqnr_db(const float* x, const float* y, std::size_t n) {
  double signal = 0.0, noise = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double e = static_cast<double>(x[i]) - static_cast<double>(y[i]);
    signal += static_cast<double>(x[i]) * x[i];
    noise += e * e;
  }
  return db_ratio(signal, noise);
}

/// The median; of an even count, the mean of the middle two (infinite
/// when both are the same infinity); NaN when empty.
inline double median(std::vector<double> v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (std::isinf(v[m - 1]) && v[m - 1] == v[m] ? v[m] : 0.5 * (v[m - 1] + v[m]));
}

inline double max_abs_error(const float* x, const float* y, std::size_t n) {
  double m = 0.0;
  for (std::size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(static_cast<double>(x[i]) - y[i]));
  return m;
}

struct SpeedOptions {
  bool enabled = true;
  int repetitions = 3;            ///< timed batches; the fastest counts
  double batch_seconds = 0.5e-3;  ///< each batch repeats the call for at least this long
};

/// Keeps the compiler from merging or dropping repeated calls whose results
/// land in memory nobody reads yet.
inline void clobber_memory() {
#if defined(__GNUC__) || defined(__clang__)
  asm volatile("" : : : "memory");
#endif
}

/// Seconds per call of fn: the fastest of `repetitions` batches, each
/// calling fn enough times to last about `batch_seconds`.
template <class Fn>
double seconds_per_call(const SpeedOptions& opt, Fn&& fn) {
  using Clock = std::chrono::steady_clock;
  auto elapsed = [](Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  Clock::time_point t0 = Clock::now();
  fn();  // warm-up, and an estimate for the batch size
  clobber_memory();
  const double once = std::max(elapsed(t0), 1e-9);
  const long calls = static_cast<long>(std::clamp(opt.batch_seconds / once, 1.0, 1e6));
  double best = std::numeric_limits<double>::infinity();
  for (int r = 0; r < std::max(1, opt.repetitions); ++r) {
    t0 = Clock::now();
    for (long c = 0; c < calls; ++c) {
      fn();
      clobber_memory();
    }
    best = std::min(best, elapsed(t0) / calls);
  }
  return best;
}

}  // namespace eigenq::compare
