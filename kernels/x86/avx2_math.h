#pragma once
// The 8-lane vector math of the AVX2 kernels (activations, GEMM epilogues): exp by Cody-Waite range reduction and
// a degree-6 polynomial (~1 ulp on the range used), erf by the Numerical Recipes erfc form (|error| < 1.2e-7),
// and GELU over them. Include only from files built for the ISA.
#include <immintrin.h>

#include "kernels/activations.h"

namespace adarun::avx2 {
// Internal linkage: each file that includes this is built with its own ISA flags, and a shared inline copy
// (merged by the linker) could run one ISA's instructions on a CPU that has only another's.
namespace {

// x is clamped to [kExpZeroBelow, 88.37] so that 2^n and the result stay normal floats (2^n is built in the
// exponent bits); below the clamp the result is 0. The kernels here only pass x <= ~1 (softmax shifts by the row max; erfc's argument).
inline __m256 exp_ps(__m256 x) {
  const __m256 representable = _mm256_cmp_ps(x, _mm256_set1_ps(kExpZeroBelow), _CMP_GE_OQ);
  x = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.37f)), _mm256_set1_ps(kExpZeroBelow));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i biased_exponent = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
  return _mm256_and_ps(representable, _mm256_mul_ps(p, _mm256_castsi256_ps(_mm256_slli_epi32(biased_exponent, 23))));
}

// erf(x) = 1 - erfc(|x|) with the sign of x; erfc(z) ~ t exp(-z^2 + P(t)), t = 1 / (1 + z/2).
inline __m256 erf_ps(__m256 x) {
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  const __m256 z = _mm256_andnot_ps(sign_bit, x);
  const __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(z, _mm256_set1_ps(0.5f), _mm256_set1_ps(1.0f)));
  static const float c[] = {0.17087277f, -0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f,
                            -0.18628806f, 0.09678418f, 0.37409196f, 1.00002368f, -1.26551223f};
  __m256 p = _mm256_set1_ps(c[0]);
  for (int i = 1; i < 10; ++i) p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(c[i]));
  const __m256 erfc = _mm256_mul_ps(t, exp_ps(_mm256_fnmadd_ps(z, z, p)));
  const __m256 magnitude = _mm256_sub_ps(_mm256_set1_ps(1.0f), erfc);
  return _mm256_or_ps(magnitude, _mm256_and_ps(x, sign_bit));
}

inline __m256 gelu_ps(__m256 v) {
  const __m256 erf = erf_ps(_mm256_mul_ps(v, _mm256_set1_ps(0.70710678118654752f)));
  return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), v), _mm256_add_ps(_mm256_set1_ps(1.0f), erf));
}

}  // namespace
}  // namespace adarun::avx2
