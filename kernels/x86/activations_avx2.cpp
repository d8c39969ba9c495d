// AVX2 GELU, LayerNorm and softmax: the AVX-512 twins' algorithms on 8-lane vectors, on the vector math of
// kernels/x86/avx2_math.h.
#include <immintrin.h>

#include <cmath>

#include "kernels/activations.h"
#include "kernels/x86/avx2_math.h"
#include "kernels/x86/avx2_lanes.h"

namespace adarun::avx2 {
namespace {

// Sum over a row of x (squared: of (x - centre)^2) in 16 float lanes, as the AVX-512 twin sums.
float row_sum(const float* row, int64_t dim, bool squared, float centre) {
  const __m256 centre_v = _mm256_set1_ps(centre);
  const auto term = [&](__m256 acc, __m256 x) {
    if (!squared) return _mm256_add_ps(acc, x);
    const __m256 d = _mm256_sub_ps(x, centre_v);
    return _mm256_fmadd_ps(d, d, acc);
  };
  __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    lo = term(lo, _mm256_loadu_ps(row + i));
    hi = term(hi, _mm256_loadu_ps(row + i + 8));
  }
  if (i + 8 <= dim) {
    lo = term(lo, _mm256_loadu_ps(row + i));
    i += 8;
  }
  // The tail's padding lanes hold `centre` (squared) or 0, so they add nothing.
  if (i < dim) hi = term(hi, load_tail(row + i, dim - i, squared ? centre : 0.0f));
  return horizontal_sum(_mm256_add_ps(lo, hi));
}

}  // namespace

void gelu(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, gelu_ps(_mm256_loadu_ps(x + i)));
  if (i < n) store_tail(x + i, gelu_ps(load_tail(x + i, n - i, 0.0f)), n - i);
}

// Two passes (mean, then centred squares) like the reference, in float lanes.
void layer_norm(const float* x, int64_t rows, int64_t dim, const float* gamma, const float* beta, float eps, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x + r * dim;
    const float mean = row_sum(row, dim, false, 0.0f) / float(dim);
    const float inv_std = 1.0f / std::sqrt(row_sum(row, dim, true, mean) / float(dim) + eps);
    const __m256 mean_v = _mm256_set1_ps(mean), inv_std_v = _mm256_set1_ps(inv_std);
    const auto normalise = [&](__m256 v, __m256 g, __m256 b) {
      return _mm256_fmadd_ps(_mm256_mul_ps(_mm256_sub_ps(v, mean_v), inv_std_v), g, b);
    };
    float* out = y + r * dim;
    int64_t i = 0;
    for (; i + 8 <= dim; i += 8) {
      _mm256_storeu_ps(out + i, normalise(_mm256_loadu_ps(row + i), _mm256_loadu_ps(gamma + i), _mm256_loadu_ps(beta + i)));
    }
    if (i < dim) {
      const int64_t count = dim - i;
      store_tail(out + i, normalise(load_tail(row + i, count, 0.0f), load_tail(gamma + i, count, 0.0f), load_tail(beta + i, count, 0.0f)),
                 count);
    }
  }
}

void softmax_rows_strided(float* x, int64_t rows, int64_t cols, int64_t stride) {
  const int64_t full = cols / 8 * 8, tail = cols - full;
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x + r * stride;
    __m256 max = _mm256_set1_ps(-INFINITY);
    for (int64_t i = 0; i < full; i += 8) max = _mm256_max_ps(max, _mm256_loadu_ps(row + i));
    if (tail) max = _mm256_max_ps(max, load_tail(row + full, tail, -INFINITY));
    const __m256 row_max = _mm256_set1_ps(horizontal_max(max));
    __m256 sum = _mm256_setzero_ps();
    for (int64_t i = 0; i < full; i += 8) {
      const __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(row + i), row_max));
      sum = _mm256_add_ps(sum, e);
      _mm256_storeu_ps(row + i, e);
    }
    if (tail) {
      // The sum re-reads the stored lanes, so the padding lanes' exp adds nothing.
      const __m256 e = exp_ps(_mm256_sub_ps(load_tail(row + full, tail, 0.0f), row_max));
      store_tail(row + full, e, tail);
      sum = _mm256_add_ps(sum, load_tail(row + full, tail, 0.0f));
    }
    const __m256 inv = _mm256_set1_ps(1.0f / horizontal_sum(sum));
    for (int64_t i = 0; i < full; i += 8) _mm256_storeu_ps(row + i, _mm256_mul_ps(_mm256_loadu_ps(row + i), inv));
    if (tail) store_tail(row + full, _mm256_mul_ps(load_tail(row + full, tail, 0.0f), inv), tail);
  }
}

}  // namespace adarun::avx2
