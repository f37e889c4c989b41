#pragma once
/// \file
/// Executors: where the entry points that take one run their tasks.
///
///     eigenq::ThreadPoolExecutor pool(4);   // or the engine's own pool, adapted
///     qz.quantize(x, q, pool);              // the same bits as qz.quantize(x, q)
///
/// An executor is any object with `parallel_for(n, fn)`, calling fn(i) for
/// every i in [0, n), maybe concurrently, and returning when all are done;
/// and `threads()`, how many tasks it runs at once (see slices.hpp, which
/// also holds `SerialExecutor`, the default). This header has a small pool
/// on std::thread and, when compiled with OpenMP, an adapter for it;
/// parallel_eigen.hpp adapts Eigen's `ThreadPoolDevice`. A pthreadpool,
/// TBB or an engine's own pool needs a few lines of the same shape.
///
/// Results never depend on the executor: the entry points cut a tensor by
/// its size alone, and combine partial results in a fixed order.

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "slices.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace eigenq {

/// A fixed set of worker threads, started once; the caller's thread works
/// too, so `ThreadPoolExecutor(n)` runs n tasks at once with n - 1 workers.
/// `parallel_for` allocates nothing: workers take task indices from an
/// atomic counter, and spin briefly for the next job before they sleep. One `parallel_for` runs at a time (concurrent
/// callers wait their turn); a `parallel_for` called from inside a task runs its tasks inline.
class ThreadPoolExecutor {
 public:
  /// `threads` tasks at once (at least 1); by default one per hardware thread.
  explicit ThreadPoolExecutor(int threads = default_threads()) : threads_(std::max(1, threads)) {
    workers_.reserve(static_cast<std::size_t>(threads_ - 1));
    for (int i = 1; i < threads_; ++i) workers_.emplace_back([this] { work(); });
  }
  ~ThreadPoolExecutor() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
  }
  ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
  ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;

  int threads() const { return threads_; }

  /// Calls fn(i) for every i in [0, n) on the workers and the caller's
  /// thread; returns when all calls have returned. fn must not throw.
  template <class F>
  void parallel_for(std::int64_t n, F&& fn) {
    if (n <= 0) return;
    if (n == 1 || workers_.empty() || inside()) {
      for (std::int64_t i = 0; i < n; ++i) fn(i);
      return;
    }
    using Fn = std::remove_reference_t<F>;
    const Job job{[](const void* f, std::int64_t i) { (*static_cast<Fn*>(const_cast<void*>(f)))(i); },
                  static_cast<const void*>(std::addressof(fn)), n};
    std::lock_guard<std::mutex> turn(turn_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = job;
      next_.store(0, std::memory_order_relaxed);
      busy_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    run(job);
    for (int s = 0; s < kSpin && busy_.load(std::memory_order_acquire) != 0; ++s) pause();
    if (busy_.load(std::memory_order_acquire) == 0) return;
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return busy_.load(std::memory_order_acquire) == 0; });
  }

  /// One per hardware thread (1 when the count is unknown).
  static int default_threads() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

 private:
  struct Job {
    void (*call)(const void*, std::int64_t) = nullptr;
    const void* fn = nullptr;
    std::int64_t n = 0;
  };

  // True on a thread that is running a task of some pool's parallel_for.
  static bool& inside() {
    static thread_local bool flag = false;
    return flag;
  }

  void run(const Job& job) {
    const bool was = inside();
    inside() = true;
    for (std::int64_t i; (i = next_.fetch_add(1, std::memory_order_relaxed)) < job.n;) job.call(job.fn, i);
    inside() = was;
  }

  // Spins a while for the next job before sleeping on the condition
  // variable: a wake-up through the kernel costs several microseconds, more
  // than a task of the grain on the fastest kernels (bench/README.md).
  void work() {
    std::uint64_t seen = 0;
    for (;;) {
      for (int s = 0; s < kSpin && generation_.load(std::memory_order_acquire) == seen; ++s) pause();
      Job job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || generation_.load(std::memory_order_relaxed) != seen; });
        if (stop_) return;
        seen = generation_.load(std::memory_order_relaxed);
        job = job_;
      }
      run(job);
      if (busy_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        done_.notify_one();
      }
    }
  }

  // One spin iteration: a pause instruction. (No yield: on a machine with
  // other work, a yield hands the core over for a whole time slice.)
  static void pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

  // Spin iterations before sleeping: tens of microseconds.
  static constexpr int kSpin = 1 << 11;

  int threads_;
  std::vector<std::thread> workers_;
  std::mutex turn_;   // one parallel_for at a time
  std::mutex mutex_;  // guards job_ and stop_, and orders the changes of generation_ and busy_ with the waits
  std::condition_variable wake_, done_;
  Job job_;
  std::atomic<std::int64_t> next_{0};
  std::atomic<int> busy_{0};  // workers still on the current job
  std::atomic<std::uint64_t> generation_{0};
  bool stop_ = false;
};

#ifdef _OPENMP
/// Tasks as an OpenMP parallel loop (`schedule(dynamic)`) on `threads`
/// threads, by default omp_get_max_threads().
class OpenMPExecutor {
 public:
  explicit OpenMPExecutor(int threads = omp_get_max_threads()) : threads_(std::max(1, threads)) {}
  int threads() const { return threads_; }
  template <class F>
  void parallel_for(std::int64_t n, F&& fn) const {
#pragma omp parallel for schedule(dynamic) num_threads(threads_)
    for (std::int64_t i = 0; i < n; ++i) fn(i);
  }

 private:
  int threads_;
};
#endif

}  // namespace eigenq
