#pragma once
// A small strict JSON (RFC 8259) reader: the weight-file header and the model config are JSON.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace adarun {

class JsonValue {
 public:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  using Array = std::vector<JsonValue>;
  using Object = std::vector<std::pair<std::string, JsonValue>>;  // insertion order kept, duplicate keys too

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }

  // Each accessor returns false / 0 / an empty value when the value is of another kind.
  bool as_bool() const { return boolean_; }
  double as_number() const { return number_; }
  const std::string& as_string() const { return string_; }
  const Array& as_array() const { return array_; }
  const Object& as_object() const { return object_; }
  // The first member named `key`; nullptr when absent or when this is not an object.
  const JsonValue* find(std::string_view key) const;

  static JsonValue make_bool(bool value);
  static JsonValue make_number(double value);
  static JsonValue make_string(std::string value);
  static JsonValue make_array(Array items);
  static JsonValue make_object(Object members);

 private:
  Kind kind_ = Kind::kNull;
  bool boolean_ = false;
  double number_ = 0.0;
  std::string string_;
  Array array_;
  Object object_;
};

// Parses one whole document: RFC 8259 exactly (UTF-8 checked, finite numbers only), containers nested at
// most 64 deep, whitespace around it allowed. On failure *out is untouched and *error (when not null) is
// one line naming the problem and its byte offset in `text`.
bool parse_json(std::string_view text, JsonValue* out, std::string* error);

// `s` (UTF-8) as a quoted JSON string, with quotes, backslashes and control characters escaped.
std::string json_quote(std::string_view s);

}  // namespace adarun
