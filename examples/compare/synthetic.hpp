#pragma once
// The built-in set: weight-like tensors and layer inputs with a fixed seed,
// so the tool runs with nothing downloaded, and its writer (a folder of
// .npy files and an index.json that load_folder reads back to the same
// results).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dataset.hpp"

namespace eigenq::compare {

namespace detail {

/// splitmix64 and Box-Muller: the same numbers on every platform and
/// standard library (std::normal_distribution is implementation-defined).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double normal() {
    const double u = 1.0 - uniform(), v = uniform();
    return std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v);
  }

 private:
  std::uint64_t s_;
};

struct SyntheticWeight {
  const char* name;
  std::vector<std::int64_t> dims;
  int out_axis;
  double log10_lo, log10_hi;  ///< channel standard deviations spread log-uniformly over [10^lo, 10^hi]
  int dead;                   ///< channels that are exactly zero
  double outliers;            ///< fraction of elements scaled by 8..24
  const char* op;
  std::int64_t group, stride;
};

/// A layer input: NCHW (channel axis 1) or [N, T, C] (channel axis 2).
struct SyntheticInput {
  const char* name;
  const char* consumer;
  std::vector<std::int64_t> dims;
  enum Kind { kImage, kRelu, kHardSwish, kOutlierChannels } kind;
};

/// A row-major tensor's name, role, shape and channel axis, and the
/// elements per step of that axis (the product of the later dimensions).
inline Tensor new_tensor(const std::string& name, const char* role, const std::vector<std::int64_t>& dims, int axis,
                         std::int64_t* inner) {
  Tensor t;
  t.name = name;
  t.role = role;
  t.shape = Shape::from(dims.data(), static_cast<int>(dims.size()), Layout::kRowMajor);
  t.channel_axis = axis;
  t.data.resize(static_cast<std::size_t>(t.shape.size()));
  *inner = 1;
  for (std::size_t d = axis + 1; d < dims.size(); ++d) *inner *= dims[d];
  return t;
}

}  // namespace detail

/// Weight-like tensors with a fixed seed: per-channel standard deviations
/// spread over one to three and a half orders of magnitude (as in real conv
/// weights with BatchNorm folded in), a few exactly-zero channels, and rare
/// outliers of 8 to 24 standard deviations; about 0.34 M elements. Then the
/// inputs of six of them (2 samples each, 0.1 M elements): an image, ReLU
/// and hard-swish outputs with channel scales spread 30x, and one with two
/// channels 30x larger than the rest (as transformer activations have).
inline Dataset synthetic_dataset() {
  const std::vector<detail::SyntheticWeight> weights = {
      {"stem_conv3x3", {32, 3, 3, 3}, 0, -1.0, 0.3, 0, 0.0, "Conv", 1, 2},
      {"conv3x3", {64, 32, 3, 3}, 0, -2.0, 0.0, 2, 0.001, "Conv", 1, 1},
      {"depthwise3x3", {96, 1, 3, 3}, 0, -1.5, 1.3, 1, 0.0, "Conv", 96, 1},
      {"pointwise", {128, 64, 1, 1}, 0, -2.5, 1.0, 3, 0.002, "Conv", 1, 1},
      {"pointwise_wide", {256, 128, 1, 1}, 0, -1.5, 0.5, 0, 0.001, "Conv", 1, 1},
      {"conv3x3_deep", {128, 64, 3, 3}, 0, -1.0, 0.0, 0, 0.0005, "Conv", 1, 1},
      {"linear_in_out", {256, 384}, 1, -1.0, 0.5, 0, 0.002, "MatMul", 1, 1},
      {"linear_out_in", {192, 512}, 0, -0.5, 0.0, 0, 0.0, "MatMul", 1, 1},
      {"conv_transpose", {64, 32, 2, 2}, 1, -1.0, 0.0, 1, 0.001, "ConvTranspose", 1, 2},
  };
  using In = detail::SyntheticInput;
  const std::vector<In> inputs = {
      {"image", "stem_conv3x3", {2, 3, 32, 32}, In::kImage},
      {"relu", "conv3x3", {2, 32, 16, 16}, In::kRelu},
      {"hardswish", "depthwise3x3", {2, 96, 12, 12}, In::kHardSwish},
      {"outlier_channels", "pointwise", {2, 64, 12, 12}, In::kOutlierChannels},
      {"tokens", "linear_in_out", {2, 16, 256}, In::kHardSwish},
      {"tokens_wide", "linear_out_in", {2, 16, 512}, In::kOutlierChannels},
  };
  Dataset out;
  detail::Rng rng(20240607);
  for (const auto& sp : weights) {
    std::int64_t inner = 1;
    Tensor t = detail::new_tensor(std::string("synthetic/") + sp.name, "weight", sp.dims, sp.out_axis, &inner);
    t.layer.op = sp.op;
    t.layer.group = sp.group;
    t.layer.strides = {sp.stride, sp.stride};
    t.layer.strides_given = t.layer.pads_given = true;
    const std::int64_t pad = sp.dims.size() == 4 && sp.op == std::string("Conv") ? sp.dims[2] / 2 : 0;
    t.layer.pads = {pad, pad, pad, pad};
    const std::int64_t channels = sp.dims[sp.out_axis], n = t.shape.size();
    std::vector<double> sigma(channels);
    for (auto& s : sigma) s = std::pow(10.0, sp.log10_lo + (sp.log10_hi - sp.log10_lo) * rng.uniform());
    for (int k = 0; k < sp.dead; ++k) sigma[(k * 7919 + 3) % channels] = 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
      const double s = sigma[(i / inner) % channels];
      double v = s * rng.normal();
      if (rng.uniform() < sp.outliers) v *= 8.0 + 16.0 * rng.uniform();
      t.data[i] = static_cast<float>(v);
    }
    set_block_view(&t);
    out.tensors.push_back(std::move(t));
  }
  const std::size_t weight_count = out.tensors.size();
  detail::Rng act(20250101);
  for (const In& sp : inputs) {
    std::int64_t inner = 1;
    Tensor t = detail::new_tensor(std::string("synthetic/act:") + sp.name, "activation", sp.dims,
                                  sp.dims.size() == 4 ? 1 : 2, &inner);
    t.link = std::string("synthetic/") + sp.consumer;
    const std::int64_t channels = sp.dims[t.channel_axis], n = t.shape.size();
    std::vector<double> sigma(channels);
    for (std::int64_t c = 0; c < channels; ++c)
      sigma[c] = std::pow(10.0, 1.5 * act.uniform() - 0.5) * (sp.kind == In::kOutlierChannels && c % 29 == 5 ? 30 : 1);
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t c = (i / inner) % channels;
      double v = sigma[c] * act.normal();
      if (sp.kind == In::kImage) v = 1.5 * std::sin(0.05 * static_cast<double>(i % inner) + c) + 0.3 * act.normal();
      if (sp.kind == In::kRelu) v = std::max(v, 0.0);
      if (sp.kind == In::kHardSwish) v = v * std::clamp(v + 3.0, 0.0, 6.0) / 6.0;
      t.data[i] = static_cast<float>(v);
    }
    set_block_view(&t);
    out.tensors.push_back(std::move(t));
  }
  // Links both ways: each input to its consumer, each consumer to its input.
  for (std::size_t a = weight_count; a < out.tensors.size(); ++a)
    for (std::size_t w = 0; w < weight_count; ++w)
      if (out.tensors[w].name == out.tensors[a].link) {
        out.tensors[w].link = out.tensors[a].name;
        out.tensors[w].linked = static_cast<int>(out.linked.size());
        out.linked.push_back(out.tensors[a]);
        out.tensors[a].linked = static_cast<int>(out.linked.size());
        out.linked.push_back(out.tensors[w]);
      }
  return out;
}

/// The file name a tensor is written under: its name with '/' as '__'.
inline std::string file_name_of(const std::string& name) {
  std::string file;
  for (char c : name) file += c == '/' ? std::string("__") : std::string(1, c);
  return file + ".npy";
}

/// Writes the compared tensors as a folder of .npy files plus an index.json
/// in the format `load_folder` reads (axes, layers and links included), so
/// the set can be checked by other tools. All files or none (see
/// `detail::write_files`).
inline Status write_folder(const Dataset& data, const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return eigenq::detail::error(StatusCode::kIoError, dir, ": cannot create: ", ec.message());
  std::vector<std::pair<std::string, std::string>> files;
  std::string lists[2];
  for (const Tensor& t : data.tensors) {
    const bool weight = t.role != "activation";
    const std::string file = file_name_of(t.name);
    const std::vector<unsigned char> bytes = npy::serialize(npy::Array::from(t.data.data(), t.shape));
    files.emplace_back(file, std::string(bytes.begin(), bytes.end()));
    std::string shape;
    for (int d = 0; d < t.shape.rank; ++d) shape += (d ? ", " : "") + std::to_string(t.shape.dims[d]);
    std::string e = "  {\"name\": \"" + t.name + "\", \"file\": \"" + file + "\", \"shape\": [" + shape +
                    "], \"role\": \"" + t.role + "\", \"" + (weight ? "out_axis" : "channel_axis") +
                    "\": " + std::to_string(t.channel_axis);
    if (weight && !t.layer.op.empty()) {
      const auto& g = t.layer;
      e += ", \"op\": \"" + g.op + "\", \"group\": " + std::to_string(g.group) + ", \"strides\": [" +
           std::to_string(g.strides[0]) + ", " + std::to_string(g.strides[1]) + "], \"pads\": [" +
           std::to_string(g.pads[0]) + ", " + std::to_string(g.pads[1]) + ", " + std::to_string(g.pads[2]) + ", " +
           std::to_string(g.pads[3]) + "]";
    }
    if (!t.link.empty()) e += weight ? ", \"activation\": \"" + t.link + "\"" : ", \"consumers\": [\"" + t.link + "\"]";
    std::string& list = lists[weight ? 0 : 1];
    list += (list.empty() ? "" : ",\n") + e + "}";
  }
  files.emplace_back("index.json",
                     "{\n \"tensors\": [\n" + lists[0] + "\n ],\n \"activations\": [\n" + lists[1] + "\n ]\n}\n");
  return detail::write_files(dir, files);
}

}  // namespace eigenq::compare
