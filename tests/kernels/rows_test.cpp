#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/ref/rows.h"
#include "tests/kernels/oracle.h"

namespace {

std::vector<float> numbered(int64_t n, float offset) {
  std::vector<float> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[i] = offset + static_cast<float>(i);
  return values;
}

}  // namespace

TEST_CASE("rows: gather then scatter with a permutation restores the rows") {
  const int64_t rows = 7, cols = 5;
  const std::vector<int32_t> permutation = {3, 0, 6, 1, 5, 2, 4};
  const std::vector<float> src = numbered(rows * cols, 0.5f);
  std::vector<float> gathered(src.size()), restored(src.size(), -1.0f);
  adarun::ref::gather_rows(src.data(), permutation.data(), rows, cols, gathered.data());
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t c = 0; c < cols; ++c) CHECK(gathered[i * cols + c] == src[permutation[i] * cols + c]);
  }
  adarun::ref::scatter_rows(gathered.data(), permutation.data(), rows, cols, restored.data());
  CHECK(restored == src);
}

TEST_CASE("rows: scatter_add touches only the listed rows, and count 0 touches nothing") {
  const int64_t cols = 3;
  const std::vector<int32_t> index = {4, 1};
  const std::vector<float> src = numbered(2 * cols, 10.0f);
  std::vector<float> dst = numbered(5 * cols, 0.0f);
  const std::vector<float> before = dst;
  adarun::ref::scatter_add_rows(src.data(), index.data(), 0, cols, dst.data());
  CHECK(dst == before);
  adarun::ref::scatter_add_rows(src.data(), index.data(), 2, cols, dst.data());
  for (int64_t r = 0; r < 5; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      float expected = before[r * cols + c];
      if (r == 4) expected += src[0 * cols + c];
      if (r == 1) expected += src[1 * cols + c];
      CHECK(dst[r * cols + c] == expected);
    }
  }
}

TEST_CASE("rows: transpose swaps the axes of odd shapes") {
  const int64_t rows = 3, cols = 5;
  const std::vector<float> src = numbered(rows * cols, 1.0f);
  std::vector<float> dst(src.size()), back(src.size());
  adarun::ref::transpose(src.data(), rows, cols, dst.data());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) CHECK(dst[c * rows + r] == src[r * cols + c]);
  }
  adarun::ref::transpose(dst.data(), cols, rows, back.data());
  CHECK(back == src);
}

TEST_CASE("rows: channel_mean averages each channel's pixels; broadcast_channels copies them back") {
  for (auto [channels, pixels] : {std::pair<int64_t, int64_t>{1, 1}, {3, 7}, {5, 3136}, {2, 17}}) {
    CAPTURE(pixels);
    const auto src = adarun::testing::random_values(channels * pixels, 81);
    std::vector<float> mean(static_cast<size_t>(channels));
    adarun::ref::channel_mean(src.data(), channels, pixels, mean.data());
    std::vector<double> expected(static_cast<size_t>(channels));
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t p = 0; p < pixels; ++p) expected[size_t(c)] += src[size_t(c * pixels + p)];
      expected[size_t(c)] /= double(pixels);
    }
    CHECK(adarun::testing::relative_max_diff(mean, expected) < 1e-6);
    std::vector<float> broadcast(src.size(), -1.0f);
    adarun::ref::broadcast_channels(mean.data(), channels, pixels, broadcast.data());
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t p = 0; p < pixels; ++p) CHECK(broadcast[size_t(c * pixels + p)] == mean[size_t(c)]);
    }
  }
}
