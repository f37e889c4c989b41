#pragma once
/// \file
/// The Eigen front end for Matrix and Array, without the Tensor module (only
/// Eigen/Core is included): plain objects, Map (with any strides), Block
/// (`m.row(3)`, `m.block(...)`), Ref, Transpose and any dense expression
/// (`x * w + b.replicate(...)`), as rank-2 tensors [rows, cols].
///
///     Eigen::MatrixXf w = ...;                                    // [Cout, Cin], ColMajor
///     auto p = eigenq::choose_qparams<int8_t>(w, eigenq::per_axis_layout(0));
///     Eigen::Matrix<int8_t, -1, -1> q = eigenq::quantize<int8_t>(w, p);
///     eigenq::fake_quantize_into(x.row(3), p1, y.row(3));        // strided blocks too
///
/// A matrix's layout is its storage order (Eigen's default ColMajor:
/// dimension 0, the row index, fastest). Results are plain matrices (arrays
/// for array expressions) of the input's sizes and storage order.

#include <type_traits>

#include <Eigen/Core>

#include "eigen_core.hpp"

namespace eigenq {
namespace detail {

// Any class derived from a DenseBase<D>, D itself or not (a VectorBlock is
// a DenseBase<Block<...>>).
template <class D>
std::true_type is_dense_test(const Eigen::DenseBase<D>*);
std::false_type is_dense_test(...);
template <class T>
constexpr bool is_dense_v = decltype(is_dense_test(std::declval<const T*>()))::value;

// Plain matrices and arrays, and maps without strides: contiguous by type.
template <class T>
struct IsContiguousType : std::is_base_of<Eigen::PlainObjectBase<typename T::PlainObject>, T> {};
template <class P, int Options>
struct IsContiguousType<Eigen::Map<P, Options, Eigen::Stride<0, 0>>> : std::true_type {};

template <class T>
struct EigenTraits<T, std::enable_if_t<is_dense_v<T>>> {
  static constexpr bool supported = true;
  static constexpr int rank = 2;
  static constexpr Layout layout = T::IsRowMajor ? Layout::kRowMajor : Layout::kColMajor;
  static constexpr bool reorderable = true;  // Eigen assigns between storage orders
  static constexpr bool is_array =
      std::is_base_of_v<Eigen::ArrayBase<typename T::PlainObject>, typename T::PlainObject>;
  static constexpr int flags = Eigen::internal::traits<T>::Flags;
  static constexpr bool direct = (flags & Eigen::DirectAccessBit) != 0;
  static constexpr bool writable = direct && (flags & Eigen::LvalueBit) != 0;
  static constexpr bool contiguous_always = IsContiguousType<T>::value;
  using Scalar = std::remove_const_t<typename T::Scalar>;

  // Eigen allows only one storage order for a vector type.
  static constexpr int order_of(Layout l) {
    return T::RowsAtCompileTime == 1 && T::ColsAtCompileTime != 1   ? Eigen::RowMajor
           : T::ColsAtCompileTime == 1 && T::RowsAtCompileTime != 1 ? Eigen::ColMajor
           : l == Layout::kRowMajor                                 ? Eigen::RowMajor
                                                                    : Eigen::ColMajor;
  }
  template <class S>
  using Plain = std::conditional_t<is_array,
                                   Eigen::Array<S, T::RowsAtCompileTime, T::ColsAtCompileTime, order_of(layout),
                                                T::MaxRowsAtCompileTime, T::MaxColsAtCompileTime>,
                                   Eigen::Matrix<S, T::RowsAtCompileTime, T::ColsAtCompileTime, order_of(layout),
                                                 T::MaxRowsAtCompileTime, T::MaxColsAtCompileTime>>;
  // A dynamic view of a buffer in memory order l.
  template <class S, int Order>
  using BufferOf = std::conditional_t<is_array, Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic, Order>,
                                      Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Order>>;

  static Shape shape(const T& t) { return Shape({t.rows(), t.cols()}, layout); }

  template <class U>
  static bool contiguous(const U& t) {
    return t.innerStride() == 1 && (t.outerStride() == t.innerSize() || t.outerSize() <= 1);
  }
  static const Scalar* data(const T& t) {
    if constexpr (direct)
      return contiguous(t) ? t.data() : nullptr;
    else
      return nullptr;
  }
  template <class U>
  static Scalar* mutable_data(U& t) {
    if constexpr (writable)
      return contiguous(t) ? t.data() : nullptr;
    else
      return nullptr;
  }

  static void evaluate(const T& t, Scalar* buffer, const Shape& s) {
    if (s.layout == Layout::kRowMajor)
      Eigen::Map<BufferOf<Scalar, Eigen::RowMajor>>(buffer, t.rows(), t.cols()) = t;
    else
      Eigen::Map<BufferOf<Scalar, Eigen::ColMajor>>(buffer, t.rows(), t.cols()) = t;
  }
  template <class U>
  static void assign(U& t, const Scalar* buffer, const Shape& s) {
    if (s.layout == Layout::kRowMajor)
      t = Eigen::Map<const BufferOf<Scalar, Eigen::RowMajor>>(buffer, s[0], s[1]);
    else
      t = Eigen::Map<const BufferOf<Scalar, Eigen::ColMajor>>(buffer, s[0], s[1]);
  }

  template <class S>
  static Plain<S> make(const Shape& s) {
    return Plain<S>(s[0], s[1]);
  }
};

}  // namespace detail
}  // namespace eigenq
