#pragma once
/// \file
/// The Eigen front end for the Tensor module: Tensor, TensorFixedSize,
/// TensorMap (const or not), TensorRef and any tensor expression (`a + b`,
/// `t.chip(0, 1)`, `x.contract(w, dims)`), of any rank up to 8 and either
/// layout.
///
///     Eigen::Tensor<float, 4> w = ...;                   // [Cout, Cin, kH, kW]
///     auto p = eigenq::choose_qparams<int8_t>(w, eigenq::per_axis_layout(0), ...);
///     Eigen::Tensor<int8_t, 4> q = eigenq::quantize<int8_t>(w, p);
///     Eigen::Tensor<float, 4> back = eigenq::dequantize(q, p);
///     eigenq::fake_quantize_into(a + b, p, y);            // evaluated once
///
/// Axes are Eigen's dimension indices; the layout (ColMajor: dimension 0
/// fastest) only changes which elements are contiguous, never the meaning
/// of an axis. Results are `Eigen::Tensor`s of the input's rank and layout.
/// Outputs must be a Tensor, TensorFixedSize or a mutable TensorMap.

#include <type_traits>

#include <Eigen/Core>
#include <unsupported/Eigen/CXX11/Tensor>

#include "eigen_core.hpp"
#include "qat/functors.hpp"

namespace eigenq {
namespace detail {

template <class T>
struct IsTensorStorage : std::false_type {};
template <class S, int R, int O, class I>
struct IsTensorStorage<Eigen::Tensor<S, R, O, I>> : std::true_type {};
template <class S, class D, int O, class I>
struct IsTensorStorage<Eigen::TensorFixedSize<S, D, O, I>> : std::true_type {};
template <class P, int O, template <class> class M>
struct IsTensorStorage<Eigen::TensorMap<P, O, M>> : std::true_type {};

template <class T>
struct IsTensorRef : std::false_type {};
template <class P>
struct IsTensorRef<Eigen::TensorRef<P>> : std::true_type {};

template <class T, class = void>
struct HasMutableData : std::false_type {};
template <class T>
struct HasMutableData<T, std::enable_if_t<!std::is_const_v<std::remove_pointer_t<decltype(std::declval<T&>().data())>>>>
    : std::true_type {};

template <class T>
struct EigenTraits<T, std::enable_if_t<std::is_base_of_v<Eigen::TensorBase<T, Eigen::ReadOnlyAccessors>, T>>> {
  static constexpr bool supported = true;
  static constexpr int rank = Eigen::internal::traits<T>::NumDimensions;
  static constexpr int eigen_layout = Eigen::internal::traits<T>::Layout;
  static constexpr Layout layout = eigen_layout == Eigen::RowMajor ? Layout::kRowMajor : Layout::kColMajor;
  static constexpr bool reorderable = false;  // Eigen assigns tensors only between equal layouts
  static constexpr bool storage = IsTensorStorage<T>::value;
  static constexpr bool writable = storage && HasMutableData<T>::value;
  static constexpr bool contiguous_always = storage;
  static_assert(rank <= kMaxRank, "eigenq: tensors of rank above 8 are not supported");
  using Scalar = std::remove_const_t<typename Eigen::internal::traits<T>::Scalar>;
  using Index = typename Eigen::internal::traits<T>::Index;
  template <class S>
  using Plain = Eigen::Tensor<S, rank, eigen_layout, Eigen::DenseIndex>;
  template <class S>
  using Buffer = Eigen::TensorMap<Eigen::Tensor<S, rank, eigen_layout, Index>>;

  static Shape shape(const T& t) {
    if constexpr (storage || IsTensorRef<T>::value) {
      return from_dims(t.dimensions());
    } else {  // an expression: its evaluator knows the dimensions before anything is computed
      const Eigen::DefaultDevice device;
      const Eigen::TensorEvaluator<const T, Eigen::DefaultDevice> evaluator(t, device);
      return from_dims(evaluator.dimensions());
    }
  }
  static const Scalar* data(const T& t) {
    if constexpr (storage || IsTensorRef<T>::value)
      return t.data();  // a TensorRef of an expression has none
    else
      return nullptr;
  }
  template <class U>
  static Scalar* mutable_data(U& t) {
    return t.data();
  }

  static void evaluate(const T& t, Scalar* buffer, const Shape& s) { Buffer<Scalar>(buffer, dims_of(s)) = t; }
  template <class U>
  static void assign(U&, const Scalar*, const Shape&) {}  // outputs are contiguous

  template <class S>
  static Plain<S> make(const Shape& s) {
    return Plain<S>(dims_of(s));
  }

 private:
  template <class Dims>
  static Shape from_dims(const Dims& dims) {
    const Eigen::DSizes<Eigen::DenseIndex, rank> d(dims);  // Sizes<...> or DSizes, one indexing
    Shape s;
    s.rank = rank;
    s.layout = layout;
    for (std::size_t i = 0; i < static_cast<std::size_t>(rank); ++i) s.dims[i] = static_cast<std::int64_t>(d[i]);
    return s;
  }
  static Eigen::array<Index, static_cast<std::size_t>(rank)> dims_of(const Shape& s) {
    Eigen::array<Index, static_cast<std::size_t>(rank)> dims;
    for (int d = 0; d < rank; ++d) dims[static_cast<std::size_t>(d)] = static_cast<Index>(s[d]);
    return dims;
  }
};

/// The index along `axis` of each element, as a float: the second operand
/// of the per-axis functors.
template <int Rank, class Index>
struct ChannelIndexGenerator {
  std::size_t axis;
  float operator()(const Eigen::array<Index, static_cast<std::size_t>(Rank)>& coords) const {
    return static_cast<float>(coords[axis]);
  }
};

template <class Derived>
auto channel_indices(const Derived& x, int axis) {
  using T = EigenTraits<Derived>;
  static_assert(std::is_same_v<typename T::Scalar, float>, "eigenq: the functors take float expressions");
  const int a = normalize_axis(axis, T::rank);
  EIGENQ_ASSERT(a >= 0);
  return x.generate(ChannelIndexGenerator<T::rank, typename T::Index>{static_cast<std::size_t>(a)});
}

}  // namespace detail

// The element functors (qat/functors.hpp) paired with tensor expressions.

/// fake_quantize(x) as a tensor expression, nothing evaluated.
template <class Derived, class N>
auto fake_quantize_expr(const Eigen::TensorBase<Derived, Eigen::ReadOnlyAccessors>& x, const FakeQuantOp<N>& op) {
  return static_cast<const Derived&>(x).unaryExpr(op);
}
/// Per axis: x paired with the channel index of each element.
template <class Derived, class N>
auto fake_quantize_expr(const Eigen::TensorBase<Derived, Eigen::ReadOnlyAccessors>& x, const FakeQuantAxisOp<N>& op) {
  const Derived& e = static_cast<const Derived&>(x);
  return e.binaryExpr(detail::channel_indices(e, op.axis()), op);
}
/// The STE mask (1.0f or 0.0f) of x as a tensor expression: dx = dy * mask.
template <class Derived, class N>
auto ste_mask_expr(const Eigen::TensorBase<Derived, Eigen::ReadOnlyAccessors>& x, const FakeQuantOp<N>& op) {
  return static_cast<const Derived&>(x).unaryExpr(SteMaskOp<N>(op));
}
template <class Derived, class N>
auto ste_mask_expr(const Eigen::TensorBase<Derived, Eigen::ReadOnlyAccessors>& x, const FakeQuantAxisOp<N>& op) {
  const Derived& e = static_cast<const Derived&>(x);
  return e.binaryExpr(detail::channel_indices(e, op.axis()), SteMaskAxisOp<N>(op));
}

}  // namespace eigenq
