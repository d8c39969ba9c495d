#include <doctest/doctest.h>
#include <stb_image_write.h>

#include <cstdint>
#include <vector>

#include "engine/src/image_input.h"

namespace {

constexpr int64_t kModelSize = 16;

std::vector<uint8_t> gradient(int width, int height, int channels) {
  std::vector<uint8_t> pixels(static_cast<size_t>(width * height * channels));
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>((i * 37) % 251);
  return pixels;
}

std::vector<uint8_t> encode_png(const std::vector<uint8_t>& pixels, int width, int height, int channels) {
  std::vector<uint8_t> png;
  auto append = [](void* context, void* data, int size) {
    auto* out = static_cast<std::vector<uint8_t>*>(context);
    out->insert(out->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
  };
  REQUIRE(stbi_write_png_to_func(append, &png, width, height, channels, pixels.data(), width * channels) != 0);
  return png;
}

// The raw-pixel path on the same pixels, grey expanded to RGB: the oracle for what decoding must give.
std::vector<float> raw_input(const std::vector<uint8_t>& pixels, int width, int height, int channels) {
  std::vector<uint8_t> rgb;
  for (int64_t p = 0; p < int64_t{width} * height; ++p) {
    for (int c = 0; c < 3; ++c) rgb.push_back(pixels[size_t(p * channels + (channels == 1 ? 0 : c))]);
  }
  std::vector<float> input;
  REQUIRE(adarun::image_to_input(rgb.data(), width, height, 3, int64_t{width} * 3, kModelSize, &input).is_ok());
  return input;
}

}  // namespace

TEST_CASE("decode_image: grey, RGB and RGBA PNGs of any shape give what the raw pixels give") {
  struct Image { int width, height, channels; };
  for (const Image& image : {Image{5, 3, 3}, Image{1, 40, 1}, Image{33, 2, 4}, Image{16, 16, 3}}) {
    const auto pixels = gradient(image.width, image.height, image.channels);
    const auto png = encode_png(pixels, image.width, image.height, image.channels);
    std::vector<float> decoded;
    CAPTURE(image.width);
    CAPTURE(image.channels);
    REQUIRE(adarun::decode_image(png.data(), png.size(), kModelSize, &decoded).is_ok());
    CHECK(decoded == raw_input(pixels, image.width, image.height, image.channels));
  }
}

TEST_CASE("decode_image: empty, truncated, foreign and oversized images are errors") {
  std::vector<float> input;
  CHECK(adarun::decode_image(nullptr, 0, kModelSize, &input).message() == "image is empty");
  const auto png = encode_png(gradient(8, 8, 3), 8, 8, 3);
  CHECK_FALSE(adarun::decode_image(png.data(), png.size() / 2, kModelSize, &input).is_ok());
  const std::vector<uint8_t> text = {'h', 'e', 'l', 'l', 'o'};
  CHECK(adarun::decode_image(text.data(), text.size(), kModelSize, &input).message().find("cannot decode image") == 0);
  // A PNG header that claims 100000 x 1 pixels: refused from the header, before decoding.
  auto huge = encode_png(gradient(4, 1, 3), 4, 1, 3);
  const uint8_t width[4] = {0x00, 0x01, 0x86, 0xA0};
  std::copy(width, width + 4, huge.begin() + 16);
  const adarun::Status status = adarun::decode_image(huge.data(), huge.size(), kModelSize, &input);
  CHECK(status.message().find("over the limit") != std::string::npos);
  // 15110 x 9986 (what the fuzzer found): each side within the limit, the pixel count over it.
  const uint8_t wide[8] = {0x00, 0x00, 0x3B, 0x06, 0x00, 0x00, 0x27, 0x02};
  std::copy(wide, wide + 8, huge.begin() + 16);
  CHECK(adarun::decode_image(huge.data(), huge.size(), kModelSize, &input).message().find("over the limit") != std::string::npos);
}

TEST_CASE("input_picture undoes the normalisation of an image at the model's size") {
  const auto pixels = gradient(int{kModelSize}, int{kModelSize}, 3);
  const std::vector<float> input = raw_input(pixels, int{kModelSize}, int{kModelSize}, 3);
  CHECK(adarun::input_picture(input.data(), kModelSize) == pixels);
}
