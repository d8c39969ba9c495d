#include "engine/src/pictures.h"

#include <stb_image_write.h>

#include <algorithm>
#include <cmath>

namespace adarun {
namespace {

uint8_t to_byte(float unit) { return static_cast<uint8_t>(std::lround(std::clamp(unit, 0.0f, 1.0f) * 255.0f)); }

// The PASCAL VOC colour map: class bits spread over the high bits of R, G, B.
void palette_colour(int64_t label, uint8_t* rgb) {
  rgb[0] = rgb[1] = rgb[2] = 0;
  for (int shift = 7; label > 0; --shift, label >>= 3) {
    for (int c = 0; c < 3; ++c) rgb[c] = static_cast<uint8_t>(rgb[c] | (((label >> c) & 1) << shift));
  }
}

void draw_argmax(const float* logits, int64_t outputs, int64_t pixels, uint8_t* rgb) {
  for (int64_t p = 0; p < pixels; ++p) {
    int64_t best = 0;
    for (int64_t c = 1; c < outputs; ++c) {
      if (logits[c * pixels + p] > logits[best * pixels + p]) best = c;
    }
    palette_colour(best, rgb + 3 * p);
  }
}

void draw_sigmoid(const float* logits, int64_t pixels, uint8_t* rgb) {
  for (int64_t p = 0; p < pixels; ++p) std::fill(rgb + 3 * p, rgb + 3 * p + 3, to_byte(1.0f / (1.0f + std::exp(-logits[p]))));
}

void draw_normals(const float* logits, int64_t pixels, uint8_t* rgb) {
  for (int64_t p = 0; p < pixels; ++p) {
    const float n[3] = {logits[p], logits[pixels + p], logits[2 * pixels + p]};
    const float length = std::max(std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]), 1e-12f);
    for (int c = 0; c < 3; ++c) rgb[3 * p + c] = to_byte((n[c] / length + 1.0f) / 2.0f);
  }
}

// A blue-cyan-green-yellow-red ramp.
void draw_depth(const float* logits, int64_t pixels, uint8_t* rgb) {
  const auto [low, high] = std::minmax_element(logits, logits + pixels);
  const float range = std::max(*high - *low, 1e-12f);
  static const float stops[5][3] = {{0, 0, 1}, {0, 1, 1}, {0, 1, 0}, {1, 1, 0}, {1, 0, 0}};
  for (int64_t p = 0; p < pixels; ++p) {
    const float t = (logits[p] - *low) / range * 4.0f;
    const int i = std::min(static_cast<int>(t), 3);
    const float f = t - static_cast<float>(i);
    for (int c = 0; c < 3; ++c) rgb[3 * p + c] = to_byte(stops[i][c] * (1 - f) + stops[i + 1][c] * f);
  }
}

}  // namespace

std::vector<uint8_t> task_picture(const std::string& task, const float* logits, int64_t outputs, int64_t size) {
  const int64_t pixels = size * size;
  std::vector<uint8_t> rgb(static_cast<size_t>(pixels * 3));
  if (task == "normals" && outputs == 3) {
    draw_normals(logits, pixels, rgb.data());
  } else if (task == "depth" && outputs == 1) {
    draw_depth(logits, pixels, rgb.data());
  } else if (outputs == 1) {
    draw_sigmoid(logits, pixels, rgb.data());
  } else {
    draw_argmax(logits, outputs, pixels, rgb.data());
  }
  return rgb;
}

std::vector<uint8_t> side_by_side(const std::vector<std::vector<uint8_t>>& pictures, int64_t size) {
  const size_t row = static_cast<size_t>(size * 3);
  std::vector<uint8_t> out(pictures.size() * row * static_cast<size_t>(size));
  for (size_t k = 0; k < pictures.size(); ++k) {
    for (int64_t y = 0; y < size; ++y) {
      std::copy_n(pictures[k].data() + y * row, row, out.data() + (static_cast<size_t>(y) * pictures.size() + k) * row);
    }
  }
  return out;
}

std::string png_bytes(const std::vector<uint8_t>& rgb, int64_t width, int64_t height) {
  std::string bytes;
  auto append = [](void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
  };
  stbi_write_png_to_func(append, &bytes, static_cast<int>(width), static_cast<int>(height), 3, rgb.data(), static_cast<int>(width * 3));
  return bytes;
}

}  // namespace adarun
