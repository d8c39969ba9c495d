// The Swin backbone's ops (SPEC 1, 2): patch embedding, per stage its policies, blocks and patch merging.
// Each block is a gated range: kBlockGate (and kTokenPolicy) jump past it when it does not run.
#include <cmath>

#include "engine/src/build_plan.h"

namespace adarun {
namespace {

const int32_t* window_order(const Plan& plan, const StageGeometry& stage, int stage_index, int block_index) {
  const WindowPlan& windows = plan.windows[stage_index];
  const bool shifted = stage.shift > 0 && block_index % 2 == 1;
  return shifted ? windows.shifted_order.data() : windows.plain_order.data();
}

}  // namespace

std::string block_name(int stage, int block) { return "stage" + std::to_string(stage) + ".block" + std::to_string(block); }

void emit_policy(PlanBuilder& b, OpCode code, const std::string& name, const std::vector<PolicyWeights>& policies, int stage_index,
                 Operand x, int64_t fc_rows, int64_t decisions) {
  const StageGeometry& stage = b.config().stages[stage_index];
  const std::vector<int>& active = b.plan().policies;
  const int64_t hidden = policies[active.front()].mlp.out;
  Operand hidden_map = b.buffer(name + ".hidden", stage.tokens * hidden);
  Operand logits = b.buffer(name + ".logits", 2 * decisions);  // this policy's logits, then the max over policies
  Op& op = b.emit(code, OpKind::kPolicy, name);
  op.x = x, op.scratch = hidden_map, op.scratch2 = logits;
  op.rows = stage.tokens, op.cols = stage.dim, op.stage = stage_index;
  op.policy_fc_rows = fc_rows;
  op.decisions = decisions;
  for (int p : active) {
    const PolicyWeights& policy = policies[p];
    op.policies.push_back(&policy);
    if (code == OpCode::kTokenPolicy) {  // per token: a streamed block runs it on the changed windows' tokens
      op.macs_per_row += policy.mlp.in * policy.mlp.out + policy.fc.in * policy.fc.out;
    } else {
      op.macs_fixed += stage.tokens * policy.mlp.in * policy.mlp.out + fc_rows * policy.fc.in * policy.fc.out;
    }
  }
}

void emit_window_attention(PlanBuilder& b, int stage_index, int block_index, Operand qkv, Operand out, bool active) {
  const StageGeometry& stage = b.config().stages[stage_index];
  const BlockWeights& block = b.weights().stages[stage_index].blocks[block_index];
  const std::string name = block_name(stage_index, block_index) + (active ? ".changed.attention" : ".attention");
  const bool shifted = stage.shift > 0 && block_index % 2 == 1;
  Operand scores = b.buffer(name + ".scratch", layers::window_attention_scratch_floats(stage.window_tokens, stage.head_dim));
  Op& op = b.emit(OpCode::kWindowAttention, OpKind::kAttention, name);
  op.x = qkv, op.y = out, op.scratch = scores;
  op.rel_bias = block.rel_bias;
  op.masks = shifted ? b.plan().windows[stage_index].shifted_mask.data() : nullptr;
  op.windows = stage.windows, op.window_tokens = stage.window_tokens, op.heads = stage.heads, op.head_dim = stage.head_dim;
  op.rows = stage.tokens;  // in window order: windows * window_tokens
  op.row_source = active ? RowSource::kActive : RowSource::kAll;
  op.macs_per_row = 2 * stage.window_tokens * stage.dim;  // q k^T and p v for one query row, every head
}

namespace {

// Attention up to and including proj: x[order[i]] += proj(attention(qkv(LN1(x))[i])), or into `projected`
// (window order, not added) when the block forks (MTLoRA).
void emit_attention(PlanBuilder& b, int stage_index, int block_index, Operand x, Operand projected) {
  const StageGeometry& stage = b.config().stages[stage_index];
  const BlockWeights& block = b.weights().stages[stage_index].blocks[block_index];
  const std::string name = block_name(stage_index, block_index);
  const int64_t tokens = stage.tokens, dim = stage.dim;
  const int32_t* order = window_order(b.plan(), stage, stage_index, block_index);

  Operand normed = b.buffer(name + ".norm1", tokens * dim);
  b.layer_norm(name + ".norm1", block.norm1, x, tokens, dim, normed);
  Operand qkv = b.buffer(name + ".qkv", tokens * 3 * dim);
  LinearOptions partition;  // the window partition read straight from LN1's rows
  partition.gather = order;
  b.linear(name + ".qkv", block.qkv, normed, tokens, qkv, partition);

  Operand attention = b.buffer(name + ".attention", tokens * dim);
  emit_window_attention(b, stage_index, block_index, qkv, attention, false);
  if (projected.valid()) return b.linear(name + ".proj", block.proj, attention, tokens, projected);
  LinearOptions reverse;  // window reverse and the residual in proj's store
  reverse.scatter = order;
  reverse.accumulate = true;
  b.linear(name + ".proj", block.proj, attention, tokens, x, reverse);
}

// x += Attn(LN1(x)); t = LN2(x); t[kept] = MLP(t[kept]); x += t   (SPEC 2, block semantics 3).
void emit_block(PlanBuilder& b, int stage_index, int block_index, Operand x) {
  const ModelConfig& config = b.config();
  const StageGeometry& stage = config.stages[stage_index];
  const BlockWeights& block = b.weights().stages[stage_index].blocks[block_index];
  const std::string name = block_name(stage_index, block_index);
  const int64_t tokens = stage.tokens, dim = stage.dim;

  emit_attention(b, stage_index, block_index, x, Operand());
  Operand normed = b.buffer(name + ".norm2", tokens * dim);
  b.layer_norm(name + ".norm2", block.norm2, x, tokens, dim, normed);
  Operand hidden = b.buffer(name + ".fc1", tokens * stage.mlp_hidden);
  LinearOptions fc1, fc2;
  fc1.gelu = true;
  if (config.ada_tokens) {
    // The kept rows are read from LN2's output and written back over them, so unselected rows add LN2(x)
    // itself, as trained.
    fc1.gather_kept = true;
    fc2.scatter_kept = true;
    b.linear(name + ".fc1", block.fc1, normed, tokens, hidden, fc1);
    b.linear(name + ".fc2", block.fc2, hidden, tokens, normed, fc2);
    b.elementwise(OpCode::kAdd, name + ".residual", normed, x, tokens * dim);
  } else {
    fc2.accumulate = true;
    b.linear(name + ".fc1", block.fc1, normed, tokens, hidden, fc1);
    b.linear(name + ".fc2", block.fc2, hidden, tokens, x, fc2);
  }
}

bool forks(const ModelConfig& config, int stage_index, int block_index) {
  const StageGeometry& stage = config.stages[stage_index];
  return config.is_mtlora() && block_index + 1 == stage.depth && config.lora.branches[stage_index].any();
}

}  // namespace

void emit_whole_block(PlanBuilder& b, int stage_index, int block_index, Operand x, std::vector<size_t>* skips) {
  const ModelConfig& config = b.config();
  const StageGeometry& stage = config.stages[stage_index];
  if (config.ada_tokens) {
    skips->push_back(b.plan().ops.size());
    emit_policy(b, OpCode::kTokenPolicy, block_name(stage_index, block_index) + ".token_policy",
                b.weights().stages[stage_index].token_policies, stage_index, x, stage.tokens, stage.tokens);
    b.plan().ops.back().block = block_index;
  }
  emit_block(b, stage_index, block_index, x);
}

namespace {

// The gated range of one block: its gate, its token policy, its ops; the gate ops jump past the range. A streamed
// block runs its token policy inside, on the windows that changed.
void emit_gated_block(PlanBuilder& b, int stage_index, int block_index, Operand x, StageOutputs* outputs) {
  const ModelConfig& config = b.config();
  const StageGeometry& stage = config.stages[stage_index];
  const std::string name = block_name(stage_index, block_index);
  const bool forked = forks(config, stage_index, block_index);
  const bool streamed = b.streaming() && !forked;
  std::vector<size_t> gates;
  gates.push_back(b.plan().ops.size());
  Op& gate = b.emit(OpCode::kBlockGate, OpKind::kPolicy, name + ".gate");
  gate.stage = stage_index, gate.block = block_index, gate.rows = stage.tokens;
  if (forked) {
    emit_forked_block(b, stage_index, block_index, x, outputs);
  } else if (streamed) {
    emit_streamed_block(b, stage_index, block_index, x);
  } else {
    emit_whole_block(b, stage_index, block_index, x, &gates);
  }
  for (size_t g : gates) b.plan().ops[g].jump = static_cast<int32_t>(b.plan().ops.size());
}

// A streamed block policy updates its logits for the tokens whose stage input changed: the hidden map is per token
// and the logits linear in it, so logits += fc[:, t] (h_t - stored h_t) for each changed token t (scheduler.cpp).
// Its state lives from frame to frame: the input it last saw, and per policy the hidden map and logits.
void stream_block_policy(PlanBuilder& b) {
  Op& policy = b.plan().ops.back();  // the block policy just emitted (buffers never move ops)
  const StageGeometry& stage = b.config().stages[policy.stage];
  const int64_t hidden = policy.policies.front()->mlp.out;
  const int64_t policies = static_cast<int64_t>(policy.policies.size());
  const Operand state = b.buffer(policy.name + ".state", stage.tokens * stage.dim + policies * (stage.tokens * hidden + policy.decisions));
  b.plan().buffers[state.buffer].persistent = true;
  policy.y = state;
  policy.scratch = b.buffer(policy.name + ".changed", stage.tokens * (stage.dim + hidden));  // the changed rows, their hidden map
  policy.row_source = RowSource::kActive;
  policy.macs_fixed = 0;  // per changed token: its hidden row, and its share of every logit
  for (const PolicyWeights* weights : policy.policies) policy.macs_per_row += weights->mlp.in * weights->mlp.out + hidden * policy.decisions;
}

// A streamed stage merges only the 2x2 cells whose tokens changed since it last merged them; its output keeps
// the others' merged tokens from frame to frame.
void emit_streamed_patch_merging(PlanBuilder& b, int stage_index, Operand x, Operand out) {
  const StageGeometry& stage = b.config().stages[stage_index];
  const StageWeights& weights = b.weights().stages[stage_index];
  const std::string name = "stage" + std::to_string(stage_index) + ".merge";
  Operand reference = b.buffer(name + ".reference_input", stage.tokens * stage.dim);
  b.plan().buffers[reference.buffer].persistent = true;
  b.plan().buffers[out.buffer].persistent = true;
  const size_t change_index = b.plan().ops.size();
  Op& change = b.emit(OpCode::kWindowChange, OpKind::kRows, name + ".cell_change");
  change.x = x, change.scratch = reference, change.rows = stage.tokens, change.cols = stage.dim, change.stage = stage_index;
  change.gather = b.plan().merge_cells[stage_index].data();
  change.windows = stage.out_tokens, change.window_tokens = 4;
  Operand cells = b.buffer(name + ".cells", stage.out_tokens * 4 * stage.dim);
  b.move_changed_rows(OpCode::kGatherRows, name + ".cells", x, cells, stage.tokens, stage.dim, RowSource::kActive);
  b.layer_norm(name + ".norm", weights.merge_norm, cells, stage.out_tokens, 4 * stage.dim, cells, RowSource::kActiveGroups);
  Operand merged = b.buffer(name + ".reduction", stage.out_tokens * stage.out_dim);
  LinearOptions groups;
  groups.active_groups = true;
  b.linear(name + ".reduction", weights.merge_reduction, cells, stage.out_tokens, merged, groups);
  b.move_changed_rows(OpCode::kScatterRows, name + ".output", merged, out, stage.out_tokens, stage.out_dim, RowSource::kActiveGroups);
  b.plan().ops[change_index].jump = static_cast<int32_t>(b.plan().ops.size());
}

void emit_patch_merging(PlanBuilder& b, int stage_index, Operand x, const std::string& stream, Operand out) {
  if (b.streaming() && stream.empty()) return emit_streamed_patch_merging(b, stage_index, x, out);
  const StageGeometry& stage = b.config().stages[stage_index];
  const StageWeights& weights = b.weights().stages[stage_index];
  const std::string name = "stage" + std::to_string(stage_index) + ".merge" + stream;
  Operand cells = b.buffer(name + ".cells", stage.out_tokens * 4 * stage.dim);
  Op& op = b.emit(OpCode::kMergeCells, OpKind::kRows, name + ".cells");
  op.x = x, op.y = cells, op.rows = stage.resolution, op.cols = stage.dim;
  b.layer_norm(name + ".norm", weights.merge_norm, cells, stage.out_tokens, 4 * stage.dim, cells);
  b.linear(name + ".reduction", weights.merge_reduction, cells, stage.out_tokens, out);
}

}  // namespace

// A stage's stream leaves through patch merging (or a copy) into its output, which the heads read.
void emit_stage_output(PlanBuilder& b, int stage_index, Operand stream, const std::string& suffix, Operand out) {
  const StageGeometry& stage = b.config().stages[stage_index];
  if (stage.merges) return emit_patch_merging(b, stage_index, stream, suffix, out);
  b.elementwise(OpCode::kCopy, "stage" + std::to_string(stage_index) + ".output" + suffix, stream, out, stage.tokens * stage.dim);
}

const int32_t* stage_window_order(const Plan& plan, const StageGeometry& stage, int stage_index, int block_index) {
  return window_order(plan, stage, stage_index, block_index);
}

void emit_attention_and_proj(PlanBuilder& b, int stage_index, int block_index, Operand x, Operand projected) {
  emit_attention(b, stage_index, block_index, x, projected);
}

void emit_backbone(PlanBuilder& b, StageOutputs* outputs) {
  const ModelConfig& config = b.config();
  const ModelWeights& weights = b.weights();
  const StageGeometry& first = config.stages[0];
  Operand input;
  input.buffer = kFrameInput;
  Operand embedded = b.buffer("embed.conv", first.dim * first.tokens);
  b.streamed_frame_conv("embed.conv", weights.patch_embed, input, config.img_size, config.img_size, config.patch_size, 0, embedded);
  Operand x = b.buffer("stage0.x", first.tokens * first.dim);
  b.transpose("embed.tokens", embedded, first.dim, first.tokens, x);
  if (weights.patch_norm.gamma) b.layer_norm("embed.norm", weights.patch_norm, x, first.tokens, first.dim, x);
  if (weights.absolute_pos_embed) {
    Op& op = b.emit(OpCode::kAdd, OpKind::kElementwise, "embed.position");
    op.y = x, op.rows = 1, op.cols = first.tokens * first.dim;
    op.addend = weights.absolute_pos_embed;
  }
  outputs->shared.assign(kStages, Operand());
  outputs->per_task.assign(config.tasks.size(), std::vector<Operand>(kStages));
  for (int i = 0; i < kStages; ++i) {
    const StageGeometry& stage = config.stages[i];
    const std::string name = "stage" + std::to_string(i);
    if (config.ada_blocks) {
      emit_policy(b, OpCode::kBlockPolicy, name + ".block_policy", weights.stages[i].block_policies, i, x, 1, stage.depth);
      if (b.streaming()) stream_block_policy(b);
    }
    for (int j = 0; j < stage.depth; ++j) emit_gated_block(b, i, j, x, outputs);
    Operand out = b.buffer(name + ".output", stage.out_tokens * stage.out_dim);
    emit_stage_output(b, i, x, "", out);
    outputs->shared[i] = out;
    for (auto& task : outputs->per_task) {
      if (!task[i].valid()) task[i] = out;
    }
    if (i + 1 == kStages) break;
    Operand next = b.buffer("stage" + std::to_string(i + 1) + ".x", stage.out_tokens * stage.out_dim);
    b.elementwise(OpCode::kCopy, "stage" + std::to_string(i + 1) + ".input", out, next, stage.out_tokens * stage.out_dim);
    x = next;
  }
}

}  // namespace adarun
