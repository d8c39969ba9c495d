#pragma once
// What the two 256-bit int8 kernels (AVX2, AVX-VNNI) share: the row quantizer and the epilogue over a 16-column
// panel. Include only from files built with -mavx2 -mfma.
#include <immintrin.h>

#include <cstring>

#include "kernels/int8_tiles.h"
#include "kernels/ref/gemm_int8.h"
#include "kernels/x86/avx2_math.h"
#include "kernels/x86/avx2_panel.h"

namespace adarun::int8::avx2_common {
// Internal linkage: each file that includes this is built with its own ISA flags, and a shared inline copy
// (merged by the linker) could run one ISA's instructions on a CPU that has only another's.
namespace {

using adarun::avx2::gelu_tile;
using adarun::avx2::load_lanes;
using adarun::avx2::panel_lanes;
using adarun::avx2::PanelLanes;
using adarun::avx2::store_lanes;

// How a kernel wants A: unsigned bytes q + 128 (vpdpbusd), or int16 (vpmaddwd).
enum class Encoding { kUnsignedBytes, kInt16 };

inline float row_max_abs(const float* x, int64_t k) {
  const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  __m256 max = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 8 <= k; j += 8) max = _mm256_max_ps(max, _mm256_and_ps(_mm256_loadu_ps(x + j), magnitude));
  float lanes[8];
  _mm256_storeu_ps(lanes, max);
  float result = 0.0f;
  for (float lane : lanes) result = result > lane ? result : lane;
  for (; j < k; ++j) {
    const float v = x[j] < 0 ? -x[j] : x[j];
    result = result > v ? result : v;
  }
  return result;
}

// 8 values of a row quantized (ref::quantize_row) and stored in the encoding.
template <Encoding E>
inline void quantize_8(__m256 x, __m256 inverse, uint8_t* out) {
  // Ties to even. No clamp: |x| <= max|x| gives |x * (127 / max|x|)| <= 127 (1 + 2^-24)^2 < 127.5, at most 127.
  __m256i q = _mm256_cvtps_epi32(_mm256_mul_ps(x, inverse));
  if (E == Encoding::kUnsignedBytes) q = _mm256_add_epi32(q, _mm256_set1_epi32(128));
  const __m256i words = _mm256_packs_epi32(q, q);  // per 128-bit lane: its 4 values as int16, twice
  if (E == Encoding::kInt16) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm256_castsi256_si128(words));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + 8), _mm256_extracti128_si256(words, 1));
    return;
  }
  const __m256i bytes = _mm256_packus_epi16(words, words);  // 1..255 fit unsigned bytes
  const int32_t low = _mm_cvtsi128_si32(_mm256_castsi256_si128(bytes)), high = _mm_cvtsi128_si32(_mm256_extracti128_si256(bytes, 1));
  std::memcpy(out, &low, 4);
  std::memcpy(out + 4, &high, 4);
}

// One row into the encoding, padded with zeros' code to whole groups of 4; returns its scale.
template <Encoding E>
inline float quantize_row(const float* x, int64_t k, uint8_t* out) {
  constexpr int kBytes = E == Encoding::kInt16 ? 2 : 1;
  const int64_t padded = k_groups(k) * kGroup;
  const float max_abs = row_max_abs(x, k);
  const bool zero_row = ref::quantizes_to_zero(max_abs);
  const __m256 inverse = _mm256_set1_ps(zero_row ? 0.0f : 127.0f / max_abs);
  int64_t j = 0;
  for (; j + 8 <= k; j += 8) quantize_8<E>(_mm256_loadu_ps(x + j), inverse, out + j * kBytes);
  for (; j < padded; j += 8) {  // the last part: the real values, then zeros (to the group, maybe beyond: the stride has room)
    float tail[8] = {};
    for (int64_t t = j; t < k; ++t) tail[t - j] = x[t];
    uint8_t encoded[8 * kBytes];
    quantize_8<E>(_mm256_loadu_ps(tail), inverse, encoded);
    std::memcpy(out + j * kBytes, encoded, size_t((padded - j < 8 ? padded - j : 8) * kBytes));
  }
  return ref::row_scale(max_abs);
}

template <Encoding E>
inline void quantize_rows(const Int8GemmArgs& g, const QuantizedRows& q, int64_t row, int64_t rows) {
  for (int64_t i = row; i < row + rows; ++i) {
    q.scales[i] = quantize_row<E>(g.a + (g.a_rows ? g.a_rows[i] : i) * g.lda, g.k, q.rows + i * q.row_stride);
  }
}

// One row's sums over a 16-column panel -> C: (sum - correction) * (row scale * column scale) + bias (+ C).
inline void finish_row(__m256i lo, __m256i hi, const int32_t* corrections, const float* scales, float row_scale, const float* bias,
                       const PanelLanes& lanes, bool accumulate, float* out) {
  const __m256 row = _mm256_set1_ps(row_scale);
  lo = _mm256_sub_epi32(lo, _mm256_load_si256(reinterpret_cast<const __m256i*>(corrections)));
  hi = _mm256_sub_epi32(hi, _mm256_load_si256(reinterpret_cast<const __m256i*>(corrections + 8)));
  __m256 vlo = _mm256_mul_ps(_mm256_cvtepi32_ps(lo), _mm256_mul_ps(row, _mm256_load_ps(scales)));
  __m256 vhi = _mm256_mul_ps(_mm256_cvtepi32_ps(hi), _mm256_mul_ps(row, _mm256_load_ps(scales + 8)));
  if (bias) {
    vlo = _mm256_add_ps(vlo, load_lanes(bias, lanes.full, lanes.lo));
    vhi = _mm256_add_ps(vhi, load_lanes(bias + 8, lanes.full, lanes.hi));
  }
  if (accumulate) {
    vlo = _mm256_add_ps(vlo, load_lanes(out, lanes.full, lanes.lo));
    vhi = _mm256_add_ps(vhi, load_lanes(out + 8, lanes.full, lanes.hi));
  }
  store_lanes(out, vlo, lanes.full, lanes.lo);
  store_lanes(out + 8, vhi, lanes.full, lanes.hi);
}

// Sums -> C for a tile's rows, then GELU; Sums(r, &lo, &hi) gives row r's 16 column sums.
template <int R, int ValueBytes, typename Sums>
inline void finish_tile(const Int8GemmArgs& g, const float* row_scales, float* const* c, const uint8_t* panel, int64_t cols,
                        const float* bias, const Sums& sums) {
  const int32_t* corrections = reinterpret_cast<const int32_t*>(panel + panel_weight_bytes(16, g.k, ValueBytes));
  const float* scales = reinterpret_cast<const float*>(corrections + 16);
  const PanelLanes lanes = panel_lanes(cols);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    __m256i lo, hi;
    sums(r, &lo, &hi);
    finish_row(lo, hi, corrections, scales, row_scales[r], bias, lanes, g.accumulate, c[r]);
  }
  if (g.gelu) gelu_tile(c, R, lanes);
}

}  // namespace
}  // namespace adarun::int8::avx2_common
