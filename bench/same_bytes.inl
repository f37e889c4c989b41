// Loops that move an operation's bytes and do (almost) nothing else: the
// speed a kernel is measured against. Written with the primitives of the
// enclosing path's namespace (include/eigenq/arch/), four vectors per
// iteration as the kernels are, and included once per path by
// same_bytes.hpp inside the path's target region. Tails run a plain loop.
struct SameBytes {
  static constexpr std::int64_t kStep = 4 * static_cast<std::int64_t>(kLanes);

  // float -> int8 by truncation: what quantize moves (4 B in, 1 B out).
  static void truncate(const float* x, std::int8_t* q, std::int64_t n) {
    std::int64_t i = 0;
    for (; i + kStep <= n; i += kStep)
      store_narrowed(q + i, convert_exact(load(x + i)), convert_exact(load(x + i + kLanes)),
                     convert_exact(load(x + i + 2 * kLanes)), convert_exact(load(x + i + 3 * kLanes)));
    for (; i < n; ++i) q[i] = static_cast<std::int8_t>(static_cast<std::int32_t>(x[i]));
  }

  // int8 -> float: what dequantize moves (1 B in, 4 B out).
  static void widen(const std::int8_t* q, float* y, std::int64_t n) {
    std::int64_t i = 0;
    for (; i + kStep <= n; i += kStep)
      for (std::int64_t k = 0; k < kStep; k += kLanes) store(y + i + k, to_float(load_widened(q + i + k)));
    for (; i < n; ++i) y[i] = static_cast<float>(q[i]);
  }

  // float -> float: what fake-quantize moves (4 + 4 B).
  static void copy(const float* x, float* y, std::int64_t n) {
    std::int64_t i = 0;
    for (; i + kStep <= n; i += kStep)
      for (std::int64_t k = 0; k < kStep; k += kLanes) store(y + i + k, load(x + i + k));
    for (; i < n; ++i) y[i] = x[i];
  }

  // The copy plus a byte per element: what fake-quantize with mask moves.
  static void copy_with_bytes(const float* x, float* y, std::uint8_t* m, std::int64_t n) {
    std::int64_t i = 0;
    for (; i + kStep <= n; i += kStep) {
      const F a = load(x + i), b = load(x + i + kLanes), c = load(x + i + 2 * kLanes), d = load(x + i + 3 * kLanes);
      store(y + i, a), store(y + i + kLanes, b), store(y + i + 2 * kLanes, c), store(y + i + 3 * kLanes, d);
      store_narrowed(m + i, convert_exact(a), convert_exact(b), convert_exact(c), convert_exact(d));
    }
    for (; i < n; ++i) y[i] = x[i], m[i] = static_cast<std::uint8_t>(i);
  }

  // Two floats in, one out: what the STE backward moves (8 + 4 B).
  static void multiply(const float* a, const float* b, float* y, std::int64_t n) {
    std::int64_t i = 0;
    for (; i + kStep <= n; i += kStep)
      for (std::int64_t k = 0; k < kStep; k += kLanes) store(y + i + k, mul(load(a + i + k), load(b + i + k)));
    for (; i < n; ++i) y[i] = a[i] * b[i];
  }

  // int32 -> int8, clamped: what requantize moves (4 B in, 1 B out).
  static void narrow(const std::int32_t* x, std::int8_t* y, std::int64_t n) {
    const I lo = splat(std::int32_t{-128}), hi = splat(std::int32_t{127});
    std::int64_t i = 0;
    for (; i + kStep <= n; i += kStep)
      store_narrowed(y + i, min(max(load(x + i), lo), hi), min(max(load(x + i + kLanes), lo), hi),
                     min(max(load(x + i + 2 * kLanes), lo), hi), min(max(load(x + i + 3 * kLanes), lo), hi));
    for (; i < n; ++i) y[i] = static_cast<std::int8_t>(x[i] < -128 ? -128 : x[i] > 127 ? 127 : x[i]);
  }

  // Per-element parameters: the data plus a scale and a zero point read per
  // element, one add each (what per-element quantize moves: 13 B).
  static void read_per_element(const float* x, const float* s, const std::int32_t* z, std::int8_t* q, std::int64_t n) {
    std::int64_t i = 0;
    auto one = [&](std::int64_t k) { return add(convert_exact(add(load(x + k), load(s + k))), load(z + k)); };
    for (; i + kStep <= n; i += kStep)
      store_narrowed(q + i, one(i), one(i + kLanes), one(i + 2 * kLanes), one(i + 3 * kLanes));
    for (; i < n; ++i) q[i] = static_cast<std::int8_t>(static_cast<std::int32_t>(x[i] + s[i]) + z[i]);
  }
};
