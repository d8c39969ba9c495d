// The scheduler's backbone half: patch embedding, stages, gates, blocks, patch merging.
// Gated-off work is never dispatched: a skipped block costs neither a copy nor a kernel call.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "engine/src/layers.h"
#include "engine/src/macs.h"
#include "engine/src/session.h"
#include "engine/src/workspace.h"

namespace adarun {
namespace {

using layers::layer_norm;
using layers::linear;

}  // namespace

void Session::run_backbone(const float* input) {
  const ModelConfig& config = model_.config();
  const ModelWeights& weights = model_.weights();
  Workspace& w = *workspace_;
  const StageGeometry& first = config.stages[0];
  const ConvWeights& embed = weights.patch_embed;
  layers::conv2d(compute_, embed, input, config.img_size, config.img_size, config.patch_size, 0, w.im2col, w.normed);
  layers::transpose(compute_, w.normed, first.dim, first.tokens, w.x);
  if (weights.patch_norm.gamma) layer_norm(compute_, w.x, first.tokens, first.dim, weights.patch_norm, w.x);
  if (weights.absolute_pos_embed) layers::add(compute_, w.x, weights.absolute_pos_embed, first.tokens * first.dim);
  stats_.macs_executed += macs::patch_embed(config);
  for (int i = 0; i < kStages; ++i) run_stage(i);
}

void Session::run_stage(int stage_index) {
  const ModelConfig& config = model_.config();
  const StageGeometry& stage = config.stages[stage_index];
  const StageWeights& weights = model_.weights().stages[stage_index];
  Workspace& w = *workspace_;
  const bool gates_known = block_gate_decisions(stage_index, w.block_gates.data());
  for (int j = 0; j < stage.depth; ++j) {
    const bool block_on = !gates_known || w.block_gates[j];
    stats_.blocks[stage_index][j] = block_on;
    stats_.tokens_kept[stage_index][j] = 0;
    if (!block_on) {
      if (config.ada_tokens) std::fill(stats_.token_masks[stage_index][j].begin(), stats_.token_masks[stage_index][j].end(), 0);
      continue;
    }
    const uint8_t* mask = nullptr;
    int64_t kept = stage.tokens;
    if (config.ada_tokens) {
      kept = token_gate_decisions(stage_index, stats_.token_masks[stage_index][j].data());
      mask = stats_.token_masks[stage_index][j].data();
      if (kept == 0) continue;  // SPEC 2: an empty token set skips the whole block
    }
    stats_.tokens_kept[stage_index][j] = kept;
    if (config.is_mtlora() && j + 1 == stage.depth && config.lora.branches[stage_index].any()) {
      run_forked_block(stage_index, j);
    } else {
      run_block(stage_index, j, mask, kept);
    }
  }
  float* out = w.stage_out[stage_index];
  if (stage.merges) {
    layers::merge_patches(compute_, w.x, stage, weights, w.merge, out);
    stats_.macs_executed += macs::patch_merging(stage);
  } else {
    layers::copy(compute_, w.x, stage.tokens * stage.dim, out);
  }
  // The next stage continues from this stage's output.
  if (stage.merges) layers::copy(compute_, out, stage.out_tokens * stage.out_dim, w.x);
}

// Decides gates from the active policies on the current x: hidden = ReLU(mlp(x)) [tokens, h],
// logits = fc(hidden viewed as fc_rows rows); a gate's logit is the max over the policies (so
// "logit > T" is the OR of the policies' decisions). With a budget f, the ceil(f * decisions)
// highest logits are on instead. The profile counts all of it as one policy op.
void Session::decide_gates(const std::vector<PolicyWeights>& policies, const StageGeometry& stage, int64_t fc_rows,
                           int64_t decisions, int64_t macs, uint8_t* out) {
  Workspace& w = *workspace_;
  const OpTimer timer(compute_.profile, OpKind::kPolicy, macs);
  layers::Compute untimed = compute_;
  untimed.profile = nullptr;
  float* logits = w.gate_logits;
  std::fill(logits, logits + decisions, -std::numeric_limits<float>::infinity());
  for (int p : policy_indices_) {
    const PolicyWeights& policy = policies[p];
    linear(untimed, w.x, stage.tokens, policy.mlp, w.policy_hidden);
    layers::relu(untimed, w.policy_hidden, stage.tokens * policy.mlp.out);
    linear(untimed, w.policy_hidden, fc_rows, policy.fc, w.policy_logits);
    for (int64_t k = 0; k < decisions; ++k) logits[k] = std::max(logits[k], w.policy_logits[k]);
  }
  if (budget_ <= 0.0f) {
    for (int64_t k = 0; k < decisions; ++k) out[k] = logits[k] > gate_threshold_;
    return;
  }
  const int64_t keep = std::min(decisions, static_cast<int64_t>(std::ceil(double(budget_) * double(decisions))));
  int32_t* order = w.gate_order.data();
  std::iota(order, order + decisions, 0);
  std::nth_element(order, order + keep, order + decisions, [logits](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  std::fill(out, out + decisions, 0);
  for (int64_t k = 0; k < keep; ++k) out[order[k]] = 1;
}

// Evaluates the block policies of a stage on its input; false when the model has none.
bool Session::block_gate_decisions(int stage_index, uint8_t* gates) {
  const ModelConfig& config = model_.config();
  if (!config.ada_blocks) return false;
  const StageGeometry& stage = config.stages[stage_index];
  // One fc row: the block policy reads the hidden map flattened token-major.
  const int64_t macs = int64_t(policy_indices_.size()) * macs::block_policy(config, stage);
  decide_gates(model_.weights().stages[stage_index].block_policies, stage, 1, stage.depth, macs, gates);
  stats_.macs_executed += macs;
  return true;
}

// Evaluates the token policies on the current block input; returns how many tokens are kept.
int64_t Session::token_gate_decisions(int stage_index, uint8_t* mask) {
  const ModelConfig& config = model_.config();
  const StageGeometry& stage = config.stages[stage_index];
  Workspace& w = *workspace_;
  const int64_t macs = int64_t(policy_indices_.size()) * macs::token_policy(config, stage);
  decide_gates(model_.weights().stages[stage_index].token_policies, stage, stage.tokens, stage.tokens, macs, mask);
  stats_.macs_executed += macs;
  int64_t kept = 0;
  for (int64_t t = 0; t < stage.tokens; ++t) {
    if (mask[t]) w.kept_index[kept++] = static_cast<int32_t>(t);
  }
  return kept;
}

const int32_t* Session::window_order(int stage_index, int block_index) const {
  const StageGeometry& stage = model_.config().stages[stage_index];
  const WindowPlan& plan = window_plans_[stage_index];
  const bool shifted = stage.shift > 0 && block_index % 2 == 1;
  return shifted ? plan.shifted_order.data() : plan.plain_order.data();
}

// Attention up to, not including, proj: LN1, window partition, qkv, per-window attention -> w.attention.
void Session::attend(int stage_index, int block_index) {
  const StageGeometry& stage = model_.config().stages[stage_index];
  const BlockWeights& block = model_.weights().stages[stage_index].blocks[block_index];
  const WindowPlan& plan = window_plans_[stage_index];
  Workspace& w = *workspace_;
  const int64_t tokens = stage.tokens, dim = stage.dim, n = stage.window_tokens;
  const bool shifted = stage.shift > 0 && block_index % 2 == 1;

  layer_norm(compute_, w.x, tokens, dim, block.norm1, w.normed);
  layers::LinearFusion windows;  // the window partition read straight from LN1's rows
  windows.gather = window_order(stage_index, block_index);
  windows.gathered = w.windows;
  linear(compute_, w.normed, tokens, block.qkv, windows, w.qkv);
  WindowAttentionArgs args;
  args.qkv = w.qkv;
  args.rel_bias = block.rel_bias;
  args.masks = shifted ? plan.shifted_mask.data() : nullptr;
  args.out = w.attention;
  args.windows = stage.windows, args.n = n, args.heads = stage.heads, args.head_dim = stage.head_dim;
  args.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(stage.head_dim)));
  layers::window_attention(compute_, args, w.scores);
}

// x += Attn(LN1(x)); t = LN2(x); t[kept] = MLP(t[kept]); x += t   (SPEC 2, block semantics 3).
void Session::run_block(int stage_index, int block_index, const uint8_t* mask, int64_t kept) {
  const StageGeometry& stage = model_.config().stages[stage_index];
  const BlockWeights& block = model_.weights().stages[stage_index].blocks[block_index];
  Workspace& w = *workspace_;
  const int64_t tokens = stage.tokens, dim = stage.dim;
  const int32_t* order = window_order(stage_index, block_index);

  attend(stage_index, block_index);
  layers::LinearFusion residual;  // x[order[i]] += proj(attention[i]): window reverse and residual in the store
  residual.scatter = order;
  residual.accumulate = true;
  residual.unfused_out = w.projected;
  linear(compute_, w.attention, tokens, block.proj, residual, w.x);
  stats_.macs_executed += macs::block_attention(stage);

  layer_norm(compute_, w.x, tokens, dim, block.norm2, w.normed);
  layers::LinearFusion fc1;
  fc1.gelu = true;
  layers::LinearFusion fc2;
  if (mask) {
    // The kept rows are read from LN2's output and written back over them, so unselected rows add LN2(x) itself,
    // as trained.
    fc1.gather = w.kept_index.data();
    fc1.gathered = w.mlp_rows;
    fc2.scatter = w.kept_index.data();
    fc2.unfused_out = w.mlp_out;
    linear(compute_, w.normed, kept, block.fc1, fc1, w.mlp_hidden);
    linear(compute_, w.mlp_hidden, kept, block.fc2, fc2, w.normed);
    layers::add(compute_, w.x, w.normed, tokens * dim);
  } else {
    fc2.accumulate = true;
    fc2.unfused_out = w.mlp_out;
    linear(compute_, w.normed, tokens, block.fc1, fc1, w.mlp_hidden);
    linear(compute_, w.mlp_hidden, tokens, block.fc2, fc2, w.x);
  }
  stats_.macs_executed += macs::block_mlp(stage, kept);
}

}  // namespace adarun
