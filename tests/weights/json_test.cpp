#include <doctest/doctest.h>

#include <string>

#include "weights/json.h"

using adarun::JsonValue;

namespace {

JsonValue parse_ok(const std::string& text) {
  JsonValue value;
  std::string error;
  CHECK_MESSAGE(adarun::parse_json(text, &value, &error), text, ": ", error);
  return value;
}

// The error message, or "" when `text` parses.
std::string parse_error(const std::string& text) {
  JsonValue value;
  std::string error;
  return adarun::parse_json(text, &value, &error) ? "" : error;
}

std::string nested_arrays(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

}  // namespace

TEST_CASE("json: nested documents keep kinds, values and member order") {
  const JsonValue v = parse_ok(R"( {"b": [1, true, false, null, "s", {}], "a": {"c": [[]], "d": -0.5}} )" "\n");
  REQUIRE(v.is_object());
  REQUIRE(v.as_object().size() == 2);
  CHECK(v.as_object()[0].first == "b");  // insertion order, not sorted
  CHECK(v.as_object()[1].first == "a");
  const JsonValue::Array& b = v.find("b")->as_array();
  REQUIRE(b.size() == 6);
  CHECK(b[0].as_number() == 1.0);
  CHECK((b[1].is_bool() && b[1].as_bool()));
  CHECK((b[2].is_bool() && !b[2].as_bool()));
  CHECK(b[3].is_null());
  CHECK(b[4].as_string() == "s");
  CHECK((b[5].is_object() && b[5].as_object().empty()));
  CHECK(v.find("a")->find("c")->as_array()[0].is_array());
  CHECK(v.find("a")->find("d")->as_number() == -0.5);
  CHECK(v.find("missing") == nullptr);
  CHECK(b[0].find("b") == nullptr);  // not an object
}

TEST_CASE("json: accessors of another kind give empty values") {
  const JsonValue v = parse_ok("\"text\"");
  CHECK(v.kind() == JsonValue::Kind::kString);
  CHECK(v.as_number() == 0.0);
  CHECK(!v.as_bool());
  CHECK(v.as_array().empty());
  CHECK(v.as_object().empty());
  CHECK(parse_ok("3").as_string().empty());
}

TEST_CASE("json: duplicate keys are kept; find returns the first") {
  const JsonValue v = parse_ok(R"({"k": 1, "k": 2})");
  CHECK(v.as_object().size() == 2);
  CHECK(v.find("k")->as_number() == 1.0);
}

TEST_CASE("json: numbers") {
  CHECK(parse_ok("0").as_number() == 0.0);
  CHECK(parse_ok("-0").as_number() == 0.0);
  CHECK(parse_ok("12345678901").as_number() == 12345678901.0);
  CHECK(parse_ok("-2.5e3").as_number() == -2500.0);
  CHECK(parse_ok("1E+2").as_number() == 100.0);
  CHECK(parse_ok("125e-3").as_number() == 0.125);
  CHECK(parse_ok("0.5E1").as_number() == 5.0);
  CHECK(parse_ok("1e-400").as_number() == 0.0);  // underflow is fine
  for (const char* bad : {"01", "-01", "1.", ".5", "+1", "-", "1e", "1e+", "--1", "0x10", "1.e3", "NaN", "Infinity", "-Infinity"}) {
    CAPTURE(bad);
    CHECK(!parse_error(bad).empty());
  }
  CHECK(parse_error("1e400").find("out of range") != std::string::npos);
  CHECK(parse_error("-1e400").find("out of range") != std::string::npos);
}

TEST_CASE("json: string escapes and unicode") {
  CHECK(parse_ok(R"("q\" b\\ s\/ \b\f\n\r\t")").as_string() == "q\" b\\ s/ \b\f\n\r\t");
  CHECK(parse_ok(R"("\u0041\u00e9\u20AC")").as_string() == "A\xc3\xa9\xe2\x82\xac");
  CHECK(parse_ok(R"("\ud83d\ude00")").as_string() == "\xf0\x9f\x98\x80");  // surrogate pair -> U+1F600
  CHECK(parse_ok(R"("\uDBFF\uDFFF")").as_string() == "\xf4\x8f\xbf\xbf");  // U+10FFFF
  CHECK(parse_ok(R"("\u0000")").as_string() == std::string(1, '\0'));
  CHECK(parse_ok("\"raw \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"").as_string() == "raw \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

TEST_CASE("json: invalid strings") {
  CHECK(parse_error("\"open").find("unterminated") != std::string::npos);
  CHECK(parse_error("\"open\\").find("unterminated") != std::string::npos);
  CHECK(parse_error(R"("bad \q escape")").find("invalid escape") != std::string::npos);
  CHECK(parse_error(R"("\u12G4")").find("hex digit") != std::string::npos);
  CHECK(parse_error(R"("\u12")").find("\\u") != std::string::npos);
  CHECK(parse_error(R"("\ud800")").find("surrogate") != std::string::npos);
  CHECK(parse_error(R"("\ud800x")").find("surrogate") != std::string::npos);
  CHECK(parse_error(R"("\ud800\u0041")").find("surrogate") != std::string::npos);
  CHECK(parse_error(R"("\ud800\ud800")").find("surrogate") != std::string::npos);
  CHECK(parse_error(R"("\udc00")").find("lone low surrogate") != std::string::npos);
  CHECK(parse_error("\"tab\there\"").find("control character") != std::string::npos);
  CHECK(parse_error(std::string("\"nul\0\"", 6)).find("control character") != std::string::npos);
  for (const char* bad_utf8 : {"\"\xff\"", "\"\xc3\"", "\"\xc0\xaf\"", "\"\xe0\x80\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"",
                               "\"\xf8\x88\x80\x80\x80\"", "\"\x80\"", "\"\xe2\x82\""}) {
    CAPTURE(bad_utf8);
    CHECK(parse_error(bad_utf8).find("UTF-8") != std::string::npos);
  }
}

TEST_CASE("json: invalid documents name the problem and its byte offset") {
  CHECK(parse_error("[1,]").find("expected a value at byte 3") != std::string::npos);  // trailing comma
  CHECK(parse_error("{\"a\":1,}").find("expected a string key at byte 7") != std::string::npos);
  CHECK(parse_error("[1] x").find("unexpected text after the document at byte 4") != std::string::npos);
  CHECK(parse_error("{\"a\" 1}").find("expected ':'") != std::string::npos);
  CHECK(parse_error("[1 2]").find("expected ',' or ']'") != std::string::npos);
  CHECK(parse_error("{\"a\":1 \"b\":2}").find("expected ',' or '}'") != std::string::npos);
  for (const char* bad : {"", "   ", "{", "[", "[1", "{\"a\"", "{\"a\":", "nul", "tru", "True", "{1:2}", "[,1]", "{,}", "/* c */ 1",
                          "1 // c", "'single'", "[1]]", "{}{}", "\xef\xbb\xbf{}"}) {
    CAPTURE(bad);
    CHECK(!parse_error(bad).empty());
  }
}

TEST_CASE("json: nesting is limited to 64 containers") {
  CHECK(parse_error(nested_arrays(64)).empty());
  CHECK(parse_error(nested_arrays(65)).find("nested deeper than 64") != std::string::npos);
  CHECK(parse_error(std::string(1000000, '[')).find("nested deeper than 64") != std::string::npos);  // depth bomb
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
  CHECK(parse_error(objects).find("nested deeper than 64") != std::string::npos);
}

TEST_CASE("json: a failed parse leaves the output untouched") {
  JsonValue value = JsonValue::make_number(7.0);
  std::string error;
  CHECK(!adarun::parse_json("[1,", &value, &error));
  CHECK(value.as_number() == 7.0);
  CHECK(!adarun::parse_json("[1,", &value, nullptr));  // the error is optional
}

TEST_CASE("json: json_quote escapes and round-trips through parse_json") {
  CHECK(adarun::json_quote("a\"b\\c\n") == R"("a\"b\\c\n")");
  CHECK(adarun::json_quote(std::string("\x01\x1f", 2)) == R"("\u0001\u001f")");
  std::string every_byte_kind = "quote \" backslash \\ slash / utf8 \xc3\xa9\xf0\x9f\x98\x80 del \x7f";
  for (int c = 0; c < 0x20; ++c) every_byte_kind += static_cast<char>(c);
  for (const std::string& original : {std::string(), std::string("plain"), every_byte_kind}) {
    const JsonValue v = parse_ok(adarun::json_quote(original));
    CHECK(v.as_string() == original);
  }
}
