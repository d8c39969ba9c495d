// A streamed block (README "Streaming"): a Swin block's output tokens in a window depend only on its input tokens
// in that window, so a window whose input did not change since the block last computed it keeps its stored
// output. kWindowChange compares the block input with the stored reference, picks the windows to recompute and
// writes the stored outputs of the others; the block then runs on the changed windows' tokens only, gathered
// into compact rows in window order, and writes them back to the stream and to the reference. When every window
// changed, it runs the unstreamed block instead (no compact copies) and stores its whole output.
//   changed rows a = x[A];  a += proj(attention(qkv(LN1 a)));  t = LN2(a);  t[kept] = MLP(t[kept]);  a += t
//   x[A] = a;  reference_output[A] = a
// Stage 0's first block tests its windows on the frame's pixels instead (scheduler.h StreamSettings: camera noise).
#include "engine/src/build_plan.h"

namespace adarun {

void emit_streamed_block(PlanBuilder& b, int stage_index, int block_index, Operand x) {
  const ModelConfig& config = b.config();
  const StageGeometry& stage = config.stages[stage_index];
  const BlockWeights& block = b.weights().stages[stage_index].blocks[block_index];
  const std::string name = block_name(stage_index, block_index);
  const std::string changed = name + ".changed";  // the compact rows' ops, apart from the whole block's
  const int64_t tokens = stage.tokens, dim = stage.dim;
  Operand reference_input = b.buffer(name + ".reference_input", tokens * dim);
  Operand reference_output = b.buffer(name + ".reference_output", tokens * dim);
  b.plan().buffers[reference_input.buffer].persistent = true;
  b.plan().buffers[reference_output.buffer].persistent = true;

  const size_t change_index = b.plan().ops.size();
  Op& change = b.emit(OpCode::kWindowChange, OpKind::kRows, name + ".window_change");
  change.x = x, change.scratch = reference_input, change.y = reference_output;
  change.stage = stage_index, change.block = block_index, change.rows = tokens, change.cols = dim;
  change.gather = stage_window_order(b.plan(), stage, stage_index, block_index);
  change.windows = stage.windows, change.window_tokens = stage.window_tokens, change.restore_rows = true;
  if (stage_index == 0 && block_index == 0 && config.in_chans == 3) {  // its input is the patch embedding of the RGB frame
    Operand pixels = b.buffer(name + ".reference_pixels", config.in_chans * config.img_size * config.img_size);
    b.plan().buffers[pixels.buffer].persistent = true;
    Op& first = b.plan().ops[change_index];
    first.tests_pixels = true, first.scratch2 = pixels;
    first.map.channels = config.in_chans, first.map.h = first.map.w = config.img_size, first.map.stride = config.patch_size;
  }

  Operand rows = b.buffer(changed, tokens * dim);
  b.move_changed_rows(OpCode::kGatherRows, changed + ".gather", x, rows, tokens, dim, RowSource::kActive);
  size_t policy_index = 0;
  if (config.ada_tokens) {
    policy_index = b.plan().ops.size();
    emit_policy(b, OpCode::kTokenPolicy, changed + ".token_policy", b.weights().stages[stage_index].token_policies, stage_index, rows,
                tokens, tokens);
    Op& policy = b.plan().ops.back();
    policy.block = block_index, policy.row_source = RowSource::kActive;
  }
  LinearOptions active;
  active.active_rows = true;
  Operand normed = b.buffer(changed + ".norm1", tokens * dim);
  b.layer_norm(changed + ".norm1", block.norm1, rows, tokens, dim, normed, RowSource::kActive);
  Operand qkv = b.buffer(changed + ".qkv", tokens * 3 * dim);
  b.linear(changed + ".qkv", block.qkv, normed, tokens, qkv, active);
  Operand attention = b.buffer(name + ".attention", tokens * dim);
  emit_window_attention(b, stage_index, block_index, qkv, attention, true);
  LinearOptions residual = active;  // a += proj(attention) in the GEMM's store
  residual.accumulate = true;
  b.linear(changed + ".proj", block.proj, attention, tokens, rows, residual);

  Operand mlp_in = b.buffer(changed + ".norm2", tokens * dim);
  b.layer_norm(changed + ".norm2", block.norm2, rows, tokens, dim, mlp_in, RowSource::kActive);
  Operand hidden = b.buffer(changed + ".fc1", tokens * stage.mlp_hidden);
  LinearOptions fc1 = active, fc2 = active;
  fc1.gelu = true;
  if (config.ada_tokens) {  // the kept rows are positions among the changed rows (the policy ran on those)
    fc1.active_rows = fc2.active_rows = false;
    fc1.gather_kept = true;
    fc2.scatter_kept = true;
    b.linear(changed + ".fc1", block.fc1, mlp_in, tokens, hidden, fc1);
    b.linear(changed + ".fc2", block.fc2, hidden, tokens, mlp_in, fc2);
    b.add_rows(changed + ".mlp_residual", mlp_in, rows, tokens, dim, RowSource::kActive);
  } else {
    fc2.accumulate = true;
    b.linear(changed + ".fc1", block.fc1, mlp_in, tokens, hidden, fc1);
    b.linear(changed + ".fc2", block.fc2, hidden, tokens, rows, fc2);
  }
  const int32_t write_back = static_cast<int32_t>(b.plan().ops.size());
  b.move_changed_rows(OpCode::kScatterRows, name + ".write_back", rows, x, tokens, dim, RowSource::kActive);
  b.move_changed_rows(OpCode::kScatterRows, name + ".store_output", rows, reference_output, tokens, dim, RowSource::kActive);
  if (config.ada_tokens) b.plan().ops[policy_index].jump = write_back;  // no token kept: the block leaves its rows as they came
  const size_t done = b.plan().ops.size();
  b.emit(OpCode::kJump, OpKind::kRows, name + ".done");

  // Every window changed (a cut, a pan, a refresh): the unstreamed ops, without the compact rows' copies, then the
  // whole output stored.
  b.plan().ops[change_index].jump_all = static_cast<int32_t>(b.plan().ops.size());
  std::vector<size_t> skips;
  emit_whole_block(b, stage_index, block_index, x, &skips);
  for (size_t skip : skips) b.plan().ops[skip].jump = static_cast<int32_t>(b.plan().ops.size());
  b.elementwise(OpCode::kCopy, name + ".store_all", x, reference_output, tokens * dim);
  Op& store = b.plan().ops.back();
  store.stores_reference = true, store.stage = stage_index, store.block = block_index;
  const int32_t end = static_cast<int32_t>(b.plan().ops.size());
  b.plan().ops[change_index].jump = end;
  b.plan().ops[done].jump = end;
}

}  // namespace adarun
