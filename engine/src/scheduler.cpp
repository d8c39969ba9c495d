#include "engine/src/scheduler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

namespace adarun {
namespace {

using layers::Compute;

const float* input_of(const Op& op, const float* frame_input) { return op.x.buffer == kFrameInput ? frame_input : op.x.data; }

void run_attention(const Op& op, const Compute& compute) {
  WindowAttentionArgs args;
  args.qkv = op.x.data;
  args.rel_bias = op.rel_bias;
  args.masks = op.masks;
  args.out = op.y.data;
  args.windows = op.windows, args.n = op.window_tokens, args.heads = op.heads, args.head_dim = op.head_dim;
  args.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(op.head_dim)));
  layers::window_attention(compute, args, op.scratch.data);
}

}  // namespace

Scheduler::Scheduler(const ModelConfig& config) {
  int64_t tokens = 0, depth = 0;
  for (const StageGeometry& stage : config.stages) {
    block_gates_.emplace_back(static_cast<size_t>(stage.depth), 1);
    tokens = std::max(tokens, stage.tokens);
    depth = std::max(depth, stage.depth);
  }
  kept_index_.assign(static_cast<size_t>(tokens), 0);
  gate_order_.assign(static_cast<size_t>(std::max(tokens, depth)), 0);
}

void Scheduler::run(const Plan& plan, const Compute& compute, const GateSettings& settings, const float* input, FrameStats* stats,
                    OpProfile* profile) {
  input_ = input;
  settings_ = settings;
  stats->macs_executed = 0;
  const int32_t count = static_cast<int32_t>(plan.ops.size());
  for (int32_t i = 0; i < count;) {
    const Op& op = plan.ops[i];
    const auto start = profile ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    const int32_t next = execute(op, i, compute, stats);
    const int64_t macs = op.code == OpCode::kBlockGate ? 0 : op.macs(rows_run(op));
    stats->macs_executed += macs;
    if (profile && op.code != OpCode::kBlockGate) {  // a gate is control flow, not work
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      profile->add(op.kind, i, seconds, macs, rows_run(op));
    }
    i = next;
  }
}

int32_t Scheduler::execute(const Op& op, int32_t index, const Compute& compute, FrameStats* stats) {
  const int64_t n = op.rows * op.cols;
  switch (op.code) {
    case OpCode::kConv:
      layers::conv2d(compute, *op.conv, input_of(op, input_), op.map.h, op.map.w, op.map.stride, op.map.pad, op.map.dilation,
                     op.scratch.data, op.y.data);
      break;
    case OpCode::kConvTranspose:
      layers::conv_transpose2d(compute, *op.conv_transpose, op.x.data, op.map.h, op.map.w, op.map.stride, op.map.pad, op.map.output_pad,
                               op.scratch.data, op.y.data);
      break;
    case OpCode::kLinear: {
      layers::LinearFusion fusion;
      fusion.gather = op.gather_kept ? kept_index_.data() : op.gather;
      fusion.scatter = op.scatter_kept ? kept_index_.data() : op.scatter;
      fusion.gelu = op.gelu, fusion.accumulate = op.accumulate;
      fusion.gathered = op.scratch.data, fusion.unfused_out = op.scratch2.data;
      layers::linear(compute, op.x.data, rows_run(op), *op.linear, fusion, op.y.data);
      break;
    }
    case OpCode::kLowRank:
      layers::add_low_rank(compute, op.x.data, op.rows, op.cols, *op.low_rank, op.adapter_out, op.scratch.data, op.scratch2.data,
                           op.y.data);
      break;
    case OpCode::kLayerNorm: layers::layer_norm(compute, op.x.data, op.rows, op.cols, *op.norm, op.y.data); break;
    case OpCode::kWindowAttention: run_attention(op, compute); break;
    case OpCode::kGelu: layers::gelu(compute, op.y.data, n); break;
    case OpCode::kRelu: layers::relu(compute, op.y.data, n); break;
    case OpCode::kAdd: layers::add(compute, op.y.data, op.addend ? op.addend : op.x.data, n); break;
    case OpCode::kCopy: layers::copy(compute, op.x.data, n, op.y.data); break;
    case OpCode::kZero: std::memset(op.y.data, 0, sizeof(float) * static_cast<size_t>(n)); break;
    case OpCode::kTranspose: layers::transpose(compute, op.x.data, op.rows, op.cols, op.y.data); break;
    case OpCode::kScatterAddRows: layers::scatter_add_rows(compute, op.x.data, op.scatter, op.rows, op.cols, op.y.data); break;
    case OpCode::kMergeCells: layers::merge_cells(compute, op.x.data, op.rows, op.cols, op.y.data); break;
    case OpCode::kResizeNearest:
      layers::resize_nearest(compute, op.x.data, op.map.channels, op.map.h, op.map.w, op.map.out_h, op.map.out_w, op.y.data);
      break;
    case OpCode::kResizeBilinear:
      layers::resize_bilinear(compute, op.x.data, op.map.channels, op.map.h, op.map.w, op.map.out_h, op.map.out_w, op.y.data);
      break;
    case OpCode::kChannelMean: layers::channel_mean(compute, op.x.data, op.rows, op.cols, op.y.data); break;
    case OpCode::kBroadcast: layers::broadcast_channels(compute, op.x.data, op.rows, op.cols, op.y.data); break;
    case OpCode::kBlockPolicy: decide_gates(op, compute, block_gates_[op.stage].data()); break;
    case OpCode::kBlockGate: {
      const bool on = block_gates_[op.stage][op.block] != 0;
      stats->blocks[op.stage][op.block] = on;
      stats->tokens_kept[op.stage][op.block] = on ? op.rows : 0;
      kept_ = op.rows;
      if (on) break;
      std::vector<uint8_t>& mask = stats->token_masks[op.stage][op.block];
      std::fill(mask.begin(), mask.end(), 0);
      return op.jump;
    }
    case OpCode::kTokenPolicy: {
      uint8_t* mask = stats->token_masks[op.stage][op.block].data();
      decide_gates(op, compute, mask);
      kept_ = 0;
      for (int64_t t = 0; t < op.rows; ++t) {
        if (mask[t]) kept_index_[kept_++] = static_cast<int32_t>(t);
      }
      stats->tokens_kept[op.stage][op.block] = kept_;
      if (kept_ == 0) return op.jump;  // SPEC 2: an empty token set skips the whole block
      break;
    }
  }
  return index + 1;
}

// hidden = ReLU(mlp(x)) [tokens, h], logits = fc(hidden viewed as fc_rows rows); a gate's logit is the max over
// the policies, so "logit > T" is the OR of their decisions. With a budget f, the ceil(f n) highest are on.
void Scheduler::decide_gates(const Op& op, const Compute& compute, uint8_t* out) {
  const int64_t decisions = op.decisions;
  float* hidden = op.scratch.data;
  float* logits = op.scratch2.data;
  float* best = logits + decisions;
  std::fill(best, best + decisions, -std::numeric_limits<float>::infinity());
  for (const PolicyWeights* policy : op.policies) {
    layers::linear(compute, op.x.data, op.rows, policy->mlp, hidden);
    layers::relu(compute, hidden, op.rows * policy->mlp.out);
    layers::linear(compute, hidden, op.policy_fc_rows, policy->fc, logits);
    for (int64_t k = 0; k < decisions; ++k) best[k] = std::max(best[k], logits[k]);
  }
  if (settings_.budget <= 0.0f) {
    for (int64_t k = 0; k < decisions; ++k) out[k] = best[k] > settings_.threshold;
    return;
  }
  const int64_t keep = std::min(decisions, static_cast<int64_t>(std::ceil(double(settings_.budget) * double(decisions))));
  int32_t* order = gate_order_.data();
  std::iota(order, order + decisions, 0);
  std::nth_element(order, order + keep, order + decisions, [best](int32_t a, int32_t b) { return best[a] > best[b]; });
  std::fill(out, out + decisions, 0);
  for (int64_t k = 0; k < keep; ++k) out[order[k]] = 1;
}

}  // namespace adarun
