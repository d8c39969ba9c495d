// AVX-512 GELU and softmax on a vector exp (Cody-Waite range reduction, degree-6 polynomial,
// ~1 ulp on the range used) and the Numerical Recipes erfc form (|error| < 1.2e-7).
#include <immintrin.h>

#include <cmath>

#include "kernels/activations.h"

namespace adarun::avx512 {
namespace {

__m512 exp_ps(__m512 x) {
  const __mmask16 representable = _mm512_cmp_ps_mask(x, _mm512_set1_ps(kExpZeroBelow), _CMP_GE_OQ);
  x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.3762626647949f)), _mm512_set1_ps(kExpZeroBelow));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_maskz_mov_ps(representable, _mm512_scalef_ps(p, n));
}

// erf(x) = 1 - erfc(|x|) with the sign of x; erfc(z) ~ t exp(-z^2 + P(t)), t = 1 / (1 + z/2).
__m512 erf_ps(__m512 x) {
  const __m512 z = _mm512_abs_ps(x);
  const __m512 t = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_fmadd_ps(z, _mm512_set1_ps(0.5f), _mm512_set1_ps(1.0f)));
  static const float c[] = {0.17087277f, -0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f,
                            -0.18628806f, 0.09678418f, 0.37409196f, 1.00002368f, -1.26551223f};
  __m512 p = _mm512_set1_ps(c[0]);
  for (int i = 1; i < 10; ++i) p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(c[i]));
  const __m512 erfc = _mm512_mul_ps(t, exp_ps(_mm512_fnmadd_ps(z, z, p)));
  const __m512 magnitude = _mm512_sub_ps(_mm512_set1_ps(1.0f), erfc);
  return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(magnitude),
                                             _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(int(0x80000000)))));
}

__mmask16 tail_mask(int64_t remaining) { return remaining >= 16 ? 0xFFFF : static_cast<__mmask16>((1u << remaining) - 1); }

}  // namespace

void gelu(float* x, int64_t n) {
  const __m512 half = _mm512_set1_ps(0.5f), inv_sqrt2 = _mm512_set1_ps(0.70710678118654752f), one = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 mask = tail_mask(n - i);
    const __m512 v = _mm512_maskz_loadu_ps(mask, x + i);
    const __m512 y = _mm512_mul_ps(_mm512_mul_ps(half, v), _mm512_add_ps(one, erf_ps(_mm512_mul_ps(v, inv_sqrt2))));
    _mm512_mask_storeu_ps(x + i, mask, y);
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
