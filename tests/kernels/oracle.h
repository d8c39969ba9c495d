#pragma once
// Shared helpers of the kernel tests: seeded random data and the max difference against an oracle.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace adarun::testing {

inline std::vector<float> random_values(int64_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 generator(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> values(static_cast<size_t>(n));
  for (float& v : values) v = normal(generator);
  return values;
}

// max |a - b| / max(1, max |b|): relative to the oracle's scale.
inline double relative_max_diff(const std::vector<float>& a, const std::vector<double>& b) {
  double diff = 0.0, scale = 1.0;
  for (size_t i = 0; i < b.size(); ++i) {
    diff = std::max(diff, std::fabs(double(a[i]) - b[i]));
    scale = std::max(scale, std::fabs(b[i]));
  }
  return diff / scale;
}

}  // namespace adarun::testing
