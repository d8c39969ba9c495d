#include "kernels/resize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/parallel.h"
#include "kernels/ref/resize.h"

namespace adarun {
namespace {

int64_t nearest_source(int64_t dst, float scale, int64_t in) {
  return std::min(static_cast<int64_t>(std::floor(static_cast<float>(dst) * scale)), in - 1);
}

using ref::linear_tap;
using ref::LinearTap;

// Output columns go in blocks whose taps, and the two horizontally resized source rows, fit on the stack.
constexpr int64_t kColumnBlock = 128;

void horizontal_pass(const float* source_row, const LinearTap* columns, int64_t count, float* out) {
  for (int64_t i = 0; i < count; ++i) out[i] = source_row[columns[i].i0] * columns[i].w0 + source_row[columns[i].i1] * columns[i].w1;
}

// One plane's output columns [x0, x0 + count): each source row is resized horizontally once, each output row is
// then a blend of two such rows.
void bilinear_block(const float* plane, int64_t h, int64_t w, int64_t oh, int64_t ow, int64_t x0, const LinearTap* columns,
                    int64_t count, float* out) {
  float top[kColumnBlock], bottom[kColumnBlock];
  int64_t top_row = -1, bottom_row = -1;
  for (int64_t oy = 0; oy < oh; ++oy) {
    const LinearTap row = linear_tap(oy, h, oh);
    if (row.i0 != top_row) {
      if (row.i0 == bottom_row) {
        std::memcpy(top, bottom, sizeof(float) * size_t(count));
      } else {
        horizontal_pass(plane + row.i0 * w, columns, count, top);
      }
      top_row = row.i0;
    }
    if (row.i1 != bottom_row) {
      horizontal_pass(plane + row.i1 * w, columns, count, bottom);
      bottom_row = row.i1;
    }
    float* line = out + oy * ow + x0;
    for (int64_t i = 0; i < count; ++i) line[i] = top[i] * row.w0 + bottom[i] * row.w1;
  }
}

}  // namespace

namespace fast {

void resize_nearest(const float* x, int64_t channels, int64_t h, int64_t w, int64_t oh, int64_t ow, float* y) {
  const float scale_y = static_cast<float>(h) / static_cast<float>(oh);
  const float scale_x = static_cast<float>(w) / static_cast<float>(ow);
  // Each block's source columns once, not a floor per output pixel of every row and channel.
  int32_t columns[kColumnBlock];
  for (int64_t x0 = 0; x0 < ow; x0 += kColumnBlock) {
    const int64_t count = std::min(kColumnBlock, ow - x0);
    for (int64_t i = 0; i < count; ++i) columns[i] = static_cast<int32_t>(nearest_source(x0 + i, scale_x, w));
    for (int64_t c = 0; c < channels; ++c) {
      const float* plane = x + c * h * w;
      float* out = y + c * oh * ow + x0;
      int64_t previous_source = -1;
      for (int64_t oy = 0; oy < oh; ++oy) {
        const int64_t iy = nearest_source(oy, scale_y, h);
        float* line = out + oy * ow;
        if (iy == previous_source) {
          std::memcpy(line, line - ow, sizeof(float) * size_t(count));
          continue;
        }
        const float* source_row = plane + iy * w;
        for (int64_t i = 0; i < count; ++i) line[i] = source_row[columns[i]];
        previous_source = iy;
      }
    }
  }
}

void resize_bilinear(const float* x, int64_t channels, int64_t h, int64_t w, int64_t oh, int64_t ow, float* y) {
  LinearTap columns[kColumnBlock];
  for (int64_t x0 = 0; x0 < ow; x0 += kColumnBlock) {
    const int64_t count = std::min(kColumnBlock, ow - x0);
    for (int64_t i = 0; i < count; ++i) columns[i] = linear_tap(x0 + i, w, ow);
    for (int64_t c = 0; c < channels; ++c) bilinear_block(x + c * h * w, h, w, oh, ow, x0, columns, count, y + c * oh * ow);
  }
}

}  // namespace fast

void resize_nearest(Isa isa, const float* x, int64_t channels, int64_t h, int64_t w, int64_t oh, int64_t ow, float* y, int threads,
                    pthreadpool_t pool) {
  if (isa == Isa::kReference) return ref::resize_nearest(x, channels, h, w, oh, ow, y);
  parallel_ranges(pool, threads, channels, [&](int64_t begin, int64_t end) {
    fast::resize_nearest(x + begin * h * w, end - begin, h, w, oh, ow, y + begin * oh * ow);
  });
}

void resize_bilinear(Isa isa, const float* x, int64_t channels, int64_t h, int64_t w, int64_t oh, int64_t ow, float* y, int threads,
                     pthreadpool_t pool) {
  if (isa == Isa::kReference) return ref::resize_bilinear(x, channels, h, w, oh, ow, y);
  parallel_ranges(pool, threads, channels, [&](int64_t begin, int64_t end) {
    fast::resize_bilinear(x + begin * h * w, end - begin, h, w, oh, ow, y + begin * oh * ow);
  });
}

}  // namespace adarun
