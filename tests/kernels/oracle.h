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

// Uniform int8 weights in [-127, 127], as the converter writes them.
inline std::vector<int8_t> random_int8(int64_t n, uint32_t seed) {
  std::mt19937 generator(seed);
  std::uniform_int_distribution<int> value(-127, 127);
  std::vector<int8_t> values(static_cast<size_t>(n));
  for (int8_t& v : values) v = static_cast<int8_t>(value(generator));
  return values;
}

// A 64-byte aligned buffer of `bytes` (packed weights, quantized rows, scratch).
struct AlignedBytes {
  explicit AlignedBytes(int64_t bytes) : storage(static_cast<size_t>(bytes) + 64) {}
  void* get() { return reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(storage.data()) + 63) & ~uintptr_t{63}); }
  std::vector<uint8_t> storage;
};

}  // namespace adarun::testing
