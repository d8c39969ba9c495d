// Single-core fp32 peak: independent AVX-512 (or AVX2) FMA chains, no memory traffic.
#include "bench/fma_peak.h"

#include <immintrin.h>

#include <chrono>

namespace adarun::bench {
namespace {

constexpr int kChains = 12;  // enough independent accumulators to cover FMA latency x throughput

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

}  // namespace

double fma_peak_gflops(Isa isa, double seconds) {
  const int lanes = isa == Isa::kAvx512 ? 16 : 8;
  int64_t iterations = 1 << 20;
  volatile double sink = 0;
  for (;;) {
    const auto start = std::chrono::steady_clock::now();
    sink = sink + (isa == Isa::kAvx512 ? run_avx512(iterations) : run_avx2(iterations));
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (elapsed >= seconds) return 2.0 * lanes * kChains * double(iterations) / elapsed * 1e-9;
    iterations *= 2;
  }
}

}  // namespace adarun::bench
