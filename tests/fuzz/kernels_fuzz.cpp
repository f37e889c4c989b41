// libFuzzer target: the fuzzer's bytes choose an operation, storage type,
// numerics preset, parameter source, range, scale, zero point, buffer offsets
// and the data; every SIMD path compiled in and supported by this CPU must
// produce the same bits as the portable loops. A difference prints the case
// and aborts. Buffers are exactly as long as the kernel may touch, so
// AddressSanitizer catches any access outside them.
//
// Build and run: tests/fuzz/run.sh (clang, -fsanitize=fuzzer,address,undefined).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <type_traits>

#include "eigenq/kernels.hpp"
#include "paths.hpp"

namespace eigenq {
namespace {

constexpr std::size_t kMaxElements = 4096;

// Reads the fuzzer's bytes front to back; zeros once they run out.
class Bytes {
 public:
  Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  template <class T>
  T take() {
    T v{};
    const std::size_t k = sizeof(T) < size_ ? sizeof(T) : size_;
    std::memcpy(&v, data_, k);
    data_ += k;
    size_ -= k;
    return v;
  }
  std::size_t left() const { return size_; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
};

// A heap buffer of exactly n elements (new T[0] for n == 0 is still a valid
// pointer that must not be dereferenced).
template <class T>
std::unique_ptr<T[]> buffer(std::size_t n) {
  return std::unique_ptr<T[]>(new T[n]());
}

bool valid_scale(float s) { return std::isfinite(s) && s > 0.0f && std::isfinite(1.0f / s); }

// Any bit pattern to a valid scale: itself when valid, else a value between
// 2^-40 and 2^40 taken from its bits.
float to_scale(std::uint32_t bits) {
  float s;
  std::memcpy(&s, &bits, sizeof s);
  s = std::fabs(s);
  if (valid_scale(s)) return s;
  return std::ldexp(1.0f + static_cast<float>(bits & 0xffff) / 65536.0f, static_cast<int>((bits >> 16) % 81) - 40);
}

std::int32_t to_zero_point(std::uint32_t bits, Range r) {
  const std::int64_t span = std::int64_t{r.qmax} - r.qmin + 1;
  return static_cast<std::int32_t>(r.qmin + static_cast<std::int64_t>(bits % static_cast<std::uint64_t>(span)));
}

template <class Q>
Range to_range(Bytes& in) {
  const std::uint8_t kind = in.take<std::uint8_t>();
  switch (kind % 5) {
    case 0:
      return Range::full<Q>();
    case 1:
      return Range::narrow<Q>();
    case 2:
      return Range::reduced<Q>();
    case 3:
      return Range::bits<Q>(1 + kind / 5 % (8 * sizeof(Q)));
    default: {  // any non-empty range inside Q
      const Range full = Range::full<Q>();
      const std::int64_t span = std::int64_t{full.qmax} - full.qmin + 1;
      std::int64_t a = full.qmin + in.take<std::uint32_t>() % span, b = full.qmin + in.take<std::uint32_t>() % span;
      if (a > b) std::swap(a, b);
      return {static_cast<std::int32_t>(a), static_cast<std::int32_t>(b)};
    }
  }
}

// A float input: raw bits, or a multiple of half the scale (ties and
// integers in the scaled domain) nudged by a few ulps.
float to_input(Bytes& in, std::uint8_t mode, float scale) {
  const std::uint32_t bits = in.take<std::uint32_t>();
  float x;
  std::memcpy(&x, &bits, sizeof x);
  if (mode % 2 == 0) return x;
  x = static_cast<float>(static_cast<std::int16_t>(bits)) * 0.5f * scale;
  for (int k = static_cast<int>((bits >> 16) % 7) - 3; k != 0; k += k > 0 ? -1 : 1)
    x = std::nextafter(x, k > 0 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity());
  return x;
}

[[noreturn]] void mismatch(const char* op, const char* preset, Path path, std::size_t i, std::size_t n, double expected,
                           double got, std::uint32_t expected_bits, std::uint32_t got_bits) {
  std::fprintf(stderr, "%s (%s), %s path: element %zu of %zu differs: expected %.9g (0x%08x), got %.9g (0x%08x)\n", op,
               preset, path_name(path), i, n, expected, expected_bits, got, got_bits);
  std::abort();
}

template <class T>
void compare(const char* op, const char* preset, Path path, const T* expected, const T* got, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (std::memcmp(&expected[i], &got[i], sizeof(T)) == 0) continue;
    std::uint32_t e = 0, g = 0;
    std::memcpy(&e, &expected[i], sizeof(T) < 4 ? sizeof(T) : 4);
    std::memcpy(&g, &got[i], sizeof(T) < 4 ? sizeof(T) : 4);
    mismatch(op, preset, path, i, n, static_cast<double>(expected[i]), static_cast<double>(got[i]), e, g);
  }
}

// Calls fn(Kernels<P>{}, P) for every SIMD path this CPU runs.
template <class Fn>
void for_each_simd_path(Fn&& fn) {
  testing_paths::for_each_supported_path([&](auto path) {
    if constexpr (decltype(path)::value != Path::kScalar) fn(Kernels<decltype(path)::value>{}, decltype(path)::value);
  });
}

// Parameters of one call: a broadcast pair, or one pair per element.
struct Params {
  bool aligned;
  float scale;
  std::int32_t zero_point;
  std::unique_ptr<float[]> scales;
  std::unique_ptr<std::int32_t[]> zero_points;

  template <class Fn>
  void with_source(Fn&& fn) const {
    if (aligned)
      fn(Aligned{scales.get(), zero_points.get()});
    else
      fn(Broadcast{scale, zero_point});
  }
  float scale_at(std::size_t i) const { return aligned ? scales[i] : scale; }
};

template <class N>
const char* numerics_label() {
  constexpr bool even = std::is_same_v<typename N::Rounding, RoundHalfEven>;
  constexpr bool away = std::is_same_v<typename N::Rounding, RoundHalfAway>;
  constexpr bool reciprocal = std::is_same_v<typename N::Scaling, ScaleByReciprocal>;
  return even   ? (reciprocal ? "half-even, x * (1/scale)" : "half-even, x / scale")
         : away ? (reciprocal ? "half-away, x * (1/scale)" : "half-away, x / scale")
                : (reciprocal ? "floor(v + 0.5f), x * (1/scale)" : "floor(v + 0.5f), x / scale");
}

template <class N, class Q>
void fuzz_one(Bytes& in, std::uint8_t op) {
  using Scalar = Kernels<Path::kScalar>;
  const char* preset = numerics_label<N>();
  const Range range = to_range<Q>(in);
  const std::uint8_t layout = in.take<std::uint8_t>();
  const bool aligned = layout & 1;
  const std::uint8_t mode = layout >> 1;
  const std::size_t in_offset = (layout >> 2) % 4, out_offset = (layout >> 4) % 4;

  Params p{aligned, to_scale(in.take<std::uint32_t>()), 0, nullptr, nullptr};
  p.zero_point = to_zero_point(in.take<std::uint32_t>(), range);
  const std::size_t per_element = 8 + (aligned ? 8 : 0);
  const std::size_t n = in.left() / per_element < kMaxElements ? in.left() / per_element : kMaxElements;
  if (aligned) {
    p.scales = buffer<float>(n);
    p.zero_points = buffer<std::int32_t>(n);
    for (std::size_t i = 0; i < n; ++i) {
      p.scales[i] = to_scale(in.take<std::uint32_t>());
      p.zero_points[i] = to_zero_point(in.take<std::uint32_t>(), range);
    }
  }

  // Inputs start in_offset elements into their allocation and end with it.
  auto x_buf = buffer<float>(n + in_offset);
  auto dy_buf = buffer<float>(n + in_offset);
  auto q_buf = buffer<Q>(n + in_offset);
  float* x = x_buf.get() + in_offset;
  float* dy = dy_buf.get() + in_offset;
  Q* q = q_buf.get() + in_offset;
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = to_input(in, mode, p.scale_at(i));
    const std::uint32_t bits = in.take<std::uint32_t>();
    std::memcpy(&dy[i], &bits, sizeof(float));
    q[i] = static_cast<Q>(bits);  // the low bytes of the same word
  }

  auto expected = buffer<float>(n), got_buf = buffer<float>(n + out_offset);
  float* got = got_buf.get() + out_offset;
  switch (op % 6) {
    case 0: {
      auto eq = buffer<Q>(n), gq_buf = buffer<Q>(n + out_offset);
      Q* gq = gq_buf.get() + out_offset;
      p.with_source([&](auto src) { Scalar::quantize<Q, N>(x, eq.get(), n, src, range); });
      return for_each_simd_path([&](auto k, Path path) {
        p.with_source([&](auto src) { decltype(k)::template quantize<Q, N>(x, gq, n, src, range); });
        compare("quantize", preset, path, eq.get(), gq, n);
      });
    }
    case 1:
      p.with_source([&](auto src) { Scalar::dequantize<Q>(q, expected.get(), n, src); });
      return for_each_simd_path([&](auto k, Path path) {
        p.with_source([&](auto src) { decltype(k)::template dequantize<Q>(q, got, n, src); });
        compare("dequantize", preset, path, expected.get(), got, n);
      });
    case 2:
      p.with_source([&](auto src) { Scalar::fake_quantize<N>(x, expected.get(), n, src, range); });
      return for_each_simd_path([&](auto k, Path path) {
        p.with_source([&](auto src) { decltype(k)::template fake_quantize<N>(x, got, n, src, range); });
        compare("fake_quantize", preset, path, expected.get(), got, n);
      });
    case 3: {
      auto em = buffer<std::uint8_t>(n), gm_buf = buffer<std::uint8_t>(n + out_offset);
      std::uint8_t* gm = gm_buf.get() + out_offset;
      p.with_source([&](auto src) { Scalar::fake_quantize_mask<N>(x, expected.get(), em.get(), n, src, range); });
      return for_each_simd_path([&](auto k, Path path) {
        p.with_source([&](auto src) { decltype(k)::template fake_quantize_mask<N>(x, got, gm, n, src, range); });
        compare("fake_quantize_mask (y)", preset, path, expected.get(), got, n);
        compare("fake_quantize_mask (mask)", preset, path, em.get(), gm, n);
      });
    }
    case 4:
      p.with_source([&](auto src) { Scalar::ste_backward<N>(x, dy, expected.get(), n, src, range); });
      return for_each_simd_path([&](auto k, Path path) {
        p.with_source([&](auto src) { decltype(k)::template ste_backward<N>(x, dy, got, n, src, range); });
        compare("ste_backward", preset, path, expected.get(), got, n);
      });
    default: {
      auto mask = buffer<std::uint8_t>(n);
      for (std::size_t i = 0; i < n; ++i) mask[i] = static_cast<std::uint8_t>(q[i]);
      Scalar::ste_backward_masked(mask.get(), dy, expected.get(), n);
      return for_each_simd_path([&](auto k, Path path) {
        decltype(k)::ste_backward_masked(mask.get(), dy, got, n);
        compare("ste_backward_masked", preset, path, expected.get(), got, n);
      });
    }
  }
}

// Requantization of In to Out under Rule: multipliers per tensor or per
// element (any valid multiplier and shift, or fp32 scale), zero points and
// the clamp range anywhere they are valid.
template <class Rule, class In, class Out>
void fuzz_requantize(Bytes& in) {
  const std::uint8_t layout = in.take<std::uint8_t>();
  const bool aligned = layout & 1;
  const std::size_t in_offset = (layout >> 1) % 4, out_offset = (layout >> 3) % 4;
  const std::int64_t out_lo = std::numeric_limits<Out>::lowest(), out_hi = std::numeric_limits<Out>::max();
  const std::int64_t a = out_lo + in.take<std::uint16_t>() % (out_hi - out_lo + 1);
  const std::int64_t b = out_lo + in.take<std::uint16_t>() % (out_hi - out_lo + 1);
  const Range range{static_cast<std::int32_t>(a < b ? a : b), static_cast<std::int32_t>(a < b ? b : a)};
  RequantizeArgs args;
  args.range = range;
  args.output_zero_point = to_zero_point(in.take<std::uint32_t>(), range);
  const std::int64_t in_lo = std::numeric_limits<In>::lowest(), in_hi = std::numeric_limits<In>::max();
  args.input_zero_point =
      static_cast<std::int32_t>(in_lo + static_cast<std::int64_t>(in.take<std::uint32_t>() % (in_hi - in_lo + 1)));
  const std::size_t per_element = sizeof(In) + (aligned ? 12 : 0);
  const std::size_t n = std::min(in.left() / per_element, kMaxElements);
  const std::size_t count = aligned ? n : 1;
  auto multiplier = buffer<std::int32_t>(count), shift = buffer<std::int32_t>(count);
  auto scale = buffer<float>(count);
  for (std::size_t i = 0; i < count; ++i) {
    multiplier[i] = static_cast<std::int32_t>(in.take<std::uint32_t>() & 0x7fffffff);
    shift[i] = static_cast<std::int32_t>(in.take<std::uint8_t>() % 62) - 31;
    scale[i] = to_scale(in.take<std::uint32_t>());
  }
  auto x_buf = buffer<In>(n + in_offset);
  In* x = x_buf.get() + in_offset;
  for (std::size_t i = 0; i < n; ++i) x[i] = in.take<In>();
  auto expected = buffer<Out>(n), got_buf = buffer<Out>(n + out_offset);
  Out* got = got_buf.get() + out_offset;
  auto with_source = [&](auto fn) {
    if (aligned)
      fn(RequantAligned{multiplier.get(), shift.get(), scale.get()});
    else
      fn(RequantBroadcast{multiplier[0], shift[0], scale[0]});
  };
  with_source([&](auto src) { Kernels<Path::kScalar>::requantize<Rule>(x, expected.get(), n, src, args); });
  for_each_simd_path([&](auto k, Path path) {
    with_source([&](auto src) { decltype(k)::template requantize<Rule>(x, got, n, src, args); });
    compare("requantize", Rule::name(), path, expected.get(), got, n);
  });
}

template <class Rule>
void fuzz_requantize_types(Bytes& in, std::uint8_t types) {
  switch (types % 6) {
    case 0:
      return fuzz_requantize<Rule, std::int32_t, std::int8_t>(in);
    case 1:
      return fuzz_requantize<Rule, std::int32_t, std::uint8_t>(in);
    case 2:
      return fuzz_requantize<Rule, std::int32_t, std::int16_t>(in);
    case 3:
      return fuzz_requantize<Rule, std::int16_t, std::int8_t>(in);
    case 4:
      return fuzz_requantize<Rule, std::uint8_t, std::uint8_t>(in);
    default:
      return fuzz_requantize<Rule, std::int8_t, std::int8_t>(in);
  }
}

void fuzz_requantize_rule(Bytes& in, std::uint8_t choice) {
  switch (choice % 4) {
    case 0:
      return fuzz_requantize_types<GemmlowpRounding>(in, choice / 4);
    case 1:
      return fuzz_requantize_types<SingleRounding>(in, choice / 4);
    case 2:
      return fuzz_requantize_types<TvmToNearest>(in, choice / 4);
    default:
      return fuzz_requantize_types<Fp32Rounding>(in, choice / 4);
  }
}

// 4-bit packing of n values into elements [at, at + n) of a buffer whose
// other nibbles must stay as they were, and unpacking them again.
template <class T>
void fuzz_nibbles(Bytes& in) {
  using U = typename T::Unpacked;
  const std::int64_t at = in.take<std::uint8_t>() % 8;
  const std::int64_t n = static_cast<std::int64_t>(std::min(in.left(), kMaxElements));
  auto v = buffer<U>(static_cast<std::size_t>(n));
  const Range r = T::range();
  for (std::int64_t i = 0; i < n; ++i)
    v[i] = static_cast<U>(r.qmin + static_cast<std::int32_t>(in.take<std::uint8_t>() % (r.qmax - r.qmin + 1)));
  const std::size_t bytes = packed_size(at + n + 1);
  auto expected = buffer<std::uint8_t>(bytes), got = buffer<std::uint8_t>(bytes);
  auto back = buffer<U>(static_cast<std::size_t>(n)), back_expected = buffer<U>(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < bytes; ++i) expected[i] = static_cast<std::uint8_t>(0xA5 + i);
  Kernels<Path::kScalar>::pack_nibbles<T>(v.get(), expected.get(), at, n);
  Kernels<Path::kScalar>::unpack_nibbles<T>(expected.get(), at, n, back_expected.get());
  for_each_simd_path([&](auto k, Path path) {
    for (std::size_t i = 0; i < bytes; ++i) got[i] = static_cast<std::uint8_t>(0xA5 + i);
    decltype(k)::template pack_nibbles<T>(v.get(), got.get(), at, n);
    compare("pack_nibbles", T::name(), path, expected.get(), got.get(), bytes);
    decltype(k)::template unpack_nibbles<T>(expected.get(), at, n, back.get());
    compare("unpack_nibbles", T::name(), path, back_expected.get(), back.get(), static_cast<std::size_t>(n));
  });
}

// Float zero points (float_qparams.hpp's kernels, numerics.hpp's float_zp):
// quantize to Q, dequantize from Q, fake-quantize with a float or half zero
// point. Scales any finite value >= 0 (> 0 to fake-quantize), zero points
// any finite float, per run or per element; inputs raw bits or near ties.
template <class Q>
void fuzz_float_zero_point(Bytes& in, std::uint8_t op) {
  const Range range = to_range<Q>(in);
  const std::uint8_t layout = in.take<std::uint8_t>();
  const bool aligned = layout & 1;
  const std::uint8_t mode = layout >> 1;
  const std::size_t in_offset = (layout >> 2) % 4, out_offset = (layout >> 4) % 4;
  const bool fake = op % 4 >= 2;
  auto param = [&](float* scale, float* zero_point) {
    float s, z;
    const std::uint32_t sb = in.take<std::uint32_t>(), zb = in.take<std::uint32_t>();
    std::memcpy(&s, &sb, sizeof s);
    std::memcpy(&z, &zb, sizeof z);
    s = std::fabs(s);
    *scale = std::isfinite(s) && (s > 0.0f || !fake) ? s : to_scale(sb);
    *zero_point = std::isfinite(z) ? z : static_cast<float>(static_cast<std::int16_t>(zb));
  };
  float scale = 0.0f, zero_point = 0.0f;
  param(&scale, &zero_point);
  const std::size_t per_element = 4 + (aligned ? 8 : 0);
  const std::size_t n = in.left() / per_element < kMaxElements ? in.left() / per_element : kMaxElements;
  auto scales = buffer<float>(aligned ? n : 0), zero_points = buffer<float>(aligned ? n : 0);
  for (std::size_t i = 0; aligned && i < n; ++i) param(&scales[i], &zero_points[i]);
  auto with_source = [&](auto&& fn) {
    if (aligned)
      fn(FloatAligned{scales.get(), zero_points.get()});
    else
      fn(FloatBroadcast{scale, zero_point});
  };
  auto x_buf = buffer<float>(n + in_offset);
  auto q_buf = buffer<Q>(n + in_offset);
  float* x = x_buf.get() + in_offset;
  Q* q = q_buf.get() + in_offset;
  for (std::size_t i = 0; i < n; ++i) {
    const float s = aligned ? scales[i] : scale;
    x[i] = to_input(in, mode, s > 0.0f ? s : 1.0f);
    std::uint32_t bits;
    std::memcpy(&bits, &x[i], sizeof bits);
    q[i] = static_cast<Q>(bits);
  }
  using Scalar = Kernels<Path::kScalar>;
  const char* label = "float zero point";
  switch (op % 4) {
    case 0: {
      auto expected = buffer<Q>(n), got_buf = buffer<Q>(n + out_offset);
      with_source([&](auto src) { Scalar::quantize_float_zp<Q>(x, expected.get(), n, src, range); });
      return for_each_simd_path([&](auto k, Path path) {
        with_source([&](auto src) {
          decltype(k)::template quantize_float_zp<Q>(x, got_buf.get() + out_offset, n, src, range);
        });
        compare("quantize_float_zp", label, path, expected.get(), got_buf.get() + out_offset, n);
      });
    }
    case 1: {
      auto expected = buffer<float>(n), got_buf = buffer<float>(n + out_offset);
      with_source([&](auto src) { Scalar::dequantize_float_zp<Q>(q, expected.get(), n, src); });
      return for_each_simd_path([&](auto k, Path path) {
        with_source(
            [&](auto src) { decltype(k)::template dequantize_float_zp<Q>(q, got_buf.get() + out_offset, n, src); });
        compare("dequantize_float_zp", label, path, expected.get(), got_buf.get() + out_offset, n);
      });
    }
    default: {
      auto expected = buffer<float>(n), got_buf = buffer<float>(n + out_offset);
      auto run = [&](auto half) {
        with_source([&](auto src) { Scalar::fake_quantize_float_zp<half.value>(x, expected.get(), n, src, range); });
        for_each_simd_path([&](auto k, Path path) {
          with_source([&](auto src) {
            decltype(k)::template fake_quantize_float_zp<half.value>(x, got_buf.get() + out_offset, n, src, range);
          });
          compare(half.value ? "fake_quantize_float_zp (half)" : "fake_quantize_float_zp", label, path, expected.get(),
                  got_buf.get() + out_offset, n);
        });
      };
      if (op % 4 == 3)
        run(std::true_type{});
      else
        run(std::false_type{});
    }
  }
}

template <class N>
void fuzz_storage(Bytes& in, std::uint8_t op, std::uint8_t storage) {
  switch (storage % 5) {
    case 0:
      return fuzz_one<N, std::int8_t>(in, op);
    case 1:
      return fuzz_one<N, std::uint8_t>(in, op);
    case 2:
      return fuzz_one<N, std::int16_t>(in, op);
    case 3:
      return fuzz_one<N, std::uint16_t>(in, op);
    default:
      return fuzz_one<N, std::int32_t>(in, op);
  }
}

}  // namespace
}  // namespace eigenq

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace eigenq;
  Bytes in(data, size);
  const std::uint8_t op = in.take<std::uint8_t>(), choice = in.take<std::uint8_t>();
  if (op % 8 == 6) {
    fuzz_requantize_rule(in, choice);
    return 0;
  }
  if (op % 16 == 15) {  // float zero points
    switch (choice % 4) {
      case 0:
        fuzz_float_zero_point<std::int8_t>(in, choice / 4);
        break;
      case 1:
        fuzz_float_zero_point<std::uint8_t>(in, choice / 4);
        break;
      case 2:
        fuzz_float_zero_point<std::int16_t>(in, choice / 4);
        break;
      default:
        fuzz_float_zero_point<std::int32_t>(in, choice / 4);
        break;
    }
    return 0;
  }
  if (op % 8 == 7) {
    if (choice % 2)
      fuzz_nibbles<Int4>(in);
    else
      fuzz_nibbles<UInt4>(in);
    return 0;
  }
  const std::uint8_t storage = choice / 6;
  switch (choice % 6) {
    case 0:
      fuzz_storage<Numerics<RoundHalfEven, ScaleByReciprocal>>(in, op, storage);
      break;
    case 1:
      fuzz_storage<Numerics<RoundHalfEven, ScaleByDivision>>(in, op, storage);
      break;
    case 2:
      fuzz_storage<Numerics<RoundHalfAway, ScaleByReciprocal>>(in, op, storage);
      break;
    case 3:
      fuzz_storage<Numerics<RoundHalfAway, ScaleByDivision>>(in, op, storage);
      break;
    case 4:
      fuzz_storage<Numerics<RoundHalfUp, ScaleByReciprocal>>(in, op, storage);
      break;
    default:
      fuzz_storage<Numerics<RoundHalfUp, ScaleByDivision>>(in, op, storage);
      break;
  }
  return 0;
}
