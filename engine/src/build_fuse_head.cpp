// AdaMTL's decoder head (SPEC 2), one per requested task: per stage output two BasicBlocks to D/2 channels,
// nearest upsampling to stage 0's size, concatenation, a 1x1 conv head, bilinear to the input size.
#include "engine/src/build_plan.h"

namespace adarun {
namespace {

// relu(conv2(relu(conv1(x))) + shortcut(x)); with an identity shortcut and `in_place`, written over x. With
// `token_floats` > 0, x is a stage output whose tokens have that many floats: in a streamed plan the convolutions
// reading it are updated over its changed tokens (PlanBuilder::streamed_conv).
Operand emit_basic_block(PlanBuilder& b, const std::string& name, const BasicBlockWeights& block, Operand x, int64_t size, bool in_place,
                         int64_t token_floats = 0) {
  const int64_t count = block.conv2.out * size * size;
  auto conv_of_x = [&](const std::string& conv_name, const ConvWeights& conv, Operand y) {
    if (token_floats > 0) return b.streamed_conv(conv_name, conv, x, size, size, conv.kernel / 2, token_floats, y);
    b.conv(conv_name, conv, x, size, size, 1, conv.kernel / 2, y);
  };
  Operand a = b.buffer(name + ".conv1", block.conv1.out * size * size);
  conv_of_x(name + ".conv1", block.conv1, a);
  b.elementwise(OpCode::kRelu, name + ".relu1", Operand(), a, block.conv1.out * size * size);
  Operand c = b.buffer(name + ".conv2", count);
  b.conv(name + ".conv2", block.conv2, a, size, size, 1, block.conv2.kernel / 2, c);
  Operand out = x;
  if (block.shortcut.present()) {
    out = b.buffer(name + ".out", count);
    conv_of_x(name + ".shortcut", block.shortcut, out);
  } else if (!in_place) {
    out = b.buffer(name + ".out", count);
    b.elementwise(OpCode::kCopy, name + ".shortcut", x, out, count);
  }
  b.elementwise(OpCode::kAdd, name + ".residual", c, out, count);
  b.elementwise(OpCode::kRelu, name + ".relu2", Operand(), out, count);
  return out;
}

}  // namespace

void emit_fuse_head(PlanBuilder& b, int task, const StageOutputs& stages, Operand output) {
  const ModelConfig& config = b.config();
  const DecoderWeights& decoder = b.weights().decoders[task];
  const std::string name = config.tasks[task].name;
  const int64_t half = config.decoder_dim / 2;
  const int64_t r0 = config.stages[0].out_resolution;
  Operand concat = b.buffer(name + ".concat", kStages * half * r0 * r0);
  for (int i = 0; i < kStages; ++i) {
    // The token-major stage output is read as CHW [dim, r, r] with no transpose, as the research code's view does.
    const int64_t r = config.stages[i].out_resolution;
    const std::string branch = name + ".fuse" + std::to_string(i);
    Operand first = emit_basic_block(b, branch + ".block1", decoder.fuse[i].block1, stages.per_task[task][i], r, false,
                                     config.stages[i].out_dim);
    Operand second = emit_basic_block(b, branch + ".block2", decoder.fuse[i].block2, first, r, true);
    b.resize(OpCode::kResizeNearest, branch + ".upsample", second, half, r, r, r0, r0, PlanBuilder::slice(concat, i * half * r0 * r0));
  }
  emit_conv_head(b, name + ".head", decoder.head1, decoder.head2, concat, r0, output);
}

// Every head's end: conv1 -> ReLU -> conv2 (each padded to keep r0 x r0), then bilinear to the input size.
void emit_conv_head(PlanBuilder& b, const std::string& name, const ConvWeights& conv1, const ConvWeights& conv2, Operand x, int64_t r0,
                    Operand output) {
  const int64_t size = b.config().img_size, pixels = r0 * r0;
  Operand hidden = b.buffer(name + ".conv1", conv1.out * pixels);
  b.conv(name + ".conv1", conv1, x, r0, r0, 1, conv1.kernel / 2, hidden);
  b.elementwise(OpCode::kRelu, name + ".conv1.relu", Operand(), hidden, conv1.out * pixels);
  Operand logits = b.buffer(name + ".conv2", conv2.out * pixels);
  b.conv(name + ".conv2", conv2, hidden, r0, r0, 1, conv2.kernel / 2, logits);
  b.resize(OpCode::kResizeBilinear, name + ".upsample", logits, conv2.out, r0, r0, size, size, output);
}

}  // namespace adarun
