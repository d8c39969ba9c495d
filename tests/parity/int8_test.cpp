// I8 weights (weights/FORMAT.md, format version 3): the engine refuses I8 where the format keeps F32 (policies) or
// F16 (MTLoRA adapter factors), and scales that are not one per output channel of the layer, naming the tensor. The
// files are the golden int8 cases' (converter/make_golden.py) with one header entry rewritten: each is a valid
// weight file (its scales pair with it), which the model must refuse. Parity on I8 weights: parity_test.cpp.
#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/src/model.h"
#include "tests/parity/golden_case.h"
#include "weights/json.h"

namespace {

std::string golden_bytes(const std::string& name) {
  const std::string bytes = adarun::testing::read_bytes(adarun::testing::golden_directory(name) + "/model.adarun");
  REQUIRE_MESSAGE(!bytes.empty(), name);
  return bytes;
}

// The JSON header entry of `tensor`, exactly as the file spells it, and its data offsets.
struct Entry {
  std::string text;
  int64_t begin = 0, end = 0;
};

Entry header_entry(const std::string& bytes, const std::string& tensor) {
  const std::string key = adarun::json_quote(tensor) + ":{";
  const size_t at = bytes.find(key);
  REQUIRE_MESSAGE(at != std::string::npos, tensor);
  Entry entry;
  entry.text = bytes.substr(at, bytes.find('}', at) + 1 - at);
  adarun::JsonValue value;
  std::string error;
  REQUIRE_MESSAGE(adarun::parse_json(entry.text.substr(entry.text.find(":{") + 1), &value, &error), error);
  const adarun::JsonValue::Array& offsets = value.find("data_offsets")->as_array();
  entry.begin = int64_t(offsets[0].as_number()), entry.end = int64_t(offsets[1].as_number());
  return entry;
}

std::string shape_json(const std::vector<int64_t>& shape) {
  std::string text;
  for (const int64_t dim : shape) text += (text.empty() ? "[" : ",") + std::to_string(dim);
  return text + "]";
}

std::string entry_json(const std::string& name, const char* dtype, const std::vector<int64_t>& shape, int64_t begin, int64_t end) {
  return adarun::json_quote(name) + ":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape_json(shape) + ",\"data_offsets\":[" +
         std::to_string(begin) + "," + std::to_string(end) + "]}";
}

// `bytes` with `count` float ones appended to the data (64-byte aligned); the data offset where they begin.
int64_t append_ones(std::string* bytes, int64_t count) {
  uint64_t length = 0;
  for (int i = 0; i < 8; ++i) length |= uint64_t(static_cast<unsigned char>((*bytes)[size_t(i)])) << (8 * i);
  const int64_t data = int64_t(bytes->size() - 8 - length), begin = (data + 63) / 64 * 64;
  bytes->append(size_t(begin - data), '\0');
  const std::vector<float> ones(size_t(count), 1.0f);
  bytes->append(reinterpret_cast<const char*>(ones.data()), ones.size() * sizeof(float));
  return begin;
}

// The file with `tensor` (F32 or F16, of `shape`) declared I8 over the start of its bytes, with F32 scales, one per
// shape[0], appended to the data.
std::string as_i8(const std::string& bytes, const std::string& tensor, const std::vector<int64_t>& shape) {
  const Entry entry = header_entry(bytes, tensor);
  int64_t numel = 1;
  for (const int64_t dim : shape) numel *= dim;
  std::string out = bytes;
  const int64_t scales = append_ones(&out, shape[0]);
  return adarun::testing::edit_header(out, entry.text,
                                      entry_json(tensor, "I8", shape, entry.begin, entry.begin + numel) + "," +
                                          entry_json(tensor + "_scale", "F32", {shape[0]}, scales, scales + shape[0] * 4));
}

// The file with `tensor`'s scales replaced by `count` ones appended to the data.
std::string with_scales(const std::string& bytes, const std::string& tensor, int64_t count) {
  const Entry entry = header_entry(bytes, tensor + "_scale");
  std::string out = bytes;
  const int64_t begin = append_ones(&out, count);
  return adarun::testing::edit_header(out, entry.text, entry_json(tensor + "_scale", "F32", {count}, begin, begin + count * 4));
}

std::string load_error(const std::string& bytes) {
  std::unique_ptr<adarun::Model> model;
  const adarun::Status status = adarun::Model::load_memory(bytes.data(), bytes.size(), &model);
  CHECK(model == nullptr);
  CHECK(status.code() == adarun::StatusCode::kBadModel);
  return status.message();
}

}  // namespace

TEST_CASE("int8: the golden I8 files load; the edits below change nothing else") {
  for (const char* name : {"per_task_tiny_int8", "mtlora_matrix_tiny_int8", "mtlora_heads_tiny_int8"}) {
    CAPTURE(name);
    const std::string bytes = golden_bytes(name);
    std::unique_ptr<adarun::Model> model;
    const adarun::Status status = adarun::Model::load_memory(bytes.data(), bytes.size(), &model);
    CHECK_MESSAGE(status.is_ok(), status.message());
  }
  // The scales appended to the data but pointing where they were: the file still loads.
  const std::string bytes = golden_bytes("per_task_tiny_int8");
  const std::string same = with_scales(bytes, "stages.0.blocks.0.mlp.fc1.weight", 32);
  std::unique_ptr<adarun::Model> model;
  const adarun::Status status = adarun::Model::load_memory(same.data(), same.size(), &model);
  CHECK_MESSAGE(status.is_ok(), status.message());
}

TEST_CASE("int8: I8 in a policy is refused, naming the tensor") {
  const std::string bytes = golden_bytes("per_task_tiny_int8");
  for (const auto& [tensor, shape] : std::vector<std::pair<std::string, std::vector<int64_t>>>{
           {"stages.0.block_policy.semseg.mlp.weight", {8, 8}}, {"stages.1.token_policy.normals.mlp.weight", {8, 16}}}) {
    CAPTURE(tensor);
    const std::string error = load_error(as_i8(bytes, tensor, shape));
    CHECK_MESSAGE(error == "tensor " + tensor + " is I8, but only linear and convolution weights may be (weights/FORMAT.md)", error);
  }
}

TEST_CASE("int8: an I8 MTLoRA adapter factor is refused, naming the tensor") {
  const std::string bytes = golden_bytes("mtlora_matrix_tiny_int8");
  for (const auto& [tensor, shape] : std::vector<std::pair<std::string, std::vector<int64_t>>>{
           {"stages.0.blocks.0.mlp.fc1.shared_lora.down", {4, 8}},
           {"stages.0.blocks.0.mlp.fc1.shared_lora.up", {32, 4}},
           {"stages.0.blocks.0.mlp.fc2.task_lora.normals.down", {2, 32}}}) {
    CAPTURE(tensor);
    const std::string error = load_error(as_i8(bytes, tensor, shape));
    CHECK_MESSAGE(error == "tensor " + tensor + " is I8, but adapter factors are F32 or F16 (weights/FORMAT.md)", error);
  }
}

TEST_CASE("int8: scales not one per output channel of the layer are refused, naming the tensor") {
  // A linear's [out, in] weight with its scales along dimension 1: the file pairs them (shape[1]), the layer does not.
  std::string error = load_error(with_scales(golden_bytes("per_task_tiny_int8"), "stages.0.blocks.0.mlp.fc1.weight", 8));
  CHECK_MESSAGE(error == "tensor stages.0.blocks.0.mlp.fc1.weight has 8 scales, its 32 output channels need one each", error);
  // A transposed convolution's [in, out, k, k] weight with its scales written along dimension 0, as for a convolution.
  error = load_error(with_scales(golden_bytes("mtlora_heads_tiny_int8"), "decoders.sal.head.deconv.0.weight", 176));
  CHECK_MESSAGE(error == "tensor decoders.sal.head.deconv.0.weight has 176 scales, its 32 output channels need one each", error);
}
