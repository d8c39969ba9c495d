#pragma once
#include "kernels/gemm.h"

namespace adarun::bench {

// Measured fp32 FMA throughput of one core in GFLOP/s (2 flops per FMA lane) for avx512, avx2 or neon (one this build has).
double fma_peak_gflops(Isa isa, double seconds = 0.3);

}  // namespace adarun::bench
