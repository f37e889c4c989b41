#pragma once
/// \file
/// eigenq: affine quantization kernels on Eigen tensors. Include this one
/// header; see README.md for a tour and numerics.hpp for the contract.

#include "config.hpp"              // IWYU pragma: export
#include "cpu.hpp"                 // IWYU pragma: export
#include "eigen.hpp"               // IWYU pragma: export
#include "float_qparams.hpp"       // IWYU pragma: export
#include "groupwise.hpp"           // IWYU pragma: export
#include "half.hpp"                // IWYU pragma: export
#include "kernels.hpp"             // IWYU pragma: export
#include "minifloat.hpp"           // IWYU pragma: export
#include "minifloat_quantize.hpp"  // IWYU pragma: export
#include "mx.hpp"                  // IWYU pragma: export
#include "npy.hpp"                 // IWYU pragma: export
#include "numerics.hpp"            // IWYU pragma: export
#include "observers.hpp"           // IWYU pragma: export
#include "output_stage.hpp"        // IWYU pragma: export
#include "packed.hpp"              // IWYU pragma: export
#include "parallel.hpp"            // IWYU pragma: export
#include "params.hpp"              // IWYU pragma: export
#include "presets.hpp"             // IWYU pragma: export
#include "qat.hpp"                 // IWYU pragma: export
#include "qparams.hpp"             // IWYU pragma: export
#include "requantize.hpp"          // IWYU pragma: export
#include "scheme.hpp"              // IWYU pragma: export
#include "slices.hpp"              // IWYU pragma: export
#include "status.hpp"              // IWYU pragma: export
#include "stored.hpp"              // IWYU pragma: export
#include "version.hpp"             // IWYU pragma: export
