#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "kernels/ref/attention.h"
#include "tests/kernels/oracle.h"

using adarun::testing::random_values;
using adarun::testing::relative_max_diff;

namespace {

// Straight from the definition: per head, softmax(q*scale k^T + bias + mask) v, in double.
std::vector<double> attention_oracle(const std::vector<float>& qkv, int64_t n, int64_t heads, int64_t head_dim,
                                     const std::vector<float>& bias, const float* mask, double scale) {
  const int64_t dim = heads * head_dim;
  std::vector<double> out(static_cast<size_t>(n * dim));
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t i = 0; i < n; ++i) {
      std::vector<double> scores(static_cast<size_t>(n));
      double max = -1e300, sum = 0;
      for (int64_t j = 0; j < n; ++j) {
        double dot = 0;
        for (int64_t d = 0; d < head_dim; ++d) dot += double(qkv[i * 3 * dim + h * head_dim + d]) * scale * qkv[j * 3 * dim + dim + h * head_dim + d];
        scores[j] = dot + bias[(h * n + i) * n + j] + (mask ? mask[i * n + j] : 0.0f);
        max = std::max(max, scores[j]);
      }
      for (double& s : scores) sum += (s = std::exp(s - max));
      for (int64_t d = 0; d < head_dim; ++d) {
        double acc = 0;
        for (int64_t j = 0; j < n; ++j) acc += scores[j] / sum * qkv[j * 3 * dim + 2 * dim + h * head_dim + d];
        out[i * dim + h * head_dim + d] = acc;
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("window_attention: matches the definition with and without a shift mask") {
  struct Shape { int64_t n, heads, head_dim; };
  for (Shape s : {Shape{49, 3, 32}, Shape{4, 1, 5}, Shape{1, 2, 3}, Shape{144, 2, 8}}) {
    const int64_t dim = s.heads * s.head_dim;
    const auto qkv = random_values(s.n * 3 * dim, 9), bias = random_values(s.heads * s.n * s.n, 10);
    std::vector<float> mask(static_cast<size_t>(s.n * s.n), 0.0f);
    for (int64_t i = 0; i < s.n; ++i) {
      for (int64_t j = 0; j < s.n; ++j) mask[i * s.n + j] = (i % 3 == j % 3) ? 0.0f : -100.0f;
    }
    const float scale = static_cast<float>(1.0 / std::sqrt(double(s.head_dim)));
    // out starts as NaN: the kernel keeps q * scale in it, and must never read what was there before.
    std::vector<float> scratch(static_cast<size_t>(s.n * s.n)), out(static_cast<size_t>(s.n * dim), std::nanf(""));
    adarun::ref::window_attention(qkv.data(), s.n, s.heads, s.head_dim, bias.data(), nullptr, scale, scratch.data(), out.data());
    CHECK(relative_max_diff(out, attention_oracle(qkv, s.n, s.heads, s.head_dim, bias, nullptr, scale)) < 1e-5);
    adarun::ref::window_attention(qkv.data(), s.n, s.heads, s.head_dim, bias.data(), mask.data(), scale, scratch.data(), out.data());
    CHECK(relative_max_diff(out, attention_oracle(qkv, s.n, s.heads, s.head_dim, bias, mask.data(), scale)) < 1e-5);
  }
}
