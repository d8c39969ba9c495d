// AVX2 int8 GEMM (kernels/gemm_int8.h) for CPUs without VNNI (AMD Zen 3 and older): weights packed as int16 (widened
// once at load: sign-extending them in the loop cost a shuffle-port vpmovsxbw per 4 columns), A quantized to int16,
// vpmaddwd summing pairs into int32 (exact: no saturating byte products). 2 rows x 16 columns, each column's sum in
// two lanes until the epilogue adds them.
#include <immintrin.h>

#include "kernels/int8_tiles.h"
#include "kernels/x86/int8_avx2_common.h"

namespace adarun::int8::avx2 {
namespace {

using avx2_common::Encoding;

// acc[q]: columns 4q..4q+3 as (k0 k1, k2 k3) pair sums -> 8 columns in order.
inline __m256i column_sums(__m256i first4, __m256i next4) {
  return _mm256_permute4x64_epi64(_mm256_hadd_epi32(first4, next4), 0xD8);
}

// acc += the pair sums of a x b, accumulated in place: with the intrinsics GCC 12 adds into the product's register
// and copies it back to the accumulator's, a vmovdqa per vpmaddwd.
inline void madd_accumulate(__m256i& acc, __m256i a, __m256i b) {
  const __m256i pairs = _mm256_madd_epi16(a, b);
  asm("vpaddd %1, %0, %0" : "+x"(acc) : "x"(pairs));
}

template <int R>
void micro_tile(const Int8GemmArgs& g, const uint8_t* const* a, const float* row_scales, float* const* c, const uint8_t* panel,
                int64_t cols, const float* bias) {
  __m256i acc[R][4];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = acc[r][2] = acc[r][3] = _mm256_setzero_si256();
  const int64_t groups = k_groups(g.k);
  for (int64_t group = 0; group < groups; ++group) {
    __m256i av[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) av[r] = _mm256_set1_epi64x(*reinterpret_cast<const long long*>(a[r] + group * kGroup * 2));
    const __m256i* b = reinterpret_cast<const __m256i*>(panel + group * kGroup * kPanel * kValueBytes);
#pragma GCC unroll 4
    for (int quarter = 0; quarter < 4; ++quarter) {
      const __m256i words = _mm256_load_si256(b + quarter);  // 4 columns x 4 k, int16
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) madd_accumulate(acc[r][quarter], av[r], words);
    }
  }
  avx2_common::finish_tile<R, kValueBytes>(g, row_scales, c, panel, cols, bias, [&](int r, __m256i* lo, __m256i* hi) {
    *lo = column_sums(acc[r][0], acc[r][1]);
    *hi = column_sums(acc[r][2], acc[r][3]);
  });
}

using MicroTile = void (*)(const Int8GemmArgs&, const uint8_t* const*, const float*, float* const*, const uint8_t*, int64_t,
                           const float*);
constexpr MicroTile kTiles[kRows + 1] = {nullptr, micro_tile<1>, micro_tile<2>};

}  // namespace

void quantize(const Int8GemmArgs& g, const QuantizedRows& q, int64_t row, int64_t rows) {
  avx2_common::quantize_rows<Encoding::kInt16>(g, q, row, rows);
}

void tile(const Int8GemmArgs& g, const QuantizedRows& q, int64_t row, int64_t rows, int64_t panel) {
  run_tiles<kPanel, kRows, kValueBytes, uint8_t>(g, q, row, rows, panel, kTiles);
}

}  // namespace adarun::int8::avx2
