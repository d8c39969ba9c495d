// The [1/8, 3/4, 1/8] blur with replicated edges (kernels/blur.h) against an independent oracle: the chain of
// reference bilinear resizes it stands for (x2 upsamplings, then back to the first size; the updecoder head's x2,
// x2, 4 S -> S), on odd and non-square shapes; then the fast kernel against its reference twin, over threads.
#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "kernels/blur.h"
#include "kernels/ref/blur.h"
#include "kernels/ref/resize.h"
#include "tests/kernels/oracle.h"

using adarun::testing::random_values;
using adarun::testing::relative_max_diff;

namespace {

struct Shape { int64_t channels, h, w; };

// Odd sides, one-pixel and two-pixel sides (every tap clamped), non-square, and rows wider than the fast kernel's
// column block (256).
const Shape kShapes[] = {{3, 7, 7}, {2, 13, 9}, {1, 1, 5}, {2, 5, 1}, {1, 1, 1}, {2, 2, 3}, {1, 9, 300}, {2, 31, 517}, {21, 11, 11}};

// The oracle: ref::resize_bilinear by each factor in turn, then back to h x w, each step rounded to float.
std::vector<double> resize_chain(const std::vector<float>& x, const Shape& s, const std::vector<int64_t>& factors) {
  std::vector<float> map = x;
  int64_t h = s.h, w = s.w;
  for (int64_t factor : factors) {
    std::vector<float> up(static_cast<size_t>(s.channels * h * factor * w * factor));
    adarun::ref::resize_bilinear(map.data(), s.channels, h, w, h * factor, w * factor, up.data());
    map.swap(up), h *= factor, w *= factor;
  }
  std::vector<float> back(static_cast<size_t>(s.channels * s.h * s.w));
  adarun::ref::resize_bilinear(map.data(), s.channels, h, w, s.h, s.w, back.data());
  return std::vector<double>(back.begin(), back.end());
}

std::vector<float> reference(const std::vector<float>& x, const Shape& s) {
  std::vector<float> y(x.size());
  adarun::ref::blur_1_6_1(x.data(), s.channels, s.h, s.w, y.data());
  return y;
}

std::vector<float> dispatched(adarun::Isa isa, const std::vector<float>& x, const Shape& s, int threads, pthreadpool_t pool) {
  std::vector<float> y(x.size());
  adarun::blur_1_6_1(isa, x.data(), s.channels, s.h, s.w, y.data(), threads, pool);
  return y;
}

}  // namespace

TEST_CASE("blur_1_6_1 is the bilinear x2, x2 then back to the size chain (and x2 alone, x2 x2 x2, x1 x2 x1), within float rounding") {
  for (const Shape& s : kShapes) {
    const auto x = random_values(s.channels * s.h * s.w, 61);
    const auto blurred = reference(x, s);
    const auto fast = dispatched(adarun::Isa::kAvx2, x, s, 1, nullptr);  // any ISA but the reference: the fast kernel
    for (const std::vector<int64_t>& factors : std::vector<std::vector<int64_t>>{{2, 2}, {2}, {2, 2, 2}, {1, 2, 1}}) {
      CAPTURE(s.h);
      CAPTURE(s.w);
      CAPTURE(factors.size());
      const auto chain = resize_chain(x, s, factors);
      CHECK(relative_max_diff(blurred, chain) < 1e-6);
      CHECK(relative_max_diff(fast, chain) < 1e-6);
    }
  }
}

TEST_CASE("blur_1_6_1's borders: replicated edges give 7/8 and 1/8 on the first and last row and column") {
  const Shape s{1, 3, 4};
  const std::vector<float> x = {1, 0, 0, 0,  //
                                0, 0, 0, 0,  //
                                0, 0, 0, 2};
  const auto y = reference(x, s);
  CHECK(y[0] == 49.0f / 64);  // corner: (7/8)^2
  CHECK(y[1] == 7.0f / 64);   // (7/8 across the edge row) x (1/8 one column in)
  CHECK(y[4] == 7.0f / 64);
  CHECK(y[5] == 1.0f / 64);
  CHECK(y[2] == 0.0f);
  CHECK(y[11] == 2 * 49.0f / 64);
  CHECK(y[6] == 2 * 1.0f / 64);
  CHECK(dispatched(adarun::Isa::kAvx2, x, s, 1, nullptr) == y);  // dyadic values: exact in float too
}

TEST_CASE("blur_1_6_1: the fast kernel is within float rounding of its twin, alone and over threads; the reference path is the twin") {
  std::unique_ptr<pthreadpool, void (*)(pthreadpool_t)> pool(pthreadpool_create(3), pthreadpool_destroy);
  for (const Shape& s : kShapes) {
    CAPTURE(s.h);
    CAPTURE(s.w);
    const auto x = random_values(s.channels * s.h * s.w, 62);
    const auto twin = reference(x, s);
    const auto fast = dispatched(adarun::Isa::kAvx2, x, s, 1, nullptr);
    CHECK(relative_max_diff(fast, std::vector<double>(twin.begin(), twin.end())) < 1e-6);
    CHECK(dispatched(adarun::Isa::kAvx512, x, s, 3, pool.get()) == fast);  // rows split over the threads, bit for bit
    CHECK(dispatched(adarun::Isa::kNeon, x, s, 4, pool.get()) == fast);
    CHECK(dispatched(adarun::Isa::kReference, x, s, 3, pool.get()) == twin);
  }
}
