// Framing: the geometry of stretch, crop and letterbox; the input they make; and outputs laid back onto the frame,
// checked by sending a bright square through the framing and back and finding it where it was drawn.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "engine/src/camera_frame.h"
#include "engine/src/framing.h"
#include "engine/src/image_input.h"
#include "kernels/ref/resize.h"

namespace {

using adarun::Framing;
using adarun::FrameGeometry;
using adarun::PixelRect;

bool same(const PixelRect& a, const PixelRect& b) { return a.x == b.x && a.y == b.y && a.width == b.width && a.height == b.height; }

// An RGB8 frame: a dark background with a colour gradient, and a bright square at columns [x, x + side), rows
// [y, y + side) of the frame as stored.
struct Frame {
  int width, height;
  std::vector<uint8_t> rgb;
};

Frame frame_with_square(int width, int height, int x, int y, int side) {
  Frame frame{width, height, std::vector<uint8_t>(static_cast<size_t>(width * height * 3))};
  for (int r = 0; r < height; ++r) {
    for (int c = 0; c < width; ++c) {
      const bool inside = c >= x && c < x + side && r >= y && r < y + side;
      uint8_t* pixel = &frame.rgb[(r * width + c) * 3];
      pixel[0] = static_cast<uint8_t>(inside ? 235 : 20 + (c * 10) / width);
      pixel[1] = static_cast<uint8_t>(inside ? 220 : 30 + (r * 20) / height);
      pixel[2] = static_cast<uint8_t>(inside ? 210 : 40);
    }
  }
  return frame;
}

adarun::CameraImage rgb_image(const Frame& frame, int rotation) {
  adarun::CameraImage image;
  image.format = adarun::PixelFormat::kRgb8;
  image.width = frame.width, image.height = frame.height, image.rotation = rotation;
  image.planes[0] = frame.rgb.data(), image.strides[0] = frame.width * 3;
  return image;
}

// Where a stored rect is once the frame is turned clockwise `rotation` degrees, one quarter turn at a time.
PixelRect turned_rect(PixelRect rect, int width, int height, int rotation) {
  for (int turn = 0; turn < rotation / 90; ++turn) {
    rect = {height - rect.y - rect.height, rect.x, rect.height, rect.width};  // row y goes to column height - 1 - y
    std::swap(width, height);
  }
  return rect;
}

// The bounding box of the pixels of a [height, width] map above `threshold`.
PixelRect bright_box(const std::vector<float>& map, int64_t width, int64_t height, float threshold) {
  int64_t x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (int64_t y = 0; y < height; ++y) {
    for (int64_t x = 0; x < width; ++x) {
      if (map[y * width + x] > threshold) x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  }
  return {x0, y0, x1 - x0 + 1, y1 - y0 + 1};
}

std::vector<float> frame_input(const adarun::CameraImage& image, Framing framing, int64_t size, FrameGeometry* geometry) {
  adarun::FrameBuffers buffers;
  std::vector<float> input;
  REQUIRE(adarun::camera_to_input(image, framing, size, &buffers, &input, geometry).is_ok());
  return input;
}

}  // namespace

TEST_CASE("frame geometry: what each framing takes of 16:9, 9:16, square and extreme frames") {
  FrameGeometry g = adarun::frame_geometry(208, 117, 128, Framing::kStretch);
  CHECK(same(g.view, {0, 0, 208, 117}));
  CHECK(same(g.model, {0, 0, 128, 128}));
  g = adarun::frame_geometry(208, 117, 128, Framing::kCrop);
  CHECK(same(g.view, {45, 0, 117, 117}));  // 91 columns cut: 45 on the left, 46 on the right
  CHECK(same(g.model, {0, 0, 128, 128}));
  g = adarun::frame_geometry(208, 117, 128, Framing::kLetterbox);
  CHECK(same(g.view, {0, 0, 208, 117}));
  CHECK(same(g.model, {0, 28, 128, 72}));  // 117 * 128 / 208 = 72
  g = adarun::frame_geometry(1920, 1080, 224, Framing::kLetterbox);
  CHECK(same(g.model, {0, 49, 224, 126}));
  g = adarun::frame_geometry(1080, 1920, 224, Framing::kLetterbox);
  CHECK(same(g.model, {49, 0, 126, 224}));
  g = adarun::frame_geometry(1080, 1920, 224, Framing::kCrop);
  CHECK(same(g.view, {0, 420, 1080, 1080}));
  g = adarun::frame_geometry(16384, 1, 224, Framing::kLetterbox);
  CHECK(same(g.model, {0, 111, 224, 1}));  // never less than a row
  g = adarun::frame_geometry(101, 64, 224, Framing::kLetterbox);
  CHECK(same(g.model, {0, 41, 224, 142}));  // 64 * 224 / 101 = 141.94
  for (Framing framing : {Framing::kCrop, Framing::kLetterbox}) {
    g = adarun::frame_geometry(50, 50, 224, framing);
    CHECK(same(g.view, {0, 0, 50, 50}));
    CHECK(same(g.model, {0, 0, 224, 224}));
  }
}

TEST_CASE("framed input: crop is the resized centre square, letterbox the resized frame amid exact zeros") {
  const Frame frame = frame_with_square(83, 47, 50, 10, 9);
  const int64_t size = 40;
  std::vector<float> expected;

  FrameGeometry g;
  std::vector<float> input = frame_input(rgb_image(frame, 0), Framing::kStretch, size, &g);
  REQUIRE(adarun::image_to_input(frame.rgb.data(), frame.width, frame.height, 3, frame.width * 3, size, &expected).is_ok());
  CHECK(input == expected);

  // Crop: the image path on the centre 47 x 47 pixels, columns 18 to 64.
  input = frame_input(rgb_image(frame, 0), Framing::kCrop, size, &g);
  REQUIRE(adarun::image_to_input(frame.rgb.data() + 18 * 3, 47, 47, 3, frame.width * 3, size, &expected).is_ok());
  CHECK(input == expected);

  // Letterbox: the frame resized to 40 x 23 (47 * 40 / 83 = 22.65), rows 8 to 30; the rest 0.
  input = frame_input(rgb_image(frame, 0), Framing::kLetterbox, size, &g);
  REQUIRE(same(g.model, {0, 8, 40, 23}));
  const std::vector<float> pixels(frame.rgb.begin(), frame.rgb.end());
  std::vector<float> resized(40 * 23 * 3);
  adarun::ref::resize_bicubic_hwc(pixels.data(), 47, 83, 3, 23, 40, resized.data());
  int zeros = 0;
  for (int c = 0; c < 3; ++c) {
    for (int64_t y = 0; y < size; ++y) {
      for (int64_t x = 0; x < size; ++x) {
        const float value = input[(c * size + y) * size + x];
        if (y < 8 || y >= 31) {
          zeros += value == 0.0f;
        } else {
          const float pixel = std::clamp(resized[((y - 8) * 40 + x) * 3 + c], 0.0f, 255.0f) / 255.0f;
          CHECK(value == (pixel - adarun::kImageMean[c]) / adarun::kImageStd[c]);
        }
      }
    }
  }
  CHECK(zeros == 3 * 17 * 40);  // padding is the mean colour: exactly 0 once normalised
  // The same picture back as pixels: padding in the ImageNet mean colour.
  const std::vector<uint8_t> picture = adarun::input_picture(input.data(), size);
  CHECK(int(picture[0]) == 124);
  CHECK(int(picture[1]) == 116);
  CHECK(int(picture[2]) == 104);
}

TEST_CASE("outputs on the frame: a bright square sent through each framing and rotation and back is where it was drawn") {
  // A 16:9 frame as stored, the square off-centre so that every rotation and flip would put it elsewhere; the crop
  // keeps it in view in every rotation.
  const int width = 208, height = 117, side = 20;
  const PixelRect square{120, 20, side, side};
  const Frame frame = frame_with_square(width, height, int(square.x), int(square.y), side);
  const int64_t size = 128;
  double worst = 0.0;
  for (int rotation : {0, 90, 180, 270}) {
    for (Framing framing : {Framing::kStretch, Framing::kCrop, Framing::kLetterbox}) {
      CAPTURE(rotation);
      CAPTURE(static_cast<int>(framing));
      FrameGeometry g;
      const std::vector<float> input = frame_input(rgb_image(frame, rotation), framing, size, &g);
      const int64_t upright_w = rotation % 180 ? height : width, upright_h = rotation % 180 ? width : height;
      REQUIRE(g.frame_width == upright_w);
      REQUIRE(g.frame_height == upright_h);
      // A synthetic one-channel "logits" map: the input's red channel (square 1.9, background -1.8, padding 0).
      const std::vector<float> logits(input.begin(), input.begin() + size * size);
      const PixelRect in_model = bright_box(logits, size, size, 0.5f);
      CHECK(in_model.width > 0);
      std::vector<float> on_frame(static_cast<size_t>(upright_w * upright_h));
      adarun::maps_on_frame(logits.data(), 1, g, upright_w, upright_h, on_frame.data());
      const PixelRect found = bright_box(on_frame, upright_w, upright_h, 0.05f);
      const PixelRect drawn = turned_rect(square, width, height, rotation);
      CAPTURE(drawn.x);
      CAPTURE(drawn.y);
      CAPTURE(found.x);
      CAPTURE(found.y);
      CAPTURE(found.width);
      CAPTURE(found.height);
      const double errors[] = {double(found.x - drawn.x), double(found.y - drawn.y),
                               double(found.x + found.width - drawn.x - drawn.width),
                               double(found.y + found.height - drawn.y - drawn.height)};
      for (double error : errors) {
        CHECK(std::abs(error) <= 1.0);
        worst = std::max(worst, std::abs(error));
      }
    }
  }
  MESSAGE("worst edge error " << worst << " pixels");
}

TEST_CASE("outputs on the frame: stretch is torch's bilinear resize; crop's cut sides take the edge; letterbox padding is never read") {
  const int64_t size = 24, channels = 2;
  std::vector<float> maps(static_cast<size_t>(channels * size * size));
  for (size_t i = 0; i < maps.size(); ++i) maps[i] = std::sin(0.37f * static_cast<float>(i)) * 5.0f;

  for (const auto& [width, height] : {std::pair<int64_t, int64_t>{57, 31}, {24, 24}, {9, 70}}) {
    CAPTURE(width);
    const FrameGeometry g = adarun::frame_geometry(width, height, size, Framing::kStretch);
    std::vector<float> on_frame(static_cast<size_t>(channels * width * height)), expected(on_frame.size());
    adarun::maps_on_frame(maps.data(), channels, g, width, height, on_frame.data());
    adarun::ref::resize_bilinear(maps.data(), channels, size, size, height, width, expected.data());
    for (size_t i = 0; i < expected.size(); ++i) CHECK(on_frame[i] == doctest::Approx(expected[i]).epsilon(1e-5));
    // A picture of another size covers the same frame: the maps resized to that size.
    std::vector<float> small(static_cast<size_t>(channels * 13 * 11)), small_expected(small.size());
    adarun::maps_on_frame(maps.data(), channels, g, 13, 11, small.data());
    adarun::ref::resize_bilinear(maps.data(), channels, size, size, 11, 13, small_expected.data());
    for (size_t i = 0; i < small.size(); ++i) CHECK(small[i] == doctest::Approx(small_expected[i]).epsilon(1e-5));
  }

  // Crop of a 64 x 36 frame: columns [14, 50) seen; the cut columns repeat the nearest seen column's edge value.
  FrameGeometry g = adarun::frame_geometry(64, 36, size, Framing::kCrop);
  std::vector<float> on_frame(static_cast<size_t>(channels * 64 * 36));
  adarun::maps_on_frame(maps.data(), channels, g, 64, 36, on_frame.data());
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t y = 0; y < 36; ++y) {
      const float* row = &on_frame[(c * 36 + y) * 64];
      for (int64_t x = 0; x < 14; ++x) CHECK(row[x] == row[14]);  // inside [14, 14.75) the sample clamps to column 0 too
      for (int64_t x = 50; x < 64; ++x) CHECK(row[x] == row[49]);
      // The seen part is the maps resized to the 36 x 36 view.
      std::vector<float> plane(static_cast<size_t>(36 * 36));
      adarun::ref::resize_bilinear(maps.data() + c * size * size, 1, size, size, 36, 36, plane.data());
      for (int64_t x = 14; x < 50; ++x) CHECK(row[x] == doctest::Approx(plane[y * 36 + x - 14]).epsilon(1e-5));
    }
  }

  // Letterbox of a 64 x 36 frame: model rows [5, 19) (36 * 24 / 64 = 13.5 -> 14); NaN everywhere else stays unread.
  g = adarun::frame_geometry(64, 36, size, Framing::kLetterbox);
  REQUIRE(same(g.model, {0, 5, 24, 14}));
  std::vector<float> padded = maps;
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t y = 0; y < size; ++y) {
      if (y >= 5 && y < 19) continue;
      for (int64_t x = 0; x < size; ++x) padded[(c * size + y) * size + x] = std::numeric_limits<float>::quiet_NaN();
    }
  }
  adarun::maps_on_frame(padded.data(), channels, g, 64, 36, on_frame.data());
  for (float value : on_frame) REQUIRE(std::isfinite(value));
  // The content rows resized to the frame, as a bilinear resize of the 24 x 14 rect.
  std::vector<float> content(static_cast<size_t>(24 * 14)), plane(static_cast<size_t>(64 * 36));
  for (int64_t y = 0; y < 14; ++y) {
    for (int64_t x = 0; x < 24; ++x) content[y * 24 + x] = maps[(5 + y) * size + x];
  }
  adarun::ref::resize_bilinear(content.data(), 1, 14, 24, 36, 64, plane.data());
  for (size_t i = 0; i < plane.size(); ++i) CHECK(on_frame[i] == doctest::Approx(plane[i]).epsilon(1e-5));
}

TEST_CASE("camera_to_input refuses an unknown framing and a bad frame, writing nothing") {
  const Frame frame = frame_with_square(10, 6, 2, 2, 2);
  adarun::FrameBuffers buffers;
  std::vector<float> input = {7.0f};
  FrameGeometry g;
  g.frame_width = 99;
  adarun::Status status = adarun::camera_to_input(rgb_image(frame, 0), static_cast<Framing>(3), 16, &buffers, &input, &g);
  CHECK(status.message() == "framing 3 is not STRETCH (0), CROP (1) or LETTERBOX (2)");
  adarun::CameraImage bad = rgb_image(frame, 0);
  bad.strides[0] = 29;
  status = adarun::camera_to_input(bad, Framing::kCrop, 16, &buffers, &input, &g);
  CHECK(status.message() == "RGB8 plane 0 (pixels) has stride 29, shorter than its row of 30 bytes");
  CHECK(input == std::vector<float>{7.0f});
  CHECK(g.frame_width == 99);
}
