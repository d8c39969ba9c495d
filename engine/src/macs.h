#pragma once
// Multiply-accumulate counts of the matrix work (SPEC 2 compute accounting).
// Counted: convolutions, linear layers, the two attention products, the policies.
// Not counted: norms, softmax, activations, resizes, data movement.
#include <cstdint>
#include <vector>

#include "engine/src/config.h"

namespace adarun::macs {

int64_t patch_embed(const ModelConfig& config);
// A block's attention half (qkv, q k^T, attn v, proj) over all its tokens.
int64_t block_attention(const StageGeometry& stage);
// A block's MLP over `kept` tokens.
int64_t block_mlp(const StageGeometry& stage, int64_t kept);
int64_t patch_merging(const StageGeometry& stage);
// One evaluation of one policy network.
int64_t block_policy(const ModelConfig& config, const StageGeometry& stage);
int64_t token_policy(const ModelConfig& config, const StageGeometry& stage);
int64_t conv(int64_t in, int64_t out, int64_t kernel, int64_t out_height, int64_t out_width);
int64_t decoder(const ModelConfig& config, int64_t task_outputs);
// The backbone of the static model: no policies, every block and token.
int64_t static_backbone(const ModelConfig& config);
// MTLoRA: one low-rank adapter over `tokens` rows.
int64_t low_rank(int64_t tokens, int64_t in, int64_t out, int64_t rank);
// MTLoRA: the extra work of stage i's forked last block for one task stream (adapters, merging).
int64_t task_stream(const ModelConfig& config, int stage, int task_index);
// MTLoRA: the shared adapters that forking layers keep apart ('matrix' mode), stage i.
int64_t separate_shared_adapters(const ModelConfig& config, int stage);
int64_t hrnet_decoder(const ModelConfig& config, int64_t task_outputs);
// What a frame costs with no gating, for the given task indices: the reference for macs_executed.
int64_t static_model(const ModelConfig& config, const std::vector<int>& task_indices);

}  // namespace adarun::macs
