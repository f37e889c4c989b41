#pragma once
// The tensors to compare, read from a folder of .npy files and .safetensors
// checkpoints, or a single checkpoint (synthetic.hpp makes a built-in set).
// An index.json names each tensor's channel axis, how each weight meets its
// input (op, group, strides, pads) and which activation that input is, so
// that a weight's layer output can be computed from the recorded input.
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
#include "layer.hpp"
#include "safetensors.hpp"

namespace eigenq::compare {

namespace fs = std::filesystem;

/// One tensor and the axes its schemes use.
struct Tensor {
  std::string name;
  std::string file;               ///< what it is read from; empty for synthetic tensors
  safetensors::Entry checkpoint;  ///< where in `file` when that is a .safetensors file (dtype empty: .npy)
  std::string role;               ///< "weight" or "activation"
  std::vector<float> data;
  Shape shape;
  /// Per-channel axis: the output channel of a weight, the channel of an activation.
  int channel_axis = 0;
  /// Blocked schemes see the tensor as `block_shape` (the same memory with
  /// adjacent axes merged) and block along `block_axis` of it. See
  /// `set_block_view` for the choice.
  Shape block_shape;
  int block_axis = 0;
  /// Weights: how the weight meets its input.
  Geometry layer;
  /// The name of the tensor on the other side of the layer: a weight's
  /// input activation, an activation's consuming weight; empty if none.
  std::string link;
  /// Its index in Dataset::linked once found there, else -1.
  int linked = -1;
};

/// What is compared, and the tensors the layer outputs need besides:
/// weights' inputs and activations' consumers, read when used.
struct Dataset {
  std::vector<Tensor> tensors;
  std::vector<Tensor> linked;
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
  std::string dir;         ///< a folder, or a .safetensors file
  std::string index;       ///< explicit index.json; empty: DIR/index.json, else DIR/../index.json
  std::int64_t limit = 0;  ///< read at most this many tensors (0: all)
  /// Keep every tensor's values in memory. When false, each file is read
  /// and checked, then its values are released: `reload` brings them back
  /// one tensor at a time, so a model larger than memory can be compared.
  bool keep_data = true;
};

namespace detail {

struct Entry {
  std::string name, path, key, role;
  int axis = 0;
  bool has_axis = false;
  std::vector<std::int64_t> shape;  ///< from the index, empty if absent
  std::string axis_key;             ///< "out_axis", "channel_axis" or "axis"
  Geometry layer;
  std::string activation;              ///< a weight's input, by activation name
  std::string layer_input, model;      ///< or by the graph tensor's name (an activation's "onnx_tensor")
  std::vector<std::string> consumers;  ///< an activation's consuming weights
  Status problem;                      ///< why the entry cannot be used (its file is then left out)
};

/// Whether `path` lies in `dir` or below it.
inline bool inside(const fs::path& path, const fs::path& dir) {
  std::error_code ea, eb;
  const fs::path p = fs::weakly_canonical(path, ea), d = fs::weakly_canonical(dir, eb);
  if (ea || eb) return false;
  const fs::path rel = p.lexically_relative(d);
  return !rel.empty() && *rel.begin() != "..";
}

/// The index's "shape": every dimension an integer in [0, 2^63).
inline Status read_index_shape(const Json& shape, std::vector<std::int64_t>* out) {
  if (!shape.is_array()) return eigenq::detail::error(StatusCode::kFormatError, "\"shape\" is not an array");
  for (std::size_t d = 0; d < shape.items.size(); ++d) {
    std::int64_t n = 0;
    if (!shape.items[d].is_number())
      return eigenq::detail::error(StatusCode::kFormatError, "shape dimension ", d, " is not a number");
    if (!as_count(shape.items[d], &n))
      return eigenq::detail::error(StatusCode::kFormatError, "shape dimension ", d, " = ", shape.items[d].number,
                                   " is not an integer in [0, 2^63)");
    out->push_back(n);
  }
  return Status::ok();
}

/// An index's integer list `key` ("strides", "pads", "dilations") of
/// `size` entries, each at least `min`; absent is fine (false).
template <std::size_t N>
Status read_ints(const Json& e, const char* key, std::int64_t min, std::array<std::int64_t, N>* out, bool* given) {
  const Json* v = e.get(key);
  if (!v || v->type == Json::Type::kNull) return Status::ok();
  std::int64_t n = 0;
  bool ok = v->is_array() && v->items.size() == N;
  for (std::size_t i = 0; ok && i < N; ++i) {
    ok = as_count(v->items[i], &n) && n >= min && n <= (1 << 20);
    if (ok) (*out)[i] = n;
  }
  if (!ok)
    return eigenq::detail::error(StatusCode::kFormatError, "\"", key, "\" is not a list of ", N, " integers >= ", min);
  *given = true;
  return Status::ok();
}

/// How a weight meets its input: "op", "group", "strides", "pads",
/// "dilations" (ONNX's names and order).
inline Status read_geometry(const Json& e, Geometry* g) {
  g->op = e.get_string("op");
  if (const Json* group = e.get("group"); group && group->type != Json::Type::kNull)
    if (!as_count(*group, &g->group) || g->group < 1)
      return eigenq::detail::error(StatusCode::kFormatError, "\"group\" is not an integer >= 1");
  bool dilations = false;
  EIGENQ_RETURN_IF_ERROR(read_ints(e, "strides", 1, &g->strides, &g->strides_given));
  EIGENQ_RETURN_IF_ERROR(read_ints(e, "pads", 0, &g->pads, &g->pads_given));
  return read_ints(e, "dilations", 1, &g->dilations, &dilations);
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
  entry.key = e.get_string("tensor");
  entry.name = e.get_string("name", entry.key.empty() ? fs::path(entry.path).stem().string() : entry.key);
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
  entry.activation = e.get_string("activation");
  entry.layer_input = e.get_string("layer_input");
  entry.model = e.get_string("model");
  if (const Json* c = e.get("consumers"); c && c->is_array())
    for (const Json& name : c->items)
      if (name.is_string()) entry.consumers.push_back(name.string);
  if (const Json* shape = e.get("shape"); shape && shape->type != Json::Type::kNull)
    entry.problem = eigenq::detail::with_context(read_index_shape(*shape, &entry.shape), who);
  if (entry.problem.is_ok()) entry.problem = eigenq::detail::with_context(read_geometry(e, &entry.layer), who);
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

inline bool is_checkpoint(const std::string& path) { return fs::path(path).extension() == ".safetensors"; }

/// Reads one float tensor: from a .npy file (float64 converted, with a
/// note; any other dtype refused by name), or the checkpoint entry
/// `t->checkpoint` of a .safetensors file.
inline Status read_float_tensor(const std::string& path, Tensor* t, std::vector<std::string>* notes) {
  if (!t->checkpoint.dtype.empty()) {
    EIGENQ_RETURN_IF_ERROR(safetensors::read_tensor(path, t->checkpoint, &t->data));
    t->shape = Shape::from(t->checkpoint.shape.data(), static_cast<int>(t->checkpoint.shape.size()), Layout::kRowMajor);
  } else {
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
  }
  t->file = path;
  const std::string where = t->checkpoint.dtype.empty() ? path : path + ": tensor '" + t->checkpoint.name + "'";
  for (std::size_t i = 0; i < t->data.size(); ++i)
    if (!std::isfinite(t->data[i]))
      return eigenq::detail::error(StatusCode::kFormatError, where, ": element ", i, " is ", t->data[i],
                                   ": SQNR is undefined for non-finite values");
  return Status::ok();
}

/// The .npy and .safetensors files of a folder, in name order. Every entry
/// with either extension is listed whatever it is (a directory, a dangling
/// or looping link): reading it then says what is wrong. Listing with error
/// codes, never the throwing directory_entry calls, so a broken entry
/// cannot abort the program.
inline Status list_tensor_files(const std::string& dir, std::vector<std::string>* out) {
  std::error_code ec;
  std::vector<std::string> files;
  fs::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".npy" || it->path().extension() == ".safetensors")
      files.push_back(it->path().string());
  if (ec) return eigenq::detail::error(StatusCode::kIoError, dir, ": cannot list: ", ec.message());
  std::sort(files.begin(), files.end());
  *out = std::move(files);
  return Status::ok();
}

/// A path's identity for finding duplicates: its canonical form where it
/// exists, else the lexically normal one (with a checkpoint's tensor key).
inline std::string identity(const std::string& path, const std::string& key = "") {
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(path, ec);
  return (ec ? fs::path(path).lexically_normal().string() : p.string()) + (key.empty() ? "" : "\n" + key);
}

inline std::string count_text(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

/// The entries of a checkpoint's floating-point tensors of rank 2 or more,
/// as weights with their output channel on axis 0 (PyTorch's [out, in] and
/// [Cout, Cin, kH, kW]). 1-D tensors (biases, norm scales: engines keep them
/// in float) and other dtypes are counted in `skipped`.
inline Status checkpoint_entries(const std::string& path, std::vector<Entry>* out, std::size_t* skipped) {
  safetensors::Header h;
  EIGENQ_RETURN_IF_ERROR(safetensors::read_header(path, &h));
  for (const safetensors::Entry& c : h.entries) {
    if (!safetensors::is_float(c.dtype) || c.shape.size() < 2) {
      ++*skipped;
      continue;
    }
    Entry e;
    e.name = c.name;
    e.path = path;
    e.key = c.name;
    e.role = "weight";
    out->push_back(std::move(e));
  }
  return Status::ok();
}

/// The header entry of tensor `key` in checkpoint `path`.
inline Status find_checkpoint_entry(const std::string& path, const std::string& key, safetensors::Entry* out) {
  safetensors::Header h;
  EIGENQ_RETURN_IF_ERROR(safetensors::read_header(path, &h));
  for (safetensors::Entry& e : h.entries)
    if (e.name == key) {
      *out = std::move(e);
      return Status::ok();
    }
  return eigenq::detail::error(StatusCode::kFormatError, path, ": has no tensor '", key, "'");
}

/// The tensor an entry describes, read and checked (against the index's
/// shape and axis); values kept or released per `keep_data`.
inline Status read_entry_tensor(const Entry& e, const std::string& index, bool keep_data, Tensor* out,
                                std::vector<std::string>* notes) {
  using eigenq::detail::error;
  Tensor t;
  t.name = e.name;
  t.role = e.role;
  t.layer = e.layer;
  if (!e.key.empty()) EIGENQ_RETURN_IF_ERROR(find_checkpoint_entry(e.path, e.key, &t.checkpoint));
  EIGENQ_RETURN_IF_ERROR(read_float_tensor(e.path, &t, notes));
  const std::vector<std::int64_t> dims(t.shape.dims.begin(), t.shape.dims.begin() + t.shape.rank);
  if (!e.shape.empty() && e.shape != dims)
    return error(StatusCode::kShapeMismatch, index, ": tensor '", e.name, "': shape ", dims_text(e.shape),
                 " does not match ", e.path, " of shape ", dims_text(dims));
  if (t.shape.rank > 0 && t.shape.size() > 0) {
    const int axis = normalize_axis(e.axis, t.shape.rank);
    if (axis < 0)
      return error(StatusCode::kInvalidAxis, index, ": tensor '", e.name, "' (", e.path, "): ", e.axis_key, " = ",
                   e.axis, " is out of range for shape ", dims_text(dims), " (expected ", -t.shape.rank, " <= axis < ",
                   t.shape.rank, ")");
    t.channel_axis = axis;
    set_block_view(&t);
  }
  if (!keep_data) std::vector<float>().swap(t.data);
  *out = std::move(t);
  return Status::ok();
}

/// The entry on the other side of `e`'s layer: a weight's input activation
/// (by "activation" name, else an activation whose "onnx_tensor" is the
/// weight's "layer_input" in the same model), or an activation's first
/// consumer whose file exists. nullptr if none.
inline const Entry* link_of(const Entry& e, const std::vector<Entry>& all) {
  std::error_code ec;
  auto exists = [&](const Entry& x) { return x.problem.is_ok() && fs::exists(fs::symlink_status(x.path, ec)); };
  for (const Entry& x : all) {
    if (!exists(x) || &x == &e) continue;
    if (e.role == "weight" && x.role == "activation" &&
        (e.activation.empty() ? !e.layer_input.empty() && x.layer_input == e.layer_input && x.model == e.model
                              : x.name == e.activation))
      return &x;
    if (e.role == "activation" && x.role == "weight" &&
        (std::find(e.consumers.begin(), e.consumers.end(), x.name) != e.consumers.end() || x.activation == e.name))
      return &x;
  }
  return nullptr;
}

}  // namespace detail

/// Reads the tensors of a folder (.npy files and .safetensors checkpoints),
/// or of one checkpoint. With an index, its listed tensors that lie in the
/// folder or below it come first, in index order (listed but missing files
/// are skipped, biases are skipped, a file listed twice is read once), then
/// any unlisted files in name order with channel axis 0. Scalars and empty
/// tensors are skipped: they have nothing to compare. Each weight's input
/// activation and each activation's consuming weight named by the index
/// (wherever their files are) go to `linked`, unread.
///
/// Notes (skips, assumptions) are appended to `notes`. A file or index entry
/// that cannot be used is a problem: appended to `problems` (naming the file
/// and what is wrong) and left out, and the others are still read. The
/// status is an error, naming the folder, when the folder or the index
/// cannot be read at all, or no tensor is left to compare.
inline Status load_folder(const FolderOptions& opt, Dataset* out, std::vector<std::string>* notes,
                          std::vector<Status>* problems) {
  using eigenq::detail::error;
  std::error_code ec;
  const bool single_checkpoint = detail::is_checkpoint(opt.dir) && !fs::is_directory(opt.dir, ec);
  if (!fs::exists(opt.dir, ec))
    return error(StatusCode::kIoError, opt.dir, single_checkpoint ? ": no such file" : ": no such directory");
  if (!single_checkpoint && !fs::is_directory(opt.dir, ec))
    return error(StatusCode::kIoError, opt.dir, ": not a directory (nor a .safetensors file)");

  std::vector<std::string> files;
  if (single_checkpoint)
    files.push_back(opt.dir);
  else
    EIGENQ_RETURN_IF_ERROR(detail::list_tensor_files(opt.dir, &files));

  const fs::path folder = single_checkpoint ? fs::path(opt.dir).parent_path() : fs::path(opt.dir);
  std::string index = opt.index;
  if (index.empty()) {
    // Whatever is there is read (and refused by name unless a regular file).
    for (const fs::path& candidate : {folder / "index.json", folder / ".." / "index.json"})
      if (fs::exists(fs::symlink_status(candidate, ec))) {
        index = candidate.lexically_normal().string();
        break;
      }
  } else if (!fs::exists(fs::symlink_status(index, ec))) {
    return error(StatusCode::kIoError, index, ": no such index file");
  }

  std::vector<detail::Entry> listed, entries;
  std::set<std::string> seen;  // identities of the files taken so far
  if (!index.empty()) {
    EIGENQ_RETURN_IF_ERROR(detail::read_index(index, &listed));
    notes->push_back("index: " + index);
    std::size_t missing = 0, biases = 0, no_axis = 0, elsewhere = 0;
    for (const detail::Entry& e : listed) {
      if (!e.problem.is_ok()) {  // its file, if it names one, is left out too
        problems->push_back(e.problem);
        if (!e.path.empty()) seen.insert(detail::identity(e.path, e.key));
        continue;
      }
      if (single_checkpoint ? detail::identity(e.path) != detail::identity(opt.dir)
                            : !detail::inside(fs::path(e.path).parent_path(), opt.dir)) {
        ++elsewhere;
        continue;
      }
      if (!seen.insert(detail::identity(e.path, e.key)).second) {
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
      entries.push_back(e);
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
  std::size_t unlisted = 0, skipped = 0;
  for (const std::string& f : files) {
    if (!detail::is_checkpoint(f)) {
      if (!seen.insert(detail::identity(f)).second) continue;
      detail::Entry e;
      e.path = f;
      e.name = fs::path(f).stem().string();
      e.role = "weight";
      entries.push_back(e);
      ++unlisted;
      continue;
    }
    std::vector<detail::Entry> inside;
    if (Status s = detail::checkpoint_entries(f, &inside, &skipped); !s.is_ok()) {
      problems->push_back(s);
      continue;
    }
    for (detail::Entry& e : inside)
      if (seen.insert(detail::identity(e.path, e.key)).second) {
        entries.push_back(std::move(e));
        ++unlisted;
      }
  }
  if (skipped)
    notes->push_back(detail::count_text(skipped, "checkpoint tensor", "checkpoint tensors") +
                     " of rank 0 or 1 (biases, norm scales) or not floating-point: skipped");
  if (unlisted)
    notes->push_back(index.empty() ? "no index.json: every tensor is treated as a weight with channel axis 0"
                                   : std::to_string(unlisted) +
                                         " files or checkpoint tensors not in the index: " + "channel axis 0 assumed");
  if (entries.empty())
    return error(StatusCode::kInvalidArgument, opt.dir,
                 single_checkpoint ? ": no tensors to compare" : ": no .npy tensors to compare");
  if (opt.limit > 0 && static_cast<std::int64_t>(entries.size()) > opt.limit) entries.resize(opt.limit);

  Dataset data;
  std::map<std::string, int> linked_index;  // by name
  std::set<std::string> same;               // convolutions with no pads in the index, by name
  std::size_t scalars = 0, empty = 0, unusable = 0;
  for (const detail::Entry& e : entries) {
    Tensor t;
    if (Status s = detail::read_entry_tensor(e, index, opt.keep_data, &t, notes); !s.is_ok()) {
      problems->push_back(s);
      ++unusable;
      continue;
    }
    if (t.shape.rank == 0 || t.shape.size() == 0) {
      ++(t.shape.rank == 0 ? scalars : empty);
      continue;
    }
    if (const detail::Entry* link = detail::link_of(e, listed)) {
      t.link = link->name;
      auto [it, added] = linked_index.emplace(link->name, static_cast<int>(data.linked.size()));
      if (added) {
        // Read (and checked) when used; only the record is kept now.
        Tensor l;
        l.name = link->name;
        l.file = link->path;
        l.role = link->role;
        l.layer = link->layer;
        l.channel_axis = link->axis;
        data.linked.push_back(std::move(l));
      }
      t.linked = it->second;
    }
    if (t.linked >= 0) {
      const bool weight = t.role == "weight";
      const Geometry& g = weight ? t.layer : data.linked[t.linked].layer;
      if (g.op == "Conv" && !g.pads_given) same.insert(weight ? t.name : t.link);
    }
    data.tensors.push_back(std::move(t));
  }
  if (scalars) notes->push_back(detail::count_text(scalars, "scalar tensor", "scalar tensors") + " skipped");
  if (empty) notes->push_back(detail::count_text(empty, "empty tensor", "empty tensors") + " (no elements) skipped");
  if (!same.empty())
    notes->push_back(detail::count_text(same.size(), "convolution has", "convolutions have") +
                     " no pads in the index: stride 1 and \"same\" padding assumed for the layer output");
  if (data.tensors.empty())
    return error(StatusCode::kInvalidArgument, opt.dir, ": no tensors to compare (",
                 detail::count_text(entries.size(), "file", "files"), " found: ", scalars, " scalar, ", empty,
                 " empty, ", unusable, " unusable)");
  *out = std::move(data);
  return Status::ok();
}

/// Reads the values of a tensor loaded with `keep_data = false` again.
inline Status reload(Tensor* t) {
  if (!t->data.empty() || t->file.empty()) return Status::ok();
  Tensor fresh;
  fresh.checkpoint = t->checkpoint;
  std::vector<std::string> notes;
  EIGENQ_RETURN_IF_ERROR(detail::read_float_tensor(t->file, &fresh, &notes));
  if (fresh.shape.size() != t->shape.size())
    return eigenq::detail::error(StatusCode::kShapeMismatch, t->file, ": changed while being read");
  t->data = std::move(fresh.data);
  return Status::ok();
}

/// Releases the values `reload` brought back (file-backed tensors only).
inline void release(Tensor* t) {
  if (!t->file.empty()) std::vector<float>().swap(t->data);
}

/// A linked tensor (`Dataset::linked`) with its values, shape and axes: a
/// copy of `record` when it holds its values (a synthetic set), else read.
inline Status load_linked(const Tensor& record, Tensor* out) {
  if (record.file.empty()) {
    *out = record;
    return Status::ok();
  }
  Tensor t = record;
  std::vector<std::string> notes;
  EIGENQ_RETURN_IF_ERROR(detail::read_float_tensor(record.file, &t, &notes));
  const int axis = normalize_axis(record.channel_axis, t.shape.rank);
  if (axis < 0)
    return eigenq::detail::error(StatusCode::kInvalidAxis, record.file, ": channel axis ", record.channel_axis,
                                 " is out of range for shape ", shape_text(t.shape));
  t.channel_axis = axis;
  set_block_view(&t);
  *out = std::move(t);
  return Status::ok();
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

}  // namespace eigenq::compare
