#include "tests/parity/golden_case.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "weights/json.h"

namespace adarun::testing {
namespace {

std::vector<std::vector<int64_t>> integer_lists(const JsonValue* value) {
  std::vector<std::vector<int64_t>> lists;
  if (!value || !value->is_array()) return lists;
  for (const JsonValue& list : value->as_array()) {
    lists.emplace_back();
    for (const JsonValue& item : list.as_array()) lists.back().push_back(static_cast<int64_t>(item.as_number()));
  }
  return lists;
}

std::vector<std::vector<std::string>> mask_lists(const JsonValue* value) {
  std::vector<std::vector<std::string>> lists;
  if (!value || !value->is_array()) return lists;
  for (const JsonValue& list : value->as_array()) {
    lists.emplace_back();
    for (const JsonValue& item : list.as_array()) lists.back().push_back(item.is_string() ? item.as_string() : "");
  }
  return lists;
}

double number(const JsonValue& root, const char* key) {
  const JsonValue* value = root.find(key);
  return value && value->is_number() ? value->as_number() : 0.0;
}

}  // namespace

std::string golden_directory(const std::string& name) {
  const char* root = std::getenv("ADARUN_GOLDEN_DIR");
  return std::string(root ? root : "golden") + "/" + name;
}

Status load_golden_case(const std::string& name, GoldenCase* golden) {
  golden->name = name;
  golden->directory = golden_directory(name);
  std::ifstream file(golden->directory + "/case.json");
  if (!file) return Status::error("no golden case at " + golden->directory + " (run converter/make_golden.py)");
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  JsonValue root;
  std::string error;
  if (!parse_json(text, &root, &error)) return Status::error("bad case.json: " + error);
  for (const JsonValue& task : root.find("tasks")->as_array()) golden->tasks.push_back(task.as_string());
  golden->threshold = static_cast<float>(number(root, "threshold"));
  golden->blocks = integer_lists(root.find("blocks"));
  golden->tokens_kept = integer_lists(root.find("tokens_kept"));
  golden->token_masks = mask_lists(root.find("token_masks"));
  golden->has_macs = root.find("macs_static") != nullptr;
  golden->macs_executed = static_cast<int64_t>(number(root, "macs_executed"));
  golden->macs_static = static_cast<int64_t>(number(root, "macs_static"));
  golden->max_abs_ref = number(root, "max_abs_ref");
  if (const JsonValue* convs = root.find("int8_convs")) golden->int8_convs = convs->as_bool();
  return Status::ok();
}

std::string read_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

std::string edit_header(const std::string& bytes, const std::string& from, const std::string& to) {
  uint64_t length = 0;
  for (int i = 0; i < 8; ++i) length |= uint64_t(static_cast<unsigned char>(bytes[i])) << (8 * i);
  std::string header = bytes.substr(8, length);
  const size_t at = header.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, from);
  header.replace(at, from.size(), to);
  while (header.size() % 8 != 0) header += ' ';
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((uint64_t(header.size()) >> (8 * i)) & 0xff);
  return out + header + bytes.substr(8 + length);
}

bool fewer_frames() { return std::getenv("ADARUN_TEST_FEWER_FRAMES") != nullptr; }

}  // namespace adarun::testing
