// NEON GEMM tile: 4 rows x 12 columns of accumulators (12 q registers); A read four k steps at a time per row
// and multiplied into three vectors of the packed panel by lane (fmla by element). The shape was llvm-mca's
// choice for the Cortex-A55 (bench/micro_kernel_loops.py --mca) when the script still dropped every instruction
// with an immediate operand (the loop's adds and offset loads); read whole, the 4x12 loop gives 8.9 flop/cycle of
// the A55 model's 16 and 8.0 of the A76 model's 8. The comparison with 5x16, 7x12, 6x8 and 8x8 is still to redo.
#include <arm_neon.h>

#include <cstring>

#include "kernels/gemm_tiles.h"
#include "kernels/packed_tiles.h"
#include "kernels/arm/neon_lanes.h"
#include "kernels/arm/neon_math.h"

namespace adarun::neon {
namespace {

constexpr int kVectors = kPanel / 4;

// One row of accumulators, passed by value: with every loop over it unrolled it stays in registers.
struct RowAccumulators {
  float32x4_t v[kVectors];
};

// The epilogue of one row over all kPanel columns: + bias, + row bias, + C when accumulating.
inline void finish_row(RowAccumulators acc, const float* bias, const float* row_bias, bool accumulate, float* out) {
#pragma GCC unroll 4
  for (int v = 0; v < kVectors; ++v) {
    float32x4_t value = acc.v[v];
    if (bias) value = vaddq_f32(value, vld1q_f32(bias + 4 * v));
    if (row_bias) value = vaddq_f32(value, vdupq_n_f32(*row_bias));
    if (accumulate) value = vaddq_f32(value, vld1q_f32(out + 4 * v));
    vst1q_f32(out + 4 * v, value);
  }
}

// The last, partial panel goes through stack copies, so nothing past column n is read or written.
void finish_partial_row(RowAccumulators acc, const float* bias, const float* row_bias, bool accumulate, int64_t cols,
                        float* out) {
  float bias_lanes[kPanel] = {}, lanes[kPanel] = {};
  for (int64_t j = 0; j < cols; ++j) {
    if (bias) bias_lanes[j] = bias[j];
    if (accumulate) lanes[j] = out[j];
  }
  finish_row(acc, bias ? bias_lanes : nullptr, row_bias, accumulate, lanes);
  std::memcpy(out, lanes, sizeof(float) * size_t(cols));
}

// GELU over a stored tile, still in L1. Out of line, so that its code and constants stay out of the k loop's
// registers and the tile's code stays small.
__attribute__((noinline)) void gelu_tile(float* const* c, int rows, int64_t cols) {
  for (int r = 0; r < rows; ++r) {
    float* row = c[r];
    int64_t j = 0;
    for (; j + 4 <= cols; j += 4) vst1q_f32(row + j, gelu_ps(vld1q_f32(row + j)));
    if (j < cols) store_tail(row + j, gelu_ps(load_tail(row + j, cols - j, 0.0f)), cols - j);
  }
}

// k step `Lane` of four whose A values are lane `Lane` of a[r]: four panel vectors, R x 4 FMAs by lane.
template <int R, int Lane>
__attribute__((always_inline)) inline void lane_step(RowAccumulators (&acc)[R], const float* panel_row, const float32x4_t (&a)[R]) {
  float32x4_t panel[kVectors];
#pragma GCC unroll 4
  for (int v = 0; v < kVectors; ++v) panel[v] = vld1q_f32(panel_row + 4 * v);
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < kVectors; ++v) acc[r].v[v] = vfmaq_laneq_f32(acc[r].v[v], panel[v], a[r], Lane);
  }
}

// Every loop over rows and vectors is unrolled, so each accumulator is one register: an accumulator indexed at
// run time (or passed by reference to a call) would live in memory and be stored at every k.
// k goes four steps at a time with one vector load of A per row (lanes 0-3 feed the four steps): on an in-order
// dual-issue core (Cortex-A55) every instruction that is not an FMA costs issue slots, and scalar A loads were 6
// of every 36.
// Offsets: k step kk's panel row is at b + g.b_offsets[kk] (an implicit convolution's input), else at
// b + kk * kPanel (packed weights).
template <int R, bool Offsets>
void micro_tile(const GemmArgs& g, const packed::TileRows<kRows>& rows, const float* b, int64_t cols, const float* bias,
                const float* row_bias) {
  RowAccumulators acc[R];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < kVectors; ++v) acc[r].v[v] = vdupq_n_f32(0.0f);
  }
  const float* a[R];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) a[r] = rows.a[r];
  const int64_t k = g.k;
  const int32_t* offsets = g.b_offsets;
  const auto panel_row = [&](int64_t step) { return Offsets ? b + offsets[step] : b + step * kPanel; };
  int64_t kk = 0;
  for (; kk + 4 <= k; kk += 4) {
    float32x4_t a_values[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) a_values[r] = vld1q_f32(a[r] + kk);
    lane_step<R, 0>(acc, panel_row(kk), a_values);
    lane_step<R, 1>(acc, panel_row(kk + 1), a_values);
    lane_step<R, 2>(acc, panel_row(kk + 2), a_values);
    lane_step<R, 3>(acc, panel_row(kk + 3), a_values);
  }
  for (; kk < k; ++kk) {
    float32x4_t panel[kVectors];
#pragma GCC unroll 4
    for (int v = 0; v < kVectors; ++v) panel[v] = vld1q_f32(panel_row(kk) + 4 * v);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const float a_value = a[r][kk];
#pragma GCC unroll 4
      for (int v = 0; v < kVectors; ++v) acc[r].v[v] = vfmaq_n_f32(acc[r].v[v], panel[v], a_value);
    }
  }
  if (cols == kPanel) {
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) finish_row(acc[r], bias, row_bias ? row_bias + r : nullptr, g.accumulate, rows.c[r]);
  } else {
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
      finish_partial_row(acc[r], bias, row_bias ? row_bias + r : nullptr, g.accumulate, cols, rows.c[r]);
  }
  if (g.gelu) gelu_tile(rows.c, R, cols);
}

template <bool Offsets>
constexpr packed::MicroTile<kRows> kTiles[kRows + 1] = {nullptr, micro_tile<1, Offsets>, micro_tile<2, Offsets>,
                                                        micro_tile<3, Offsets>, micro_tile<4, Offsets>};

}  // namespace

void pack(const float* w, int64_t n, int64_t k, float* packed) { packed::pack_panels(w, n, k, k, kPanel, packed); }

void tile(const GemmArgs& g, int64_t row, int64_t rows, int64_t panel) {
  packed::run_tiles<kPanel, kRows>(g, row, rows, panel, kTiles<false>, kTiles<true>);
}

}  // namespace adarun::neon
