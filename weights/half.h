#pragma once
// IEEE 754 half (binary16) to single, exactly: every half value, subnormals, infinities and NaNs (payload kept)
// included. Portable integer and float arithmetic, no F16C or NEON fcvt: the engine widens F16 weights once, at
// load (FORMAT.md), so a few nanoseconds a value do not matter.
#include <cstdint>
#include <cstring>

namespace adarun {

inline float half_to_float(uint16_t half) {
  const auto as_float = [](uint32_t bits) {
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
  };
  const uint32_t sign = uint32_t(half & 0x8000u) << 16;
  const uint32_t shifted = uint32_t(half & 0x7fffu) << 13;  // exponent and mantissa in the single's places
  const uint32_t exponent = shifted & 0x0f800000u;
  uint32_t magnitude = shifted + 0x38000000u;  // exponent bias 15 -> 127
  if (exponent == 0x0f800000u) {
    magnitude += 0x38000000u;  // infinity or NaN: the exponent all ones
  } else if (exponent == 0) {
    // Zero or subnormal, m * 2^-24: as the normal 2^-14 (1 + m / 1024) less 2^-14, which is exact.
    const float value = as_float(shifted + 0x38800000u) - as_float(0x38800000u);
    std::memcpy(&magnitude, &value, sizeof magnitude);
  }
  return as_float(magnitude | sign);
}

// out[i] = half_to_float(in[i]) for i < n.
void half_to_float(const uint16_t* in, int64_t n, float* out);

}  // namespace adarun
