// Whole-tensor operations: the loops over a scheme's runs (runs.hpp)
// around the run kernels of the enclosing namespace (`RunOps`). Included
// once per path inside its namespace (and target region), the portable path
// included, so that each loop is compiled with its runs for one instruction
// set: the run-time choice of a path (with_kernels) is made once per call
// here, never per run.
//
// Lambdas capture by value (a byte store in a run could otherwise alias
// anything reached through a reference) and are inlined, with the run bodies
// they call: no call per run.

struct TensorOps {
  // -------------------------------------------------------------------------
  // Runs: one run of n elements and its parameter source (runs.hpp), for
  // callers outside this path (tests, fuzzers, engines driving runs
  // themselves), any periodic run included (with_run).

  template <class Q, class N, class Src>
  static void quantize(const float* x, Q* q, std::size_t n, Src src, Range range) {
    with_run(src, n, [=](std::size_t at, std::size_t m, auto s) EIGENQ_INLINE_LAMBDA {
      RunOps::quantize<Q, N>(x + at, q + at, m, s, range);
    });
  }
  template <class Q, class Src>
  static void dequantize(const Q* q, float* y, std::size_t n, Src src) {
    with_run(src, n, [=](std::size_t at, std::size_t m, auto s) EIGENQ_INLINE_LAMBDA {
      RunOps::dequantize<Q>(q + at, y + at, m, s);
    });
  }
  template <class N, class Src>
  static void fake_quantize(const float* x, float* y, std::size_t n, Src src, Range range) {
    with_run(src, n, [=](std::size_t at, std::size_t m, auto s) EIGENQ_INLINE_LAMBDA {
      RunOps::fake_quantize<N>(x + at, y + at, m, s, range);
    });
  }
  template <class N, class Src>
  static void fake_quantize_mask(const float* x, float* y, std::uint8_t* mask, std::size_t n, Src src, Range range) {
    with_run(src, n, [=](std::size_t at, std::size_t m, auto s) EIGENQ_INLINE_LAMBDA {
      RunOps::fake_quantize_mask<N>(x + at, y + at, mask + at, m, s, range);
    });
  }
  template <class N, class Src>
  static void ste_backward(const float* x, const float* dy, float* dx, std::size_t n, Src src, Range range) {
    with_run(src, n, [=](std::size_t at, std::size_t m, auto s) EIGENQ_INLINE_LAMBDA {
      RunOps::ste_backward<N>(x + at, dy + at, dx + at, m, s, range);
    });
  }
  static void ste_backward_masked(const std::uint8_t* mask, const float* dy, float* dx, std::size_t n) {
    RunOps::ste_backward_masked(mask, dy, dx, n);
  }
  template <class Rule, class In, class Out, class Src>
  static void requantize(const In* x, Out* y, std::size_t n, Src src, const RequantizeArgs& args) {
    RunOps::requantize<Rule>(x, y, n, src, args);
  }
  template <class Rule, class Out, class Src>
  static void requantize_offset(const std::int32_t* x, Out* y, std::size_t n, Src src, RequantOffset<Src> offset,
                                const RequantizeArgs& args) {
    RunOps::requantize_offset<Rule>(x, y, n, src, offset, args);
  }
  template <class T>
  static void pack_nibbles(const typename T::Unpacked* v, std::uint8_t* packed, std::int64_t at, std::int64_t n) {
    RunOps::pack_nibbles<T>(v, packed, at, n);
  }
  template <class T>
  static void unpack_nibbles(const std::uint8_t* packed, std::int64_t at, std::int64_t n, typename T::Unpacked* v) {
    RunOps::unpack_nibbles<T>(packed, at, n, v);
  }

  // -------------------------------------------------------------------------
  // Whole tensors: the scheme's runs, their bodies inlined here.

  /// q = quantize(x) over the whole scheme.
  template <class Q, class N>
  static void quantize(const ResolvedParams& r, const float* x, Q* q) {
    const Range range = r.params.range;
    for_each_run(r, [=](std::int64_t at, std::int64_t n, auto src) EIGENQ_INLINE_LAMBDA {
      RunOps::quantize<Q, N>(x + at, q + at, static_cast<std::size_t>(n), src, range);
    });
  }

  template <class Q>
  static void dequantize(const ResolvedParams& r, const Q* q, float* y) {
    for_each_run(r, [=](std::int64_t at, std::int64_t n, auto src) EIGENQ_INLINE_LAMBDA {
      RunOps::dequantize<Q>(q + at, y + at, static_cast<std::size_t>(n), src);
    });
  }

  template <class N>
  static void fake_quantize(const ResolvedParams& r, const float* x, float* y) {
    const Range range = r.params.range;
    for_each_run(r, [=](std::int64_t at, std::int64_t n, auto src) EIGENQ_INLINE_LAMBDA {
      RunOps::fake_quantize<N>(x + at, y + at, static_cast<std::size_t>(n), src, range);
    });
  }

  template <class N>
  static void fake_quantize_mask(const ResolvedParams& r, const float* x, float* y, std::uint8_t* mask) {
    const Range range = r.params.range;
    for_each_run(r, [=](std::int64_t at, std::int64_t n, auto src) EIGENQ_INLINE_LAMBDA {
      RunOps::fake_quantize_mask<N>(x + at, y + at, mask + at, static_cast<std::size_t>(n), src, range);
    });
  }

  template <class N>
  static void ste_backward(const ResolvedParams& r, const float* x, const float* dy, float* dx) {
    const Range range = r.params.range;
    for_each_run(r, [=](std::int64_t at, std::int64_t n, auto src) EIGENQ_INLINE_LAMBDA {
      RunOps::ste_backward<N>(x + at, dy + at, dx + at, static_cast<std::size_t>(n), src, range);
    });
  }

  /// A requantization's arguments and its run kernels, as for_each_requant_run
  /// calls them (through plain function pointers).
  template <class Rule, class In, class Out>
  struct RequantCall {
    const In* x;
    Out* y;
    RequantizeArgs args;
    template <class Src>
    static void run(const void* context, std::int64_t at, std::int64_t n, Src src) {
      const RequantCall& c = *static_cast<const RequantCall*>(context);
      RunOps::requantize<Rule>(c.x + at, c.y + at, static_cast<std::size_t>(n), src, c.args);
    }
  };

  /// y = requantize(x) over the whole scheme.
  template <class Rule, class In, class Out>
  static void requantize(const ResolvedParams& r, const RequantizeParamsView& p, const In* x, Out* y) {
    using Call = RequantCall<Rule, In, Out>;
    const Call call{x, y, p.args()};
    for_each_requant_run(r, p, {&call, &Call::template run<RequantBroadcast>, &Call::template run<RequantAligned>});
  }

  // -------------------------------------------------------------------------
  // Packed sub-byte storage (packing.hpp): each run quantized chunk by
  // chunk into a stack buffer, then packed (dequantize: unpacked, then
  // dequantized). Runs may start inside a byte. 4-bit values are packed a
  // vector at a time, 2-bit ones by the portable loop.

  static constexpr std::int64_t kPackChunk = 512;

  template <class T>
  EIGENQ_ALWAYS_INLINE static void pack_values(const typename T::Unpacked* v, std::uint8_t* packed, std::int64_t at,
                                               std::int64_t n) {
    if constexpr (T::kBits == 4)
      RunOps::pack_nibbles<T>(v, packed, at, n);
    else
      eigenq::pack<T>(v, packed, at, n);
  }
  template <class T>
  EIGENQ_ALWAYS_INLINE static void unpack_values(const std::uint8_t* packed, std::int64_t at, std::int64_t n,
                                                 typename T::Unpacked* v) {
    if constexpr (T::kBits == 4)
      RunOps::unpack_nibbles<T>(packed, at, n, v);
    else
      eigenq::unpack<T>(packed, at, n, v);
  }

  /// packed = pack(quantize(x)) with T's unpacked type; the unused bits of
  /// a partial last byte are zero.
  template <class T, class N>
  static void quantize_packed(const ResolvedParams& r, const float* x, std::uint8_t* packed) {
    using U = typename T::Unpacked;
    const Range range = r.params.range;
    for_each_run(r, [=](std::int64_t at, std::int64_t n, auto src) EIGENQ_INLINE_LAMBDA {
      U chunk[kPackChunk];
      for (std::int64_t k = 0; k < n; k += kPackChunk) {
        const std::int64_t m = n - k < kPackChunk ? n - k : kPackChunk;
        RunOps::quantize<U, N>(x + at + k, chunk, static_cast<std::size_t>(m),
                               src.advanced(static_cast<std::size_t>(k)), range);
        pack_values<T>(chunk, packed, at + k, m);
      }
    });
    clear_padding<T>(packed, r.size());
  }

  template <class T>
  static void dequantize_packed(const ResolvedParams& r, const std::uint8_t* packed, float* y) {
    using U = typename T::Unpacked;
    for_each_run(r, [=](std::int64_t at, std::int64_t n, auto src) EIGENQ_INLINE_LAMBDA {
      U chunk[kPackChunk];
      for (std::int64_t k = 0; k < n; k += kPackChunk) {
        const std::int64_t m = n - k < kPackChunk ? n - k : kPackChunk;
        unpack_values<T>(packed, at + k, m, chunk);
        RunOps::dequantize<U>(chunk, y + at + k, static_cast<std::size_t>(m),
                              src.advanced(static_cast<std::size_t>(k)));
      }
    });
  }

  // -------------------------------------------------------------------------
  // STE masks packed one bit per element (packing.hpp)

  /// y = fake_quantize(x) and the mask bits; every byte of bits is written.
  template <class N>
  static void fake_quantize_packed_mask(const ResolvedParams& r, const float* x, float* y, std::uint8_t* bits) {
    const std::int64_t size = r.size();
    for (std::int64_t b = 0; b < packed_mask_bytes(size); ++b) bits[b] = 0;
    const Range range = r.params.range;
    for_each_run(r, [=](std::int64_t at, std::int64_t n, auto src) EIGENQ_INLINE_LAMBDA {
      std::uint8_t chunk[kMaskChunk];
      for (std::int64_t k = 0; k < n; k += kMaskChunk) {
        const std::int64_t m = n - k < kMaskChunk ? n - k : kMaskChunk;
        RunOps::fake_quantize_mask<N>(x + at + k, y + at + k, chunk, static_cast<std::size_t>(m),
                                      src.advanced(static_cast<std::size_t>(k)), range);
        pack_mask_bits(chunk, m, bits, at + k);
      }
    });
  }

  /// dx = dy * mask bit, for n elements.
  static void ste_backward_packed(const std::uint8_t* bits, const float* dy, float* dx, std::int64_t n) {
    std::uint8_t chunk[kMaskChunk];
    for (std::int64_t k = 0; k < n; k += kMaskChunk) {
      const std::int64_t m = n - k < kMaskChunk ? n - k : kMaskChunk;
      unpack_mask_bits(bits, k, m, chunk);
      RunOps::ste_backward_masked(chunk, dy + k, dx + k, static_cast<std::size_t>(m));
    }
  }
};
