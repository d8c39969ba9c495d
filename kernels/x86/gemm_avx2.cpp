// AVX2 + FMA GEMM tile: 6 rows x 16 columns of accumulators (12 ymm), one broadcast per row and k.
#include <immintrin.h>

#include "kernels/gemm_tiles.h"
#include "kernels/packed_tiles.h"

namespace adarun::avx2 {
namespace {

__m256i lane_mask(int64_t valid) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(valid < 0 ? 0 : valid > 8 ? 8 : valid)), lanes);
}

template <int R>
void micro_tile(const GemmArgs& g, const float* a, const float* b, float* c, int64_t cols, const float* bias, const float* row_bias) {
  __m256 acc[R][2];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int64_t kk = 0; kk < g.k; ++kk) {
    const __m256 b0 = _mm256_load_ps(b + kk * kPanel);
    const __m256 b1 = _mm256_load_ps(b + kk * kPanel + 8);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      const __m256 av = _mm256_broadcast_ss(a + r * g.lda + kk);
      acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
    }
  }
  const __m256i masks[2] = {lane_mask(cols), lane_mask(cols - 8)};
  for (int h = 0; h < 2; ++h) {
    const __m256 bias_v = bias ? _mm256_maskload_ps(bias + 8 * h, masks[h]) : _mm256_setzero_ps();
    for (int r = 0; r < R; ++r) {
      float* out = c + r * g.ldc + 8 * h;
      __m256 v = _mm256_add_ps(acc[r][h], bias_v);
      if (row_bias) v = _mm256_add_ps(v, _mm256_set1_ps(row_bias[r]));
      if (g.accumulate) v = _mm256_add_ps(v, _mm256_maskload_ps(out, masks[h]));
      _mm256_maskstore_ps(out, masks[h], v);
    }
  }
}

constexpr packed::MicroTile kTiles[kRows + 1] = {nullptr, micro_tile<1>, micro_tile<2>, micro_tile<3>,
                                         micro_tile<4>, micro_tile<5>, micro_tile<6>};

}  // namespace

void pack(const float* w, int64_t n, int64_t k, float* packed) { packed::pack_panels(w, n, k, kPanel, packed); }

void tile(const GemmArgs& g, int64_t row, int64_t rows, int64_t panel) { packed::run_tiles<kPanel, kRows>(g, row, rows, panel, kTiles); }

}  // namespace adarun::avx2
