#include "weights/json.h"

#include <cmath>
#include <cstdlib>
#include <new>
#include <string>

namespace adarun {
namespace {

constexpr int kMaxDepth = 64;  // bounds the parser's recursion on hostile input

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_high_surrogate(unsigned code) { return code >= 0xD800 && code <= 0xDBFF; }
bool is_low_surrogate(unsigned code) { return code >= 0xDC00 && code <= 0xDFFF; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Length of the well-formed UTF-8 sequence at text[pos] (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF), or 0 when it is ill-formed or cut short.
size_t utf8_sequence_length(std::string_view text, size_t pos) {
  const auto byte = [&](size_t i) { return pos + i < text.size() ? static_cast<unsigned char>(text[pos + i]) : 0u; };
  const unsigned lead = byte(0);
  if (lead < 0x80) return 1;
  size_t length = 0;
  unsigned second_min = 0x80, second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_min = 0xA0;  // overlong
    if (lead == 0xED) second_max = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_min = 0x90;  // overlong
    if (lead == 0xF4) second_max = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (byte(1) < second_min || byte(1) > second_max) return 0;
  for (size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return length;
}

void append_utf8(unsigned code, std::string* s) {
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

// Recursive descent over the RFC 8259 grammar. Every failure path calls fail() exactly once and returns.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  bool parse_document(JsonValue* out) {
    skip_space();
    if (!parse_value(out, 0)) return false;
    skip_space();
    return at_end() || fail("unexpected text after the document");
  }

  const std::string& error() const { return error_; }

 private:
  bool fail(const char* message) {
    error_ = std::string(message) + " at byte " + std::to_string(pos_);
    return false;
  }
  bool at_end() const { return pos_ >= text_.size(); }
  bool consume(char c) {
    if (at_end() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  void skip_space() {
    while (!at_end() && is_space(text_[pos_])) ++pos_;
  }
  bool skip_digits() {
    const size_t start = pos_;
    while (!at_end() && is_digit(text_[pos_])) ++pos_;
    return pos_ > start;
  }

  bool parse_value(JsonValue* out, int depth) {
    if (at_end()) return fail("unexpected end of input");
    const char c = text_[pos_];
    switch (c) {
      case '{': return parse_object(out, depth + 1);
      case '[': return parse_array(out, depth + 1);
      case '"': return parse_string_value(out);
      case 't': return parse_literal("true", JsonValue::make_bool(true), out);
      case 'f': return parse_literal("false", JsonValue::make_bool(false), out);
      case 'n': return parse_literal("null", JsonValue(), out);
      default: return c == '-' || is_digit(c) ? parse_number(out) : fail("expected a value");
    }
  }

  bool parse_literal(std::string_view word, JsonValue value, JsonValue* out) {
    if (text_.substr(pos_, word.size()) != word) return fail("invalid literal");
    pos_ += word.size();
    *out = std::move(value);
    return true;
  }

  bool parse_object(JsonValue* out, int depth) {
    if (depth > kMaxDepth) return fail("containers nested deeper than 64");
    ++pos_;  // '{'
    JsonValue::Object members;
    skip_space();
    if (!consume('}')) {
      do {
        skip_space();
        std::string key;
        if (at_end() || text_[pos_] != '"') return fail("expected a string key");
        if (!parse_string(&key)) return false;
        skip_space();
        if (!consume(':')) return fail("expected ':'");
        skip_space();
        JsonValue value;
        if (!parse_value(&value, depth)) return false;
        members.emplace_back(std::move(key), std::move(value));
        skip_space();
      } while (consume(','));
      if (!consume('}')) return fail("expected ',' or '}'");
    }
    *out = JsonValue::make_object(std::move(members));
    return true;
  }

  bool parse_array(JsonValue* out, int depth) {
    if (depth > kMaxDepth) return fail("containers nested deeper than 64");
    ++pos_;  // '['
    JsonValue::Array items;
    skip_space();
    if (!consume(']')) {
      do {
        skip_space();
        JsonValue value;
        if (!parse_value(&value, depth)) return false;
        items.push_back(std::move(value));
        skip_space();
      } while (consume(','));
      if (!consume(']')) return fail("expected ',' or ']'");
    }
    *out = JsonValue::make_array(std::move(items));
    return true;
  }

  bool parse_string_value(JsonValue* out) {
    std::string s;
    if (!parse_string(&s)) return false;
    *out = JsonValue::make_string(std::move(s));
    return true;
  }

  bool parse_string(std::string* s) {
    ++pos_;  // opening quote
    while (true) {
      if (at_end()) return fail("unterminated string");
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        if (!parse_escape(s)) return false;
        continue;
      }
      if (static_cast<unsigned char>(c) < 0x20) return fail("unescaped control character in string");
      const size_t length = utf8_sequence_length(text_, pos_);
      if (length == 0) return fail("invalid UTF-8 in string");
      s->append(text_.substr(pos_, length));
      pos_ += length;
    }
  }

  bool parse_escape(std::string* s) {
    ++pos_;  // backslash
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
      default: return fail("invalid escape in string");
    }
  }

  bool parse_hex4(unsigned* code) {
    if (text_.size() - pos_ < 4) return fail("truncated \\u escape");
    *code = 0;
    for (int i = 0; i < 4; ++i) {
      const int digit = hex_value(text_[pos_]);
      if (digit < 0) return fail("invalid hex digit in \\u escape");
      *code = *code << 4 | static_cast<unsigned>(digit);
      ++pos_;
    }
    return true;
  }

  // After "\u": one code point, or a surrogate pair spelled as two escapes.
  bool parse_unicode_escape(std::string* s) {
    unsigned code = 0;
    if (!parse_hex4(&code)) return false;
    if (is_low_surrogate(code)) return fail("lone low surrogate in \\u escape");
    if (is_high_surrogate(code)) {
      if (text_.substr(pos_, 2) != "\\u") return fail("high surrogate not followed by a low surrogate");
      pos_ += 2;
      unsigned low = 0;
      if (!parse_hex4(&low)) return false;
      if (!is_low_surrogate(low)) return fail("high surrogate not followed by a low surrogate");
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(code, s);
    return true;
  }

  // Validates the RFC 8259 number grammar, so strtod only ever sees a well-formed token.
  bool parse_number(JsonValue* out) {
    const size_t start = pos_;
    consume('-');
    if (!consume('0') && !skip_digits()) return fail("expected a digit");
    if (consume('.') && !skip_digits()) return fail("expected a digit after '.'");
    if (consume('e') || consume('E')) {
      if (!consume('+')) consume('-');
      if (!skip_digits()) return fail("expected a digit in the exponent");
    }
    const std::string token(text_.substr(start, pos_ - start));
    char* end = nullptr;
    const double value = std::strtod(token.c_str(), &end);
    // strtod follows LC_NUMERIC: under a locale whose decimal point is not '.', it stops early.
    if (end != token.c_str() + token.size()) return fail("number unreadable under the current C locale");
    if (!std::isfinite(value)) return fail("number out of range");
    *out = JsonValue::make_number(value);
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
  try {
    Parser parser(text);
    JsonValue value;
    if (!parser.parse_document(&value)) {
      if (error) *error = parser.error();
      return false;
    }
    *out = std::move(value);
    return true;
  } catch (const std::bad_alloc&) {  // a hostile document can ask for more memory than there is
    if (error) *error = "out of memory parsing a " + std::to_string(text.size()) + "-byte JSON document";
    return false;
  }
}

std::string json_quote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string quoted = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': quoted += "\\\""; break;
      case '\\': quoted += "\\\\"; break;
      case '\b': quoted += "\\b"; break;
      case '\f': quoted += "\\f"; break;
      case '\n': quoted += "\\n"; break;
      case '\r': quoted += "\\r"; break;
      case '\t': quoted += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          quoted += "\\u00";
          quoted += kHex[c >> 4];
          quoted += kHex[c & 0xF];
        } else {
          quoted += c;
        }
    }
  }
  return quoted + "\"";
}

}  // namespace adarun
