#include <doctest/doctest.h>

#include "weights/json.h"

using adarun::JsonValue;

namespace {

bool parses(const std::string& text, JsonValue* value = nullptr) {
  JsonValue scratch;
  std::string error;
  return adarun::parse_json(text, value ? value : &scratch, &error);
}

}  // namespace

TEST_CASE("json: nested documents, escapes, unicode, numbers") {
  JsonValue v;
  REQUIRE(parses(R"( {"a": [1, -2.5e3, 0.125, true, false, null], "b": {"c": "x\"y\\z\n\u00e9\ud83d\ude00"}} )", &v));
  const auto& a = v.find("a")->as_array();
  REQUIRE(a.size() == 6);
  CHECK(a[0].as_number() == 1.0);
  CHECK(a[1].as_number() == -2500.0);
  CHECK(a[2].as_number() == 0.125);
  CHECK(a[3].as_bool());
  CHECK(a[5].is_null());
  CHECK(v.find("b")->find("c")->as_string() == "x\"y\\z\n\xc3\xa9\xf0\x9f\x98\x80");
  CHECK(v.find("missing") == nullptr);
}

TEST_CASE("json: invalid documents are rejected") {
  for (const char* bad : {"", "{", "[1,]", "{\"a\":1,}", "\"open", "\"bad \\q escape\"", "[1] x", "01", "1.", "-", "nul",
                          "\"\\ud800\"", "\"\\udc00\"", "{\"a\" 1}", "[\"tab\there\"]", "{1:2}"}) {
    CAPTURE(bad);
    CHECK_FALSE(parses(bad));
  }
  CHECK_FALSE(parses(std::string(100, '[') + std::string(100, ']')));  // deeper than the limit
  CHECK(parses(std::string(60, '[') + std::string(60, ']')));
}

TEST_CASE("json: json_quote round-trips through the parser") {
  const std::string original = "quote \" backslash \\ newline \n tab \t control \x01 end";
  JsonValue v;
  REQUIRE(parses(adarun::json_quote(original), &v));
  CHECK(v.as_string() == original);
}
