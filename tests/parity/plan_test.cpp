// The memory planner: buffers whose lifetimes overlap never share bytes, and ones that do not may. And what the
// builders choose: the updecoder head's resizes as one blur where that is exact.
#include <doctest/doctest.h>

#include "engine/src/build_plan.h"
#include "engine/src/memory_plan.h"
#include "tests/parity/golden_case.h"

namespace {

using adarun::Op;
using adarun::Plan;
using adarun::PlanBuffer;

Op op_over(int32_t x, int32_t y) {
  Op op;
  op.x.buffer = x;
  op.y.buffer = y;
  return op;
}

void check_no_overlap(const Plan& plan) {
  for (size_t i = 0; i < plan.buffers.size(); ++i) {
    const PlanBuffer& a = plan.buffers[i];
    if (a.first_op < 0) continue;
    CHECK(a.offset + a.floats <= plan.arena_floats);
    CHECK(a.offset % 16 == 0);  // 64-byte aligned
    for (size_t j = i + 1; j < plan.buffers.size(); ++j) {
      const PlanBuffer& b = plan.buffers[j];
      if (b.first_op < 0 || a.last_op < b.first_op || b.last_op < a.first_op) continue;
      CAPTURE(a.name);
      CAPTURE(b.name);
      CHECK((a.offset + a.floats <= b.offset || b.offset + b.floats <= a.offset));
    }
  }
}

}  // namespace

TEST_CASE("plan: a buffer whose lifetime follows another's takes its bytes; live ones never share") {
  Plan plan;
  for (const char* name : {"a", "b", "c", "out"}) plan.buffers.push_back(PlanBuffer{name, 100});
  plan.buffers[3].lives_to_end = true;
  plan.ops = {op_over(0, 1), op_over(1, 2), op_over(2, -1)};  // a: op 0; b: ops 0-1; c: ops 1-2; out: never used
  adarun::plan_memory(&plan);
  CHECK(plan.buffers[3].first_op == -1);
  CHECK(plan.arena_floats == 2 * 112);  // 100 floats rounded up to 64 bytes; c reuses a's bytes
  CHECK(plan.buffers[2].offset == plan.buffers[0].offset);
  CHECK(plan.buffers[1].offset != plan.buffers[0].offset);
  check_no_overlap(plan);
}

TEST_CASE("plan: the models' buffers alive at the same time never share bytes, for every task set") {
  for (const char* name : {"per_task_small", "mtlora_matrix_small", "nyud_small"}) {
    adarun::testing::GoldenCase golden;
    REQUIRE(adarun::testing::load_golden_case(name, &golden).is_ok());
    std::unique_ptr<adarun::Model> model;
    REQUIRE(adarun::Model::load_file(golden.directory + "/model.adarun", &model).is_ok());
    const int tasks = static_cast<int>(model->config().tasks.size());
    for (const std::vector<int>& task_set : std::vector<std::vector<int>>{{0}, {tasks - 1, 0}, {}}) {
      std::vector<int> indices = task_set;
      if (indices.empty()) {
        for (int t = 0; t < tasks; ++t) indices.push_back(t);
      }
      CAPTURE(name);
      CAPTURE(indices.size());
      const Plan plan = adarun::build_plan(*model, indices);
      check_no_overlap(plan);
      int64_t total = 0;
      for (const PlanBuffer& buffer : plan.buffers) total += buffer.floats;
      CHECK(plan.arena_floats < total);  // lifetimes shared something
    }
  }
}

namespace {

// The updecoder head's ops after its conv, per task: "blur" when one op blurs conv's S x S map into the task's
// output, "chain" when bilinear resizes (x2s and back to S) do, "?" otherwise.
std::vector<std::string> updecoder_tails(const std::string& bytes) {
  std::unique_ptr<adarun::Model> model;
  const adarun::Status status = adarun::Model::load_memory(bytes.data(), bytes.size(), &model);
  REQUIRE_MESSAGE(status.is_ok(), status.message());
  const adarun::ModelConfig& config = model->config();
  std::vector<int> tasks;
  for (int t = 0; t < static_cast<int>(config.tasks.size()); ++t) tasks.push_back(t);
  const Plan plan = adarun::build_plan(*model, tasks);
  std::vector<std::string> tails;
  for (int t : tasks) {
    const std::string head = config.tasks[t].name + ".head.";
    int blurs = 0, resizes = 0;
    bool blur_to_output = false;
    for (const Op& op : plan.ops) {
      if (op.name.rfind(head, 0) != 0) continue;
      if (op.code == adarun::OpCode::kBlur) {
        ++blurs;
        blur_to_output = op.y.buffer == plan.task_outputs[t] && op.map.h == config.img_size && op.map.w == config.img_size &&
                         op.map.channels == config.tasks[t].outputs && op.macs(op.rows) == 0;
      }
      if (op.code == adarun::OpCode::kResizeBilinear) ++resizes;
    }
    tails.push_back(blurs == 1 && blur_to_output && resizes == 0 ? "blur" : blurs == 0 && resizes >= 2 ? "chain" : "?");
  }
  return tails;
}

}  // namespace

TEST_CASE("plan: the updecoder's x2, x2 and 4 S -> S resizes are one blur at S when that is exact, else the chain") {
  using Tails = std::vector<std::string>;
  const std::string bytes = adarun::testing::read_bytes(adarun::testing::golden_directory("mtlora_updecoder_small") + "/model.adarun");
  REQUIRE(!bytes.empty());
  CHECK(updecoder_tails(bytes) == Tails{"blur", "blur", "blur", "blur"});
  // Each edit reaches the first task's head only: factors of 1 and 2 stay exact, others are not; nor is a conv
  // whose output is not S x S.
  const auto edited = [&](const char* from, const char* to) { return updecoder_tails(adarun::testing::edit_header(bytes, from, to)); };
  CHECK(edited("\\\"upsample\\\":[2,2]", "\\\"upsample\\\":[2,2,2]") == Tails{"blur", "blur", "blur", "blur"});
  CHECK(edited("\\\"upsample\\\":[2,2]", "\\\"upsample\\\":[1,2]") == Tails{"blur", "blur", "blur", "blur"});
  CHECK(edited("\\\"upsample\\\":[2,2]", "\\\"upsample\\\":[4]") == Tails{"chain", "blur", "blur", "blur"});
  CHECK(edited("\\\"upsample\\\":[2,2]", "\\\"upsample\\\":[2,3]") == Tails{"chain", "blur", "blur", "blur"});
  CHECK(edited("\\\"upsample\\\":[2,2]", "\\\"upsample\\\":[1]") == Tails{"chain", "blur", "blur", "blur"});  // no x2: S to S twice
  CHECK(edited("\\\"conv_padding\\\":1", "\\\"conv_padding\\\":0") == Tails{"chain", "blur", "blur", "blur"});
}
