#include "engine/src/image_input.h"

#include <stb_image.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <fstream>
#include <iterator>
#include <memory>

#include "engine/src/npy.h"
#include "kernels/ref/resize.h"

namespace adarun {
namespace {

constexpr float kMean[3] = {0.485f, 0.456f, 0.406f};
constexpr float kStd[3] = {0.229f, 0.224f, 0.225f};
constexpr int64_t kMaxSide = 16384;
// About 8K UHD: the float copy the resize reads takes 12 bytes a pixel, so the limit bounds memory (~0.5 GB).
constexpr int64_t kMaxPixels = 40'000'000;

bool size_within_limits(int64_t width, int64_t height) {
  return width >= 1 && height >= 1 && width <= kMaxSide && height <= kMaxSide && width * height <= kMaxPixels;
}

std::string size_limits() {
  return "between 1x1 and " + std::to_string(kMaxSide) + " pixels a side, " + std::to_string(kMaxPixels) + " pixels in all";
}

bool ends_with(const std::string& text, const std::string& suffix) {
  if (text.size() < suffix.size()) return false;
  std::string tail = text.substr(text.size() - suffix.size());
  std::transform(tail.begin(), tail.end(), tail.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return tail == suffix;
}

Status load_npy_input(const std::string& path, int64_t size, std::vector<float>* input) {
  NpyArray array;
  Status status = read_npy(path, &array);
  if (!status.is_ok()) return status;
  if (array.shape != std::vector<int64_t>{3, size, size}) {
    std::string shape;
    for (int64_t dim : array.shape) shape += (shape.empty() ? "" : ", ") + std::to_string(dim);
    return Status::error(path + " has shape [" + shape + "], the model needs [3, " + std::to_string(size) + ", " + std::to_string(size) + "]");
  }
  for (float value : array.values) {
    if (!std::isfinite(value)) return Status::error(path + " contains NaN or Inf");
  }
  *input = std::move(array.values);
  return Status::ok();
}

std::string decode_failure() {
  const char* reason = stbi_failure_reason();
  return std::string("cannot decode image: ") + (reason ? reason : "unknown error");
}

}  // namespace

Status image_to_input(const uint8_t* pixels, int64_t width, int64_t height, int64_t channels, int64_t stride_bytes, int64_t size,
                      std::vector<float>* input) {
  if (!pixels || !size_within_limits(width, height)) return Status::error("image must be " + size_limits());
  if (channels != 3 && channels != 4) return Status::error("image must be RGB or RGBA");
  if (stride_bytes < width * channels) return Status::error("image row stride is shorter than a row");
  std::vector<float> rgb(static_cast<size_t>(width * height * 3));
  for (int64_t y = 0; y < height; ++y) {
    const uint8_t* row = pixels + y * stride_bytes;
    for (int64_t x = 0; x < width; ++x) {
      for (int c = 0; c < 3; ++c) rgb[(y * width + x) * 3 + c] = row[x * channels + c];
    }
  }
  std::vector<float> resized(static_cast<size_t>(size * size * 3));
  ref::resize_bicubic_hwc(rgb.data(), height, width, 3, size, size, resized.data());
  input->assign(static_cast<size_t>(3 * size * size), 0.0f);
  for (int64_t p = 0; p < size * size; ++p) {
    for (int c = 0; c < 3; ++c) {
      const float value = std::clamp(resized[p * 3 + c], 0.0f, 255.0f) / 255.0f;
      (*input)[c * size * size + p] = (value - kMean[c]) / kStd[c];
    }
  }
  return Status::ok();
}

std::vector<uint8_t> input_picture(const float* input, int64_t size) {
  const int64_t pixels = size * size;
  std::vector<uint8_t> rgb(static_cast<size_t>(pixels * 3));
  for (int64_t p = 0; p < pixels; ++p) {
    for (int c = 0; c < 3; ++c) {
      const float value = (input[c * pixels + p] * kStd[c] + kMean[c]) * 255.0f;
      rgb[static_cast<size_t>(p * 3 + c)] = static_cast<uint8_t>(std::lround(std::clamp(value, 0.0f, 255.0f)));
    }
  }
  return rgb;
}

Status decode_image(const uint8_t* bytes, size_t count, int64_t size, std::vector<float>* input) {
  if (!bytes || count == 0) return Status::error("image is empty");
  if (count > size_t{INT32_MAX}) return Status::error("image is over 2 GiB");
  const int length = static_cast<int>(count);
  int width = 0, height = 0, channels = 0;
  if (!stbi_info_from_memory(bytes, length, &width, &height, &channels)) return Status::error(decode_failure());
  if (!size_within_limits(width, height)) {
    return Status::error("image is " + std::to_string(width) + "x" + std::to_string(height) + ", over the limit: " + size_limits());
  }
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(stbi_load_from_memory(bytes, length, &width, &height, &channels, 3),
                                                   stbi_image_free);
  if (!pixels) return Status::error(decode_failure());
  return image_to_input(pixels.get(), width, height, 3, int64_t{width} * 3, size, input);
}

Status load_input_file(const std::string& path, int64_t size, std::vector<float>* input) {
  if (ends_with(path, ".npy")) return load_npy_input(path, size, input);
  std::ifstream file(path, std::ios::binary);
  if (!file) return Status::error("cannot open image " + path);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) return Status::error("cannot read image " + path);
  const Status status = decode_image(bytes.data(), bytes.size(), size, input);
  return status.is_ok() ? status : Status::error(path + ": " + status.message());
}

}  // namespace adarun
