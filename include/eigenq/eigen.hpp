#pragma once
/// \file
/// The whole Eigen front end: Matrix, Array and dense expressions
/// (eigen_matrix.hpp, Eigen/Core only) and the Tensor module
/// (eigen_tensor.hpp). Code that uses only matrices can include
/// eigen_matrix.hpp and skip the Tensor module's compile time.
///
/// Every entry point takes any Eigen object or expression as input (see
/// eigen_core.hpp): it is read in place when contiguous, else evaluated once.

#include "eigen_matrix.hpp"  // IWYU pragma: export
#include "eigen_tensor.hpp"  // IWYU pragma: export
