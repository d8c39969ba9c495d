// AVX2 + FMA GEMM tile: 6 rows x 16 columns of accumulators (12 ymm), one broadcast per row and k.
#include <immintrin.h>

#include "kernels/gemm_tiles.h"
#include "kernels/packed_tiles.h"
#include "kernels/x86/avx2_math.h"
#include "kernels/x86/avx2_panel.h"

namespace adarun::avx2 {
namespace {

// One row of C over a panel: + bias, + row bias, + C when accumulating; masked only on a partial panel.
inline void finish_row(__m256 lo, __m256 hi, const PanelLanes& lanes, const float* bias, const float* row_bias, const GemmArgs& g,
                       float* out) {
  if (bias) {
    lo = _mm256_add_ps(lo, load_lanes(bias, lanes.full, lanes.lo));
    hi = _mm256_add_ps(hi, load_lanes(bias + 8, lanes.full, lanes.hi));
  }
  if (row_bias) {
    lo = _mm256_add_ps(lo, _mm256_set1_ps(*row_bias));
    hi = _mm256_add_ps(hi, _mm256_set1_ps(*row_bias));
  }
  if (g.accumulate) {
    lo = _mm256_add_ps(lo, load_lanes(out, lanes.full, lanes.lo));
    hi = _mm256_add_ps(hi, load_lanes(out + 8, lanes.full, lanes.hi));
  }
  store_lanes(out, lo, lanes.full, lanes.lo);
  store_lanes(out + 8, hi, lanes.full, lanes.hi);
}

// Every loop over rows is unrolled, so each accumulator is one register: an accumulator indexed at run time
// would live in memory and be stored at every k.
// Offsets: k step kk's panel row is at b + g.b_offsets[kk] (an implicit convolution's input, unaligned), else
// the next packed panel row (packed weights).
template <int R, bool Offsets>
void micro_tile(const GemmArgs& g, const packed::TileRows<kRows>& rows, const float* b, int64_t cols, const float* bias,
                const float* row_bias) {
  __m256 acc[R][2];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  const auto step = [&](const float* panel_row, const float* const (&a)[R], int64_t at) {
    const __m256 b0 = Offsets ? _mm256_loadu_ps(panel_row) : _mm256_load_ps(panel_row);
    const __m256 b1 = Offsets ? _mm256_loadu_ps(panel_row + 8) : _mm256_load_ps(panel_row + 8);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      const __m256 av = _mm256_broadcast_ss(a[r] + at);
      acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
    }
  };
  const int64_t k = g.k;
  const float* a[R];
  if constexpr (Offsets) {
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) a[r] = rows.a[r];
    const int32_t* offsets = g.b_offsets;
    for (int64_t kk = 0; kk < k; ++kk) step(b + offsets[kk], a, kk);
  } else {
    // A is read at a negative offset from its rows' ends, counting up to 0: with six row pointers, the panel
    // pointer and that offset, no register is left for a loop bound, which would otherwise be re-read from the
    // stack.
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) a[r] = rows.a[r] + k;
    for (int64_t offset = -k; offset != 0; ++offset, b += kPanel) step(b, a, offset);
  }
  const PanelLanes lanes = panel_lanes(cols);
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r)
    finish_row(acc[r][0], acc[r][1], lanes, bias, row_bias ? row_bias + r : nullptr, g, rows.c[r]);
  if (g.gelu) gelu_tile(rows.c, R, lanes);
}

template <bool Offsets>
constexpr packed::MicroTile<kRows> kTiles[kRows + 1] = {nullptr, micro_tile<1, Offsets>, micro_tile<2, Offsets>,
                                                        micro_tile<3, Offsets>, micro_tile<4, Offsets>,
                                                        micro_tile<5, Offsets>, micro_tile<6, Offsets>};

}  // namespace

void pack(const float* w, int64_t n, int64_t k, float* packed) { packed::pack_panels(w, n, k, k, kPanel, packed); }

void tile(const GemmArgs& g, int64_t row, int64_t rows, int64_t panel) {
  packed::run_tiles<kPanel, kRows>(g, row, rows, panel, kTiles<false>, kTiles<true>);
}

}  // namespace adarun::avx2
