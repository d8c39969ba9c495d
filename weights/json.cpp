#include "weights/json.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace adarun {
namespace {

constexpr int kMaxDepth = 64;

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  bool parse_document(JsonValue* out) {
    skip_space();
    if (!parse_value(out, 0)) return false;
    skip_space();
    if (pos_ != text_.size()) return fail("unexpected trailing characters");
    return true;
  }

  std::string error() const { return error_ + " at byte " + std::to_string(pos_); }

 private:
  bool fail(const char* message) {
    if (error_.empty()) error_ = message;
    return false;
  }
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  void skip_space() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++pos_;
  }
  bool consume(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  bool parse_value(JsonValue* out, int depth) {
    if (depth > kMaxDepth) return fail("nesting deeper than 64");
    switch (peek()) {
      case '{': return parse_object(out, depth);
      case '[': return parse_array(out, depth);
      case '"': {
        std::string s;
        if (!parse_string(&s)) return false;
        *out = JsonValue::make_string(std::move(s));
        return true;
      }
      case 't': return consume("true") ? (*out = JsonValue::make_bool(true), true) : fail("invalid literal");
      case 'f': return consume("false") ? (*out = JsonValue::make_bool(false), true) : fail("invalid literal");
      case 'n': return consume("null") ? (*out = JsonValue(), true) : fail("invalid literal");
      default: return parse_number(out);
    }
  }

  bool parse_object(JsonValue* out, int depth) {
    ++pos_;  // '{'
    JsonValue::Object members;
    skip_space();
    if (peek() == '}') return ++pos_, *out = JsonValue::make_object(std::move(members)), true;
    while (true) {
      skip_space();
      std::string key;
      if (peek() != '"') return fail("expected a string key");
      if (!parse_string(&key)) return false;
      skip_space();
      if (peek() != ':') return fail("expected ':'");
      ++pos_;
      skip_space();
      JsonValue value;
      if (!parse_value(&value, depth + 1)) return false;
      members.emplace_back(std::move(key), std::move(value));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') break;
      return fail("expected ',' or '}'");
    }
    ++pos_;
    *out = JsonValue::make_object(std::move(members));
    return true;
  }

  bool parse_array(JsonValue* out, int depth) {
    ++pos_;  // '['
    JsonValue::Array items;
    skip_space();
    if (peek() == ']') return ++pos_, *out = JsonValue::make_array(std::move(items)), true;
    while (true) {
      skip_space();
      JsonValue value;
      if (!parse_value(&value, depth + 1)) return false;
      items.push_back(std::move(value));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') break;
      return fail("expected ',' or ']'");
    }
    ++pos_;
    *out = JsonValue::make_array(std::move(items));
    return true;
  }

  bool parse_hex4(unsigned* code) {
    if (pos_ + 4 > text_.size()) return fail("truncated \\u escape");
    *code = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      *code <<= 4;
      if (c >= '0' && c <= '9') *code |= unsigned(c - '0');
      else if (c >= 'a' && c <= 'f') *code |= unsigned(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') *code |= unsigned(c - 'A' + 10);
      else return fail("bad hex digit in \\u escape");
    }
    return true;
  }

  static void append_utf8(unsigned code, std::string* s) {
    if (code < 0x80) {
      *s += static_cast<char>(code);
    } else if (code < 0x800) {
      *s += static_cast<char>(0xC0 | (code >> 6));
      *s += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      *s += static_cast<char>(0xE0 | (code >> 12));
      *s += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      *s += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      *s += static_cast<char>(0xF0 | (code >> 18));
      *s += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      *s += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      *s += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  bool parse_unicode_escape(std::string* s) {
    unsigned code = 0;
    if (!parse_hex4(&code)) return false;
    if (code >= 0xDC00 && code <= 0xDFFF) return fail("lone low surrogate");
    if (code >= 0xD800 && code <= 0xDBFF) {
      unsigned low = 0;
      if (!consume("\\u") || !parse_hex4(&low) || low < 0xDC00 || low > 0xDFFF) return fail("unpaired high surrogate");
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(code, s);
    return true;
  }

  bool parse_escape(std::string* s) {
    if (at_end()) return fail("unterminated string");
    const char c = text_[pos_++];
    switch (c) {
      case '"': *s += '"'; return true;
      case '\\': *s += '\\'; return true;
      case '/': *s += '/'; return true;
      case 'b': *s += '\b'; return true;
      case 'f': *s += '\f'; return true;
      case 'n': *s += '\n'; return true;
      case 'r': *s += '\r'; return true;
      case 't': *s += '\t'; return true;
      case 'u': return parse_unicode_escape(s);
      default: return fail("bad escape");
    }
  }

  bool parse_string(std::string* s) {
    ++pos_;  // '"'
    while (true) {
      if (at_end()) return fail("unterminated string");
      const char c = text_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character in string");
      if (c == '\\') {
        if (!parse_escape(s)) return false;
      } else {
        *s += c;
      }
    }
  }

  bool skip_digits() {
    const size_t start = pos_;
    while (!at_end() && peek() >= '0' && peek() <= '9') ++pos_;
    return pos_ > start;
  }

  // Validates the RFC 8259 number grammar, then converts the token.
  bool parse_number(JsonValue* out) {
    const size_t start = pos_;
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
    } else if (!skip_digits()) {
      return fail("unexpected character");
    }
    if (peek() == '.') {
      ++pos_;
      if (!skip_digits()) return fail("digits expected after '.'");
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!skip_digits()) return fail("digits expected in exponent");
    }
    const std::string token(text_.substr(start, pos_ - start));
    *out = JsonValue::make_number(std::strtod(token.c_str(), nullptr));
    return true;
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

const JsonValue* JsonValue::find(std::string_view key) const {
  for (const auto& member : object_) {
    if (member.first == key) return &member.second;
  }
  return nullptr;
}

JsonValue JsonValue::make_bool(bool value) {
  JsonValue v;
  v.kind_ = Kind::kBool;
  v.boolean_ = value;
  return v;
}

JsonValue JsonValue::make_number(double value) {
  JsonValue v;
  v.kind_ = Kind::kNumber;
  v.number_ = value;
  return v;
}

JsonValue JsonValue::make_string(std::string value) {
  JsonValue v;
  v.kind_ = Kind::kString;
  v.string_ = std::move(value);
  return v;
}

JsonValue JsonValue::make_array(Array items) {
  JsonValue v;
  v.kind_ = Kind::kArray;
  v.array_ = std::move(items);
  return v;
}

JsonValue JsonValue::make_object(Object members) {
  JsonValue v;
  v.kind_ = Kind::kObject;
  v.object_ = std::move(members);
  return v;
}

bool parse_json(std::string_view text, JsonValue* out, std::string* error) {
  Parser parser(text);
  JsonValue value;
  if (!parser.parse_document(&value)) {
    if (error) *error = parser.error();
    return false;
  }
  *out = std::move(value);
  return true;
}

std::string json_quote(std::string_view s) {
  std::string quoted = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': quoted += "\\\""; break;
      case '\\': quoted += "\\\\"; break;
      case '\n': quoted += "\\n"; break;
      case '\r': quoted += "\\r"; break;
      case '\t': quoted += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escape[8];
          std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned>(c));
          quoted += escape;
        } else {
          quoted += c;
        }
    }
  }
  return quoted + "\"";
}

}  // namespace adarun
