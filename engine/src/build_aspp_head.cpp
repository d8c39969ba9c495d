// MTLoRA's ASPP head (DeepLabV3; weights/FORMAT.md, "MTLoRA decoder heads"), one per requested task that has it:
// on the task's concatenated maps (as HRNet's, C channels at r0 x r0), W-channel branches written side by side
// into one buffer: a 1x1, one 3x3 per rate (dilation and padding the rate), and a 1x1 on the channel means
// broadcast to every pixel; one ReLU over them all; then project (1x1) -> ReLU -> conv1 (3x3) -> ReLU ->
// conv2 (1x1), bilinear to the input size.
#include "engine/src/build_plan.h"

namespace adarun {

void emit_aspp_head(PlanBuilder& b, int task, const StageOutputs& stages, Operand output) {
  const ModelConfig& config = b.config();
  const HeadConfig& head = config.tasks[task].head;
  const AsppHeadWeights& aspp = b.weights().decoders[task].aspp;
  const std::string name = config.tasks[task].name + ".head";
  const int64_t r0 = config.stages[0].out_resolution, pixels = r0 * r0, width = head.channels;
  const int64_t channels = aspp.pool.in;
  Operand concat = emit_task_concat(b, task, stages);

  const int64_t count = static_cast<int64_t>(aspp.branches.size()) + 1;  // and the pooled one, last
  Operand branches = b.buffer(name + ".branches", count * width * pixels);
  for (size_t i = 0; i < aspp.branches.size(); ++i) {
    const int64_t rate = i == 0 ? 1 : head.rates[i - 1];
    const int64_t pad = i == 0 ? 0 : rate;
    b.conv(name + ".branch." + std::to_string(i), aspp.branches[i], concat, r0, r0, 1, pad,
           PlanBuilder::slice(branches, static_cast<int64_t>(i) * width * pixels), rate);
  }
  Operand mean = b.buffer(name + ".pool.mean", channels);
  b.channel_mean(name + ".pool.mean", concat, channels, pixels, mean);
  Operand pooled = b.buffer(name + ".pool", width);
  b.conv(name + ".pool", aspp.pool, mean, 1, 1, 1, 0, pooled);
  b.broadcast(name + ".pool.broadcast", pooled, width, pixels, PlanBuilder::slice(branches, (count - 1) * width * pixels));
  b.elementwise(OpCode::kRelu, name + ".branches.relu", Operand(), branches, count * width * pixels);

  Operand projected = b.buffer(name + ".project", width * pixels);
  b.conv(name + ".project", aspp.project, branches, r0, r0, 1, 0, projected);
  b.elementwise(OpCode::kRelu, name + ".project.relu", Operand(), projected, width * pixels);
  emit_conv_head(b, name, aspp.conv1, aspp.conv2, projected, r0, output);
}

}  // namespace adarun
