// AVX2 window attention for one (window, head): the row kernels that kernels/attention_head_rows.h drives (k
// transposed once, every score row head_dim broadcast-FMAs over 16 columns at a time).
#include <immintrin.h>

#include "kernels/activations.h"
#include "kernels/attention.h"
#include "kernels/attention_head_rows.h"
#include "kernels/x86/avx2_lanes.h"

namespace adarun::avx2 {
namespace {

// row[j, j + 16) = sum_d q_scaled[d] k_t[d, j + ...]; k_t rows are `padded` floats apart.
void score_block(const float* q, float scale, const float* k_t, int64_t padded, int64_t hd, float* row) {
  __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
  for (int64_t d = 0; d < hd; ++d) {
    const __m256 q_scaled = _mm256_set1_ps(q[d] * scale);  // rounded after scaling, as torch's q * scale
    lo = _mm256_fmadd_ps(q_scaled, _mm256_loadu_ps(k_t + d * padded), lo);
    hi = _mm256_fmadd_ps(q_scaled, _mm256_loadu_ps(k_t + d * padded + 8), hi);
  }
  _mm256_storeu_ps(row, lo);
  _mm256_storeu_ps(row + 8, hi);
}

// row[0, n) += bias[0, n) (+ mask[0, n)).
void add_bias(const float* bias, const float* mask, int64_t n, float* row) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 s = _mm256_add_ps(_mm256_loadu_ps(row + j), _mm256_loadu_ps(bias + j));
    if (mask) s = _mm256_add_ps(s, _mm256_loadu_ps(mask + j));
    _mm256_storeu_ps(row + j, s);
  }
  for (; j < n; ++j) row[j] = mask ? row[j] + bias[j] + mask[j] : row[j] + bias[j];
}

// out[d, d + 8 V) = sum_j p[j] v[j, d + ...], V vectors wide; v rows are `stride` floats apart.
template <int V>
void weighted_block(const float* p, int64_t n, const float* v, int64_t stride, float* out) {
  __m256 acc[V];
#pragma GCC unroll 4
  for (int i = 0; i < V; ++i) acc[i] = _mm256_setzero_ps();
  for (int64_t j = 0; j < n; ++j) {
    const __m256 weight = _mm256_set1_ps(p[j]);
#pragma GCC unroll 4
    for (int i = 0; i < V; ++i) acc[i] = _mm256_fmadd_ps(weight, _mm256_loadu_ps(v + j * stride + 8 * i), acc[i]);
  }
#pragma GCC unroll 4
  for (int i = 0; i < V; ++i) _mm256_storeu_ps(out + 8 * i, acc[i]);
}

// out[0, hd) = p v: 32 columns at a time, then 8, then the partial vector.
void weighted_rows(const float* p, int64_t n, const float* v, int64_t stride, int64_t hd, float* out) {
  int64_t d = 0;
  for (; d + 32 <= hd; d += 32) weighted_block<4>(p, n, v + d, stride, out + d);
  for (; d + 8 <= hd; d += 8) weighted_block<1>(p, n, v + d, stride, out + d);
  if (d == hd) return;
  __m256 acc = _mm256_setzero_ps();
  for (int64_t j = 0; j < n; ++j) acc = _mm256_fmadd_ps(_mm256_set1_ps(p[j]), load_tail(v + j * stride + d, hd - d, 0.0f), acc);
  store_tail(out + d, acc, hd - d);
}

struct Kernels {
  static constexpr auto score_block = adarun::avx2::score_block;
  static constexpr auto add_bias = adarun::avx2::add_bias;
  static constexpr auto softmax_rows_strided = adarun::avx2::softmax_rows_strided;
  static constexpr auto weighted_rows = adarun::avx2::weighted_rows;
};

}  // namespace

void attention_head(const WindowAttentionArgs& a, int64_t window, int64_t head, float* scratch) {
  attention_rows::attention_head<Kernels>(a, window, head, scratch);
}

}  // namespace adarun::avx2
