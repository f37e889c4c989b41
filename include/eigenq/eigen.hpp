#pragma once
/// \file
/// The Eigen front end: Tensor, TensorMap (const and mutable) and
/// TensorFixedSize of any rank and either layout, and Matrix / Map (the 2-D
/// case), mapped onto the raw-pointer `Quantizer`.
///
///     Eigen::Tensor<float, 4> w = ...;                   // [Cout, Cin, kH, kW]
///     auto p = eigenq::choose_qparams<int8_t>(w, eigenq::per_axis_layout(0), ...);
///     Eigen::Tensor<int8_t, 4> q = eigenq::quantize<int8_t>(w, p);
///     Eigen::Tensor<float, 4> back = eigenq::dequantize(q, p);
///
/// Axes are Eigen's dimension indices; the layout (ColMajor: dimension 0
/// fastest) only changes which elements are contiguous, never the meaning
/// of an axis. Functions returning a tensor throw `eigenq::Error` on bad
/// parameters; the `*_into` forms write into a caller's tensor or map and
/// return a `Status` (nothing is written when it is not ok).

#include <cstdint>
#include <type_traits>
#include <utility>

#include <Eigen/Core>
#include <unsupported/Eigen/CXX11/Tensor>

#include "qparams.hpp"
#include "scheme.hpp"

namespace eigenq {
namespace detail {

template <class T, class = void>
struct EigenTraits {
  static constexpr bool supported = false;
};

// Tensor, TensorMap, TensorFixedSize, TensorRef: anything with dimensions()
// and data() over contiguous storage.
template <class T>
struct EigenTraits<
    T, std::void_t<decltype(std::declval<const T&>().dimensions()), decltype(std::declval<T&>().data()),
                   typename Eigen::internal::traits<T>::Index, decltype(Eigen::internal::traits<T>::NumDimensions)>> {
  static constexpr bool supported = true;
  static constexpr bool is_matrix = false;
  static constexpr int rank = Eigen::internal::traits<T>::NumDimensions;
  static constexpr int layout = Eigen::internal::traits<T>::Layout;
  using Scalar = std::remove_const_t<typename T::Scalar>;
  template <class S>
  using Plain = Eigen::Tensor<S, rank, layout, Eigen::DenseIndex>;

  static Shape shape(const T& t) {
    Shape s;
    s.rank = rank;
    s.layout = layout == Eigen::RowMajor ? Layout::kRowMajor : Layout::kColMajor;
    for (int d = 0; d < rank; ++d) s.dims[d] = static_cast<std::int64_t>(t.dimension(d));
    return s;
  }
  static bool contiguous(const T&) { return true; }
  template <class S>
  static Plain<S> make(const T& t) {
    Eigen::array<Eigen::DenseIndex, rank> dims;
    for (int d = 0; d < rank; ++d) dims[d] = static_cast<Eigen::DenseIndex>(t.dimension(d));
    return Plain<S>(dims);
  }
};

// Matrix, Array, Map and Block of a dense object: a rank-2 tensor.
template <class T>
struct EigenTraits<T, std::enable_if_t<std::is_base_of_v<Eigen::DenseBase<T>, T>>> {
  static constexpr bool supported = true;
  static constexpr bool is_matrix = true;
  static constexpr int rank = 2;
  static constexpr int layout = T::IsRowMajor ? Eigen::RowMajor : Eigen::ColMajor;
  using Scalar = std::remove_const_t<typename T::Scalar>;
  template <class S>
  using Plain =
      Eigen::Matrix<S, T::RowsAtCompileTime, T::ColsAtCompileTime, T::IsRowMajor ? Eigen::RowMajor : Eigen::ColMajor,
                    T::MaxRowsAtCompileTime, T::MaxColsAtCompileTime>;

  static Shape shape(const T& t) {
    return Shape({t.rows(), t.cols()}, T::IsRowMajor ? Layout::kRowMajor : Layout::kColMajor);
  }
  static bool contiguous(const T& t) {
    return t.innerStride() == 1 && (t.outerStride() == t.innerSize() || t.outerSize() <= 1);
  }
  template <class S>
  static Plain<S> make(const T& t) {
    return Plain<S>(t.rows(), t.cols());
  }
};

template <class T>
using Traits = EigenTraits<std::remove_cv_t<std::remove_reference_t<T>>>;

template <class In, class Out>
Status check_output(const In& in, const Out& out) {
  using TI = Traits<In>;
  using TO = Traits<Out>;
  static_assert(TI::rank == TO::rank, "input and output must have the same rank");
  static_assert(TI::layout == TO::layout, "input and output must have the same layout");
  if (!TI::contiguous(in) || !TO::contiguous(out))
    return error(StatusCode::kInvalidArgument, "input and output must be contiguous (inner stride 1, no gaps)");
  const Shape a = TI::shape(in), b = TO::shape(out);
  for (int d = 0; d < a.rank; ++d)
    if (a.dims[d] != b.dims[d])
      return error(StatusCode::kShapeMismatch, "output dimension ", d, " = ", b.dims[d], ", expected ", a.dims[d]);
  return Status::ok();
}

}  // namespace detail

/// The eigenq shape of an Eigen tensor, map or matrix.
template <class T>
Shape shape_of(const T& t) {
  return detail::Traits<T>::shape(t);
}

// ---------------------------------------------------------------------------
// Writing into a caller's tensor or map: Status, nothing written on error.

template <class Q, class N = DefaultNumerics, Path P = kBestPath, class In, class Out>
Status quantize_into(const In& x, const QParamsView& params, Out&& q) {
  static_assert(std::is_same_v<typename detail::Traits<In>::Scalar, float>, "quantize takes float input");
  static_assert(std::is_same_v<typename detail::Traits<Out>::Scalar, Q>, "output scalar must be the storage type");
  EIGENQ_RETURN_IF_ERROR(detail::check_output(x, q));
  return quantize<Q, N, P>(x.data(), q.data(), shape_of(x), params);
}

template <class N = DefaultNumerics, Path P = kBestPath, class In, class Out>
Status dequantize_into(const In& q, const QParamsView& params, Out&& y) {
  using Q = typename detail::Traits<In>::Scalar;
  static_assert(std::is_same_v<typename detail::Traits<Out>::Scalar, float>, "dequantize writes float");
  EIGENQ_RETURN_IF_ERROR(detail::check_output(q, y));
  return dequantize<Q, N, P>(q.data(), y.data(), shape_of(q), params);
}

template <class N = DefaultNumerics, Path P = kBestPath, class In, class Out>
Status fake_quantize_into(const In& x, const QParamsView& params, Out&& y) {
  static_assert(std::is_same_v<typename detail::Traits<In>::Scalar, float>, "fake_quantize takes float input");
  static_assert(std::is_same_v<typename detail::Traits<Out>::Scalar, float>, "fake_quantize writes float");
  EIGENQ_RETURN_IF_ERROR(detail::check_output(x, y));
  return fake_quantize<std::int32_t, N, P>(x.data(), y.data(), shape_of(x), params);
}

// ---------------------------------------------------------------------------
// Returning a new tensor (or matrix) of the input's rank and layout; throw
// `eigenq::Error` on bad parameters.

template <class Q, class N = DefaultNumerics, Path P = kBestPath, class In>
auto quantize(const In& x, const QParams& params) -> typename detail::Traits<In>::template Plain<Q> {
  detail::raise_if_error(check_lengths(params));
  auto q = detail::Traits<In>::template make<Q>(x);
  detail::raise_if_error(quantize_into<Q, N, P>(x, params.view(), q));
  return q;
}

template <class N = DefaultNumerics, Path P = kBestPath, class In>
auto dequantize(const In& q, const QParams& params) -> typename detail::Traits<In>::template Plain<float> {
  detail::raise_if_error(check_lengths(params));
  auto y = detail::Traits<In>::template make<float>(q);
  detail::raise_if_error(dequantize_into<N, P>(q, params.view(), y));
  return y;
}

template <class N = DefaultNumerics, Path P = kBestPath, class In>
auto fake_quantize(const In& x, const QParams& params) -> typename detail::Traits<In>::template Plain<float> {
  detail::raise_if_error(check_lengths(params));
  auto y = detail::Traits<In>::template make<float>(x);
  detail::raise_if_error(fake_quantize_into<N, P>(x, params.view(), y));
  return y;
}

/// Parameters chosen from an Eigen tensor's data (see qparams.hpp).
template <class Q, class In>
QParams choose_qparams(const In& x, const ParamLayout& layout, Range range = Range::full<Q>(),
                       Symmetry symmetry = Symmetry::kAffine) {
  static_assert(detail::Traits<In>::supported, "not an Eigen tensor, map or matrix");
  QParams p;
  if (!detail::Traits<In>::contiguous(x))
    detail::raise_if_error(detail::error(StatusCode::kInvalidArgument, "input must be contiguous"));
  detail::raise_if_error(choose_qparams<Q>(x.data(), shape_of(x), layout, range, symmetry, &p));
  return p;
}

}  // namespace eigenq
