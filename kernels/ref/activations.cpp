#include "kernels/ref/activations.h"

#include <algorithm>
#include <cmath>

namespace adarun::ref {

void gelu(float* x, int64_t n) {
  const float inv_sqrt2 = 0.70710678118654752f;
  for (int64_t i = 0; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * inv_sqrt2));
}

void relu(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = std::max(x[i], 0.0f);
}

void softmax_rows(float* x, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x + r * cols;
    const float max = *std::max_element(row, row + cols);
    float sum = 0.0f;
    for (int64_t i = 0; i < cols; ++i) sum += (row[i] = std::exp(row[i] - max));
    const float inv = 1.0f / sum;
    for (int64_t i = 0; i < cols; ++i) row[i] *= inv;
  }
}

}  // namespace adarun::ref
