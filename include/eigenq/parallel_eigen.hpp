#pragma once
/// \file
/// An executor on Eigen's `ThreadPoolDevice` (the pool Tensor expressions
/// run on), in a header of its own: it includes Eigen's Tensor module.
///
///     Eigen::ThreadPool pool(8);
///     Eigen::ThreadPoolDevice device(&pool, 8);
///     qz.quantize(x, q, eigenq::EigenThreadPoolExecutor(device));

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <type_traits>

#ifndef EIGEN_USE_THREADS
#define EIGEN_USE_THREADS
#endif
#include <unsupported/Eigen/CXX11/Tensor>

#include "slices.hpp"

namespace eigenq {

/// Runs tasks on a `ThreadPoolDevice`'s pool and the caller's thread: one
/// helper per pool thread (up to the task count) pulls task indices from an
/// atomic counter. The helpers are scheduled as closures of two pointers,
/// which std::function holds without allocating. Called from a thread of
/// the pool itself, the tasks run inline.
class EigenThreadPoolExecutor {
 public:
  explicit EigenThreadPoolExecutor(const Eigen::ThreadPoolDevice& device) : device_(&device) {}
  int threads() const { return device_->numThreads(); }

  template <class F>
  void parallel_for(std::int64_t n, F&& fn) const {
    const std::int64_t helpers = std::min<std::int64_t>(n, device_->numThreads()) - 1;
    if (helpers <= 0 || device_->currentThreadId() != -1) {
      for (std::int64_t i = 0; i < n; ++i) fn(i);
      return;
    }
    State<std::remove_reference_t<F>> state{{0}, n, std::addressof(fn)};
    Eigen::Barrier barrier(static_cast<unsigned>(helpers));
    for (std::int64_t h = 0; h < helpers; ++h)
      device_->getPool()->Schedule([s = &state, b = &barrier] {
        s->run();
        b->Notify();
      });
    state.run();
    barrier.Wait();
  }

 private:
  template <class Fn>
  struct State {
    std::atomic<std::int64_t> next;
    std::int64_t n;
    Fn* fn;
    void run() {
      for (std::int64_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) (*fn)(i);
    }
  };

  const Eigen::ThreadPoolDevice* device_;
};

}  // namespace eigenq
