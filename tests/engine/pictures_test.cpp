#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "engine/src/pictures.h"

TEST_CASE("side_by_side puts each picture's rows after the previous picture's, left to right") {
  constexpr int64_t kSize = 2;
  const std::vector<uint8_t> first(kSize * kSize * 3, 1), second(kSize * kSize * 3, 2);
  const std::vector<uint8_t> both = adarun::side_by_side({first, second}, kSize);
  REQUIRE(both.size() == 2 * first.size());
  for (int64_t y = 0; y < kSize; ++y) {
    for (int64_t x = 0; x < 2 * kSize; ++x) {
      CAPTURE(x);
      CHECK(both[static_cast<size_t>((y * 2 * kSize + x) * 3)] == (x < kSize ? 1 : 2));
    }
  }
}
