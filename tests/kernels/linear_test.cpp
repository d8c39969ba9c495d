#include <doctest/doctest.h>

#include "kernels/ref/gemm.h"
#include "tests/kernels/oracle.h"

using adarun::testing::random_values;
using adarun::testing::relative_max_diff;

namespace {

std::vector<double> linear_oracle(const std::vector<float>& x, int64_t rows, int64_t in, const std::vector<float>& w,
                                  const float* bias, int64_t out) {
  std::vector<double> y(static_cast<size_t>(rows * out));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t o = 0; o < out; ++o) {
      double sum = bias ? bias[o] : 0.0;
      for (int64_t i = 0; i < in; ++i) sum += double(x[r * in + i]) * w[o * in + i];
      y[r * out + o] = sum;
    }
  }
  return y;
}

}  // namespace

TEST_CASE("linear: matches a double-precision oracle on odd shapes, with and without bias") {
  struct Shape { int64_t rows, in, out; };
  for (Shape s : {Shape{1, 7, 5}, Shape{49, 96, 288}, Shape{13, 33, 1}, Shape{3, 1, 17}, Shape{98, 192, 768}}) {
    const auto x = random_values(s.rows * s.in, 1), w = random_values(s.out * s.in, 2), b = random_values(s.out, 3);
    std::vector<float> y(static_cast<size_t>(s.rows * s.out));
    adarun::ref::linear(x.data(), s.rows, s.in, w.data(), b.data(), s.out, y.data());
    CHECK(relative_max_diff(y, linear_oracle(x, s.rows, s.in, w, b.data(), s.out)) < 1e-5);
    adarun::ref::linear(x.data(), s.rows, s.in, w.data(), nullptr, s.out, y.data());
    CHECK(relative_max_diff(y, linear_oracle(x, s.rows, s.in, w, nullptr, s.out)) < 1e-5);
  }
}

TEST_CASE("linear: zero rows writes nothing") {
  const auto w = random_values(6, 2);
  std::vector<float> y = {42.0f};
  adarun::ref::linear(nullptr, 0, 3, w.data(), nullptr, 2, y.data());
  CHECK(y[0] == 42.0f);
}
