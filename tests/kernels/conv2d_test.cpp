#include <doctest/doctest.h>

#include "kernels/ref/conv.h"
#include "tests/kernels/oracle.h"

using adarun::testing::random_values;
using adarun::testing::relative_max_diff;

namespace {

struct ConvShape { int64_t cin, h, w, cout, k, stride, pad, dilation = 1; };

std::vector<double> conv_oracle(const ConvShape& s, const std::vector<float>& x, const std::vector<float>& weight, const float* bias) {
  const int64_t oh = adarun::ref::conv_out_size(s.h, s.k, s.stride, s.pad, s.dilation);
  const int64_t ow = adarun::ref::conv_out_size(s.w, s.k, s.stride, s.pad, s.dilation);
  std::vector<double> y(static_cast<size_t>(s.cout * oh * ow));
  for (int64_t o = 0; o < s.cout; ++o) {
    for (int64_t oy = 0; oy < oh; ++oy) {
      for (int64_t ox = 0; ox < ow; ++ox) {
        double sum = bias ? bias[o] : 0.0;
        for (int64_t c = 0; c < s.cin; ++c) {
          for (int64_t ky = 0; ky < s.k; ++ky) {
            for (int64_t kx = 0; kx < s.k; ++kx) {
              const int64_t iy = oy * s.stride + ky * s.dilation - s.pad, ix = ox * s.stride + kx * s.dilation - s.pad;
              if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
              sum += double(x[(c * s.h + iy) * s.w + ix]) * weight[((o * s.cin + c) * s.k + ky) * s.k + kx];
            }
          }
        }
        y[(o * oh + oy) * ow + ox] = sum;
      }
    }
  }
  return y;
}

}  // namespace

// ASPP's dilated 3x3 (padding = dilation): wider than the map, so that most taps read only padding, and
// narrower; dilated and strided together.
TEST_CASE("conv2d: 3x3 pad 1, 1x1, 4x4 stride 4 (patch embed), dilated 3x3, odd sizes") {
  for (ConvShape s : {ConvShape{5, 7, 9, 3, 3, 1, 1}, ConvShape{8, 6, 6, 5, 1, 1, 0}, ConvShape{3, 16, 12, 7, 4, 4, 0},
                      ConvShape{1, 1, 1, 2, 3, 1, 1}, ConvShape{2, 5, 5, 1, 3, 2, 1}, ConvShape{3, 11, 13, 4, 3, 1, 2, 2},
                      ConvShape{4, 7, 9, 5, 3, 1, 12, 12}, ConvShape{2, 13, 10, 3, 3, 1, 5, 5}, ConvShape{3, 15, 12, 2, 3, 2, 3, 3},
                      ConvShape{2, 9, 9, 3, 3, 1, 0, 3}}) {
    CAPTURE(s.h);
    CAPTURE(s.dilation);
    const auto x = random_values(s.cin * s.h * s.w, 11), weight = random_values(s.cout * s.cin * s.k * s.k, 12);
    const auto bias = random_values(s.cout, 13);
    const int64_t oh = adarun::ref::conv_out_size(s.h, s.k, s.stride, s.pad, s.dilation);
    const int64_t ow = adarun::ref::conv_out_size(s.w, s.k, s.stride, s.pad, s.dilation);
    std::vector<float> scratch(
        static_cast<size_t>(adarun::ref::conv2d_scratch_floats(s.cin, s.h, s.w, s.k, s.stride, s.pad, s.dilation)) + 1);
    std::vector<float> y(static_cast<size_t>(s.cout * oh * ow));
    adarun::ref::conv2d(x.data(), s.cin, s.h, s.w, weight.data(), bias.data(), s.cout, s.k, s.stride, s.pad, s.dilation, scratch.data(),
                        y.data());
    CHECK(relative_max_diff(y, conv_oracle(s, x, weight, bias.data())) < 1e-5);
    adarun::ref::conv2d(x.data(), s.cin, s.h, s.w, weight.data(), nullptr, s.cout, s.k, s.stride, s.pad, s.dilation, scratch.data(),
                        y.data());
    CHECK(relative_max_diff(y, conv_oracle(s, x, weight, nullptr)) < 1e-5);
  }
}

TEST_CASE("conv2d: pointwise needs no scratch") { CHECK(adarun::ref::conv2d_scratch_floats(64, 28, 28, 1, 1, 0, 1) == 0); }
