// AVX512-VNNI int8 GEMM (kernels/gemm_int8.h): A quantized to unsigned bytes (q + 128), 8 rows x 32 columns of int32
// accumulators (16 zmm), one vpdpbusd per row, 16 columns and 4 k.
#include <immintrin.h>

#include "kernels/int8_tiles.h"
#include "kernels/ref/gemm_int8.h"
#include "kernels/x86/avx512_math.h"

namespace adarun::int8::avx512vnni {
namespace {

__mmask16 lane_mask(int64_t valid) {
  if (valid >= 16) return 0xFFFF;
  if (valid <= 0) return 0;
  return static_cast<__mmask16>((1u << valid) - 1);
}

float row_max_abs(const float* x, int64_t k) {
  __m512 max = _mm512_setzero_ps();
  for (int64_t j = 0; j < k; j += 16) max = _mm512_max_ps(max, _mm512_abs_ps(_mm512_maskz_loadu_ps(lane_mask(k - j), x + j)));
  return _mm512_reduce_max_ps(max);
}

// q + 128 of one row (ref::quantize_row's q), padded with 128 (zero) to whole groups; returns the row's scale.
float quantize_row(const float* x, int64_t k, uint8_t* out) {
  const int64_t padded = k_groups(k) * kGroup;
  const float max_abs = row_max_abs(x, k);
  const bool zero_row = ref::quantizes_to_zero(max_abs);
  const __m512 inverse = _mm512_set1_ps(zero_row ? 0.0f : 127.0f / max_abs);
  const __m512i offset = _mm512_set1_epi32(128);
  for (int64_t j = 0; j < padded; j += 16) {
    const __mmask16 real = lane_mask(k - j);
    // No clamp: |x| <= max|x| gives |x * (127 / max|x|)| <= 127 (1 + 2^-24)^2 < 127.5, which rounds to at most 127.
    const __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(real, x + j), inverse)), offset);
    _mm_mask_storeu_epi8(out + j, lane_mask(padded - j), _mm512_cvtepi32_epi8(q));
  }
  return ref::row_scale(max_abs);
}

// One row's sums over a panel -> C: (sum - correction) * (row scale * column scale) + bias (+ C).
inline void finish_row(__m512i lo, __m512i hi, const int32_t* corrections, const float* scales, float row_scale, const float* bias,
                       __mmask16 mask_lo, __mmask16 mask_hi, bool accumulate, float* out) {
  const __m512 row = _mm512_set1_ps(row_scale);
  __m512 vlo = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(lo, _mm512_load_si512(corrections))),
                             _mm512_mul_ps(row, _mm512_load_ps(scales)));
  __m512 vhi = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(hi, _mm512_load_si512(corrections + 16))),
                             _mm512_mul_ps(row, _mm512_load_ps(scales + 16)));
  if (bias) {
    vlo = _mm512_add_ps(vlo, _mm512_maskz_loadu_ps(mask_lo, bias));
    vhi = _mm512_add_ps(vhi, _mm512_maskz_loadu_ps(mask_hi, bias + 16));
  }
  if (accumulate) {
    vlo = _mm512_add_ps(vlo, _mm512_maskz_loadu_ps(mask_lo, out));
    vhi = _mm512_add_ps(vhi, _mm512_maskz_loadu_ps(mask_hi, out + 16));
  }
  _mm512_mask_storeu_ps(out, mask_lo, vlo);
  _mm512_mask_storeu_ps(out + 16, mask_hi, vhi);
}

__attribute__((noinline)) void gelu_tile(float* const* c, int rows, __mmask16 mask_lo, __mmask16 mask_hi) {
  for (int r = 0; r < rows; ++r) {
    _mm512_mask_storeu_ps(c[r], mask_lo, adarun::avx512::gelu_ps(_mm512_maskz_loadu_ps(mask_lo, c[r])));
    _mm512_mask_storeu_ps(c[r] + 16, mask_hi, adarun::avx512::gelu_ps(_mm512_maskz_loadu_ps(mask_hi, c[r] + 16)));
  }
}

// acc += the u8 x s8 dot products of a and b, in place. GCC 12 compiles _mm512_dpbusd_epi32 in a loop as a
// non-destructive operation and copies every accumulator each k group (two vmovdqa per vpdpbusd in micro_tile<8>);
// the asm keeps each accumulator in its register.
inline void dot_accumulate(__m512i& acc, __m512i a, __m512i b) { asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b)); }

// R rows (unrolled: each accumulator one register) of C over one panel.
template <int R>
void micro_tile(const Int8GemmArgs& g, const uint8_t* const* a, const float* row_scales, float* const* c, const uint8_t* panel,
                int64_t cols, const float* bias) {
  __m512i acc[R][2];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_si512();
  const int64_t groups = k_groups(g.k);
  for (int64_t group = 0; group < groups; ++group) {
    const __m512i b0 = _mm512_load_si512(panel + group * kGroup * kPanel);
    const __m512i b1 = _mm512_load_si512(panel + group * kGroup * kPanel + 64);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512i av = _mm512_set1_epi32(*reinterpret_cast<const int32_t*>(a[r] + group * kGroup));
      dot_accumulate(acc[r][0], av, b0);
      dot_accumulate(acc[r][1], av, b1);
    }
  }
  const int32_t* corrections = reinterpret_cast<const int32_t*>(panel + panel_weight_bytes(kPanel, g.k));
  const float* scales = reinterpret_cast<const float*>(corrections + kPanel);
  const __mmask16 mask_lo = lane_mask(cols), mask_hi = lane_mask(cols - 16);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    finish_row(acc[r][0], acc[r][1], corrections, scales, row_scales[r], bias, mask_lo, mask_hi, g.accumulate, c[r]);
  }
  if (g.gelu) gelu_tile(c, R, mask_lo, mask_hi);
}

using MicroTile = void (*)(const Int8GemmArgs&, const uint8_t* const*, const float*, float* const*, const uint8_t*, int64_t,
                           const float*);
constexpr MicroTile kTiles[kRows + 1] = {nullptr,       micro_tile<1>, micro_tile<2>, micro_tile<3>, micro_tile<4>,
                                         micro_tile<5>, micro_tile<6>, micro_tile<7>, micro_tile<8>};

}  // namespace

void quantize(const Int8GemmArgs& g, const QuantizedRows& q, int64_t row, int64_t rows) {
  for (int64_t i = row; i < row + rows; ++i) {
    const float* x = g.a + (g.a_rows ? g.a_rows[i] : i) * g.lda;
    q.scales[i] = quantize_row(x, g.k, q.rows + i * q.row_stride);
  }
}

void tile(const Int8GemmArgs& g, const QuantizedRows& q, int64_t row, int64_t rows, int64_t panel) {
  run_tiles<kPanel, kRows, 1, uint8_t>(g, q, row, rows, panel, kTiles);
}

}  // namespace adarun::int8::avx512vnni
