#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/conv.h"
#include "kernels/ref/conv.h"
#include "tests/kernels/oracle.h"

using adarun::testing::random_values;

namespace {

struct Shape { int64_t cin, h, w, cout, kernel, pad, stride, dilation = 1; };

// The decoders' 3x3 and 1x1 same-size convolutions on maps narrower and wider than a panel, non-square, strided,
// and the 4x4 stride-4 patch embedding; output channels not a multiple of the tile's rows. Rows wide enough
// for a panel (56, 40, 64, 62 pixels) read B in place, unpadded and 5x5 ones included; the others unfold.
const Shape kShapes[] = {{5, 7, 9, 3, 3, 1, 1},   {8, 6, 6, 37, 1, 0, 1}, {3, 14, 14, 20, 3, 1, 1}, {2, 9, 11, 5, 3, 1, 2},
                         {3, 16, 12, 7, 4, 0, 4}, {16, 56, 56, 9, 3, 1, 1}, {7, 1, 40, 4, 3, 1, 1}, {4, 10, 66, 6, 3, 0, 1},
                         {3, 9, 62, 5, 5, 2, 1},
                         // ASPP's dilated 3x3 (padding = dilation), unfolded and read in place (56 and 62 wide), a
                         // dilation past the map (only the centre tap meets it), dilated and strided.
                         {5, 7, 9, 6, 3, 2, 1, 2},  {3, 13, 56, 9, 3, 12, 1, 12}, {4, 9, 62, 5, 3, 5, 1, 5},
                         {6, 5, 7, 3, 3, 36, 1, 36}, {3, 15, 11, 4, 3, 3, 2, 3}, {2, 11, 40, 3, 3, 0, 1, 4}};

std::vector<float> reference(const Shape& s, const std::vector<float>& x, const std::vector<float>& weight, const std::vector<float>& bias) {
  const int64_t oh = adarun::ref::conv_out_size(s.h, s.kernel, s.stride, s.pad, s.dilation);
  const int64_t ow = adarun::ref::conv_out_size(s.w, s.kernel, s.stride, s.pad, s.dilation);
  std::vector<float> y(static_cast<size_t>(s.cout * oh * ow));
  std::vector<float> scratch(
      static_cast<size_t>(adarun::ref::conv2d_scratch_floats(s.cin, s.h, s.w, s.kernel, s.stride, s.pad, s.dilation)) + 1);
  adarun::ref::conv2d(x.data(), s.cin, s.h, s.w, weight.data(), bias.data(), s.cout, s.kernel, s.stride, s.pad, s.dilation, scratch.data(),
                      y.data());
  return y;
}

// The output of conv2d on `isa`, -7 wherever it wrote nothing (outside [row_begin, row_end) when given).
std::vector<float> fast(adarun::Isa isa, const Shape& s, const std::vector<float>& x, const std::vector<float>& weight,
                        const std::vector<float>& bias, int chunks, pthreadpool_t pool, int64_t row_begin = 0, int64_t row_end = -1) {
  adarun::ConvArgs args;
  args.x = x.data(), args.cin = s.cin, args.h = s.h, args.w = s.w;
  args.weight = weight.data(), args.bias = bias.data();
  args.cout = s.cout, args.kernel = s.kernel, args.stride = s.stride, args.pad = s.pad, args.dilation = s.dilation;
  args.row_begin = row_begin, args.row_end = row_end;
  std::vector<float> y(static_cast<size_t>(s.cout * args.out_h() * args.out_w()), -7.0f);
  args.y = y.data();
  std::vector<float> scratch(static_cast<size_t>(adarun::conv_scratch_floats(isa, args, chunks)) + 16);
  float* aligned = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(scratch.data()) + 63) & ~uintptr_t{63});
  adarun::conv2d(isa, args, aligned, chunks, pool);
  return y;
}

}  // namespace

TEST_CASE("conv2d: the unfolding GEMM matches ref::conv2d on every ISA, alone and over threads") {
  std::unique_ptr<pthreadpool, void (*)(pthreadpool_t)> pool(pthreadpool_create(3), pthreadpool_destroy);
  for (adarun::Isa isa : adarun::kPackedIsas) {
    if (!adarun::isa_supported(isa)) continue;
    for (const Shape& s : kShapes) {
      const auto x = random_values(s.cin * s.h * s.w, 41), weight = random_values(s.cout * s.cin * s.kernel * s.kernel, 42);
      const auto bias = random_values(s.cout, 43);
      const auto expected = reference(s, x, weight, bias);
      const std::vector<double> oracle(expected.begin(), expected.end());
      CAPTURE(adarun::isa_name(isa));
      CAPTURE(s.h);
      CAPTURE(s.kernel);
      CAPTURE(s.dilation);
      CHECK(adarun::testing::relative_max_diff(fast(isa, s, x, weight, bias, 1, nullptr), oracle) < 1e-5);
      CHECK(adarun::testing::relative_max_diff(fast(isa, s, x, weight, bias, 3, pool.get()), oracle) < 1e-5);
    }
  }
}

TEST_CASE("unfold_panel (any stride): zero outside the image and past the last pixel") {
  for (adarun::Isa isa : adarun::kPackedIsas) {
    if (!adarun::isa_supported(isa)) continue;
    const int64_t width = adarun::gemm_panel_width(isa);
    const std::vector<float> x(2 * 3 * 3, 1.0f);  // 2 channels of 3x3 ones
    adarun::ConvArgs args;
    args.x = x.data(), args.cin = 2, args.h = 3, args.w = 3, args.kernel = 3, args.pad = 1;
    std::vector<float> panel(static_cast<size_t>(18 * width), -1.0f);
    adarun::unfold_panel(isa, args, 0, 9, panel.data());
    for (int64_t tap = 0; tap < 18; ++tap) {
      const int64_t ky = tap / 3 % 3, kx = tap % 3;
      for (int64_t lane = 0; lane < width; ++lane) {
        const int64_t iy = lane / 3 + ky - 1, ix = lane % 3 + kx - 1;
        const bool inside = lane < 9 && iy >= 0 && iy < 3 && ix >= 0 && ix < 3;
        CAPTURE(tap);
        CAPTURE(lane);
        CHECK(panel[size_t(tap * width + lane)] == (inside ? 1.0f : 0.0f));
      }
    }
  }
}

TEST_CASE("conv2d: a range of output rows matches ref::conv2d's rows and leaves the others as they were") {
  std::unique_ptr<pthreadpool, void (*)(pthreadpool_t)> pool(pthreadpool_create(3), pthreadpool_destroy);
  for (adarun::Isa isa : adarun::kPackedIsas) {
    if (!adarun::isa_supported(isa)) continue;
    for (const Shape& s : kShapes) {
      const auto x = random_values(s.cin * s.h * s.w, 44), weight = random_values(s.cout * s.cin * s.kernel * s.kernel, 45);
      const auto bias = random_values(s.cout, 46);
      const auto expected = reference(s, x, weight, bias);
      const int64_t oh = adarun::ref::conv_out_size(s.h, s.kernel, s.stride, s.pad, s.dilation);
      const int64_t ow = adarun::ref::conv_out_size(s.w, s.kernel, s.stride, s.pad, s.dilation);
      const int64_t row_begin = oh / 3, row_end = std::max(row_begin + 1, 2 * oh / 3);
      const std::vector<float> y = fast(isa, s, x, weight, bias, 3, pool.get(), row_begin, row_end);
      const std::string isa_name = adarun::isa_name(isa);
      CAPTURE(isa_name);
      CAPTURE(s.h);
      CAPTURE(s.w);
      CAPTURE(s.kernel);
      double worst = 0.0, scale = 1e-6;
      int64_t untouched = 0, outside = 0;
      for (int64_t o = 0; o < s.cout; ++o) {
        for (int64_t oy = 0; oy < oh; ++oy) {
          for (int64_t ox = 0; ox < ow; ++ox) {
            const size_t i = size_t((o * oh + oy) * ow + ox);
            if (oy >= row_begin && oy < row_end) {
              worst = std::max(worst, double(std::fabs(y[i] - expected[i])));
              scale = std::max(scale, double(std::fabs(expected[i])));
            } else {
              ++outside;
              untouched += y[i] == -7.0f;
            }
          }
        }
      }
      CHECK(worst / scale < 1e-5);
      CHECK(untouched == outside);
    }
  }
}
