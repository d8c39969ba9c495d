#pragma once
// What the C API tests share: the golden model they run, synthetic frames, and copies of outputs.
// They use libadarun.so's public headers only, as an app would.
#include <adarun/adarun.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace adarun_test {

// A small four-task AdaMTL model with per-task policies, made by the golden_data fixture.
inline std::string model_path() {
  const char* root = std::getenv("ADARUN_GOLDEN_DIR");
  return std::string(root ? root : "golden") + "/per_task_small/model.adarun";
}

// A smooth colour pattern with some noise: every pixel different, the same on every call.
inline std::vector<uint8_t> image(int width, int height, int channels, int stride_bytes) {
  std::vector<uint8_t> pixels(static_cast<size_t>(stride_bytes) * height, 0);
  std::mt19937 noise(11), alpha(12);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* pixel = &pixels[static_cast<size_t>(y) * stride_bytes + static_cast<size_t>(x) * channels];
      pixel[0] = static_cast<uint8_t>(255 * x / width);
      pixel[1] = static_cast<uint8_t>(255 * y / height);
      pixel[2] = static_cast<uint8_t>(noise() % 256);
      if (channels == 4) pixel[3] = static_cast<uint8_t>(alpha() % 256);  // must not matter
    }
  }
  return pixels;
}

// A normalised [3, size, size] frame.
inline std::vector<float> tensor(int32_t size, unsigned seed = 5) {
  std::mt19937 generator(seed);
  std::normal_distribution<float> normal;
  std::vector<float> values(static_cast<size_t>(3) * size * size);
  for (float& value : values) value = normal(generator);
  return values;
}

// Copies of every task's output the last run computed, in model task order (empty for the others).
inline std::vector<std::vector<float>> outputs(const adarun_session* session, int32_t task_count) {
  std::vector<std::vector<float>> copies(static_cast<size_t>(task_count));
  for (int32_t t = 0; t < task_count; ++t) {
    const float* data = nullptr;
    int64_t shape[3] = {0, 0, 0};
    if (adarun_session_output(session, t, &data, shape) == ADARUN_OK) copies[t].assign(data, data + shape[0] * shape[1] * shape[2]);
  }
  return copies;
}

}  // namespace adarun_test
