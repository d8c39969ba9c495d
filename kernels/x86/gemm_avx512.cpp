// AVX-512 GEMM tile: 8 rows x 32 columns of accumulators (16 zmm), one broadcast per row and k.
#include <immintrin.h>

#include "kernels/gemm_tiles.h"
#include "kernels/packed_tiles.h"
#include "kernels/x86/avx512_math.h"

namespace adarun::avx512 {
namespace {

__mmask16 lane_mask(int64_t valid) {
  if (valid >= 16) return 0xFFFF;
  if (valid <= 0) return 0;
  return static_cast<__mmask16>((1u << valid) - 1);
}

// One row of C over a panel (mask: its real columns; all ones for a full panel): + bias, + row bias, + C when
// accumulating. Masked AVX-512 loads and stores cost what plain ones do.
inline void finish_row(__m512 lo, __m512 hi, __mmask16 mask_lo, __mmask16 mask_hi, const float* bias, const float* row_bias,
                       const GemmArgs& g, float* out) {
  if (bias) {
    lo = _mm512_add_ps(lo, _mm512_maskz_loadu_ps(mask_lo, bias));
    hi = _mm512_add_ps(hi, _mm512_maskz_loadu_ps(mask_hi, bias + 16));
  }
  if (row_bias) {
    lo = _mm512_add_ps(lo, _mm512_set1_ps(*row_bias));
    hi = _mm512_add_ps(hi, _mm512_set1_ps(*row_bias));
  }
  if (g.accumulate) {
    lo = _mm512_add_ps(lo, _mm512_maskz_loadu_ps(mask_lo, out));
    hi = _mm512_add_ps(hi, _mm512_maskz_loadu_ps(mask_hi, out + 16));
  }
  _mm512_mask_storeu_ps(out, mask_lo, lo);
  _mm512_mask_storeu_ps(out + 16, mask_hi, hi);
}

// Every loop over rows is unrolled, so each accumulator is one register: an accumulator indexed at run time
// would live in memory and be stored at every k.
// GELU over a stored tile, still in L1. Out of line, so that its code and constants stay out of the k loop's
// registers and the tile's code stays small.
__attribute__((noinline)) void gelu_tile(float* const* c, int rows, __mmask16 mask_lo, __mmask16 mask_hi) {
  for (int r = 0; r < rows; ++r) {
    float* row = c[r];
    _mm512_mask_storeu_ps(row, mask_lo, gelu_ps(_mm512_maskz_loadu_ps(mask_lo, row)));
    _mm512_mask_storeu_ps(row + 16, mask_hi, gelu_ps(_mm512_maskz_loadu_ps(mask_hi, row + 16)));
  }
}

// Offsets: k step kk's panel row is at b + g.b_offsets[kk] (an implicit convolution's input, unaligned), else
// at b + kk * kPanel (packed weights).
template <int R, bool Offsets>
void micro_tile(const GemmArgs& g, const packed::TileRows<kRows>& rows, const float* b, int64_t cols, const float* bias,
                const float* row_bias) {
  __m512 acc[R][2];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  const float* a[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) a[r] = rows.a[r];
  const int64_t k = g.k;
  const int32_t* offsets = g.b_offsets;
  for (int64_t kk = 0; kk < k; ++kk) {
    const float* panel_row = Offsets ? b + offsets[kk] : b + kk * kPanel;
    const __m512 b0 = Offsets ? _mm512_loadu_ps(panel_row) : _mm512_load_ps(panel_row);
    const __m512 b1 = Offsets ? _mm512_loadu_ps(panel_row + 16) : _mm512_load_ps(panel_row + 16);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(a[r][kk]);
      acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
    }
  }
  const __mmask16 mask_lo = lane_mask(cols), mask_hi = lane_mask(cols - 16);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    finish_row(acc[r][0], acc[r][1], mask_lo, mask_hi, bias, row_bias ? row_bias + r : nullptr, g, rows.c[r]);
  if (g.gelu) gelu_tile(rows.c, R, mask_lo, mask_hi);
}

template <bool Offsets>
constexpr packed::MicroTile<kRows> kTiles[kRows + 1] = {
    nullptr, micro_tile<1, Offsets>, micro_tile<2, Offsets>, micro_tile<3, Offsets>, micro_tile<4, Offsets>,
    micro_tile<5, Offsets>, micro_tile<6, Offsets>, micro_tile<7, Offsets>, micro_tile<8, Offsets>};

}  // namespace

void pack(const float* w, int64_t n, int64_t k, float* packed) { packed::pack_panels(w, n, k, k, kPanel, packed); }

void tile(const GemmArgs& g, int64_t row, int64_t rows, int64_t panel) {
  packed::run_tiles<kPanel, kRows>(g, row, rows, panel, kTiles<false>, kTiles<true>);
}

}  // namespace adarun::avx512
