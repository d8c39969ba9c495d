#pragma once
// Loads and stores of a row's last, partial vector (fewer than 8 floats) through a stack copy, so that
// the AVX2 kernels never touch memory past a row's end. Include only from files built with -mavx2.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace adarun::avx2 {
// Internal linkage: each file that includes this is built with its own ISA flags, and a shared inline copy
// (merged by the linker) could run one ISA's instructions on a CPU that has only another's.
namespace {

// Lanes [0, count) from x, the others `fill`.
inline __m256 load_tail(const float* x, int64_t count, float fill) {
  float lanes[8] = {fill, fill, fill, fill, fill, fill, fill, fill};
  std::memcpy(lanes, x, sizeof(float) * size_t(count));
  return _mm256_loadu_ps(lanes);
}

// Lanes [0, count) of v to x.
inline void store_tail(float* x, __m256 v, int64_t count) {
  float lanes[8];
  _mm256_storeu_ps(lanes, v);
  std::memcpy(x, lanes, sizeof(float) * size_t(count));
}

// The sum and the maximum of the 8 lanes.
inline float horizontal_sum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

inline float horizontal_max(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
}

}  // namespace
}  // namespace adarun::avx2
