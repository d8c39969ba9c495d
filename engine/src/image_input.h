#pragma once
// Turns what a user points the CLI at into the model's input tensor (SPEC 1).
#include <cstdint>
#include <string>
#include <vector>

#include "engine/src/status.h"

namespace adarun {

// Interleaved 8-bit pixels (RGB or RGBA), any size and row stride -> normalised CHW [3, size, size]:
// bicubic resize like OpenCV's INTER_CUBIC, clamp to [0, 255], /255, ImageNet mean and std (camera_to_input with
// Framing::kStretch, engine/src/framing.h).
Status image_to_input(const uint8_t* pixels, int64_t width, int64_t height, int64_t channels, int64_t stride_bytes, int64_t size,
                      std::vector<float>* input);

// Encoded image bytes (PNG, JPEG, BMP, ... as stb_image reads them), greyscale or with alpha -> as image_to_input.
// The header is checked first: images over the size limit are refused before any pixel is decoded.
Status decode_image(const uint8_t* bytes, size_t count, int64_t size, std::vector<float>* input);

// The input as a picture: normalised CHW [3, size, size] -> RGB8 [size, size, 3] (the normalisation undone).
std::vector<uint8_t> input_picture(const float* input, int64_t size);

// A .jpg/.png (decoded with stb_image) or a .npy float32 [3, size, size] already normalised.
Status load_input_file(const std::string& path, int64_t size, std::vector<float>* input);

}  // namespace adarun
