#pragma once
// What the per-ISA GEMM files (x86, ARM) share: weight packing and the walk of a task's rows over micro-tiles.
// Nothing here uses vector instructions, so each ISA's file may include it under its own flags.
#include <cstdint>

#include "kernels/gemm.h"

namespace adarun::packed {

// Where a micro-tile's rows are: A's (through GemmArgs::a_rows when it gathers) and C's at the panel's first
// column (through c_rows when it scatters).
template <int Rows>
struct TileRows {
  const float* a[Rows];
  float* c[Rows];
};

// A micro-tile: up to Rows rows of C for one panel; `cols` of the panel's columns are real.
template <int Rows>
using MicroTile = void (*)(const GemmArgs&, const TileRows<Rows>& rows, const float* b, int64_t cols, const float* bias,
                           const float* row_bias);

// Internal linkage: each file that includes this is built with its own ISA flags, and a shared inline copy
// (merged by the linker) could run one ISA's instructions on a CPU that has only another's.
namespace {

// Rows [row, row + rows) of C for one panel, in micro-tiles of Rows rows; tiles[r] handles r rows.
// tiles: the packed-panel micro-tiles; offset_tiles: the ones that read B through GemmArgs::b_offsets.
template <int Panel, int Rows>
void run_tiles(const GemmArgs& g, int64_t row, int64_t rows, int64_t panel, const MicroTile<Rows> (&packed_tiles)[Rows + 1],
               const MicroTile<Rows> (&offset_tiles)[Rows + 1]) {
  const MicroTile<Rows>(&tiles)[Rows + 1] = g.b_offsets ? offset_tiles : packed_tiles;
  const int64_t col = panel * Panel;
  const int64_t cols = g.n - col < Panel ? g.n - col : Panel;
  const float* b = g.packed + panel * g.k * Panel;
  const float* bias = g.bias ? g.bias + col : nullptr;
  for (int64_t r = row; r < row + rows; r += Rows) {
    const int64_t count = row + rows - r < Rows ? row + rows - r : Rows;
    TileRows<Rows> at;
    for (int64_t i = 0; i < count; ++i) {
      at.a[i] = g.a + (g.a_rows ? g.a_rows[r + i] : r + i) * g.lda;
      at.c[i] = g.c + (g.c_rows ? g.c_rows[r + i] : r + i) * g.ldc + col;
    }
    tiles[count](g, at, b, cols, bias, g.row_bias ? g.row_bias + r : nullptr);
  }
}

// panel p holds columns [p*width, p*width + width) of W^T, zero past n: packed[(p*k + kk)*width + j] =
// w[(p*width + j)*ldw + kk]. Always inlined, so that a caller built for an ISA (attention's per-head k) gets it
// vectorised at that ISA's width.
__attribute__((always_inline)) inline void pack_panels(const float* w, int64_t n, int64_t k, int64_t ldw, int width,
                                                       float* packed) {
  for (int64_t first = 0; first < n; first += width) {
    const int64_t lanes = n - first < width ? n - first : width;
    float* panel = packed + first * k;
    for (int64_t kk = 0; kk < k; ++kk) {
      float* out = panel + kk * width;
      for (int64_t j = 0; j < lanes; ++j) out[j] = w[(first + j) * ldw + kk];
      for (int64_t j = lanes; j < width; ++j) out[j] = 0.0f;
    }
  }
}

}  // namespace
}  // namespace adarun::packed
