#include "kernels/activations.h"

#include "kernels/ref/activations.h"

namespace adarun {

void gelu([[maybe_unused]] Isa isa, float* x, int64_t n) {
#ifdef ADARUN_X86_KERNELS
  if (isa == Isa::kAvx512) return avx512::gelu(x, n);
#endif
  ref::gelu(x, n);
}

void softmax_rows([[maybe_unused]] Isa isa, float* x, int64_t rows, int64_t cols) {
#ifdef ADARUN_X86_KERNELS
  if (isa == Isa::kAvx512) return avx512::softmax_rows(x, rows, cols);
#endif
  ref::softmax_rows(x, rows, cols);
}

}  // namespace adarun
