#pragma once
/// \file
/// Block-scaled formats: the OCP Microscaling (MX) formats and NVFP4 (at
/// the end of this file), one loop for both.
///
/// The OCP Microscaling (MX) block formats, v1.0: blocks of `block_size`
/// (32 in the specification) consecutive elements along an axis share one
/// E8M0 scale X = 2^e, and each element holds V / X in an element format:
///
///     MXFP8  Float8E4M3FN (OCP E4M3) or Float8E5M2     emax_elem 8 / 15
///     MXFP6  Float6E2M3 or Float6E3M2                   emax_elem 2 / 4
///     MXFP4  Float4E2M1                                 emax_elem 2
///     MXINT8 MxInt8: int8 times 2^-6                    emax_elem 0
///
/// Quantization is the specification's conversion (section 6.3):
///
///     shared_exp = floor(log2(max_i |V_i|)) - emax_elem, clamped to E8M0's [-127, 127]
///     X          = 2^shared_exp
///     P_i        = V_i / X in the element format, rounded to nearest even,
///                  values beyond the largest normal clamped to it
///
/// emax_elem is the exponent of the element format's largest normal. The
/// specification leaves two cases to the implementation; here they follow
/// microsoft/microxcaling, the emulation library published with the MX
/// formats (mx/mx_ops.py, _quantize_mx):
/// - a block holding NaN or +-inf gets the NaN scale 0xFF (its elements
///   are written 0 and read back as NaN whatever they hold);
/// - an all-zero block takes the scale of a block whose maximum is
///   float32's smallest normal 2^-126 (2^-127 once clamped, for every
///   element format but MXINT8).
/// MXINT8 elements are clamped to [-127, 127] (+-1.984375, the largest
/// normal), symmetric as in microxcaling; -128 (-2.0) is read but never
/// written. Two microxcaling choices are not followed, and would be named
/// variants: its default element rounding ("nearest") rounds ties away from
/// zero (its "even" mode is the rounding here), and it takes floor(log2) of
/// the block maximum in float32, whose log2 can round up to the next
/// integer just below a power of two (std::ilogb here is exact).
///
/// Dequantization: y = decode(P_i) * X. Elements are one per byte (FP6 and
/// FP4 unpacked, MXINT8 as the int8's bits); the scales are laid out as the
/// blocked parameters of params.hpp (the tensor's shape with the axis of
/// length ceil(dims[axis] / block_size)). The minifloat elements are
/// encoded and decoded by the kernels of minifloat_quantize.hpp on the best
/// path (Path::kAuto, every path the same bits); the block maxima, the
/// scales and MXINT8 run on the portable path. The scale rules of other
/// implementations (torchao's CEIL, EVEN and RCEIL, the last NVIDIA's) are
/// modes of quantize and fake-quantize (MxScaleMode).
///
/// Packed storage (mx_quantize_packed, nvfp4_quantize_packed and their
/// inverses; mx_packed_bytes): the same codes along the buffer's memory
/// order, least significant bits first, the scales as above:
/// - FP4 (E2M1, MXFP4 and NVFP4): two per byte, element 2i in the low
///   nibble. This is PyTorch's torch.float4_e2m1fn_x2 (c10's
///   Float4_e2m1fn_x2: val1 in bits 7..4, val0 in bits 3..0) and torchao's
///   pack_uint4 (torchao/prototype/mx_formats/kernels.py), and the order of
///   packing.hpp's Int4/UInt4 (ONNX int4, quint4x2).
/// - FP6 (E2M3, E3M2): four in three bytes, element 4i + j in bits
///   [6j, 6j + 6) of the 24-bit little-endian group: byte 0 holds element 0
///   and the low 2 bits of element 1, byte 1 element 1's high 4 bits and
///   element 2's low 4, byte 2 element 2's high 2 bits and element 3: the
///   FP4 order continued, and AMD rocRoller's FP6 buffer layout (getFp6 /
///   setFp6). The specification defines no packing; torchao's pack_uint6
///   (removed from torchao's mx_formats in late 2025) split each element
///   into 4 + 2 bits over the group instead, and is not followed.
/// A partial last group takes only the bytes its bits reach (ceil(6n / 8)
/// and ceil(n / 2) bytes in all), its unused high bits zero; nothing past
/// them is read or written.
///
/// Fake-quantize (mx_fake_quantize, nvfp4_fake_quantize) is dequantize(
/// quantize(x)) in float, the same bits, worked slice by slice through a
/// stack scratch. The `_mask` variants also write the straight-through
/// estimator's mask, a byte per element:
///
///     mask = x finite and |x / X| <= the element format's largest finite value
///
/// with X the block's scale as quantize divides by it (2^shared_exp; NVFP4's
/// per_tensor_scale * E4M3 scale): 0 exactly where the saturating
/// conversion clamped the element, and for NaN, +-inf and every element of
/// a NaN-scaled block. microxcaling's layers (mx/linear.py, LinearFunction:
/// the backward works from the saved inputs, with no mask) pass every
/// gradient straight through, clamped or not; the mask here keeps their
/// forward values and lets the caller cut the gradient of clamped elements,
/// as fake-quantize does for integers. The test is on the unrounded x / X,
/// as TensorFlow's fake_quant_with_min_max gradient (min <= x <= max), not
/// on the rounded value as qat/ste.hpp's integer mask: a minifloat's
/// rounding beyond its largest value is no code to compare with. A caller
/// wanting microxcaling's estimator ignores the mask.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "kernels.hpp"
#include "minifloat.hpp"
#include "minifloat_quantize.hpp"
#include "params.hpp"
#include "runs.hpp"
#include "slices.hpp"
#include "status.hpp"

namespace eigenq {

/// The MX specification's block size.
constexpr std::int64_t kMxBlockSize = 32;

/// MXINT8's element: an int8 k standing for k * 2^-6.
struct MxInt8 {
  static constexpr const char* kName = "mxint8";
};

template <class E>
constexpr bool is_mx_element_v =
    std::is_same_v<E, Float8E4M3FN> || std::is_same_v<E, Float8E5M2> || std::is_same_v<E, Float6E2M3> ||
    std::is_same_v<E, Float6E3M2> || std::is_same_v<E, Float4E2M1> || std::is_same_v<E, MxInt8>;

namespace detail {

/// An MX element format: its emax_elem, and its conversions (to it: round
/// to nearest even, saturating).
template <class E>
struct MxElement {
  using Format = E;  ///< a minifloat: its runs go through the kernels (kernels.hpp)
  static constexpr int kMaxExponent = E::kFormat.max_exponent();
  static constexpr int kMantissaBits = E::kFormat.mantissa_bits;
  static float max_finite() {
    return eigenq::minifloat_decode<E>(static_cast<std::uint8_t>(E::kFormat.max_magnitude()));
  }
  static std::uint8_t encode(float v) { return eigenq::minifloat_encode<E>(v, true); }
  static float decode(std::uint8_t code) { return eigenq::minifloat_decode<E>(code); }
  static Status check_codes(const std::uint8_t* q, std::int64_t n) {
    return check_minifloat_codes<E>(q, n, "elements");
  }
};

template <>
struct MxElement<MxInt8> {
  using Format = void;                     ///< not a minifloat: encoded element by element
  static constexpr int kMaxExponent = 0;   // the largest value 127 * 2^-6 = 1.984375
  static constexpr int kMantissaBits = 6;  // k * 2^-6: six bits below the leading one
  static float max_finite() { return 127.0f * 0x1p-6f; }
  static std::uint8_t encode(float v) {
    const float k = std::nearbyint(v * 64.0f);  // v * 2^6 is exact; NaN never reaches here
    const float clamped = k < -127.0f ? -127.0f : k > 127.0f ? 127.0f : k;
    return static_cast<std::uint8_t>(static_cast<std::int8_t>(clamped));
  }
  static float decode(std::uint8_t code) { return static_cast<float>(static_cast<std::int8_t>(code)) * 0x1p-6f; }
  static Status check_codes(const std::uint8_t*, std::int64_t) { return Status::ok(); }
};

inline Status resolve_block_layout(const Shape& shape, int axis, std::int64_t block_size, ResolvedParams* r) {
  return resolve_layout(blocked_layout(axis, block_size), shape, r);
}

/// Elements per slice of the block-scaled loops: a tensor is processed in
/// slices of whole blocks (slices.hpp's cut) so that the per-block scratch
/// of a slice lives on the stack.
constexpr std::int64_t kBlockSlice = 2048;

/// The scratch of one slice: `codes` for its elements (one per byte),
/// `scale_codes` and `scales` for its blocks.
struct BlockScratch {
  std::uint8_t* codes;
  std::uint8_t* scale_codes;
  float* scales;
};

/// op(slice, scratch) for every slice of whole blocks of r, in order, each
/// starting on a multiple of `align` elements from the first (so packed
/// slices start on a byte). The scratch is on the stack when every slice
/// holds at most kBlockSlice elements; otherwise (one block along an outer
/// axis longer than about kBlockSlice / align elements, or rows that cannot
/// be cut on `align`) it is one heap buffer for the call.
template <class Op>
void for_each_block_slice(const ResolvedParams& r, std::int64_t align, Op&& op) {
  // The cut rounds a slice up to whole units (blocks or rows) ending on a
  // multiple of `align`: by less than align units, so slices of a grain of
  // kBlockSlice / align elements fit kBlockSlice whenever a unit does.
  const SlicePlan plan = plan_slices(r, align, align, kBlockSlice / align);
  std::int64_t elements = 0, blocks = 0;
  for (std::int64_t i = 0; i < plan.count; ++i) {
    const Slice s = slice_at(r, plan, i);
    elements = std::max(elements, s.r.size());
    blocks = std::max(blocks, static_cast<std::int64_t>(s.r.count));
  }
  std::uint8_t codes[kBlockSlice], scale_codes[kBlockSlice];
  float scales[kBlockSlice];
  BlockScratch scratch{codes, scale_codes, scales};
  std::vector<std::uint8_t> heap_bytes;
  std::vector<float> heap_scales;
  if (elements > kBlockSlice || blocks > kBlockSlice) {
    heap_bytes.resize(static_cast<std::size_t>(elements + blocks));
    heap_scales.resize(static_cast<std::size_t>(blocks));
    scratch = {heap_bytes.data(), heap_bytes.data() + elements, heap_scales.data()};
  }
  for (std::int64_t i = 0; i < plan.count; ++i) op(slice_at(r, plan, i), scratch);
}

/// The block-scaled quantization both MX and NVFP4 are, on one slice of
/// whole blocks: per block, the largest magnitude, its scale's code and
/// value (`rule.codes`, the values into `scale`), then
/// every element encode(x / value); a block whose scale is NaN gets
/// elements 0.
template <class Element, class Rule>
void block_scaled_quantize(const float* x, std::uint8_t* elements, std::uint8_t* scales, const ResolvedParams& r,
                           const Rule& rule, float* scale) {
  // The largest magnitude per block (NaN for a block holding NaN), then
  // its scale.
  with_kernels<Path::kAuto>([&](auto kernels) { kernels.magnitude_max(r, x, scale); });
  rule.codes(scale, scales, r.count);
  using Format = typename Element::Format;
  if constexpr (std::is_void_v<Format>) {
    for_each_element(r, [&](std::size_t i, std::size_t k) {
      elements[i] = std::isnan(scale[k]) ? std::uint8_t{0} : Element::encode(x[i] / scale[k]);
    });
  } else {
    // The kernels' encode(x / scale, saturating) on every block, then the
    // elements of NaN-scaled blocks cleared.
    with_kernels<Path::kAuto>(
        [&](auto kernels) { kernels.template quantize_minifloat<Format, true>(r, scale, x, elements); });
    if (std::any_of(scale, scale + r.count, [](float s) { return std::isnan(s); }))
      for_each_element(r, [&](std::size_t i, std::size_t k) {
        if (std::isnan(scale[k])) elements[i] = 0;
      });
  }
}

/// y = decode(element) * the scale code's value (`rule.values`, into the
/// scratch `scale`) on one slice of whole blocks. A block whose scale is
/// NaN gives the scale's NaN itself: a product of two NaNs (a NaN element
/// code) carries either one's sign, as the compiler orders the operands.
template <class Element, class Rule>
void block_scaled_dequantize(const std::uint8_t* elements, const std::uint8_t* scales, float* y,
                             const ResolvedParams& r, const Rule& rule, float* scale) {
  rule.values(scales, scale, r.count);
  using Format = typename Element::Format;
  if constexpr (std::is_void_v<Format>)
    for_each_element(r, [&](std::size_t i, std::size_t k) { y[i] = Element::decode(elements[i]) * scale[k]; });
  else
    with_kernels<Path::kAuto>(
        [&](auto kernels) { kernels.template dequantize_minifloat<Format>(r, scale, elements, y); });
  if (std::any_of(scale, scale + r.count, [](float s) { return std::isnan(s); }))
    for_each_element(r, [&](std::size_t i, std::size_t k) {
      if (std::isnan(scale[k])) y[i] = scale[k];
    });
}

/// Elements one per byte (FP6 and FP4 in the low bits, MXINT8 as the
/// int8's bits).
struct OnePerByte {
  static constexpr const char* kBuffer = "elements";
  static constexpr std::int64_t kGroup = 1;  ///< elements that share bytes
};

/// Sub-byte elements packed along the buffer's (memory) order, least
/// significant bits first: element i occupies bits [kBits * i, kBits * (i +
/// 1)) of the little-endian bit stream the bytes form. kGroup elements fill
/// kBytes whole bytes; the last, partial group takes only the bytes its
/// bits reach, their unused high bits zero. See the file comment for the
/// implementations this order matches.
template <int Bits>
struct PackedBits {
  static_assert(Bits == 4 || Bits == 6, "FP4 and FP6 elements");
  static constexpr const char* kBuffer = "packed";
  static constexpr int kBits = Bits;
  static constexpr std::int64_t kGroup = Bits == 4 ? 2 : 4;
  static constexpr std::int64_t kBytes = kGroup * Bits / 8;
  static constexpr std::uint32_t kMask = (1u << Bits) - 1;

  /// Bytes of n packed elements, ceil(n * kBits / 8), computed without
  /// forming n * kBits (no overflow for any n >= 0).
  static constexpr std::int64_t bytes(std::int64_t n) { return n / kGroup * kBytes + ((n % kGroup) * kBits + 7) / 8; }

  /// Packs n codes (each < 2^kBits) into bytes(n) bytes. FP4 is the
  /// kernels' nibble packing of UInt4 (kernels.hpp, SIMD on the best path):
  /// the same order. FP6: whole groups in a loop over fixed-size groups,
  /// then the partial one.
  static void pack(const std::uint8_t* codes, std::int64_t n, std::uint8_t* out) {
    if constexpr (Bits == 4) {
      if (n % 2 != 0) out[n / 2] = 0;  // the kernels keep the other nibble of a partial byte
      with_kernels<Path::kAuto>([&](auto k) { decltype(k)::template pack_nibbles<UInt4>(codes, out, 0, n); });
      return;
    }
    const std::int64_t groups = n / kGroup;
    for (std::int64_t g = 0; g < groups; ++g) {
      std::uint32_t word = 0;
      for (std::int64_t j = 0; j < kGroup; ++j) word |= (codes[kGroup * g + j] & kMask) << (kBits * j);
      for (std::int64_t b = 0; b < kBytes; ++b) out[kBytes * g + b] = static_cast<std::uint8_t>(word >> (8 * b));
    }
    const std::int64_t rest = n - groups * kGroup;
    if (rest == 0) return;
    std::uint32_t word = 0;
    for (std::int64_t j = 0; j < rest; ++j) word |= (codes[kGroup * groups + j] & kMask) << (kBits * j);
    for (std::int64_t b = 0; b < bytes(n) - kBytes * groups; ++b)
      out[kBytes * groups + b] = static_cast<std::uint8_t>(word >> (8 * b));
  }

  /// Unpacks n codes from bytes(n) bytes (never reading past them).
  static void unpack(const std::uint8_t* in, std::int64_t n, std::uint8_t* codes) {
    if constexpr (Bits == 4) {
      with_kernels<Path::kAuto>([&](auto k) { decltype(k)::template unpack_nibbles<UInt4>(in, 0, n, codes); });
      return;
    }
    const std::int64_t groups = n / kGroup;
    for (std::int64_t g = 0; g < groups; ++g) {
      std::uint32_t word = 0;
      for (std::int64_t b = 0; b < kBytes; ++b) word |= std::uint32_t{in[kBytes * g + b]} << (8 * b);
      for (std::int64_t j = 0; j < kGroup; ++j)
        codes[kGroup * g + j] = static_cast<std::uint8_t>((word >> (kBits * j)) & kMask);
    }
    const std::int64_t rest = n - groups * kGroup;
    if (rest == 0) return;
    std::uint32_t word = 0;
    for (std::int64_t b = 0; b < bytes(n) - kBytes * groups; ++b)
      word |= std::uint32_t{in[kBytes * groups + b]} << (8 * b);
    for (std::int64_t j = 0; j < rest; ++j)
      codes[kGroup * groups + j] = static_cast<std::uint8_t>((word >> (kBits * j)) & kMask);
  }
};

/// The packed storage of sub-byte element E.
template <class E>
using PackedElements = PackedBits<E::kFormat.bits()>;

/// block_scaled_quantize over the tensor, slice by slice, the elements
/// written in `Storage` (OnePerByte or PackedBits).
template <class Element, class Storage, class Rule>
void block_scaled_quantize_all(const float* x, std::uint8_t* out, std::uint8_t* scales, const ResolvedParams& r,
                               const Rule& rule) {
  for_each_block_slice(r, Storage::kGroup, [&](const Slice& s, const BlockScratch& w) {
    if constexpr (std::is_same_v<Storage, OnePerByte>) {
      block_scaled_quantize<Element>(x + s.at, out + s.at, scales + s.param, s.r, rule, w.scales);
    } else {  // a slice starts on a group: its bytes start at out + s.at / kGroup * kBytes
      block_scaled_quantize<Element>(x + s.at, w.codes, scales + s.param, s.r, rule, w.scales);
      Storage::pack(w.codes, s.r.size(), out + s.at / Storage::kGroup * Storage::kBytes);
    }
  });
}

/// block_scaled_dequantize over the tensor, slice by slice, the elements
/// read from `Storage`.
template <class Element, class Storage, class Rule>
void block_scaled_dequantize_all(const std::uint8_t* in, const std::uint8_t* scales, float* y, const ResolvedParams& r,
                                 const Rule& rule) {
  for_each_block_slice(r, Storage::kGroup, [&](const Slice& s, const BlockScratch& w) {
    if constexpr (std::is_same_v<Storage, OnePerByte>) {
      block_scaled_dequantize<Element>(in + s.at, scales + s.param, y + s.at, s.r, rule, w.scales);
    } else {
      Storage::unpack(in + s.at / Storage::kGroup * Storage::kBytes, s.r.size(), w.codes);
      block_scaled_dequantize<Element>(w.codes, scales + s.param, y + s.at, s.r, rule, w.scales);
    }
  });
}

/// y = dequantize(quantize(x)) over the tensor, slice by slice through the
/// stack scratch (elements and scales never leave it), and when `mask` is
/// given the STE mask of the file comment. y may alias x: a slice is read
/// whole (quantize, mask) before its y is written.
template <class Element, class Rule>
void block_scaled_fake_quantize_all(const float* x, float* y, std::uint8_t* mask, const ResolvedParams& r,
                                    const Rule& rule) {
  const float max_finite = Element::max_finite();
  for_each_block_slice(r, 1, [&](const Slice& s, const BlockScratch& w) {
    const float* xs = x + s.at;
    block_scaled_quantize<Element>(xs, w.codes, w.scale_codes, s.r, rule, w.scales);
    if (mask != nullptr) {
      std::uint8_t* ms = mask + s.at;
      // x / X as the quantizer divides it; NaN (a NaN x, or any x of a
      // NaN-scaled block) compares false, +-inf is beyond max_finite.
      for_each_element(s.r, [&](std::size_t i, std::size_t k) {
        ms[i] = static_cast<std::uint8_t>(std::fabs(xs[i] / w.scales[k]) <= max_finite);
      });
    }
    block_scaled_dequantize<Element>(w.codes, w.scale_codes, y + s.at, s.r, rule, w.scales);
  });
}

}  // namespace detail

/// How the E8M0 shared scale follows from a block's largest magnitude amax,
/// for elements whose largest normal is 2^emax, largest finite value
/// max_finite, with M mantissa bits. kFloor is the specification's; the
/// others are the scale modes of torchao's MX formats (pytorch/ao,
/// torchao/prototype/mx_formats: ScaleCalculationMode, to_mx), named as
/// there. In every mode a block holding NaN or +-inf gets the NaN scale,
/// and the exponent is clamped to E8M0's [-127, 127].
enum class MxScaleMode {
  /// OCP MX v1.0 section 6.3: 2^(floor(log2(amax)) - emax). The rule of
  /// microsoft/microxcaling and torchao's FLOOR (its default). Values of
  /// the block up to twice the element's largest normal are clamped.
  kFloor,
  /// torchao CEIL: 2^(floor(log2(amax)) + (amax not a power of two) - emax),
  /// on amax's bits (a float32 subnormal counts as 2^-126): nothing
  /// clamped, a step up to twice as coarse.
  kCeil,
  /// torchao EVEN: amax's bits first rounded to M mantissa bits (half
  /// away from zero: it adds half an ulp of M bits and drops the rest),
  /// then as kFloor: a maximum that rounds up to the next power of two
  /// takes the larger scale. (torchao then calls a maximum that rounds
  /// past float32's largest finite value infinite and writes the NaN
  /// scale; here it takes the exponent 128 - emax.)
  kEven,
  /// NVIDIA's block scaling for Blackwell (cuBLAS; the PTX conversion
  /// cvt.rp.ue8m0x2.f32) and torchao RCEIL: 2^ceil(log2(amax * (1 /
  /// max_finite))), the reciprocal and the product in float32 as torchao
  /// computes them: the smallest power of two that maps amax within the
  /// elements' range. The exponent is clamped to 127 like the others':
  /// only MXINT8 (largest value under 2, not a torchao format) reaches 128,
  /// for maxima near float32's largest, where torchao's PyTorch fallback
  /// would write the NaN code.
  kRceil,
};

/// The E8M0 code of the shared scale of a block whose largest magnitude is
/// `amax` (NaN when the block holds NaN or +-inf), for elements whose
/// largest normal has exponent `max_exponent`: the specification's rule
/// (MxScaleMode::kFloor), see the file comment.
inline std::uint8_t mx_scale_code(float amax, int max_exponent) {
  if (!std::isfinite(amax)) return E8M0::kNaN;
  const float m = amax == 0.0f ? std::numeric_limits<float>::min() : amax;
  // floor(log2(m)), exact: a normal float's biased exponent field, else
  // (a subnormal) std::ilogb, which also counts the leading zeros.
  const int biased = static_cast<int>((detail::float_bits(m) >> 23) & 0xFF);
  return E8M0::from_exponent((biased != 0 ? biased - 127 : std::ilogb(m)) - max_exponent);
}

/// The E8M0 code of the shared scale of a block of MX element E whose
/// largest magnitude is `amax`, by `mode`.
template <class E>
std::uint8_t mx_scale_code(float amax, MxScaleMode mode) {
  static_assert(is_mx_element_v<E>, "E must be Float8E4M3FN, Float8E5M2, Float6E2M3, Float6E3M2, Float4E2M1 or MxInt8");
  using Element = detail::MxElement<E>;
  constexpr int kEmax = Element::kMaxExponent;
  if (!std::isfinite(amax)) return E8M0::kNaN;
  const std::uint32_t bits = detail::float_bits(amax) & 0x7FFFFFFFu;
  const int biased = static_cast<int>(bits >> 23);  // 0 for zero and subnormals
  switch (mode) {
    case MxScaleMode::kFloor:
      break;
    case MxScaleMode::kCeil:
      return E8M0::from_exponent(biased - 127 + ((bits & 0x7FFFFFu) != 0 ? 1 : 0) - kEmax);
    case MxScaleMode::kEven: {
      const std::uint32_t rounded = bits + (std::uint32_t{1} << (22 - Element::kMantissaBits));
      return E8M0::from_exponent(static_cast<int>(rounded >> 23) - 127 - kEmax);
    }
    case MxScaleMode::kRceil: {
      const float descale = amax * (1.0f / Element::max_finite());
      const std::uint32_t d = detail::float_bits(descale) & 0x7FFFFFFFu;
      const int e = static_cast<int>(d >> 23);
      // Up to the next power of two; a subnormal is above code 0 (2^-127)
      // only beyond 2^-127 itself.
      const int code = e + (e == 0 ? ((d & 0x7FFFFFu) > 0x400000u ? 1 : 0) : ((d & 0x7FFFFFu) != 0 ? 1 : 0));
      return static_cast<std::uint8_t>(code < 254 ? code : 254);
    }
  }
  return mx_scale_code(amax, kEmax);
}

namespace detail {

/// A block scale rule: `codes(amax, codes, n)` writes the scale codes of n
/// blocks' largest magnitudes and replaces each magnitude by its code's
/// value; `values(codes, values, n)` gives the values alone.
///
/// MX: 2^e. x / 2^e is exact unless far below the element's smallest
/// subnormal.
template <class E>
struct MxScaleRule {
  MxScaleMode mode = MxScaleMode::kFloor;
  void codes(float* amax, std::uint8_t* codes, std::size_t n) const {
    for (std::size_t k = 0; k < n; ++k) {
      codes[k] = mx_scale_code<E>(amax[k], mode);
      amax[k] = E8M0::decode(codes[k]);
    }
  }
  void values(const std::uint8_t* codes, float* values, std::size_t n) const {
    for (std::size_t k = 0; k < n; ++k) values[k] = E8M0::decode(codes[k]);
  }
};

}  // namespace detail

namespace detail {

/// A mode passed in from outside (a cast integer, say) is one of the four.
inline Status check_scale_mode(MxScaleMode mode) {
  switch (mode) {
    case MxScaleMode::kFloor:
    case MxScaleMode::kCeil:
    case MxScaleMode::kEven:
    case MxScaleMode::kRceil:
      return Status::ok();
  }
  return error(StatusCode::kInvalidArgument, "MX scale mode ", static_cast<int>(mode), " is not one of MxScaleMode's");
}

template <class E, class Storage>
Status mx_quantize_to(const float* x, std::uint8_t* out, std::uint8_t* scales, const Shape& shape, int axis,
                      std::int64_t block_size, MxScaleMode mode) {
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(resolve_block_layout(shape, axis, block_size, &r));
  EIGENQ_RETURN_IF_ERROR(check_buffers(shape, {{"x", x}, {Storage::kBuffer, out}, {"scales", scales}}));
  using Element = MxElement<E>;
  EIGENQ_RETURN_IF_ERROR(check_scale_mode(mode));
  block_scaled_quantize_all<Element, Storage>(x, out, scales, r, MxScaleRule<E>{mode});
  return Status::ok();
}

template <class E, class Storage>
Status mx_dequantize_from(const std::uint8_t* in, const std::uint8_t* scales, float* y, const Shape& shape, int axis,
                          std::int64_t block_size) {
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(resolve_block_layout(shape, axis, block_size, &r));
  EIGENQ_RETURN_IF_ERROR(check_buffers(shape, {{Storage::kBuffer, in}, {"scales", scales}, {"y", y}}));
  using Element = MxElement<E>;
  // Packed fields are codes whatever they hold (every 4- and 6-bit value is one).
  if constexpr (std::is_same_v<Storage, OnePerByte>) EIGENQ_RETURN_IF_ERROR(Element::check_codes(in, shape.size()));
  block_scaled_dequantize_all<Element, Storage>(in, scales, y, r, MxScaleRule<E>{});
  return Status::ok();
}

}  // namespace detail

/// Quantizes x into MX blocks of `block_size` along `axis`: `elements`
/// (one per x) and `scales` (E8M0 codes, one per block, chosen by `mode`).
/// Writes nothing when the arguments are invalid.
template <class E>
Status mx_quantize(const float* x, std::uint8_t* elements, std::uint8_t* scales, const Shape& shape, int axis,
                   std::int64_t block_size = kMxBlockSize, MxScaleMode mode = MxScaleMode::kFloor) {
  static_assert(is_mx_element_v<E>, "E must be Float8E4M3FN, Float8E5M2, Float6E2M3, Float6E3M2, Float4E2M1 or MxInt8");
  return detail::mx_quantize_to<E, detail::OnePerByte>(x, elements, scales, shape, axis, block_size, mode);
}

/// y = decode(element) * 2^(scale - 127) for MX blocks laid out as
/// mx_quantize writes them. A byte that is no code of E is refused.
template <class E>
Status mx_dequantize(const std::uint8_t* elements, const std::uint8_t* scales, float* y, const Shape& shape, int axis,
                     std::int64_t block_size = kMxBlockSize) {
  static_assert(is_mx_element_v<E>, "E must be Float8E4M3FN, Float8E5M2, Float6E2M3, Float6E3M2, Float4E2M1 or MxInt8");
  return detail::mx_dequantize_from<E, detail::OnePerByte>(elements, scales, y, shape, axis, block_size);
}

/// The sub-byte elements that have a packed storage: FP6 and FP4.
template <class E>
constexpr bool is_mx_packed_element_v =
    std::is_same_v<E, Float6E2M3> || std::is_same_v<E, Float6E3M2> || std::is_same_v<E, Float4E2M1>;

/// The bytes of the packed elements of a tensor of `shape` in E (FP4: two
/// per byte, ceil(n / 2); FP6: four in three bytes, ceil(3n / 4)), into
/// *bytes. NVFP4's elements are Float4E2M1's. An invalid shape, or a count
/// beyond size_t, is refused.
template <class E>
Status mx_packed_bytes(const Shape& shape, std::size_t* bytes) {
  static_assert(is_mx_packed_element_v<E>, "E must be Float6E2M3, Float6E3M2 or Float4E2M1");
  EIGENQ_RETURN_IF_ERROR(check_shape(shape));
  if (bytes == nullptr) return detail::error(StatusCode::kInvalidArgument, "bytes is a null pointer");
  const std::int64_t n = detail::PackedElements<E>::bytes(shape.size());
  if (static_cast<std::uint64_t>(n) > std::numeric_limits<std::size_t>::max())
    return detail::error(StatusCode::kInvalidArgument, "shape ", detail::dims_text(shape), " needs ", n,
                         " packed bytes, more than size_t holds");
  *bytes = static_cast<std::size_t>(n);
  return Status::ok();
}

/// mx_quantize with the elements packed into `packed`
/// (mx_packed_bytes<E>(shape) bytes, nothing written past them): the same
/// codes, in the packed order of the file comment.
template <class E>
Status mx_quantize_packed(const float* x, std::uint8_t* packed, std::uint8_t* scales, const Shape& shape, int axis,
                          std::int64_t block_size = kMxBlockSize, MxScaleMode mode = MxScaleMode::kFloor) {
  static_assert(is_mx_packed_element_v<E>, "E must be Float6E2M3, Float6E3M2 or Float4E2M1");
  return detail::mx_quantize_to<E, detail::PackedElements<E>>(x, packed, scales, shape, axis, block_size, mode);
}

/// mx_dequantize of packed elements as mx_quantize_packed writes them.
template <class E>
Status mx_dequantize_packed(const std::uint8_t* packed, const std::uint8_t* scales, float* y, const Shape& shape,
                            int axis, std::int64_t block_size = kMxBlockSize) {
  static_assert(is_mx_packed_element_v<E>, "E must be Float6E2M3, Float6E3M2 or Float4E2M1");
  return detail::mx_dequantize_from<E, detail::PackedElements<E>>(packed, scales, y, shape, axis, block_size);
}

namespace detail {

template <class E>
Status mx_fake_quantize_to(const float* x, float* y, std::uint8_t* mask, const Shape& shape, int axis,
                           std::int64_t block_size, MxScaleMode mode, bool with_mask) {
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(resolve_block_layout(shape, axis, block_size, &r));
  EIGENQ_RETURN_IF_ERROR(with_mask ? check_buffers(shape, {{"x", x}, {"y", y}, {"mask", mask}})
                                   : check_buffers(shape, {{"x", x}, {"y", y}}));
  using Element = MxElement<E>;
  EIGENQ_RETURN_IF_ERROR(check_scale_mode(mode));
  block_scaled_fake_quantize_all<Element>(x, y, mask, r, MxScaleRule<E>{mode});
  return Status::ok();
}

}  // namespace detail

/// y = mx_dequantize(mx_quantize(x)) in float, bit for bit, without the
/// element and scale buffers (worked through a stack scratch). y may alias
/// x.
template <class E>
Status mx_fake_quantize(const float* x, float* y, const Shape& shape, int axis, std::int64_t block_size = kMxBlockSize,
                        MxScaleMode mode = MxScaleMode::kFloor) {
  static_assert(is_mx_element_v<E>, "E must be Float8E4M3FN, Float8E5M2, Float6E2M3, Float6E3M2, Float4E2M1 or MxInt8");
  return detail::mx_fake_quantize_to<E>(x, y, nullptr, shape, axis, block_size, mode, false);
}

/// mx_fake_quantize and the STE mask, a byte per element: 1 where x is
/// finite and |x / X| <= E's largest finite value (the gradient passes), 0
/// where the element was clamped, is NaN or +-inf, or lies in a block whose
/// scale is NaN. See the file comment for the rule's source.
template <class E>
Status mx_fake_quantize_mask(const float* x, float* y, std::uint8_t* mask, const Shape& shape, int axis,
                             std::int64_t block_size = kMxBlockSize, MxScaleMode mode = MxScaleMode::kFloor) {
  static_assert(is_mx_element_v<E>, "E must be Float8E4M3FN, Float8E5M2, Float6E2M3, Float6E3M2, Float4E2M1 or MxInt8");
  return detail::mx_fake_quantize_to<E>(x, y, mask, shape, axis, block_size, mode, true);
}

// ---------------------------------------------------------------------------
// NVFP4: E2M1 elements, blocks of 16 with an E4M3 scale, and a per-tensor
// float32 scale. The scale selection is torchao's (pytorch/ao,
// torchao/prototype/mx_formats/nvfp4_tensor.py, _nvfp4_quantize and
// per_tensor_amax_to_scale), all in float32:
//
//     per_tensor_scale = tensor amax / (448 * 6)            (or 1: single-level scaling)
//     block scale s    = E4M3(clamp(amax / 6 / per_tensor_scale, 2^-6, 448))
//     element          = E2M1(x / (per_tensor_scale * s)), clamped to +-6
//     dequantize       = E2M1 value * (per_tensor_scale * s)
//
// 2^-6 is E4M3's smallest normal (torch.finfo(float8_e4m3fn).tiny), so an
// all-zero block gets the scale 2^-6. A block holding NaN gets the NaN
// scale 0x7F and elements 0 (torchao leaves them to its bit conversion);
// one holding +-inf gets the scale 448 and its infinities +-6.

/// NVFP4's block size.
constexpr std::int64_t kNvfp4BlockSize = 16;

/// torchao's per-tensor scale from the tensor's largest magnitude.
inline float nvfp4_per_tensor_scale(float amax) { return amax / (448.0f * 6.0f); }

namespace detail {

/// NVFP4's block scale rule (see MxScaleRule for the interface): the E4M3
/// code of clamp(amax / 6 / per_tensor_scale, 2^-6, 448), its value
/// decode(code) * per_tensor_scale. The E4M3 conversions run on the
/// kernels (minifloat_quantize.hpp, every path the same bits as
/// minifloat_encode / minifloat_decode): encode(s / 1) is encode(s), and the
/// product is the same either way round.
struct Nvfp4ScaleRule {
  float per_tensor_scale;
  void codes(float* amax, std::uint8_t* codes, std::size_t n) const {
    for (std::size_t k = 0; k < n; ++k) {
      const float s = amax[k] / 6.0f / per_tensor_scale;          // two float32 divisions, as torchao
      amax[k] = s < 0x1p-6f ? 0x1p-6f : s > 448.0f ? 448.0f : s;  // NaN stays NaN, as torch.clamp
    }
    with_kernels<Path::kAuto>([&](auto kernels) {
      kernels.template quantize_minifloat<Float8E4M3FN, true>(amax, codes, n, 1.0f);
      kernels.template dequantize_minifloat<Float8E4M3FN>(codes, amax, n, per_tensor_scale);
    });
  }
  void values(const std::uint8_t* codes, float* values, std::size_t n) const {
    with_kernels<Path::kAuto>(
        [&](auto kernels) { kernels.template dequantize_minifloat<Float8E4M3FN>(codes, values, n, per_tensor_scale); });
  }
};

inline Status check_nvfp4(float per_tensor_scale, const std::uint8_t* scales, std::size_t count) {
  if (!(std::isfinite(per_tensor_scale) && per_tensor_scale > 0.0f))
    return error(StatusCode::kInvalidScale, "per_tensor_scale = ", per_tensor_scale, " must be finite and > 0");
  for (std::size_t k = 0; scales != nullptr && k < count; ++k)
    if (scales[k] & 0x80)
      return error(StatusCode::kInvalidScale, "scales[", k, "] = ", static_cast<int>(scales[k]),
                   " has its sign bit set (NVFP4 block scales are unsigned E4M3)");
  return Status::ok();
}

}  // namespace detail

namespace detail {

template <class Storage>
Status nvfp4_quantize_to(const float* x, std::uint8_t* out, std::uint8_t* scales, const Shape& shape, int axis,
                         float per_tensor_scale, std::int64_t block_size) {
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(resolve_block_layout(shape, axis, block_size, &r));
  EIGENQ_RETURN_IF_ERROR(check_buffers(shape, {{"x", x}, {Storage::kBuffer, out}, {"scales", scales}}));
  EIGENQ_RETURN_IF_ERROR(check_nvfp4(per_tensor_scale, nullptr, 0));
  block_scaled_quantize_all<MxElement<Float4E2M1>, Storage>(x, out, scales, r, Nvfp4ScaleRule{per_tensor_scale});
  return Status::ok();
}

template <class Storage>
Status nvfp4_dequantize_from(const std::uint8_t* in, const std::uint8_t* scales, float* y, const Shape& shape, int axis,
                             float per_tensor_scale, std::int64_t block_size) {
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(resolve_block_layout(shape, axis, block_size, &r));
  EIGENQ_RETURN_IF_ERROR(check_buffers(shape, {{Storage::kBuffer, in}, {"scales", scales}, {"y", y}}));
  EIGENQ_RETURN_IF_ERROR(check_nvfp4(per_tensor_scale, scales, shape.size() > 0 ? r.count : 0));
  if constexpr (std::is_same_v<Storage, OnePerByte>)
    EIGENQ_RETURN_IF_ERROR(MxElement<Float4E2M1>::check_codes(in, shape.size()));
  block_scaled_dequantize_all<MxElement<Float4E2M1>, Storage>(in, scales, y, r, Nvfp4ScaleRule{per_tensor_scale});
  return Status::ok();
}

}  // namespace detail

/// Quantizes x into NVFP4 blocks of `block_size` (16) along `axis`:
/// `elements` (E2M1 codes, one per x, unpacked) and `scales` (E4M3 codes,
/// one per block), with `per_tensor_scale` (nvfp4_per_tensor_scale(amax),
/// or 1 for single-level scaling). Writes nothing when the arguments are
/// invalid.
inline Status nvfp4_quantize(const float* x, std::uint8_t* elements, std::uint8_t* scales, const Shape& shape, int axis,
                             float per_tensor_scale = 1.0f, std::int64_t block_size = kNvfp4BlockSize) {
  return detail::nvfp4_quantize_to<detail::OnePerByte>(x, elements, scales, shape, axis, per_tensor_scale, block_size);
}

/// y = E2M1 value * (per_tensor_scale * E4M3 scale) for NVFP4 blocks laid
/// out as nvfp4_quantize writes them.
inline Status nvfp4_dequantize(const std::uint8_t* elements, const std::uint8_t* scales, float* y, const Shape& shape,
                               int axis, float per_tensor_scale = 1.0f, std::int64_t block_size = kNvfp4BlockSize) {
  return detail::nvfp4_dequantize_from<detail::OnePerByte>(elements, scales, y, shape, axis, per_tensor_scale,
                                                           block_size);
}

/// nvfp4_quantize with the E2M1 elements packed two per byte into `packed`
/// (mx_packed_bytes<Float4E2M1>(shape) bytes).
inline Status nvfp4_quantize_packed(const float* x, std::uint8_t* packed, std::uint8_t* scales, const Shape& shape,
                                    int axis, float per_tensor_scale = 1.0f,
                                    std::int64_t block_size = kNvfp4BlockSize) {
  return detail::nvfp4_quantize_to<detail::PackedElements<Float4E2M1>>(x, packed, scales, shape, axis, per_tensor_scale,
                                                                       block_size);
}

/// nvfp4_dequantize of packed elements as nvfp4_quantize_packed writes them.
inline Status nvfp4_dequantize_packed(const std::uint8_t* packed, const std::uint8_t* scales, float* y,
                                      const Shape& shape, int axis, float per_tensor_scale = 1.0f,
                                      std::int64_t block_size = kNvfp4BlockSize) {
  return detail::nvfp4_dequantize_from<detail::PackedElements<Float4E2M1>>(packed, scales, y, shape, axis,
                                                                           per_tensor_scale, block_size);
}

namespace detail {

inline Status nvfp4_fake_quantize_to(const float* x, float* y, std::uint8_t* mask, const Shape& shape, int axis,
                                     float per_tensor_scale, std::int64_t block_size, bool with_mask) {
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(resolve_block_layout(shape, axis, block_size, &r));
  EIGENQ_RETURN_IF_ERROR(with_mask ? check_buffers(shape, {{"x", x}, {"y", y}, {"mask", mask}})
                                   : check_buffers(shape, {{"x", x}, {"y", y}}));
  EIGENQ_RETURN_IF_ERROR(check_nvfp4(per_tensor_scale, nullptr, 0));
  block_scaled_fake_quantize_all<MxElement<Float4E2M1>>(x, y, mask, r, Nvfp4ScaleRule{per_tensor_scale});
  return Status::ok();
}

}  // namespace detail

/// y = nvfp4_dequantize(nvfp4_quantize(x)) in float, bit for bit, through a
/// stack scratch. y may alias x.
inline Status nvfp4_fake_quantize(const float* x, float* y, const Shape& shape, int axis, float per_tensor_scale = 1.0f,
                                  std::int64_t block_size = kNvfp4BlockSize) {
  return detail::nvfp4_fake_quantize_to(x, y, nullptr, shape, axis, per_tensor_scale, block_size, false);
}

/// nvfp4_fake_quantize and the STE mask (as mx_fake_quantize_mask's, X the
/// block's per_tensor_scale * E4M3 scale and the largest value 6).
inline Status nvfp4_fake_quantize_mask(const float* x, float* y, std::uint8_t* mask, const Shape& shape, int axis,
                                       float per_tensor_scale = 1.0f, std::int64_t block_size = kNvfp4BlockSize) {
  return detail::nvfp4_fake_quantize_to(x, y, mask, shape, axis, per_tensor_scale, block_size, true);
}

}  // namespace eigenq
