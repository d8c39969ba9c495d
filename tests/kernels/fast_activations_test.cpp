#include <doctest/doctest.h>

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
  for (adarun::Isa isa : {adarun::Isa::kAvx2, adarun::Isa::kAvx512}) {
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
      auto fast = random_values(rows * cols, 42, 6.0f);
      fast[0] = -100.0f;  // the shift mask
      auto expected = fast;
      adarun::softmax_rows(isa, fast.data(), rows, cols);
      adarun::ref::softmax_rows(expected.data(), rows, cols);
      CHECK(max_abs_diff(fast, expected) < 1e-6);
    }
  }
}
