#include <doctest/doctest.h>

#include "kernels/ref/activations.h"
#include "tests/kernels/oracle.h"

using adarun::testing::random_values;
using adarun::testing::relative_max_diff;

TEST_CASE("gelu: exact erf form") {
  auto x = random_values(1001, 7, 4.0f);
  std::vector<double> expected(x.size());
  for (size_t i = 0; i < x.size(); ++i) expected[i] = 0.5 * x[i] * (1.0 + std::erf(x[i] / std::sqrt(2.0)));
  adarun::ref::gelu(x.data(), int64_t(x.size()));
  CHECK(relative_max_diff(x, expected) < 1e-6);
}

TEST_CASE("relu: clamps negatives only") {
  std::vector<float> x = {-2.0f, -0.0f, 0.5f, 3.0f};
  adarun::ref::relu(x.data(), 4);
  CHECK(x == std::vector<float>{0.0f, 0.0f, 0.5f, 3.0f});
}

TEST_CASE("softmax_rows: sums to one, matches exp/sum, survives large logits and -100 masks") {
  const int64_t rows = 3, cols = 49;
  auto x = random_values(rows * cols, 8, 5.0f);
  x[0] = 90.0f;   // overflow without the max subtraction
  x[1] = -100.0f;
  std::vector<double> expected(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    double max = -1e300, sum = 0;
    for (int64_t c = 0; c < cols; ++c) max = std::max(max, double(x[r * cols + c]));
    for (int64_t c = 0; c < cols; ++c) sum += std::exp(x[r * cols + c] - max);
    for (int64_t c = 0; c < cols; ++c) expected[r * cols + c] = std::exp(x[r * cols + c] - max) / sum;
  }
  adarun::ref::softmax_rows(x.data(), rows, cols);
  CHECK(relative_max_diff(x, expected) < 1e-6);
}
