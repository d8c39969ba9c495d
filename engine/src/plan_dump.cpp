#include "engine/src/plan_dump.h"

#include <cstdio>
#include <cstring>

namespace adarun {
namespace {

std::string operand_text(const Plan& plan, const Operand& operand) {
  if (operand.buffer == kFrameInput) return "input";
  if (!operand.valid()) return "-";
  std::string text = plan.buffers[operand.buffer].name;
  if (operand.offset) text += "+" + std::to_string(operand.offset);
  return text;
}

std::string shape_text(const Op& op) {
  char text[96];
  switch (op.code) {
    case OpCode::kConv:
    case OpCode::kConvDelta:
    case OpCode::kConvChangedRows:
      std::snprintf(text, sizeof text, "%lldx%lldx%lld -> %lldx%lldx%lld k%lld s%lld", (long long)op.map.channels, (long long)op.map.h,
                    (long long)op.map.w, (long long)op.conv->out, (long long)op.map.out_h, (long long)op.map.out_w, (long long)op.conv->kernel,
                    (long long)op.map.stride);
      if (op.code == OpCode::kConvDelta) std::snprintf(text + std::strlen(text), sizeof text - std::strlen(text), " (delta)");
      if (op.code == OpCode::kConvChangedRows) std::snprintf(text + std::strlen(text), sizeof text - std::strlen(text), " (changed rows)");
      if (op.map.dilation != 1) std::snprintf(text + std::strlen(text), sizeof text - std::strlen(text), " d%lld", (long long)op.map.dilation);
      return text;
    case OpCode::kConvTranspose:
      std::snprintf(text, sizeof text, "%lldx%lldx%lld -> %lldx%lldx%lld k%lld s%lld (transposed)", (long long)op.map.channels,
                    (long long)op.map.h, (long long)op.map.w, (long long)op.conv_transpose->out, (long long)op.map.out_h,
                    (long long)op.map.out_w, (long long)op.conv_transpose->kernel, (long long)op.map.stride);
      return text;
    case OpCode::kResizeNearest:
    case OpCode::kResizeBilinear:
      std::snprintf(text, sizeof text, "%lldx%lldx%lld -> %lldx%lld", (long long)op.map.channels, (long long)op.map.h, (long long)op.map.w,
                    (long long)op.map.out_h, (long long)op.map.out_w);
      return text;
    case OpCode::kBlur:
      std::snprintf(text, sizeof text, "%lldx%lldx%lld [1/8 3/4 1/8]", (long long)op.map.channels, (long long)op.map.h, (long long)op.map.w);
      return text;
    case OpCode::kLinear:
      std::snprintf(text, sizeof text, "%s%lld x %lld -> %lld", op.row_source == RowSource::kKept ? "kept<=" : op.row_source == RowSource::kActive ? "changed<=" : "", (long long)op.rows, (long long)op.linear->in,
                    (long long)op.linear->out);
      return text;
    case OpCode::kWindowAttention:
      std::snprintf(text, sizeof text, "%lld windows x %lld tokens, %lld heads x %lld", (long long)op.windows, (long long)op.window_tokens,
                    (long long)op.heads, (long long)op.head_dim);
      return text;
    case OpCode::kJump:
    case OpCode::kBlockGate:
    case OpCode::kTokenPolicy:
      std::snprintf(text, sizeof text, "skip to %d", op.jump);
      if (op.code != OpCode::kTokenPolicy) return text;
      [[fallthrough]];
    default:
      std::snprintf(text, sizeof text, "%lld x %lld", (long long)op.rows, (long long)op.cols);
      return text;
  }
}

}  // namespace

std::string plan_text(const Plan& plan) {
  std::string text;
  char line[512];
  std::snprintf(line, sizeof line, "plan: %zu ops, %zu buffers in a %.1f MB arena, static %.3f GMACs\n", plan.ops.size(), plan.buffers.size(),
                double(plan.arena_floats) * 4e-6, double(plan.static_macs) * 1e-9);
  text += line;
  std::snprintf(line, sizeof line, "%5s  %-18s %-40s %-44s %10s  %s\n", "op", "code", "name", "shape", "MACs", "in -> out");
  text += line;
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    const Op& op = plan.ops[i];
    std::snprintf(line, sizeof line, "%5zu  %-18s %-40s %-44s %10lld  %s -> %s\n", i, op_code_name(op.code), op.name.c_str(), shape_text(op).c_str(),
                  (long long)op.macs(op.rows), operand_text(plan, op.x).c_str(), operand_text(plan, op.y).c_str());
    text += line;
  }
  std::snprintf(line, sizeof line, "\n%-48s %10s %10s %13s\n", "buffer", "KB", "offset KB", "ops");
  text += line;
  for (const PlanBuffer& buffer : plan.buffers) {
    if (buffer.first_op < 0) continue;
    std::snprintf(line, sizeof line, "%-48s %10.1f %10.1f %6d-%-6d\n", buffer.name.c_str(), double(buffer.floats) * 4e-3,
                  double(buffer.offset) * 4e-3, buffer.first_op, buffer.last_op);
    text += line;
  }
  return text;
}

const char* op_code_name(OpCode code) {
  switch (code) {
    case OpCode::kConv: return "conv";
    case OpCode::kConvTranspose: return "conv_transpose";
    case OpCode::kLinear: return "linear";
    case OpCode::kLowRank: return "low_rank";
    case OpCode::kLayerNorm: return "layer_norm";
    case OpCode::kWindowAttention: return "window_attention";
    case OpCode::kGelu: return "gelu";
    case OpCode::kRelu: return "relu";
    case OpCode::kAdd: return "add";
    case OpCode::kCopy: return "copy";
    case OpCode::kZero: return "zero";
    case OpCode::kTranspose: return "transpose";
    case OpCode::kScatterAddRows: return "scatter_add_rows";
    case OpCode::kMergeCells: return "merge_cells";
    case OpCode::kResizeNearest: return "resize_nearest";
    case OpCode::kResizeBilinear: return "resize_bilinear";
    case OpCode::kBlur: return "blur_1_6_1";
    case OpCode::kChannelMean: return "channel_mean";
    case OpCode::kBroadcast: return "broadcast";
    case OpCode::kBlockPolicy: return "block_policy";
    case OpCode::kBlockGate: return "block_gate";
    case OpCode::kTokenPolicy: return "token_policy";
    case OpCode::kWindowChange: return "window_change";
    case OpCode::kConvDelta: return "conv_delta";
    case OpCode::kConvChangedRows: return "conv_changed_rows";
    case OpCode::kGatherRows: return "gather_rows";
    case OpCode::kScatterRows: return "scatter_rows";
    case OpCode::kJump: return "jump";
  }
  return "?";
}

}  // namespace adarun
