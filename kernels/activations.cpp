#include "kernels/activations.h"

#include "kernels/ref/activations.h"
#include "kernels/ref/layer_norm.h"

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

void softmax_rows([[maybe_unused]] Isa isa, float* x, int64_t rows, int64_t cols) {
#ifdef ADARUN_X86_KERNELS
  if (isa == Isa::kAvx512) return avx512::softmax_rows(x, rows, cols);
  if (isa == Isa::kAvx2) return avx2::softmax_rows(x, rows, cols);
#endif
#ifdef ADARUN_ARM_KERNELS
  if (isa == Isa::kNeon) return neon::softmax_rows(x, rows, cols);
#endif
  ref::softmax_rows(x, rows, cols);
}

}  // namespace adarun
