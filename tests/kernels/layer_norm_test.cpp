#include <doctest/doctest.h>

#include "kernels/ref/activations.h"
#include "tests/kernels/oracle.h"

using adarun::testing::random_values;
using adarun::testing::relative_max_diff;

TEST_CASE("layer_norm: matches the torch definition (biased variance, eps inside) and works in place") {
  for (auto [rows, dim] : {std::pair<int64_t, int64_t>{1, 96}, {5, 7}, {3, 384}}) {
    auto x = random_values(rows * dim, 4, 3.0f);
    for (float& v : x) v += 10.0f;  // a large mean must not hurt the variance
    const auto gamma = random_values(dim, 5), beta = random_values(dim, 6);
    std::vector<double> expected(x.size());
    for (int64_t r = 0; r < rows; ++r) {
      double mean = 0, var = 0;
      for (int64_t i = 0; i < dim; ++i) mean += x[r * dim + i];
      mean /= double(dim);
      for (int64_t i = 0; i < dim; ++i) var += (x[r * dim + i] - mean) * (x[r * dim + i] - mean);
      var /= double(dim);
      for (int64_t i = 0; i < dim; ++i) expected[r * dim + i] = (x[r * dim + i] - mean) / std::sqrt(var + 1e-5) * gamma[i] + beta[i];
    }
    std::vector<float> y(x.size());
    adarun::ref::layer_norm(x.data(), rows, dim, gamma.data(), beta.data(), 1e-5f, y.data());
    CHECK(relative_max_diff(y, expected) < 1e-5);
    adarun::ref::layer_norm(x.data(), rows, dim, gamma.data(), beta.data(), 1e-5f, x.data());
    CHECK(x == y);
  }
}
