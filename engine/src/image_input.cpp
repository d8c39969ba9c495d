#include "engine/src/image_input.h"

#include <stb_image.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <fstream>
#include <iterator>
#include <memory>

#include "engine/src/camera_frame.h"
#include "engine/src/framing.h"
#include "engine/src/npy.h"

namespace adarun {
namespace {

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
  if (channels != 3 && channels != 4) return Status::error("image must be RGB or RGBA");
  CameraImage image;
  image.format = channels == 3 ? PixelFormat::kRgb8 : PixelFormat::kRgba8;
  image.width = width, image.height = height;
  image.planes[0] = pixels;
  image.strides[0] = stride_bytes;
  FrameBuffers buffers;
  FrameGeometry geometry;
  return camera_to_input(image, Framing::kStretch, size, &buffers, input, &geometry);
}

std::vector<uint8_t> input_picture(const float* input, int64_t size) {
  const int64_t pixels = size * size;
  std::vector<uint8_t> rgb(static_cast<size_t>(pixels * 3));
  for (int64_t p = 0; p < pixels; ++p) {
    for (int c = 0; c < 3; ++c) {
      const float value = (input[c * pixels + p] * kImageStd[c] + kImageMean[c]) * 255.0f;
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
  if (!image_size_within_limits(width, height)) {
    return Status::error("image is " + std::to_string(width) + "x" + std::to_string(height) + ", over the limit: " + image_size_limits());
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
