#pragma once
#include <cstdint>

namespace adarun::ref {

// CHW planar. Nearest as torch's 'nearest': src = min(floor(dst * (float)in / out), in - 1).
void resize_nearest(const float* x, int64_t channels, int64_t h, int64_t w, int64_t oh, int64_t ow, float* y);

// CHW planar. Bilinear as torch's F.interpolate(size, mode='bilinear', align_corners=False).
void resize_bilinear(const float* x, int64_t channels, int64_t h, int64_t w, int64_t oh, int64_t ow, float* y);

// Interleaved HWC. Bicubic as OpenCV's cv2.resize INTER_CUBIC on float data: A = -0.75,
// half-pixel centres, four taps, replicated border, no antialiasing.
void resize_bicubic_hwc(const float* x, int64_t h, int64_t w, int64_t c, int64_t oh, int64_t ow, float* y);

}  // namespace adarun::ref
