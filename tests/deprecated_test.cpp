// The names kept for compatibility still compile and mean what their
// replacements mean (their deprecation warnings are the point of them, so
// they are silenced here).
#include <gtest/gtest.h>

#include <cstdint>
#include <type_traits>
#include <vector>

#include "eigenq/eigenq.hpp"

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

namespace eigenq {
namespace {

TEST(Deprecated, OldNamesAreAliases) {
  static_assert(std::is_same_v<DoubleRounding, GemmlowpRounding>);
  static_assert(std::is_same_v<ClipRange, FloatRange>);
  static_assert(std::is_same_v<Range, QuantRange>);
  const QParams p = QParams::per_axis(1, {0.1f, 0.2f}, {}, Range::full<std::int8_t>());
  const ParamLayout from_view = p.view();  // a view where a layout is expected
  EXPECT_EQ(from_view, per_axis_layout(1));
}

// The form without a channel axis took the weights' axis.
TEST(Deprecated, FromConvScalesWithoutAnAxisTakesTheWeightsAxis) {
  const Shape shape = Shape::row_major({3, 2});
  const QParams weights = QParams::per_axis(1, {0.002f, 0.004f}, {}, Range::narrow<std::int8_t>());
  Requantizer<std::int8_t> old_form, new_form;
  ASSERT_TRUE((Requantizer<std::int8_t>::from_conv_scales(shape, 0.5f, weights.view(), 0.01f, 0,
                                                          Range::full<std::int8_t>(), &old_form)));
  ASSERT_TRUE((Requantizer<std::int8_t>::from_conv_scales(shape, 1, 0.5f, weights.view(), 0.01f, 0,
                                                          Range::full<std::int8_t>(), &new_form)));
  EXPECT_EQ(old_form.params().multiplier, new_form.params().multiplier);
  EXPECT_EQ(old_form.params().axis, new_form.params().axis);
}

}  // namespace
}  // namespace eigenq
