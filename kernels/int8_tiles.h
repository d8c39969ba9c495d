#pragma once
// What the int8 kernels share (kernels/gemm_int8.h): the packed layout, the quantized-A layout, and each kernel's
// entry points (each compiled with its own target flags). Nothing here uses vector instructions.
#include <cstdint>

#include "kernels/gemm_int8.h"

namespace adarun::int8 {

// k is taken in groups of 4 (what vpdpbusd and sdot sum at once), zero padded.
constexpr int64_t kGroup = 4;
inline int64_t k_groups(int64_t k) { return (k + kGroup - 1) / kGroup; }

// A panel of `width` columns: k_groups x [width columns x 4 values] of weights (column j's 4 values of group g at
// value (g * width + j) * 4), then `width` int32 corrections, then `width` fp32 scales (0 past n). Values are int8,
// or int16 for the AVX2 kernel (value_bytes 2: widened once here instead of at every use). The VNNI kernels
// multiply unsigned A (q + 128), so a column's correction is 128 x the sum of its weights; the others store 0.
inline int64_t panel_weight_bytes(int width, int64_t k, int value_bytes = 1) { return k_groups(k) * kGroup * width * value_bytes; }
inline int64_t panel_bytes(int width, int64_t k, int value_bytes = 1) { return panel_weight_bytes(width, k, value_bytes) + 8 * int64_t{width}; }

void pack_panels(const int8_t* w, const float* scales, int64_t n, int64_t k, int width, bool unsigned_a, int value_bytes,
                 uint8_t* packed);

// Quantized A: row i's k_groups * 4 values at quantized + i * row_stride (int8, or uint8 = q + 128 for the VNNI
// kernels, or int16 for AVX2), padded with the value of 0; the m row scales after every row, 64-byte aligned.
struct QuantizedRows {
  uint8_t* rows;
  int64_t row_stride;
  float* scales;
};
int64_t quantized_row_stride(Int8Kernel kernel, int64_t k);
QuantizedRows quantized_rows(Int8Kernel kernel, void* buffer, int64_t m, int64_t k);

// One kernel: its panel width, A encoding, a row quantizer (A row i -> rows.rows + i * stride, its scale) and a tile
// (rows [row, row + rows) of C for one panel).
using QuantizeRows = void (*)(const Int8GemmArgs& g, const QuantizedRows& q, int64_t row, int64_t rows);
using Tile = void (*)(const Int8GemmArgs& g, const QuantizedRows& q, int64_t row, int64_t rows, int64_t panel);

// What each kernel's tile entry point does: rows [row, row + rows) of C for one panel of Panel columns, in
// micro-tiles of up to Rows rows (tiles[r] runs r rows). Value: the kernel's byte type for its quantized A and
// packed weights (int8_t, or uint8_t for the VNNI encodings and AVX2's int16 pairs).
// Internal linkage: each ISA file instantiates it under its own target flags.
namespace {
template <int Panel, int Rows, int ValueBytes, typename Value, typename MicroTile>
inline void run_tiles(const Int8GemmArgs& g, const QuantizedRows& q, int64_t row, int64_t rows, int64_t panel,
                      const MicroTile (&tiles)[Rows + 1]) {
  const int64_t col = panel * Panel;
  const int64_t cols = g.n - col < Panel ? g.n - col : Panel;
  const Value* packed = static_cast<const Value*>(g.packed) + panel * panel_bytes(Panel, g.k, ValueBytes);
  for (int64_t r = row; r < row + rows; r += Rows) {
    const int count = static_cast<int>(row + rows - r < Rows ? row + rows - r : Rows);
    const Value* a[Rows];
    float* c[Rows];
    for (int i = 0; i < count; ++i) {
      a[i] = reinterpret_cast<const Value*>(q.rows + (r + i) * q.row_stride);
      c[i] = g.c + (g.c_rows ? g.c_rows[r + i] : r + i) * g.ldc + col;
    }
    tiles[count](g, a, q.scales + r, c, packed, cols, g.bias ? g.bias + col : nullptr);
  }
}
}  // namespace

namespace avx512vnni {
constexpr int kPanel = 32;
constexpr int kRows = 8;
void quantize(const Int8GemmArgs& g, const QuantizedRows& q, int64_t row, int64_t rows);
void tile(const Int8GemmArgs& g, const QuantizedRows& q, int64_t row, int64_t rows, int64_t panel);
}  // namespace avx512vnni

namespace avxvnni {
constexpr int kPanel = 16;
constexpr int kRows = 6;
void quantize(const Int8GemmArgs& g, const QuantizedRows& q, int64_t row, int64_t rows);
void tile(const Int8GemmArgs& g, const QuantizedRows& q, int64_t row, int64_t rows, int64_t panel);
}  // namespace avxvnni

namespace avx2 {
constexpr int kPanel = 16;
constexpr int kRows = 2;  // 3 rows' 12 accumulators, A values and products overflow the 16 ymm: GCC spills
constexpr int kValueBytes = 2;
void quantize(const Int8GemmArgs& g, const QuantizedRows& q, int64_t row, int64_t rows);
void tile(const Int8GemmArgs& g, const QuantizedRows& q, int64_t row, int64_t rows, int64_t panel);
}  // namespace avx2

namespace neondot {
// FEAT_DotProd (ARMv8.2 sdot), from the kernel's hwcaps.
bool cpu_has_dot_product();
constexpr int kPanel = 16;
constexpr int kRows = 4;
void quantize(const Int8GemmArgs& g, const QuantizedRows& q, int64_t row, int64_t rows);
void tile(const Int8GemmArgs& g, const QuantizedRows& q, int64_t row, int64_t rows, int64_t panel);
}  // namespace neondot

}  // namespace adarun::int8
