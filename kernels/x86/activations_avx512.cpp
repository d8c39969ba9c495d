// AVX-512 GELU, LayerNorm and softmax, on the vector math of kernels/x86/avx512_math.h.
#include <immintrin.h>

#include <cmath>

#include "kernels/activations.h"
#include "kernels/x86/avx512_math.h"

namespace adarun::avx512 {
namespace {

__mmask16 tail_mask(int64_t remaining) { return static_cast<__mmask16>(remaining >= 16 ? 0xFFFFu : (1u << remaining) - 1); }

}  // namespace

void gelu(float* x, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 mask = tail_mask(n - i);
    const __m512 v = _mm512_maskz_loadu_ps(mask, x + i);
    _mm512_mask_storeu_ps(x + i, mask, gelu_ps(v));
  }
}

// Two passes (mean, then centred squares) like the reference, in float lanes.
void layer_norm(const float* x, int64_t rows, int64_t dim, const float* gamma, const float* beta, float eps, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x + r * dim;
    __m512 sum = _mm512_setzero_ps();
    for (int64_t i = 0; i < dim; i += 16) sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(tail_mask(dim - i), row + i));
    const float mean = _mm512_reduce_add_ps(sum) / float(dim);
    const __m512 mean_v = _mm512_set1_ps(mean);
    __m512 squares = _mm512_setzero_ps();
    for (int64_t i = 0; i < dim; i += 16) {
      const __mmask16 mask = tail_mask(dim - i);
      const __m512 centred = _mm512_maskz_sub_ps(mask, _mm512_maskz_loadu_ps(mask, row + i), mean_v);
      squares = _mm512_fmadd_ps(centred, centred, squares);
    }
    const __m512 inv_std = _mm512_set1_ps(1.0f / std::sqrt(_mm512_reduce_add_ps(squares) / float(dim) + eps));
    float* out = y + r * dim;
    for (int64_t i = 0; i < dim; i += 16) {
      const __mmask16 mask = tail_mask(dim - i);
      const __m512 normed = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, row + i), mean_v), inv_std);
      const __m512 v = _mm512_fmadd_ps(normed, _mm512_maskz_loadu_ps(mask, gamma + i), _mm512_maskz_loadu_ps(mask, beta + i));
      _mm512_mask_storeu_ps(out + i, mask, v);
    }
  }
}

void softmax_rows_strided(float* x, int64_t rows, int64_t cols, int64_t stride) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x + r * stride;
    __m512 max = _mm512_set1_ps(-INFINITY);
    for (int64_t i = 0; i < cols; i += 16) {
      max = _mm512_max_ps(max, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), tail_mask(cols - i), row + i));
    }
    const __m512 row_max = _mm512_set1_ps(_mm512_reduce_max_ps(max));
    __m512 sum = _mm512_setzero_ps();
    for (int64_t i = 0; i < cols; i += 16) {
      const __mmask16 mask = tail_mask(cols - i);
      const __m512 e = exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, row + i), row_max));
      sum = _mm512_add_ps(sum, _mm512_maskz_mov_ps(mask, e));
      _mm512_mask_storeu_ps(row + i, mask, e);
    }
    const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
    for (int64_t i = 0; i < cols; i += 16) {
      const __mmask16 mask = tail_mask(cols - i);
      _mm512_mask_storeu_ps(row + i, mask, _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, row + i), inv));
    }
  }
}

}  // namespace adarun::avx512
