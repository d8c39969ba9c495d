#include "engine/src/plan_builder.h"

#include "engine/src/layers.h"
#include "kernels/conv_delta.h"

namespace adarun {

Operand PlanBuilder::buffer(const std::string& name, int64_t floats) {
  PlanBuffer buffer;
  buffer.name = name;
  buffer.floats = floats;
  plan_.buffers.push_back(buffer);
  Operand operand;
  operand.buffer = static_cast<int32_t>(plan_.buffers.size() - 1);
  return operand;
}

Operand PlanBuilder::slice(Operand base, int64_t offset) {
  base.offset += offset;
  return base;
}

Op& PlanBuilder::emit(OpCode code, OpKind kind, const std::string& name) {
  Op op;
  op.code = code;
  op.kind = kind;
  op.name = name;
  plan_.ops.push_back(op);
  return plan_.ops.back();
}

void PlanBuilder::conv(const std::string& name, const ConvWeights& conv, Operand x, int64_t h, int64_t w, int64_t stride, int64_t pad,
                       Operand y, int64_t dilation) {
  MapShape map;
  map.channels = conv.in, map.h = h, map.w = w, map.stride = stride, map.pad = pad, map.dilation = dilation;
  map.out_h = (h + 2 * pad - dilation * (conv.kernel - 1) - 1) / stride + 1;
  map.out_w = (w + 2 * pad - dilation * (conv.kernel - 1) - 1) / stride + 1;
  const int64_t scratch = layers::conv2d_scratch_floats(isa_, conv, map.h, map.w, stride, pad, dilation);
  Operand scratch_buffer = scratch > 0 ? buffer(name + ".scratch", scratch) : Operand();
  Op& op = emit(OpCode::kConv, OpKind::kConv, name);
  op.conv = &conv, op.x = x, op.y = y, op.map = map, op.scratch = scratch_buffer;
  op.macs_fixed = conv.out * conv.in * conv.kernel * conv.kernel * map.out_h * map.out_w;
}

void PlanBuilder::streamed_conv(const std::string& name, const ConvWeights& conv, Operand x, int64_t h, int64_t w, int64_t pad,
                                int64_t block, Operand y) {
  // 1x1 convolutions stay plain: their GEMM does about four times the delta kernel's MACs per second, so an update
  // pays only when a few percent of the input changed (Swin-T stage 0 at 26% changed: 0.036 ms plain, 0.06 ms delta).
  const bool delta = streaming_ && conv.weight && !conv.weight_int8 && !conv.packed_int8 && conv.kernel > 1;
  if (!delta || !conv2d_delta_fits(conv.kernel, pad, w)) return this->conv(name, conv, x, h, w, 1, pad, y);
  const int64_t out_h = h + 2 * pad - conv.kernel + 1, out_w = w + 2 * pad - conv.kernel + 1;
  size_t group = 0;
  while (group < change_groups_.size() && !(change_groups_[group].input.buffer == x.buffer && change_groups_[group].input.offset == x.offset)) {
    ++group;
  }
  if (group == change_groups_.size()) {
    if (group == config().stages.size()) return this->conv(name, conv, x, h, w, 1, pad, y);  // the scheduler holds one group per stage
    Operand previous = buffer(name + ".previous_input", conv.in * h * w);
    plan_.buffers[previous.buffer].persistent = true;
    change_groups_.push_back({x, previous});
  }
  Operand state = buffer(name + ".state", conv.out * out_h * out_w);
  plan_.buffers[state.buffer].persistent = true;
  this->conv(name, conv, x, h, w, 1, pad, state);  // the full convolution, then made the delta op
  Op& op = plan_.ops.back();
  op.code = OpCode::kConvDelta;
  op.scratch2 = op.scratch, op.scratch = change_groups_[group].previous;
  op.rows = conv.in * h * w / block, op.cols = block;
  op.change_group = static_cast<int>(group);
  elementwise(OpCode::kCopy, name + ".copy", state, y, conv.out * out_h * out_w);
}

void mark_change_tests(Plan* plan) {
  std::vector<int32_t> first, last;
  for (int32_t i = 0; i < static_cast<int32_t>(plan->ops.size()); ++i) {
    const int group = plan->ops[i].change_group;
    if (plan->ops[i].code != OpCode::kConvDelta || group < 0) continue;
    if (group >= static_cast<int>(first.size())) first.resize(size_t(group) + 1, -1), last.resize(size_t(group) + 1, -1);
    if (first[group] < 0) first[group] = i;
    last[group] = i;
  }
  for (size_t g = 0; g < first.size(); ++g) {
    if (first[g] >= 0) plan->ops[first[g]].tests_change = true;
    if (last[g] >= 0) plan->ops[last[g]].stores_input = true;
  }
}

void PlanBuilder::streamed_frame_conv(const std::string& name, const ConvWeights& conv, Operand x, int64_t h, int64_t w, int64_t stride,
                                      int64_t pad, Operand y) {
  this->conv(name, conv, x, h, w, stride, pad, y);
  if (!streaming_ || !conv.weight || conv.weight_int8 || conv.packed_int8) return;
  Operand previous = buffer(name + ".previous_input", conv.in * h * w);
  plan_.buffers[previous.buffer].persistent = plan_.buffers[y.buffer].persistent = true;
  Op& op = plan_.ops.back();
  op.code = OpCode::kConvChangedRows;
  op.scratch2 = op.scratch, op.scratch = previous;
  // A patch embedding of an RGB frame (each output row reads its own rows of patches) can be tested by patches
  // against the camera's noise (scheduler.h StreamSettings).
  op.tests_pixels = conv.kernel == stride && pad == 0 && conv.in == 3;
}

void PlanBuilder::conv_transpose(const std::string& name, const ConvTransposeWeights& conv, Operand x, int64_t h, int64_t w,
                                 int64_t stride, int64_t pad, int64_t output_pad, Operand y) {
  MapShape map;
  map.channels = conv.in, map.h = h, map.w = w, map.stride = stride, map.pad = pad, map.output_pad = output_pad;
  map.out_h = (h - 1) * stride - 2 * pad + conv.kernel + output_pad;
  map.out_w = (w - 1) * stride - 2 * pad + conv.kernel + output_pad;
  const int64_t scratch = layers::conv_transpose2d_scratch_floats(isa_, conv, h, w, stride, pad, output_pad);
  Operand scratch_buffer = scratch > 0 ? buffer(name + ".scratch", scratch) : Operand();
  Op& op = emit(OpCode::kConvTranspose, OpKind::kConv, name);
  op.conv_transpose = &conv, op.x = x, op.y = y, op.map = map, op.scratch = scratch_buffer;
  op.macs_fixed = conv.in * conv.out * conv.kernel * conv.kernel * h * w;
}

void PlanBuilder::linear(const std::string& name, const LinearWeights& layer, Operand x, int64_t rows, Operand y,
                         const LinearOptions& options) {
  const bool gathers = options.gather || options.gather_kept;
  const bool scatters = options.scatter || options.scatter_kept;
  const layers::LinearScratch scratch = layers::linear_scratch_floats(layer, rows, gathers, scatters || options.accumulate);
  // op.scratch: the gathered rows on the reference path, or an int8 layer's quantized rows (never both).
  Operand gathered = scratch.gathered > 0 ? buffer(name + ".gathered", scratch.gathered) : Operand();
  if (scratch.quantized > 0) gathered = buffer(name + ".quantized", scratch.quantized);
  Operand unfused = scratch.unfused_out > 0 ? buffer(name + ".unfused", scratch.unfused_out) : Operand();
  Op& op = emit(OpCode::kLinear, OpKind::kLinear, name);
  op.linear = &layer, op.x = x, op.y = y, op.rows = rows, op.cols = layer.in;
  op.scratch = gathered, op.scratch2 = unfused;
  op.gather = options.gather, op.scatter = options.scatter;
  op.gather_kept = options.gather_kept, op.scatter_kept = options.scatter_kept;
  if (options.gather_kept || options.scatter_kept) op.row_source = RowSource::kKept;
  if (options.active_rows) op.row_source = RowSource::kActive;
  if (options.active_groups) op.row_source = RowSource::kActiveGroups;
  op.gelu = options.gelu, op.accumulate = options.accumulate;
  op.macs_per_row = layer.in * layer.out;
}

void PlanBuilder::low_rank(const std::string& name, const LowRank& adapter, Operand x, int64_t rows, int64_t in, int64_t out, Operand y) {
  if (adapter.rank == 0) return;
  Operand rank_scratch = buffer(name + ".rank", layers::low_rank_scratch_floats(rows, adapter.rank));
  Operand out_scratch = buffer(name + ".out", layers::low_rank_scratch_floats(rows, out));
  Op& op = emit(OpCode::kLowRank, OpKind::kLinear, name);
  op.low_rank = &adapter, op.x = x, op.y = y, op.rows = rows, op.cols = in;
  op.scratch = rank_scratch, op.scratch2 = out_scratch;
  op.adapter_out = out;
  op.macs_per_row = adapter.rank * (in + out);
}

void PlanBuilder::layer_norm(const std::string& name, const NormWeights& norm, Operand x, int64_t rows, int64_t cols, Operand y,
                             RowSource source) {
  Op& op = emit(OpCode::kLayerNorm, OpKind::kLayerNorm, name);
  op.norm = &norm, op.x = x, op.y = y, op.rows = rows, op.cols = cols, op.row_source = source;
}

void PlanBuilder::add_rows(const std::string& name, Operand x, Operand y, int64_t rows, int64_t cols, RowSource source) {
  Op& op = emit(OpCode::kAdd, OpKind::kElementwise, name);
  op.x = x, op.y = y, op.rows = rows, op.cols = cols, op.row_source = source;
}

void PlanBuilder::move_changed_rows(OpCode code, const std::string& name, Operand x, Operand y, int64_t rows, int64_t cols,
                                    RowSource source) {
  Op& op = emit(code, OpKind::kRows, name);
  op.x = x, op.y = y, op.rows = rows, op.cols = cols, op.row_source = source;
}

void PlanBuilder::elementwise(OpCode code, const std::string& name, Operand x, Operand y, int64_t count) {
  OpKind kind = OpKind::kElementwise;
  if (code == OpCode::kGelu) kind = OpKind::kGelu;
  if (code == OpCode::kCopy || code == OpCode::kZero) kind = OpKind::kCopy;
  Op& op = emit(code, kind, name);
  op.x = x, op.y = y, op.rows = 1, op.cols = count;
}

void PlanBuilder::transpose(const std::string& name, Operand x, int64_t rows, int64_t cols, Operand y) {
  Op& op = emit(OpCode::kTranspose, OpKind::kCopy, name);
  op.x = x, op.y = y, op.rows = rows, op.cols = cols;
}

void PlanBuilder::scatter_add_rows(const std::string& name, Operand x, const int32_t* index, int64_t rows, int64_t cols, Operand y) {
  Op& op = emit(OpCode::kScatterAddRows, OpKind::kRows, name);
  op.x = x, op.y = y, op.scatter = index, op.rows = rows, op.cols = cols;
}

void PlanBuilder::channel_mean(const std::string& name, Operand x, int64_t channels, int64_t pixels, Operand y) {
  Op& op = emit(OpCode::kChannelMean, OpKind::kResize, name);
  op.x = x, op.y = y, op.rows = channels, op.cols = pixels;
}

void PlanBuilder::broadcast(const std::string& name, Operand x, int64_t channels, int64_t pixels, Operand y) {
  Op& op = emit(OpCode::kBroadcast, OpKind::kResize, name);
  op.x = x, op.y = y, op.rows = channels, op.cols = pixels;
}

void PlanBuilder::resize(OpCode code, const std::string& name, Operand x, int64_t channels, int64_t h, int64_t w, int64_t out_h,
                         int64_t out_w, Operand y) {
  Op& op = emit(code, OpKind::kResize, name);
  op.x = x, op.y = y;
  op.map.channels = channels, op.map.h = h, op.map.w = w, op.map.out_h = out_h, op.map.out_w = out_w;
}

void PlanBuilder::blur(const std::string& name, Operand x, int64_t channels, int64_t h, int64_t w, Operand y) {
  Op& op = emit(OpCode::kBlur, OpKind::kResize, name);
  op.x = x, op.y = y;
  op.map.channels = channels, op.map.h = h, op.map.w = w, op.map.out_h = h, op.map.out_w = w;
}

}  // namespace adarun
