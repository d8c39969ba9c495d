#include "kernels/blur.h"

#include <algorithm>

#include "kernels/parallel.h"
#include "kernels/ref/blur.h"

namespace adarun {
namespace {

// Output columns go in blocks whose vertically blurred source columns (the block's and one on each side) fit on
// the stack.
constexpr int64_t kColumnBlock = 256;

float vertical(const float* above, const float* row, const float* below, int64_t j) {
  return 0.125f * (above[j] + below[j]) + 0.75f * row[j];
}

}  // namespace

namespace fast {

void blur_1_6_1(const float* x, int64_t h, int64_t w, int64_t row_begin, int64_t row_end, float* y) {
  float columns[kColumnBlock + 2];
  for (int64_t r = row_begin; r < row_end; ++r) {
    const int64_t i = r % h;
    const float* plane = x + (r - i) * w;
    const float* above = plane + std::max<int64_t>(i - 1, 0) * w;
    const float* row = plane + i * w;
    const float* below = plane + std::min<int64_t>(i + 1, h - 1) * w;
    float* out = y + r * w;
    for (int64_t j0 = 0; j0 < w; j0 += kColumnBlock) {
      const int64_t count = std::min(kColumnBlock, w - j0);
      // columns[k] = the vertical pass at source column clamp(j0 - 1 + k), k <= count + 1.
      columns[0] = vertical(above, row, below, std::max<int64_t>(j0 - 1, 0));
      for (int64_t k = 0; k < count; ++k) columns[k + 1] = 0.125f * (above[j0 + k] + below[j0 + k]) + 0.75f * row[j0 + k];
      columns[count + 1] = vertical(above, row, below, std::min(j0 + count, w - 1));
      for (int64_t k = 0; k < count; ++k) out[j0 + k] = 0.125f * (columns[k] + columns[k + 2]) + 0.75f * columns[k + 1];
    }
  }
}

}  // namespace fast

void blur_1_6_1(Isa isa, const float* x, int64_t channels, int64_t h, int64_t w, float* y, int threads, pthreadpool_t pool) {
  if (isa == Isa::kReference) return ref::blur_1_6_1(x, channels, h, w, y);
  parallel_ranges(pool, threads, channels * h, [&](int64_t begin, int64_t end) { fast::blur_1_6_1(x, h, w, begin, end, y); });
}

}  // namespace adarun
