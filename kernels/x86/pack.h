#pragma once
#include <cstdint>
#include <cstring>

namespace adarun::x86 {

// panel p holds columns [p*width, p*width + width) of W^T: packed[(p*k + kk)*width + j] = w[(p*width + j)*k + kk].
inline void pack_panels(const float* w, int64_t n, int64_t k, int width, float* packed) {
  const int64_t panels = (n + width - 1) / width;
  std::memset(packed, 0, sizeof(float) * size_t(panels * k * width));
  for (int64_t col = 0; col < n; ++col) {
    float* panel = packed + (col / width) * k * width + col % width;
    for (int64_t kk = 0; kk < k; ++kk) panel[kk * width] = w[col * k + kk];
  }
}

}  // namespace adarun::x86
