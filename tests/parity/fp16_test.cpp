// F16 weights (weights/FORMAT.md, format version 2): the engine widens them once at load, packing the linears
// straight from the half values, and then runs exactly as on F32 weights; F16 where the format keeps F32 is refused.
#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/src/session.h"
#include "tests/parity/golden_case.h"
#include "weights/json.h"
#include "weights/weight_file.h"

namespace {

using adarun::testing::GoldenCase;

struct Frame {
  std::vector<std::vector<float>> outputs;  // per requested task
  adarun::FrameStats stats;
};

Frame run_frame(const adarun::Model& model, const GoldenCase& golden, const std::vector<float>& input) {
  std::unique_ptr<adarun::Session> session;
  REQUIRE(adarun::Session::create(model, &session).is_ok());
  REQUIRE(session->set_tasks(golden.tasks).is_ok());
  const char* threads = std::getenv("ADARUN_TEST_THREADS");
  REQUIRE(session->set_threads(threads ? std::atoi(threads) : 1).is_ok());
  session->set_gate_threshold(golden.threshold);
  REQUIRE(session->run(input.data(), static_cast<int64_t>(input.size())).is_ok());
  Frame frame;
  const adarun::ModelConfig& config = model.config();
  for (int t : session->task_indices()) {
    const float* output = session->output(t);
    frame.outputs.emplace_back(output, output + config.tasks[t].outputs * config.img_size * config.img_size);
  }
  frame.stats = session->stats();
  return frame;
}

// Bytes the model widens at load: every F16 tensor on the reference path; on a packed ISA all but the linears'
// weights ([out, in] `.weight`), which are packed straight from the half values.
int64_t expected_widened_bytes(const std::string& path, bool packed) {
  std::string error;
  const std::unique_ptr<adarun::WeightFile> file = adarun::WeightFile::open(path, &error);
  REQUIRE_MESSAGE(file, error);
  int64_t bytes = 0;
  for (const adarun::TensorView& tensor : file->tensors()) {
    if (tensor.dtype != adarun::TensorDtype::kF16) continue;
    const bool linear = tensor.shape.size() == 2 && tensor.name.size() > 7 && tensor.name.rfind(".weight") == tensor.name.size() - 7;
    if (!(packed && linear)) bytes += tensor.numel * int64_t(sizeof(float));
  }
  return bytes;
}

void check_same_as_widened(const std::string& name) {
  CAPTURE(name);
  GoldenCase golden;
  adarun::Status status = adarun::testing::load_golden_case(name, &golden);
  REQUIRE_MESSAGE(status.is_ok(), status.message());
  std::unique_ptr<adarun::Model> half, widened;
  status = adarun::Model::load_file(golden.directory + "/model.adarun", &half);
  REQUIRE_MESSAGE(status.is_ok(), status.message());
  status = adarun::Model::load_file(golden.directory + "/model_fp32.adarun", &widened);
  REQUIRE_MESSAGE(status.is_ok(), status.message());
  CHECK(half->file_bytes() < widened->file_bytes());
  CHECK(half->packed_bytes() == widened->packed_bytes());
  CHECK(widened->widened_bytes() == 0);
  CHECK(half->widened_bytes() ==
        expected_widened_bytes(golden.directory + "/model.adarun", half->isa() != adarun::Isa::kReference));
  CHECK(half->widened_bytes() > 0);
  CHECK(half->parameter_count() == widened->parameter_count());
  adarun::NpyArray input;
  REQUIRE(adarun::read_npy(golden.directory + "/input.npy", &input).is_ok());
  const Frame a = run_frame(*half, golden, input.values), b = run_frame(*widened, golden, input.values);
  REQUIRE(a.outputs.size() == b.outputs.size());
  for (size_t t = 0; t < a.outputs.size(); ++t) {
    CAPTURE(golden.tasks[t]);
    REQUIRE(a.outputs[t].size() == b.outputs[t].size());
    CHECK(std::memcmp(a.outputs[t].data(), b.outputs[t].data(), a.outputs[t].size() * sizeof(float)) == 0);
  }
  CHECK(a.stats.blocks == b.stats.blocks);
  CHECK(a.stats.tokens_kept == b.stats.tokens_kept);
  CHECK(a.stats.macs_executed == b.stats.macs_executed);
}

// The JSON header entry of `tensor`, exactly as the file spells it.
std::string header_entry(const std::string& bytes, const std::string& tensor) {
  const std::string key = adarun::json_quote(tensor) + ":{";
  const size_t at = bytes.find(key);
  REQUIRE_MESSAGE(at != std::string::npos, tensor);
  return bytes.substr(at, bytes.find('}', at) + 1 - at);
}

// The file with `tensor` (F32) declared F16 over the first half of its bytes: a valid weight file, which the model
// must refuse.
std::string as_f16(const std::string& bytes, const std::string& tensor) {
  const std::string entry = header_entry(bytes, tensor);
  adarun::JsonValue value;
  std::string error;
  REQUIRE_MESSAGE(adarun::parse_json(entry.substr(entry.find(":{") + 1), &value, &error), error);
  const adarun::JsonValue::Array& offsets = value.find("data_offsets")->as_array();
  const int64_t begin = int64_t(offsets[0].as_number()), end = int64_t(offsets[1].as_number());
  std::string shape;
  for (const adarun::JsonValue& dim : value.find("shape")->as_array()) shape += (shape.empty() ? "" : ",") + std::to_string(int64_t(dim.as_number()));
  const std::string replacement = adarun::json_quote(tensor) + ":{\"dtype\":\"F16\",\"shape\":[" + shape + "],\"data_offsets\":[" +
                                  std::to_string(begin) + "," + std::to_string(begin + (end - begin) / 2) + "]}";
  return adarun::testing::edit_header(bytes, entry, replacement);
}

}  // namespace

TEST_CASE("fp16: F16 weights run bit for bit as the same values widened to F32 (outputs, gates, MACs, packed bytes)") {
  // Under an emulator one case of each family: what is architecture-specific here is the widening, which
  // weights_test checks on all 65 536 half values; the rest is the fp32 model (two more MTLoRA cases: ~50 s in qemu).
  std::vector<const char*> names = {"per_task_small_fp16", "mtlora_matrix_small_fp16"};
  if (!adarun::testing::fewer_frames()) names.insert(names.end(), {"mtlora_matrixv2_small_fp16", "mtlora_mixed_heads_small_fp16"});
  for (const char* name : names) check_same_as_widened(name);
}

TEST_CASE("fp16: F16 where the format keeps F32 is refused, naming the tensor") {
  const std::string bytes = adarun::testing::read_bytes(adarun::testing::golden_directory("per_task_small_fp16") + "/model.adarun");
  REQUIRE(!bytes.empty());
  std::unique_ptr<adarun::Model> model;
  REQUIRE(adarun::Model::load_memory(bytes.data(), bytes.size(), &model).is_ok());
  for (const char* tensor : {"stages.0.block_policy.semseg.mlp.weight", "stages.1.token_policy.sal.fc.weight", "stages.0.blocks.1.norm2.weight",
                             "stages.2.blocks.0.attn.rel_bias", "stages.0.blocks.0.mlp.fc1.bias", "decoders.sal.head.conv1.bias"}) {
    CAPTURE(tensor);
    const std::string edited = as_f16(bytes, tensor);
    const adarun::Status status = adarun::Model::load_memory(edited.data(), edited.size(), &model);
    REQUIRE_FALSE(status.is_ok());
    CHECK(status.code() == adarun::StatusCode::kBadModel);
    CHECK_MESSAGE(status.message() == std::string("tensor ") + tensor + " is F16, but only linear and convolution weights may be (weights/FORMAT.md)",
                  status.message());
  }
}
