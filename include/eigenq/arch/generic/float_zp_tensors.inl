// Float zero points (float_qparams.hpp) over a whole scheme: the loop over
// its runs (schemes.inl's for_each_array_run) around the run kernels of the
// enclosing namespace (`FloatZpRunOps`: arch/scalar.hpp,
// arch/generic/float_zp_runs.inl). Included once per path inside its
// namespace and target region, the portable path included, after
// tensors.inl (whose packing it uses).
//
// `p` holds the whole parameter arrays; each run gets its scale and zero
// point (a broadcast run) or its slice of them, or of a stack copy expanded
// to element granularity (an aligned run).

struct FloatZpOps : FloatZpRunOps {
  using FloatZpRunOps::dequantize_float_zp;
  using FloatZpRunOps::fake_quantize_float_zp;
  using FloatZpRunOps::quantize_float_zp;

  /// q = quantize(x) over the whole scheme.
  template <class Q>
  static void quantize_float_zp(const ResolvedParams& r, FloatAligned p, Range range, const float* x, Q* q) {
    for_each_array_run(r, FloatZpParams{p}, [=](std::int64_t at, std::int64_t n, auto src) EIGENQ_INLINE_LAMBDA {
      FloatZpRunOps::quantize_float_zp<Q>(x + at, q + at, static_cast<std::size_t>(n), src, range);
    });
  }

  template <class Q>
  static void dequantize_float_zp(const ResolvedParams& r, FloatAligned p, const Q* q, float* y) {
    for_each_array_run(r, FloatZpParams{p}, [=](std::int64_t at, std::int64_t n, auto src) EIGENQ_INLINE_LAMBDA {
      FloatZpRunOps::dequantize_float_zp<Q>(q + at, y + at, static_cast<std::size_t>(n), src);
    });
  }

  /// y may alias x.
  template <bool kHalf>
  static void fake_quantize_float_zp(const ResolvedParams& r, FloatAligned p, Range range, const float* x, float* y) {
    for_each_array_run(r, FloatZpParams{p}, [=](std::int64_t at, std::int64_t n, auto src) EIGENQ_INLINE_LAMBDA {
      FloatZpRunOps::fake_quantize_float_zp<kHalf>(x + at, y + at, static_cast<std::size_t>(n), src, range);
    });
  }

  /// packed = pack(quantize(x)), chunk by chunk through a stack buffer as
  /// TensorOps::quantize_packed; the unused bits of a partial last byte are
  /// zero.
  template <class T>
  static void quantize_float_zp_packed(const ResolvedParams& r, FloatAligned p, Range range, const float* x,
                                       std::uint8_t* packed) {
    using U = typename T::Unpacked;
    constexpr std::int64_t kChunk = TensorOps::kPackChunk;
    for_each_array_run(r, FloatZpParams{p}, [=](std::int64_t at, std::int64_t n, auto src) EIGENQ_INLINE_LAMBDA {
      U chunk[kChunk];
      for (std::int64_t k = 0; k < n; k += kChunk) {
        const std::int64_t m = n - k < kChunk ? n - k : kChunk;
        FloatZpRunOps::quantize_float_zp<U>(x + at + k, chunk, static_cast<std::size_t>(m),
                                            src.advanced(static_cast<std::size_t>(k)), range);
        TensorOps::pack_values<T>(chunk, packed, at + k, m);
      }
    });
    clear_padding<T>(packed, r.size());
  }

  template <class T>
  static void dequantize_float_zp_packed(const ResolvedParams& r, FloatAligned p, const std::uint8_t* packed,
                                         float* y) {
    using U = typename T::Unpacked;
    constexpr std::int64_t kChunk = TensorOps::kPackChunk;
    for_each_array_run(r, FloatZpParams{p}, [=](std::int64_t at, std::int64_t n, auto src) EIGENQ_INLINE_LAMBDA {
      U chunk[kChunk];
      for (std::int64_t k = 0; k < n; k += kChunk) {
        const std::int64_t m = n - k < kChunk ? n - k : kChunk;
        TensorOps::unpack_values<T>(packed, at + k, m, chunk);
        FloatZpRunOps::dequantize_float_zp<U>(chunk, y + at + k, static_cast<std::size_t>(m),
                                              src.advanced(static_cast<std::size_t>(k)));
      }
    });
  }
};
