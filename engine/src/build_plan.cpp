#include "engine/src/build_plan.h"

#include "engine/src/memory_plan.h"

namespace adarun {
namespace {

// per_task policies are OR-ed over the requested tasks only (SPEC 2); a single policy serves all.
std::vector<int> active_policies(const ModelConfig& config, const std::vector<int>& tasks) {
  if (config.policy_mode == PolicyMode::kSingle) return {0};
  if (config.policy_mode == PolicyMode::kPerTask) return tasks;
  return {};
}

int64_t static_macs(const Plan& plan) {
  int64_t total = 0;
  for (const Op& op : plan.ops) {
    if (op.kind != OpKind::kPolicy) total += op.macs(op.rows);
  }
  return total;
}

// The tokens of each 2x2 cell of a stage's grid in patch merging's order: (even, even), (odd, even), (even, odd),
// (odd, odd) rows and columns (SPEC 1).
std::vector<int32_t> merge_cell_order(const StageGeometry& stage) {
  std::vector<int32_t> order;
  if (!stage.merges) return order;
  const int64_t r = stage.resolution;
  const int64_t parts[4][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}};
  for (int64_t y = 0; y < r / 2; ++y) {
    for (int64_t x = 0; x < r / 2; ++x) {
      for (const auto& part : parts) order.push_back(static_cast<int32_t>((2 * y + part[0]) * r + 2 * x + part[1]));
    }
  }
  return order;
}

}  // namespace

Plan build_plan(const Model& model, const std::vector<int>& tasks, bool streaming) {
  const ModelConfig& config = model.config();
  Plan plan;
  plan.tasks = tasks;
  plan.policies = active_policies(config, tasks);
  for (const StageGeometry& stage : config.stages) {
    plan.windows.push_back(make_window_plan(stage));
    plan.merge_cells.push_back(merge_cell_order(stage));
  }
  PlanBuilder builder(model, model.isa(), streaming, &plan);
  StageOutputs stages;
  emit_backbone(builder, &stages);
  plan.task_outputs.assign(config.tasks.size(), -1);
  for (int t : tasks) {
    Operand output = builder.buffer(config.tasks[t].name + ".output", config.tasks[t].outputs * config.img_size * config.img_size);
    plan.buffers[output.buffer].lives_to_end = true;
    plan.task_outputs[t] = output.buffer;
    if (!config.is_mtlora()) {
      emit_fuse_head(builder, t, stages, output);
      continue;
    }
    switch (config.tasks[t].head.kind) {
      case HeadKind::kHrnet: emit_hrnet_head(builder, t, stages, output); break;
      case HeadKind::kAspp: emit_aspp_head(builder, t, stages, output); break;
      case HeadKind::kSegformer: emit_segformer_head(builder, t, stages, output); break;
      case HeadKind::kUpdecoder: emit_updecoder_head(builder, t, stages, output); break;
    }
  }
  mark_change_tests(&plan);
  plan.static_macs = static_macs(plan);
  plan_memory(&plan);
  return plan;
}

}  // namespace adarun
