#pragma once
#include <cstdint>

namespace adarun::ref {

// One window of n tokens. qkv: [n, 3 * heads * head_dim], channels q|k|v, each head-major.
// Per head h: out[:, h] = softmax(q_h * scale @ k_h^T + rel_bias[h] + mask) @ v_h.
// rel_bias: [heads, n, n]; mask: [n, n] or nullptr; scratch: n * n floats; out: [n, heads * head_dim].
void window_attention(const float* qkv, int64_t n, int64_t heads, int64_t head_dim, const float* rel_bias, const float* mask,
                      float scale, float* scratch, float* out);

}  // namespace adarun::ref
