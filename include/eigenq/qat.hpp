#pragma once
/// \file
/// Quantization-aware training on Eigen tensors:
///
/// - qat/ste.hpp            fake-quantize with the STE mask (bytes or bits) for
///                          every scheme, STE backward, the `FakeQuantSTE` layer
/// - qat/functors.hpp       element functors Eigen vectorizes: `FakeQuantOp`,
///                          `SteOp`, `SteMaskOp` (per tensor), `FakeQuantAxisOp`,
///                          `SteMaskAxisOp` (per axis)
/// - qat/lsq.hpp            learnable scale and zero point (LSQ / LSQ+), gradients
///                          reduced per parameter, as PyTorch's
///                          `_fake_quantize_learnable_*` ops
/// - qat/tf_fake_quant.hpp  TensorFlow's fake_quant_with_min_max_{args,vars,
///                          vars_per_channel} and their gradients (eigenq::tf)
/// - qat/observer.hpp       moving-average min/max and the `FakeQuantize` layer
///                          (PyTorch's FakeQuantize module)

#include "qat/functors.hpp"       // IWYU pragma: export
#include "qat/lsq.hpp"            // IWYU pragma: export
#include "qat/observer.hpp"       // IWYU pragma: export
#include "qat/ste.hpp"            // IWYU pragma: export
#include "qat/tf_fake_quant.hpp"  // IWYU pragma: export
