#include "engine/src/workspace.h"

#include <algorithm>
#include <utility>

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
    m.scores = std::max(m.scores, stage.window_tokens * stage.window_tokens);
    m.policy_hidden = std::max(m.policy_hidden, stage.tokens * hidden);
    m.tokens = std::max(m.tokens, stage.tokens);
    m.depth = std::max(m.depth, stage.depth);
  }
  return m;
}

int64_t im2col_floats(const ModelConfig& config) {
  const int64_t patch = config.patch_size;
  int64_t floats = ref::conv2d_scratch_floats(config.in_chans, config.img_size, config.img_size, patch, patch, 0);
  const int64_t half = config.decoder_dim / 2;
  for (const StageGeometry& stage : config.stages) {
    const int64_t r = stage.out_resolution;
    floats = std::max(floats, ref::conv2d_scratch_floats(std::max(stage.out_dim, half), r, r, 3, 1, 1));
  }
  return floats;
}

}  // namespace

bool create_workspace(const ModelConfig& config, Arena* arena, Workspace* w) {
  const BackboneMaxima m = backbone_maxima(config);
  const int64_t half = config.decoder_dim / 2;
  const int64_t r0 = config.stages[0].out_resolution;
  int64_t max_outputs = 0;
  for (const TaskInfo& task : config.tasks) max_outputs = std::max(max_outputs, task.outputs);

  std::vector<std::pair<float**, int64_t>> buffers = {
      {&w->x, m.activations},          {&w->normed, m.activations},     {&w->windows, m.activations},
      {&w->qkv, m.qkv},                {&w->attention, m.activations},  {&w->projected, m.activations},
      {&w->mlp_rows, m.activations},   {&w->mlp_hidden, m.mlp_hidden},  {&w->mlp_out, m.activations},
      {&w->scores, m.scores},          {&w->merge, m.activations},      {&w->policy_hidden, m.policy_hidden},
      {&w->policy_logits, std::max(m.tokens, m.depth)},                 {&w->im2col, im2col_floats(config)},
      {&w->conv_a, half * r0 * r0},    {&w->conv_b, half * r0 * r0},    {&w->conv_c, half * r0 * r0},
      {&w->concat, kStages * half * r0 * r0},                           {&w->head_hidden, half * r0 * r0},
      {&w->head_out, max_outputs * r0 * r0},
  };
  for (int i = 0; i < kStages; ++i) buffers.push_back({&w->stage_out[i], config.stages[i].out_tokens * config.stages[i].out_dim});
  w->outputs.assign(config.tasks.size(), nullptr);
  for (size_t t = 0; t < config.tasks.size(); ++t) {
    buffers.push_back({&w->outputs[t], config.tasks[t].outputs * config.img_size * config.img_size});
  }

  std::vector<size_t> handles;
  for (const auto& buffer : buffers) handles.push_back(arena->reserve(buffer.second));
  if (!arena->allocate()) return false;
  for (size_t i = 0; i < buffers.size(); ++i) *buffers[i].first = arena->at(handles[i]);

  w->token_mask.assign(m.tokens, 0);
  w->policy_mask.assign(m.tokens, 0);
  w->kept_index.assign(m.tokens, 0);
  w->block_gates.assign(m.depth, 0);
  return true;
}

}  // namespace adarun
