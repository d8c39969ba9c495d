#pragma once
// The buffers of one session, all inside its arena. Sizes are the maxima over stages and tasks.
#include <array>
#include <cstdint>
#include <vector>

#include "engine/src/arena.h"
#include "engine/src/config.h"
#include "kernels/gemm.h"

namespace adarun {

// Attention scratch is sized for this many concurrent chunks; more threads share them.
constexpr int kMaxAttentionChunks = 64;
// Convolutions unfold one panel per chunk into the im2col buffer, sized for this many chunks.
constexpr int kMaxConvChunks = 16;

struct Workspace {
  // Backbone
  float* x = nullptr;             // the residual stream [tokens, dim]
  float* normed = nullptr;        // LN output, MLP residual branch
  float* windows = nullptr;       // normed rows in window order
  float* qkv = nullptr;
  float* attention = nullptr;     // attention output in window order
  float* projected = nullptr;
  float* mlp_rows = nullptr;      // kept rows gathered for the MLP
  float* mlp_hidden = nullptr;
  float* mlp_out = nullptr;
  float* scores = nullptr;        // one window's attention scores
  float* merge = nullptr;         // patch merging's [tokens/4, 4 dim]
  float* policy_hidden = nullptr;
  float* policy_logits = nullptr;
  float* im2col = nullptr;        // convolution scratch (patch embed and decoders)
  std::array<float*, kStages> stage_out{};
  // MTLoRA forked last blocks (SPEC 3)
  float* shared_attention = nullptr;  // proj output of the shared stream, window order
  float* shared_stream = nullptr;     // u = x + Attn, before the MLP
  float* fc1_base = nullptr;          // W1 LN2(u) + b1, shared by every stream
  float* fc2_base = nullptr;          // W2 h + b2, likewise
  float* task_attention = nullptr;
  float* task_stream = nullptr;
  float* task_normed = nullptr;
  float* task_hidden = nullptr;
  float* task_mlp_out = nullptr;
  float* rank_scratch = nullptr;      // x down^T
  float* low_rank_out = nullptr;      // (x down^T) up^T
  std::vector<std::array<float*, kStages>> task_stage_out;  // per task; the shared output where a stage does not fork
  // Decoders
  float* conv_a = nullptr;
  float* conv_b = nullptr;
  float* conv_c = nullptr;
  float* concat = nullptr;
  float* hrnet_map = nullptr;     // one stage output as CHW (MTLoRA decoders)
  float* head_hidden = nullptr;
  float* head_out = nullptr;
  std::vector<float*> outputs;    // per task of the model
  // Gate decisions
  std::vector<uint8_t> token_mask;
  std::vector<uint8_t> policy_mask;
  std::vector<int32_t> kept_index;
  std::vector<uint8_t> block_gates;
  std::vector<int32_t> gate_order;  // for budgeted top-k
  float* gate_logits = nullptr;     // max over the active policies
};

// Sizes every buffer for `config`, allocates them in `arena` at once and points `workspace` at them.
bool create_workspace(const ModelConfig& config, Isa isa, Arena* arena, Workspace* workspace);

}  // namespace adarun
