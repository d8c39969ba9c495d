#pragma once
// Dynamically quantized int8 GEMM, for linear layers whose weights the file stores as I8 (weights/FORMAT.md):
//   C[m, n] (+)= act(float(sum_k qa[i, k] qw[j, k]) * (sa[i] * sw[j]) + bias[j])
// qw, sw: the file's per-output-channel int8 weights and scales, packed once at load for the kernel in use.
// qa, sa: A quantized per row at run time, symmetric: sa = max|a_i| / 127, qa = round-half-even(a * (127 / max|a_i|))
// (a row with max|a_i| < 1e-30: sa = 0, qa = 0). Sums in int32, exact; the epilogue in fp32; act is GELU or nothing.
// The reference twin is ref::linear_int8 (kernels/ref/gemm_int8.h): the kernels here give its int32 sums exactly
// and its outputs up to GELU's rounding (tests/kernels/gemm_int8_test.cpp). Rows holding a non-finite value give
// unspecified (finite or not) outputs.
#include <pthreadpool.h>

#include <cstdint>

#include "kernels/gemm.h"

namespace adarun {

// The int8 kernels: AVX2 (sign-extended to int16, vpmaddwd), AVX-VNNI (256-bit vpdpbusd), AVX512-VNNI, NEON sdot.
enum class Int8Kernel { kAvx2, kAvxVnni, kAvx512Vnni, kNeonDot };
constexpr Int8Kernel kInt8Kernels[] = {Int8Kernel::kAvx2, Int8Kernel::kAvxVnni, Int8Kernel::kAvx512Vnni, Int8Kernel::kNeonDot};

const char* int8_kernel_name(Int8Kernel kernel);
// Built into this binary and run by this CPU.
bool int8_kernel_supported(Int8Kernel kernel);
// The int8 kernel that goes with `isa` on this CPU (the best it runs, unless ADARUN_INT8 names a lower one: avx2,
// avxvnni, avx512vnni, neondot; or none); false where there is none (the reference, NEON without the dot product,
// ADARUN_INT8=none): there int8 weights are widened to fp32 and run on the fp32 GEMM.
bool int8_kernel_for(Isa isa, Int8Kernel* kernel);

// Packed weights: panels of the kernel's width of output columns; per panel the weights in groups of 4 k (each
// column's 4 bytes together), then per column an int32 correction and the fp32 scale (kernels/int8_tiles.h).
int64_t packed_int8_bytes(Int8Kernel kernel, int64_t n, int64_t k);
// w: [n, k] int8, scales: [n]. packed: packed_int8_bytes of it, 64-byte aligned.
void pack_int8_weights(Int8Kernel kernel, const int8_t* w, const float* scales, int64_t n, int64_t k, void* packed);
// The run-time buffer a product of up to m rows needs for A quantized (the kernel's encoding) and its row scales.
int64_t quantized_rows_bytes(Int8Kernel kernel, int64_t m, int64_t k);

struct Int8GemmArgs {
  const float* a = nullptr;  // [m, k], leading dimension lda
  int64_t lda = 0;
  const int32_t* a_rows = nullptr;  // [m] or nullptr: row i of A is a + a_rows[i] * lda
  const void* packed = nullptr;     // pack_int8_weights
  const float* bias = nullptr;      // [n] or nullptr
  float* c = nullptr;               // [m, n], leading dimension ldc
  int64_t ldc = 0;
  const int32_t* c_rows = nullptr;  // [m] or nullptr: row i of C is c + c_rows[i] * ldc (distinct rows)
  int64_t m = 0, n = 0, k = 0;
  bool accumulate = false;  // C += instead of C =
  bool gelu = false;        // GELU after the bias; not with accumulate
  void* quantized = nullptr;  // quantized_rows_bytes(kernel, m, k), 64-byte aligned
};

// Quantizes A's rows, then runs the tiles, each step across `pool` (nullptr: the calling thread).
void gemm_int8(Int8Kernel kernel, const Int8GemmArgs& args, pthreadpool_t pool);

}  // namespace adarun
