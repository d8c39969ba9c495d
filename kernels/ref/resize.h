#pragma once
#include <cstdint>
#include <vector>

namespace adarun::ref {

// CHW planar. Nearest as torch's 'nearest' (nn.Upsample / F.interpolate): src = min(floor(dst * (float)in / out), in - 1).
// Bit-exact with torch for any size, and with nn.Upsample(scale_factor=s) where out = s * in, s a power of two.
void resize_nearest(const float* x, int64_t channels, int64_t h, int64_t w, int64_t oh, int64_t ow, float* y);

// CHW planar. Bilinear as torch's F.interpolate(size, mode='bilinear', align_corners=False): taps and weights
// bit-exact with torch 1.13; values bit-exact with its one-channel kernel, within an ulp or two of its others.
void resize_bilinear(const float* x, int64_t channels, int64_t h, int64_t w, int64_t oh, int64_t ow, float* y);

// One output coordinate's two source taps in resize_bilinear, computed as torch 1.13's upsample_bilinear2d does: the
// scale in float, the source coordinate in double (torch's acc_type for float), the weights rounded to float. (Later
// torch keeps the coordinate in float; its weights then differ by up to one float ulp of the coordinate.) The
// definition every bilinear resize shares: it fixes which pixels are read and their weights, bit for bit.
struct LinearTap {
  int64_t i0, i1;
  float w0, w1;
};
LinearTap linear_tap(int64_t dst, int64_t in, int64_t out);

// Interleaved HWC. Bicubic as OpenCV's cv2.resize INTER_CUBIC on float data: A = -0.75,
// half-pixel centres, four taps, replicated border, no antialiasing, no clamping of the result.
void resize_bicubic_hwc(const float* x, int64_t h, int64_t w, int64_t c, int64_t oh, int64_t ow, float* y);
// The same for output rows [row_begin, row_end) only (y is still the whole [oh, ow, c] output): bands of rows
// computed apart, on threads, give the whole resize bit for bit.
void resize_bicubic_hwc_rows(const float* x, int64_t h, int64_t w, int64_t c, int64_t oh, int64_t ow, int64_t row_begin, int64_t row_end,
                             float* y);

// The source pixels along one side (rows or columns) that resize_bicubic_hwc's taps read when that side goes from
// `in` to `out` pixels: `indices` ascending, each once, and slot[i] = the position of index i in `indices` (-1 for
// a pixel no tap reads). A large downscale reads a fraction of the source (4 of every in / out pixels), so a
// source that must be computed first (a camera frame's conversion) need only be computed there.
struct BicubicSources {
  std::vector<int64_t> indices;
  std::vector<int64_t> slot;
};
// Fills *sources for a side of `in` pixels resized to `out`, reusing its vectors' storage.
void bicubic_sources(int64_t in, int64_t out, BicubicSources* sources);
// resize_bicubic_hwc_rows of an image of rows.slot.size() x columns.slot.size() pixels given only at the pixels
// the taps read: x holds rows.indices.size() x columns.indices.size() x c floats, row-major (bicubic_sources of the
// image's height to oh and its width to ow). The same values as resizing the whole image.
void resize_bicubic_hwc_rows_sampled(const float* x, const BicubicSources& rows, const BicubicSources& columns, int64_t c, int64_t oh,
                                     int64_t ow, int64_t row_begin, int64_t row_end, float* y);

}  // namespace adarun::ref
