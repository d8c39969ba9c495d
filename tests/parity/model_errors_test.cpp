// A weight file whose tensors disagree with its config must be refused, naming the tensor.
#include <doctest/doctest.h>

#include "engine/src/model.h"
#include "tests/parity/golden_case.h"

namespace {

using adarun::testing::edit_header;
using adarun::testing::read_bytes;

std::string load_error(const std::string& bytes) {
  std::unique_ptr<adarun::Model> model;
  const adarun::Status status = adarun::Model::load_memory(bytes.data(), bytes.size(), &model);
  CHECK(model == nullptr);
  return status.message();
}

std::string golden_model_bytes(const std::string& name = "per_task_small") {
  return read_bytes(adarun::testing::golden_directory(name) + "/model.adarun");
}

}  // namespace

TEST_CASE("model: the golden file loads from memory") {
  const std::string bytes = golden_model_bytes();
  REQUIRE(!bytes.empty());
  std::unique_ptr<adarun::Model> model;
  const adarun::Status status = adarun::Model::load_memory(bytes.data(), bytes.size(), &model);
  REQUIRE_MESSAGE(status.is_ok(), status.message());
  CHECK(model->config().tasks.size() == 4);
}

TEST_CASE("model: a missing tensor is named") {
  const std::string error = load_error(edit_header(golden_model_bytes(), "\"stages.1.blocks.0.norm2.weight\"", "\"stages.1.blocks.0.norm2.wait\""));
  CHECK_MESSAGE(error.find("lacks tensor stages.1.blocks.0.norm2.weight") != std::string::npos, error);
}

TEST_CASE("model: a config inconsistent with its tensors is refused") {
  const std::string bytes = golden_model_bytes();
  std::string error = load_error(edit_header(bytes, "\\\"decoder_dim\\\":16", "\\\"decoder_dim\\\":32"));
  CHECK_MESSAGE(error.find("has shape") != std::string::npos, error);
  error = load_error(edit_header(golden_model_bytes("static_small"), "\\\"depths\\\":[2,2,2,2]", "\\\"depths\\\":[2,2,1,2]"));
  CHECK_MESSAGE(error.find("unexpected tensor stages.2.blocks.1") != std::string::npos, error);
  error = load_error(edit_header(bytes, "\\\"depths\\\":[2,2,2,2]", "\\\"depths\\\":[2,2,3,2]"));
  CHECK_MESSAGE(error.find("lacks tensor stages.2.blocks.2") != std::string::npos, error);
  error = load_error(edit_header(bytes, "\\\"policy_mode\\\":\\\"per_task\\\"", "\\\"policy_mode\\\":\\\"sideways\\\""));
  CHECK_MESSAGE(error.find("policy_mode") != std::string::npos, error);
  error = load_error(edit_header(bytes, "\\\"img_size\\\":224", "\\\"img_size\\\":225"));
  CHECK_MESSAGE(error.find("img_size") != std::string::npos, error);
  error = load_error(edit_header(bytes, "\\\"family\\\":\\\"adamtl\\\"", "\\\"family\\\":\\\"resnet\\\""));
  CHECK_MESSAGE(error.find("unsupported family") != std::string::npos, error);
}

TEST_CASE("model: MTLoRA heads: an unknown kind is refused naming the task, a missing head object means hrnet") {
  const std::string aspp = golden_model_bytes("mtlora_aspp_small");
  const std::string edited = edit_header(aspp, "\\\"kind\\\":\\\"aspp\\\"", "\\\"kind\\\":\\\"fpn\\\"");
  std::unique_ptr<adarun::Model> model;
  const adarun::Status status = adarun::Model::load_memory(edited.data(), edited.size(), &model);
  CHECK(status.code() == adarun::StatusCode::kBadModel);
  CHECK(model == nullptr);
  CHECK_MESSAGE(status.message().find("task semseg: head: unknown head kind 'fpn'") != std::string::npos, status.message());
  // Hyper-parameters the tensors disagree with, or missing.
  std::string error = load_error(edit_header(aspp, "\\\"channels\\\":32", "\\\"channels\\\":16"));
  CHECK_MESSAGE(error.find("decoders.semseg.head.branch.0.weight has shape") != std::string::npos, error);
  error = load_error(edit_header(aspp, "\\\"rates\\\":[12,24,36]", "\\\"rates\\\":[12,24]"));
  CHECK_MESSAGE(error.find("decoders.semseg.head.project.weight has shape") != std::string::npos, error);
  error = load_error(edit_header(golden_model_bytes("mtlora_segformer_small"), "\\\"channels\\\":32", "\\\"width\\\":32"));
  CHECK_MESSAGE(error.find("task semseg: head: missing field channels") != std::string::npos, error);
  error = load_error(edit_header(golden_model_bytes("mtlora_updecoder_small"), "\\\"output_padding\\\":0", "\\\"output_padding\\\":2"));
  CHECK_MESSAGE(error.find("task semseg: head: deconv: output_padding must be less than stride") != std::string::npos, error);
  // Files written before the other heads existed have no head object: HRNet.
  const std::string hrnet = edit_header(golden_model_bytes("mtlora_matrix_small"), ",\\\"head\\\":{\\\"kind\\\":\\\"hrnet\\\"}", "");
  REQUIRE(adarun::Model::load_memory(hrnet.data(), hrnet.size(), &model).is_ok());
  CHECK(model->config().tasks[0].head.kind == adarun::HeadKind::kHrnet);
}
