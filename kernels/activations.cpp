#include "kernels/activations.h"

#include "kernels/ref/activations.h"

namespace adarun {

void gelu(Isa isa, float* x, int64_t n) {
  if (isa == Isa::kAvx512) return avx512::gelu(x, n);
  ref::gelu(x, n);
}

void softmax_rows(Isa isa, float* x, int64_t rows, int64_t cols) {
  if (isa == Isa::kAvx512) return avx512::softmax_rows(x, rows, cols);
  ref::softmax_rows(x, rows, cols);
}

}  // namespace adarun
