// AVX-512 window attention for one (window, head): k is transposed once into [head_dim, n] so that
// every score row is head_dim broadcast-FMAs over n lanes; softmax and attn v stay in vectors.
#include <immintrin.h>

#include <cmath>

#include "kernels/activations.h"
#include "kernels/attention.h"

namespace adarun::avx512 {
namespace {

__mmask16 lanes(int64_t remaining) { return remaining >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << remaining) - 1); }

}  // namespace

void attention_head(const WindowAttentionArgs& a, int64_t window, int64_t head, float* scratch) {
  const int64_t n = a.n, hd = a.head_dim, dim = a.heads * hd, stride = 3 * dim;
  const int64_t padded = (n + 15) / 16 * 16;
  const float* q = a.qkv + window * n * stride + head * hd;
  const float* k = q + dim;
  const float* v = q + 2 * dim;
  float* scores = scratch;                  // [n, padded]
  float* k_t = scratch + padded * n;        // [hd, padded]
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t d = 0; d < hd; ++d) k_t[d * padded + j] = k[j * stride + d];
  }
  const float* bias = a.rel_bias + head * n * n;
  const float* mask = a.masks ? a.masks + window * n * n : nullptr;
  for (int64_t i = 0; i < n; ++i) {
    float* row = scores + i * padded;
    for (int64_t j = 0; j < n; j += 16) {
      const __mmask16 m = lanes(n - j);
      __m512 acc = _mm512_maskz_loadu_ps(m, bias + i * n + j);
      if (mask) acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(m, mask + i * n + j));
      __m512 dot = _mm512_setzero_ps();
      for (int64_t d = 0; d < hd; ++d) dot = _mm512_fmadd_ps(_mm512_set1_ps(q[i * stride + d] * a.scale), _mm512_loadu_ps(k_t + d * padded + j), dot);
      _mm512_storeu_ps(row + j, _mm512_add_ps(dot, acc));
    }
  }
  softmax_rows_strided(scores, n, n, padded);
  float* out = a.out + window * n * dim + head * hd;
  for (int64_t i = 0; i < n; ++i) {
    const float* p = scores + i * padded;
    for (int64_t d = 0; d < hd; d += 16) {
      const __mmask16 m = lanes(hd - d);
      __m512 acc = _mm512_setzero_ps();
      for (int64_t j = 0; j < n; ++j) acc = _mm512_fmadd_ps(_mm512_set1_ps(p[j]), _mm512_maskz_loadu_ps(m, v + j * stride + d), acc);
      _mm512_mask_storeu_ps(out + i * dim + d, m, acc);
    }
  }
}

}  // namespace adarun::avx512
