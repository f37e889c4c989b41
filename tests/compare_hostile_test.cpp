// eigenq-compare on hostile input: names that hold line breaks, separators
// and bytes that are not UTF-8; folders holding symbolic-link loops, FIFOs,
// devices and directories named *.npy; index files with bad shapes, axes,
// duplicates and entries elsewhere; flags out of range; output folders where
// a file cannot be written. The run never crashes or hangs; each bad file is
// one line on stderr and is left out, the good ones are still compared, the
// summary says so, and the exit status is 1. Outputs are written whole or
// not at all.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "compare_testing.hpp"

namespace eigenq::compare {
namespace {

using namespace testing_helpers;

const std::vector<std::string> kQuick = {"--no-speed", "--dtype",    "int8", "--schemes",
                                         "per-tensor", "--symmetry", "asym"};

CliRun run_quick(std::vector<std::string> args) {
  args.insert(args.end(), kQuick.begin(), kQuick.end());
  return run_cli(args);
}

std::size_t count_lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

// The fields of RFC 4180 CSV records (quoted fields may hold commas, quotes
// and line breaks).
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(field);
      field.clear();
    } else if (c == '\n') {
      rows.back().push_back(field);
      field.clear();
      rows.emplace_back();
    } else {
      field += c;
    }
  }
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

// The lines of `text` after the line `title` (exactly), up to the next
// blank line: a table section of summary.txt.
std::size_t section_lines(const std::string& text, const std::string& title) {
  const std::size_t at = text.find("\n" + title + "\n");
  if (at == std::string::npos) return 0;
  const std::size_t begin = at + title.size() + 2, end = text.find("\n\n", begin);
  return count_lines(text.substr(begin, end == std::string::npos ? std::string::npos : end + 1 - begin));
}

bool valid_utf8(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = detail::utf8_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Names

TEST(CompareHostile, NamesCannotBreakAnyOutput) {
  const std::string dir = temp_dir("names"), out = temp_dir("names_out");
  write_floats(dir + "/a\nb.npy", Shape::row_major({4, 3}));  // a file name with a line break
  write_floats(dir + "/plain.npy", Shape::row_major({4, 3}), 2.0f);
  write_floats(dir + "/bytes.npy", Shape::row_major({2, 5}), 3.0f);
  write_floats(dir + "/pipes.npy", Shape::row_major({3, 3}), 0.5f);
  write_file(dir + "/index.json",
             "{\"tensors\": ["
             "{\"name\": \"bad\\u0000x\", \"file\": \"plain.npy\", \"role\": \"we,ird\\\"r\"},"
             "{\"name\": \"n\\u00e9 | x, \\\"q\\\"\\r\\n\", \"file\": \"pipes.npy\"}]}");
  // A name that is not UTF-8 (Latin-1 bytes in a file name).
  const std::string latin1 = dir + "/caf\xe9\xff.npy";
  write_floats(latin1, Shape::row_major({2, 2}), 5.0f);
  const CliRun r = run_cli({dir, "--no-speed", "--quiet", "--dtype", "int4", "--symmetry", "sym", "--schemes",
                            "per-tensor,per-channel,g32,g128,per-element", "--out", out});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "5 tensors")) << r.out;

  // summary.txt: one line per row: the weights table's header and 5
  // schemes, and the 5 tensors of the sensitivity ranking.
  const std::string text = read_file(out + "/summary.txt");
  EXPECT_EQ(section_lines(text, "Weights"), 1u + 5u) << text;
  const std::size_t ranking = text.find("  most sensitive weights");
  ASSERT_NE(ranking, std::string::npos) << text;
  EXPECT_EQ(count_lines(text.substr(ranking)), 1u + 5u) << text;
  EXPECT_TRUE(valid_utf8(text));

  // results.csv: every record has the header's columns.
  const auto csv = parse_csv(read_file(out + "/results.csv"));
  ASSERT_EQ(csv.size(), 1u + 5u * 5u);
  for (const auto& row : csv) EXPECT_EQ(row.size(), csv[0].size()) << row[0];
  std::vector<std::string> names;
  for (std::size_t i = 1; i < csv.size(); i += 5) names.push_back(csv[i][0]);
  EXPECT_NE(std::find(names.begin(), names.end(), "a\nb"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "caf\\xE9\\xFF"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "n\xc3\xa9 | x, \"q\"\r\n"), names.end());
  EXPECT_EQ(csv[1][1], "we,ird\"r");  // the role is quoted too
  EXPECT_TRUE(valid_utf8(read_file(out + "/results.csv")));
  const auto summary_csv = parse_csv(read_file(out + "/summary.csv"));
  for (const auto& row : summary_csv) EXPECT_EQ(row.size(), summary_csv[0].size());

  // summary.md: every table row has as many cell separators as the header.
  const std::string md = read_file(out + "/summary.md");
  std::vector<std::size_t> bars;
  std::size_t at = 0;
  for (std::size_t end; (end = md.find('\n', at)) != std::string::npos; at = end + 1) {
    const std::string line = md.substr(at, end - at);
    if (line.empty() || line[0] != '|') continue;
    std::size_t n = 0;
    for (std::size_t i = 0; i < line.size(); ++i) n += line[i] == '|' && (i == 0 || line[i - 1] != '\\');
    bars.push_back(n);
  }
  ASSERT_EQ(bars.size(), 2u + 5u);
  for (std::size_t n : bars) EXPECT_EQ(n, bars[0]) << md;

  // summary.json: valid UTF-8 that parses, with each name intact.
  const std::string json_text = read_file(out + "/summary.json");
  EXPECT_TRUE(valid_utf8(json_text));
  Json json;
  ASSERT_TRUE(parse_json(json_text, "summary.json", &json).is_ok());
  ASSERT_EQ(json.get("tensors")->items.size(), 5u);
  std::vector<std::string> json_names;
  for (const Json& t : json.get("tensors")->items) json_names.push_back(t.get_string("name"));
  EXPECT_NE(std::find(json_names.begin(), json_names.end(), std::string("bad\0x", 5)), json_names.end());
  EXPECT_NE(std::find(json_names.begin(), json_names.end(), "caf\\xE9\\xFF"), json_names.end());

  EXPECT_TRUE(valid_utf8(read_file(out + "/sqnr_vs_bytes.svg")));
}

TEST(CompareHostile, WorstTensorWithALineBreakStaysOnItsRow) {
  // The summary table used to be cut into lines and matched to rows by line
  // number: a line break in the worst tensor's name read past the rows.
  const std::string dir = temp_dir("worst"), plain = temp_dir("worst_plain");
  write_floats(dir + "/x\n\n\ny.npy", Shape::row_major({8, 4}), 100.0f);
  write_floats(plain + "/xy.npy", Shape::row_major({8, 4}), 100.0f);
  const CliRun r = run_quick({dir, "--quiet"}), p = run_quick({plain, "--quiet"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "x\\n\\n\\ny")) << r.out;
  EXPECT_EQ(count_lines(r.out), count_lines(p.out)) << r.out;
  EXPECT_EQ(section_lines(r.out, "Weights"), 1u + 1u) << r.out;
}

// ---------------------------------------------------------------------------
// Files that are not tensors

TEST(CompareHostile, LinkLoopsFifosDevicesAndDirectoriesAreOneLineEach) {
  const std::string dir = temp_dir("special");
  write_floats(dir + "/good.npy", Shape::row_major({4, 3}));
  ASSERT_EQ(::symlink("loop.npy", (dir + "/loop.npy").c_str()), 0);
  ASSERT_EQ(::symlink("/dev/zero", (dir + "/zero.npy").c_str()), 0);
  ASSERT_EQ(::mkfifo((dir + "/fifo.npy").c_str(), 0600), 0);
  ASSERT_EQ(::mkdir((dir + "/sub.npy").c_str(), 0700), 0);
  ASSERT_EQ(::symlink("nowhere.npy", (dir + "/dangling.npy").c_str()), 0);
  const CliRun r = run_quick({dir});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains(r.out, "1 tensors")) << r.out;
  EXPECT_TRUE(contains(r.out, "left out: 5 files or tensors")) << r.out;
  const std::vector<std::string> expected = {dir + "/loop.npy: cannot open: Too many levels of symbolic links",
                                             dir + "/zero.npy: is a character device, not a regular file",
                                             dir + "/fifo.npy: is a FIFO, not a regular file",
                                             dir + "/sub.npy: is a directory, not a regular file",
                                             dir + "/dangling.npy: cannot open: No such file or directory"};
  for (const std::string& line : expected) EXPECT_TRUE(contains(r.err, "eigenq-compare: " + line + "\n")) << r.err;
}

TEST(CompareHostile, AFifoOrDeviceIndexIsRefusedNotWaitedFor) {
  const std::string dir = temp_dir("fifo_index");
  write_floats(dir + "/a.npy", Shape::row_major({4, 3}));
  ASSERT_EQ(::mkfifo((dir + "/index.json").c_str(), 0600), 0);
  CliRun r = run_quick({dir});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, dir + "/index.json: is a FIFO, not a regular file")) << r.err;
  r = run_quick({dir, "--index", "/dev/zero"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "/dev/zero: is a character device, not a regular file")) << r.err;
}

TEST(CompareHostile, ScalarsAndEmptyTensorsAreSkippedAndNothingLeftIsAnError) {
  const std::string dir = temp_dir("scalars");
  const float one = 1.0f;
  ASSERT_TRUE(npy::write(dir + "/s.npy", &one, Shape::row_major({})).is_ok());
  ASSERT_TRUE(npy::write(dir + "/e.npy", static_cast<const float*>(nullptr), Shape::row_major({0, 4})).is_ok());
  CliRun r = run_quick({dir});  // used to exit 0 with an empty table (and count e as lossless)
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "note: 1 scalar tensor skipped")) << r.err;
  EXPECT_TRUE(contains(r.err, "note: 1 empty tensor (no elements) skipped")) << r.err;
  EXPECT_TRUE(contains(r.err, dir + ": no tensors to compare (2 files found: 1 scalar, 1 empty, 0 unusable)")) << r.err;

  write_floats(dir + "/w.npy", Shape::row_major({4, 3}));
  r = run_quick({dir, "--out", dir + "/out"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "1 tensors, 12 elements")) << r.out;
  EXPECT_EQ(parse_csv(read_file(dir + "/out/results.csv")).size(), 2u);  // e is not in the results
}

// ---------------------------------------------------------------------------
// Index files

TEST(CompareHostile, IndexShapesMustBeIntegersInRange) {
  const std::string dir = temp_dir("index_shapes");
  write_floats(dir + "/a.npy", Shape::row_major({4, 3}));
  write_floats(dir + "/b.npy", Shape::row_major({4, 3}));
  write_floats(dir + "/c.npy", Shape::row_major({4, 3}));
  write_floats(dir + "/d.npy", Shape::row_major({4, 3}));
  write_file(dir + "/index.json", R"({"tensors": [
    {"name": "a", "file": "a.npy", "shape": [1e300, 3]},
    {"name": "b", "file": "b.npy", "shape": [4.9, 3.2]},
    {"name": "c", "file": "c.npy", "shape": [4, -3]},
    {"name": "d", "file": "d.npy", "shape": [4, 3], "out_axis": 1}]})");
  const CliRun r = run_quick({dir});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "\"tensors\"[0] ('a'): shape dimension 0 = 1e+300 is not an integer in [0, 2^63)"))
      << r.err;
  EXPECT_TRUE(contains(r.err, "\"tensors\"[1] ('b'): shape dimension 0 = 4.9 is not an integer in [0, 2^63)")) << r.err;
  EXPECT_TRUE(contains(r.err, "\"tensors\"[2] ('c'): shape dimension 1 = -3 is not an integer")) << r.err;
  // The files of bad entries are left out (not compared as unlisted files
  // with a guessed axis); d is compared.
  EXPECT_TRUE(contains(r.out, "1 tensors")) << r.out;
  EXPECT_TRUE(contains(r.out, "left out: 3 files or tensors")) << r.out;
}

TEST(CompareHostile, IndexEntriesThatCannotBeUsedAreNamed) {
  const std::string root = temp_dir("index_entries");
  fs::create_directories(root + "/w");
  write_floats(root + "/w/a.npy", Shape::row_major({4, 3}));
  write_floats(root + "/w/b.npy", Shape::row_major({4, 3}));
  write_floats(root + "/other.npy", Shape::row_major({2, 2}));
  ASSERT_EQ(::mkdir((root + "/w/d.npy").c_str(), 0700), 0);
  write_file(root + "/index.json", R"({"tensors": [
    {"name": "a", "file": "w/a.npy", "out_axis": 0},
    {"name": "a again", "file": "w/./a.npy", "out_axis": 1},
    {"name": "number", "file": 42},
    {"name": "outside", "file": "other.npy"},
    {"name": "b", "file": "w/b.npy", "out_axis": "zero"},
    {"name": "dir", "file": "w/d.npy"}]})");
  const CliRun r = run_quick({root + "/w"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, "note: " + root + "/index.json: 'a again' lists " + root + "/w/./a.npy again")) << r.err;
  EXPECT_TRUE(contains(r.err, root + "/index.json: \"tensors\"[2]: \"file\" is not a string")) << r.err;
  EXPECT_TRUE(contains(r.err, "note: 1 index entry names a file outside " + root + "/w: skipped")) << r.err;
  EXPECT_TRUE(contains(r.err, "\"tensors\"[4] ('b'): out_axis is not a number")) << r.err;
  EXPECT_TRUE(contains(r.err, root + "/w/d.npy: is a directory, not a regular file")) << r.err;
  // a once, though listed twice; b's file is left out with its entry.
  EXPECT_TRUE(contains(r.out, "1 tensors")) << r.out;
  EXPECT_TRUE(contains(r.out, "left out: 3 files or tensors")) << r.out;
}

// ---------------------------------------------------------------------------
// Flags

TEST(CompareHostile, NumbersOutOfRangeAreRefusedNotClamped) {
  // The largest block size is valid: one block per row.
  CliRun r = run_cli({"--no-speed", "--limit", "1", "--dtype", "int8", "--symmetry", "asym", "--schemes",
                      "block9223372036854775807,per-channel"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "g9223372036854775807")) << r.out;
  struct Bad {
    std::vector<std::string> args;
    std::string message;
  };
  for (const Bad& b : std::vector<Bad>{
           {{"--schemes", "block9223372036854775808"}, "block size 9223372036854775808: expected an integer in [1, "},
           {{"--schemes", "block-5"}, "block size -5: expected an integer in [1, "},
           {{"--schemes", "block 5"}, "block size  5: expected an integer"},
           {{"--reps", "5000"}, "--reps 5000: expected an integer in [1, 1000]"},
           {{"--reps", "+3"}, "--reps +3: expected an integer in [1, 1000]"},
           {{"--limit", "99999999999999999999"}, "--limit 99999999999999999999: expected an integer in [1, "},
           {{"--limit", "0"}, "--limit 0: expected an integer in [1, "},
           {{"--threads", "0"}, "--threads 0: expected an integer in [1, 1024]"},
           {{"--threads", "1025"}, "--threads 1025: expected an integer in [1, 1024]"}}) {
    r = run_cli(b.args);
    EXPECT_EQ(r.code, 2) << b.args[1];
    EXPECT_TRUE(contains(r.err, b.message)) << r.err;
  }
}

// ---------------------------------------------------------------------------
// Tensors without usable parameters

TEST(CompareHostile, ATensorWithoutUsableParametersIsLeftOutNotTheRun) {
  // [-3.4e38, 3.4e38] needs an infinite affine scale; the run used to stop on it.
  const std::string dir = temp_dir("wide"), out = temp_dir("wide_out");
  const std::vector<float> wide = {-3.4e38f, 3.4e38f, 1.0f, 2.0f};
  ASSERT_TRUE(npy::write(dir + "/wide.npy", wide.data(), Shape::row_major({2, 2})).is_ok());
  write_floats(dir + "/fine.npy", Shape::row_major({4, 3}));
  const CliRun r = run_quick({dir, "--out", out, "--quiet"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(
      r.err, "eigenq-compare: " + dir + "/wide.npy (tensor 'wide'), int8 per-tensor asym f32+zp8: parameter 0:"))
      << r.err;
  EXPECT_TRUE(contains(r.err, "gives scale = inf")) << r.err;
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_TRUE(contains(r.out, "1 tensors")) << r.out;
  EXPECT_TRUE(contains(r.out, "left out: 1 file or tensor")) << r.out;
  const auto csv = parse_csv(read_file(out + "/results.csv"));
  ASSERT_EQ(csv.size(), 2u);
  EXPECT_EQ(csv[1][0], "fine");
  Json json;
  ASSERT_TRUE(read_json(out + "/summary.json", &json).is_ok());
  ASSERT_EQ(json.get("problems")->items.size(), 1u);
  EXPECT_TRUE(contains(json.get("problems")->items[0].string, "wide.npy (tensor 'wide')"));
}

// ---------------------------------------------------------------------------
// Output folders

const char* kOutputs[] = {"summary.txt",  "summary.md", "summary.csv", "results.csv",
                          "summary.json", "plan.csv",   "pareto.csv",  "sqnr_vs_bytes.svg"};

void expect_nothing_written(const std::string& out, const std::string& except) {
  for (const char* name : kOutputs) {
    if (name == except) continue;
    EXPECT_FALSE(fs::exists(out + "/" + name)) << name;
  }
  for (const auto& e : fs::directory_iterator(out)) {
    if (e.path().filename().string() != except + ".tmp") {
      EXPECT_NE(e.path().extension(), ".tmp") << e.path();
    }
  }
}

TEST(CompareHostile, OutputsAreWrittenWholeOrNotAtAll) {
  // A rename that fails (a directory where summary.md goes) used to leave
  // summary.txt written and summary.md.tmp behind.
  const std::string out = temp_dir("out_dir_in_way");
  fs::create_directories(out + "/summary.md/inside");
  CliRun r = run_quick({"--limit", "1", "--out", out});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, out + "/summary.md: is a directory; nothing was written")) << r.err;
  expect_nothing_written(out, "summary.md");

  // A temporary that cannot be created: the reason (errno), and no file.
  const std::string blocked = temp_dir("out_tmp_in_way");
  fs::create_directories(blocked + "/results.csv.tmp/inside");
  r = run_quick({"--limit", "1", "--out", blocked});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, blocked + "/results.csv: cannot create " + blocked + "/results.csv.tmp: File exists"))
      << r.err;
  EXPECT_TRUE(contains(r.err, "(nothing was written)")) << r.err;
  expect_nothing_written(blocked, "results.csv");

  // --out naming a file.
  const std::string file = temp_dir("out_is_file") + "/f";
  write_file(file, "x");
  r = run_quick({"--limit", "1", "--out", file});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, file + ": cannot create: ")) << r.err;
  EXPECT_EQ(read_file(file), "x");

  // A planted link at a temporary's name does not redirect the write.
  const std::string planted = temp_dir("out_planted"), victim = temp_dir("out_victim") + "/v";
  write_file(victim, "keep");
  ASSERT_EQ(::symlink(victim.c_str(), (planted + "/summary.txt.tmp").c_str()), 0);
  r = run_quick({"--limit", "1", "--out", planted, "--quiet"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_file(victim), "keep");
  EXPECT_TRUE(contains(read_file(planted + "/summary.txt"), "1 tensors"));
}

TEST(CompareHostile, WriteSyntheticIsWholeOrNothing) {
  const std::string dir = temp_dir("synthetic_blocked");
  fs::create_directories(dir + "/index.json/inside");
  const CliRun r = run_cli({"--write-synthetic", dir});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, dir + "/index.json: is a directory; nothing was written")) << r.err;
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.path().filename() != "index.json";
  EXPECT_EQ(files, 0u);
}

}  // namespace
}  // namespace eigenq::compare
