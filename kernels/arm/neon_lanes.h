#pragma once
// Loads and stores of a row's last, partial vector (fewer than 4 floats) through a stack copy, so that
// the NEON kernels never touch memory past a row's end. Include only from files built for aarch64.
#include <arm_neon.h>

#include <cstdint>
#include <cstring>

namespace adarun::neon {
// Internal linkage: each file that includes this is built with its own ISA flags, and a shared inline copy
// (merged by the linker) could run one ISA's instructions on a CPU that has only another's.
namespace {

// Lanes [0, count) from x, the others `fill`.
inline float32x4_t load_tail(const float* x, int64_t count, float fill) {
  float lanes[4] = {fill, fill, fill, fill};
  std::memcpy(lanes, x, sizeof(float) * size_t(count));
  return vld1q_f32(lanes);
}

// Lanes [0, count) of v to x.
inline void store_tail(float* x, float32x4_t v, int64_t count) {
  float lanes[4];
  vst1q_f32(lanes, v);
  std::memcpy(x, lanes, sizeof(float) * size_t(count));
}

}  // namespace
}  // namespace adarun::neon
