#pragma once
// How a frame of any shape becomes the model's square S x S input (SPEC 1), and how the model's S x S outputs are
// laid back onto the frame: stretch (the whole frame squashed to S x S), centre crop to a square, or letterbox (the
// whole frame at its own aspect, padded to a square with the ImageNet mean colour, i.e. zeros once normalised).
#include <cstdint>
#include <vector>

#include "engine/src/camera_frame.h"
#include "engine/src/status.h"
#include "kernels/ref/resize.h"

namespace adarun {

// ImageNet normalisation: input = (pixel / 255 - mean) / std per channel.
inline constexpr float kImageMean[3] = {0.485f, 0.456f, 0.406f};
inline constexpr float kImageStd[3] = {0.229f, 0.224f, 0.225f};

// The values are the C API's (adarun_framing).
enum class Framing : int32_t { kStretch = 0, kCrop = 1, kLetterbox = 2 };

bool known_framing(Framing framing);

// Which part of the upright frame the model saw and where it lies in the model's size x size input and outputs:
//   stretch:   view = the whole frame,                         model = the whole S x S;
//   crop:      view = the centred min(w, h) square (whole pixels, the odd pixel to the right / bottom),
//              model = the whole S x S;
//   letterbox: view = the whole frame,  model = the centred rect of S x round(S * short / long) (at least 1),
//              the odd pixel to the right / bottom; the rest of the input is padding.
struct FrameGeometry {
  Framing framing = Framing::kStretch;
  int64_t frame_width = 0, frame_height = 0;
  int64_t size = 0;  // S
  PixelRect view;
  PixelRect model;
};

FrameGeometry frame_geometry(int64_t frame_width, int64_t frame_height, int64_t size, Framing framing);

// Buffers a frame's preprocessing reuses from frame to frame.
struct FrameBuffers {
  ref::BicubicSources rows, columns;  // the view's rows and columns the resize reads
  std::vector<float> view;            // the view's RGB at those rows and columns, interleaved
  std::vector<float> resized;         // the model rect's RGB
};

// A camera frame through check_camera_image, rotation and framing to the normalised input [3, size, size]: the
// view's pixels (camera_to_rgb) resized bicubically to the model rect (OpenCV's INTER_CUBIC, as in training),
// clamped to [0, 255], / 255, mean and std; every input value outside the model rect is 0 (the mean colour). With
// stretch this is the project's original preprocessing, bit for bit. Only the pixels the resize reads are
// converted (the same values as converting the whole view). The conversion and the resize split their rows into
// at most `threads` bands on `pool`. On failure nothing is written.
Status camera_to_input(const CameraImage& image, Framing framing, int64_t size, FrameBuffers* buffers, std::vector<float>* input,
                       FrameGeometry* geometry, pthreadpool_t pool = nullptr, int threads = 1);

// Maps [channels, S, S] (a task's logits) laid onto a width x height picture of the upright frame (the frame's own
// size or any other: the picture covers the whole frame). Each output pixel centre is taken back through the
// framing to the model's outputs and sampled bilinearly there, with align_corners=False: for stretch at the frame's
// own size this is F.interpolate(maps, (height, width), mode='bilinear', align_corners=False). Samples are clamped
// to the model rect's outer pixel centres, so the letterbox padding is never read and the parts of the frame the
// crop cut off take the nearest edge value. out: [channels, height, width].
void maps_on_frame(const float* maps, int64_t channels, const FrameGeometry& geometry, int64_t width, int64_t height, float* out);

}  // namespace adarun
