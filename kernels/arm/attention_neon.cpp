// NEON window attention for one (window, head): the row kernels that kernels/attention_head_rows.h drives (k
// transposed once, every score row head_dim scalar-by-vector FMAs over 16 columns at a time).
#include <arm_neon.h>

#include "kernels/activations.h"
#include "kernels/arm/neon_lanes.h"
#include "kernels/attention.h"
#include "kernels/attention_head_rows.h"

namespace adarun::neon {
namespace {

// row[j, j + 16) = sum_d q_scaled[d] k_t[d, j + ...]; k_t rows are `padded` floats apart.
void score_block(const float* q, float scale, const float* k_t, int64_t padded, int64_t hd, float* row) {
  float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
  for (int64_t d = 0; d < hd; ++d) {
    const float q_scaled = q[d] * scale;  // rounded after scaling, as torch's q * scale
    for (int v = 0; v < 4; ++v) acc[v] = vfmaq_n_f32(acc[v], vld1q_f32(k_t + d * padded + 4 * v), q_scaled);
  }
  for (int v = 0; v < 4; ++v) vst1q_f32(row + 4 * v, acc[v]);
}

// row[0, n) += bias[0, n) (+ mask[0, n)).
void add_bias(const float* bias, const float* mask, int64_t n, float* row) {
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    float32x4_t s = vaddq_f32(vld1q_f32(row + j), vld1q_f32(bias + j));
    if (mask) s = vaddq_f32(s, vld1q_f32(mask + j));
    vst1q_f32(row + j, s);
  }
  for (; j < n; ++j) row[j] = mask ? row[j] + bias[j] + mask[j] : row[j] + bias[j];
}

// out[d, d + 4 V) = sum_j p[j] v[j, d + ...], V vectors wide; v rows are `stride` floats apart.
template <int V>
void weighted_block(const float* p, int64_t n, const float* v, int64_t stride, float* out) {
  float32x4_t acc[V];
  for (int i = 0; i < V; ++i) acc[i] = vdupq_n_f32(0.0f);
  for (int64_t j = 0; j < n; ++j) {
    for (int i = 0; i < V; ++i) acc[i] = vfmaq_n_f32(acc[i], vld1q_f32(v + j * stride + 4 * i), p[j]);
  }
  for (int i = 0; i < V; ++i) vst1q_f32(out + 4 * i, acc[i]);
}

// out[0, hd) = p v: 16 columns at a time, then 4, then the partial vector.
void weighted_rows(const float* p, int64_t n, const float* v, int64_t stride, int64_t hd, float* out) {
  int64_t d = 0;
  for (; d + 16 <= hd; d += 16) weighted_block<4>(p, n, v + d, stride, out + d);
  for (; d + 4 <= hd; d += 4) weighted_block<1>(p, n, v + d, stride, out + d);
  if (d == hd) return;
  float32x4_t acc = vdupq_n_f32(0.0f);
  for (int64_t j = 0; j < n; ++j) acc = vfmaq_n_f32(acc, load_tail(v + j * stride + d, hd - d, 0.0f), p[j]);
  store_tail(out + d, acc, hd - d);
}

struct Kernels {
  static constexpr auto score_block = adarun::neon::score_block;
  static constexpr auto add_bias = adarun::neon::add_bias;
  static constexpr auto softmax_rows_strided = adarun::neon::softmax_rows_strided;
  static constexpr auto weighted_rows = adarun::neon::weighted_rows;
};

}  // namespace

void attention_head(const WindowAttentionArgs& a, int64_t window, int64_t head, float* scratch) {
  attention_rows::attention_head<Kernels>(a, window, head, scratch);
}

}  // namespace adarun::neon
