// Every public header, and the class templates instantiated whole (every
// member) for each storage type, preset and rule, so that a warning in any
// template of the library shows here. Compiled, not run, by
// tests/warnings/CMakeLists.txt with -Werror under g++ and clang++.
#include <eigenq/eigenq.hpp>

namespace eigenq {

template class Quantizer<std::int8_t, presets::pytorch>;
template class Quantizer<std::uint8_t, presets::onnx>;
template class Quantizer<std::int16_t, presets::tflite>;
template class Quantizer<std::int32_t, presets::tensorflow>;
template class Quantizer<std::uint16_t, presets::onnx>;
template class Quantizer<std::int8_t, presets::tensorflow_vars, Path::kScalar>;
template class PackedQuantizer<Int4>;
template class PackedQuantizer<UInt4, presets::onnx>;
template class PackedQuantizer<Int2>;
template class PackedQuantizer<UInt2, presets::onnx>;
template class Requantizer<std::int8_t, GemmlowpRounding>;
template class Requantizer<std::uint8_t, SingleRounding, std::int16_t>;
template class Requantizer<std::int16_t, TvmUpward, std::int8_t>;
template class Requantizer<std::int8_t, TvmToNearest, std::uint8_t>;
template class Requantizer<std::int8_t, Fp32Rounding>;
template class Requantizer<std::uint8_t, GemmlowpRounding, std::int32_t, Path::kScalar>;
template class OutputStage<std::int8_t, GemmlowpRounding>;
template class OutputStage<std::uint8_t, Fp32Rounding>;
template class OutputStage<std::int8_t, TvmToNearest, Path::kScalar>;
template class FakeQuantSTE<presets::pytorch>;
template class FakeQuantSTE<presets::tensorflow, Path::kScalar>;
template class LearnableFakeQuant<presets::pytorch>;
template class LearnableFakeQuant<presets::onnx, Path::kScalar>;
template class MovingAverageMinMax<std::uint8_t>;
template class FakeQuantize<std::int8_t>;
template class MinMaxObserver<std::int16_t>;
template class HistogramObserver<std::int8_t>;
template class HistogramObserver<std::uint8_t>;
template class FakeQuantOp<presets::tflite>;
template class FakeQuantAxisOp<presets::tensorflow_vars>;
template class SteOp<presets::onnx>;

// The float16 / bfloat16 entry points (every compiled path's conversions).
#define EIGENQ_INSTANTIATE_HALF(F, H)                                                                                \
  template void Quantizer<std::int8_t, presets::pytorch>::quantize<F>(const std::uint16_t*, std::int8_t*) const;     \
  template void Quantizer<std::uint8_t, presets::onnx>::dequantize<F>(const std::uint8_t*, std::uint16_t*) const;    \
  template void Quantizer<std::int32_t, presets::tensorflow>::fake_quantize<F>(const std::uint16_t*, std::uint16_t*) \
      const;                                                                                                         \
  template void Quantizer<std::int8_t, presets::tensorflow_vars, Path::kScalar>::fake_quantize_mask<F>(              \
      const std::uint16_t*, std::uint16_t*, std::uint8_t*) const;                                                    \
  template void Quantizer<std::int8_t, presets::pytorch>::quantize<H, F>(const H*, std::int8_t*) const;              \
  template Status compute_min_max<F>(const std::uint16_t*, const Shape&, const ParamLayout&, MinMax*);               \
  template Status MinMaxObserver<std::int16_t>::observe<F>(const std::uint16_t*, const Shape&);
EIGENQ_INSTANTIATE_HALF(Float16, Eigen::half)
EIGENQ_INSTANTIATE_HALF(BFloat16, Eigen::bfloat16)
#undef EIGENQ_INSTANTIATE_HALF

// The minifloat element codec and its schemes, for every format.
#define EIGENQ_INSTANTIATE_MINIFLOAT(F)                                                                               \
  template std::uint8_t minifloat_encode<F>(float, bool);                                                             \
  template float minifloat_decode<F>(std::uint8_t);                                                                   \
  template Status quantize_minifloat<F>(const float*, std::uint8_t*, const Shape&, const MinifloatParamsView&, bool); \
  template Status dequantize_minifloat<F>(const std::uint8_t*, float*, const Shape&, const MinifloatParamsView&);
EIGENQ_INSTANTIATE_MINIFLOAT(Float8E4M3FN)
EIGENQ_INSTANTIATE_MINIFLOAT(Float8E4M3FNUZ)
EIGENQ_INSTANTIATE_MINIFLOAT(Float8E5M2)
EIGENQ_INSTANTIATE_MINIFLOAT(Float8E5M2FNUZ)
EIGENQ_INSTANTIATE_MINIFLOAT(Float6E2M3)
EIGENQ_INSTANTIATE_MINIFLOAT(Float6E3M2)
EIGENQ_INSTANTIATE_MINIFLOAT(Float4E2M1)
#undef EIGENQ_INSTANTIATE_MINIFLOAT
#define EIGENQ_INSTANTIATE_MX(E)                                                                                       \
  template Status mx_quantize<E>(const float*, std::uint8_t*, std::uint8_t*, const Shape&, int, std::int64_t,          \
                                 MxScaleMode);                                                                         \
  template Status mx_dequantize<E>(const std::uint8_t*, const std::uint8_t*, float*, const Shape&, int, std::int64_t); \
  template Status mx_fake_quantize<E>(const float*, float*, const Shape&, int, std::int64_t, MxScaleMode);             \
  template Status mx_fake_quantize_mask<E>(const float*, float*, std::uint8_t*, const Shape&, int, std::int64_t,       \
                                           MxScaleMode);                                                               \
  template std::uint8_t mx_scale_code<E>(float, MxScaleMode);
EIGENQ_INSTANTIATE_MX(Float8E4M3FN)
EIGENQ_INSTANTIATE_MX(Float8E5M2)
EIGENQ_INSTANTIATE_MX(Float6E2M3)
EIGENQ_INSTANTIATE_MX(Float6E3M2)
EIGENQ_INSTANTIATE_MX(Float4E2M1)
EIGENQ_INSTANTIATE_MX(MxInt8)
#undef EIGENQ_INSTANTIATE_MX
#define EIGENQ_INSTANTIATE_MX_PACKED(E)                                                                              \
  template Status mx_packed_bytes<E>(const Shape&, std::size_t*);                                                    \
  template Status mx_quantize_packed<E>(const float*, std::uint8_t*, std::uint8_t*, const Shape&, int, std::int64_t, \
                                        MxScaleMode);                                                                \
  template Status mx_dequantize_packed<E>(const std::uint8_t*, const std::uint8_t*, float*, const Shape&, int,       \
                                          std::int64_t);
EIGENQ_INSTANTIATE_MX_PACKED(Float6E2M3)
EIGENQ_INSTANTIATE_MX_PACKED(Float6E3M2)
EIGENQ_INSTANTIATE_MX_PACKED(Float4E2M1)
#undef EIGENQ_INSTANTIATE_MX_PACKED
// NVFP4's entry points are not templates: taking their addresses compiles them.
[[maybe_unused]] const auto nvfp4_quantize_entry = &nvfp4_quantize;
[[maybe_unused]] const auto nvfp4_dequantize_entry = &nvfp4_dequantize;
[[maybe_unused]] const auto nvfp4_quantize_packed_entry = &nvfp4_quantize_packed;
[[maybe_unused]] const auto nvfp4_dequantize_packed_entry = &nvfp4_dequantize_packed;
[[maybe_unused]] const auto nvfp4_fake_quantize_entry = &nvfp4_fake_quantize;
[[maybe_unused]] const auto nvfp4_fake_quantize_mask_entry = &nvfp4_fake_quantize_mask;

// Every SIMD path compiled into this build, by name (kAuto above reaches
// them too, through the run-time switch): the per-ISA primitives
// (arch/x86_avx2.hpp, arch/x86_avx512.hpp on x86-64, whatever the -m
// flags; arch/neon.hpp on AArch64) and the generic operations, LSQ
// backward and float-zero-point kernels compiled over them
// (arch/generic/*.inl).
#define EIGENQ_INSTANTIATE_PATH(P)                                                                            \
  template class Quantizer<std::int8_t, presets::pytorch, P>;                                                 \
  template class Quantizer<std::uint8_t, presets::onnx, P>;                                                   \
  template class Quantizer<std::int16_t, presets::tflite, P>;                                                 \
  template class Quantizer<std::int32_t, presets::tensorflow, P>;                                             \
  template class Quantizer<std::uint16_t, presets::onnx, P>;                                                  \
  template class PackedQuantizer<Int4, presets::pytorch, P>;                                                  \
  template class PackedQuantizer<UInt2, presets::pytorch, P>;                                                 \
  template class PackedQuantizer<UInt4, presets::onnx, P>;                                                    \
  template class Requantizer<std::int8_t, GemmlowpRounding, std::int32_t, P>;                                 \
  template class Requantizer<std::uint8_t, SingleRounding, std::int16_t, P>;                                  \
  template class Requantizer<std::int16_t, TvmUpward, std::int8_t, P>;                                        \
  template class Requantizer<std::int8_t, TvmToNearest, std::uint8_t, P>;                                     \
  template class Requantizer<std::int8_t, Fp32Rounding, std::int32_t, P>;                                     \
  template class OutputStage<std::int8_t, SingleRounding, P>;                                                 \
  template class OutputStage<std::uint8_t, Fp32Rounding, P>;                                                  \
  template class FakeQuantSTE<presets::pytorch, P>;                                                           \
  template class LearnableFakeQuant<presets::pytorch, P>;                                                     \
  template class LearnableFakeQuant<presets::tensorflow_vars, P>;                                             \
  template Status quantize_float_qparams<std::int8_t, P>(const float*, std::int8_t*, const Shape&,            \
                                                         const FloatQParamsView&);                            \
  template Status quantize_float_qparams<std::uint16_t, P>(const float*, std::uint16_t*, const Shape&,        \
                                                           const FloatQParamsView&);                          \
  template Status quantize_float_qparams<std::int32_t, P>(const float*, std::int32_t*, const Shape&,          \
                                                          const FloatQParamsView&);                           \
  template Status dequantize_float_qparams<std::uint8_t, P>(const std::uint8_t*, float*, const Shape&,        \
                                                            const FloatQParamsView&);                         \
  template Status dequantize_float_qparams<std::int32_t, P>(const std::int32_t*, float*, const Shape&,        \
                                                            const FloatQParamsView&);                         \
  template Status quantize_float_qparams_packed<UInt4, P>(const float*, std::uint8_t*, const Shape&,          \
                                                          const FloatQParamsView&);                           \
  template Status dequantize_float_qparams_packed<Int2, P>(const std::uint8_t*, float*, const Shape&,         \
                                                           const FloatQParamsView&);                          \
  template Status fake_quantize_float_qparams<P>(const float*, float*, const Shape&, const FloatQParamsView&, \
                                                 ZeroPointPrecision);
#if EIGENQ_HAVE_AVX2
EIGENQ_INSTANTIATE_PATH(Path::kAvx2)
#endif
#if EIGENQ_HAVE_AVX512
EIGENQ_INSTANTIATE_PATH(Path::kAvx512)
#endif
#if EIGENQ_HAVE_NEON
EIGENQ_INSTANTIATE_PATH(Path::kNeon)
#endif
#undef EIGENQ_INSTANTIATE_PATH

}  // namespace eigenq
