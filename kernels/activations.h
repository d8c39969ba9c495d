#pragma once
// Element-wise kernels dispatched by ISA; the reference twins are in kernels/ref/activations.h.
#include <cstdint>

#include "kernels/gemm.h"

namespace adarun {

// The vector exps give 0 below this argument. Their smallest results would make softmax's products (and
// attention's p v) denormal, and on Intel cores every denormal operand or result of a multiply or FMA takes
// a microcode assist: a shifted-window block's masked scores (-100) made attention 12x slower. exp(-80) is
// 1.8e-35, far below what a sum of floats near 1 can hold.
constexpr float kExpZeroBelow = -80.0f;

void gelu(Isa isa, float* x, int64_t n);
// Row-wise LayerNorm as ref::layer_norm; y may equal x.
void layer_norm(Isa isa, const float* x, int64_t rows, int64_t dim, const float* gamma, const float* beta, float eps, float* y);
// Softmax of `rows` rows of `cols` floats, rows `stride` floats apart.
void softmax_rows_strided(Isa isa, float* x, int64_t rows, int64_t cols, int64_t stride);

namespace avx2 {
void gelu(float* x, int64_t n);
void layer_norm(const float* x, int64_t rows, int64_t dim, const float* gamma, const float* beta, float eps, float* y);
void softmax_rows_strided(float* x, int64_t rows, int64_t cols, int64_t stride);
}  // namespace avx2

namespace avx512 {
void gelu(float* x, int64_t n);
void layer_norm(const float* x, int64_t rows, int64_t dim, const float* gamma, const float* beta, float eps, float* y);
void softmax_rows_strided(float* x, int64_t rows, int64_t cols, int64_t stride);
}  // namespace avx512

namespace neon {
void gelu(float* x, int64_t n);
void layer_norm(const float* x, int64_t rows, int64_t dim, const float* gamma, const float* beta, float eps, float* y);
void softmax_rows_strided(float* x, int64_t rows, int64_t cols, int64_t stride);
}  // namespace neon

}  // namespace adarun
