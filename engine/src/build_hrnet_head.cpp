// MTLoRA's HRNet head (SPEC 3), one per requested task: each of the task's stage outputs viewed properly
// ([r, r, dim] -> CHW), through the task's 1x1 downsampler when it has one, bilinear to stage 0's size,
// concatenated; then the conv head. The maps and their concatenation serve the ASPP and updecoder heads too.
#include "engine/src/build_plan.h"

namespace adarun {

Operand emit_task_map(PlanBuilder& b, int task, int stage_index, const StageOutputs& stages) {
  const ModelConfig& config = b.config();
  const DecoderWeights& decoder = b.weights().decoders[task];
  const StageGeometry& stage = config.stages[stage_index];
  const int64_t r = stage.out_resolution;
  const std::string branch = config.tasks[task].name + ".stage" + std::to_string(stage_index);
  Operand map = b.buffer(branch + ".chw", stage.out_tokens * stage.out_dim);
  b.transpose(branch + ".chw", stages.per_task[task][stage_index], stage.out_tokens, stage.out_dim, map);
  if (decoder.downsample[stage_index].present()) {
    Operand reduced = b.buffer(branch + ".downsample", config.hrnet_channels()[stage_index] * r * r);
    b.conv(branch + ".downsample", decoder.downsample[stage_index], map, r, r, 1, 0, reduced);
    map = reduced;
  }
  return map;
}

Operand emit_task_concat(PlanBuilder& b, int task, const StageOutputs& stages) {
  const ModelConfig& config = b.config();
  const std::string name = config.tasks[task].name;
  const int64_t r0 = config.stages[0].out_resolution;
  const std::vector<int64_t>& channels = config.hrnet_channels();
  int64_t total = 0;
  for (int64_t c : channels) total += c;
  Operand concat = b.buffer(name + ".concat", total * r0 * r0);
  int64_t offset = 0;
  for (int i = 0; i < kStages; ++i) {
    const int64_t r = config.stages[i].out_resolution;
    Operand map = emit_task_map(b, task, i, stages);
    b.resize(OpCode::kResizeBilinear, name + ".stage" + std::to_string(i) + ".upsample", map, channels[i], r, r, r0, r0,
             PlanBuilder::slice(concat, offset));
    offset += channels[i] * r0 * r0;
  }
  return concat;
}

void emit_hrnet_head(PlanBuilder& b, int task, const StageOutputs& stages, Operand output) {
  const ModelConfig& config = b.config();
  Operand concat = emit_task_concat(b, task, stages);
  const DecoderWeights& decoder = b.weights().decoders[task];
  emit_conv_head(b, config.tasks[task].name + ".head", decoder.head1, decoder.head2, concat, config.stages[0].out_resolution, output);
}

}  // namespace adarun
