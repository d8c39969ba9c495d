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
  using Object = std::vector<std::pair<std::string, JsonValue>>;  // insertion order kept

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }

  // Accessors return an empty/zero value of the asked kind when the value is of another kind.
  bool as_bool() const { return boolean_; }
  double as_number() const { return number_; }
  const std::string& as_string() const { return string_; }
  const Array& as_array() const { return array_; }
  const Object& as_object() const { return object_; }
  // Member `key` of an object; nullptr when absent or not an object.
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

// Parses a whole document (surrounding whitespace allowed); false and a message with the byte offset on error.
bool parse_json(std::string_view text, JsonValue* out, std::string* error);

// `s` as a quoted, escaped JSON string.
std::string json_quote(std::string_view s);

}  // namespace adarun
