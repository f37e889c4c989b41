// libFuzzer target: minifloat quantize / dequantize runs
// (minifloat_quantize.hpp) on every SIMD path compiled in and supported by
// this CPU against the portable loops, bit for bit. The fuzzer's bytes
// choose the format, `saturate`, a broadcast or an aligned scale, buffer
// offsets and the data. A difference prints the case and aborts; buffers are
// exactly as long as the kernel may touch, so AddressSanitizer catches any
// access outside them.
//
// Build and run: tests/fuzz/run.sh (clang, -fsanitize=fuzzer,address,undefined).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "eigenq/kernels.hpp"
#include "paths.hpp"

namespace eigenq {
namespace {

constexpr std::size_t kMaxElements = 4096;

template <class T>
std::unique_ptr<T[]> buffer(std::size_t n) {
  return std::unique_ptr<T[]>(new T[n]());
}

float float_of(std::uint32_t bits) {
  float v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

// Any bit pattern to a valid scale (finite, > 0): itself when valid, else a
// value between 2^-40 and 2^40 taken from its bits.
float to_scale(std::uint32_t bits) {
  const float s = std::fabs(float_of(bits));
  if (std::isfinite(s) && s > 0.0f) return s;
  return std::ldexp(1.0f + static_cast<float>(bits & 0xffff) / 65536.0f, static_cast<int>((bits >> 16) % 81) - 40);
}

template <class T>
void compare(const char* op, const char* format, Path path, const T* expected, const T* got, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (std::memcmp(&expected[i], &got[i], sizeof(T)) == 0) continue;
    std::uint32_t e = 0, g = 0;
    std::memcpy(&e, &expected[i], sizeof(T));
    std::memcpy(&g, &got[i], sizeof(T));
    std::fprintf(stderr, "%s (%s), %s path: element %zu of %zu differs: expected 0x%x, got 0x%x\n", op, format,
                 path_name(path), i, n, e, g);
    std::abort();
  }
}

template <class Fmt, bool kSaturate>
void fuzz_format(const std::uint8_t* data, std::size_t size, std::uint8_t layout) {
  const bool aligned = layout & 1;
  const std::size_t offset = (layout >> 1) % 4;
  const std::size_t n = std::min(size / (aligned ? 8 : 4), kMaxElements);
  // Inputs and (aligned) scales from the bytes; a broadcast scale from the first word.
  auto x = buffer<float>(offset + n), scale = buffer<float>(offset + n);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, data + 4 * i, 4);
    x[offset + i] = float_of(bits);
    if (aligned) {
      std::memcpy(&bits, data + 4 * (n + i), 4);
      scale[offset + i] = to_scale(bits);
    }
  }
  std::uint32_t first = 0;
  std::memcpy(&first, data, std::min<std::size_t>(size, 4));
  const float broadcast = to_scale(first ^ 0x3f800000u);
  auto q_expected = buffer<std::uint8_t>(offset + n), q = buffer<std::uint8_t>(offset + n);
  auto y_expected = buffer<float>(offset + n), y = buffer<float>(offset + n);
  auto run = [&](auto kernels, std::uint8_t* codes, float* values) {
    using K = decltype(kernels);
    if (aligned) {
      K::template quantize_minifloat<Fmt, kSaturate>(x.get() + offset, codes + offset, n, scale.get() + offset);
      K::template dequantize_minifloat<Fmt>(q_expected.get() + offset, values + offset, n, scale.get() + offset);
    } else {
      K::template quantize_minifloat<Fmt, kSaturate>(x.get() + offset, codes + offset, n, broadcast);
      K::template dequantize_minifloat<Fmt>(q_expected.get() + offset, values + offset, n, broadcast);
    }
  };
  // Every path dequantizes the portable path's codes.
  run(Kernels<Path::kScalar>{}, q_expected.get(), y_expected.get());
  testing_paths::for_each_supported_path([&](auto path) {
    constexpr Path P = decltype(path)::value;
    if constexpr (P != Path::kScalar) {
      run(Kernels<P>{}, q.get(), y.get());
      compare("quantize_minifloat", Fmt::kFormat.name, P, q_expected.get() + offset, q.get() + offset, n);
      compare("dequantize_minifloat", Fmt::kFormat.name, P, y_expected.get() + offset, y.get() + offset, n);
    }
  });
}

template <class Fmt>
void fuzz_saturate(const std::uint8_t* data, std::size_t size, std::uint8_t layout) {
  if (layout & 0x80)
    fuzz_format<Fmt, true>(data, size, layout);
  else
    fuzz_format<Fmt, false>(data, size, layout);
}

}  // namespace
}  // namespace eigenq

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace eigenq;
  if (size < 2) return 0;
  const std::uint8_t format = data[0], layout = data[1];
  data += 2;
  size -= 2;
  switch (format % 7) {
    case 0:
      fuzz_saturate<Float8E4M3FN>(data, size, layout);
      break;
    case 1:
      fuzz_saturate<Float8E4M3FNUZ>(data, size, layout);
      break;
    case 2:
      fuzz_saturate<Float8E5M2>(data, size, layout);
      break;
    case 3:
      fuzz_saturate<Float8E5M2FNUZ>(data, size, layout);
      break;
    case 4:
      fuzz_saturate<Float6E2M3>(data, size, layout);
      break;
    case 5:
      fuzz_saturate<Float6E3M2>(data, size, layout);
      break;
    default:
      fuzz_saturate<Float4E2M1>(data, size, layout);
      break;
  }
  return 0;
}
