// Minifloat quantization (minifloat_quantize.hpp) over a whole scheme: the
// loop over its runs (runs.hpp) around the run kernels of the enclosing
// namespace (`MinifloatRunOps`: arch/minifloat_scalar.hpp,
// arch/generic/minifloat_runs.inl). Included once per path inside its
// namespace and target region, the portable path included, like tensors.inl.
// A run's scales are one float (broadcast) or an array aligned with it.
// The loop (runs.hpp) is compiled outside the target region, so the
// lambdas are called, not forced inline: one call per run.

struct MinifloatOps {
  // Runs, for callers outside this path (tests).
  template <class Fmt, bool kSaturate, class Scales>
  static void quantize_minifloat(const float* x, std::uint8_t* q, std::size_t n, Scales scale) {
    MinifloatRunOps::quantize_minifloat<Fmt, kSaturate>(x, q, n, scale);
  }
  template <class Fmt, class Scales>
  static void dequantize_minifloat(const std::uint8_t* q, float* y, std::size_t n, Scales scale) {
    MinifloatRunOps::dequantize_minifloat<Fmt>(q, y, n, scale);
  }

  /// q = encode<Fmt>(x / scale) over the whole scheme; `scale` holds r.count
  /// scales laid out as r resolves them.
  template <class Fmt, bool kSaturate>
  static void quantize_minifloat(const ResolvedParams& r, const float* scale, const float* x, std::uint8_t* q) {
    for_each_run_indexed(r, [=](std::int64_t at, std::int64_t n, auto index) {
      const std::size_t length = static_cast<std::size_t>(n);
      if constexpr (std::is_same_v<decltype(index), BroadcastIndex>)
        MinifloatRunOps::quantize_minifloat<Fmt, kSaturate>(x + at, q + at, length, scale[index.param]);
      else
        MinifloatRunOps::quantize_minifloat<Fmt, kSaturate>(x + at, q + at, length, scale + index.param);
    });
  }

  /// y = decode<Fmt>(q) * scale over the whole scheme.
  template <class Fmt>
  static void dequantize_minifloat(const ResolvedParams& r, const float* scale, const std::uint8_t* q, float* y) {
    for_each_run_indexed(r, [=](std::int64_t at, std::int64_t n, auto index) {
      const std::size_t length = static_cast<std::size_t>(n);
      if constexpr (std::is_same_v<decltype(index), BroadcastIndex>)
        MinifloatRunOps::dequantize_minifloat<Fmt>(q + at, y + at, length, scale[index.param]);
      else
        MinifloatRunOps::dequantize_minifloat<Fmt>(q + at, y + at, length, scale + index.param);
    });
  }
};
