#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "kernels/ref/resize.h"
#include "tests/kernels/oracle.h"

using adarun::testing::random_values;
using adarun::testing::relative_max_diff;

namespace {

struct Size { int64_t h, w, oh, ow; };

// Up by 8, non-integer ratios both ways, down, one-pixel sides.
const Size kSizes[] = {{7, 7, 56, 56}, {5, 7, 13, 3}, {13, 17, 6, 23}, {12, 12, 5, 5}, {1, 3, 4, 1}, {3, 1, 3, 9}};

std::vector<float> plane_resize(void (*resize)(const float*, int64_t, int64_t, int64_t, int64_t, int64_t, float*),
                                const std::vector<float>& x, int64_t channels, const Size& s) {
  std::vector<float> y(static_cast<size_t>(channels * s.oh * s.ow));
  resize(x.data(), channels, s.h, s.w, s.oh, s.ow, y.data());
  return y;
}

// torch's nearest source index: floor(dst * scale) with the scale in float, clamped.
int64_t nearest_source(int64_t dst, int64_t in, int64_t out) {
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  return std::min(static_cast<int64_t>(std::floor(static_cast<float>(dst) * scale)), in - 1);
}

std::vector<double> nearest_oracle(const std::vector<float>& x, int64_t channels, const Size& s) {
  std::vector<double> y(static_cast<size_t>(channels * s.oh * s.ow));
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t oy = 0; oy < s.oh; ++oy) {
      for (int64_t ox = 0; ox < s.ow; ++ox) {
        y[(c * s.oh + oy) * s.ow + ox] = x[(c * s.h + nearest_source(oy, s.h, s.oh)) * s.w + nearest_source(ox, s.w, s.ow)];
      }
    }
  }
  return y;
}

// Half-pixel source coordinate, clamped at 0, and the linear weights, in double.
void linear_source(int64_t dst, int64_t in, int64_t out, int64_t* i0, int64_t* i1, double* w1) {
  const double src = std::max((double(dst) + 0.5) * double(in) / double(out) - 0.5, 0.0);
  *i0 = std::min(int64_t(src), in - 1);
  *i1 = std::min(*i0 + 1, in - 1);
  *w1 = src - double(*i0);
}

std::vector<double> bilinear_oracle(const std::vector<float>& x, int64_t channels, const Size& s) {
  std::vector<double> y(static_cast<size_t>(channels * s.oh * s.ow));
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t oy = 0; oy < s.oh; ++oy) {
      int64_t y0, y1;
      double wy;
      linear_source(oy, s.h, s.oh, &y0, &y1, &wy);
      for (int64_t ox = 0; ox < s.ow; ++ox) {
        int64_t x0, x1;
        double wx;
        linear_source(ox, s.w, s.ow, &x0, &x1, &wx);
        auto at = [&](int64_t iy, int64_t ix) { return double(x[(c * s.h + iy) * s.w + ix]); };
        const double top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx, bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx;
        y[(c * s.oh + oy) * s.ow + ox] = top * (1 - wy) + bottom * wy;
      }
    }
  }
  return y;
}

// OpenCV's cubic convolution weight (A = -0.75) of tap 0..3 at fractional offset t.
double cubic(double t, int tap) {
  const double a = -0.75, d = std::fabs(t - (tap - 1));
  return d <= 1 ? ((a + 2) * d - (a + 3)) * d * d + 1 : d < 2 ? ((a * d - 5 * a) * d + 8 * a) * d - 4 * a : 0.0;
}

std::vector<double> bicubic_oracle(const std::vector<float>& x, int64_t c, const Size& s) {
  std::vector<double> y(static_cast<size_t>(s.oh * s.ow * c));
  auto clamp = [](int64_t v, int64_t n) { return std::min(std::max(v, int64_t{0}), n - 1); };
  for (int64_t oy = 0; oy < s.oh; ++oy) {
    const double sy = (double(oy) + 0.5) * double(s.h) / double(s.oh) - 0.5, fy = std::floor(sy);
    for (int64_t ox = 0; ox < s.ow; ++ox) {
      const double sx = (double(ox) + 0.5) * double(s.w) / double(s.ow) - 0.5, fx = std::floor(sx);
      for (int64_t ch = 0; ch < c; ++ch) {
        double sum = 0;
        for (int i = 0; i < 4; ++i) {
          for (int j = 0; j < 4; ++j) {
            const int64_t iy = clamp(int64_t(fy) - 1 + i, s.h), ix = clamp(int64_t(fx) - 1 + j, s.w);
            sum += cubic(sy - fy, i) * cubic(sx - fx, j) * x[(iy * s.w + ix) * c + ch];
          }
        }
        y[(oy * s.ow + ox) * c + ch] = sum;
      }
    }
  }
  return y;
}

std::vector<float> bicubic(const std::vector<float>& x, int64_t c, const Size& s) {
  std::vector<float> y(static_cast<size_t>(s.oh * s.ow * c));
  adarun::ref::resize_bicubic_hwc(x.data(), s.h, s.w, c, s.oh, s.ow, y.data());
  return y;
}

}  // namespace

TEST_CASE("resize_nearest: torch's source indices on non-integer ratios") {
  // F.interpolate(arange(in)[None, None, None], (1, out), mode='nearest') in torch 1.13.
  struct Case { int64_t in, out; std::vector<float> expected; };
  for (const Case& k : {Case{5, 13, {0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 4, 4}}, Case{13, 5, {0, 2, 5, 7, 10}},
                        Case{3, 7, {0, 0, 0, 1, 1, 2, 2}}, Case{10, 15, {0, 0, 1, 2, 2, 3, 4, 4, 5, 6, 6, 7, 8, 8, 9}}}) {
    std::vector<float> x(static_cast<size_t>(k.in));
    for (int64_t i = 0; i < k.in; ++i) x[i] = float(i);
    CHECK(plane_resize(adarun::ref::resize_nearest, x, 1, Size{1, k.in, 1, k.out}) == k.expected);
  }
}

TEST_CASE("resize_nearest: matches the oracle up by 8, on non-integer ratios, down, and copies at identity size") {
  for (const Size& s : kSizes) {
    const auto x = random_values(3 * s.h * s.w, 15);
    CAPTURE(s.oh);
    CAPTURE(s.ow);
    CHECK(relative_max_diff(plane_resize(adarun::ref::resize_nearest, x, 3, s), nearest_oracle(x, 3, s)) == 0.0);
  }
  const auto x = random_values(2 * 5 * 7, 17);
  CHECK(plane_resize(adarun::ref::resize_nearest, x, 2, Size{5, 7, 5, 7}) == x);
}

TEST_CASE("resize_bilinear: small cases give torch's align_corners=False values") {
  const std::vector<float> x = {1, 2, 3, 4};
  // F.interpolate(tensor([[1., 2.], [3., 4.]])[None, None], size, mode='bilinear')
  const std::vector<float> up4 = {1.0f, 1.25f, 1.75f, 2.0f, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3.0f, 3.25f, 3.75f, 4.0f};
  const std::vector<float> up3x5 = {1.0f, 1.1f, 1.5f, 1.9f, 2.0f, 2.0f, 2.1f, 2.5f, 2.9f, 3.0f, 3.0f, 3.1f, 3.5f, 3.9f, 4.0f};
  const auto y4 = plane_resize(adarun::ref::resize_bilinear, x, 1, Size{2, 2, 4, 4});
  const auto y3x5 = plane_resize(adarun::ref::resize_bilinear, x, 1, Size{2, 2, 3, 5});
  for (size_t i = 0; i < up4.size(); ++i) CHECK(y4[i] == doctest::Approx(up4[i]).epsilon(1e-6));
  for (size_t i = 0; i < up3x5.size(); ++i) CHECK(y3x5[i] == doctest::Approx(up3x5[i]).epsilon(1e-6));
}

TEST_CASE("resize_bilinear: weights from a double source coordinate, bit-exact with torch 1.13") {
  // 100 -> 33, output 25: src = 3.030303f * 25.5 - 0.5 = 76.7727265... in double; in float it would round to
  // 76.772728, and the weights to 0.2272720 / 0.7727280. One-hot inputs read the weights back.
  for (auto [hot, weight] : {std::pair<int64_t, float>{76, 0.22727346420288086f}, {77, 0.77272653579711914f}}) {
    std::vector<float> x(100, 0.0f);
    x[hot] = 1.0f;
    CHECK(plane_resize(adarun::ref::resize_bilinear, x, 1, Size{100, 1, 33, 1})[25] == weight);
  }
}

TEST_CASE("resize_bilinear: matches the double oracle up by 8, on non-integer ratios, down, and copies at identity size") {
  for (const Size& s : kSizes) {
    const auto x = random_values(3 * s.h * s.w, 14);
    CAPTURE(s.oh);
    CAPTURE(s.ow);
    CHECK(relative_max_diff(plane_resize(adarun::ref::resize_bilinear, x, 3, s), bilinear_oracle(x, 3, s)) < 1e-6);
  }
  const auto x = random_values(2 * 5 * 7, 18);
  CHECK(plane_resize(adarun::ref::resize_bilinear, x, 2, Size{5, 7, 5, 7}) == x);
}

TEST_CASE("resize_bicubic_hwc: OpenCV INTER_CUBIC formula up by 8, on non-integer ratios, down, replicated border") {
  for (const Size& s : {Size{13, 17, 7, 5}, Size{13, 17, 32, 40}, Size{6, 5, 48, 40}, Size{13, 17, 3, 1}, Size{1, 4, 3, 9}}) {
    const auto x = random_values(s.h * s.w * 3, 16, 50.0f);
    CAPTURE(s.oh);
    CAPTURE(s.ow);
    CHECK(relative_max_diff(bicubic(x, 3, s), bicubic_oracle(x, 3, s)) < 1e-5);
  }
}

TEST_CASE("resize_bicubic_hwc_rows: bands of output rows computed apart make the whole resize, bit for bit") {
  for (const Size& s : {Size{13, 17, 7, 5}, Size{13, 17, 32, 40}, Size{6, 5, 48, 40}}) {
    const auto x = random_values(s.h * s.w * 3, 17, 50.0f);
    const auto whole = bicubic(x, 3, s);
    std::vector<float> banded(whole.size(), -1.0f);
    for (int64_t row = 0; row < s.oh; row += 3) {
      adarun::ref::resize_bicubic_hwc_rows(x.data(), s.h, s.w, 3, s.oh, s.ow, row, std::min(row + 3, s.oh), banded.data());
    }
    CAPTURE(s.oh);
    CHECK(banded == whole);
  }
}

TEST_CASE("resize_bicubic_hwc_rows_sampled: the image kept only at bicubic_sources' rows and columns resizes as the whole") {
  // Down by about 5 (a camera frame to the model: the taps read under 4 of every 5 pixels), by 2.3, up, the same size.
  for (const Size& s : {Size{97, 61, 19, 12}, Size{30, 23, 13, 10}, Size{6, 5, 48, 40}, Size{9, 14, 9, 14}}) {
    CAPTURE(s.oh);
    CAPTURE(s.ow);
    const auto x = random_values(s.h * s.w * 3, 18, 50.0f);
    const auto whole = bicubic(x, 3, s);
    adarun::ref::BicubicSources rows, columns;
    adarun::ref::bicubic_sources(s.h, s.oh, &rows);
    adarun::ref::bicubic_sources(s.w, s.ow, &columns);
    if (s.oh * 5 <= s.h) CHECK(rows.indices.size() < size_t(s.h) * 4 / 5);  // a large downscale skips rows
    if (s.oh >= s.h) CHECK(rows.indices.size() == size_t(s.h));            // any upscale reads every row
    std::vector<float> kept;
    for (int64_t r : rows.indices) {
      for (int64_t c : columns.indices) kept.insert(kept.end(), &x[(r * s.w + c) * 3], &x[(r * s.w + c) * 3] + 3);
    }
    std::vector<float> sampled(whole.size(), -1.0f);
    for (int64_t row = 0; row < s.oh; row += 4) {
      adarun::ref::resize_bicubic_hwc_rows_sampled(kept.data(), rows, columns, 3, s.oh, s.ow, row, std::min(row + 4, s.oh), sampled.data());
    }
    CHECK(sampled == whole);
  }
}

TEST_CASE("resize_bicubic_hwc: OpenCV's values on a small image, up and down") {
  // cv2.resize(x, (8, 5)) and (3, 2), interpolation=cv2.INTER_CUBIC, OpenCV 4.6, x float32 3x4.
  const std::vector<float> x = {0, 10, 20, 30, 40, 50, 60, 70, 80, 100, 90, 60};
  const std::vector<float> up = {
      -4.894700050354004f, -1.9259499311447144f, 2.839675188064575f, 9.128737449645996f, 13.19123649597168f,
      19.48029899597168f,  24.245925903320312f,  27.214675903320312f, 11.66125202178955f, 14.340314865112305f,
      18.610939025878906f, 25.037813186645508f,  29.735937118530273f, 37.48468780517578f, 43.724063873291016f,
      47.59843444824219f,  38.9453125f,          41.9140625f,         46.6796875f,        52.96875f,
      57.03125f,           63.3203125f,          68.0859375f,         71.0546875f,        65.65986633300781f,
      71.0909652709961f,   80.0640869140625f,    85.18174743652344f,  83.8414306640625f,  77.72313690185547f,
      69.9618911743164f,   65.23281860351562f,   81.6293716430664f,   89.0078125f,        101.30844116210938f,
      105.49968719482422f, 99.88655853271484f,   83.9559326171875f,   66.28781127929688f, 55.4709358215332f};
  const std::vector<float> down = {8.8551607131958f, 22.491455078125f, 37.96287536621094f,
                                   74.98390197753906f, 90.96923828125f, 66.58184814453125f};
  const auto y_up = bicubic(x, 1, Size{3, 4, 5, 8}), y_down = bicubic(x, 1, Size{3, 4, 2, 3});
  for (size_t i = 0; i < up.size(); ++i) CHECK(y_up[i] == doctest::Approx(up[i]).epsilon(1e-6));
  for (size_t i = 0; i < down.size(); ++i) CHECK(y_down[i] == doctest::Approx(down[i]).epsilon(1e-6));
}

TEST_CASE("resize_bicubic_hwc: identity size copies, a constant image stays constant") {
  const auto x = random_values(13 * 17 * 3, 19, 50.0f);
  CHECK(bicubic(x, 3, Size{13, 17, 13, 17}) == x);
  const std::vector<float> grey(9 * 7 * 2, 128.0f);
  for (float v : bicubic(grey, 2, Size{9, 7, 20, 3})) CHECK(v == doctest::Approx(128.0f).epsilon(1e-6));
}
