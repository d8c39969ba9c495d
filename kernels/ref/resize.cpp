#include "kernels/ref/resize.h"

#include <algorithm>
#include <cmath>

namespace adarun::ref {

LinearTap linear_tap(int64_t dst, int64_t in, int64_t out) {
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  const double src = std::max(double{scale} * (static_cast<double>(dst) + 0.5) - 0.5, 0.0);
  const int64_t i0 = static_cast<int64_t>(src);
  const int64_t i1 = i0 + (i0 < in - 1 ? 1 : 0);
  const float w1 = static_cast<float>(src - static_cast<double>(i0));
  return {i0, i1, 1.0f - w1, w1};
}

namespace {

// One output coordinate's four source taps, computed as OpenCV's resize does for INTER_CUBIC: the coordinate in
// double with scale = 1 / (out / in), rounded to float, then floor and fraction in float; indices clamped
// (replicated border).
struct CubicTap {
  int64_t index[4];
  float weight[4];
};

CubicTap cubic_tap(int64_t dst, int64_t in, int64_t out) {
  constexpr float a = -0.75f;
  const double scale = 1.0 / (static_cast<double>(out) / static_cast<double>(in));
  const float src = static_cast<float>((static_cast<double>(dst) + 0.5) * scale - 0.5);
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

// One channel of one output pixel, summed as OpenCV 4.6 does on x86: each row's horizontal pass left to right, then
// the vertical pass nested from the last row, as its SIMD loop does (bit-exact with it where ow * c is a multiple of
// 4, as for three channels at 224, 384 or 448; its scalar tail, left to right, is an ulp away).
float cubic_sample(const float* channel, int64_t row_stride, int64_t pixel_stride, const CubicTap& row, const CubicTap& col) {
  float horizontal[4];
  for (int i = 0; i < 4; ++i) {
    const float* line = channel + row.index[i] * row_stride;
    horizontal[i] = line[col.index[0] * pixel_stride] * col.weight[0] + line[col.index[1] * pixel_stride] * col.weight[1] +
                    line[col.index[2] * pixel_stride] * col.weight[2] + line[col.index[3] * pixel_stride] * col.weight[3];
  }
  return horizontal[0] * row.weight[0] +
         (horizontal[1] * row.weight[1] + (horizontal[2] * row.weight[2] + horizontal[3] * row.weight[3]));
}

// Output columns are walked in blocks whose taps sit on the stack: computed once, shared by every row and plane.
constexpr int64_t kColumnBlock = 64;

// One plane's output columns [x0, x0 + count) for every row, the column taps given.
void bilinear_columns(const float* plane, int64_t h, int64_t w, int64_t oh, int64_t ow, int64_t x0, const LinearTap* columns,
                      int64_t count, float* out) {
  for (int64_t oy = 0; oy < oh; ++oy) {
    const LinearTap row = linear_tap(oy, h, oh);
    const float* top = plane + row.i0 * w;
    const float* bottom = plane + row.i1 * w;
    float* line = out + oy * ow + x0;
    for (int64_t i = 0; i < count; ++i) {
      // Float products of the 1-D weights, the weighted sum in double: bit-exact with torch 1.13 on one channel.
      // (Its kernel for several channels rounds in float with FMAs, an ulp or two away.)
      const LinearTap& col = columns[i];
      const double sum = double{top[col.i0]} * (row.w0 * col.w0) + double{top[col.i1]} * (row.w0 * col.w1) +
                         double{bottom[col.i0]} * (row.w1 * col.w0) + double{bottom[col.i1]} * (row.w1 * col.w1);
      line[i] = static_cast<float>(sum);
    }
  }
}

// A tap's source indices moved to where a sampled image keeps them (slot: BicubicSources::slot; nullptr: the
// image is whole).
CubicTap in_slots(CubicTap tap, const int64_t* slot) {
  if (slot) {
    for (int64_t& index : tap.index) index = slot[index];
  }
  return tap;
}

// resize_bicubic_hwc_rows of an h x w image stored at rows row_slot and columns column_slot (nullptr: all) in rows of
// stored_width pixels.
void bicubic_rows(const float* x, int64_t h, int64_t w, const int64_t* row_slot, const int64_t* column_slot, int64_t stored_width,
                  int64_t c, int64_t oh, int64_t ow, int64_t row_begin, int64_t row_end, float* y) {
  CubicTap columns[kColumnBlock];
  for (int64_t x0 = 0; x0 < ow; x0 += kColumnBlock) {
    const int64_t count = std::min(kColumnBlock, ow - x0);
    for (int64_t i = 0; i < count; ++i) columns[i] = in_slots(cubic_tap(x0 + i, w, ow), column_slot);
    for (int64_t oy = row_begin; oy < row_end; ++oy) {
      const CubicTap row = in_slots(cubic_tap(oy, h, oh), row_slot);
      float* pixel = y + (oy * ow + x0) * c;
      for (int64_t i = 0; i < count; ++i, pixel += c) {
        for (int64_t ch = 0; ch < c; ++ch) pixel[ch] = cubic_sample(x + ch, stored_width * c, c, row, columns[i]);
      }
    }
  }
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
  LinearTap columns[kColumnBlock];
  for (int64_t x0 = 0; x0 < ow; x0 += kColumnBlock) {
    const int64_t count = std::min(kColumnBlock, ow - x0);
    for (int64_t i = 0; i < count; ++i) columns[i] = linear_tap(x0 + i, w, ow);
    for (int64_t c = 0; c < channels; ++c) bilinear_columns(x + c * h * w, h, w, oh, ow, x0, columns, count, y + c * oh * ow);
  }
}

void resize_bicubic_hwc(const float* x, int64_t h, int64_t w, int64_t c, int64_t oh, int64_t ow, float* y) {
  resize_bicubic_hwc_rows(x, h, w, c, oh, ow, 0, oh, y);
}

void resize_bicubic_hwc_rows(const float* x, int64_t h, int64_t w, int64_t c, int64_t oh, int64_t ow, int64_t row_begin, int64_t row_end,
                             float* y) {
  bicubic_rows(x, h, w, nullptr, nullptr, w, c, oh, ow, row_begin, row_end, y);
}

void bicubic_sources(int64_t in, int64_t out, BicubicSources* sources) {
  sources->slot.assign(static_cast<size_t>(in), -1);
  for (int64_t dst = 0; dst < out; ++dst) {
    const CubicTap tap = cubic_tap(dst, in, out);
    for (int64_t index : tap.index) sources->slot[index] = 0;
  }
  sources->indices.clear();
  for (int64_t i = 0; i < in; ++i) {
    if (sources->slot[i] < 0) continue;
    sources->slot[i] = static_cast<int64_t>(sources->indices.size());
    sources->indices.push_back(i);
  }
}

void resize_bicubic_hwc_rows_sampled(const float* x, const BicubicSources& rows, const BicubicSources& columns, int64_t c, int64_t oh,
                                     int64_t ow, int64_t row_begin, int64_t row_end, float* y) {
  bicubic_rows(x, static_cast<int64_t>(rows.slot.size()), static_cast<int64_t>(columns.slot.size()), rows.slot.data(),
               columns.slot.data(), static_cast<int64_t>(columns.indices.size()), c, oh, ow, row_begin, row_end, y);
}

}  // namespace adarun::ref
