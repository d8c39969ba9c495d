// MTLoRA's HRNet head (SPEC 3), one per requested task: each of the task's stage outputs viewed properly
// ([r, r, dim] -> CHW), through the task's 1x1 downsampler when it has one, bilinear to stage 0's size,
// concatenated; then the conv head.
#include "engine/src/build_plan.h"

namespace adarun {

void emit_hrnet_head(PlanBuilder& b, int task, const StageOutputs& stages, Operand output) {
  const ModelConfig& config = b.config();
  const DecoderWeights& decoder = b.weights().decoders[task];
  const std::string name = config.tasks[task].name;
  const int64_t r0 = config.stages[0].out_resolution;
  const std::vector<int64_t>& channels = config.hrnet_channels();
  int64_t total = 0;
  for (int64_t c : channels) total += c;
  Operand concat = b.buffer(name + ".concat", total * r0 * r0);
  int64_t offset = 0;
  for (int i = 0; i < kStages; ++i) {
    const StageGeometry& stage = config.stages[i];
    const int64_t r = stage.out_resolution;
    const std::string branch = name + ".stage" + std::to_string(i);
    Operand map = b.buffer(branch + ".chw", stage.out_tokens * stage.out_dim);
    b.transpose(branch + ".chw", stages.per_task[task][i], stage.out_tokens, stage.out_dim, map);
    if (decoder.downsample[i].weight) {
      Operand reduced = b.buffer(branch + ".downsample", channels[i] * r * r);
      b.conv(branch + ".downsample", decoder.downsample[i], map, r, r, 1, 0, reduced);
      map = reduced;
    }
    b.resize(OpCode::kResizeBilinear, branch + ".upsample", map, channels[i], r, r, r0, r0, PlanBuilder::slice(concat, offset));
    offset += channels[i] * r0 * r0;
  }
  emit_conv_head(b, name, decoder, concat, r0, output);
}

}  // namespace adarun
