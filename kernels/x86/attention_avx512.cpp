// AVX-512 window attention for one (window, head): k is transposed once into [head_dim, n] so that a score row is
// head_dim broadcast-FMAs over n lanes; softmax and attn v stay in vectors. Rows are taken two (scores) or four
// (attn v) at a time so that enough independent FMA chains hide the FMA latency.
#include <immintrin.h>

#include <algorithm>

#include "kernels/activations.h"
#include "kernels/attention.h"

namespace adarun::avx512 {
namespace {

__mmask16 lanes(int64_t remaining) {
  if (remaining <= 0) return 0;
  return remaining >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << remaining) - 1);
}

struct HeadView {
  const float* q;
  const float* k;
  const float* v;
  int64_t n, hd, stride, padded;
  float scale;
};

// Score rows [i, i + R), column blocks [j, j + 16 B): q k^T scaled, plus the bias and the mask, into `scores`.
template <int R, int B>
void score_tile(const HeadView& h, const float* k_t, const float* bias, const float* mask, int64_t i, int64_t j, float* scores) {
  __m512 acc[R][B];
  for (int r = 0; r < R; ++r) {
    for (int b = 0; b < B; ++b) acc[r][b] = _mm512_setzero_ps();
  }
  for (int64_t d = 0; d < h.hd; ++d) {
    __m512 keys[B];
    for (int b = 0; b < B; ++b) keys[b] = _mm512_loadu_ps(k_t + d * h.padded + j + 16 * b);
    for (int r = 0; r < R; ++r) {
      const __m512 query = _mm512_set1_ps(h.q[(i + r) * h.stride + d] * h.scale);
      for (int b = 0; b < B; ++b) acc[r][b] = _mm512_fmadd_ps(query, keys[b], acc[r][b]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int b = 0; b < B; ++b) {
      const int64_t col = j + 16 * b, at = (i + r) * h.n + col;
      const __mmask16 m = lanes(h.n - col);
      __m512 add = _mm512_maskz_loadu_ps(m, bias + at);
      if (mask) add = _mm512_add_ps(add, _mm512_maskz_loadu_ps(m, mask + at));
      _mm512_storeu_ps(scores + (i + r) * h.padded + col, _mm512_add_ps(acc[r][b], add));
    }
  }
}

template <int R>
void score_rows(const HeadView& h, const float* k_t, const float* bias, const float* mask, int64_t i, float* scores) {
  int64_t j = 0;
  for (; j + 64 <= h.padded; j += 64) score_tile<R, 4>(h, k_t, bias, mask, i, j, scores);
  switch ((h.padded - j) / 16) {
    case 3: score_tile<R, 3>(h, k_t, bias, mask, i, j, scores); break;
    case 2: score_tile<R, 2>(h, k_t, bias, mask, i, j, scores); break;
    case 1: score_tile<R, 1>(h, k_t, bias, mask, i, j, scores); break;
    default: break;
  }
}

// Output rows [i, i + R), head columns [d, d + 32): the softmaxed scores times v.
template <int R>
void value_tile(const HeadView& h, const float* scores, int64_t i, int64_t d, float* out, int64_t out_stride) {
  const __mmask16 m0 = lanes(h.hd - d), m1 = lanes(h.hd - d - 16);
  __m512 acc[R][2];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int64_t j = 0; j < h.n; ++j) {
    const __m512 v0 = _mm512_maskz_loadu_ps(m0, h.v + j * h.stride + d);
    const __m512 v1 = _mm512_maskz_loadu_ps(m1, h.v + j * h.stride + d + 16);
    for (int r = 0; r < R; ++r) {
      const __m512 p = _mm512_set1_ps(scores[(i + r) * h.padded + j]);
      acc[r][0] = _mm512_fmadd_ps(p, v0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(p, v1, acc[r][1]);
    }
  }
  for (int r = 0; r < R; ++r) {
    _mm512_mask_storeu_ps(out + (i + r) * out_stride + d, m0, acc[r][0]);
    _mm512_mask_storeu_ps(out + (i + r) * out_stride + d + 16, m1, acc[r][1]);
  }
}

template <int R>
void value_rows(const HeadView& h, const float* scores, int64_t i, float* out, int64_t out_stride) {
  for (int64_t d = 0; d < h.hd; d += 32) value_tile<R>(h, scores, i, d, out, out_stride);
}

}  // namespace

void attention_head(const WindowAttentionArgs& a, int64_t window, int64_t head, float* scratch) {
  const int64_t dim = a.heads * a.head_dim;
  HeadView h;
  h.n = a.n, h.hd = a.head_dim, h.stride = 3 * dim, h.padded = (a.n + 15) / 16 * 16, h.scale = a.scale;
  h.q = a.qkv + window * a.n * h.stride + head * a.head_dim;
  h.k = h.q + dim;
  h.v = h.q + 2 * dim;
  float* scores = scratch;                  // [n, padded]
  float* k_t = scratch + h.padded * h.n;    // [hd, padded], zero past n
  for (int64_t d = 0; d < h.hd; ++d) std::fill(k_t + d * h.padded + h.n, k_t + (d + 1) * h.padded, 0.0f);
  for (int64_t j = 0; j < h.n; ++j) {
    for (int64_t d = 0; d < h.hd; ++d) k_t[d * h.padded + j] = h.k[j * h.stride + d];
  }
  const float* bias = a.rel_bias + head * h.n * h.n;
  const float* mask = a.masks ? a.masks + window * h.n * h.n : nullptr;
  int64_t i = 0;
  for (; i + 2 <= h.n; i += 2) score_rows<2>(h, k_t, bias, mask, i, scores);
  if (i < h.n) score_rows<1>(h, k_t, bias, mask, i, scores);
  softmax_rows_strided(scores, h.n, h.n, h.padded);
  float* out = a.out + window * h.n * dim + head * h.hd;
  for (i = 0; i + 4 <= h.n; i += 4) value_rows<4>(h, scores, i, out, dim);
  for (; i < h.n; ++i) value_rows<1>(h, scores, i, out, dim);
}

}  // namespace adarun::avx512
