#pragma once
#include <cstdint>

namespace adarun::ref {

void gelu(float* x, int64_t n);  // exact: 0.5 x (1 + erf(x / sqrt(2)))
void relu(float* x, int64_t n);
void softmax_rows(float* x, int64_t rows, int64_t cols);  // subtracts the row max first
// Row-wise LayerNorm over `dim` (biased variance, eps inside the sqrt, as torch). y may equal x.
void layer_norm(const float* x, int64_t rows, int64_t dim, const float* gamma, const float* beta, float eps, float* y);

}  // namespace adarun::ref
