// NEON int8 GEMM (kernels/gemm_int8.h) on the ARMv8.2 dot product: A as signed bytes, R rows x 16 columns of int32
// accumulators (4 q registers a row). Per group of 4 k, four q-register loads of the panel (each 4 columns x 4 k)
// and one sdot by element per row and vector; A is read 16 bytes (4 groups) at a time, a group per lane.
// Built with -march=armv8.2-a+dotprod (kernels/CMakeLists.txt); kernels/gemm_int8.cpp runs it only where
// cpu_has_dot_product().
#include <arm_neon.h>
#include <sys/auxv.h>

#include <cstring>
#include <utility>

#include "kernels/arm/neon_lanes.h"
#include "kernels/arm/neon_math.h"
#include "kernels/int8_tiles.h"
#include "kernels/ref/gemm_int8.h"

#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif

namespace adarun::int8::neondot {
namespace {

constexpr int kVectors = kPanel / 4;

// ---- quantizer (ref::quantize_row's bytes and scale) ----

float row_max_abs(const float* x, int64_t k) {
  float32x4_t max0 = vdupq_n_f32(0.0f), max1 = vdupq_n_f32(0.0f);
  int64_t j = 0;
  for (; j + 8 <= k; j += 8) {
    max0 = vmaxq_f32(max0, vabsq_f32(vld1q_f32(x + j)));
    max1 = vmaxq_f32(max1, vabsq_f32(vld1q_f32(x + j + 4)));
  }
  if (j + 4 <= k) max0 = vmaxq_f32(max0, vabsq_f32(vld1q_f32(x + j))), j += 4;
  float result = vmaxvq_f32(vmaxq_f32(max0, max1));
  for (; j < k; ++j) {
    const float v = x[j] < 0 ? -x[j] : x[j];
    result = result > v ? result : v;
  }
  return result;
}

// 4 values: round to nearest, ties to even (fcvtns, as nearbyint in the default mode), clamped to [-127, 127].
inline int32x4_t quantize_4(float32x4_t x, float32x4_t inverse) {
  const int32x4_t q = vcvtnq_s32_f32(vmulq_f32(x, inverse));
  return vminq_s32(vmaxq_s32(q, vdupq_n_s32(-127)), vdupq_n_s32(127));
}

// 4 int32 in [-127, 127] -> their 4 bytes, as one int32 lane.
inline int32_t narrow_4(int32x4_t q) {
  const int8x8_t bytes = vmovn_s16(vcombine_s16(vmovn_s32(q), vdup_n_s16(0)));
  return vget_lane_s32(vreinterpret_s32_s8(bytes), 0);
}

// One row -> signed bytes, padded with 0 to whole groups of 4; returns its scale.
float quantize_row(const float* x, int64_t k, int8_t* out) {
  const int64_t padded = k_groups(k) * kGroup;
  const float max_abs = row_max_abs(x, k);
  const bool zero_row = ref::quantizes_to_zero(max_abs);
  const float32x4_t inverse = vdupq_n_f32(zero_row ? 0.0f : 127.0f / max_abs);
  if (zero_row) {
    std::memset(out, 0, size_t(padded));
    return ref::row_scale(max_abs);
  }
  int64_t j = 0;
  for (; j + 16 <= k; j += 16) {
    const int32x4_t q0 = quantize_4(vld1q_f32(x + j), inverse), q1 = quantize_4(vld1q_f32(x + j + 4), inverse);
    const int32x4_t q2 = quantize_4(vld1q_f32(x + j + 8), inverse), q3 = quantize_4(vld1q_f32(x + j + 12), inverse);
    const int16x8_t low = vcombine_s16(vmovn_s32(q0), vmovn_s32(q1)), high = vcombine_s16(vmovn_s32(q2), vmovn_s32(q3));
    vst1q_s8(out + j, vcombine_s8(vmovn_s16(low), vmovn_s16(high)));
  }
  for (; j + 4 <= k; j += 4) {
    const int32_t bytes = narrow_4(quantize_4(vld1q_f32(x + j), inverse));
    std::memcpy(out + j, &bytes, 4);
  }
  if (j < padded) {  // the last, partial group: its real values, then zeros
    const int32_t bytes = narrow_4(quantize_4(neon::load_tail(x + j, k - j, 0.0f), inverse));
    std::memcpy(out + j, &bytes, 4);
  }
  return ref::row_scale(max_abs);
}

// ---- tile ----

// One row of accumulators; with every loop over it unrolled it stays in registers.
struct RowSums {
  int32x4_t v[kVectors];
};

// One row's sums over all 16 columns -> C: float(sum) * (row scale * column scale) + bias (+ C), as the twin.
inline void finish_row(const RowSums& acc, const float* scales, float row_scale, const float* bias, bool accumulate, float* out) {
  const float32x4_t row = vdupq_n_f32(row_scale);
#pragma GCC unroll 4
  for (int v = 0; v < kVectors; ++v) {
    float32x4_t value = vmulq_f32(vcvtq_f32_s32(acc.v[v]), vmulq_f32(row, vld1q_f32(scales + 4 * v)));
    if (bias) value = vaddq_f32(value, vld1q_f32(bias + 4 * v));
    if (accumulate) value = vaddq_f32(value, vld1q_f32(out + 4 * v));
    vst1q_f32(out + 4 * v, value);
  }
}

// The last, partial panel goes through stack copies, so nothing past column n is read or written.
void finish_partial_row(const RowSums& acc, const float* scales, float row_scale, const float* bias, bool accumulate, int64_t cols,
                        float* out) {
  float bias_lanes[kPanel] = {}, lanes[kPanel] = {};
  for (int64_t j = 0; j < cols; ++j) {
    if (bias) bias_lanes[j] = bias[j];
    if (accumulate) lanes[j] = out[j];
  }
  finish_row(acc, scales, row_scale, bias ? bias_lanes : nullptr, accumulate, lanes);
  std::memcpy(out, lanes, sizeof(float) * size_t(cols));
}

// GELU over a stored tile, still in L1; out of line, so that its constants stay out of the k loop's registers.
__attribute__((noinline)) void gelu_tile(float* const* c, int rows, int64_t cols) {
  for (int r = 0; r < rows; ++r) {
    float* row = c[r];
    int64_t j = 0;
    for (; j + 4 <= cols; j += 4) vst1q_f32(row + j, neon::gelu_ps(vld1q_f32(row + j)));
    if (j < cols) neon::store_tail(row + j, neon::gelu_ps(neon::load_tail(row + j, cols - j, 0.0f)), cols - j);
  }
}

// A group's 64 bytes of the panel: 4 vectors of 4 columns x 4 k.
struct PanelGroup {
  int8x16_t v[kVectors];
};

__attribute__((always_inline)) inline PanelGroup load_group(const int8_t* b) {
  PanelGroup p;
#pragma GCC unroll 4
  for (int v = 0; v < kVectors; ++v) p.v[v] = vld1q_s8(b + 16 * v);
  return p;
}

// One group of 4 k whose A bytes are lane `Lane` of a[r]: R x 4 sdot by element.
template <int R, int Lane>
__attribute__((always_inline)) inline void group_step(RowSums (&acc)[R], const PanelGroup& panel, const int8x16_t (&a)[R]) {
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < kVectors; ++v) acc[r].v[v] = vdotq_laneq_s32(acc[r].v[v], panel.v[v], a[r], Lane);
  }
}

// Every loop over rows and vectors is unrolled, so each accumulator is one register. The k loop takes 4 groups
// with one 16-byte load of A per row, and loads each group's panel vectors one group ahead, into the other of two
// sets (16 accumulators + 4 A + 8 panel = 28 q registers at 4 rows). Loading each group just before its sdots
// (one register per panel vector, as the register allocation does without the first scheduling pass) left an
// in-order core waiting on every load: llvm-mca's Cortex-A55 took 105 cycles per 4 groups, 61 with the sets
// (16.8 int8 MACs a cycle of its model's 32; the Cortex-A76 model's 32 cycles are its peak,
// bench/micro_kernel_loops.py --mca). Reading A one iteration ahead as well needs the last 4 registers and
// makes GCC spill. 4 rows x 16 is also the largest tile that keeps both panel sets: 5 rows need 33 registers.
template <int R>
void micro_tile(const Int8GemmArgs& g, const int8_t* const* rows, const float* row_scales, float* const* c, const int8_t* panel,
                int64_t cols, const float* bias) {
  RowSums acc[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < kVectors; ++v) acc[r].v[v] = vdupq_n_s32(0);
  }
  const int8_t* a[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) a[r] = rows[r];
  const int64_t groups = k_groups(g.k);
  const int8_t* b = panel;
  constexpr int64_t kGroupBytes = kGroup * kPanel;
  int64_t group = 0;
  if (groups >= 4) {
    // The panel is read one group ahead: after the last group of weights that reads the panel's corrections
    // (8 x 16 bytes of corrections and scales follow the weights), unused.
    PanelGroup current = load_group(b);
    for (; group + 4 <= groups; group += 4, b += 4 * kGroupBytes) {
      int8x16_t a_values[R];  // 4 groups of each row
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) a_values[r] = vld1q_s8(a[r] + group * kGroup);
      PanelGroup next = load_group(b + kGroupBytes);
      group_step<R, 0>(acc, current, a_values);
      current = load_group(b + 2 * kGroupBytes);
      group_step<R, 1>(acc, next, a_values);
      next = load_group(b + 3 * kGroupBytes);
      group_step<R, 2>(acc, current, a_values);
      current = load_group(b + 4 * kGroupBytes);
      group_step<R, 3>(acc, next, a_values);
    }
  }
  for (; group < groups; ++group, b += kGroupBytes) {
    int8x16_t a_values[R];  // the group's 4 bytes in every lane
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      int32_t bytes;
      std::memcpy(&bytes, a[r] + group * kGroup, 4);
      a_values[r] = vreinterpretq_s8_s32(vdupq_n_s32(bytes));
    }
    group_step<R, 0>(acc, load_group(b), a_values);
  }
  // Signed A: the panel's corrections are 0 and not read.
  const float* scales = reinterpret_cast<const float*>(panel + panel_weight_bytes(kPanel, g.k) + 4 * kPanel);
  if (cols == kPanel) {
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) finish_row(acc[r], scales, row_scales[r], bias, g.accumulate, c[r]);
  } else {
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) finish_partial_row(acc[r], scales, row_scales[r], bias, g.accumulate, cols, c[r]);
  }
  if (g.gelu) gelu_tile(c, R, cols);
}

using MicroTile = void (*)(const Int8GemmArgs&, const int8_t* const*, const float*, float* const*, const int8_t*, int64_t,
                           const float*);

// micro_tile<1> .. micro_tile<kRows>, indexed by a tile's row count.
template <size_t... R>
struct TileTable {
  static constexpr MicroTile tiles[] = {nullptr, micro_tile<int(R) + 1>...};
};

template <size_t... R>
constexpr TileTable<R...> make_table(std::index_sequence<R...>) {
  return {};
}

using Tiles = decltype(make_table(std::make_index_sequence<kRows>()));

}  // namespace

bool cpu_has_dot_product() { return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0; }

void quantize(const Int8GemmArgs& g, const QuantizedRows& q, int64_t row, int64_t rows) {
  for (int64_t i = row; i < row + rows; ++i) {
    q.scales[i] = quantize_row(g.a + (g.a_rows ? g.a_rows[i] : i) * g.lda, g.k, reinterpret_cast<int8_t*>(q.rows + i * q.row_stride));
  }
}

void tile(const Int8GemmArgs& g, const QuantizedRows& q, int64_t row, int64_t rows, int64_t panel) {
  run_tiles<kPanel, kRows, 1, int8_t>(g, q, row, rows, panel, Tiles::tiles);
}

}  // namespace adarun::int8::neondot
