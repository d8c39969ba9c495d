#pragma once
// A 16-column output panel of the 256-bit GEMM kernels (fp32 AVX2, int8 AVX2 and AVX-VNNI): which of its lanes are
// real, masked loads and stores of them, and GELU over a stored tile. Include only from files built with -mavx2 -mfma.
#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/avx2_math.h"

namespace adarun::avx2 {
// Internal linkage: each file that includes this is built with its own ISA flags, and a shared inline copy
// (merged by the linker) could run one ISA's instructions on a CPU that has only another's.
namespace {

// The columns of a panel that are real: every lane of a full panel, the first `cols` of the last one.
struct PanelLanes {
  bool full;
  __m256i lo, hi;
};

inline PanelLanes panel_lanes(int64_t cols) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const auto mask = [&](int64_t valid) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(valid < 0 ? 0 : valid > 8 ? 8 : valid)), lanes);
  };
  return {cols >= 16, mask(cols), mask(cols - 8)};
}

inline __m256 load_lanes(const float* p, bool full, __m256i mask) { return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask); }

inline void store_lanes(float* p, __m256 v, bool full, __m256i mask) {
  if (full) {
    _mm256_storeu_ps(p, v);
  } else {
    _mm256_maskstore_ps(p, mask, v);  // the last, partial panel: nothing past column n is touched
  }
}

// GELU over a stored tile, still in L1. Out of line, so that its code and constants stay out of the k loop's
// registers and the tile's code stays small.
__attribute__((noinline)) inline void gelu_tile(float* const* c, int rows, const PanelLanes& lanes) {
  for (int r = 0; r < rows; ++r) {
    store_lanes(c[r], gelu_ps(load_lanes(c[r], lanes.full, lanes.lo)), lanes.full, lanes.lo);
    store_lanes(c[r] + 8, gelu_ps(load_lanes(c[r] + 8, lanes.full, lanes.hi)), lanes.full, lanes.hi);
  }
}

}  // namespace
}  // namespace adarun::avx2
