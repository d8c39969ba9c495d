#pragma once
// Window attention over all windows of a stage, on the ISA's packed GEMM and softmax, spread over the pool's threads.
// The reference twin is ref::window_attention (one window); tests/kernels/attention_test.cpp compares them.
#include <pthreadpool.h>

#include <cstdint>

#include "kernels/gemm.h"

namespace adarun {

struct WindowAttentionArgs {
  const float* qkv = nullptr;   // [windows * n, 3 * heads * head_dim], window-major
  const float* rel_bias = nullptr;  // [heads, n, n]
  const float* masks = nullptr;     // [stage windows, n, n] or nullptr
  const int32_t* mask_index = nullptr;  // window w of qkv takes masks[mask_index[w]] (a subset of a stage's windows); nullptr: masks[w]
  float* out = nullptr;             // [windows * n, heads * head_dim]
  int64_t windows = 0, n = 0, heads = 0, head_dim = 0;
  float scale = 1.0f;
};

// scratch: window_attention_scratch_floats(n, head_dim) per thread of the pool (threads counted).
int64_t window_attention_scratch_floats(int64_t n, int64_t head_dim);
void window_attention(Isa isa, const WindowAttentionArgs& args, float* scratch, int threads, pthreadpool_t pool);

}  // namespace adarun
