#pragma once
#include <cstdint>

namespace adarun::ref {

// y[rows, out] = x[rows, in] * w[out, in]^T (+ bias[out] when bias != nullptr). Row-major; y must not alias x.
void linear(const float* x, int64_t rows, int64_t in, const float* w, const float* bias, int64_t out, float* y);

}  // namespace adarun::ref
