#pragma once
/// \file
/// Group-wise weights (GPTQ, AWQ, ONNX opset 21 `block_size`): blocks of
/// `group_size` consecutive elements along the input axis each get their own
/// scale and zero point, chosen from the block's min and max by the rules of
/// qparams.hpp. Scales can be stored as float16, as most 4-bit checkpoints
/// do; the parameters returned then hold exactly the float16 values, so
/// quantizing with them and with the stored scales is the same.
///
///     eigenq::QParams p;
///     EIGENQ_RETURN_IF_ERROR(eigenq::choose_groupwise_qparams<int8_t>(
///         w, shape, {/*axis=*/1, /*group_size=*/128, Range::bits<int8_t>(4), Symmetry::kSymmetric,
///                    ScaleStorage::kFloat16}, &p));
///     eigenq::PackedQuantizer<eigenq::Int4> qz(shape, p);         // or Quantizer<int8_t>
///     std::vector<uint16_t> stored = eigenq::to_half(p.scale);     // exact
///
/// The float16 conversions (float_to_half, half_to_float) and parameters in
/// their stored formats are in stored.hpp.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "params.hpp"
#include "qparams.hpp"
#include "stored.hpp"

namespace eigenq {

// ---------------------------------------------------------------------------
// Group-wise parameters

enum class ScaleStorage { kFloat32, kFloat16 };

struct GroupwiseOptions {
  int axis = -1;                  ///< the input axis (negative counts from the end)
  std::int64_t group_size = 128;  ///< 32, 64, 128 are usual; the last group may be shorter
  Range range = Range::bits<std::int8_t>(4);
  Symmetry symmetry = Symmetry::kSymmetric;
  ScaleStorage scale_storage = ScaleStorage::kFloat32;
};

/// Blocked parameters for weights `w` of `shape`: one (scale, zero point) per
/// group of `group_size` along `axis`, from the group's min and max
/// (`choose_qparams`). With float16 storage each scale is rounded to the
/// nearest float16 (kept at least the smallest positive one, so a dead group
/// keeps a positive scale) and the affine zero point is chosen again for the
/// rounded scale; a scale above float16's range is refused by name.
template <class Q>
Status choose_groupwise_qparams(const float* w, const Shape& shape, const GroupwiseOptions& options, QParams* out) {
  QParams p;
  EIGENQ_RETURN_IF_ERROR(choose_qparams<Q>(w, shape, blocked_layout(options.axis, options.group_size), options.range,
                                           options.symmetry, &p));
  if (options.scale_storage == ScaleStorage::kFloat16) {
    MinMax mm;
    if (options.symmetry == Symmetry::kAffine)
      EIGENQ_RETURN_IF_ERROR(compute_min_max(w, shape, blocked_layout(options.axis, options.group_size), &mm));
    for (std::size_t g = 0; g < p.scale.size(); ++g) {
      const float s = half_to_float(float_to_half(p.scale[g]));
      if (std::isinf(s))
        return detail::error(StatusCode::kInvalidScale, "scale[", g, "] = ", p.scale[g],
                             " does not fit float16 (largest 65504)");
      p.scale[g] = s > 0.0f ? s : 0x1p-24f;  // the smallest positive float16
      if (options.symmetry == Symmetry::kAffine) {
        // zp = clamp(qmin - round_half_even(min' / s)) for the stored scale.
        const float lo = std::isnan(mm.min[g]) ? 0.0f : std::min(mm.min[g], 0.0f);
        const double zp = options.range.qmin - static_cast<double>(std::nearbyint(lo / p.scale[g]));
        p.zero_point[g] = static_cast<std::int32_t>(std::clamp<double>(zp, options.range.qmin, options.range.qmax));
      }
    }
  }
  *out = std::move(p);
  return Status::ok();
}

}  // namespace eigenq
