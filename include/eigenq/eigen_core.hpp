#pragma once
/// \file
/// What the Eigen front ends share: how an Eigen object becomes a buffer
/// and a `Shape` for the raw-pointer API, and the entry points written once
/// on top of that. Include eigen_matrix.hpp (Matrix, Array and their
/// expressions; Eigen/Core only), eigen_tensor.hpp (Tensor and tensor
/// expressions) or eigen.hpp (both) rather than this file.
///
/// Inputs may be any dense Eigen object or expression: a plain Tensor,
/// Matrix or Array, a TensorMap or Map (with strides), a Block such as
/// `m.row(3)`, a Ref, or an unevaluated expression such as `x * w + b`. Its
/// memory is used as it is when it is contiguous in the order needed;
/// otherwise the object is evaluated once into a temporary in that order.
/// Outputs are written in place when contiguous, else through one
/// temporary copied in after the computation succeeded.
///
/// The layout always comes from the object (ColMajor: dimension 0 fastest)
/// and never changes the meaning of an axis. An input and an output must
/// have the same dimensions; their memory orders may differ for matrices
/// (the input is evaluated in the output's order) and for vectors, not for
/// tensors of rank >= 2 with more than one dimension above 1.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

#include <Eigen/Core>

#include "params.hpp"
#include "qparams.hpp"
#include "scheme.hpp"
#include "status.hpp"

namespace eigenq {

template <>
struct HalfFormatOf<Eigen::half> {
  using type = Float16;
};
template <>
struct HalfFormatOf<Eigen::bfloat16> {
  using type = BFloat16;
};

namespace detail {

/// What the front end knows about an Eigen type T. The primary template
/// marks a type it does not support; eigen_matrix.hpp and eigen_tensor.hpp
/// specialize it with
///
///     supported, rank, layout, reorderable, writable, contiguous_always,
///     Scalar, Plain<S>
///     shape(t)              dimensions and layout (no evaluation)
///     data(t)               the object's memory if contiguous in `layout`, else nullptr
///     evaluate(t, buf, s)   writes t into buf in the memory order of shape s
///     mutable_data(t)       as data(), for outputs
///     assign(t, buf, s)     writes buf (shape s) into a non-contiguous output
///     make<S>(s)            a Plain<S> of shape s
template <class T, class = void>
struct EigenTraits {
  static constexpr bool supported = false;
};

template <class T>
using Traits = EigenTraits<std::remove_cv_t<std::remove_reference_t<T>>>;

template <class T, class = void>
struct HasTensorTraits : std::false_type {};
template <class T>
struct HasTensorTraits<T, std::void_t<decltype(Eigen::internal::traits<T>::NumDimensions)>> : std::true_type {};

template <class T, class = void>
struct IsSparse : std::false_type {};
template <class T>
struct IsSparse<T, std::void_t<typename Eigen::internal::traits<T>::StorageKind>>
    : std::is_same<typename Eigen::internal::traits<T>::StorageKind, Eigen::Sparse> {};

/// Refuses, at compile time and saying what to do instead, a type the front
/// end cannot take.
template <class T>
constexpr void check_supported() {
  using U = std::remove_cv_t<std::remove_reference_t<T>>;
  constexpr bool sparse = IsSparse<U>::value;
  constexpr bool tensor = !Traits<U>::supported && HasTensorTraits<U>::value;
  static_assert(!sparse, "eigenq takes dense objects: convert a sparse matrix with .toDense() first");
  static_assert(!tensor, "eigenq: an Eigen tensor needs #include <eigenq/eigen_tensor.hpp> (or <eigenq/eigenq.hpp>)");
  static_assert(Traits<U>::supported || sparse || tensor,
                "eigenq: not an Eigen object. Pass a Tensor, TensorMap, tensor expression, Matrix, Array, Map, "
                "Block, Ref or dense expression, or call the raw-pointer API with data() and a Shape");
}

template <class T, class S>
constexpr void check_scalar() {
  check_supported<T>();
  if constexpr (Traits<T>::supported)
    static_assert(std::is_same_v<typename Traits<T>::Scalar, S>,
                  "eigenq: wrong element type (float inputs and outputs, the storage type for quantized "
                  "tensors, uint8 masks): convert with .template cast<T>()");
}

/// Whether an object of shape `own` can be read or written as `want` (the
/// shape of the computation): the same dimensions, and the same memory
/// order unless the object can be evaluated in another (matrices can,
/// tensors cannot). Sets *reorder when a copy in want's order is needed.
inline Status check_fit(const Shape& own, const Shape& want, bool reorderable, const char* what, bool* reorder) {
  if (!same_dims(own, want))
    return error(StatusCode::kShapeMismatch, what, " has shape ", shape_text(own), ", expected ", shape_text(want));
  *reorder = !same_memory(own, want);
  if (*reorder && !reorderable)
    return error(StatusCode::kInvalidArgument, what, " is ", shape_text(own), " where ", shape_text(want),
                 " is needed: Eigen tensors keep their layout (give every tensor the same one, or convert with "
                 ".swap_layout().shuffle(...))");
  return Status::ok();
}

/// Whether reading (or writing) an In in the memory order of a Like can need
/// a temporary: unless In is contiguous by its type (a plain matrix or
/// tensor, a map without strides) and Like has its layout. Like = void means
/// the order is only known at run time. When this is false the copying code
/// is not even instantiated, which keeps compile times down for plain
/// objects.
template <class In, class Like>
constexpr bool may_copy() {
  using T = Traits<In>;
  if constexpr (std::is_void_v<Like>)
    return true;
  else
    return !(T::contiguous_always && Traits<Like>::layout == T::layout);
}

/// The buffer of a view that may need a temporary.
template <class Scalar>
struct Temporary {
  std::unique_ptr<Scalar[]> data;
  Scalar* allocate(const Shape& shape) {
    data.reset(new Scalar[static_cast<std::size_t>(shape.size() > 0 ? shape.size() : 1)]);
    return data.get();
  }
};

/// An input as a contiguous buffer with a shape: the object's own memory
/// when it is contiguous in the order wanted, else a copy evaluated once.
/// Like is the type whose layout is wanted (see may_copy).
template <class In, class Like = In>
class InputView {
 public:
  using T = Traits<In>;
  using Scalar = typename T::Scalar;
  static constexpr bool kMayCopy = may_copy<In, Like>();

  /// In the object's own layout.
  explicit InputView(const In& x) : shape_(T::shape(x)) {
    check_supported<In>();
    read(x, false);
  }
  /// With the dimensions and memory order of `want` (an output's shape);
  /// status() says why when that is not possible.
  InputView(const In& x, const Shape& want, const char* what) : shape_(T::shape(x)) {
    check_supported<In>();
    bool reorder = false;
    status_ = check_fit(shape_, want, T::reorderable, what, &reorder);
    if (!status_.is_ok()) return;
    shape_.layout = want.layout;
    read(x, reorder);
  }

  const Status& status() const { return status_; }
  const Scalar* data() const { return data_; }
  const Shape& shape() const { return shape_; }

 private:
  void read(const In& x, bool reorder) {
    data_ = reorder ? nullptr : T::data(x);
    if constexpr (kMayCopy) {
      if (data_ == nullptr) {
        Scalar* copy = copy_.allocate(shape_);
        T::evaluate(x, copy, shape_);
        data_ = copy;
      }
    }
    EIGENQ_ASSERT(data_ != nullptr || shape_.size() == 0);
  }

  Shape shape_;
  Status status_;
  const Scalar* data_ = nullptr;
  Temporary<Scalar> copy_;
};

/// An output as a contiguous buffer: the object's memory when contiguous
/// (in the order wanted), else a temporary that commit() copies in. Call
/// commit() only on success, so that nothing is written on an error. Like
/// is the type whose layout is wanted (see may_copy).
template <class Out, class Like = Out>
class OutputView {
 public:
  using T = Traits<Out>;
  using Scalar = typename T::Scalar;
  static constexpr bool kMayCopy = may_copy<Out, Like>();

  /// In the object's own layout.
  explicit OutputView(Out& y) : y_(y), shape_(T::shape(y)) {
    check_writable();
    bind(false);
  }
  /// With the dimensions and memory order of `want` (another output's or
  /// the computation's shape); status() says why when that is not possible.
  OutputView(Out& y, const Shape& want, const char* what) : y_(y), shape_(T::shape(y)) {
    check_writable();
    bool reorder = false;
    status_ = check_fit(shape_, want, T::reorderable, what, &reorder);
    if (!status_.is_ok()) return;
    shape_.layout = want.layout;
    bind(reorder);
  }

  const Status& status() const { return status_; }
  Scalar* data() const { return data_; }
  const Shape& shape() const { return shape_; }
  void commit() {
    if constexpr (kMayCopy)
      if (copy_.data) T::assign(y_, copy_.data.get(), shape_);
  }

 private:
  static constexpr void check_writable() {
    check_supported<Out>();
    static_assert(T::writable,
                  "eigenq: the output must be writable memory: a Tensor, TensorMap or TensorFixedSize, or a Matrix, "
                  "Array, Map, Block or Ref (write into a Tensor and assign it to a tensor expression)");
  }
  void bind(bool reorder) {
    data_ = reorder ? nullptr : T::mutable_data(y_);
    if constexpr (kMayCopy)
      if (data_ == nullptr) data_ = copy_.allocate(shape_);
    EIGENQ_ASSERT(data_ != nullptr || shape_.size() == 0);
  }

  Out& y_;
  Shape shape_;
  Status status_;
  Scalar* data_ = nullptr;
  Temporary<Scalar> copy_;
};

/// A new tensor or matrix of the input's kind, rank and layout with scalar S.
template <class In, class S>
using PlainOf = typename Traits<In>::template Plain<S>;

template <class In, class S>
auto make_plain(const Shape& shape) {
  check_supported<In>();
  return Traits<In>::template make<S>(shape);
}

template <class T>
Shape shape_of_object(const T& t) {
  check_supported<T>();
  return Traits<T>::shape(t);
}

/// Reads x in y's dimensions and memory order, calls
/// fn(x_data, y_data, shape) -> Status, and writes y only when it is ok.
template <class In, class Out, class Fn>
Status map_into(const In& x, Out& y, Fn&& fn) {
  OutputView<Out> out(y);
  const InputView<In, Out> in(x, out.shape(), "the input");
  EIGENQ_RETURN_IF_ERROR(in.status());
  EIGENQ_RETURN_IF_ERROR(fn(in.data(), out.data(), out.shape()));
  out.commit();
  return Status::ok();
}

/// The same with two inputs, a and b (named in errors): fn(a_data, b_data,
/// y_data, shape). What the backward passes share.
template <class A, class B, class Out, class Fn>
Status map_into(const A& a, const char* a_name, const B& b, const char* b_name, Out& y, Fn&& fn) {
  OutputView<Out> out(y);
  const InputView<A, Out> av(a, out.shape(), a_name);
  EIGENQ_RETURN_IF_ERROR(av.status());
  const InputView<B, Out> bv(b, out.shape(), b_name);
  EIGENQ_RETURN_IF_ERROR(bv.status());
  EIGENQ_RETURN_IF_ERROR(fn(av.data(), bv.data(), out.data(), out.shape()));
  out.commit();
  return Status::ok();
}

/// obs.observe(data, shape) on any float object or expression: what the
/// observers' Eigen overloads share.
template <class Observer, class In>
Status observe_eigen(Observer& obs, const In& x) {
  check_scalar<In, float>();
  const InputView<In> in(x);
  return obs.observe(in.data(), in.shape());
}

/// The Eigen forms of a layer's two passes, written once for every layer.
/// Derived provides the raw passes and the last forward pass's shape:
///
///     Status forward(const float* x, float* y, const Shape& shape);
///     Status backward(const float* dy, float* dx, const Shape& shape) const;
///     const Shape& shape() const;
///
/// and says `using EigenPasses<Derived>::forward, EigenPasses<Derived>::backward`.
template <class Derived>
class EigenPasses {
 public:
  /// y = the forward pass of x (any float object or expression of y's
  /// dimensions). Nothing is written when the status is not ok.
  template <class In, class Out>
  Status forward_into(const In& x, Out&& y) {
    check_scalar<In, float>();
    check_scalar<Out, float>();
    return map_into(x, y, [&](const float* in, float* out, const Shape& s) { return self().forward(in, out, s); });
  }
  /// dx = the backward pass of dy, both of the last forward pass's dimensions.
  template <class DY, class DX>
  Status backward_into(const DY& dy, DX&& dx) const {
    check_scalar<DY, float>();
    check_scalar<DX, float>();
    const Shape& shape = self().shape();  // its layout is known at run time only
    OutputView<std::remove_reference_t<DX>, void> out(dx, shape, "dx");
    EIGENQ_RETURN_IF_ERROR(out.status());
    const InputView<DY, void> g(dy, shape, "dy");
    EIGENQ_RETURN_IF_ERROR(g.status());
    EIGENQ_RETURN_IF_ERROR(self().backward(g.data(), out.data(), shape));
    out.commit();
    return Status::ok();
  }
  /// The same, returning new tensors or matrices; throw `eigenq::Error`.
  template <class In>
  auto forward(const In& x) {
    check_scalar<In, float>();
    auto y = make_plain<In, float>(shape_of_object(x));
    raise_if_error(forward_into(x, y));
    return y;
  }
  template <class DY>
  auto backward(const DY& dy) const {
    check_scalar<DY, float>();
    auto dx = make_plain<DY, float>(shape_of_object(dy));
    raise_if_error(backward_into(dy, dx));
    return dx;
  }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
  const Derived& self() const { return static_cast<const Derived&>(*this); }
};

}  // namespace detail

/// The eigenq shape (dimensions and layout) of an Eigen object or
/// expression; nothing is evaluated.
template <class T>
Shape shape_of(const T& t) {
  return detail::shape_of_object(t);
}

// ---------------------------------------------------------------------------
// Writing into a caller's tensor or matrix: Status, nothing written on error.

/// q = quantize(x), x any float object or expression of q's dimensions.
template <class Q, class N = DefaultNumerics, Path P = kBestPath, class In, class Out>
Status quantize_into(const In& x, const QParamsView& params, Out&& q) {
  detail::check_scalar<In, float>();
  detail::check_scalar<Out, Q>();
  return detail::map_into(
      x, q, [&](const float* in, Q* out, const Shape& shape) { return quantize<Q, N, P>(in, out, shape, params); });
}

/// y = dequantize(q).
template <class N = DefaultNumerics, Path P = kBestPath, class In, class Out>
Status dequantize_into(const In& q, const QParamsView& params, Out&& y) {
  detail::check_supported<In>();
  detail::check_scalar<Out, float>();
  using Q = typename detail::Traits<In>::Scalar;
  return detail::map_into(
      q, y, [&](const Q* in, float* out, const Shape& shape) { return dequantize<Q, N, P>(in, out, shape, params); });
}

/// y = dequantize(quantize(x)); y may be x itself.
template <class N = DefaultNumerics, Path P = kBestPath, class In, class Out>
Status fake_quantize_into(const In& x, const QParamsView& params, Out&& y) {
  detail::check_scalar<In, float>();
  detail::check_scalar<Out, float>();
  return detail::map_into(x, y, [&](const float* in, float* out, const Shape& shape) {
    return fake_quantize<std::int32_t, N, P>(in, out, shape, params);
  });
}

// ---------------------------------------------------------------------------
// Returning a new tensor or matrix of the input's rank and layout; throw
// `eigenq::Error` on bad parameters.

template <class Q, class N = DefaultNumerics, Path P = kBestPath, class In>
auto quantize(const In& x, const QParams& params) {
  detail::check_scalar<In, float>();
  detail::raise_if_error(check_lengths(params));
  auto q = detail::make_plain<In, Q>(shape_of(x));
  detail::raise_if_error(quantize_into<Q, N, P>(x, params.view(), q));
  return q;
}

template <class N = DefaultNumerics, Path P = kBestPath, class In>
auto dequantize(const In& q, const QParams& params) {
  detail::check_supported<In>();
  detail::raise_if_error(check_lengths(params));
  auto y = detail::make_plain<In, float>(shape_of(q));
  detail::raise_if_error(dequantize_into<N, P>(q, params.view(), y));
  return y;
}

template <class N = DefaultNumerics, Path P = kBestPath, class In>
auto fake_quantize(const In& x, const QParams& params) {
  detail::check_scalar<In, float>();
  detail::raise_if_error(check_lengths(params));
  auto y = detail::make_plain<In, float>(shape_of(x));
  detail::raise_if_error(fake_quantize_into<N, P>(x, params.view(), y));
  return y;
}

// ---------------------------------------------------------------------------
// Calibration

/// Parameters chosen from an Eigen object's data (see qparams.hpp); the
/// Status form writes them to *out.
template <class Q, class In>
Status choose_qparams(const In& x, const ParamLayout& layout, Range range, Symmetry symmetry, QParams* out) {
  detail::check_scalar<In, float>();
  const detail::InputView<In> in(x);
  return choose_qparams<Q>(in.data(), in.shape(), layout, range, symmetry, out);
}

/// Throws `eigenq::Error`.
template <class Q, class In>
QParams choose_qparams(const In& x, const ParamLayout& layout, Range range = Range::full<Q>(),
                       Symmetry symmetry = Symmetry::kAffine) {
  QParams p;
  detail::raise_if_error(choose_qparams<Q>(x, layout, range, symmetry, &p));
  return p;
}

}  // namespace eigenq
