#pragma once
// Task outputs drawn as pictures (SPEC 4).
#include <cstdint>
#include <string>
#include <vector>

namespace adarun {

// logits: [outputs, size, size] raw model output -> RGB8 [size, size, 3].
//   semseg, human_parts (and any other multi-class task): argmax, PASCAL palette
//   sal, edge (and any other 1-output task): sigmoid as grey
//   normals: unit-normalised, (n + 1) / 2 as RGB
//   depth: min-max normalised through a colour map
std::vector<uint8_t> task_picture(const std::string& task, const float* logits, int64_t outputs, int64_t size);

// RGB8 pictures of size x size side by side, left to right -> RGB8 [size, n * size, 3].
std::vector<uint8_t> side_by_side(const std::vector<std::vector<uint8_t>>& pictures, int64_t size);

// PNG file bytes of an RGB8 picture.
std::string png_bytes(const std::vector<uint8_t>& rgb, int64_t width, int64_t height);

}  // namespace adarun
