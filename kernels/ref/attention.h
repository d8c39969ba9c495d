#pragma once
#include <cstdint>

namespace adarun::ref {

// One window of n tokens. qkv: [n, 3 * heads * head_dim], channels q|k|v, each head-major ([3][heads][head_dim]).
// Per head h: out[:, h] = softmax((q_h * scale) @ k_h^T + rel_bias[h] + mask) @ v_h, q scaled before the product
// as torch does. rel_bias: [heads, n, n]; mask: [n, n] added to every head, or nullptr.
// scratch: n * n floats; out: [n, heads * head_dim], must not alias qkv.
void window_attention(const float* qkv, int64_t n, int64_t heads, int64_t head_dim, const float* rel_bias, const float* mask,
                      float scale, float* scratch, float* out);

}  // namespace adarun::ref
