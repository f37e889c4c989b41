#pragma once
// The scheme table. A scheme is one way an engine stores a tensor: an
// element format at a granularity (per-tensor, per-channel, groups of N,
// per-element), with a symmetry, and the metadata an engine keeps beside
// the data: the scale as float32, float16, bfloat16 or E8M0 (a power of
// two), the zero point in 32, 8, 4 or 2 bits, or none (symmetric).
// Quantization uses the metadata as stored (the rounded scale, the zero
// point chosen again for it), so the error is what an engine computes, and
// bytes are counted as stored: data and zero points packed, scales whole.
//
// An element format is one entry of `formats()`: its name, bits, levels,
// the block and scale format it fixes (if any), and its quantize function.
// The floating-point formats are entries of the same table: FP8 E4M3 / E5M2
// (ONNX's float8e4m3fn / float8e5m2, a float32 scale per group chosen from
// its largest magnitude), and the block formats MXFP8, MXFP6, MXFP4, MXINT8
// (OCP MX: blocks of 32, an E8M0 scale from the block's max) and NVFP4
// (blocks of 16, an E4M3 scale and a float32 per tensor), whose quantize
// chooses its own block scales (eigenq/mx.hpp).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "eigenq/groupwise.hpp"
#include "eigenq/minifloat_quantize.hpp"
#include "eigenq/mx.hpp"
#include "eigenq/packed.hpp"
#include "eigenq/parallel.hpp"
#include "eigenq/qparams.hpp"
#include "eigenq/scheme.hpp"
#include "metrics.hpp"

namespace eigenq::compare {

// ---------------------------------------------------------------------------
// Metadata formats

enum class ScaleFormat { kAuto, kFloat32, kFloat16, kBFloat16, kE8M0, kE4M3 };

inline const char* scale_format_name(ScaleFormat f) {
  switch (f) {
    case ScaleFormat::kFloat32:
      return "f32";
    case ScaleFormat::kFloat16:
      return "f16";
    case ScaleFormat::kBFloat16:
      return "bf16";
    case ScaleFormat::kE8M0:
      return "e8m0";
    case ScaleFormat::kE4M3:
      return "e4m3";
    case ScaleFormat::kAuto:
      break;
  }
  return "auto";
}

inline int scale_format_bits(ScaleFormat f) {
  return f == ScaleFormat::kE8M0 || f == ScaleFormat::kE4M3          ? 8
         : f == ScaleFormat::kFloat16 || f == ScaleFormat::kBFloat16 ? 16
                                                                     : 32;
}

/// x rounded to bfloat16 (the top half of a float32), to nearest, ties to
/// even. Finite input only (scales are).
inline float round_to_bfloat16(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  u += 0x7FFFu + ((u >> 16) & 1u);
  u &= 0xFFFF0000u;
  float out;
  std::memcpy(&out, &u, sizeof out);
  return out;
}

/// The smallest power of two >= s, for a positive finite s; inf when that
/// is above float32's range.
inline float round_up_to_power_of_two(float s) {
  int e = 0;
  const float m = std::frexp(s, &e);  // s = m * 2^e, m in [0.5, 1)
  return m == 0.5f ? s : std::ldexp(1.0f, e);
}

/// A scale as an engine stores it, which is what dequantization multiplies
/// by: float16 and bfloat16 round to nearest, ties to even, as conversion
/// instructions do; a float16 below the smallest subnormal is kept at it, so
/// a dead group keeps a positive scale. E8M0 (the MX formats' shared scale,
/// 2^-127 .. 2^127) rounds up to a power of two, so a group's range is never
/// clipped by the rounding. A scale the format cannot hold is refused, naming
/// parameter k.
inline Status store_scale(float s, ScaleFormat f, std::size_t k, float* out) {
  float v = s;
  const char* largest = "3.4e38";
  switch (f) {
    case ScaleFormat::kFloat16:
      v = half_to_float(float_to_half(s));
      if (v == 0.0f) v = 0x1p-24f;
      largest = "65504";
      break;
    case ScaleFormat::kBFloat16:
      v = round_to_bfloat16(s);
      largest = "3.39e38";
      break;
    case ScaleFormat::kE8M0:
      v = std::max(round_up_to_power_of_two(s), 0x1p-127f);
      largest = "2^127";
      break;
    case ScaleFormat::kE4M3:  // NVFP4's block scales: only its own quantize chooses them
    case ScaleFormat::kFloat32:
    case ScaleFormat::kAuto:
      break;
  }
  if (!std::isfinite(v) || (f == ScaleFormat::kE8M0 && v > 0x1p127f))
    return eigenq::detail::error(StatusCode::kInvalidScale, "scale[", k, "] = ", s, " does not fit ",
                                 scale_format_name(f), " (largest ", largest, ")");
  *out = v;
  return Status::ok();
}

/// Rounds every scale of `p` to its stored format and, for affine
/// parameters, chooses each zero point again for the stored scale from its
/// group's lower bound, by the rule that chose it first (qparams.hpp:
/// zp = clamp(qmin - round_half_even(min(lo, 0) / s), qmin, qmax)).
inline Status store_metadata(const MinMax& ranges, ScaleFormat f, Symmetry symmetry, QParams* p) {
  if (f == ScaleFormat::kFloat32 || f == ScaleFormat::kAuto) return Status::ok();
  for (std::size_t k = 0; k < p->scale.size(); ++k) {
    EIGENQ_RETURN_IF_ERROR(store_scale(p->scale[k], f, k, &p->scale[k]));
    if (symmetry == Symmetry::kAffine)
      p->zero_point[k] = eigenq::detail::affine_zero_point(std::min(ranges.min[k], 0.0f), p->scale[k], p->range);
  }
  return Status::ok();
}

// ---------------------------------------------------------------------------
// Element formats

/// How parameters are chosen from a group's min and max: affine (scale and
/// zero point), symmetric over the full range (PyTorch: scale = absmax /
/// ((qmax - qmin) / 2), e.g. absmax / 127.5 for int8), or symmetric over the
/// narrow range (qmin + 1: [-127, 127] for int8, scale absmax / 127, as
/// TFLite and most weight formats do).
enum class Mode { kAsym, kSym, kSymNarrow };

inline const char* mode_name(Mode m) { return m == Mode::kAsym ? "asym" : m == Mode::kSym ? "sym" : "sym-narrow"; }
inline Symmetry symmetry_of(Mode m) { return m == Mode::kAsym ? Symmetry::kAffine : Symmetry::kSymmetric; }

/// Seconds per call, NaN when not measured.
struct Timing {
  double quantize_seconds = std::numeric_limits<double>::quiet_NaN();
  double dequantize_seconds = std::numeric_limits<double>::quiet_NaN();
};

/// Parameters for each group's [min, max] (`layout` gives the granularity).
using ParamsFn = Status (*)(const MinMax& ranges, const ParamLayout& layout, Range range, Symmetry symmetry,
                            QParams* out);
/// y = dequantize(quantize(x)) with `params`, on `pool`'s threads; with
/// `speed` enabled, also the seconds a quantize and a dequantize call take.
using ApplyFn = Status (*)(const float* x, const Shape& shape, const QParams& params, float* y,
                           const SpeedOptions& speed, ThreadPoolExecutor& pool, Timing* timing);

/// How a format's levels relate to its scale.
enum class Kind {
  kInteger,      ///< affine or symmetric integer levels (qparams.hpp)
  kFloat,        ///< floating-point elements, symmetric, a scale per group (FP8)
  kBlockScaled,  ///< floating-point elements whose quantize chooses each block's scale (MX, NVFP4)
};

struct Format {
  const char* name;
  int bits;     ///< stored bits per element
  Range range;  ///< integer formats: the levels; floating-point ones: +-the largest magnitude
  bool is_signed;
  std::int64_t block;  ///< a block size the format fixes (MX: 32, NVFP4: 16); 0: any granularity
  ScaleFormat scale;   ///< a scale format it fixes (MX: E8M0); kAuto: the scheme's choice
  ParamsFn params;
  ApplyFn apply;
  const char* storage;  ///< how the elements are stored, for the outputs
  Kind kind = Kind::kInteger;
  double tensor_bytes = 0.0;  ///< metadata per tensor beside the groups' (NVFP4: its float32 scale)

  /// Floating-point formats are symmetric: no zero point, one mode.
  bool symmetric_only() const { return kind != Kind::kInteger; }
};

namespace detail {

/// PyTorch's observer rules (qparams.hpp); Q only decides the symmetric
/// zero point (0 for signed storage, the middle of the range for unsigned).
template <class Q>
Status affine_params(const MinMax& ranges, const ParamLayout& layout, Range range, Symmetry symmetry, QParams* out) {
  return qparams_from_min_max<Q>(ranges, layout, range, symmetry, out);
}

/// Quantizes with `Quantizer` (byte storage, here: S = Q) or
/// `PackedQuantizer` (4-bit and 2-bit storage, S = Int4 / UInt4 / Int2 /
/// UInt2, bytes hold two or four), on `pool` (the same bits at every thread
/// count; only the speed depends on it).
template <class S>
Status apply(const float* x, const Shape& shape, const QParams& params, float* y, const SpeedOptions& speed,
             ThreadPoolExecutor& pool, Timing* timing) {
  constexpr bool packed = is_packed_v<S>;
  using Qz = std::conditional_t<packed, PackedQuantizer<S>, Quantizer<S>>;
  using Byte = std::conditional_t<packed, std::uint8_t, S>;
  Qz qz;
  EIGENQ_RETURN_IF_ERROR(Qz::create(shape, params, &qz));
  const std::int64_t n = shape.size();
  std::size_t bytes = static_cast<std::size_t>(n);
  if constexpr (packed) bytes = packed_bytes<S>(n);
  std::vector<Byte> q(bytes);
  qz.quantize(x, q.data(), pool);
  qz.dequantize(q.data(), y, pool);
  if (speed.enabled && n > 0) {
    timing->quantize_seconds = seconds_per_call(speed, [&] { qz.quantize(x, q.data(), pool); });
    timing->dequantize_seconds = seconds_per_call(speed, [&] { qz.dequantize(q.data(), y, pool); });
  }
  return Status::ok();
}

/// Scales of a floating-point format F: each group's largest magnitude
/// maps to F's largest finite value (a dead group gets scale 1); zero
/// points 0.
template <class F>
Status minifloat_params(const MinMax& ranges, const ParamLayout& layout, Range range, Symmetry, QParams* out) {
  const float largest = minifloat_decode<F>(static_cast<std::uint8_t>(F::kFormat.max_magnitude()));
  QParams p;
  p.granularity = layout.granularity;
  p.axis = layout.axis;
  p.block_size = layout.block_size;
  p.range = range;
  for (std::size_t k = 0; k < ranges.min.size(); ++k) {
    const float absmax = std::max(-ranges.min[k], ranges.max[k]);
    const float s = absmax / largest;
    if (!std::isfinite(s))
      return eigenq::detail::error(StatusCode::kInvalidScale, "parameter ", k, ": range [", ranges.min[k], ", ",
                                   ranges.max[k], "] has no finite ", F::kFormat.name, " scale");
    p.scale.push_back(s > 0.0f ? s : 1.0f);
    p.zero_point.push_back(0);
  }
  *out = std::move(p);
  return Status::ok();
}

/// Block-scaled formats choose their scales as they quantize: the
/// parameters only carry the layout (one placeholder per block).
inline Status block_scaled_params(const MinMax& ranges, const ParamLayout& layout, Range range, Symmetry,
                                  QParams* out) {
  QParams p;
  p.granularity = layout.granularity;
  p.axis = layout.axis;
  p.block_size = layout.block_size;
  p.range = range;
  p.scale.assign(ranges.min.size(), 1.0f);
  p.zero_point.assign(ranges.min.size(), 0);
  *out = std::move(p);
  return Status::ok();
}

/// Times quantize and dequantize calls (each already run once, returning
/// ok) when `speed` asks for it.
template <class Quantize, class Dequantize>
void time_calls(const SpeedOptions& speed, std::int64_t n, Timing* timing, Quantize&& quantize,
                Dequantize&& dequantize) {
  if (!speed.enabled || n == 0) return;
  timing->quantize_seconds = seconds_per_call(speed, [&] { (void)quantize(); });
  timing->dequantize_seconds = seconds_per_call(speed, [&] { (void)dequantize(); });
}

/// FP8 through quantize_minifloat / dequantize_minifloat (vectorized on
/// every path; validation is part of each timed call).
template <class F>
Status apply_minifloat(const float* x, const Shape& shape, const QParams& params, float* y, const SpeedOptions& speed,
                       ThreadPoolExecutor&, Timing* timing) {
  const MinifloatParamsView p{ParamLayout(params.granularity, params.axis, params.block_size), params.scale.data(),
                              params.scale.size()};
  const std::int64_t n = shape.size();
  std::vector<std::uint8_t> q(static_cast<std::size_t>(n));
  EIGENQ_RETURN_IF_ERROR(quantize_minifloat<F>(x, q.data(), shape, p));
  EIGENQ_RETURN_IF_ERROR(dequantize_minifloat<F>(q.data(), y, shape, p));
  time_calls(
      speed, n, timing, [&] { return quantize_minifloat<F>(x, q.data(), shape, p); },
      [&] { return dequantize_minifloat<F>(q.data(), y, shape, p); });
  return Status::ok();
}

/// MX element type E (mx.hpp) in blocks along the parameters' axis; NVFP4
/// when E is void (its per-tensor scale from the tensor's largest
/// magnitude, torchao's rule). Elements one per byte, counted at their bits.
template <class E>
Status apply_block_scaled(const float* x, const Shape& shape, const QParams& params, float* y,
                          const SpeedOptions& speed, ThreadPoolExecutor&, Timing* timing) {
  const std::int64_t n = shape.size();
  std::vector<std::uint8_t> elements(static_cast<std::size_t>(n)), scales(params.scale.size());
  if constexpr (std::is_void_v<E>) {
    float amax = 0.0f;
    for (std::int64_t i = 0; i < n; ++i) amax = std::max(amax, std::fabs(x[i]));
    const float tensor_scale = amax > 0.0f ? nvfp4_per_tensor_scale(amax) : 1.0f;
    auto quantize = [&] {
      return nvfp4_quantize(x, elements.data(), scales.data(), shape, params.axis, tensor_scale, params.block_size);
    };
    auto dequantize = [&] {
      return nvfp4_dequantize(elements.data(), scales.data(), y, shape, params.axis, tensor_scale, params.block_size);
    };
    EIGENQ_RETURN_IF_ERROR(quantize());
    EIGENQ_RETURN_IF_ERROR(dequantize());
    time_calls(speed, n, timing, quantize, dequantize);
  } else {
    auto quantize = [&] {
      return mx_quantize<E>(x, elements.data(), scales.data(), shape, params.axis, params.block_size);
    };
    auto dequantize = [&] {
      return mx_dequantize<E>(elements.data(), scales.data(), y, shape, params.axis, params.block_size);
    };
    EIGENQ_RETURN_IF_ERROR(quantize());
    EIGENQ_RETURN_IF_ERROR(dequantize());
    time_calls(speed, n, timing, quantize, dequantize);
  }
  return Status::ok();
}

}  // namespace detail

/// Every element format, in the order tables list them.
inline const std::vector<Format>& formats() {
  using detail::affine_params;
  using detail::apply;
  using detail::apply_block_scaled;
  using detail::apply_minifloat;
  using detail::block_scaled_params;
  using detail::minifloat_params;
  static const std::vector<Format> table = {
      {"int8", 8, Range::full<std::int8_t>(), true, 0, ScaleFormat::kAuto, &affine_params<std::int8_t>,
       &apply<std::int8_t>, "one per byte"},
      {"uint8", 8, Range::full<std::uint8_t>(), false, 0, ScaleFormat::kAuto, &affine_params<std::uint8_t>,
       &apply<std::uint8_t>, "one per byte"},
      {"int4", 4, Int4::range(), true, 0, ScaleFormat::kAuto, &affine_params<std::int8_t>, &apply<Int4>,
       "two per byte (eigenq/packed.hpp)"},
      {"uint4", 4, UInt4::range(), false, 0, ScaleFormat::kAuto, &affine_params<std::uint8_t>, &apply<UInt4>,
       "two per byte (eigenq/packed.hpp)"},
      {"int2", 2, Int2::range(), true, 0, ScaleFormat::kAuto, &affine_params<std::int8_t>, &apply<Int2>,
       "four per byte (eigenq/packed.hpp)"},
      {"e4m3",
       8,
       {-448, 448},
       true,
       0,
       ScaleFormat::kAuto,
       &minifloat_params<Float8E4M3FN>,
       &apply_minifloat<Float8E4M3FN>,
       "float8e4m3fn, one per byte (eigenq/minifloat_quantize.hpp)",
       Kind::kFloat},
      {"e5m2",
       8,
       {-57344, 57344},
       true,
       0,
       ScaleFormat::kAuto,
       &minifloat_params<Float8E5M2>,
       &apply_minifloat<Float8E5M2>,
       "float8e5m2, one per byte (eigenq/minifloat_quantize.hpp)",
       Kind::kFloat},
      {"mxfp8",
       8,
       {-448, 448},
       true,
       kMxBlockSize,
       ScaleFormat::kE8M0,
       &block_scaled_params,
       &apply_block_scaled<Float8E4M3FN>,
       "OCP MXFP8 (E4M3), one per byte (eigenq/mx.hpp)",
       Kind::kBlockScaled},
      {"mxfp6",
       6,
       {-7, 7},
       true,
       kMxBlockSize,
       ScaleFormat::kE8M0,
       &block_scaled_params,
       &apply_block_scaled<Float6E2M3>,
       "OCP MXFP6 (E2M3), counted at 6 bits (eigenq/mx.hpp)",
       Kind::kBlockScaled},
      {"mxfp4",
       4,
       {-6, 6},
       true,
       kMxBlockSize,
       ScaleFormat::kE8M0,
       &block_scaled_params,
       &apply_block_scaled<Float4E2M1>,
       "OCP MXFP4 (E2M1), counted at 4 bits (eigenq/mx.hpp)",
       Kind::kBlockScaled},
      {"mxint8",
       8,
       {-127, 127},
       true,
       kMxBlockSize,
       ScaleFormat::kE8M0,
       &block_scaled_params,
       &apply_block_scaled<MxInt8>,
       "OCP MXINT8, one per byte (eigenq/mx.hpp)",
       Kind::kBlockScaled},
      {"nvfp4",
       4,
       {-6, 6},
       true,
       kNvfp4BlockSize,
       ScaleFormat::kE4M3,
       &block_scaled_params,
       &apply_block_scaled<void>,
       "NVFP4 (E2M1, E4M3 block scales), counted at 4 bits (eigenq/mx.hpp)",
       Kind::kBlockScaled,
       4.0},
  };
  return table;
}

inline const Format* find_format(const std::string& name) {
  for (const Format& f : formats())
    if (name == f.name) return &f;
  return nullptr;
}

// ---------------------------------------------------------------------------
// Schemes

/// Zero-point width meaning "the element's own width".
constexpr int kZeroBitsAuto = -1;

/// One row of the tables: a format at a granularity with a symmetry and
/// stored metadata (see `resolve_metadata` for the defaults).
struct Scheme {
  const Format* format = nullptr;
  Granularity granularity = Granularity::kPerTensor;
  std::int64_t block = 0;  ///< blocked only
  Mode mode = Mode::kAsym;
  ScaleFormat scale = ScaleFormat::kFloat32;
  int zero_bits = 0;  ///< bits of a stored zero point; 0: none (symmetric)

  /// The levels: the format's, without the lowest one for sym-narrow
  /// ([-127, 127], [1, 255], [-7, 7], [1, 15], [-1, 1]).
  Range range() const {
    const Range full = format->range;
    return mode == Mode::kSymNarrow ? Range{full.qmin + 1, full.qmax} : full;
  }
  Symmetry symmetry() const { return symmetry_of(mode); }
  std::string granularity_name() const {
    switch (granularity) {
      case Granularity::kPerTensor:
        return "per-tensor";
      case Granularity::kPerAxis:
        return "per-channel";
      case Granularity::kBlocked:
        return "g" + std::to_string(block);
      case Granularity::kPerElement:
        return "per-element";
    }
    return "?";
  }
  /// "f16", "f16+zp4": the scale format, and the zero point's bits if stored.
  std::string metadata_name() const {
    return std::string(scale_format_name(scale)) + (zero_bits ? "+zp" + std::to_string(zero_bits) : "");
  }
  /// "int4 g32 asym f16+zp4".
  std::string name() const {
    return std::string(format->name) + " " + granularity_name() + " " + mode_name(mode) + " " + metadata_name();
  }
  /// Bytes of n elements, packed: ceil(n * bits / 8).
  double data_bytes(std::int64_t n) const { return packed_bytes(n, format->bits); }
  /// Bytes of `params` scales and zero points as stored: whole scales,
  /// packed zero points.
  double metadata_bytes(std::int64_t params) const {
    return packed_bytes(params, scale_format_bits(scale)) + packed_bytes(params, zero_bits) + format->tensor_bytes;
  }
  /// ceil(n * bits / 8) without overflow: n = 8a + r takes a * bits + ceil(r * bits / 8) bytes.
  static double packed_bytes(std::int64_t n, int bits) {
    return static_cast<double>(n / 8) * bits + static_cast<double>((n % 8 * bits + 7) / 8);
  }
  friend bool operator==(const Scheme& a, const Scheme& b) {
    return a.format == b.format && a.granularity == b.granularity && a.block == b.block && a.mode == b.mode &&
           a.scale == b.scale && a.zero_bits == b.zero_bits;
  }
};

/// The scheme with its metadata chosen. `scale` kAuto takes the format's
/// own scale format if it fixes one, else float16 for groups (as group-wise
/// checkpoints store them: GPTQ, AWQ, llama.cpp) and float32 otherwise
/// (ONNX, PyTorch, TFLite). An affine scheme stores its zero point in
/// `zero_bits`, kZeroBitsAuto meaning the element's own width (packed, as
/// ONNX and GPTQ store it); a symmetric one stores none. False when the
/// zero point cannot hold the format's levels (4 bits for int8).
inline bool resolve_metadata(Scheme* s, ScaleFormat scale, int zero_bits) {
  if (s->format->scale != ScaleFormat::kAuto)
    s->scale = s->format->scale;
  else if (scale != ScaleFormat::kAuto)
    s->scale = scale;
  else
    s->scale = s->granularity == Granularity::kBlocked ? ScaleFormat::kFloat16 : ScaleFormat::kFloat32;
  if (s->mode != Mode::kAsym) {
    s->zero_bits = 0;
    return true;
  }
  s->zero_bits = zero_bits == kZeroBitsAuto ? s->format->bits : zero_bits;
  return s->zero_bits >= s->format->bits;
}

/// The layout a scheme's parameters take on a tensor: per-channel on
/// `channel_axis`, blocks along `block_axis` (of the block view).
inline ParamLayout layout_of(const Scheme& s, int channel_axis, int block_axis) {
  switch (s.granularity) {
    case Granularity::kPerTensor:
      return per_tensor_layout();
    case Granularity::kPerAxis:
      return per_axis_layout(channel_axis);
    case Granularity::kBlocked:
      return blocked_layout(block_axis, s.block);
    case Granularity::kPerElement:
      return per_element_layout();
  }
  return {};
}

/// Parameters for the group ranges `ranges`, with the metadata as `s`
/// stores it.
inline Status stored_params(const Scheme& s, const MinMax& ranges, const ParamLayout& layout, QParams* out) {
  QParams p;
  EIGENQ_RETURN_IF_ERROR(s.format->params(ranges, layout, s.range(), s.symmetry(), &p));
  if (s.format->kind != Kind::kBlockScaled)  // those choose (and store) their scales as they quantize
    EIGENQ_RETURN_IF_ERROR(store_metadata(ranges, s.scale, s.symmetry(), &p));
  *out = std::move(p);
  return Status::ok();
}

}  // namespace eigenq::compare
