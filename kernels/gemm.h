#pragma once
// C[m, n] (+)= act(A[m, k] W[n, k]^T + bias), with W packed once at load for the CPU's vector width; act is GELU or
// nothing, applied in the epilogue while the tile is in registers.
// The reference twin is ref::linear; every ISA here is checked against it (tests/kernels/gemm_test.cpp).
#include <pthreadpool.h>

#include <cstdint>

namespace adarun {

enum class Isa { kReference, kAvx2, kAvx512, kNeon };

// Every ISA with packed kernels, for callers that try each (tests, benches); isa_supported says which run here.
constexpr Isa kPackedIsas[] = {Isa::kAvx2, Isa::kAvx512, Isa::kNeon};

// The best the CPU runs, unless ADARUN_ISA (ref, avx2, avx512, neon) asks for less.
Isa active_isa();
const char* isa_name(Isa isa);
bool isa_supported(Isa isa);

// Columns per packed panel; 0 for the reference (unpacked) path.
constexpr int kMaxPanelWidth = 32;  // the widest of any ISA
int gemm_panel_width(Isa isa);
int64_t packed_weight_floats(Isa isa, int64_t n, int64_t k);
// packed: panels of `panel width` output columns, each k rows of that many floats, zero padded.
void pack_weights(Isa isa, const float* w, int64_t n, int64_t k, float* packed);

struct GemmArgs {
  const float* a = nullptr;  // [m, k], leading dimension lda
  int64_t lda = 0;
  const int32_t* a_rows = nullptr;  // [m] or nullptr: row i of A is a + a_rows[i] * lda (a gather fused into the read)
  const float* packed = nullptr;
  // [k] or nullptr. Set, B is not packed panels but rows read in place (an implicit convolution): k step kk's
  // row of the panel width starts at packed + b_offsets[kk], any alignment, and n <= the panel width. Reads
  // may go up to the panel width past n.
  const int32_t* b_offsets = nullptr;
  const float* bias = nullptr;      // [n] or nullptr: added to every row
  const float* row_bias = nullptr;  // [m] or nullptr: added to every column (convolutions in CHW)
  float* c = nullptr;           // [m, n], leading dimension ldc
  int64_t ldc = 0;
  const int32_t* c_rows = nullptr;  // [m] or nullptr: row i of C is c + c_rows[i] * ldc (distinct rows: a scatter)
  int64_t m = 0, n = 0, k = 0;
  bool accumulate = false;  // C += instead of C =
  bool gelu = false;        // GELU after the biases; not with accumulate
};

// Runs on `pool` (nullptr: the calling thread). isa must not be kReference.
void gemm(Isa isa, const GemmArgs& args, pthreadpool_t pool);

}  // namespace adarun
