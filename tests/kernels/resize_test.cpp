#include <doctest/doctest.h>

#include "kernels/ref/resize.h"
#include "tests/kernels/oracle.h"

using adarun::testing::random_values;
using adarun::testing::relative_max_diff;

TEST_CASE("resize_bilinear: 2x2 -> 4x4 gives torch's align_corners=False values") {
  const std::vector<float> x = {1, 2, 3, 4};
  std::vector<float> y(16);
  adarun::ref::resize_bilinear(x.data(), 1, 2, 2, 4, 4, y.data());
  // torch.nn.functional.interpolate(tensor([[1., 2.], [3., 4.]])[None, None], (4, 4), mode='bilinear')
  const std::vector<float> expected = {1.0f, 1.25f, 1.75f, 2.0f, 1.5f, 1.75f, 2.25f, 2.5f,
                                       2.5f, 2.75f, 3.25f, 3.5f, 3.0f, 3.25f, 3.75f, 4.0f};
  for (size_t i = 0; i < 16; ++i) CHECK(y[i] == doctest::Approx(expected[i]).epsilon(1e-6));
}

TEST_CASE("resize_bilinear: identity size copies, non-integer ratios stay within the input range") {
  const auto x = random_values(2 * 5 * 7, 14);
  std::vector<float> same(x.size());
  adarun::ref::resize_bilinear(x.data(), 2, 5, 7, 5, 7, same.data());
  CHECK(same == x);
  std::vector<float> odd(2 * 11 * 3);
  adarun::ref::resize_bilinear(x.data(), 2, 5, 7, 11, 3, odd.data());
  const auto [low, high] = std::minmax_element(x.begin(), x.end());
  for (float v : odd) CHECK((v >= *low - 1e-6f && v <= *high + 1e-6f));
}

TEST_CASE("resize_nearest: integer up-scaling repeats pixels") {
  const auto x = random_values(3 * 7 * 7, 15);
  std::vector<float> y(3 * 28 * 28);
  adarun::ref::resize_nearest(x.data(), 3, 7, 7, 28, 28, y.data());
  for (int64_t c = 0; c < 3; ++c) {
    for (int64_t oy = 0; oy < 28; ++oy) {
      for (int64_t ox = 0; ox < 28; ++ox) CHECK(y[(c * 28 + oy) * 28 + ox] == x[(c * 7 + oy / 4) * 7 + ox / 4]);
    }
  }
}

namespace {

// OpenCV's cubic convolution weights (A = -0.75) at fractional offset t.
double cubic(double t, int tap) {
  const double a = -0.75, d = std::fabs(t - (tap - 1));
  return d <= 1 ? ((a + 2) * d - (a + 3)) * d * d + 1 : d < 2 ? ((a * d - 5 * a) * d + 8 * a) * d - 4 * a : 0.0;
}

std::vector<double> bicubic_oracle(const std::vector<float>& x, int64_t h, int64_t w, int64_t c, int64_t oh, int64_t ow) {
  std::vector<double> y(static_cast<size_t>(oh * ow * c));
  auto clamp = [](int64_t v, int64_t n) { return std::min(std::max(v, int64_t{0}), n - 1); };
  for (int64_t oy = 0; oy < oh; ++oy) {
    const double sy = (double(oy) + 0.5) * double(h) / double(oh) - 0.5, fy = std::floor(sy);
    for (int64_t ox = 0; ox < ow; ++ox) {
      const double sx = (double(ox) + 0.5) * double(w) / double(ow) - 0.5, fx = std::floor(sx);
      for (int64_t ch = 0; ch < c; ++ch) {
        double sum = 0;
        for (int i = 0; i < 4; ++i) {
          for (int j = 0; j < 4; ++j) {
            const int64_t iy = clamp(int64_t(fy) - 1 + i, h), ix = clamp(int64_t(fx) - 1 + j, w);
            sum += cubic(sy - fy, i) * cubic(sx - fx, j) * x[(iy * w + ix) * c + ch];
          }
        }
        y[(oy * ow + ox) * c + ch] = sum;
      }
    }
  }
  return y;
}

}  // namespace

TEST_CASE("resize_bicubic_hwc: OpenCV INTER_CUBIC formula, down and up, replicated border") {
  const auto x = random_values(13 * 17 * 3, 16, 50.0f);
  for (auto [oh, ow] : {std::pair<int64_t, int64_t>{7, 5}, {32, 40}, {13, 17}}) {
    std::vector<float> y(static_cast<size_t>(oh * ow * 3));
    adarun::ref::resize_bicubic_hwc(x.data(), 13, 17, 3, oh, ow, y.data());
    CHECK(relative_max_diff(y, bicubic_oracle(x, 13, 17, 3, oh, ow)) < 1e-5);
  }
}
