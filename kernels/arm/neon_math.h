#pragma once
// The 4-lane vector math of the NEON kernels (activations, GEMM epilogues): exp by Cody-Waite range reduction and
// a degree-6 polynomial (~1 ulp on the range used), erf by the Numerical Recipes erfc form (|error| < 1.2e-7),
// and GELU over them. Include only from files built for the ISA.
#include <arm_neon.h>

#include "kernels/activations.h"

namespace adarun::neon {
// Internal linkage: each file that includes this is built with its own ISA flags, and a shared inline copy
// (merged by the linker) could run one ISA's instructions on a CPU that has only another's.
namespace {

// x is clamped to [kExpZeroBelow, 88.37] so that 2^n and the result stay normal floats (2^n is built in the
// exponent bits); below the clamp the result is 0. The kernels here only pass x <= ~1 (softmax shifts by the row max; erfc's argument).
inline float32x4_t exp_ps(float32x4_t x) {
  const uint32x4_t representable = vcgeq_f32(x, vdupq_n_f32(kExpZeroBelow));
  x = vmaxq_f32(vminq_f32(x, vdupq_n_f32(88.37f)), vdupq_n_f32(kExpZeroBelow));
  const float32x4_t n = vrndnq_f32(vmulq_f32(x, vdupq_n_f32(1.44269504088896341f)));
  float32x4_t r = vfmsq_f32(x, n, vdupq_n_f32(0.693359375f));
  r = vfmsq_f32(r, n, vdupq_n_f32(-2.12194440e-4f));
  float32x4_t p = vdupq_n_f32(1.9875691500e-4f);
  p = vfmaq_f32(vdupq_n_f32(1.3981999507e-3f), p, r);
  p = vfmaq_f32(vdupq_n_f32(8.3334519073e-3f), p, r);
  p = vfmaq_f32(vdupq_n_f32(4.1665795894e-2f), p, r);
  p = vfmaq_f32(vdupq_n_f32(1.6666665459e-1f), p, r);
  p = vfmaq_f32(vdupq_n_f32(5.0000001201e-1f), p, r);
  p = vfmaq_f32(vaddq_f32(r, vdupq_n_f32(1.0f)), p, vmulq_f32(r, r));
  const int32x4_t biased_exponent = vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127));
  const float32x4_t e = vmulq_f32(p, vreinterpretq_f32_s32(vshlq_n_s32(biased_exponent, 23)));
  return vreinterpretq_f32_u32(vandq_u32(representable, vreinterpretq_u32_f32(e)));
}

// erf(x) = 1 - erfc(|x|) with the sign of x; erfc(z) ~ t exp(-z^2 + P(t)), t = 1 / (1 + z/2).
inline float32x4_t erf_ps(float32x4_t x) {
  const float32x4_t z = vabsq_f32(x);
  const float32x4_t t = vdivq_f32(vdupq_n_f32(1.0f), vfmaq_f32(vdupq_n_f32(1.0f), z, vdupq_n_f32(0.5f)));
  static const float c[] = {0.17087277f, -0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f,
                            -0.18628806f, 0.09678418f, 0.37409196f, 1.00002368f, -1.26551223f};
  float32x4_t p = vdupq_n_f32(c[0]);
  for (int i = 1; i < 10; ++i) p = vfmaq_f32(vdupq_n_f32(c[i]), p, t);
  const float32x4_t erfc = vmulq_f32(t, exp_ps(vfmsq_f32(p, z, z)));
  const uint32x4_t magnitude = vreinterpretq_u32_f32(vsubq_f32(vdupq_n_f32(1.0f), erfc));
  const uint32x4_t sign = vandq_u32(vreinterpretq_u32_f32(x), vdupq_n_u32(0x80000000u));
  return vreinterpretq_f32_u32(vorrq_u32(magnitude, sign));
}

inline float32x4_t gelu_ps(float32x4_t v) {
  const float32x4_t erf = erf_ps(vmulq_f32(v, vdupq_n_f32(0.70710678118654752f)));
  return vmulq_f32(vmulq_f32(vdupq_n_f32(0.5f), v), vaddq_f32(vdupq_n_f32(1.0f), erf));
}

}  // namespace
}  // namespace adarun::neon
