// AVX-VNNI int8 GEMM (kernels/gemm_int8.h): A as unsigned bytes (q + 128), 6 rows x 16 columns of int32 accumulators
// (12 ymm), one 256-bit vpdpbusd per row, 8 columns and 4 k.
#include <immintrin.h>

#include "kernels/int8_tiles.h"
#include "kernels/x86/int8_avx2_common.h"

namespace adarun::int8::avxvnni {
namespace {

using avx2_common::Encoding;

// acc += the u8 x s8 dot products of a and b, in place (see gemm_int8_avx512vnni.cpp: GCC 12 copies the
// accumulators around the intrinsic).
inline void dot_accumulate(__m256i& acc, __m256i a, __m256i b) { asm("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(a), "x"(b)); }

template <int R>
void micro_tile(const Int8GemmArgs& g, const uint8_t* const* a, const float* row_scales, float* const* c, const uint8_t* panel,
                int64_t cols, const float* bias) {
  __m256i acc[R][2];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
  const int64_t groups = k_groups(g.k);
  for (int64_t group = 0; group < groups; ++group) {
    const __m256i* b = reinterpret_cast<const __m256i*>(panel + group * kGroup * kPanel);
    const __m256i b0 = _mm256_load_si256(b), b1 = _mm256_load_si256(b + 1);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256i av = _mm256_set1_epi32(*reinterpret_cast<const int32_t*>(a[r] + group * kGroup));
      dot_accumulate(acc[r][0], av, b0);
      dot_accumulate(acc[r][1], av, b1);
    }
  }
  avx2_common::finish_tile<R, 1>(g, row_scales, c, panel, cols, bias, [&](int r, __m256i* lo, __m256i* hi) {
    *lo = acc[r][0];
    *hi = acc[r][1];
  });
}

using MicroTile = void (*)(const Int8GemmArgs&, const uint8_t* const*, const float*, float* const*, const uint8_t*, int64_t,
                           const float*);
constexpr MicroTile kTiles[kRows + 1] = {nullptr, micro_tile<1>, micro_tile<2>, micro_tile<3>, micro_tile<4>, micro_tile<5>, micro_tile<6>};

}  // namespace

void quantize(const Int8GemmArgs& g, const QuantizedRows& q, int64_t row, int64_t rows) {
  avx2_common::quantize_rows<Encoding::kUnsignedBytes>(g, q, row, rows);
}

void tile(const Int8GemmArgs& g, const QuantizedRows& q, int64_t row, int64_t rows, int64_t panel) {
  run_tiles<kPanel, kRows, 1, uint8_t>(g, q, row, rows, panel, kTiles);
}

}  // namespace adarun::int8::avxvnni
