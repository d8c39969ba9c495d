// AVX-512 GEMM tile: 8 rows x 32 columns of accumulators (16 zmm), one broadcast per row and k.
#include <immintrin.h>

#include "kernels/gemm_tiles.h"
#include "kernels/packed_tiles.h"

namespace adarun::avx512 {
namespace {

__mmask16 lane_mask(int64_t valid) {
  if (valid >= 16) return 0xFFFF;
  if (valid <= 0) return 0;
  return static_cast<__mmask16>((1u << valid) - 1);
}

template <int R>
void micro_tile(const GemmArgs& g, const float* a, const float* b, float* c, int64_t cols, const float* bias, const float* row_bias) {
  __m512 acc[R][2];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int64_t kk = 0; kk < g.k; ++kk) {
    const __m512 b0 = _mm512_load_ps(b + kk * kPanel);
    const __m512 b1 = _mm512_load_ps(b + kk * kPanel + 16);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(a[r * g.lda + kk]);
      acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
    }
  }
  const __mmask16 masks[2] = {lane_mask(cols), lane_mask(cols - 16)};
  for (int h = 0; h < 2; ++h) {
    const __m512 bias_v = bias ? _mm512_maskz_loadu_ps(masks[h], bias + 16 * h) : _mm512_setzero_ps();
    for (int r = 0; r < R; ++r) {
      float* out = c + r * g.ldc + 16 * h;
      __m512 v = _mm512_add_ps(acc[r][h], bias_v);
      if (row_bias) v = _mm512_add_ps(v, _mm512_set1_ps(row_bias[r]));
      if (g.accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(masks[h], out));
      _mm512_mask_storeu_ps(out, masks[h], v);
    }
  }
}

constexpr packed::MicroTile kTiles[kRows + 1] = {nullptr,        micro_tile<1>, micro_tile<2>, micro_tile<3>, micro_tile<4>,
                                         micro_tile<5>, micro_tile<6>, micro_tile<7>, micro_tile<8>};

}  // namespace

void pack(const float* w, int64_t n, int64_t k, float* packed) { packed::pack_panels(w, n, k, kPanel, packed); }

void tile(const GemmArgs& g, int64_t row, int64_t rows, int64_t panel) { packed::run_tiles<kPanel, kRows>(g, row, rows, panel, kTiles); }

}  // namespace adarun::avx512
