// MTLoRA's updecoder head (weights/FORMAT.md, "MTLoRA decoder heads"), one per requested task that has it: on the
// task's concatenated maps (as HRNet's), each transposed convolution -> ReLU (the research code's three take r0
// to the input size), the conv -> ReLU, one bilinear upsampling per factor (x2 then x2: 4 S), then bilinear to
// the input size (4 S down to S).
#include "engine/src/build_plan.h"

namespace adarun {

void emit_updecoder_head(PlanBuilder& b, int task, const StageOutputs& stages, Operand output) {
  const ModelConfig& config = b.config();
  const HeadConfig& head = config.tasks[task].head;
  const UpdecoderHeadWeights& updecoder = b.weights().decoders[task].updecoder;
  const std::string name = config.tasks[task].name + ".head";
  Operand x = emit_task_concat(b, task, stages);
  int64_t size = config.stages[0].out_resolution;
  for (size_t j = 0; j < head.deconv.size(); ++j) {
    const DeconvLayer& layer = head.deconv[j];
    const std::string deconv = name + ".deconv." + std::to_string(j);
    const int64_t out = layer.out_size(size);
    Operand y = b.buffer(deconv, layer.channels * out * out);
    b.conv_transpose(deconv, updecoder.deconv[j], x, size, size, layer.stride, layer.padding, layer.output_padding, y);
    b.elementwise(OpCode::kRelu, deconv + ".relu", Operand(), y, layer.channels * out * out);
    x = y, size = out;
  }
  const int64_t outputs = updecoder.conv.out;
  const int64_t conv_size = size + 2 * head.conv_padding - head.conv_kernel + 1;
  Operand y = b.buffer(name + ".conv", outputs * conv_size * conv_size);
  b.conv(name + ".conv", updecoder.conv, x, size, size, 1, head.conv_padding, y);
  b.elementwise(OpCode::kRelu, name + ".conv.relu", Operand(), y, outputs * conv_size * conv_size);
  x = y, size = conv_size;
  for (size_t k = 0; k < head.upsample.size(); ++k) {
    const std::string upsample = name + ".upsample." + std::to_string(k);
    const int64_t out = size * head.upsample[k];
    y = b.buffer(upsample, outputs * out * out);
    b.resize(OpCode::kResizeBilinear, upsample, x, outputs, size, size, out, out, y);
    x = y, size = out;
  }
  b.resize(OpCode::kResizeBilinear, name + ".resize", x, outputs, size, size, config.img_size, config.img_size, output);
}

}  // namespace adarun
