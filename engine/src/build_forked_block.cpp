// MTLoRA's last block of a stage (SPEC 3): attention once on the shared stream, the full-rank products once,
// and per requested task only its low-rank adapters, norms, activations and patch merging.
//   shared: a = P0 + S_p(att);  u = x + a;  h = GELU(F1 + S_1(LN2 u));  x' = u + F2 + S_2(h)
//   task t: u_t = x + P0 + T_p(att);  h_t = GELU(F1 + T_1(LN2 u_t));  stream_t = u_t + F2 + T_2(h_t)
// with P0 = W_p att + b_p, F1 = W_1 LN2(u) + b_1, F2 = W_2 h + b_2 (shared inputs), S the shared adapters
// kept apart ('matrix' mode) and T the task adapters. A layer that does not fork gives its shared result
// instead, and without a proj fork the research code drops u_t from the stream.
#include "engine/src/build_plan.h"

namespace adarun {
namespace {

// The products of the shared stream that every task stream starts from.
struct SharedProducts {
  Operand attention;  // the attention output before proj, window order
  Operand projected;  // P0, window order
  Operand normed;     // LN2(u)
  Operand fc1_base;   // F1
  Operand hidden;     // GELU(F1 + S_1): the shared activation
  Operand fc2_base;   // F2
};

void emit_task_stream(PlanBuilder& b, int stage_index, int block_index, int task, Operand x, const SharedProducts& shared, Operand out) {
  const StageGeometry& stage = b.config().stages[stage_index];
  const BlockWeights& block = b.weights().stages[stage_index].blocks[block_index];
  const int64_t tokens = stage.tokens, dim = stage.dim, hidden = stage.mlp_hidden;
  const std::string name = "stage" + std::to_string(stage_index) + ".block" + std::to_string(block_index) + "." + b.config().tasks[task].name;

  Operand stream = b.buffer(name + ".stream", tokens * dim);
  Operand mlp_input = shared.normed;  // LN2(u) unless proj forks
  if (block.proj_fork.forks()) {
    Operand attention = b.buffer(name + ".proj", tokens * dim);
    b.elementwise(OpCode::kCopy, name + ".proj.base", shared.projected, attention, tokens * dim);
    b.low_rank(name + ".proj.adapter", block.proj_fork.tasks[task], shared.attention, tokens, dim, dim, attention);
    b.elementwise(OpCode::kCopy, name + ".shortcut", x, stream, tokens * dim);
    b.scatter_add_rows(name + ".window_reverse", attention, stage_window_order(b.plan(), stage, stage_index, block_index), tokens, dim,
                       stream);
    mlp_input = b.buffer(name + ".norm2", tokens * dim);
    b.layer_norm(name + ".norm2", block.norm2, stream, tokens, dim, mlp_input);
  } else {
    b.elementwise(OpCode::kZero, name + ".stream", Operand(), stream, tokens * dim);
  }
  Operand fc2_input = shared.hidden;  // the shared activation unless fc1 forks
  if (block.fc1_fork.forks()) {
    fc2_input = b.buffer(name + ".fc1", tokens * hidden);
    b.elementwise(OpCode::kCopy, name + ".fc1.base", shared.fc1_base, fc2_input, tokens * hidden);
    b.low_rank(name + ".fc1.adapter", block.fc1_fork.tasks[task], mlp_input, tokens, dim, hidden, fc2_input);
    b.elementwise(OpCode::kGelu, name + ".gelu", Operand(), fc2_input, tokens * hidden);
  }
  Operand mlp_out = b.buffer(name + ".fc2", tokens * dim);
  b.elementwise(OpCode::kCopy, name + ".fc2.base", shared.fc2_base, mlp_out, tokens * dim);
  b.low_rank(name + ".fc2.adapter", block.fc2_fork.tasks[task], fc2_input, tokens, hidden, dim, mlp_out);
  b.elementwise(OpCode::kAdd, name + ".residual", mlp_out, stream, tokens * dim);
  emit_stage_output(b, stage_index, stream, "." + b.config().tasks[task].name, out);
}

}  // namespace

void emit_forked_block(PlanBuilder& b, int stage_index, int block_index, Operand x, StageOutputs* outputs) {
  const StageGeometry& stage = b.config().stages[stage_index];
  const BlockWeights& block = b.weights().stages[stage_index].blocks[block_index];
  const int64_t tokens = stage.tokens, dim = stage.dim, hidden = stage.mlp_hidden;
  const std::string name = "stage" + std::to_string(stage_index) + ".block" + std::to_string(block_index);
  SharedProducts shared;

  shared.projected = b.buffer(name + ".proj", tokens * dim);
  emit_attention_and_proj(b, stage_index, block_index, x, shared.projected);
  shared.attention = b.plan().ops.back().x;  // proj's input
  Operand attention = b.buffer(name + ".shared_proj", tokens * dim);
  b.elementwise(OpCode::kCopy, name + ".shared_proj", shared.projected, attention, tokens * dim);
  b.low_rank(name + ".proj.adapter", block.proj_fork.shared, shared.attention, tokens, dim, dim, attention);
  Operand u = b.buffer(name + ".u", tokens * dim);
  b.elementwise(OpCode::kCopy, name + ".shortcut", x, u, tokens * dim);
  b.scatter_add_rows(name + ".window_reverse", attention, stage_window_order(b.plan(), stage, stage_index, block_index), tokens, dim, u);

  shared.normed = b.buffer(name + ".norm2", tokens * dim);
  b.layer_norm(name + ".norm2", block.norm2, u, tokens, dim, shared.normed);
  shared.fc1_base = b.buffer(name + ".fc1.base", tokens * hidden);
  b.linear(name + ".fc1", block.fc1, shared.normed, tokens, shared.fc1_base);
  shared.hidden = b.buffer(name + ".fc1", tokens * hidden);
  b.elementwise(OpCode::kCopy, name + ".fc1.shared", shared.fc1_base, shared.hidden, tokens * hidden);
  b.low_rank(name + ".fc1.adapter", block.fc1_fork.shared, shared.normed, tokens, dim, hidden, shared.hidden);
  b.elementwise(OpCode::kGelu, name + ".gelu", Operand(), shared.hidden, tokens * hidden);
  shared.fc2_base = b.buffer(name + ".fc2.base", tokens * dim);
  b.linear(name + ".fc2", block.fc2, shared.hidden, tokens, shared.fc2_base);
  Operand mlp_out = b.buffer(name + ".fc2", tokens * dim);
  b.elementwise(OpCode::kCopy, name + ".fc2.shared", shared.fc2_base, mlp_out, tokens * dim);
  b.low_rank(name + ".fc2.adapter", block.fc2_fork.shared, shared.hidden, tokens, hidden, dim, mlp_out);

  for (int t : b.plan().tasks) {
    Operand out = b.buffer("stage" + std::to_string(stage_index) + ".output." + b.config().tasks[t].name, stage.out_tokens * stage.out_dim);
    emit_task_stream(b, stage_index, block_index, t, x, shared, out);
    outputs->per_task[t][stage_index] = out;
  }
  b.elementwise(OpCode::kCopy, name + ".stream", u, x, tokens * dim);
  b.elementwise(OpCode::kAdd, name + ".residual", mlp_out, x, tokens * dim);
}

}  // namespace adarun
