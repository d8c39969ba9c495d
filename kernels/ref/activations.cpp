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

void layer_norm(const float* x, int64_t rows, int64_t dim, const float* gamma, const float* beta, float eps, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x + r * dim;
    // Two passes in double keep the variance exact enough for any activation scale.
    double sum = 0.0;
    for (int64_t i = 0; i < dim; ++i) sum += row[i];
    const double mean = sum / double(dim);
    double squares = 0.0;
    for (int64_t i = 0; i < dim; ++i) squares += (row[i] - mean) * (row[i] - mean);
    const float inv_std = static_cast<float>(1.0 / std::sqrt(squares / double(dim) + double(eps)));
    const float mean_f = static_cast<float>(mean);
    float* out = y + r * dim;
    for (int64_t i = 0; i < dim; ++i) out[i] = (row[i] - mean_f) * inv_std * gamma[i] + beta[i];
  }
}

}  // namespace adarun::ref
