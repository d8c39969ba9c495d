// weights/half.h against an independent oracle on every one of the 65536 half values.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "weights/half.h"

namespace {

uint32_t bits_of(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

// IEEE 754 binary16 by its definition: (-1)^s 2^(e-15) (1 + m/1024), subnormals 2^-14 (m/1024), e = 31 infinity or NaN.
double half_value(uint16_t half) {
  const int sign = half >> 15, exponent = (half >> 10) & 0x1f, mantissa = half & 0x3ff;
  double magnitude;
  if (exponent == 31) {
    magnitude = mantissa ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  } else if (exponent == 0) {
    magnitude = std::ldexp(double(mantissa), -24);
  } else {
    magnitude = std::ldexp(1024.0 + mantissa, exponent - 25);
  }
  return sign ? -magnitude : magnitude;
}

}  // namespace

TEST_CASE("half: every half value widens exactly (zeros, subnormals, normals, infinities; NaNs stay NaN with their payload)") {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    const uint16_t half = static_cast<uint16_t>(h);
    const float got = adarun::half_to_float(half);
    const double want = half_value(half);
    CAPTURE(h);
    if (std::isnan(want)) {
      REQUIRE(std::isnan(got));
      const uint32_t payload = (bits_of(got) & 0x007fffffu) >> 13, sign = bits_of(got) >> 31;
      CHECK(payload == (h & 0x3ffu));  // the payload, in the top mantissa bits
      CHECK(sign == (h >> 15));
    } else {
      REQUIRE(double(got) == want);  // every half is exactly a float
      CHECK(std::signbit(got) == bool(h & 0x8000));  // -0 stays -0
    }
  }
  CHECK(adarun::half_to_float(0x3c00) == 1.0f);
  CHECK(adarun::half_to_float(0x7bff) == 65504.0f);
  CHECK(adarun::half_to_float(0x0001) == std::ldexp(1.0f, -24));
  CHECK(adarun::half_to_float(0x03ff) == std::ldexp(1023.0f, -24));  // largest subnormal
  CHECK(adarun::half_to_float(0x0400) == std::ldexp(1.0f, -14));     // smallest normal
  CHECK(adarun::half_to_float(0xfc00) == -std::numeric_limits<float>::infinity());
}

// The compiler's own half type: _Float16 on x86-64 (GCC 12 has no _Float16 in C++ on aarch64), __fp16 on aarch64.
#if defined(__aarch64__)
#define ADARUN_NATIVE_HALF __fp16
#elif defined(__FLT16_MAX__)
#define ADARUN_NATIVE_HALF _Float16
#endif

#ifdef ADARUN_NATIVE_HALF
TEST_CASE("half: the portable widening equals the compiler's half conversion") {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    const uint16_t half = static_cast<uint16_t>(h);
    ADARUN_NATIVE_HALF native;
    std::memcpy(&native, &half, sizeof native);
    const float want = static_cast<float>(native);
    if (std::isnan(want)) continue;  // quieting of signalling NaNs is the hardware's choice
    CAPTURE(h);
    REQUIRE(bits_of(adarun::half_to_float(half)) == bits_of(want));
  }
}
#endif

TEST_CASE("half: the array form widens like the scalar one") {
  std::vector<uint16_t> halves(0x10000 + 7);
  for (size_t i = 0; i < halves.size(); ++i) halves[i] = static_cast<uint16_t>(i * 40503u);
  std::vector<float> floats(halves.size() + 1, 123.0f);
  adarun::half_to_float(halves.data(), static_cast<int64_t>(halves.size()), floats.data());
  for (size_t i = 0; i < halves.size(); ++i) {
    CAPTURE(i);
    REQUIRE(bits_of(floats[i]) == bits_of(adarun::half_to_float(halves[i])));
  }
  CHECK(floats.back() == 123.0f);  // nothing written past n
}
