// NEON GELU, LayerNorm and softmax: the AVX-512 twins' algorithms on 4-lane vectors, on the vector math of
// kernels/arm/neon_math.h.
#include <arm_neon.h>

#include <cmath>

#include "kernels/activations.h"
#include "kernels/arm/neon_math.h"
#include "kernels/arm/neon_lanes.h"

namespace adarun::neon {
namespace {

// Sum over a row of x (squared: of (x - centre)^2) in 16 float lanes, as the AVX-512 twin sums.
float row_sum(const float* row, int64_t dim, bool squared, float centre) {
  const float32x4_t centre_v = vdupq_n_f32(centre);
  const auto term = [&](float32x4_t acc, float32x4_t x) {
    if (!squared) return vaddq_f32(acc, x);
    const float32x4_t d = vsubq_f32(x, centre_v);
    return vfmaq_f32(acc, d, d);
  };
  float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
  int64_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    for (int v = 0; v < 4; ++v) acc[v] = term(acc[v], vld1q_f32(row + i + 4 * v));
  }
  for (; i + 4 <= dim; i += 4) acc[0] = term(acc[0], vld1q_f32(row + i));
  // The tail's padding lanes hold `centre` (squared) or 0, so they add nothing.
  if (i < dim) acc[1] = term(acc[1], load_tail(row + i, dim - i, squared ? centre : 0.0f));
  return vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3])));
}

}  // namespace

void gelu(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(x + i, gelu_ps(vld1q_f32(x + i)));
  if (i < n) store_tail(x + i, gelu_ps(load_tail(x + i, n - i, 0.0f)), n - i);
}

// Two passes (mean, then centred squares) like the reference, in float lanes.
void layer_norm(const float* x, int64_t rows, int64_t dim, const float* gamma, const float* beta, float eps, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x + r * dim;
    const float mean = row_sum(row, dim, false, 0.0f) / float(dim);
    const float inv_std = 1.0f / std::sqrt(row_sum(row, dim, true, mean) / float(dim) + eps);
    const float32x4_t mean_v = vdupq_n_f32(mean), inv_std_v = vdupq_n_f32(inv_std);
    const auto normalise = [&](float32x4_t v, float32x4_t g, float32x4_t b) { return vfmaq_f32(b, vmulq_f32(vsubq_f32(v, mean_v), inv_std_v), g); };
    float* out = y + r * dim;
    int64_t i = 0;
    for (; i + 4 <= dim; i += 4) vst1q_f32(out + i, normalise(vld1q_f32(row + i), vld1q_f32(gamma + i), vld1q_f32(beta + i)));
    if (i < dim) {
      const int64_t count = dim - i;
      store_tail(out + i, normalise(load_tail(row + i, count, 0.0f), load_tail(gamma + i, count, 0.0f), load_tail(beta + i, count, 0.0f)),
                 count);
    }
  }
}

void softmax_rows_strided(float* x, int64_t rows, int64_t cols, int64_t stride) {
  const int64_t full = cols / 4 * 4, tail = cols - full;
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x + r * stride;
    float32x4_t max = vdupq_n_f32(-INFINITY);
    for (int64_t i = 0; i < full; i += 4) max = vmaxq_f32(max, vld1q_f32(row + i));
    if (tail) max = vmaxq_f32(max, load_tail(row + full, tail, -INFINITY));
    const float32x4_t row_max = vdupq_n_f32(vmaxvq_f32(max));
    float32x4_t sum = vdupq_n_f32(0.0f);
    for (int64_t i = 0; i < full; i += 4) {
      const float32x4_t e = exp_ps(vsubq_f32(vld1q_f32(row + i), row_max));
      sum = vaddq_f32(sum, e);
      vst1q_f32(row + i, e);
    }
    if (tail) {
      // The sum re-reads the stored lanes, so the padding lanes' exp adds nothing.
      const float32x4_t e = exp_ps(vsubq_f32(load_tail(row + full, tail, 0.0f), row_max));
      store_tail(row + full, e, tail);
      sum = vaddq_f32(sum, load_tail(row + full, tail, 0.0f));
    }
    const float32x4_t inv = vdupq_n_f32(1.0f / vaddvq_f32(sum));
    for (int64_t i = 0; i < full; i += 4) vst1q_f32(row + i, vmulq_f32(vld1q_f32(row + i), inv));
    if (tail) store_tail(row + full, vmulq_f32(load_tail(row + full, tail, 0.0f), inv), tail);
  }
}

}  // namespace adarun::neon
