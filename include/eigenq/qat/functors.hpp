#pragma once
/// \file
/// Element functors that fuse fake-quantization and the straight-through
/// estimator into Eigen expressions, vectorized by Eigen (each has a
/// `packetOp` and `Eigen::internal::functor_traits<...>::PacketAccess`):
///
///     eigenq::FakeQuantOp<> fq(scale, zero_point, range);                   // per tensor
///     Eigen::MatrixXf y  = (x * w).unaryExpr(fq);                           // one pass, SIMD
///     Eigen::MatrixXf dx = (x * w).binaryExpr(dy, eigenq::SteOp<>(fq));     // dy * mask
///
///     eigenq::FakeQuantAxisOp<> fc(eigenq::QParams::per_axis(0, scales, zps, range));  // per axis
///     Eigen::MatrixXf wq = eigenq::fake_quantize_expr(w, fc);              // w.binaryExpr(channel, fc)
///     Eigen::MatrixXf dw = dy.cwiseProduct(eigenq::ste_mask_expr(w, fc));
///
/// The per-axis functors are binary: (x, channel index as a float). The
/// `*_expr` helpers pair an expression with the channel index of its axis
/// (a nullary expression for matrices, a generator for tensors, see
/// eigen_tensor.hpp); any other expression of channel indices works too.
///
/// Every functor gives exactly the bits of the scalar reference
/// (numerics.hpp), and so of the kernels, on every input: ties, NaN (to
/// qmin), +-inf, saturation. The packet path covers the presets' rounding
/// (half to even, half away from zero, floor(v + 0.5f)) and scaling
/// (reciprocal, division) policies; a functor with another policy reports
/// PacketAccess = false and Eigen calls its scalar operator(). Ranges wider
/// than 2^24 (int32 storage), whose bounds are not exact as floats, run the
/// scalar reference lane by lane inside the packet path.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "../numerics.hpp"
#include "../params.hpp"
#include "../status.hpp"

namespace eigenq {
namespace detail {

/// The packet form of detail::opaque (numerics.hpp): a product that feeds
/// an addition is rounded first, not fused into an FMA.
template <class Packet>
EIGEN_STRONG_INLINE Packet opaque_packet(Packet p) {
#if defined(__GNUC__) && (defined(__x86_64__) || (defined(__i386__) && defined(__SSE2__)))
  __asm__("" : "+v"(p));
#elif defined(__GNUC__) && defined(__aarch64__)
  __asm__("" : "+w"(p));
#else
  EIGEN_OPTIMIZATION_BARRIER(p);
#endif
  return p;
}

/// Rounding policies on Eigen packets; only the presets' policies have one.
template <class Rounding>
struct PacketRounding {
  static constexpr bool kSupported = false;
};

template <>
struct PacketRounding<RoundHalfEven> {
  static constexpr bool kSupported = true;
  // rint under the default rounding mode: ties to even, like nearbyint.
  template <class P>
  static P round(const P& v) {
    return Eigen::internal::print(v);
  }
};

template <>
struct PacketRounding<RoundHalfAway> {
  static constexpr bool kSupported = true;
  // floor(|v| + (0.5f - 2^-25)) with v's sign: the largest float below one
  // half reaches the next integer exactly when the fraction is >= 0.5
  // (0.5f itself would round 0.49999997f up). NaN stays NaN; -0.3 gives
  // -0.0, as std::round does.
  template <class P>
  static P round(const P& v) {
    using namespace Eigen::internal;
    const P sign = pand(v, pset1<P>(-0.0f));
    return por(pfloor(padd(pabs(v), pset1<P>(0x1.fffffep-2f))), sign);
  }
};

template <>
struct PacketRounding<RoundHalfUp> {
  static constexpr bool kSupported = true;
  template <class P>
  static P round(const P& v) {
    using namespace Eigen::internal;
    return pfloor(padd(opaque_packet(v), pset1<P>(0.5f)));
  }
};

template <class Scaling>
struct PacketScaling {
  static constexpr bool kSupported = false;
};

template <>
struct PacketScaling<ScaleByReciprocal> {
  static constexpr bool kSupported = true;
  template <class P>
  static P apply(const P& x, const P& factor) {
    return Eigen::internal::pmul(x, factor);
  }
};

template <>
struct PacketScaling<ScaleByDivision> {
  static constexpr bool kSupported = true;
  template <class P>
  static P apply(const P& x, const P& factor) {
    return Eigen::internal::pdiv(x, factor);
  }
};

/// True when preset N has a packet path.
template <class N>
constexpr bool has_packet_numerics_v =
    PacketRounding<typename N::Rounding>::kSupported&& PacketScaling<typename N::Scaling>::kSupported;

/// One parameter's constants, hoisted out of the element loop: the scale,
/// N's factor, and qmin - zero_point, qmax - zero_point as floats (exact
/// unless the range is wide).
struct ElementConstants {
  float scale = std::numeric_limits<float>::quiet_NaN();
  float factor = std::numeric_limits<float>::quiet_NaN();
  float lo = 0.0f, hi = 0.0f;
  std::int32_t zero_point = 0;
};

/// True when [qmin, qmax] spans more than 2^24: its bounds minus a zero
/// point are not all exact floats.
constexpr bool is_wide_range(Range range) {
  return static_cast<std::int64_t>(range.qmax) - range.qmin > (std::int64_t{1} << 24);
}

template <class N>
ElementConstants element_constants(float scale, std::int32_t zero_point, Range range) {
  ElementConstants c;
  c.scale = scale;
  c.factor = N::Scaling::factor(scale);
  c.lo = static_cast<float>(static_cast<std::int64_t>(range.qmin) - zero_point);
  c.hi = static_cast<float>(static_cast<std::int64_t>(range.qmax) - zero_point);
  c.zero_point = zero_point;
  return c;
}

/// The element operations, scalar (the reference, numerics.hpp) and on
/// packets whose lanes carry their own constants.
template <class N>
struct ElementOps {
  static float rounded(float x, const ElementConstants& c) {
    return N::Rounding::round(N::Scaling::apply(x, c.factor));
  }
  static float fake_quantize(float x, const ElementConstants& c, Range range) {
    return dequantize(saturate(rounded(x, c), c.zero_point, range), c.scale, c.zero_point);
  }
  static float mask(float x, const ElementConstants& c, Range range) {
    return static_cast<float>(in_range(rounded(x, c), c.zero_point, range));
  }

  template <class P>
  static P rounded(const P& x, const P& factor) {
    return PacketRounding<typename N::Rounding>::round(PacketScaling<typename N::Scaling>::apply(x, factor));
  }
  // max with lo first sends NaN to lo (qmin), as saturate() does; adding
  // +0.0f turns a clamped -0.0f into +0.0f, as the reference's round trip
  // through an integer does.
  template <class P>
  static P fake_quantize(const P& x, const P& scale, const P& factor, const P& lo, const P& hi) {
    using namespace Eigen::internal;
    const P r = rounded(x, factor);
    const P c = padd(pmin(pmax<Eigen::PropagateNumbers>(r, lo), hi), pzero(r));
    return pmul(c, scale);
  }
  // 1.0f where lo <= r <= hi, else 0.0f (NaN included: comparisons are false).
  template <class P>
  static P mask(const P& x, const P& factor, const P& lo, const P& hi) {
    using namespace Eigen::internal;
    const P r = rounded(x, factor);
    return pand(pand(pcmp_le(lo, r), pcmp_le(r, hi)), pset1<P>(1.0f));
  }
};

/// Calls f(lane value, lane index) for every lane of a packet and packs the
/// results: the scalar reference inside a packet path.
template <class P>
constexpr std::size_t lanes_v = static_cast<std::size_t>(Eigen::internal::unpacket_traits<P>::size);

template <class P, class F>
P per_lane(const P& x, F&& f) {
  float v[lanes_v<P>];
  Eigen::internal::pstoreu(v, x);
  for (std::size_t i = 0; i < lanes_v<P>; ++i) v[i] = f(v[i], i);
  return Eigen::internal::ploadu<P>(v);
}

/// Per-channel constants as arrays, shared by the copies Eigen makes of a
/// functor.
struct ChannelTables {
  std::vector<float> scale, factor, lo, hi;
  std::vector<std::int32_t> zero_point;
  ElementConstants at(std::size_t c) const { return {scale[c], factor[c], lo[c], hi[c], zero_point[c]}; }
};

}  // namespace detail

// ---------------------------------------------------------------------------
// Per tensor

/// Fake-quantizes one value with per-tensor parameters (a unary functor):
/// `x.unaryExpr(fq)` gives the bits of `fake_quantize` for every x.
///
/// A default-constructed functor is unset and maps every input to NaN (never
/// a silent 0): assign a constructed one, or fill it with create().
template <class N = DefaultNumerics>
class FakeQuantOp {
 public:
  FakeQuantOp() = default;
  /// Throws `eigenq::Error` on a bad scale, zero point or range.
  FakeQuantOp(float scale, std::int32_t zero_point, Range range) {
    detail::raise_if_error(create(scale, zero_point, range, this));
  }
  /// The non-throwing constructor; *out is unchanged on an error.
  static Status create(float scale, std::int32_t zero_point, Range range, FakeQuantOp* out) {
    EIGENQ_RETURN_IF_ERROR(check_range<std::int32_t>(range));
    EIGENQ_RETURN_IF_ERROR(check_pair(scale, zero_point, range, 0));
    out->c_ = detail::element_constants<N>(scale, zero_point, range);
    out->range_ = range;
    out->wide_ = detail::is_wide_range(range);
    return Status::ok();
  }

  float operator()(float x) const { return detail::ElementOps<N>::fake_quantize(x, c_, range_); }
  template <class Packet>
  Packet packetOp(const Packet& x) const {
    using namespace Eigen::internal;
    if (wide_) return detail::per_lane(x, [&](float v, std::size_t) { return (*this)(v); });
    return detail::ElementOps<N>::fake_quantize(x, pset1<Packet>(c_.scale), pset1<Packet>(c_.factor),
                                                pset1<Packet>(c_.lo), pset1<Packet>(c_.hi));
  }
  /// The STE mask of x.
  bool mask(float x) const { return detail::ElementOps<N>::mask(x, c_, range_) != 0.0f; }
  template <class Packet>
  Packet mask_packet(const Packet& x) const {
    using namespace Eigen::internal;
    if (wide_)
      return detail::per_lane(x, [&](float v, std::size_t) { return detail::ElementOps<N>::mask(v, c_, range_); });
    return detail::ElementOps<N>::mask(x, pset1<Packet>(c_.factor), pset1<Packet>(c_.lo), pset1<Packet>(c_.hi));
  }

  /// False for a default-constructed (unset) functor.
  bool valid() const { return !std::isnan(c_.scale); }
  float scale() const { return c_.scale; }
  std::int32_t zero_point() const { return c_.zero_point; }
  Range range() const { return range_; }

 private:
  detail::ElementConstants c_;
  Range range_;
  bool wide_ = false;
};

/// The STE mask as a unary functor: 1.0f where x quantizes inside the range,
/// else 0.0f. `dy * x.unaryExpr(SteMaskOp<>(fq))` is the STE backward pass.
template <class N = DefaultNumerics>
class SteMaskOp {
 public:
  /// fq must be set (see FakeQuantOp::valid).
  explicit SteMaskOp(const FakeQuantOp<N>& fq) : fq_(fq) { EIGENQ_ASSERT(fq.valid()); }
  float operator()(float x) const { return static_cast<float>(fq_.mask(x)); }
  template <class Packet>
  Packet packetOp(const Packet& x) const {
    return fq_.mask_packet(x);
  }

 private:
  FakeQuantOp<N> fq_;
};

/// The straight-through estimator as a binary functor on (x, dy): dy * mask(x),
/// the bits of `Quantizer::ste_backward` (a multiply, so a NaN dy outside
/// the range gives NaN, as PyTorch's).
///
///     Eigen::Tensor<float, 2> dx = x.binaryExpr(dy, eigenq::SteOp<>(scale, zero_point, range));
template <class N = DefaultNumerics>
class SteOp {
 public:
  /// Throws `eigenq::Error` on bad parameters.
  SteOp(float scale, std::int32_t zero_point, Range range) : fq_(scale, zero_point, range) {}
  /// fq must be set (see FakeQuantOp::valid).
  explicit SteOp(const FakeQuantOp<N>& fq) : fq_(fq) { EIGENQ_ASSERT(fq.valid()); }

  float operator()(float x, float dy) const { return dy * static_cast<float>(fq_.mask(x)); }
  template <class Packet>
  Packet packetOp(const Packet& x, const Packet& dy) const {
    return Eigen::internal::pmul(dy, fq_.mask_packet(x));
  }

 private:
  FakeQuantOp<N> fq_;
};

// ---------------------------------------------------------------------------
// Per axis

/// Fake-quantizes with per-axis (per-channel) parameters: a binary functor
/// on (x, c) where c is x's index along the axis, as a float. Pair it with
/// the channel indices by `fake_quantize_expr(x, op)`.
///
/// Packets whose lanes share a channel (the axis is not the fastest) load
/// its constants once; lanes of consecutive channels (the axis is the
/// fastest) load them as vectors; any other pattern gathers them lane by
/// lane. The functor checks which pattern a packet has, unless told by
/// with_pattern() (fake_quantize_expr knows it for matrices).
template <class N = DefaultNumerics>
class FakeQuantAxisOp {
 public:
  /// How the channel indices of a packet's lanes are arranged.
  enum class Pattern {
    kAny,          ///< unknown: checked packet by packet
    kOneChannel,   ///< every lane in the channel of the first
    kConsecutive,  ///< channels c, c + 1, ...
  };

  FakeQuantAxisOp() = default;
  /// Per-axis parameters (any axis; negative counts from the end of the
  /// expression's dimensions). Throws `eigenq::Error` on bad ones.
  explicit FakeQuantAxisOp(const QParams& params) { detail::raise_if_error(create(params, this)); }
  /// The non-throwing constructor; *out is unchanged on an error.
  static Status create(const QParams& params, FakeQuantAxisOp* out) {
    if (params.granularity != Granularity::kPerAxis)
      return detail::error(StatusCode::kInvalidArgument, "FakeQuantAxisOp takes per-axis parameters, got ",
                           granularity_name(params.granularity));
    EIGENQ_RETURN_IF_ERROR(check_lengths(params));
    EIGENQ_RETURN_IF_ERROR(check_range<std::int32_t>(params.range));
    auto t = std::make_shared<detail::ChannelTables>();
    for (std::size_t c = 0; c < params.scale.size(); ++c) {
      EIGENQ_RETURN_IF_ERROR(check_pair(params.scale[c], params.zero_point[c], params.range, c));
      const detail::ElementConstants e =
          detail::element_constants<N>(params.scale[c], params.zero_point[c], params.range);
      t->scale.push_back(e.scale);
      t->factor.push_back(e.factor);
      t->lo.push_back(e.lo);
      t->hi.push_back(e.hi);
      t->zero_point.push_back(e.zero_point);
    }
    out->tables_ = std::move(t);
    out->axis_ = params.axis;
    out->range_ = params.range;
    out->wide_ = detail::is_wide_range(params.range);
    return Status::ok();
  }

  /// x with the parameters of channel c (c in [0, channels())).
  float operator()(float x, float c) const { return detail::ElementOps<N>::fake_quantize(x, constants(c), range_); }
  template <class Packet>
  Packet packetOp(const Packet& x, const Packet& c) const {
    if (wide_) return per_lane_of(x, c, [&](float v, float ch) { return (*this)(v, ch); });
    return with_lanes(c, [&](const Packet& scale, const Packet& factor, const Packet& lo, const Packet& hi) {
      return detail::ElementOps<N>::fake_quantize(x, scale, factor, lo, hi);
    });
  }
  /// The STE mask of x in channel c, 1.0f or 0.0f.
  float mask(float x, float c) const { return detail::ElementOps<N>::mask(x, constants(c), range_); }
  template <class Packet>
  Packet mask_packet(const Packet& x, const Packet& c) const {
    if (wide_) return per_lane_of(x, c, [&](float v, float ch) { return mask(v, ch); });
    return with_lanes(c, [&](const Packet&, const Packet& factor, const Packet& lo, const Packet& hi) {
      return detail::ElementOps<N>::mask(x, factor, lo, hi);
    });
  }

  /// A copy that trusts every packet of channel indices to have `pattern`.
  FakeQuantAxisOp with_pattern(Pattern pattern) const {
    FakeQuantAxisOp op = *this;
    op.pattern_ = pattern;
    return op;
  }
  Pattern pattern() const { return pattern_; }
  const FakeQuantAxisOp& axis_op() const { return *this; }

  /// False for a default-constructed (unset) functor, which has no channels.
  bool valid() const { return tables_ != nullptr; }
  int axis() const { return axis_; }
  std::size_t channels() const { return tables_ ? tables_->scale.size() : 0; }
  Range range() const { return range_; }

 private:
  detail::ElementConstants constants(float c) const {
    const auto k = static_cast<std::size_t>(c);
    EIGENQ_ASSERT(tables_ && c >= 0.0f && k < tables_->scale.size());
    return tables_->at(k);
  }

  // Calls f(scale, factor, lo, hi) with the constants of every lane's channel.
  template <class Packet, class F>
  Packet with_lanes(const Packet& c, F&& f) const {
    using namespace Eigen::internal;
    constexpr std::size_t n = detail::lanes_v<Packet>;
    const detail::ChannelTables& t = *tables_;
    const float first = pfirst(c);
    const auto k = static_cast<std::size_t>(first);
    // Channel indices are never NaN: a lane differs when it is below or above.
    auto differs = [&](const Packet& want) { return predux_any(por(pcmp_lt(c, want), pcmp_lt(want, c))); };
    if (pattern_ == Pattern::kOneChannel || (pattern_ == Pattern::kAny && !differs(pset1<Packet>(first)))) {
      EIGENQ_ASSERT(k < t.scale.size());
      return f(pset1<Packet>(t.scale[k]), pset1<Packet>(t.factor[k]), pset1<Packet>(t.lo[k]), pset1<Packet>(t.hi[k]));
    }
    if (pattern_ == Pattern::kConsecutive || (pattern_ == Pattern::kAny && !differs(plset<Packet>(first)))) {
      EIGENQ_ASSERT(k + n <= t.scale.size());
      return f(ploadu<Packet>(&t.scale[k]), ploadu<Packet>(&t.factor[k]), ploadu<Packet>(&t.lo[k]),
               ploadu<Packet>(&t.hi[k]));
    }
    float channel[n], scale[n], factor[n], lo[n], hi[n];
    pstoreu(channel, c);
    for (std::size_t i = 0; i < n; ++i) {
      const auto j = static_cast<std::size_t>(channel[i]);
      EIGENQ_ASSERT(j < t.scale.size());
      scale[i] = t.scale[j];
      factor[i] = t.factor[j];
      lo[i] = t.lo[j];
      hi[i] = t.hi[j];
    }
    return f(ploadu<Packet>(scale), ploadu<Packet>(factor), ploadu<Packet>(lo), ploadu<Packet>(hi));
  }

  template <class Packet, class F>
  static Packet per_lane_of(const Packet& x, const Packet& c, F&& f) {
    float channel[detail::lanes_v<Packet>];
    Eigen::internal::pstoreu(channel, c);
    return detail::per_lane(x, [&](float v, std::size_t i) { return f(v, channel[i]); });
  }

  std::shared_ptr<const detail::ChannelTables> tables_;
  Pattern pattern_ = Pattern::kAny;
  int axis_ = 0;
  Range range_;
  bool wide_ = false;
};

/// The per-axis STE mask: a binary functor on (x, channel) giving 1.0f or
/// 0.0f; `ste_mask_expr(x, op)` pairs it with the channel indices.
template <class N = DefaultNumerics>
class SteMaskAxisOp {
 public:
  /// op must be set (see FakeQuantAxisOp::valid).
  explicit SteMaskAxisOp(const FakeQuantAxisOp<N>& op) : op_(op) { EIGENQ_ASSERT(op.valid()); }
  float operator()(float x, float c) const { return op_.mask(x, c); }
  template <class Packet>
  Packet packetOp(const Packet& x, const Packet& c) const {
    return op_.mask_packet(x, c);
  }
  int axis() const { return op_.axis(); }
  const FakeQuantAxisOp<N>& axis_op() const { return op_; }
  SteMaskAxisOp with_pattern(typename FakeQuantAxisOp<N>::Pattern pattern) const {
    return SteMaskAxisOp(op_.with_pattern(pattern));
  }

 private:
  FakeQuantAxisOp<N> op_;
};

// ---------------------------------------------------------------------------
// Matrices and arrays: the functors paired with their operands

namespace detail {

/// The index along `axis` of element (i, j), as a float: a nullary functor
/// whose packets run along the inner dimension (rows for ColMajor, columns
/// for RowMajor), as Eigen's vectorized traversal reads them (it has no
/// linear access, so a packet never crosses into the next column or row).
/// Its packets are consecutive channels when the axis is the inner one,
/// else one channel.
template <bool RowMajor>
struct ChannelIndexOp {
  int axis;
  bool along_inner() const { return (axis == 0) != RowMajor; }
  float operator()(Eigen::Index i, Eigen::Index j) const { return static_cast<float>(axis == 0 ? i : j); }
  template <class Packet>
  Packet packetOp(Eigen::Index i, Eigen::Index j) const {
    return along_inner() ? Eigen::internal::plset<Packet>(static_cast<float>(RowMajor ? j : i))
                         : Eigen::internal::pset1<Packet>(static_cast<float>(axis == 0 ? i : j));
  }
};

template <class Derived>
ChannelIndexOp<Derived::IsRowMajor != 0> channel_index_op(int axis) {
  static_assert(std::is_same_v<typename Derived::Scalar, float>, "eigenq: the functors take float expressions");
  const int a = normalize_axis(axis, 2);
  EIGENQ_ASSERT(a >= 0);
  return {a};
}

// x paired with its channel indices by the per-axis functor `op` (with the
// pattern the indices have).
template <class Derived, class AxisOp>
auto with_channel_indices(const Eigen::DenseBase<Derived>& x, const AxisOp& op) {
  const auto index = channel_index_op<Derived>(op.axis());
  using Pattern = typename std::decay_t<decltype(op.axis_op())>::Pattern;
  const auto pattern = index.along_inner() ? Pattern::kConsecutive : Pattern::kOneChannel;
  return x.derived().binaryExpr(Derived::PlainObject::NullaryExpr(x.rows(), x.cols(), index), op.with_pattern(pattern));
}

}  // namespace detail

/// fake_quantize(x) as an Eigen expression, nothing evaluated: x.unaryExpr(op).
template <class Derived, class N>
auto fake_quantize_expr(const Eigen::DenseBase<Derived>& x, const FakeQuantOp<N>& op) {
  return x.derived().unaryExpr(op);
}
/// Per axis: x paired with the channel index of each element.
template <class Derived, class N>
auto fake_quantize_expr(const Eigen::DenseBase<Derived>& x, const FakeQuantAxisOp<N>& op) {
  return detail::with_channel_indices(x, op);
}
/// The STE mask (1.0f or 0.0f) of x as an expression: dx = dy * mask.
template <class Derived, class N>
auto ste_mask_expr(const Eigen::DenseBase<Derived>& x, const FakeQuantOp<N>& op) {
  return x.derived().unaryExpr(SteMaskOp<N>(op));
}
template <class Derived, class N>
auto ste_mask_expr(const Eigen::DenseBase<Derived>& x, const FakeQuantAxisOp<N>& op) {
  return detail::with_channel_indices(x, SteMaskAxisOp<N>(op));
}

}  // namespace eigenq

// What Eigen reads to decide whether to vectorize a functor.
namespace Eigen {
namespace internal {

template <class N>
struct functor_traits<eigenq::FakeQuantOp<N>> {
  enum { Cost = 8 * NumTraits<float>::AddCost, PacketAccess = eigenq::detail::has_packet_numerics_v<N> };
};
template <class N>
struct functor_traits<eigenq::SteMaskOp<N>> {
  enum { Cost = 6 * NumTraits<float>::AddCost, PacketAccess = eigenq::detail::has_packet_numerics_v<N> };
};
template <class N>
struct functor_traits<eigenq::SteOp<N>> {
  enum { Cost = 7 * NumTraits<float>::AddCost, PacketAccess = eigenq::detail::has_packet_numerics_v<N> };
};
template <class N>
struct functor_traits<eigenq::FakeQuantAxisOp<N>> {
  enum { Cost = 12 * NumTraits<float>::AddCost, PacketAccess = eigenq::detail::has_packet_numerics_v<N> };
};
template <class N>
struct functor_traits<eigenq::SteMaskAxisOp<N>> {
  enum { Cost = 10 * NumTraits<float>::AddCost, PacketAccess = eigenq::detail::has_packet_numerics_v<N> };
};
template <bool RowMajor>
struct functor_traits<eigenq::detail::ChannelIndexOp<RowMajor>> {
  enum { Cost = 1, PacketAccess = true, IsRepeatable = true };
};

}  // namespace internal
}  // namespace Eigen
