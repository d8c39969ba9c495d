#pragma once
// The per-ISA tile entry points behind kernels/gemm.h (each compiled with its own target flags).
#include <cstdint>

#include "kernels/gemm.h"

namespace adarun::avx512 {
constexpr int kPanel = 32;
constexpr int kRows = 8;
void pack(const float* w, int64_t n, int64_t k, float* packed);
// Rows [row, row + rows) of C for one panel of columns.
void tile(const GemmArgs& args, int64_t row, int64_t rows, int64_t panel);
}  // namespace adarun::avx512

namespace adarun::avx2 {
constexpr int kPanel = 16;
constexpr int kRows = 6;
void pack(const float* w, int64_t n, int64_t k, float* packed);
void tile(const GemmArgs& args, int64_t row, int64_t rows, int64_t panel);
}  // namespace adarun::avx2

namespace adarun::neon {
constexpr int kPanel = 12;
constexpr int kRows = 4;
void pack(const float* w, int64_t n, int64_t k, float* packed);
void tile(const GemmArgs& args, int64_t row, int64_t rows, int64_t panel);
}  // namespace adarun::neon
