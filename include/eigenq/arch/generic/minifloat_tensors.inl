// Minifloat quantization (minifloat_quantize.hpp) over a whole scheme: the
// loop over its runs (runs.hpp) around the run kernels of the enclosing
// namespace (`MinifloatRunOps`: arch/minifloat_scalar.hpp,
// arch/generic/minifloat_runs.inl). Included once per path inside its
// namespace and target region, the portable path included, like tensors.inl.
// A run's scales are one float (broadcast) or an array aligned with it; the
// walk (schemes.inl's for_each_array_run) is compiled with the kernels, so
// a run (a block of 32, a channel) costs no call.

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
    for_each_array_run(r, MinifloatScales{scale}, [=](std::int64_t at, std::int64_t n, auto s) EIGENQ_INLINE_LAMBDA {
      MinifloatRunOps::quantize_minifloat<Fmt, kSaturate>(x + at, q + at, static_cast<std::size_t>(n), s);
    });
  }

  /// amax[k] = the largest magnitude in group k of the scheme (r.count
  /// groups, overwritten), compared as bits: +inf above every finite
  /// value and a NaN above +inf, so a group holding NaN gets a NaN (the
  /// block maxima of mx.hpp).
  static void magnitude_max(const ResolvedParams& r, const float* x, float* amax) {
    for (std::size_t k = 0; k < r.count; ++k) amax[k] = 0.0f;
    for_each_array_run(r, GroupIndex{}, [=](std::int64_t at, std::int64_t n, auto group) EIGENQ_INLINE_LAMBDA {
      const std::size_t length = static_cast<std::size_t>(n);
      using Group = decltype(group);
      if constexpr (std::is_same_v<Group, BroadcastIndex>) {
        float& m = amax[group.param];
        m = bits_float(MinifloatRunOps::magnitude_max(x + at, length, float_bits(m)));
      } else if constexpr (std::is_same_v<Group, AlignedIndex>) {
        MinifloatRunOps::magnitude_max(x + at, length, amax + group.param);
      } else {
        for (std::size_t j = 0; j < length; ++j) {
          float& m = amax[group.param[j]];
          m = bits_float(MinifloatRunOps::magnitude_max(x + at + j, 1, float_bits(m)));
        }
      }
    });
  }

  /// y = decode<Fmt>(q) * scale over the whole scheme.
  template <class Fmt>
  static void dequantize_minifloat(const ResolvedParams& r, const float* scale, const std::uint8_t* q, float* y) {
    for_each_array_run(r, MinifloatScales{scale}, [=](std::int64_t at, std::int64_t n, auto s) EIGENQ_INLINE_LAMBDA {
      MinifloatRunOps::dequantize_minifloat<Fmt>(q + at, y + at, static_cast<std::size_t>(n), s);
    });
  }
};
