#pragma once
// One (window, head) of window attention a score row at a time, for the ISAs (AVX2, NEON) whose kernels give a
// row 16 columns at a time: k is transposed once into [head_dim, padded n], each score row is head_dim
// broadcast-FMAs over those columns, then the bias and mask, the row softmax and the weighted sum of v.
// Nothing here uses vector instructions: each ISA's file instantiates it with its own kernels, under its own flags.
#include <cstdint>

#include "kernels/attention.h"

namespace adarun::attention_rows {

// Kernels: score_block(q, scale, k_t, padded, hd, row) -> row[0, 16); add_bias(bias, mask, n, row);
// softmax_rows_strided(x, rows, cols, stride); weighted_rows(p, n, v, stride, hd, out).
template <typename Kernels>
void attention_head(const WindowAttentionArgs& a, int64_t window, int64_t head, float* scratch) {
  const int64_t n = a.n, hd = a.head_dim, dim = a.heads * hd, stride = 3 * dim;
  const int64_t padded = (n + 15) / 16 * 16;
  const float* q = a.qkv + window * n * stride + head * hd;
  const float* k = q + dim;
  const float* v = q + 2 * dim;
  float* scores = scratch;            // [n, padded]
  float* k_t = scratch + padded * n;  // [hd, padded]; columns past n are never read back
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t d = 0; d < hd; ++d) k_t[d * padded + j] = k[j * stride + d];
  }
  const float* bias = a.rel_bias + head * n * n;
  const float* mask = a.masks ? a.masks + window * n * n : nullptr;
  for (int64_t i = 0; i < n; ++i) {
    float* row = scores + i * padded;
    for (int64_t j = 0; j < n; j += 16) Kernels::score_block(q + i * stride, a.scale, k_t + j, padded, hd, row + j);
    Kernels::add_bias(bias + i * n, mask ? mask + i * n : nullptr, n, row);
  }
  Kernels::softmax_rows_strided(scores, n, n, padded);
  float* out = a.out + window * n * dim + head * hd;
  for (int64_t i = 0; i < n; ++i) Kernels::weighted_rows(scores + i * padded, n, v, stride, hd, out + i * dim);
}

}  // namespace adarun::attention_rows
