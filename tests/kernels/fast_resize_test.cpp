#include <doctest/doctest.h>

#include <vector>

#include "kernels/ref/resize.h"
#include "kernels/resize.h"
#include "tests/kernels/oracle.h"

using adarun::testing::random_values;
using adarun::testing::relative_max_diff;

namespace {

struct Size { int64_t channels, h, w, oh, ow; };

// The engine's ratios (x2, x4, x8, 56 -> 224, 28 -> 56), non-integer both ways, down, identity, one-pixel sides,
// and outputs wider than the kernel's column block.
const Size kSizes[] = {{3, 7, 7, 56, 56},  {2, 56, 56, 224, 224}, {2, 28, 28, 56, 56}, {3, 5, 7, 13, 3},
                       {2, 13, 17, 6, 23}, {1, 12, 12, 5, 5},     {2, 5, 7, 5, 7},     {1, 1, 3, 4, 1},
                       {1, 3, 1, 3, 9},    {2, 9, 11, 17, 300}};

using Resize = void (*)(const float*, int64_t, int64_t, int64_t, int64_t, int64_t, float*);

std::vector<float> run(Resize resize, const std::vector<float>& x, const Size& s) {
  std::vector<float> y(static_cast<size_t>(s.channels * s.oh * s.ow));
  resize(x.data(), s.channels, s.h, s.w, s.oh, s.ow, y.data());
  return y;
}

}  // namespace

TEST_CASE("fast resize_nearest equals its reference twin bit for bit") {
  for (const Size& s : kSizes) {
    const auto x = random_values(s.channels * s.h * s.w, 31);
    CAPTURE(s.oh);
    CAPTURE(s.ow);
    CHECK(run(adarun::fast::resize_nearest, x, s) == run(adarun::ref::resize_nearest, x, s));
  }
}

TEST_CASE("fast resize_bilinear is within float rounding of its reference twin") {
  for (const Size& s : kSizes) {
    const auto x = random_values(s.channels * s.h * s.w, 32);
    const auto reference = run(adarun::ref::resize_bilinear, x, s);
    CAPTURE(s.oh);
    CAPTURE(s.ow);
    CHECK(relative_max_diff(run(adarun::fast::resize_bilinear, x, s), std::vector<double>(reference.begin(), reference.end())) < 1e-6);
  }
}
