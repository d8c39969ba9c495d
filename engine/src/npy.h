#pragma once
// NumPy .npy files of float32 (little-endian, C order): the CLI's tensor input and output.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/src/status.h"

namespace adarun {

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

Status read_npy(const std::string& path, NpyArray* array);
// Serialises to bytes; the caller decides where they go.
std::string npy_bytes(const float* values, const std::vector<int64_t>& shape);

}  // namespace adarun
