#pragma once
// The tensors to compare: read from a folder of .npy files (with an optional
// index.json naming each tensor's channel axis), or generated: a fixed-seed
// synthetic set of weight-like tensors, so the tool runs with nothing
// downloaded.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "eigenq/npy.hpp"
#include "eigenq/params.hpp"
#include "eigenq/status.hpp"
#include "json.hpp"

namespace eigenq::compare {

namespace fs = std::filesystem;

/// One tensor and the axes its schemes use.
struct Tensor {
  std::string name;
  std::string file;  ///< the .npy it was read from; empty for synthetic tensors
  std::string role;  ///< "weight" or "activation"
  std::vector<float> data;
  Shape shape;
  /// Per-channel axis: the output channel of a weight, the channel of an activation.
  int channel_axis = 0;
  /// Blocked schemes see the tensor as `block_shape` (the same memory with
  /// adjacent axes merged) and block along `block_axis` of it. See
  /// `set_block_view` for the choice.
  Shape block_shape;
  int block_axis = 0;
};

inline std::string shape_text(const Shape& s) {
  std::string t;
  for (int d = 0; d < s.rank; ++d) t += (d ? "x" : "") + std::to_string(s.dims[d]);
  return s.rank == 0 ? "scalar" : t;
}

/// Chooses the axis blocked (group-wise) schemes run along: the reduction
/// axis of the matrix product the tensor feeds, as GPTQ/AWQ groups do (a
/// block of 32 weights then shares a scale inside one dot product, so the
/// scale can be applied once per block of partial sums).
///
/// - Weight with output channel on axis 0 (conv [Cout, Cin/g, kH, kW],
///   PyTorch linear [out, in]): the other axes are merged into one reduction
///   axis K (im2col order), and blocks run along K: the view [Cout, K].
/// - Output channel on the last axis (ONNX/Paddle linear [in, out], HWIO
///   conv): the leading axes are merged into K; the view [K, Cout], blocks
///   along axis 0.
/// - Output channel in the middle (transposed conv [Cin, Cout/g, kH, kW]):
///   blocks run along axis 0 (Cin), the only reduction axis adjacent to
///   nothing the view would have to transpose.
/// - Activation: blocks run along its channel axis, which is the reduction
///   axis of the layer that consumes it (per-token groups, as MX formats do).
///
/// Merging adjacent axes keeps every element where it is in memory, in
/// either layout, so the view needs no copy.
inline void set_block_view(Tensor* t) {
  const Shape& s = t->shape;
  const int r = s.rank, a = t->channel_axis;
  t->block_shape = s;
  t->block_axis = a;
  if (t->role == "activation" || r <= 1) return;
  std::int64_t merged = 1;
  if (a == 0) {
    for (int d = 1; d < r; ++d) merged *= s.dims[d];
    t->block_shape = Shape({s.dims[0], merged}, s.layout);
    t->block_axis = 1;
  } else if (a == r - 1) {
    for (int d = 0; d < r - 1; ++d) merged *= s.dims[d];
    t->block_shape = Shape({merged, s.dims[r - 1]}, s.layout);
    t->block_axis = 0;
  } else {
    t->block_axis = 0;
  }
}

// ---------------------------------------------------------------------------
// Reading a folder

struct FolderOptions {
  std::string dir;
  std::string index;       ///< explicit index.json; empty: DIR/index.json, else DIR/../index.json
  std::int64_t limit = 0;  ///< read at most this many tensors (0: all)
  /// Keep every tensor's values in memory. When false, each file is read
  /// and checked, then its values are released: `reload` brings them back
  /// one tensor at a time, so a model larger than memory can be compared.
  bool keep_data = true;
};

namespace detail {

struct Entry {
  std::string name, path, role;
  int axis = 0;
  bool has_axis = false;
  std::vector<std::int64_t> shape;  ///< from the index, empty if absent
  std::string axis_key;             ///< "out_axis", "channel_axis" or "axis"
  Status problem;                   ///< why the entry cannot be used (its file is then left out)
};

inline bool same_dir(const fs::path& a, const fs::path& b) {
  std::error_code ea, eb;
  const fs::path ca = fs::weakly_canonical(a, ea), cb = fs::weakly_canonical(b, eb);
  return !ea && !eb && ca == cb;
}

/// The index's "shape": every dimension an integer in [0, 2^63) (a JSON
/// number is a double: 1e300 or 4.9 is not a dimension, and converting it
/// would be undefined or silently truncate).
inline Status read_index_shape(const Json& shape, std::vector<std::int64_t>* out) {
  if (!shape.is_array()) return eigenq::detail::error(StatusCode::kFormatError, "\"shape\" is not an array");
  for (std::size_t d = 0; d < shape.items.size(); ++d) {
    const Json& v = shape.items[d];
    if (!v.is_number())
      return eigenq::detail::error(StatusCode::kFormatError, "shape dimension ", d, " is not a number");
    // 2^63 is exact in double, and every integer-valued double below it converts exactly.
    if (!(v.number >= 0.0 && v.number < 0x1p63) || v.number != std::floor(v.number))
      return eigenq::detail::error(StatusCode::kFormatError, "shape dimension ", d, " = ", v.number,
                                   " is not an integer in [0, 2^63)");
    out->push_back(static_cast<std::int64_t>(v.number));
  }
  return Status::ok();
}

/// Reads one entry of an index (an object with a "file" member); `where`
/// names it in messages. An entry that names its file but cannot be used
/// keeps the path, with `problem` saying why.
inline Entry read_entry(const Json& e, const std::string& list_name, const fs::path& base, const std::string& where) {
  using eigenq::detail::error;
  Entry entry;
  if (!e.get("file")->is_string()) {
    entry.problem = error(StatusCode::kFormatError, where, ": \"file\" is not a string");
    return entry;
  }
  entry.path = (base / e.get_string("file")).string();
  entry.name = e.get_string("name", fs::path(entry.path).stem().string());
  const std::string who = where + " ('" + entry.name + "')";
  for (const char* key : {"out_axis", "channel_axis", "axis"}) {
    const Json* v = e.get(key);
    if (!v || v->type == Json::Type::kNull) continue;
    if (!v->is_number()) {
      entry.problem = error(StatusCode::kFormatError, who, ": ", key, " is not a number");
      return entry;
    }
    if (v->number != std::floor(v->number) || std::fabs(v->number) > 64) {
      entry.problem = error(StatusCode::kFormatError, who, ": ", key, " = ", v->number, " is not an integer axis");
      return entry;
    }
    entry.axis = static_cast<int>(v->number);
    entry.has_axis = true;
    entry.axis_key = key;
    break;
  }
  entry.role =
      e.get_string("role", entry.axis_key == "channel_axis" || list_name == "activations" ? "activation" : "weight");
  if (const Json* shape = e.get("shape"); shape && shape->type != Json::Type::kNull)
    entry.problem = eigenq::detail::with_context(read_index_shape(*shape, &entry.shape), who);
  return entry;
}

/// Entries of an index file: every object with a "file" member inside a
/// top-level array ("tensors", "activations", ...). The axis is "out_axis",
/// "channel_axis" or "axis"; the role is "role", else "activation" for a
/// "channel_axis" entry or an "activations" list, else "weight". An index
/// that is not JSON, or not an object, is an error; an entry that cannot be
/// used is returned with its `problem`.
inline Status read_index(const std::string& index_path, std::vector<Entry>* out) {
  Json root;
  EIGENQ_RETURN_IF_ERROR(read_json(index_path, &root));
  if (!root.is_object())
    return eigenq::detail::error(StatusCode::kFormatError, index_path, ": expected a JSON object at the top");
  const fs::path base = fs::path(index_path).parent_path();
  for (const auto& [list_name, list] : root.members) {
    if (!list.is_array()) continue;
    for (std::size_t i = 0; i < list.items.size(); ++i) {
      const Json& e = list.items[i];
      if (!e.is_object() || !e.get("file")) continue;
      const std::string where = index_path + ": \"" + list_name + "\"[" + std::to_string(i) + "]";
      out->push_back(read_entry(e, list_name, base, where));
    }
  }
  return Status::ok();
}

inline std::string dims_text(const std::vector<std::int64_t>& dims) {
  std::string t = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) t += (i ? ", " : "") + std::to_string(dims[i]);
  return t + "]";
}

/// Reads one float tensor. float64 is converted (with a note); any other
/// dtype is refused by name.
inline Status read_float_tensor(const std::string& path, Tensor* t, std::vector<std::string>* notes) {
  npy::Array a;
  EIGENQ_RETURN_IF_ERROR(npy::read(path, &a));
  if (a.dtype != npy::DType::kFloat32 && a.dtype != npy::DType::kFloat64)
    return eigenq::detail::error(StatusCode::kFormatError, path, ": dtype ", npy::dtype_name(a.dtype),
                                 " is not a floating-point type (expected float32 weights or activations)");
  if (a.dtype == npy::DType::kFloat64) {
    const std::vector<double> v = a.values<double>();
    t->data.assign(v.begin(), v.end());
    notes->push_back(path + ": float64, converted to float32");
  } else {
    t->data = a.values<float>();
  }
  t->shape = a.shape();
  t->file = path;
  for (std::size_t i = 0; i < t->data.size(); ++i)
    if (!std::isfinite(t->data[i]))
      return eigenq::detail::error(StatusCode::kFormatError, path, ": element ", i, " is ", t->data[i],
                                   ": SQNR is undefined for non-finite values");
  return Status::ok();
}

/// The .npy files of a folder, in name order. Every entry named *.npy is
/// listed whatever it is (a directory, a dangling or looping link): reading
/// it then says what is wrong. Listing with error codes, never the throwing
/// directory_entry calls, so a broken entry cannot abort the program.
inline Status list_npy_files(const std::string& dir, std::vector<std::string>* out) {
  std::error_code ec;
  std::vector<std::string> files;
  fs::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".npy") files.push_back(it->path().string());
  if (ec) return eigenq::detail::error(StatusCode::kIoError, dir, ": cannot list: ", ec.message());
  std::sort(files.begin(), files.end());
  *out = std::move(files);
  return Status::ok();
}

/// A path's identity for finding duplicates: its canonical form where it
/// exists, else the lexically normal one.
inline std::string identity(const std::string& path) {
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(path, ec);
  return ec ? fs::path(path).lexically_normal().string() : p.string();
}

inline std::string count_text(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace detail

/// Reads the .npy tensors of a folder. With an index, its listed tensors
/// that lie in the folder come first, in index order (listed but missing
/// files are skipped, biases are skipped, a file listed twice is read once),
/// then any unlisted .npy files in name order with channel axis 0. Scalars
/// and empty tensors are skipped: they have nothing to compare.
///
/// Notes (skips, assumptions) are appended to `notes`. A file or index entry
/// that cannot be used is a problem: appended to `problems` (naming the file
/// and what is wrong) and left out, and the others are still read. The
/// status is an error, naming the folder, when the folder or the index
/// cannot be read at all, or no tensor is left to compare.
inline Status load_folder(const FolderOptions& opt, std::vector<Tensor>* out, std::vector<std::string>* notes,
                          std::vector<Status>* problems) {
  using eigenq::detail::error;
  std::error_code ec;
  if (!fs::exists(opt.dir, ec)) return error(StatusCode::kIoError, opt.dir, ": no such directory");
  if (!fs::is_directory(opt.dir, ec)) return error(StatusCode::kIoError, opt.dir, ": not a directory");

  std::vector<std::string> files;
  EIGENQ_RETURN_IF_ERROR(detail::list_npy_files(opt.dir, &files));

  std::string index = opt.index;
  if (index.empty()) {
    // Whatever is there is read (and refused by name unless a regular file).
    for (const fs::path& candidate : {fs::path(opt.dir) / "index.json", fs::path(opt.dir) / ".." / "index.json"})
      if (fs::exists(fs::symlink_status(candidate, ec))) {
        index = candidate.lexically_normal().string();
        break;
      }
  } else if (!fs::exists(fs::symlink_status(index, ec))) {
    return error(StatusCode::kIoError, index, ": no such index file");
  }

  std::vector<detail::Entry> entries;
  std::set<std::string> seen;  // identities of the files taken so far
  if (!index.empty()) {
    std::vector<detail::Entry> listed;
    EIGENQ_RETURN_IF_ERROR(detail::read_index(index, &listed));
    notes->push_back("index: " + index);
    std::size_t missing = 0, biases = 0, no_axis = 0, elsewhere = 0;
    for (detail::Entry& e : listed) {
      if (!e.problem.is_ok()) {  // its file, if it names one, is left out too
        problems->push_back(e.problem);
        if (!e.path.empty()) seen.insert(detail::identity(e.path));
        continue;
      }
      if (!detail::same_dir(fs::path(e.path).parent_path(), opt.dir)) {
        ++elsewhere;
        continue;
      }
      if (!seen.insert(detail::identity(e.path)).second) {
        notes->push_back(index + ": '" + e.name + "' lists " + e.path + " again: this entry is skipped");
        continue;
      }
      if (e.role == "bias") {
        ++biases;
        continue;
      }
      if (!fs::exists(fs::symlink_status(e.path, ec))) {
        ++missing;
        continue;
      }
      no_axis += !e.has_axis;
      entries.push_back(std::move(e));
    }
    if (elsewhere)
      notes->push_back(detail::count_text(elsewhere, "index entry names", "index entries name") + " a file outside " +
                       opt.dir + ": skipped");
    if (missing) notes->push_back(std::to_string(missing) + " tensors listed in the index are missing: skipped");
    if (biases)
      notes->push_back(std::to_string(biases) +
                       " biases skipped (role \"bias\"; engines keep biases in int32 at the accumulator's scale)");
    if (no_axis) notes->push_back(std::to_string(no_axis) + " listed tensors name no axis: channel axis 0 assumed");
  }
  std::size_t unlisted = 0;
  for (const std::string& f : files)
    if (seen.insert(detail::identity(f)).second) {
      detail::Entry e;
      e.path = f;
      e.name = fs::path(f).stem().string();
      e.role = "weight";
      entries.push_back(e);
      ++unlisted;
    }
  if (unlisted)
    notes->push_back(index.empty() ? "no index.json: every tensor is treated as a weight with channel axis 0"
                                   : std::to_string(unlisted) + " .npy files not in the index: channel axis 0 assumed");
  if (entries.empty()) return error(StatusCode::kInvalidArgument, opt.dir, ": no .npy tensors to compare");
  if (opt.limit > 0 && static_cast<std::int64_t>(entries.size()) > opt.limit) entries.resize(opt.limit);

  std::vector<Tensor> tensors;
  std::size_t scalars = 0, empty = 0, unusable = 0;
  auto problem = [&](const Status& s) {
    problems->push_back(s);
    ++unusable;
  };
  for (const detail::Entry& e : entries) {
    Tensor t;
    t.name = e.name;
    t.role = e.role;
    if (Status s = detail::read_float_tensor(e.path, &t, notes); !s.is_ok()) {
      problem(s);
      continue;
    }
    const std::vector<std::int64_t> dims(t.shape.dims.begin(), t.shape.dims.begin() + t.shape.rank);
    if (!e.shape.empty() && e.shape != dims) {
      problem(error(StatusCode::kShapeMismatch, index, ": tensor '", e.name, "': shape ", detail::dims_text(e.shape),
                    " does not match ", e.path, " of shape ", detail::dims_text(dims)));
      continue;
    }
    if (t.shape.rank == 0 || t.shape.size() == 0) {
      ++(t.shape.rank == 0 ? scalars : empty);
      continue;
    }
    const int axis = normalize_axis(e.axis, t.shape.rank);
    if (axis < 0) {
      problem(error(StatusCode::kInvalidAxis, index, ": tensor '", e.name, "' (", e.path, "): ", e.axis_key, " = ",
                    e.axis, " is out of range for shape ", detail::dims_text(dims), " (expected ", -t.shape.rank,
                    " <= axis < ", t.shape.rank, ")"));
      continue;
    }
    t.channel_axis = axis;
    set_block_view(&t);
    if (!opt.keep_data) std::vector<float>().swap(t.data);
    tensors.push_back(std::move(t));
  }
  if (scalars) notes->push_back(detail::count_text(scalars, "scalar tensor", "scalar tensors") + " skipped");
  if (empty) notes->push_back(detail::count_text(empty, "empty tensor", "empty tensors") + " (no elements) skipped");
  if (tensors.empty())
    return error(StatusCode::kInvalidArgument, opt.dir, ": no tensors to compare (",
                 detail::count_text(entries.size(), "file", "files"), " found: ", scalars, " scalar, ", empty,
                 " empty, ", unusable, " unusable)");
  *out = std::move(tensors);
  return Status::ok();
}

/// Reads the values of a tensor loaded with `keep_data = false` again.
inline Status reload(Tensor* t) {
  if (!t->data.empty() || t->file.empty()) return Status::ok();
  Tensor fresh;
  std::vector<std::string> notes;
  EIGENQ_RETURN_IF_ERROR(detail::read_float_tensor(t->file, &fresh, &notes));
  if (fresh.shape.size() != t->shape.size())
    return eigenq::detail::error(StatusCode::kShapeMismatch, t->file, ": changed while being read");
  t->data = std::move(fresh.data);
  return Status::ok();
}

// ---------------------------------------------------------------------------
// The synthetic set

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

struct SyntheticSpec {
  const char* name;
  std::vector<std::int64_t> dims;
  int out_axis;
  double log10_lo, log10_hi;  ///< channel standard deviations spread log-uniformly over [10^lo, 10^hi]
  int dead;                   ///< channels that are exactly zero
  double outliers;            ///< fraction of elements scaled by 8..24
};

}  // namespace detail

/// Weight-like tensors with a fixed seed: per-channel standard deviations
/// spread over one to three and a half orders of magnitude (as in real conv
/// weights with BatchNorm folded in), a few exactly-zero channels, and rare
/// outliers of 8 to 24 standard deviations. About 0.5 M elements.
inline std::vector<Tensor> synthetic_tensors() {
  const std::vector<detail::SyntheticSpec> specs = {
      {"stem_conv3x3", {32, 3, 3, 3}, 0, -1.0, 0.3, 0, 0.0},
      {"conv3x3", {64, 32, 3, 3}, 0, -2.0, 0.0, 2, 0.001},
      {"depthwise3x3", {96, 1, 3, 3}, 0, -1.5, 1.3, 1, 0.0},
      {"pointwise", {128, 64, 1, 1}, 0, -2.5, 1.0, 3, 0.002},
      {"pointwise_wide", {256, 128, 1, 1}, 0, -1.5, 0.5, 0, 0.001},
      {"conv3x3_deep", {128, 64, 3, 3}, 0, -1.0, 0.0, 0, 0.0005},
      {"linear_in_out", {256, 384}, 1, -1.0, 0.5, 0, 0.002},
      {"linear_out_in", {192, 512}, 0, -0.5, 0.0, 0, 0.0},
      {"conv_transpose", {64, 32, 2, 2}, 1, -1.0, 0.0, 1, 0.001},
  };
  detail::Rng rng(20240607);
  std::vector<Tensor> out;
  for (const auto& sp : specs) {
    Tensor t;
    t.name = std::string("synthetic/") + sp.name;
    t.role = "weight";
    t.shape = Shape::from(sp.dims.data(), static_cast<int>(sp.dims.size()), Layout::kRowMajor);
    t.channel_axis = sp.out_axis;
    const std::int64_t channels = sp.dims[sp.out_axis], n = t.shape.size();
    std::int64_t inner = 1;  // elements per step of the channel axis (row-major)
    for (std::size_t d = sp.out_axis + 1; d < sp.dims.size(); ++d) inner *= sp.dims[d];
    std::vector<double> sigma(channels);
    for (auto& s : sigma) s = std::pow(10.0, sp.log10_lo + (sp.log10_hi - sp.log10_lo) * rng.uniform());
    for (int k = 0; k < sp.dead; ++k) sigma[(k * 7919 + 3) % channels] = 0.0;
    t.data.resize(n);
    for (std::int64_t i = 0; i < n; ++i) {
      const double s = sigma[(i / inner) % channels];
      double v = s * rng.normal();
      if (rng.uniform() < sp.outliers) v *= 8.0 + 16.0 * rng.uniform();
      t.data[i] = static_cast<float>(v);
    }
    set_block_view(&t);
    out.push_back(std::move(t));
  }
  return out;
}

namespace detail {

/// Writes every (name, text) into `dir`, all or none: each goes to a
/// temporary file first, and only when all are written are they renamed into
/// place; if a rename fails, the files already renamed are removed again.
/// A name that is a directory in `dir` is refused before anything is written.
/// Errors name the file and the reason (errno).
inline Status write_files(const std::string& dir, const std::vector<std::pair<std::string, std::string>>& files) {
  namespace fs = std::filesystem;
  std::vector<std::string> paths;
  for (const auto& file : files) {
    paths.push_back((fs::path(dir) / file.first).string());
    std::error_code ec;
    if (fs::is_directory(fs::symlink_status(paths.back(), ec)))
      return eigenq::detail::error(StatusCode::kIoError, paths.back(), ": is a directory; nothing was written");
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    const Status s =
        npy::detail::write_temporary(paths[i], paths[i] + ".tmp", files[i].second.data(), files[i].second.size());
    if (!s.is_ok()) {
      for (std::size_t k = 0; k < i; ++k) std::remove((paths[k] + ".tmp").c_str());
      return Status(s.code(), s.message() + " (nothing was written)");
    }
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    const Status s = npy::detail::rename_into_place(paths[i] + ".tmp", paths[i]);
    if (!s.is_ok()) {
      for (std::size_t k = 0; k < i; ++k) std::remove(paths[k].c_str());
      for (std::size_t k = i + 1; k < files.size(); ++k) std::remove((paths[k] + ".tmp").c_str());
      return Status(s.code(), s.message() + " (nothing was written)");
    }
  }
  return Status::ok();
}

}  // namespace detail

/// Writes tensors as a folder of .npy files plus an index.json in the format
/// `load_folder` reads, so the synthetic set can be checked by other tools.
/// All files or none (see `detail::write_files`).
inline Status write_folder(const std::vector<Tensor>& tensors, const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return eigenq::detail::error(StatusCode::kIoError, dir, ": cannot create: ", ec.message());
  std::vector<std::pair<std::string, std::string>> files;
  std::string index = "{\n \"tensors\": [\n";
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    std::string file = t.name;
    std::replace(file.begin(), file.end(), '/', '_');
    file += ".npy";
    const std::vector<unsigned char> bytes = npy::serialize(npy::Array::from(t.data.data(), t.shape));
    files.emplace_back(file, std::string(bytes.begin(), bytes.end()));
    std::string shape;
    for (int d = 0; d < t.shape.rank; ++d) shape += (d ? ", " : "") + std::to_string(t.shape.dims[d]);
    index += "  {\"name\": \"" + t.name + "\", \"file\": \"" + file + "\", \"shape\": [" + shape + "], \"role\": \"" +
             t.role + "\", \"" + (t.role == "activation" ? "channel_axis" : "out_axis") +
             "\": " + std::to_string(t.channel_axis) + "}" + (i + 1 < tensors.size() ? ",\n" : "\n");
  }
  index += " ]\n}\n";
  files.emplace_back("index.json", index);
  return detail::write_files(dir, files);
}

}  // namespace eigenq::compare
