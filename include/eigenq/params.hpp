#pragma once
/// \file
/// Shapes and quantization parameter sets (per-tensor, per-axis, blocked,
/// per-element), and their validation against a shape.
///
/// Parameters are validated once, when they meet a shape (see
/// `Quantizer`); the kernels below that assume valid input.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include "numerics.hpp"
#include "status.hpp"

namespace eigenq {

/// Memory order of a tensor. ColMajor (Eigen's default) makes dimension 0
/// the fastest-varying; RowMajor (NumPy, PyTorch, ONNX) the last. A raw
/// pointer does not say which it is, so every `Shape` built from dimensions
/// states it: `Shape::row_major({n, c})`, `Shape::col_major({rows, cols})`.
enum class Layout { kColMajor = 0, kRowMajor = 1 };

constexpr const char* layout_name(Layout l) { return l == Layout::kRowMajor ? "RowMajor" : "ColMajor"; }

constexpr int kMaxRank = 8;

namespace detail {

/// The number of elements of dims[0, rank): their product, or -1 when a
/// dimension is negative or the product of the non-zero dimensions exceeds
/// 2^63 - 1 (such a shape describes no tensor, even when another dimension
/// is 0, and its strides would overflow).
inline std::int64_t element_count(const std::int64_t* dims, int rank) {
  std::int64_t nonzero = 1;
  bool empty = false;
  for (int d = 0; d < rank; ++d) {
    if (dims[d] < 0) return -1;
    if (dims[d] == 0) {
      empty = true;
      continue;
    }
    if (nonzero > std::numeric_limits<std::int64_t>::max() / dims[d]) return -1;
    nonzero *= dims[d];
  }
  return empty ? 0 : nonzero;
}

}  // namespace detail

/// Dimensions and memory order of a contiguous tensor.
///
///     Shape::row_major({64, 196})   // NumPy / PyTorch / ONNX order: the last dimension is contiguous
///     Shape::col_major({4, 64})     // an Eigen::MatrixXf(4, 64): the first dimension is contiguous
///
/// Eigen objects carry their own (`shape_of(x)` in eigen_core.hpp).
///
/// A shape made with a rank outside [0, kMaxRank] keeps that rank (and at
/// most kMaxRank dimensions), so that validation (`check_shape`, which every
/// entry point runs) can name it; nothing is written past `dims`.
struct Shape {
  std::array<std::int64_t, kMaxRank> dims{};
  int rank = 0;
  Layout layout = Layout::kColMajor;  ///< as Eigen's; a shape built from dimensions always names its own

  Shape() = default;
  /// The layout has no default: a raw pointer does not say which it is, and
  /// a RowMajor default read Eigen's ColMajor matrices the wrong way round.
  Shape(std::initializer_list<std::int64_t> d, Layout l) : rank(static_cast<int>(d.size())), layout(l) {
    std::copy_n(d.begin(), std::min<std::size_t>(d.size(), kMaxRank), dims.begin());
  }
  /// Dimensions in NumPy's (C) order: the last one is contiguous.
  static Shape row_major(std::initializer_list<std::int64_t> d) { return Shape(d, Layout::kRowMajor); }
  /// Dimensions in Eigen's default (Fortran) order: the first one is contiguous.
  static Shape col_major(std::initializer_list<std::int64_t> d) { return Shape(d, Layout::kColMajor); }
  template <class It>
  static Shape from(It first, int rank, Layout l) {
    Shape s;
    s.rank = rank;
    s.layout = l;
    for (int i = 0; i < std::min(rank, kMaxRank); ++i)
      s.dims[static_cast<std::size_t>(i)] = static_cast<std::int64_t>(first[i]);
    return s;
  }
  std::int64_t operator[](int i) const { return dims[static_cast<std::size_t>(i)]; }
  bool valid_rank() const { return rank >= 0 && rank <= kMaxRank; }
  /// The number of elements; -1 for a shape `check_shape` refuses.
  std::int64_t size() const { return valid_rank() ? detail::element_count(dims.data(), rank) : -1; }
};

namespace detail {

/// True when the dimensions are equal.
inline bool same_dims(const Shape& a, const Shape& b) {
  if (a.rank != b.rank) return false;
  for (int d = 0; d < a.rank; ++d)
    if (a[d] != b[d]) return false;
  return true;
}

/// True when at most one dimension exceeds 1: every layout gives the same
/// memory order.
inline bool is_vector_like(const Shape& s) {
  int long_dims = 0;
  for (int d = 0; d < s.rank; ++d) long_dims += s[d] > 1;
  return long_dims <= 1;
}

/// True when a buffer of shape a can be read as shape b: the same dimensions
/// in the same memory order.
inline bool same_memory(const Shape& a, const Shape& b) {
  return same_dims(a, b) && (a.layout == b.layout || is_vector_like(a));
}

/// The dimensions as text, "[2, 3]"; "rank N" when the rank is invalid.
inline std::string dims_text(const Shape& shape) {
  if (!shape.valid_rank()) return "rank " + std::to_string(shape.rank);
  std::string t = "[";
  for (int d = 0; d < shape.rank; ++d) t += (d ? ", " : "") + std::to_string(shape[d]);
  return t + "]";
}

/// "[196, 32] RowMajor": how error messages name a shape whose layout matters.
inline std::string shape_text(const Shape& s) { return dims_text(s) + " " + layout_name(s.layout); }

}  // namespace detail

/// Checks that a shape describes a tensor: rank in [0, kMaxRank], no
/// negative dimension, and at most 2^63 - 1 elements (counting the non-zero
/// dimensions, see `detail::element_count`).
inline Status check_shape(const Shape& shape) {
  if (!shape.valid_rank())
    return detail::error(StatusCode::kInvalidArgument, "rank ", shape.rank, " is outside [0, ", kMaxRank, "]");
  for (int d = 0; d < shape.rank; ++d)
    if (shape[d] < 0)
      return detail::error(StatusCode::kInvalidArgument, "dimension ", d, " = ", shape[d], " is negative");
  if (shape.size() < 0)
    return detail::error(StatusCode::kInvalidArgument, "shape ", detail::dims_text(shape),
                         " has more than 2^63 - 1 elements");
  return Status::ok();
}

namespace detail {

/// A buffer an entry point reads or writes, named for its messages.
struct Buffer {
  const char* name;
  const void* data;
};

/// Checks the shape, then that every buffer is given when the tensor has
/// elements (a null pointer is fine for an empty tensor).
inline Status check_buffers(const Shape& shape, std::initializer_list<Buffer> buffers) {
  EIGENQ_RETURN_IF_ERROR(check_shape(shape));
  if (shape.size() == 0) return Status::ok();
  for (const Buffer& b : buffers)
    if (b.data == nullptr)
      return error(StatusCode::kInvalidArgument, b.name, " is a null pointer, but shape ", dims_text(shape), " has ",
                   shape.size(), " elements");
  return Status::ok();
}

}  // namespace detail

/// How parameters map to elements.
enum class Granularity {
  kPerTensor,   ///< one scale and zero point
  kPerAxis,     ///< one per index of `axis` (per-channel)
  kBlocked,     ///< one per block of `block_size` along `axis` (group-wise)
  kPerElement,  ///< one per element
};

constexpr const char* granularity_name(Granularity g) {
  return g == Granularity::kPerTensor ? "per-tensor"
         : g == Granularity::kPerAxis ? "per-axis"
         : g == Granularity::kBlocked ? "blocked"
                                      : "per-element";
}

struct QParamsView;

/// Which elements share a parameter, without the parameters: granularity,
/// axis and block size. What calibration takes (choose_qparams, observers)
/// to say how to group the data; build one with per_tensor_layout(),
/// per_axis_layout(axis), blocked_layout(axis, block_size) or
/// per_element_layout().
struct ParamLayout {
  Granularity granularity = Granularity::kPerTensor;
  int axis = 0;                 ///< per-axis and blocked; negative counts from the end
  std::int64_t block_size = 0;  ///< blocked only

  constexpr ParamLayout() = default;
  constexpr explicit ParamLayout(Granularity g, int a = 0, std::int64_t block = 0)
      : granularity(g), axis(a), block_size(block) {}
  /// A parameter set passed where only its layout is read.
  [[deprecated("a QParamsView used as a layout: pass params.layout() or per_axis_layout(axis)")]] ParamLayout(
      const QParamsView& params);
  /// A view with this layout and no values (what the raw resolve functions take).
  operator QParamsView() const;

  friend constexpr bool operator==(const ParamLayout& a, const ParamLayout& b) {
    return a.granularity == b.granularity && a.axis == b.axis && a.block_size == b.block_size;
  }
  friend constexpr bool operator!=(const ParamLayout& a, const ParamLayout& b) { return !(a == b); }
};

/// A non-owning view of a parameter set: what the raw-pointer API takes.
///
/// Blocked parameters are laid out like the tensor itself (same layout),
/// with the blocked axis of length ceil(dims[axis] / block_size), as ONNX
/// opset 21 QuantizeLinear does; the last block may be ragged. Per-element
/// parameters have the tensor's shape.
struct QParamsView {
  Granularity granularity = Granularity::kPerTensor;
  int axis = 0;                 ///< per-axis and blocked; negative counts from the end
  std::int64_t block_size = 0;  ///< blocked only
  const float* scale = nullptr;
  const std::int32_t* zero_point = nullptr;
  std::size_t count = 0;  ///< number of (scale, zero_point) pairs
  Range range;

  ParamLayout layout() const { return ParamLayout(granularity, axis, block_size); }
};

inline ParamLayout::ParamLayout(const QParamsView& params) : ParamLayout(params.layout()) {}
inline ParamLayout::operator QParamsView() const {
  QParamsView v;
  v.granularity = granularity;
  v.axis = axis;
  v.block_size = block_size;
  return v;
}

/// Layouts for calibration: granularity without values.
constexpr ParamLayout per_tensor_layout() { return ParamLayout(); }
constexpr ParamLayout per_axis_layout(int axis) { return ParamLayout(Granularity::kPerAxis, axis); }
constexpr ParamLayout blocked_layout(int axis, std::int64_t block_size) {
  return ParamLayout(Granularity::kBlocked, axis, block_size);
}
constexpr ParamLayout per_element_layout() { return ParamLayout(Granularity::kPerElement); }

/// An owning parameter set, as returned by the calibration functions.
struct QParams {
  Granularity granularity = Granularity::kPerTensor;
  int axis = 0;
  std::int64_t block_size = 0;
  std::vector<float> scale;
  std::vector<std::int32_t> zero_point;
  Range range;

  static QParams per_tensor(float scale, std::int32_t zero_point, Range range) {
    return {Granularity::kPerTensor, 0, 0, {scale}, {zero_point}, range};
  }
  /// An empty `zero_point` means all zeros (symmetric).
  static QParams per_axis(int axis, std::vector<float> scale, std::vector<std::int32_t> zero_point, Range range) {
    return with_zeros({Granularity::kPerAxis, axis, 0, std::move(scale), std::move(zero_point), range});
  }
  static QParams blocked(int axis, std::int64_t block_size, std::vector<float> scale,
                         std::vector<std::int32_t> zero_point, Range range) {
    return with_zeros({Granularity::kBlocked, axis, block_size, std::move(scale), std::move(zero_point), range});
  }
  static QParams per_element(std::vector<float> scale, std::vector<std::int32_t> zero_point, Range range) {
    return with_zeros({Granularity::kPerElement, 0, 0, std::move(scale), std::move(zero_point), range});
  }

  ParamLayout layout() const { return ParamLayout(granularity, axis, block_size); }
  QParamsView view() const {
    return {granularity,
            axis,
            block_size,
            scale.data(),
            zero_point.data(),
            scale.size() == zero_point.size() ? scale.size() : ~std::size_t{0},
            range};
  }

 private:
  static QParams with_zeros(QParams p) {
    if (p.zero_point.empty()) p.zero_point.assign(p.scale.size(), 0);
    return p;
  }
};

/// Checks that an owning set's arrays have the same length. (Its `view()`
/// can only mark a mismatch, not say which lengths differed, so the entry
/// points that take a `QParams` check this first.)
inline Status check_lengths(const QParams& params) {
  if (params.scale.size() != params.zero_point.size())
    return detail::error(StatusCode::kShapeMismatch, "scale has ", params.scale.size(), " values but zero_point has ",
                         params.zero_point.size(), "; expected the same length");
  return Status::ok();
}

/// Per-parameter values derived once from a parameter set for one numerics
/// preset (`Quantizer` computes them), so that no kernel divides per run or
/// per lane: the scaling factor (1/scale for the reciprocal policy, the scale
/// itself for division) and qmin - zero_point, qmax - zero_point as floats.
/// Null when not prepared; lo and hi are also null for per-element sets,
/// whose kernels derive them from the zero points they stream anyway.
struct PreparedParams {
  const float* factor = nullptr;
  const float* lo = nullptr;
  const float* hi = nullptr;
};

/// A shape with a parameter set resolved onto it: the tensor seen as
/// [outer, channels, inner] in memory order, where `channels` is the
/// parameterized axis (1 for per-tensor, the whole tensor for per-element).
struct ResolvedParams {
  QParamsView params;
  PreparedParams prepared;
  std::int64_t outer = 1;
  std::int64_t channels = 1;  ///< length of the axis
  std::int64_t inner = 1;     ///< elements per step along the axis
  std::int64_t blocks = 1;    ///< parameters along the axis (blocked), else channels
  std::size_t count = 1;      ///< parameters the shape needs

  std::int64_t size() const { return outer * channels * inner; }
};

namespace detail {

/// The error for `got` parameters where a resolved layout needs r.count
/// (`got` == ~0: two arrays of different lengths, named by `mismatch`):
/// "per-axis scales on axis 1: got 64, expected 32 for shape [196, 32] RowMajor".
inline Status count_mismatch(const char* what, const ResolvedParams& r, std::size_t got, const Shape& shape,
                             const char* mismatch) {
  std::string where = granularity_name(r.params.granularity);
  if (r.params.granularity == Granularity::kPerAxis || r.params.granularity == Granularity::kBlocked)
    where += make_message(" ", what, " on axis ", r.params.axis);
  else
    where += make_message(" ", what);
  if (r.params.granularity == Granularity::kBlocked) where += make_message(" (block_size ", r.params.block_size, ")");
  return error(StatusCode::kShapeMismatch, where, ": got ",
               got == ~std::size_t{0} ? std::string(mismatch) : make_message(got), ", expected ", r.count,
               " for shape ", detail::shape_text(shape));
}

/// ok when `got` can be read as `expected` (same dimensions and memory
/// order); else an error naming both, `what` being the object checked.
inline Status check_same_shape(const Shape& expected, const Shape& got, const char* what) {
  if (same_memory(expected, got)) return Status::ok();
  return error(StatusCode::kShapeMismatch, what, " has shape ", detail::shape_text(got), ", expected ",
               detail::shape_text(expected));
}

}  // namespace detail

/// Maps a possibly negative axis into [0, rank); -1 if out of range.
inline int normalize_axis(int axis, int rank) {
  const int a = axis < 0 ? axis + rank : axis;
  return (a >= 0 && a < rank) ? a : -1;
}

/// Checks one (scale, zero point) pair; `index` names it in the message.
/// `reciprocal`: the kernels will multiply by 1/scale (ScaleByReciprocal),
/// so it must be finite too. Dividing by the scale (ScaleByDivision) and
/// dequantizing take every finite positive scale, down to 1e-45.
inline Status check_pair(float scale, std::int32_t zero_point, Range range, std::size_t index, bool reciprocal = true) {
  if (!(std::isfinite(scale) && scale > 0.0f))
    return detail::error(StatusCode::kInvalidScale, "scale[", index, "] = ", scale, " must be finite and > 0");
  if (reciprocal && !std::isfinite(1.0f / scale))
    return detail::error(StatusCode::kInvalidScale, "scale[", index, "] = ", scale,
                         " is too small: 1/scale overflows float32 (expected scale >= 2.93873728e-39 for numerics "
                         "that multiply by 1/scale; dequantize and ScaleByDivision presets take any scale > 0)");
  if (zero_point < range.qmin || zero_point > range.qmax)
    return detail::error(StatusCode::kInvalidZeroPoint, "zero_point[", index, "] = ", zero_point,
                         " is outside [qmin, qmax] = [", range.qmin, ", ", range.qmax, "]");
  return Status::ok();
}

/// Checks that a range is non-empty and representable in Q.
template <class Q>
Status check_range(Range range) {
  if (range.qmin > range.qmax)
    return detail::error(StatusCode::kInvalidRange, "qmin = ", range.qmin, " > qmax = ", range.qmax);
  if (!range.fits<Q>())
    return detail::error(StatusCode::kInvalidRange, "range [", range.qmin, ", ", range.qmax, "] is outside ",
                         storage_name<Q>(), " [", Range::full<Q>().qmin, ", ", Range::full<Q>().qmax, "]");
  return Status::ok();
}

/// Resolves the axis of `params` on `shape` and the number of parameters the
/// shape needs; checks the axis and block size but no parameter values.
inline Status resolve_layout(const QParamsView& params, const Shape& shape, ResolvedParams* out) {
  EIGENQ_RETURN_IF_ERROR(check_shape(shape));  // outer * blocks * inner below cannot overflow after it
  ResolvedParams r;
  r.params = params;
  const std::int64_t size = shape.size();
  switch (params.granularity) {
    case Granularity::kPerTensor:
      r.inner = size;
      break;
    case Granularity::kPerElement:
      r.channels = size;
      r.count = static_cast<std::size_t>(size);
      break;
    case Granularity::kPerAxis:
    case Granularity::kBlocked: {
      const int axis = normalize_axis(params.axis, shape.rank);
      if (axis < 0)
        return detail::error(StatusCode::kInvalidAxis, "axis = ", params.axis, " is out of range for rank ", shape.rank,
                             " (expected ", -shape.rank, " <= axis < ", shape.rank, "; shape ",
                             detail::shape_text(shape), ")");
      r.params.axis = axis;
      // ColMajor: dimensions before the axis are faster; RowMajor: after.
      for (int d = 0; d < shape.rank; ++d) {
        if (d == axis) continue;
        const bool faster = shape.layout == Layout::kColMajor ? d < axis : d > axis;
        (faster ? r.inner : r.outer) *= shape[d];
      }
      r.channels = r.blocks = shape[axis];
      r.count = static_cast<std::size_t>(r.channels);
      if (params.granularity == Granularity::kBlocked) {
        if (params.block_size <= 0)
          return detail::error(StatusCode::kInvalidBlockSize, "block_size = ", params.block_size, " must be >= 1");
        // ceil(channels / block_size), which channels + block_size - 1 could overflow.
        r.blocks = r.channels / params.block_size + (r.channels % params.block_size != 0);
        r.count = static_cast<std::size_t>(r.outer * r.blocks * r.inner);
      }
      break;
    }
    default:  // a value cast into the enum
      return detail::error(StatusCode::kInvalidArgument, "granularity = ", static_cast<int>(params.granularity),
                           " is not a Granularity (expected kPerTensor, kPerAxis, kBlocked or kPerElement)");
  }
  *out = r;
  return Status::ok();
}

/// The parameter layout an ONNX QuantizeLinear / DequantizeLinear node
/// describes (opset 21), from its input's shape, its y_scale's shape (the
/// zero point has the same) and its `axis` (default 1) and `block_size`
/// (default 0) attributes, with ONNX Runtime's rules: without a block size,
/// a scalar or one-element 1-D scale is per tensor and a 1-D scale of
/// dims[axis] is per axis; with one, the scale has the input's rank and
/// dimensions except along the axis, where it has ceil(dims[axis] /
/// block_size). Any other shape is an error naming both shapes and the one
/// expected (ORT refuses a [4, 1] scale for x [2, 4], block 2 on axis 1,
/// though it has as many values as [2, 2]). Shapes are ONNX's, row-major;
/// the layout applies to `input`.
inline Status onnx_param_layout(const Shape& input, const Shape& scale, int axis, std::int64_t block_size,
                                ParamLayout* out) {
  EIGENQ_RETURN_IF_ERROR(check_shape(input));
  EIGENQ_RETURN_IF_ERROR(check_shape(scale));
  if (block_size < 0)
    return detail::error(StatusCode::kInvalidBlockSize, "block_size = ", block_size, " must be >= 0 (0: none)");
  const bool one_value = scale.rank == 0 || (scale.rank == 1 && scale[0] == 1);
  if (block_size == 0 && one_value) {
    *out = per_tensor_layout();
    return Status::ok();
  }
  const int a = normalize_axis(axis, input.rank);
  if (a < 0)
    return detail::error(StatusCode::kInvalidAxis, "axis = ", axis, " is out of range for rank ", input.rank,
                         " (input ", detail::dims_text(input), ", y_scale ", detail::dims_text(scale), ")");
  Shape expected = Shape::row_major({input[a]});
  if (block_size > 0) {
    expected = input;
    // ceil(dims[axis] / block_size), which dims[axis] + block_size - 1 could overflow.
    expected.dims[static_cast<std::size_t>(a)] = input[a] / block_size + (input[a] % block_size != 0);
  }
  bool same = scale.rank == expected.rank;
  for (int d = 0; same && d < scale.rank; ++d) same = scale[d] == expected[d];
  if (!same)
    return detail::error(StatusCode::kShapeMismatch, "y_scale shape ", detail::dims_text(scale), " does not fit input ",
                         detail::dims_text(input), " with axis ", axis,
                         block_size > 0 ? detail::make_message(" and block_size ", block_size) : std::string(),
                         ": expected ", detail::dims_text(expected),
                         block_size > 0 ? std::string() : std::string(" (per axis), or a scalar or [1] (per tensor)"));
  *out = block_size > 0 ? blocked_layout(a, block_size) : per_axis_layout(a);
  return Status::ok();
}

/// Validates `params` for a tensor of `shape` stored as Q and resolves the
/// axis. Checks, in order: the range, the axis, the block size, the
/// parameter count, then every scale and zero point. `Scaling` is how the
/// kernels will apply the scale (numerics.hpp): ScaleByReciprocal needs
/// 1/scale finite, ScaleByDivision (and dequantize alone) does not.
template <class Q, class Scaling = ScaleByReciprocal>
Status resolve(const QParamsView& params, const Shape& shape, ResolvedParams* out) {
  static_assert(is_storage_type_v<Q>, "storage type must be int8, uint8, int16, uint16 or int32");
  EIGENQ_RETURN_IF_ERROR(check_range<Q>(params.range));
  ResolvedParams r;
  EIGENQ_RETURN_IF_ERROR(resolve_layout(params, shape, &r));
  if (params.count != r.count || (r.count > 0 && (params.scale == nullptr || params.zero_point == nullptr)))
    return detail::count_mismatch("parameters", r, params.count, shape, "scale and zero_point of different lengths");
  for (std::size_t i = 0; i < r.count; ++i)
    EIGENQ_RETURN_IF_ERROR(
        check_pair(params.scale[i], params.zero_point[i], params.range, i, std::is_same_v<Scaling, ScaleByReciprocal>));
  *out = r;
  return Status::ok();
}

}  // namespace eigenq
