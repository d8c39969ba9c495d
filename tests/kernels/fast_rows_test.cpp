#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/ref/activations.h"
#include "kernels/ref/rows.h"
#include "kernels/rows.h"
#include "tests/kernels/oracle.h"

using adarun::testing::random_values;

namespace {

// Every other row of `rows`, backwards: a partial, unordered index list.
std::vector<int32_t> every_other_backwards(int64_t rows) {
  std::vector<int32_t> index;
  for (int64_t r = rows - 1; r >= 0; r -= 2) index.push_back(static_cast<int32_t>(r));
  return index;
}

}  // namespace

TEST_CASE("fast gather, scatter and scatter_add match their reference twins on partial, unordered index lists") {
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 1}, {7, 5}, {49, 96}, {50, 17}}) {
    CAPTURE(rows);
    CAPTURE(cols);
    const std::vector<int32_t> index = every_other_backwards(rows);
    const int64_t count = static_cast<int64_t>(index.size());
    const auto src = random_values(rows * cols, 71), start = random_values(rows * cols, 72);
    std::vector<float> fast(src.size()), expected(src.size());
    adarun::fast::gather_rows(src.data(), index.data(), count, cols, fast.data());
    adarun::ref::gather_rows(src.data(), index.data(), count, cols, expected.data());
    CHECK(fast == expected);
    fast = expected = start;
    adarun::fast::scatter_rows(src.data(), index.data(), count, cols, fast.data());
    adarun::ref::scatter_rows(src.data(), index.data(), count, cols, expected.data());
    CHECK(fast == expected);
    fast = expected = start;
    adarun::fast::scatter_add_rows(src.data(), index.data(), count, cols, fast.data());
    adarun::ref::scatter_add_rows(src.data(), index.data(), count, cols, expected.data());
    CHECK(fast == expected);
  }
}

TEST_CASE("fast transpose matches its reference twin, whole and by column ranges") {
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 1}, {3, 40}, {3136, 32}, {49, 256}, {17, 33}}) {
    CAPTURE(rows);
    CAPTURE(cols);
    const auto src = random_values(rows * cols, 73);
    std::vector<float> expected(src.size()), whole(src.size(), -1.0f), pieces(src.size(), -1.0f);
    adarun::ref::transpose(src.data(), rows, cols, expected.data());
    adarun::fast::transpose(src.data(), rows, cols, 0, cols, whole.data());
    CHECK(whole == expected);
    const int64_t middle = cols / 3;  // two threads' ranges
    adarun::fast::transpose(src.data(), rows, cols, 0, middle, pieces.data());
    adarun::fast::transpose(src.data(), rows, cols, middle, cols, pieces.data());
    CHECK(pieces == expected);
  }
}

TEST_CASE("fast add and relu match their reference twins, NaN and -0 included") {
  for (int64_t n : {1, 7, 16, 1003}) {
    auto y = random_values(n, 74), x = random_values(n, 75);
    x[0] = -0.0f;
    if (n > 2) x[2] = std::numeric_limits<float>::quiet_NaN();
    auto fast = y, expected = y;
    adarun::fast::add_inplace(fast.data(), x.data(), n);
    adarun::ref::add_inplace(expected.data(), x.data(), n);
    for (int64_t i = 0; i < n; ++i) CHECK((fast[i] == expected[i] || (std::isnan(fast[i]) && std::isnan(expected[i]))));
    fast = expected = x;
    adarun::fast::relu(fast.data(), n);
    adarun::ref::relu(expected.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      CHECK((fast[i] == expected[i] || (std::isnan(fast[i]) && std::isnan(expected[i]))));
      CHECK(std::signbit(fast[i]) == std::signbit(expected[i]));
    }
  }
}

TEST_CASE("fast channel_mean and broadcast_channels match their reference twins") {
  for (auto [channels, pixels] : {std::pair<int64_t, int64_t>{1, 1}, {3, 7}, {5, 3136}, {4, 17}, {270, 3136}}) {
    CAPTURE(channels);
    CAPTURE(pixels);
    const auto src = random_values(channels * pixels, 76);
    std::vector<float> fast(static_cast<size_t>(channels)), expected(fast.size());
    adarun::fast::channel_mean(src.data(), channels, pixels, fast.data());
    adarun::ref::channel_mean(src.data(), channels, pixels, expected.data());
    CHECK(adarun::testing::relative_max_diff(fast, std::vector<double>(expected.begin(), expected.end())) < 1e-6);
    std::vector<float> fast_map(src.size(), -1.0f), expected_map(src.size(), -2.0f);
    adarun::fast::broadcast_channels(expected.data(), channels, pixels, fast_map.data());
    adarun::ref::broadcast_channels(expected.data(), channels, pixels, expected_map.data());
    CHECK(fast_map == expected_map);
  }
}
