#include "kernels/activations.h"

#include "kernels/ref/activations.h"

namespace adarun {

void gelu([[maybe_unused]] Isa isa, float* x, int64_t n) {
#ifdef ADARUN_X86_KERNELS
  if (isa == Isa::kAvx512) return avx512::gelu(x, n);
  if (isa == Isa::kAvx2) return avx2::gelu(x, n);
#endif
#ifdef ADARUN_ARM_KERNELS
  if (isa == Isa::kNeon) return neon::gelu(x, n);
#endif
  ref::gelu(x, n);
}

void layer_norm([[maybe_unused]] Isa isa, const float* x, int64_t rows, int64_t dim, const float* gamma, const float* beta, float eps,
                float* y) {
#ifdef ADARUN_X86_KERNELS
  if (isa == Isa::kAvx512) return avx512::layer_norm(x, rows, dim, gamma, beta, eps, y);
  if (isa == Isa::kAvx2) return avx2::layer_norm(x, rows, dim, gamma, beta, eps, y);
#endif
#ifdef ADARUN_ARM_KERNELS
  if (isa == Isa::kNeon) return neon::layer_norm(x, rows, dim, gamma, beta, eps, y);
#endif
  ref::layer_norm(x, rows, dim, gamma, beta, eps, y);
}

void softmax_rows_strided([[maybe_unused]] Isa isa, float* x, int64_t rows, int64_t cols, int64_t stride) {
#ifdef ADARUN_X86_KERNELS
  if (isa == Isa::kAvx512) return avx512::softmax_rows_strided(x, rows, cols, stride);
  if (isa == Isa::kAvx2) return avx2::softmax_rows_strided(x, rows, cols, stride);
#endif
#ifdef ADARUN_ARM_KERNELS
  if (isa == Isa::kNeon) return neon::softmax_rows_strided(x, rows, cols, stride);
#endif
  for (int64_t r = 0; r < rows; ++r) ref::softmax_rows(x + r * stride, 1, cols);
}

}  // namespace adarun
