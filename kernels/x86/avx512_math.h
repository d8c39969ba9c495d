#pragma once
// The 16-lane vector math of the AVX-512 kernels (activations, GEMM epilogues): exp by Cody-Waite range reduction and
// a degree-6 polynomial (~1 ulp on the range used), erf by the Numerical Recipes erfc form (|error| < 1.2e-7),
// and GELU over them. Include only from files built for the ISA.
#include <immintrin.h>

#include "kernels/activations.h"

namespace adarun::avx512 {
// Internal linkage: each file that includes this is built with its own ISA flags, and a shared inline copy
// (merged by the linker) could run one ISA's instructions on a CPU that has only another's.
namespace {

inline __m512 exp_ps(__m512 x) {
  const __mmask16 representable = _mm512_cmp_ps_mask(x, _mm512_set1_ps(kExpZeroBelow), _CMP_GE_OQ);
  x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.3762626647949f)), _mm512_set1_ps(kExpZeroBelow));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_maskz_mov_ps(representable, _mm512_scalef_ps(p, n));
}

// erf(x) = 1 - erfc(|x|) with the sign of x; erfc(z) ~ t exp(-z^2 + P(t)), t = 1 / (1 + z/2).
inline __m512 erf_ps(__m512 x) {
  const __m512 z = _mm512_abs_ps(x);
  const __m512 t = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_fmadd_ps(z, _mm512_set1_ps(0.5f), _mm512_set1_ps(1.0f)));
  static const float c[] = {0.17087277f, -0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f,
                            -0.18628806f, 0.09678418f, 0.37409196f, 1.00002368f, -1.26551223f};
  __m512 p = _mm512_set1_ps(c[0]);
  for (int i = 1; i < 10; ++i) p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(c[i]));
  const __m512 erfc = _mm512_mul_ps(t, exp_ps(_mm512_fnmadd_ps(z, z, p)));
  const __m512 magnitude = _mm512_sub_ps(_mm512_set1_ps(1.0f), erfc);
  return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(magnitude),
                                             _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(int(0x80000000)))));
}

inline __m512 gelu_ps(__m512 v) {
  const __m512 erf = erf_ps(_mm512_mul_ps(v, _mm512_set1_ps(0.70710678118654752f)));
  return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), v), _mm512_add_ps(_mm512_set1_ps(1.0f), erf));
}

}  // namespace
}  // namespace adarun::avx512
