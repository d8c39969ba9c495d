// Single-core fp32 peak: independent AVX-512, AVX2 or NEON FMA chains, no memory traffic.
#include "bench/fma_peak.h"

#ifdef ADARUN_X86_KERNELS
#include <immintrin.h>
#endif
#ifdef ADARUN_ARM_KERNELS
#include <arm_neon.h>
#endif

#include <chrono>

namespace adarun::bench {
namespace {

constexpr int kChains = 12;  // enough independent accumulators to cover FMA latency x throughput

#ifdef ADARUN_X86_KERNELS
__attribute__((target("avx512f,fma"))) double run_avx512(int64_t iterations) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(float(i));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < iterations; ++it) {
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  float sink = 0;
  for (int i = 0; i < kChains; ++i) sink += _mm512_reduce_add_ps(acc[i]);
  return double(sink);
}

__attribute__((target("avx2,fma"))) double run_avx2(int64_t iterations) {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(float(i));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t it = 0; it < iterations; ++it) {
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  alignas(32) float lanes[8];
  float sink = 0;
  for (int i = 0; i < kChains; ++i) {
    _mm256_store_ps(lanes, acc[i]);
    for (float v : lanes) sink += v;
  }
  return double(sink);
}
#endif

#ifdef ADARUN_ARM_KERNELS
double run_neon(int64_t iterations) {
  float32x4_t acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = vdupq_n_f32(float(i));
  const float32x4_t a = vdupq_n_f32(0.999999f), b = vdupq_n_f32(1e-7f);
  for (int64_t it = 0; it < iterations; ++it) {
    for (int i = 0; i < kChains; ++i) acc[i] = vfmaq_f32(b, acc[i], a);
  }
  float sink = 0;
  for (int i = 0; i < kChains; ++i) sink += vaddvq_f32(acc[i]);
  return double(sink);
}
#endif

int lanes(Isa isa) { return isa == Isa::kAvx512 ? 16 : isa == Isa::kAvx2 ? 8 : 4; }

double run_chains(Isa isa, int64_t iterations) {
#ifdef ADARUN_X86_KERNELS
  if (isa == Isa::kAvx512) return run_avx512(iterations);
  if (isa == Isa::kAvx2) return run_avx2(iterations);
#endif
#ifdef ADARUN_ARM_KERNELS
  if (isa == Isa::kNeon) return run_neon(iterations);
#endif
  (void)isa, (void)iterations;
  return 0.0;
}

}  // namespace

double fma_peak_gflops(Isa isa, double seconds) {
  int64_t iterations = 1 << 20;
  volatile double sink = 0;
  for (;;) {
    const auto start = std::chrono::steady_clock::now();
    sink = sink + run_chains(isa, iterations);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (elapsed >= seconds) return 2.0 * lanes(isa) * kChains * double(iterations) / elapsed * 1e-9;
    iterations *= 2;
  }
}

}  // namespace adarun::bench
