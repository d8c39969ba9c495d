#pragma once
#include <cstdint>

namespace adarun::ref {

void gelu(float* x, int64_t n);  // exact: 0.5 x (1 + erf(x / sqrt(2)))
void relu(float* x, int64_t n);
void softmax_rows(float* x, int64_t rows, int64_t cols);  // subtracts the row max first

}  // namespace adarun::ref
