// Which calibration observer picks the best int8 range for real activations?
//
//     calibrate [FOLDER] [--symmetric] [--uint8] [--threads N]
//
// Reads every float32 .npy file in FOLDER (default: the PP-OCRv4 activations
// in ../shared/data/ppocr-v4/activations beside the checkout; without it, a
// synthetic set), streams each tensor into the observers one batch (first
// axis) at a time, chooses per-tensor int8 parameters with each, fake-
// quantizes the tensor and prints the SQNR of every observer as a Markdown
// table, with the winner per tensor and a summary.
//
// Observers: min/max; percentile 99.9 and 99.99 (both tails); PyTorch's L2
// histogram search, over the float range and as PyTorch 1.13 bins it (integer
// histc bounds); the GPTQ-style MSE grid search. Affine int8 [-128, 127]
// unless --symmetric (int8 [-127, 127], zero point 0) or --uint8. The
// observers and the fake-quantization run on N threads (default: every
// core); the table is the same at every N.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "eigenq/npy.hpp"
#include "eigenq/observers.hpp"
#include "eigenq/parallel.hpp"
#include "eigenq/scheme.hpp"

namespace {

struct Tensor {
  std::string name;
  std::vector<float> x;
  std::int64_t batches = 1;  // along the first axis
};

std::vector<Tensor> load_folder(const std::string& folder) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(folder, ec))
    if (e.path().extension() == ".npy") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<Tensor> out;
  for (const auto& f : files) {
    eigenq::npy::Array a;
    const eigenq::Status s = eigenq::npy::read(f.string(), &a);
    if (!s.is_ok() || a.dtype != eigenq::npy::DType::kFloat32 || a.size() == 0) {
      std::fprintf(stderr, "skipping %s: %s\n", f.string().c_str(),
                   s.is_ok() ? "not a non-empty float32 array" : s.message().c_str());
      continue;
    }
    Tensor t{f.stem().string(), a.values<float>(), 1};
    // Batches along the first axis of a C-order array; otherwise one batch.
    if (a.rank() > 1 && !a.fortran_order && a.dims[0] > 1) t.batches = a.dims[0];
    out.push_back(std::move(t));
  }
  return out;
}

// Activation-like tensors for machines without the data folder.
std::vector<Tensor> synthetic() {
  std::mt19937 rng(2024);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::student_t_distribution<float> heavy(3.0f);
  std::vector<Tensor> out;
  auto make = [&](const char* name, std::function<float()> draw) {
    Tensor t{name, std::vector<float>(1 << 16), 4};
    for (auto& v : t.x) v = draw();
    out.push_back(std::move(t));
  };
  make("synthetic_gaussian", [&] { return normal(rng); });
  make("synthetic_relu", [&] { return std::max(0.0f, normal(rng) * 2.0f + 0.5f); });
  make("synthetic_student_t3", [&] { return heavy(rng); });
  make("synthetic_outliers", [&] { return rng() % 5000 == 0 ? 40.0f * normal(rng) : normal(rng); });
  return out;
}

template <class Q>
double sqnr_db(const std::vector<float>& x, const eigenq::QParams& p, eigenq::ThreadPoolExecutor& pool) {
  eigenq::Quantizer<Q> qz(eigenq::Shape::row_major({static_cast<std::int64_t>(x.size())}), p);
  std::vector<float> y(x.size());
  qz.fake_quantize(x.data(), y.data(), pool);
  double signal = 0, noise = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    signal += double(x[i]) * x[i];
    noise += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
  }
  return noise == 0 ? INFINITY : 10.0 * std::log10(signal / noise);
}

const char* kNames[] = {"min/max", "p99.9", "p99.99", "L2 hist", "L2 hist (PyTorch 1.13)", "MSE grid"};
constexpr int kObservers = 6;

template <class Q>
int run(const std::vector<Tensor>& tensors, eigenq::Range range, eigenq::Symmetry symmetry,
        eigenq::ThreadPoolExecutor& pool) {
  using eigenq::HistogramBounds;
  std::vector<std::vector<double>> sqnr(tensors.size(), std::vector<double>(kObservers));
  std::printf("| tensor | elements | min | max |");
  for (const char* n : kNames) std::printf(" %s |", n);
  std::printf(" best | over min/max | over runner-up |\n|---|---:|---:|---:|");
  for (int k = 0; k < kObservers; ++k) std::printf("---:|");
  std::printf("---|---:|---:|\n");
  for (std::size_t t = 0; t < tensors.size(); ++t) {
    const Tensor& T = tensors[t];
    eigenq::MinMaxObserver<Q> minmax(eigenq::per_tensor_layout(), range, symmetry);
    eigenq::HistogramObserver<Q> hist(range, symmetry);
    eigenq::HistogramOptions torch;
    torch.bounds = HistogramBounds::kTorch113;
    eigenq::HistogramObserver<Q> hist113(range, symmetry, torch);
    const std::int64_t per_batch = static_cast<std::int64_t>(T.x.size()) / T.batches;
    for (std::int64_t b = 0; b < T.batches; ++b) {
      const float* x = T.x.data() + b * per_batch;
      const eigenq::Shape s = eigenq::Shape::row_major({per_batch});
      eigenq::detail::raise_if_error(minmax.observe(x, s, pool));
      eigenq::detail::raise_if_error(hist.observe(x, s, pool));
      eigenq::detail::raise_if_error(hist113.observe(x, s, pool));
    }
    eigenq::QParams p[kObservers];
    eigenq::detail::raise_if_error(minmax.qparams(&p[0]));
    eigenq::detail::raise_if_error(hist.percentile_qparams(99.9, &p[1]));
    eigenq::detail::raise_if_error(hist.percentile_qparams(99.99, &p[2]));
    eigenq::detail::raise_if_error(hist.qparams(&p[3]));
    eigenq::detail::raise_if_error(hist113.qparams(&p[4]));
    eigenq::detail::raise_if_error(hist.mse_qparams(&p[5]));
    for (int k = 0; k < kObservers; ++k) sqnr[t][k] = sqnr_db<Q>(T.x, p[k], pool);

    std::vector<int> order(kObservers);
    for (int k = 0; k < kObservers; ++k) order[k] = k;
    std::sort(order.begin(), order.end(), [&](int a, int b) { return sqnr[t][a] > sqnr[t][b]; });
    std::printf("| %s | %zu | %.4g | %.4g |", T.name.c_str(), T.x.size(), minmax.min()[0], minmax.max()[0]);
    for (int k = 0; k < kObservers; ++k) std::printf(k == order[0] ? " **%.2f** |" : " %.2f |", sqnr[t][k]);
    std::printf(" %s | %+.2f | %+.2f |\n", kNames[order[0]], sqnr[t][order[0]] - sqnr[t][0],
                sqnr[t][order[0]] - sqnr[t][order[1]]);
  }

  // Summary: mean and median SQNR, wins (ties count for each), mean gain over min/max.
  int best_mean = 0, best_wins = 0;
  std::vector<double> means(kObservers);
  std::vector<int> all_wins(kObservers);
  std::printf("\n| observer | mean SQNR (dB) | median SQNR (dB) | worst (dB) | wins | mean gain over min/max (dB) |\n");
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  for (int k = 0; k < kObservers; ++k) {
    std::vector<double> v;
    double gain = 0;
    int wins = 0;
    for (std::size_t t = 0; t < tensors.size(); ++t) {
      v.push_back(sqnr[t][k]);
      gain += sqnr[t][k] - sqnr[t][0];
      wins += *std::max_element(sqnr[t].begin(), sqnr[t].end()) == sqnr[t][k];
    }
    std::sort(v.begin(), v.end());
    double mean = 0;
    for (double d : v) mean += d;
    mean /= v.size();
    std::printf("| %s | %.2f | %.2f | %.2f | %d | %+.2f |\n", kNames[k], mean, v[v.size() / 2], v.front(), wins,
                gain / tensors.size());
    means[k] = mean;
    all_wins[k] = wins;
    if (mean > means[best_mean]) best_mean = k;
    if (wins > all_wins[best_wins]) best_wins = k;
  }
  std::printf("\nHighest mean SQNR: %s, %+.2f dB over min/max. Most wins (ties count for each): %s, %d of %zu.\n",
              kNames[best_mean], means[best_mean] - means[0], kNames[best_wins], all_wins[best_wins], tensors.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string folder = "../shared/data/ppocr-v4/activations";
  bool symmetric = false, unsigned8 = false, given = false;
  int threads = eigenq::ThreadPoolExecutor::default_threads();
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc && std::atoi(argv[i + 1]) >= 1)
      threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--symmetric"))
      symmetric = true;
    else if (!std::strcmp(argv[i], "--uint8"))
      unsigned8 = true;
    else if (argv[i][0] == '-') {
      std::fprintf(stderr, "usage: %s [FOLDER] [--symmetric] [--uint8] [--threads N]\n", argv[0]);
      return 2;
    } else {
      folder = argv[i];
      given = true;
    }
  }
  std::vector<Tensor> tensors = load_folder(folder);
  if (tensors.empty()) {
    if (given) {
      std::fprintf(stderr, "no float32 .npy files in %s\n", folder.c_str());
      return 1;
    }
    std::printf("(no .npy files in %s: synthetic activations)\n\n", folder.c_str());
    tensors = synthetic();
  }
  std::printf("SQNR (dB) of per-tensor %s activations, %zu tensors from %s\n\n",
              unsigned8   ? "uint8 affine [0, 255]"
              : symmetric ? "int8 symmetric [-127, 127]"
                          : "int8 affine [-128, 127]",
              tensors.size(), folder.c_str());
  eigenq::ThreadPoolExecutor pool(threads);
  try {
    if (unsigned8)
      return run<std::uint8_t>(tensors, eigenq::Range::full<std::uint8_t>(), eigenq::Symmetry::kAffine, pool);
    if (symmetric)
      return run<std::int8_t>(tensors, eigenq::Range::narrow<std::int8_t>(), eigenq::Symmetry::kSymmetric, pool);
    return run<std::int8_t>(tensors, eigenq::Range::full<std::int8_t>(), eigenq::Symmetry::kAffine, pool);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
