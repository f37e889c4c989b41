// libFuzzer target: the .npy parser on arbitrary bytes. It must refuse or
// accept without reading outside the input, overflowing or allocating more
// than the input holds; what it accepts must be consistent (rank at most
// kMaxRank, a valid shape, exactly the bytes the shape needs) and must
// survive a write/read round trip unchanged. A violation prints the problem
// and aborts.
//
// Build and run: tests/fuzz/run.sh (clang, -fsanitize=fuzzer,address,undefined);
// seeds: tests/data/npy, dictionary: tests/fuzz/npy_fuzz.dict.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "eigenq/npy.hpp"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "npy_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

template <class T>
void check_values(const eigenq::npy::Array& a) {
  const std::vector<T> v = a.values<T>();
  if (static_cast<std::int64_t>(v.size()) != a.size()) fail("values", "element count differs from the shape's");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace eigenq;
  npy::Array a;
  const Status s = npy::parse(data, size, "fuzz.npy", &a);
  if (!s.is_ok()) {
    if (s.message().rfind("eigenq: fuzz.npy: ", 0) != 0) fail("message does not name the file", s.message());
    return 0;
  }
  if (a.rank() > kMaxRank) fail("accepted rank above kMaxRank", std::to_string(a.rank()));
  const Shape shape = a.shape();
  if (!check_shape(shape).is_ok()) fail("accepted an invalid shape", check_shape(shape).message());
  if (static_cast<std::uint64_t>(shape.size()) * npy::dtype_size(a.dtype) != a.bytes.size())
    fail("byte count", "shape and data size disagree");
  if (a.bytes.size() > size) fail("allocation", "more data than the input holds");
  switch (a.dtype) {
    case npy::DType::kFloat32:
      check_values<float>(a);
      break;
    case npy::DType::kFloat64:
      check_values<double>(a);
      break;
    case npy::DType::kInt8:
      check_values<std::int8_t>(a);
      break;
    case npy::DType::kUInt8:
      check_values<std::uint8_t>(a);
      break;
    case npy::DType::kInt16:
      check_values<std::int16_t>(a);
      break;
    case npy::DType::kInt32:
      check_values<std::int32_t>(a);
      break;
  }
  // What was accepted is written in NumPy's form and reads back the same.
  const std::vector<unsigned char> again = npy::serialize(a);
  npy::Array b;
  const Status t = npy::parse(again.data(), again.size(), "again.npy", &b);
  if (!t.is_ok()) fail("serialized array refused", t.message());
  if (b.dtype != a.dtype || b.dims != a.dims || b.fortran_order != a.fortran_order || b.bytes != a.bytes)
    fail("round trip", "the array changed");
  return 0;
}
