#pragma once
// A small JSON reader for index files: enough to read what Python's json
// module writes, and tolerant of hand-edited files (trailing commas are
// accepted). Errors give the file name, line and column.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <locale>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "eigenq/npy.hpp"
#include "eigenq/status.hpp"

namespace eigenq::compare {

struct Json {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kNull;
  bool boolean = false;
  double number = 0.0;
  std::string string;
  std::vector<Json> items;                            // array elements
  std::vector<std::pair<std::string, Json>> members;  // object members, in file order

  bool is_number() const { return type == Type::kNumber; }
  bool is_string() const { return type == Type::kString; }
  bool is_array() const { return type == Type::kArray; }
  bool is_object() const { return type == Type::kObject; }

  /// The member named `key` of an object, or nullptr.
  const Json* get(const std::string& key) const {
    for (const auto& m : members)
      if (m.first == key) return &m.second;
    return nullptr;
  }
  /// The string member `key`, or `fallback` when absent or not a string.
  std::string get_string(const std::string& key, const std::string& fallback = "") const {
    const Json* v = get(key);
    return v && v->is_string() ? v->string : fallback;
  }
};

namespace detail {

class JsonParser {
 public:
  JsonParser(const std::string& text, const std::string& name) : s_(text), name_(name) {}

  Status parse(Json* out) {
    EIGENQ_RETURN_IF_ERROR(value(out, 0));
    skip_space();
    if (i_ != s_.size()) return fail("unexpected text after the JSON value");
    return Status::ok();
  }

 private:
  // Deep enough for any index file, shallow enough for the stack.
  static constexpr int kMaxDepth = 200;

  Status fail(const std::string& what) const {
    int line = 1, column = 1;
    for (std::size_t k = 0; k < i_ && k < s_.size(); ++k) {
      if (s_[k] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return eigenq::detail::error(StatusCode::kFormatError, name_, ":", line, ":", column, ": ", what);
  }
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool literal(const char* word) {
    const std::string w(word);
    if (s_.compare(i_, w.size(), w) != 0) return false;
    i_ += w.size();
    return true;
  }

  Status value(Json* out, int depth) {
    if (depth > kMaxDepth) return fail("nested too deeply");
    skip_space();
    if (i_ >= s_.size()) return fail("unexpected end of file");
    const char c = s_[i_];
    if (c == '{') return object(out, depth);
    if (c == '[') return array(out, depth);
    if (c == '"') {
      out->type = Json::Type::kString;
      return string(&out->string);
    }
    if (literal("true") || literal("false")) {
      out->type = Json::Type::kBool;
      out->boolean = c == 't';
      return Status::ok();
    }
    if (literal("null")) {
      out->type = Json::Type::kNull;
      return Status::ok();
    }
    if (c == '-' || (c >= '0' && c <= '9')) return number(out);
    return fail(std::string("unexpected character '") + c + "'");
  }

  Status object(Json* out, int depth) {
    out->type = Json::Type::kObject;
    ++i_;  // '{'
    for (;;) {
      skip_space();
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return Status::ok();
      }
      std::string key;
      if (i_ >= s_.size() || s_[i_] != '"') return fail("expected a member name in double quotes or '}'");
      EIGENQ_RETURN_IF_ERROR(string(&key));
      skip_space();
      if (i_ >= s_.size() || s_[i_] != ':') return fail("expected ':' after member name \"" + key + "\"");
      ++i_;
      Json v;
      EIGENQ_RETURN_IF_ERROR(value(&v, depth + 1));
      out->members.emplace_back(std::move(key), std::move(v));
      skip_space();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;  // a trailing comma before '}' is tolerated
      } else if (i_ >= s_.size() || s_[i_] != '}') {
        return fail("expected ',' or '}'");
      }
    }
  }

  Status array(Json* out, int depth) {
    out->type = Json::Type::kArray;
    ++i_;  // '['
    for (;;) {
      skip_space();
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return Status::ok();
      }
      Json v;
      EIGENQ_RETURN_IF_ERROR(value(&v, depth + 1));
      out->items.push_back(std::move(v));
      skip_space();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
      } else if (i_ >= s_.size() || s_[i_] != ']') {
        return fail("expected ',' or ']'");
      }
    }
  }

  Status number(Json* out) {
    const std::size_t start = i_;
    while (i_ < s_.size() && std::string("+-0123456789.eE").find(s_[i_]) != std::string::npos) ++i_;
    const std::string text = s_.substr(start, i_ - start);
    std::istringstream in(text);
    in.imbue(std::locale::classic());
    double v;
    if (!(in >> v) || in.peek() != EOF) {
      i_ = start;
      return fail("malformed number '" + text + "'");
    }
    out->type = Json::Type::kNumber;
    out->number = v;
    return Status::ok();
  }

  static void append_utf8(std::string* s, std::uint32_t cp) {
    if (cp < 0x80) {
      s->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      s->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      s->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      s->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      s->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      s->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  bool hex4(std::uint32_t* out) {
    if (i_ + 4 > s_.size()) return false;
    std::uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = s_[i_ + k];
      const int d = h >= '0' && h <= '9'   ? h - '0'
                    : h >= 'a' && h <= 'f' ? h - 'a' + 10
                    : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                           : -1;
      if (d < 0) return false;
      v = v * 16 + static_cast<std::uint32_t>(d);
    }
    i_ += 4;
    *out = v;
    return true;
  }

  Status string(std::string* out) {
    ++i_;  // opening quote
    out->clear();
    while (i_ < s_.size() && s_[i_] != '"') {
      const char c = s_[i_++];
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (i_ >= s_.size()) break;
      const char e = s_[i_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out->push_back(e);
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          std::uint32_t cp;
          if (!hex4(&cp)) return fail("bad \\u escape");
          // A surrogate pair encodes one code point above U+FFFF.
          if (cp >= 0xD800 && cp < 0xDC00 && s_.compare(i_, 2, "\\u") == 0) {
            i_ += 2;
            std::uint32_t low;
            if (!hex4(&low) || low < 0xDC00 || low > 0xDFFF) return fail("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          return fail(std::string("bad escape '\\") + e + "'");
      }
    }
    if (i_ >= s_.size()) return fail("unterminated string");
    ++i_;  // closing quote
    return Status::ok();
  }

  const std::string& s_;
  std::string name_;
  std::size_t i_ = 0;
};

}  // namespace detail

/// Whether `v` is an integer in [0, 2^63), and its value: a JSON number is
/// a double, and 1e300 or 4.9 is not a count (converting it would be
/// undefined or silently truncate). 2^63 is exact in double, and every
/// integer-valued double below it converts exactly.
inline bool as_count(const Json& v, std::int64_t* out) {
  if (!v.is_number() || !(v.number >= 0.0 && v.number < 0x1p63) || v.number != std::floor(v.number)) return false;
  *out = static_cast<std::int64_t>(v.number);
  return true;
}

/// Parses JSON text; `name` (the file) starts every error message.
inline Status parse_json(const std::string& text, const std::string& name, Json* out) {
  Json v;
  EIGENQ_RETURN_IF_ERROR(detail::JsonParser(text, name).parse(&v));
  *out = std::move(v);
  return Status::ok();
}

/// Reads a JSON file: a regular file only (a FIFO or device is refused, as
/// by the .npy reader).
inline Status read_json(const std::string& path, Json* out) {
  std::vector<unsigned char> bytes;
  EIGENQ_RETURN_IF_ERROR(npy::detail::read_regular_file(path, &bytes));
  return parse_json(std::string(bytes.begin(), bytes.end()), path, out);
}

}  // namespace eigenq::compare
