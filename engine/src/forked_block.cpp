// MTLoRA's last block of a stage (SPEC 3): attention once on the shared stream, the full-rank
// products once, and per task only its low-rank adapters, norms, activations and patch merging.
//   shared: a = P0 + S_p(att);  u = x + a;  h = GELU(F1 + S_1(LN2 u));  x' = u + F2 + S_2(h)
//   task t: u_t = x + P0 + T_p(att);  h_t = GELU(F1 + T_1(LN2 u_t));  stream_t = u_t + F2 + T_2(h_t)
// with P0 = W_p att + b_p, F1 = W_1 LN2(u) + b_1, F2 = W_2 h + b_2 (shared inputs), S the shared
// adapters kept apart ('matrix' mode) and T the task adapters. A layer that does not fork gives its
// shared result instead, and without a proj fork the research code drops u_t from the stream.
#include <cstring>

#include "engine/src/layers.h"
#include "engine/src/macs.h"
#include "engine/src/session.h"
#include "engine/src/workspace.h"

namespace adarun {

using layers::add_low_rank;
using layers::layer_norm;
using layers::linear;

void Session::run_forked_block(int stage_index, int block_index) {
  const ModelConfig& config = model_.config();
  const StageGeometry& stage = config.stages[stage_index];
  const BlockWeights& block = model_.weights().stages[stage_index].blocks[block_index];
  Workspace& w = *workspace_;
  const int64_t tokens = stage.tokens, dim = stage.dim, hidden = stage.mlp_hidden;

  attend(stage_index, block_index);
  linear(compute_, w.attention, tokens, block.proj, w.projected);  // P0
  layers::copy(compute_, w.projected, tokens * dim, w.shared_attention);
  add_low_rank(compute_, w.attention, tokens, dim, block.proj_fork.shared, dim, w.rank_scratch, w.low_rank_out, w.shared_attention);
  layers::copy(compute_, w.x, tokens * dim, w.shared_stream);
  layers::scatter_add_rows(compute_, w.shared_attention, window_order(stage_index, block_index), tokens, dim, w.shared_stream);

  layer_norm(compute_, w.shared_stream, tokens, dim, block.norm2, w.normed);
  linear(compute_, w.normed, tokens, block.fc1, w.fc1_base);  // F1
  layers::copy(compute_, w.fc1_base, tokens * hidden, w.mlp_hidden);
  add_low_rank(compute_, w.normed, tokens, dim, block.fc1_fork.shared, hidden, w.rank_scratch, w.low_rank_out, w.mlp_hidden);
  layers::gelu(compute_, w.mlp_hidden, tokens * hidden);
  linear(compute_, w.mlp_hidden, tokens, block.fc2, w.fc2_base);  // F2
  layers::copy(compute_, w.fc2_base, tokens * dim, w.mlp_out);
  add_low_rank(compute_, w.mlp_hidden, tokens, hidden, block.fc2_fork.shared, dim, w.rank_scratch, w.low_rank_out, w.mlp_out);

  for (int t : task_indices_) run_task_stream(stage_index, block, t);

  layers::copy(compute_, w.shared_stream, tokens * dim, w.x);
  layers::add(compute_, w.x, w.mlp_out, tokens * dim);
  stats_.macs_executed += macs::block_attention(stage) + macs::block_mlp(stage, tokens) +
                          macs::separate_shared_adapters(config, stage_index);
}

// One task's stream through the forked block, then patch merged into the task's stage output.
void Session::run_task_stream(int stage_index, const BlockWeights& block, int t) {
  const ModelConfig& config = model_.config();
  const StageGeometry& stage = config.stages[stage_index];
  Workspace& w = *workspace_;
  const int64_t tokens = stage.tokens, dim = stage.dim, hidden = stage.mlp_hidden;
  const int block_index = static_cast<int>(stage.depth - 1);

  const float* mlp_input = w.normed;  // LN2(u) unless proj forks
  if (block.proj_fork.forks()) {
    layers::copy(compute_, w.projected, tokens * dim, w.task_attention);
    add_low_rank(compute_, w.attention, tokens, dim, block.proj_fork.tasks[t], dim, w.rank_scratch, w.low_rank_out, w.task_attention);
    layers::copy(compute_, w.x, tokens * dim, w.task_stream);
    layers::scatter_add_rows(compute_, w.task_attention, window_order(stage_index, block_index), tokens, dim, w.task_stream);
    layer_norm(compute_, w.task_stream, tokens, dim, block.norm2, w.task_normed);
    mlp_input = w.task_normed;
  } else {
    std::memset(w.task_stream, 0, sizeof(float) * tokens * dim);
  }
  const float* fc2_input = w.mlp_hidden;  // the shared activation unless fc1 forks
  if (block.fc1_fork.forks()) {
    layers::copy(compute_, w.fc1_base, tokens * hidden, w.task_hidden);
    add_low_rank(compute_, mlp_input, tokens, dim, block.fc1_fork.tasks[t], hidden, w.rank_scratch, w.low_rank_out, w.task_hidden);
    layers::gelu(compute_, w.task_hidden, tokens * hidden);
    fc2_input = w.task_hidden;
  }
  layers::copy(compute_, w.fc2_base, tokens * dim, w.task_mlp_out);
  add_low_rank(compute_, fc2_input, tokens, hidden, block.fc2_fork.tasks[t], dim, w.rank_scratch, w.low_rank_out, w.task_mlp_out);
  layers::add(compute_, w.task_stream, w.task_mlp_out, tokens * dim);

  float* out = w.task_stage_out[t][stage_index];
  if (stage.merges) {
    layers::merge_patches(compute_, w.task_stream, stage, model_.weights().stages[stage_index], w.merge, out);
  } else {
    layers::copy(compute_, w.task_stream, tokens * dim, out);
  }
  stats_.macs_executed += macs::task_stream(config, stage_index, t);
}

}  // namespace adarun
