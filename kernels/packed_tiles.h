#pragma once
// What the per-ISA GEMM files (x86, ARM) share: weight packing and the walk of a task's rows over micro-tiles.
// Nothing here uses vector instructions, so each ISA's file may include it under its own flags.
#include <cstdint>
#include <cstring>

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

// panel p holds columns [p*width, p*width + width) of W^T: packed[(p*k + kk)*width + j] = w[(p*width + j)*k + kk].
inline void pack_panels(const float* w, int64_t n, int64_t k, int width, float* packed) {
  const int64_t panels = (n + width - 1) / width;
  std::memset(packed, 0, sizeof(float) * size_t(panels * k * width));
  for (int64_t col = 0; col < n; ++col) {
    float* panel = packed + (col / width) * k * width + col % width;
    for (int64_t kk = 0; kk < k; ++kk) panel[kk * width] = w[col * k + kk];
  }
}

}  // namespace adarun::packed
