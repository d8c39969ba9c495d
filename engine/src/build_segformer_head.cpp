// MTLoRA's SegFormer head (weights/FORMAT.md, "MTLoRA decoder heads"), one per requested task that has it: each of
// the task's maps (as HRNet's, before upsampling) through its own per-pixel linear (a 1x1 conv) to E channels at
// its own size, maps 1..3 then bilinear to r0, concatenated in stage order (the converter reordered conv1's
// inputs so) -> conv1 (1x1) -> ReLU -> conv2 (1x1), bilinear to the input size.
#include "engine/src/build_plan.h"

namespace adarun {

void emit_segformer_head(PlanBuilder& b, int task, const StageOutputs& stages, Operand output) {
  const ModelConfig& config = b.config();
  const SegformerHeadWeights& segformer = b.weights().decoders[task].segformer;
  const std::string name = config.tasks[task].name + ".head";
  const int64_t r0 = config.stages[0].out_resolution, pixels = r0 * r0, width = config.tasks[task].head.channels;
  Operand concat = b.buffer(name + ".concat", kStages * width * pixels);
  for (int i = 0; i < kStages; ++i) {
    const int64_t r = config.stages[i].out_resolution;
    const std::string linear = name + ".linear." + std::to_string(i);
    Operand map = emit_task_map(b, task, i, stages);
    Operand slice = PlanBuilder::slice(concat, i * width * pixels);
    if (i == 0) {  // stage 0 is at r0 already: written in place, not resized (as the research code)
      b.conv(linear, segformer.linear[i], map, r, r, 1, 0, slice);
      continue;
    }
    Operand embedded = b.buffer(linear, width * r * r);
    b.conv(linear, segformer.linear[i], map, r, r, 1, 0, embedded);
    b.resize(OpCode::kResizeBilinear, linear + ".upsample", embedded, width, r, r, r0, r0, slice);
  }
  emit_conv_head(b, name, segformer.conv1, segformer.conv2, concat, r0, output);
}

}  // namespace adarun
