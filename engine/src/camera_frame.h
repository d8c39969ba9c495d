#pragma once
// Camera frames as phones deliver them (interleaved RGB/BGR or 8-bit YUV 4:2:0 planes with their own strides, and
// a rotation) turned into upright RGB: the pixels a frame's framing (framing.h) resizes into the model's input.
#include <pthreadpool.h>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/src/status.h"

namespace adarun {

// The values are the C API's (adarun_pixel_format).
enum class PixelFormat : int32_t {
  kRgb8 = 1,   // R, G, B bytes
  kRgba8 = 2,  // R, G, B, A (alpha ignored)
  kBgra8 = 3,  // B, G, R, A (iOS kCVPixelFormatType_32BGRA; alpha ignored)
  kNv12 = 4,   // plane 0: Y; plane 1: interleaved U, V (iOS 420f / 420v)
  kNv21 = 5,   // plane 0: Y; plane 1: interleaved V, U (Android's camera NV21)
  kI420 = 6,   // plane 0: Y; plane 1: U; plane 2: V
};

// YUV -> RGB matrix and range (the C API's adarun_color); RGB formats ignore it.
enum class ColorSpace : int32_t {
  kUnset = 0,       // refused for YUV formats
  kBt601Full = 1,   // JFIF: Android's YUV_420_888 camera frames, JPEG
  kBt601Video = 2,  // Y in [16, 235], U and V in [16, 240]
  kBt709Full = 3,
  kBt709Video = 4,
};

// One frame as stored: `width` x `height` pixels before rotation; plane p's row y starts at
// planes[p] + y * strides[p]. The 4:2:0 formats' chroma planes are ceil(width / 2) x ceil(height / 2) samples
// (odd sizes allowed, as Android gives them); pixel (x, y) takes chroma sample (x / 2, y / 2), unfiltered.
// `rotation` (0, 90, 180, 270) is how far the stored frame is turned clockwise to make it upright (Android's
// ImageInfo.getRotationDegrees): a 90 or 270 frame is height x width once rotated.
struct CameraImage {
  PixelFormat format = PixelFormat::kRgb8;
  int64_t width = 0, height = 0;
  const uint8_t* planes[3] = {nullptr, nullptr, nullptr};
  int64_t strides[3] = {0, 0, 0};
  ColorSpace color = ColorSpace::kUnset;
  int32_t rotation = 0;
};

// Every reason a frame is refused (unknown format, color or rotation; a size out of the limits; a plane the format
// reads that is NULL; a stride shorter than its plane's row), as one message; ok when the frame can be read.
Status check_camera_image(const CameraImage& image);

// The upright frame's size: width x height, swapped for rotations 90 and 270.
int64_t upright_width(const CameraImage& image);
int64_t upright_height(const CameraImage& image);

// A rectangle of whole pixels: columns [x, x + width), rows [y, y + height).
struct PixelRect {
  int64_t x = 0, y = 0, width = 0, height = 0;
};

// Writes the upright frame's pixels (view.x + columns[j], view.y + rows[i]) (upright coordinates, within the
// frame) as interleaved RGB floats, rows.size() x columns.size() x 3, row-major: each value an integer in [0, 255].
// All of a rect's rows and columns convert the rect; a resize that reads a fraction of the view passes the pixels
// it reads (ref::bicubic_sources). RGB formats copy their bytes; YUV is converted per pixel by the standard matrix
// of `color` (README "Camera frames" gives the coefficients), in float:
//   full range:  Y' = Y,                   U' = U - 128,                   V' = V - 128
//   video range: Y' = (Y - 16) * 255/219,  U' = (U - 128) * 255/224,       V' = (V - 128) * 255/224
//   R = Y' + 2 (1 - Kr) V',  G = Y' - (2 Kb (1 - Kb) / Kg) U' - (2 Kr (1 - Kr) / Kg) V',  B = Y' + 2 (1 - Kb) U'
// with Kr, Kb = 0.299, 0.114 (BT.601) or 0.2126, 0.0722 (BT.709), Kg = 1 - Kr - Kb; then clamped to [0, 255] and
// rounded to the nearest integer (halves up): exactly the RGB8 frame an app would convert to. The image must pass
// check_camera_image. The rows are split into at most `threads` bands run on `pool` (each pixel is converted
// alone, so the result depends neither on the split nor on which other pixels are converted).
void camera_to_rgb(const CameraImage& image, const PixelRect& view, const std::vector<int64_t>& rows, const std::vector<int64_t>& columns,
                   float* rgb, pthreadpool_t pool = nullptr, int threads = 1);

// Bytes per pixel of an interleaved format, 0 for the YUV ones.
int64_t interleaved_bytes_per_pixel(PixelFormat format);

// The frames adarun takes: 1 to 16384 pixels a side, 40 million pixels in all (about 8K UHD; the float copy of the
// pixels the resize reads takes 12 bytes a pixel, all of a frame smaller than the model's input, so the limit bounds
// memory).
bool image_size_within_limits(int64_t width, int64_t height);
// The limits as words, for messages.
std::string image_size_limits();

}  // namespace adarun
