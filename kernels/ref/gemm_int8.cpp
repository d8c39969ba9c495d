#include "kernels/ref/gemm_int8.h"

#include <cmath>
#include <vector>

namespace adarun::ref {

float quantize_row(const float* x, int64_t k, int8_t* q) {
  float max_abs = 0.0f;
  for (int64_t j = 0; j < k; ++j) max_abs = std::fmax(max_abs, std::fabs(x[j]));
  if (quantizes_to_zero(max_abs)) {
    for (int64_t j = 0; j < k; ++j) q[j] = 0;
    return row_scale(max_abs);
  }
  const float inverse = 127.0f / max_abs;
  for (int64_t j = 0; j < k; ++j) {
    const float v = std::nearbyint(x[j] * inverse);  // the default rounding: to nearest, ties to even
    q[j] = static_cast<int8_t>(v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v);
  }
  return row_scale(max_abs);
}

void linear_int8(const float* x, int64_t rows, int64_t in, const int8_t* w, const float* w_scale, const float* bias, int64_t out,
                 float* y) {
  std::vector<int8_t> q(static_cast<size_t>(in));
  for (int64_t i = 0; i < rows; ++i) {
    const float row_scale = quantize_row(x + i * in, in, q.data());
    for (int64_t o = 0; o < out; ++o) {
      int32_t sum = 0;
      for (int64_t j = 0; j < in; ++j) sum += int32_t{q[size_t(j)]} * int32_t{w[o * in + j]};
      const float value = static_cast<float>(sum) * (row_scale * w_scale[o]);
      y[i * out + o] = bias ? value + bias[o] : value;
    }
  }
}

}  // namespace adarun::ref
