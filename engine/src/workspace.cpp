#include "engine/src/workspace.h"

#include <algorithm>
#include <utility>

#include "kernels/attention.h"
#include "kernels/conv.h"
#include "kernels/ref/conv2d.h"

namespace adarun {
namespace {

struct BackboneMaxima {
  int64_t activations = 0;  // tokens * dim
  int64_t qkv = 0;
  int64_t mlp_hidden = 0;
  int64_t scores = 0;
  int64_t policy_hidden = 0;
  int64_t tokens = 0;
  int64_t depth = 0;
};

BackboneMaxima backbone_maxima(const ModelConfig& config) {
  BackboneMaxima m;
  const int64_t hidden = std::max(config.block_ctrl_dim, config.token_ctrl_dim);
  for (const StageGeometry& stage : config.stages) {
    m.activations = std::max(m.activations, stage.tokens * stage.dim);
    m.qkv = std::max(m.qkv, stage.tokens * 3 * stage.dim);
    m.mlp_hidden = std::max(m.mlp_hidden, stage.tokens * stage.mlp_hidden);
    m.scores = std::max(m.scores, kMaxAttentionChunks * window_attention_scratch_floats(stage.window_tokens, stage.head_dim));
    m.policy_hidden = std::max(m.policy_hidden, stage.tokens * hidden);
    m.tokens = std::max(m.tokens, stage.tokens);
    m.depth = std::max(m.depth, stage.depth);
  }
  return m;
}

bool any_fork(const ModelConfig& config) {
  for (const TaskBranches& branches : config.lora.branches) {
    if (branches.any()) return true;
  }
  return false;
}

int64_t max_rank(const ModelConfig& config) {
  int64_t rank = 0;
  for (int i = 0; i < kStages; ++i) {
    rank = std::max(rank, config.lora.shared_ranks[i]);
    for (const auto& task : config.lora.task_ranks) rank = std::max(rank, task[i]);
  }
  return rank;
}

// Decoder buffers: AdaMTL fuse branches and head, or MTLoRA's HRNet concat and head.
struct DecoderSizes {
  int64_t conv = 0, concat = 0, head_hidden = 0, map = 0;
};

DecoderSizes decoder_sizes(const ModelConfig& config) {
  const int64_t r0 = config.stages[0].out_resolution;
  DecoderSizes sizes;
  if (!config.is_mtlora()) {
    const int64_t half = config.decoder_dim / 2;
    return {half * r0 * r0, kStages * half * r0 * r0, half * r0 * r0, 0};
  }
  int64_t channels = 0;
  for (int64_t c : config.hrnet_channels()) channels += c;
  for (const StageGeometry& stage : config.stages) sizes.map = std::max(sizes.map, stage.out_tokens * stage.out_dim);
  sizes.conv = sizes.map;
  sizes.concat = channels * r0 * r0;
  sizes.head_hidden = 4 * channels * r0 * r0;
  return sizes;
}

// Convolution scratch: the reference's im2col, or the unfolding GEMM's on the fast paths.
int64_t conv_scratch_floats(Isa isa, int64_t cin, int64_t size, int64_t k, int64_t stride = 1) {
  const int64_t pad = stride == 1 ? k / 2 : 0;
  if (isa == Isa::kReference) return ref::conv2d_scratch_floats(cin, size, size, k, stride, pad);
  ConvArgs shape;
  shape.cin = cin, shape.h = size, shape.w = size, shape.kernel = k, shape.stride = stride, shape.pad = pad;
  return adarun::conv_scratch_floats(isa, shape, kMaxConvChunks);
}

int64_t im2col_floats(const ModelConfig& config, Isa isa) {
  const int64_t patch = config.patch_size;
  int64_t floats = conv_scratch_floats(isa, config.in_chans, config.img_size, patch, patch);
  const int64_t half = config.decoder_dim / 2;
  const std::vector<int64_t>& hrnet = config.hrnet_channels();
  int64_t hrnet_total = 0;
  for (int64_t c : hrnet) hrnet_total += c;
  const int64_t r0 = config.stages[0].out_resolution;
  for (const StageGeometry& stage : config.stages) {
    const int64_t r = stage.out_resolution;
    if (config.is_mtlora()) {
      floats = std::max(floats, conv_scratch_floats(isa, stage.out_dim, r, 1));
    } else {
      floats = std::max(floats, conv_scratch_floats(isa, std::max(stage.out_dim, half), r, 3));
    }
  }
  if (config.is_mtlora()) floats = std::max(floats, conv_scratch_floats(isa, 4 * hrnet_total, r0, 1));
  if (!config.is_mtlora()) floats = std::max(floats, conv_scratch_floats(isa, kStages * half, r0, 1));
  return floats;
}

}  // namespace

bool create_workspace(const ModelConfig& config, Isa isa, Arena* arena, Workspace* w) {
  const BackboneMaxima m = backbone_maxima(config);
  const DecoderSizes d = decoder_sizes(config);
  const int64_t r0 = config.stages[0].out_resolution;
  const int64_t fork = any_fork(config) ? 1 : 0;  // MTLoRA buffers cost nothing elsewhere
  int64_t max_outputs = 0;
  for (const TaskInfo& task : config.tasks) max_outputs = std::max(max_outputs, task.outputs);

  std::vector<std::pair<float**, int64_t>> buffers = {
      {&w->x, m.activations},          {&w->normed, m.activations},     {&w->windows, m.activations},
      {&w->qkv, m.qkv},                {&w->attention, m.activations},  {&w->projected, m.activations},
      {&w->mlp_rows, m.activations},   {&w->mlp_hidden, m.mlp_hidden},  {&w->mlp_out, m.activations},
      {&w->scores, m.scores},          {&w->merge, m.activations},      {&w->policy_hidden, m.policy_hidden},
      {&w->policy_logits, std::max(m.tokens, m.depth)}, {&w->gate_logits, std::max(m.tokens, m.depth)},                 {&w->im2col, im2col_floats(config, isa)},
      {&w->conv_a, d.conv},            {&w->conv_b, d.conv},            {&w->conv_c, d.conv},
      {&w->concat, d.concat},          {&w->head_hidden, d.head_hidden}, {&w->hrnet_map, d.map},
      {&w->head_out, max_outputs * r0 * r0},
      {&w->shared_attention, fork * m.activations}, {&w->shared_stream, fork * m.activations},
      {&w->fc1_base, fork * m.mlp_hidden},          {&w->fc2_base, fork * m.activations},
      {&w->task_attention, fork * m.activations},   {&w->task_stream, fork * m.activations},
      {&w->task_normed, fork * m.activations},      {&w->task_hidden, fork * m.mlp_hidden},
      {&w->task_mlp_out, fork * m.activations},     {&w->rank_scratch, fork * m.tokens * max_rank(config)},
      {&w->low_rank_out, fork * m.mlp_hidden},
  };
  for (int i = 0; i < kStages; ++i) buffers.push_back({&w->stage_out[i], config.stages[i].out_tokens * config.stages[i].out_dim});
  w->outputs.assign(config.tasks.size(), nullptr);
  w->task_stage_out.assign(config.tasks.size(), {});
  for (size_t t = 0; t < config.tasks.size(); ++t) {
    for (int i = 0; i < kStages; ++i) {
      if (config.lora.branches[i].any()) {
        buffers.push_back({&w->task_stage_out[t][i], config.stages[i].out_tokens * config.stages[i].out_dim});
      }
    }
  }
  for (size_t t = 0; t < config.tasks.size(); ++t) {
    buffers.push_back({&w->outputs[t], config.tasks[t].outputs * config.img_size * config.img_size});
  }

  std::vector<size_t> handles;
  for (const auto& buffer : buffers) handles.push_back(arena->reserve(buffer.second));
  if (!arena->allocate()) return false;
  for (size_t i = 0; i < buffers.size(); ++i) *buffers[i].first = arena->at(handles[i]);
  for (auto& stages : w->task_stage_out) {
    for (int i = 0; i < kStages; ++i) {
      if (!stages[i]) stages[i] = w->stage_out[i];
    }
  }

  w->token_mask.assign(m.tokens, 0);
  w->policy_mask.assign(m.tokens, 0);
  w->kept_index.assign(m.tokens, 0);
  w->block_gates.assign(m.depth, 0);
  w->gate_order.assign(std::max(m.tokens, m.depth), 0);
  return true;
}

}  // namespace adarun
