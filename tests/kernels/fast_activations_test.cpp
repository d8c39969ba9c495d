#include <doctest/doctest.h>

#include <cmath>

#include "kernels/activations.h"
#include "kernels/ref/activations.h"
#include "tests/kernels/oracle.h"

using adarun::testing::random_values;

namespace {

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff = std::max(diff, double(std::fabs(a[i] - b[i])));
  return diff;
}

}  // namespace

TEST_CASE("fast gelu and softmax match their reference twins on every supported ISA") {
  for (adarun::Isa isa : adarun::kPackedIsas) {
    if (!adarun::isa_supported(isa)) continue;
    CAPTURE(adarun::isa_name(isa));
    for (int64_t n : {1, 15, 16, 17, 1003}) {
      auto fast = random_values(n, 41, 3.0f);
      fast[0] = -9.5f;  // far tails: erf saturates
      if (n > 1) fast[1] = 9.5f;
      auto expected = fast;
      adarun::gelu(isa, fast.data(), n);
      adarun::ref::gelu(expected.data(), n);
      CHECK(max_abs_diff(fast, expected) < 2e-6);
    }
    for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1, 1}, {3, 49}, {2, 144}, {4, 17}}) {
      for (int64_t stride : {cols, cols + 15}) {
        auto fast = random_values(rows * stride, 42, 6.0f);
        fast[0] = -100.0f;  // the shift mask
        auto expected = fast;
        adarun::softmax_rows_strided(isa, fast.data(), rows, cols, stride);
        for (int64_t r = 0; r < rows; ++r) adarun::ref::softmax_rows(expected.data() + r * stride, 1, cols);
        CHECK(max_abs_diff(fast, expected) < 1e-6);  // the padding between rows untouched too
      }
    }
  }
}

TEST_CASE("fast softmax writes no denormals: masked scores give exact zeros, as slow as denormals are on Intel") {
  for (adarun::Isa isa : adarun::kPackedIsas) {
    if (!adarun::isa_supported(isa)) continue;
    CAPTURE(adarun::isa_name(isa));
    const int64_t cols = 49;
    auto fast = random_values(cols, 43, 1.0f);
    for (int64_t j = 0; j < cols; j += 3) fast[j] -= 100.0f;  // a shifted window's mask
    fast[1] = -86.0f;  // exp(-86) is normal, exp(-86) / sum is not
    auto expected = fast;
    adarun::softmax_rows_strided(isa, fast.data(), 1, cols, cols);
    adarun::ref::softmax_rows(expected.data(), 1, cols);
    CHECK(max_abs_diff(fast, expected) < 1e-6);
    for (float p : fast) CHECK(std::fpclassify(p) != FP_SUBNORMAL);
    int subnormal_in_reference = 0;
    for (float p : expected) subnormal_in_reference += std::fpclassify(p) == FP_SUBNORMAL;
    CHECK(subnormal_in_reference > 0);  // the case does reach the range
  }
}

TEST_CASE("fast layer_norm matches its reference twin, in place too, on large-mean rows") {
  for (adarun::Isa isa : adarun::kPackedIsas) {
    if (!adarun::isa_supported(isa)) continue;
    for (auto [rows, dim] : {std::pair<int64_t, int64_t>{1, 96}, {5, 17}, {3, 3072}, {2, 1}}) {
      auto x = random_values(rows * dim, 61, 2.0f);
      for (float& v : x) v += 20.0f;
      const auto gamma = random_values(dim, 62), beta = random_values(dim, 63);
      std::vector<float> fast(x.size()), expected(x.size());
      adarun::layer_norm(isa, x.data(), rows, dim, gamma.data(), beta.data(), 1e-5f, fast.data());
      adarun::ref::layer_norm(x.data(), rows, dim, gamma.data(), beta.data(), 1e-5f, expected.data());
      CAPTURE(adarun::isa_name(isa));
      CAPTURE(dim);
      CHECK(max_abs_diff(fast, expected) < 2e-5);
      adarun::layer_norm(isa, x.data(), rows, dim, gamma.data(), beta.data(), 1e-5f, x.data());
      CHECK(x == fast);
    }
  }
}
