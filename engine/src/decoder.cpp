// The scheduler's decoder half (SPEC 2): one decoder per requested task over the four stage outputs.
#include "engine/src/layers.h"
#include "engine/src/macs.h"
#include "engine/src/session.h"
#include "engine/src/workspace.h"

namespace adarun {
namespace {

// Same-size convolution (3x3 pad 1 or 1x1) of a CHW map; returns its MACs.
int64_t conv_same(const layers::Compute& compute, const ConvWeights& conv, const float* x, int64_t size, float* scratch, float* y) {
  layers::conv2d(compute, conv, x, size, size, 1, conv.kernel / 2, scratch, y);
  return macs::conv(conv.in, conv.out, conv.kernel, size, size);
}

// relu(conv2(relu(conv1(x))) + shortcut(x)) into `out`, using `a` and `b` as scratch; `out` may equal `x`
// only for an identity shortcut.
int64_t basic_block(const layers::Compute& compute, const BasicBlockWeights& block, const float* x, int64_t size, Workspace& w, float* out) {
  int64_t macs = conv_same(compute, block.conv1, x, size, w.im2col, w.conv_a);
  layers::relu(compute, w.conv_a, block.conv1.out * size * size);
  macs += conv_same(compute, block.conv2, w.conv_a, size, w.im2col, w.conv_b);
  const int64_t count = block.conv2.out * size * size;
  if (block.shortcut.weight) {
    macs += conv_same(compute, block.shortcut, x, size, w.im2col, out);
  } else if (out != x) {
    layers::copy(compute, x, count, out);
  }
  layers::add(compute, out, w.conv_b, count);
  layers::relu(compute, out, count);
  return macs;
}

}  // namespace

// MTLoRA (SPEC 3): each stage output of the task viewed properly ([r, r, dim] -> CHW), through the
// task's 1x1 downsampler when it has one, bilinear to stage 0's size, concatenated; then the HRNet head.
void Session::run_hrnet_decoder(int task_index) {
  const ModelConfig& config = model_.config();
  const DecoderWeights& decoder = model_.weights().decoders[task_index];
  Workspace& w = *workspace_;
  const int64_t r0 = config.stages[0].out_resolution;
  const std::vector<int64_t>& channels = config.hrnet_channels();
  int64_t macs = 0;
  float* slice = w.concat;
  for (int i = 0; i < kStages; ++i) {
    const StageGeometry& stage = config.stages[i];
    const int64_t r = stage.out_resolution;
    layers::transpose(compute_, w.task_stage_out[task_index][i], stage.out_tokens, stage.out_dim, w.hrnet_map);
    const float* map = w.hrnet_map;
    if (decoder.downsample[i].weight) {
      macs += conv_same(compute_, decoder.downsample[i], w.hrnet_map, r, w.im2col, w.conv_a);
      map = w.conv_a;
    }
    layers::resize_bilinear(compute_, map, channels[i], r, r, r0, r0, slice);
    slice += channels[i] * r0 * r0;
  }
  macs += conv_same(compute_, decoder.head1, w.concat, r0, w.im2col, w.head_hidden);
  layers::relu(compute_, w.head_hidden, decoder.head1.out * r0 * r0);
  macs += conv_same(compute_, decoder.head2, w.head_hidden, r0, w.im2col, w.head_out);
  layers::resize_bilinear(compute_, w.head_out, decoder.head2.out, r0, r0, config.img_size, config.img_size, w.outputs[task_index]);
  stats_.macs_executed += macs;
}

void Session::run_decoder(int task_index) {
  const ModelConfig& config = model_.config();
  if (config.is_mtlora()) return run_hrnet_decoder(task_index);
  const DecoderWeights& decoder = model_.weights().decoders[task_index];
  Workspace& w = *workspace_;
  const int64_t half = config.decoder_dim / 2;
  const int64_t r0 = config.stages[0].out_resolution;
  int64_t macs = 0;
  for (int i = 0; i < kStages; ++i) {
    // The token-major stage output is read as CHW [dim, r, r] with no transpose, as the research code's view does.
    const int64_t r = config.stages[i].out_resolution;
    macs += basic_block(compute_, decoder.fuse[i].block1, w.stage_out[i], r, w, w.conv_c);
    macs += basic_block(compute_, decoder.fuse[i].block2, w.conv_c, r, w, w.conv_c);
    layers::resize_nearest(compute_, w.conv_c, half, r, r, r0, r0, w.concat + i * half * r0 * r0);
  }
  macs += conv_same(compute_, decoder.head1, w.concat, r0, w.im2col, w.head_hidden);
  layers::relu(compute_, w.head_hidden, half * r0 * r0);
  macs += conv_same(compute_, decoder.head2, w.head_hidden, r0, w.im2col, w.head_out);
  layers::resize_bilinear(compute_, w.head_out, decoder.head2.out, r0, r0, config.img_size, config.img_size, w.outputs[task_index]);
  stats_.macs_executed += macs;
}

}  // namespace adarun
