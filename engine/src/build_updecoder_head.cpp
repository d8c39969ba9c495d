// MTLoRA's updecoder head (weights/FORMAT.md, "MTLoRA decoder heads"), one per requested task that has it: on the
// task's concatenated maps (as HRNet's), each transposed convolution -> ReLU (the research code's three take r0
// to the input size), the conv -> ReLU, one bilinear upsampling per factor (x2 then x2: 4 S), then bilinear to
// the input size (4 S down to S).
//
// Those last resizes are linear with fixed taps, and where the conv's output is S x S and every factor is 2 (or 1)
// their composition is the [1/8, 3/4, 1/8] blur per axis with replicated edges, one op at S x S instead of maps at
// 4 S. Per axis (torch's bilinear, align_corners=False: source (o + 0.5) * in / out - 0.5, clamped at 0, its upper
// tap clamped at in - 1; every scale here a power of two, so every tap and weight exact):
//  - x2 from n: a[2k] = x[k - 1] / 4 + 3 x[k] / 4, a[2k + 1] = 3 x[k] / 4 + x[k + 1] / 4, where x[-1] and x[n] are
//    x[0] and x[n - 1] (a[0]'s source -0.25 is clamped to 0, a[2n - 1]'s upper tap to n - 1: the same values).
//  - 2^m n -> n (m >= 1): output i's source is 2^m i + 2^(m-1) - 0.5 >= 0.5, never clamped: the mean of the two
//    middle pixels of its 2^m. After one x2 that is (a[2i] + a[2i + 1]) / 2 = x[i - 1] / 8 + 3 x[i] / 4 + x[i + 1] / 8.
//    After more x2s: those two pixels are b[2j + 1] = 3 c[j] / 4 + c[j + 1] / 4 and b[2j + 2] = c[j] / 4 + 3 c[j + 1] / 4
//    of the map c before the last x2 (j = 2^(m-2) (2i + 1) - 1, j + 1 in range: no clamping), whose mean is again
//    the mean of c's two middle pixels of output i's 2^(m-1): by induction, the blur.
//  - x1 is torch's identity (source o, weights 1 and 0).
// So for any n >= 1, odd or even, the first output is 7/8 x[0] + 1/8 x[1], the last 1/8 x[n - 2] + 7/8 x[n - 1]
// (n = 1: x[0]), and in 2D (rows and columns resized independently) the corner 49/64 x[0, 0] + 7/64 (x[0, 1] +
// x[1, 0]) + 1/64 x[1, 1]. The float chain rounds after each resize, the blur once: they differ by float rounding
// (tests/kernels/blur_test.cpp against the chain of reference resizes). Other factors ([4]: 1/16, 7/8, 1/16), or a
// conv output other than S, keep the chain. Resizes count no MACs either way.
#include <algorithm>

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
  // Exact as the blur (above): S x S into the resizes, every factor 1 or 2, at least one 2.
  const std::vector<int64_t>& factors = head.upsample;
  const bool blur = size == config.img_size && std::all_of(factors.begin(), factors.end(), [](int64_t f) { return f == 1 || f == 2; }) &&
                    std::count(factors.begin(), factors.end(), 2) > 0;
  if (blur) {
    b.blur(name + ".blur", x, outputs, size, size, output);
    return;
  }
  for (size_t k = 0; k < factors.size(); ++k) {
    const std::string upsample = name + ".upsample." + std::to_string(k);
    const int64_t out = size * factors[k];
    y = b.buffer(upsample, outputs * out * out);
    b.resize(OpCode::kResizeBilinear, upsample, x, outputs, size, size, out, out, y);
    x = y, size = out;
  }
  b.resize(OpCode::kResizeBilinear, name + ".resize", x, outputs, size, size, config.img_size, config.img_size, output);
}

}  // namespace adarun
