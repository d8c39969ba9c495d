#include "engine/src/macs.h"

namespace adarun::macs {

int64_t patch_embed(const ModelConfig& config) {
  const int64_t tokens = config.stages[0].tokens;
  return conv(config.in_chans, config.embed_dim, config.patch_size, 1, 1) * tokens;
}

int64_t block_attention(const StageGeometry& stage) {
  const int64_t qkv = stage.tokens * stage.dim * 3 * stage.dim;
  const int64_t products = 2 * stage.tokens * stage.window_tokens * stage.dim;
  const int64_t proj = stage.tokens * stage.dim * stage.dim;
  return qkv + products + proj;
}

int64_t block_mlp(const StageGeometry& stage, int64_t kept) { return 2 * kept * stage.dim * stage.mlp_hidden; }

int64_t patch_merging(const StageGeometry& stage) {
  return stage.merges ? stage.out_tokens * (4 * stage.dim) * (2 * stage.dim) : 0;
}

int64_t block_policy(const ModelConfig& config, const StageGeometry& stage) {
  const int64_t hidden = config.block_ctrl_dim;
  return stage.tokens * stage.dim * hidden + stage.tokens * hidden * stage.depth;
}

int64_t token_policy(const ModelConfig& config, const StageGeometry& stage) {
  const int64_t hidden = config.token_ctrl_dim;
  return stage.tokens * stage.dim * hidden + stage.tokens * hidden;
}

int64_t conv(int64_t in, int64_t out, int64_t kernel, int64_t out_height, int64_t out_width) {
  return out * in * kernel * kernel * out_height * out_width;
}

int64_t decoder(const ModelConfig& config, int64_t task_outputs) {
  const int64_t half = config.decoder_dim / 2;
  int64_t total = 0;
  for (const StageGeometry& stage : config.stages) {
    const int64_t r = stage.out_resolution;
    total += conv(stage.out_dim, half, 3, r, r) + conv(half, half, 3, r, r) + conv(stage.out_dim, half, 1, r, r);
    total += 2 * conv(half, half, 3, r, r);
  }
  const int64_t r0 = config.stages[0].out_resolution;
  return total + conv(kStages * half, half, 1, r0, r0) + conv(half, task_outputs, 1, r0, r0);
}

int64_t static_backbone(const ModelConfig& config) {
  int64_t total = patch_embed(config);
  for (const StageGeometry& stage : config.stages) {
    total += stage.depth * (block_attention(stage) + block_mlp(stage, stage.tokens)) + patch_merging(stage);
  }
  return total;
}

int64_t low_rank(int64_t tokens, int64_t in, int64_t out, int64_t rank) { return tokens * (in * rank + rank * out); }

int64_t task_stream(const ModelConfig& config, int stage_index, int task_index) {
  const StageGeometry& stage = config.stages[stage_index];
  const TaskBranches& branches = config.lora.branches[stage_index];
  if (!branches.any()) return 0;
  const int64_t rank = config.lora.task_ranks[task_index][stage_index];
  int64_t total = low_rank(stage.tokens, stage.mlp_hidden, stage.dim, rank) + patch_merging(stage);
  if (branches.proj) total += low_rank(stage.tokens, stage.dim, stage.dim, rank);
  if (branches.fc1) total += low_rank(stage.tokens, stage.dim, stage.mlp_hidden, rank);
  return total;
}

int64_t separate_shared_adapters(const ModelConfig& config, int stage_index) {
  const StageGeometry& stage = config.stages[stage_index];
  const TaskBranches& branches = config.lora.branches[stage_index];
  if (!config.lora.shared_separate || !branches.any()) return 0;
  const int64_t rank = config.lora.shared_ranks[stage_index];
  int64_t total = low_rank(stage.tokens, stage.mlp_hidden, stage.dim, rank);
  if (branches.proj) total += low_rank(stage.tokens, stage.dim, stage.dim, rank);
  if (branches.fc1) total += low_rank(stage.tokens, stage.dim, stage.mlp_hidden, rank);
  return total;
}

int64_t hrnet_decoder(const ModelConfig& config, int64_t task_outputs) {
  const int64_t r0 = config.stages[0].out_resolution;
  int64_t total = 0, channels = 0;
  const std::vector<int64_t>& hrnet = config.hrnet_channels();
  for (int i = 0; i < kStages; ++i) {
    const StageGeometry& stage = config.stages[i];
    if (!config.decoder_channels.empty()) total += conv(stage.out_dim, hrnet[i], 1, stage.out_resolution, stage.out_resolution);
    channels += hrnet[i];
  }
  return total + conv(channels, 4 * channels, 1, r0, r0) + conv(4 * channels, task_outputs, 1, r0, r0);
}

int64_t static_model(const ModelConfig& config, const std::vector<int>& task_indices) {
  int64_t total = static_backbone(config);
  for (int i = 0; i < kStages && config.is_mtlora(); ++i) total += separate_shared_adapters(config, i);
  for (int t : task_indices) {
    const int64_t outputs = config.tasks[t].outputs;
    if (!config.is_mtlora()) {
      total += decoder(config, outputs);
      continue;
    }
    total += hrnet_decoder(config, outputs);
    for (int i = 0; i < kStages; ++i) total += task_stream(config, i, t);
  }
  return total;
}

}  // namespace adarun::macs
