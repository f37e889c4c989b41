// The .npy reader and writer: files written by NumPy (tests/data/npy/, from
// tests/conformance/make_npy_golden.py) read back with the right values,
// dtype, shape and order; eigenq writes NumPy's exact bytes; round trips for
// every dtype and order; every malformed file is refused with a message
// naming the file and the problem; only regular files are read, and only
// what can be read back is written.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "eigenq/npy.hpp"

namespace eigenq {
namespace {

std::string golden(const std::string& name) { return std::string(EIGENQ_TEST_DATA_DIR) + "/npy/" + name; }

std::vector<unsigned char> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Private to this process: ctest runs the same binary under several kernel
// paths at once.
std::string temp_path(const std::string& name) {
  return testing::TempDir() + "eigenq_npy_test_" + std::to_string(::getpid()) + "_" + name;
}

bool exists(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f) std::fclose(f);
  return f != nullptr;
}

// The message must name the file and the problem.
void expect_error(const Status& s, StatusCode code, const std::string& file, const std::string& problem) {
  EXPECT_EQ(s.code(), code) << s.message();
  EXPECT_NE(s.message().find(file), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(problem), std::string::npos) << s.message();
}

TEST(Npy, ReadsFloat32COrder) {
  npy::Array a;
  ASSERT_TRUE(npy::read(golden("f4_c_2x3.npy"), &a).is_ok());
  EXPECT_EQ(a.dtype, npy::DType::kFloat32);
  EXPECT_EQ(a.dims, (std::vector<std::int64_t>{2, 3}));
  EXPECT_FALSE(a.fortran_order);
  const Shape s = a.shape();
  EXPECT_EQ(s.layout, Layout::kRowMajor);
  EXPECT_EQ(s.rank, 2);
  const std::vector<float> v = a.values<float>();
  ASSERT_EQ(v.size(), 6u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(v[i], i * 0.5f - 3.0f);
}

TEST(Npy, ReadsFloat64FortranOrderAsColMajor) {
  npy::Array a;
  ASSERT_TRUE(npy::read(golden("f8_f_3x2x2.npy"), &a).is_ok());
  EXPECT_EQ(a.dtype, npy::DType::kFloat64);
  EXPECT_TRUE(a.fortran_order);
  EXPECT_EQ(a.shape().layout, Layout::kColMajor);
  const std::vector<double> v = a.values<double>();
  // Element (i, j, k) holds (C index) * 0.5 - 3 and sits at column-major offset i + 3 (j + 2 k).
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 2; ++j)
      for (int k = 0; k < 2; ++k) EXPECT_EQ(v[i + 3 * (j + 2 * k)], (i * 4 + j * 2 + k) * 0.5 - 3.0);
}

TEST(Npy, ReadsIntegerTypes) {
  npy::Array a;
  ASSERT_TRUE(npy::read(golden("i1_5.npy"), &a).is_ok());
  EXPECT_EQ(a.values<std::int8_t>(), (std::vector<std::int8_t>{-128, -1, 0, 1, 127}));
  ASSERT_TRUE(npy::read(golden("u1_4.npy"), &a).is_ok());
  EXPECT_EQ(a.values<std::uint8_t>(), (std::vector<std::uint8_t>{0, 1, 128, 255}));
  ASSERT_TRUE(npy::read(golden("i2_4.npy"), &a).is_ok());
  EXPECT_EQ(a.values<std::int16_t>(), (std::vector<std::int16_t>{-32768, -1, 1, 32767}));
  ASSERT_TRUE(npy::read(golden("u2_4.npy"), &a).is_ok());
  EXPECT_EQ(a.dtype, npy::DType::kUInt16);
  EXPECT_EQ(a.values<std::uint16_t>(), (std::vector<std::uint16_t>{0, 1, 32768, 65535}));
  ASSERT_TRUE(npy::read(golden("i4_2x2.npy"), &a).is_ok());
  EXPECT_EQ(a.dims, (std::vector<std::int64_t>{2, 2}));
  EXPECT_EQ(a.values<std::int32_t>(), (std::vector<std::int32_t>{-2147483647 - 1, -1, 1, 2147483647}));
}

TEST(Npy, ReadsScalarEmptyAndVersions2And3) {
  npy::Array a;
  ASSERT_TRUE(npy::read(golden("f4_scalar.npy"), &a).is_ok());
  EXPECT_EQ(a.rank(), 0);
  EXPECT_EQ(a.values<float>(), std::vector<float>{2.5f});
  ASSERT_TRUE(npy::read(golden("f4_empty_0x3.npy"), &a).is_ok());
  EXPECT_EQ(a.dims, (std::vector<std::int64_t>{0, 3}));
  EXPECT_EQ(a.size(), 0);
  for (const char* name : {"f4_v2_3.npy", "f4_v3_3.npy"}) {
    ASSERT_TRUE(npy::read(golden(name), &a).is_ok()) << name;
    EXPECT_EQ(a.values<float>(), (std::vector<float>{1.0f, -2.0f, 3.5f})) << name;
  }
}

TEST(Npy, WritesNumPysExactBytes) {
  for (const char* name : {"f4_c_2x3.npy", "f8_f_3x2x2.npy", "i1_5.npy", "u1_4.npy", "i2_4.npy", "i4_2x2.npy",
                           "f4_scalar.npy", "f4_empty_0x3.npy"}) {
    npy::Array a;
    ASSERT_TRUE(npy::read(golden(name), &a).is_ok()) << name;
    EXPECT_EQ(npy::serialize(a), file_bytes(golden(name))) << name;
  }
}

template <class T>
void round_trip(const std::vector<std::int64_t>& dims, Layout layout) {
  const Shape shape = Shape::from(dims.data(), static_cast<int>(dims.size()), layout);
  std::vector<T> data(static_cast<std::size_t>(shape.size()));
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<T>(static_cast<int>(i * 37 % 251) - 120);
  const std::string path = temp_path(std::string(npy::dtype_name(npy::dtype_of<T>())) + ".npy");
  ASSERT_TRUE(npy::write(path, data.data(), shape).is_ok());
  npy::Array a;
  const Status s = npy::read(path, &a);
  ASSERT_TRUE(s.is_ok()) << s.message();
  EXPECT_EQ(a.dtype, npy::dtype_of<T>());
  EXPECT_EQ(a.dims, dims);
  EXPECT_EQ(a.fortran_order, layout == Layout::kColMajor);
  EXPECT_EQ(a.values<T>(), data);
  EXPECT_EQ(file_bytes(path).size() % 64, (data.size() * sizeof(T)) % 64) << "data must start at a multiple of 64";
  EXPECT_FALSE(exists(path + ".tmp"));
  std::remove(path.c_str());
}

TEST(Npy, RoundTripsEveryDtypeOrderAndRank) {
  const std::vector<std::vector<std::int64_t>> shapes = {{}, {7}, {3, 5}, {2, 3, 4}, {2, 1, 3, 2, 2}, {4, 0, 2}};
  for (const auto& dims : shapes)
    for (Layout layout : {Layout::kRowMajor, Layout::kColMajor}) {
      round_trip<float>(dims, layout);
      round_trip<double>(dims, layout);
      round_trip<std::int8_t>(dims, layout);
      round_trip<std::uint8_t>(dims, layout);
      round_trip<std::int16_t>(dims, layout);
      round_trip<std::uint16_t>(dims, layout);
      round_trip<std::int32_t>(dims, layout);
    }
}

TEST(Npy, FloatSpecialValuesRoundTripBitExactly) {
  const std::vector<float> v = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-45f, 3.4028235e38f};
  const std::vector<unsigned char> bytes = npy::serialize(npy::Array::from(v.data(), Shape::row_major({7})));
  npy::Array a;
  ASSERT_TRUE(npy::parse(bytes.data(), bytes.size(), "mem", &a).is_ok());
  const std::vector<float> back = a.values<float>();
  ASSERT_EQ(back.size(), v.size());
  EXPECT_EQ(std::memcmp(back.data(), v.data(), v.size() * sizeof(float)), 0);
}

TEST(Npy, MissingFileNamesThePath) {
  npy::Array a;
  expect_error(npy::read("/nonexistent/dir/w.npy", &a), StatusCode::kIoError, "/nonexistent/dir/w.npy", "cannot open");
}

// A valid file's bytes, to break in each test.
std::vector<unsigned char> valid_bytes() {
  const std::vector<float> v = {1, 2, 3, 4, 5, 6};
  return npy::serialize(npy::Array::from(v.data(), Shape::row_major({2, 3})));
}

Status parse_bytes(const std::vector<unsigned char>& b, npy::Array* a) {
  return npy::parse(b.data(), b.size(), "t.npy", a);
}

TEST(Npy, RefusesBadMagic) {
  npy::Array a;
  std::vector<unsigned char> b = valid_bytes();
  b[1] = 'X';
  expect_error(parse_bytes(b, &a), StatusCode::kFormatError, "t.npy", "bad magic");
  const std::vector<unsigned char> text = {'h', 'e', 'l', 'l', 'o', ',', ' ', 'w'};
  expect_error(parse_bytes(text, &a), StatusCode::kFormatError, "t.npy", "got 'hello,'");
  expect_error(parse_bytes({}, &a), StatusCode::kFormatError, "t.npy", "bad magic");
}

TEST(Npy, RefusesTruncatedFiles) {
  npy::Array a;
  const std::vector<unsigned char> b = valid_bytes();
  // Cut in the prefix, in the header, and in the data: each is named "truncated".
  for (std::size_t keep : {std::size_t{7}, std::size_t{9}, std::size_t{40}, b.size() - 1, b.size() - 24}) {
    const std::vector<unsigned char> cut(b.begin(), b.begin() + keep);
    expect_error(parse_bytes(cut, &a), StatusCode::kFormatError, "t.npy", "truncated");
  }
  std::vector<unsigned char> cut(b.begin(), b.end() - 4);
  const Status s = parse_bytes(cut, &a);
  EXPECT_NE(s.message().find("shape (2, 3) of float32 needs 24 bytes of data, the file has 20"), std::string::npos)
      << s.message();
}

TEST(Npy, RefusesExtraDataAsSizeMismatch) {
  npy::Array a;
  std::vector<unsigned char> b = valid_bytes();
  b.insert(b.end(), 4, 0);
  expect_error(parse_bytes(b, &a), StatusCode::kFormatError, "t.npy", "size mismatch");
}

TEST(Npy, RefusesBigEndianAndUnsupportedDtypes) {
  npy::Array a;
  expect_error(npy::read(golden("bad_big_endian.npy"), &a), StatusCode::kFormatError, "bad_big_endian.npy",
               "big-endian dtype '>f4'");
  expect_error(npy::read(golden("bad_complex.npy"), &a), StatusCode::kFormatError, "bad_complex.npy",
               "unsupported dtype '<c8'");
  expect_error(npy::read(golden("bad_structured.npy"), &a), StatusCode::kFormatError, "bad_structured.npy",
               "structured dtypes are not supported");
}

TEST(Npy, RefusesUnknownVersionAndMalformedHeaders) {
  npy::Array a;
  std::vector<unsigned char> b = valid_bytes();
  b[6] = 9;
  expect_error(parse_bytes(b, &a), StatusCode::kFormatError, "t.npy", "unsupported .npy format version 9.0");

  auto with_header = [](const std::string& header) {
    const std::string file = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size()) + '\0' + header;
    return std::vector<unsigned char>(file.begin(), file.end());
  };
  expect_error(parse_bytes(with_header("{'descr': '<f4', 'shape': (0,), }"), &a), StatusCode::kFormatError, "t.npy",
               "needs descr, fortran_order and shape");
  expect_error(parse_bytes(with_header("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (0,), }"), &a),
               StatusCode::kFormatError, "t.npy", "fortran_order is not True or False");
  expect_error(parse_bytes(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"), &a),
               StatusCode::kFormatError, "t.npy", "shape is not a tuple of integers");
  expect_error(parse_bytes(with_header("'descr': '<f4'"), &a), StatusCode::kFormatError, "t.npy", "expected '{'");
  expect_error(parse_bytes(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }"), &a),
               StatusCode::kFormatError, "t.npy", "rank 9");
  // A shape whose element count overflows int64 describes no array; one
  // whose byte size overflows size_t is "truncated". Neither is a crash.
  expect_error(
      parse_bytes(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"), &a),
      StatusCode::kFormatError, "t.npy", "shape (4294967296, 4294967296) has more than 2^63 - 1 elements");
  expect_error(
      parse_bytes(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }"), &a),
      StatusCode::kFormatError, "t.npy", "needs more bytes");
  // Even with a zero dimension, the other dimensions must describe an array.
  expect_error(
      parse_bytes(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4294967296, 4294967296), }"), &a),
      StatusCode::kFormatError, "t.npy", "has more than 2^63 - 1 elements");
}

// Double quotes, extra spaces, no trailing comma, unknown keys.
TEST(Npy, ToleratesHeaderVariants) {
  npy::Array a;
  const std::string header = "{ \"descr\" : \"<f4\" , \"shape\":( ),'extra': 'x', \"fortran_order\": True}\n";
  const std::string file = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size()) + '\0' + header;
  std::vector<unsigned char> b(file.begin(), file.end());
  const float v = 1.5f;
  const auto* p = reinterpret_cast<const unsigned char*>(&v);
  b.insert(b.end(), p, p + 4);
  const Status s = parse_bytes(b, &a);
  ASSERT_TRUE(s.is_ok()) << s.message();
  EXPECT_TRUE(a.fortran_order);
  EXPECT_EQ(a.values<float>(), std::vector<float>{1.5f});
}

// Only regular files are read: a FIFO would block the reader forever and
// /dev/zero never ends. Each is refused before a byte is read, by kind.
TEST(Npy, RefusesWhatIsNotARegularFile) {
  npy::Array a;
  const std::string fifo = temp_path("fifo.npy");
  std::remove(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  expect_error(npy::read(fifo, &a), StatusCode::kIoError, fifo, "is a FIFO, not a regular file");
  std::remove(fifo.c_str());

  const std::string zero = temp_path("zero.npy");
  std::remove(zero.c_str());
  ASSERT_EQ(::symlink("/dev/zero", zero.c_str()), 0) << std::strerror(errno);
  expect_error(npy::read(zero, &a), StatusCode::kIoError, zero, "is a character device, not a regular file");
  std::remove(zero.c_str());

  const std::string dir = temp_path("dir.npy");
  ::rmdir(dir.c_str());
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0) << std::strerror(errno);
  expect_error(npy::read(dir, &a), StatusCode::kIoError, dir, "is a directory, not a regular file");
  ::rmdir(dir.c_str());

  const std::string loop = temp_path("loop.npy");
  std::remove(loop.c_str());
  ASSERT_EQ(::symlink(loop.c_str(), loop.c_str()), 0) << std::strerror(errno);
  expect_error(npy::read(loop, &a), StatusCode::kIoError, loop, "cannot open: Too many levels of symbolic links");
  std::remove(loop.c_str());
}

// What the reader refuses is not written either, and nothing is left behind.
TEST(Npy, WriteRefusesWhatTheReaderRefuses) {
  const std::string path = temp_path("refused.npy");
  std::remove(path.c_str());
  const std::vector<float> v(16, 1.0f);
  npy::Array nine = npy::Array::from(v.data(), Shape::row_major({1}));
  nine.dims.assign(9, 1);
  expect_error(npy::write(path, nine), StatusCode::kInvalidArgument, path, "rank 9 is outside [0, 8]");
  npy::Array negative = npy::Array::from(v.data(), Shape::row_major({1}));
  negative.dims = {-1, -1};
  expect_error(npy::write(path, negative), StatusCode::kInvalidArgument, path, "dimension 0 = -1 is negative");
  npy::Array huge = npy::Array::from(v.data(), Shape::row_major({1}));
  huge.dims = {std::int64_t{1} << 62, 4};
  expect_error(npy::write(path, huge), StatusCode::kInvalidArgument, path, "has more than 2^63 - 1 elements");
  std::vector<std::int64_t> dims(9, 1);
  expect_error(npy::write(path, v.data(), Shape::from(dims.data(), 9, Layout::kRowMajor)), StatusCode::kInvalidArgument,
               path, "rank 9 is outside [0, 8]");
  expect_error(npy::write(path, v.data(), Shape::row_major({4, -2})), StatusCode::kInvalidArgument, path,
               "dimension 1 = -2 is negative");
  expect_error(npy::write(path, static_cast<const float*>(nullptr), Shape::row_major({4})),
               StatusCode::kInvalidArgument, path, "data is a null pointer, but shape [4] has 4 elements");
  EXPECT_FALSE(exists(path));
  EXPECT_FALSE(exists(path + ".tmp"));
  ASSERT_TRUE(npy::write(path, static_cast<const float*>(nullptr), Shape::row_major({0, 3})).is_ok());
  npy::Array back;
  ASSERT_TRUE(npy::read(path, &back).is_ok());
  EXPECT_EQ(back.dims, (std::vector<std::int64_t>{0, 3}));
}

// A temporary planted as a symbolic link does not redirect the write.
TEST(Npy, WriteReplacesAPlantedTemporaryLink) {
  const std::string path = temp_path("planted.npy"), victim = temp_path("victim.txt");
  { std::ofstream(victim) << "keep me"; }
  std::remove((path + ".tmp").c_str());
  ASSERT_EQ(::symlink(victim.c_str(), (path + ".tmp").c_str()), 0);
  const std::vector<float> v = {1, 2};
  ASSERT_TRUE(npy::write(path, v.data(), Shape::row_major({2})).is_ok());
  std::ifstream in(victim);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()), "keep me");
  npy::Array a;
  ASSERT_TRUE(npy::read(path, &a).is_ok());
  EXPECT_EQ(a.values<float>(), v);
  EXPECT_FALSE(exists(path + ".tmp"));
}

TEST(Npy, WriteFailuresLeaveNoFile) {
  const std::vector<float> v = {1, 2};
  const Status s = npy::write("/nonexistent/dir/out.npy", v.data(), Shape::row_major({2}));
  expect_error(s, StatusCode::kIoError, "/nonexistent/dir/out.npy", "cannot create");
  expect_error(s, StatusCode::kIoError, "/nonexistent/dir/out.npy", "No such file or directory");  // errno's reason
  // A rename that fails (onto a non-empty directory) says why and leaves no temporary.
  const std::string dir = temp_path("is_a_dir.npy");
  ::mkdir(dir.c_str(), 0700);
  { std::ofstream(dir + "/inside") << "x"; }
  expect_error(npy::write(dir, v.data(), Shape::row_major({2})), StatusCode::kIoError, dir, "cannot rename");
  EXPECT_FALSE(exists(dir + ".tmp"));
  std::remove((dir + "/inside").c_str());
  ::rmdir(dir.c_str());
  npy::Array bad = npy::Array::from(v.data(), Shape::row_major({2}));
  bad.dims = {3};
  const std::string path = temp_path("bad.npy");
  expect_error(npy::write(path, bad), StatusCode::kShapeMismatch, path, "needs 3 elements of 4 bytes");
  EXPECT_FALSE(exists(path));
}

}  // namespace
}  // namespace eigenq
