#include "kernels/ref/resize.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace adarun::ref {
namespace {

// One output coordinate's two source taps and weights, computed the way torch does (in float).
struct LinearTap {
  int64_t i0, i1;
  float w0, w1;
};

LinearTap linear_tap(int64_t dst, int64_t in, int64_t out) {
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  const float src = std::max(scale * (static_cast<float>(dst) + 0.5f) - 0.5f, 0.0f);
  const int64_t i0 = static_cast<int64_t>(src);
  const int64_t i1 = i0 + (i0 < in - 1 ? 1 : 0);
  const float w1 = src - static_cast<float>(i0);
  return {i0, i1, 1.0f - w1, w1};
}

struct CubicTap {
  int64_t index[4];
  float weight[4];
};

CubicTap cubic_tap(int64_t dst, int64_t in, int64_t out) {
  constexpr float a = -0.75f;
  const float src = (static_cast<float>(dst) + 0.5f) * static_cast<float>(in) / static_cast<float>(out) - 0.5f;
  const float base = std::floor(src);
  const float t = src - base;
  CubicTap tap;
  tap.weight[0] = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a;
  tap.weight[1] = ((a + 2) * t - (a + 3)) * t * t + 1;
  tap.weight[2] = ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1;
  tap.weight[3] = 1.0f - tap.weight[0] - tap.weight[1] - tap.weight[2];
  for (int k = 0; k < 4; ++k) tap.index[k] = std::clamp(static_cast<int64_t>(base) - 1 + k, int64_t{0}, in - 1);
  return tap;
}

}  // namespace

void resize_nearest(const float* x, int64_t channels, int64_t h, int64_t w, int64_t oh, int64_t ow, float* y) {
  const float scale_y = static_cast<float>(h) / static_cast<float>(oh);
  const float scale_x = static_cast<float>(w) / static_cast<float>(ow);
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t oy = 0; oy < oh; ++oy) {
      const int64_t iy = std::min(static_cast<int64_t>(std::floor(static_cast<float>(oy) * scale_y)), h - 1);
      for (int64_t ox = 0; ox < ow; ++ox) {
        const int64_t ix = std::min(static_cast<int64_t>(std::floor(static_cast<float>(ox) * scale_x)), w - 1);
        y[(c * oh + oy) * ow + ox] = x[(c * h + iy) * w + ix];
      }
    }
  }
}

void resize_bilinear(const float* x, int64_t channels, int64_t h, int64_t w, int64_t oh, int64_t ow, float* y) {
  // Plane by plane, row by row: reads and writes stay sequential.
  for (int64_t c = 0; c < channels; ++c) {
    const float* plane = x + c * h * w;
    float* out = y + c * oh * ow;
    for (int64_t oy = 0; oy < oh; ++oy) {
      const LinearTap ty = linear_tap(oy, h, oh);
      const float* top = plane + ty.i0 * w;
      const float* bottom = plane + ty.i1 * w;
      for (int64_t ox = 0; ox < ow; ++ox) {
        const LinearTap tx = linear_tap(ox, w, ow);
        const float upper = tx.w0 * top[tx.i0] + tx.w1 * top[tx.i1];
        const float lower = tx.w0 * bottom[tx.i0] + tx.w1 * bottom[tx.i1];
        out[oy * ow + ox] = ty.w0 * upper + ty.w1 * lower;
      }
    }
  }
}

void resize_bicubic_hwc(const float* x, int64_t h, int64_t w, int64_t c, int64_t oh, int64_t ow, float* y) {
  std::vector<CubicTap> columns(static_cast<size_t>(ow));
  for (int64_t ox = 0; ox < ow; ++ox) columns[ox] = cubic_tap(ox, w, ow);
  for (int64_t oy = 0; oy < oh; ++oy) {
    const CubicTap row = cubic_tap(oy, h, oh);
    for (int64_t ox = 0; ox < ow; ++ox) {
      const CubicTap& col = columns[ox];
      for (int64_t ch = 0; ch < c; ++ch) {
        float sum = 0.0f;
        for (int i = 0; i < 4; ++i) {
          float line = 0.0f;
          for (int j = 0; j < 4; ++j) line += col.weight[j] * x[(row.index[i] * w + col.index[j]) * c + ch];
          sum += row.weight[i] * line;
        }
        y[(oy * ow + ox) * c + ch] = sum;
      }
    }
  }
}

}  // namespace adarun::ref
