#pragma once
#include <cstdint>

namespace adarun::ref {

// Row-wise LayerNorm over `dim` (biased variance, eps inside the sqrt, as torch). y may equal x.
void layer_norm(const float* x, int64_t rows, int64_t dim, const float* gamma, const float* beta, float eps, float* y);

}  // namespace adarun::ref
