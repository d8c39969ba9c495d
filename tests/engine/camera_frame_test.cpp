// Camera frames to upright RGB: every format against a per-pixel reference written here from the standards (double
// precision, coefficients derived from Kr and Kb), on odd sizes with padded strides, in every rotation; and every
// refusal.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/src/camera_frame.h"

namespace {

using adarun::CameraImage;
using adarun::ColorSpace;
using adarun::PixelFormat;

// A frame's three 8-bit planes before any layout: Y at full size, U and V at ceil(w/2) x ceil(h/2).
struct Yuv {
  int width, height;
  std::vector<uint8_t> y, u, v;
  int chroma_width() const { return (width + 1) / 2; }
  int chroma_height() const { return (height + 1) / 2; }
};

Yuv random_yuv(int width, int height, unsigned seed) {
  std::mt19937 generator(seed);
  Yuv yuv{width, height, {}, {}, {}};
  for (int i = 0; i < width * height; ++i) yuv.y.push_back(static_cast<uint8_t>(generator()));
  for (int i = 0; i < yuv.chroma_width() * yuv.chroma_height(); ++i) {
    yuv.u.push_back(static_cast<uint8_t>(generator()));
    yuv.v.push_back(static_cast<uint8_t>(generator()));
  }
  return yuv;
}

// The planes laid out as `format` wants them, each row padded by some bytes, kept alive with the image.
struct Laid {
  std::vector<std::vector<uint8_t>> planes;
  CameraImage image;
};

Laid lay_out(const Yuv& yuv, PixelFormat format, ColorSpace color, int rotation) {
  Laid laid;
  CameraImage& image = laid.image;
  image.format = format, image.width = yuv.width, image.height = yuv.height, image.color = color, image.rotation = rotation;
  const int cw = yuv.chroma_width(), ch = yuv.chroma_height();
  auto plane = [&](int row_bytes, int rows, int padding) {
    laid.planes.emplace_back(static_cast<size_t>((row_bytes + padding) * rows), uint8_t{0xEE});  // padding must not be read
    return row_bytes + padding;
  };
  image.strides[0] = plane(yuv.width, yuv.height, 3);
  for (int r = 0; r < yuv.height; ++r) {
    for (int x = 0; x < yuv.width; ++x) laid.planes[0][r * image.strides[0] + x] = yuv.y[r * yuv.width + x];
  }
  if (format == PixelFormat::kI420) {
    image.strides[1] = plane(cw, ch, 5);
    image.strides[2] = plane(cw, ch, 1);
    for (int r = 0; r < ch; ++r) {
      for (int x = 0; x < cw; ++x) {
        laid.planes[1][r * image.strides[1] + x] = yuv.u[r * cw + x];
        laid.planes[2][r * image.strides[2] + x] = yuv.v[r * cw + x];
      }
    }
  } else {
    image.strides[1] = plane(2 * cw, ch, 7);
    const bool nv12 = format == PixelFormat::kNv12;
    for (int r = 0; r < ch; ++r) {
      for (int x = 0; x < cw; ++x) {
        laid.planes[1][r * image.strides[1] + 2 * x + (nv12 ? 0 : 1)] = yuv.u[r * cw + x];
        laid.planes[1][r * image.strides[1] + 2 * x + (nv12 ? 1 : 0)] = yuv.v[r * cw + x];
      }
    }
  }
  for (size_t p = 0; p < laid.planes.size(); ++p) image.planes[p] = laid.planes[p].data();
  return laid;
}

// The standard: E'y = Kr R + Kg G + Kb B, Cb = (B - Y) / (2 (1 - Kb)), Cr = (R - Y) / (2 (1 - Kr)), solved for R, G,
// B; video range first maps Y from [16, 235] and chroma from [16, 240] to full range. Unrounded, unclamped.
void reference_rgb(ColorSpace color, int y, int u, int v, double rgb[3]) {
  const bool bt709 = color == ColorSpace::kBt709Full || color == ColorSpace::kBt709Video;
  const bool video = color == ColorSpace::kBt601Video || color == ColorSpace::kBt709Video;
  const double kr = bt709 ? 0.2126 : 0.299, kb = bt709 ? 0.0722 : 0.114, kg = 1 - kr - kb;
  const double luma = video ? (y - 16) * 255.0 / 219.0 : y;
  const double cb = video ? (u - 128) * 255.0 / 224.0 : u - 128.0;
  const double cr = video ? (v - 128) * 255.0 / 224.0 : v - 128.0;
  rgb[0] = luma + 2 * (1 - kr) * cr;
  rgb[2] = luma + 2 * (1 - kb) * cb;
  rgb[1] = (luma - kr * rgb[0] - kb * rgb[2]) / kg;  // from Y's definition, not from the engine's G coefficients
}

// A row-major H x W x 3 picture turned 90 degrees clockwise, one quarter turn at a time.
std::vector<double> turn_clockwise(const std::vector<double>& picture, int* width, int* height) {
  std::vector<double> turned(picture.size());
  const int w = *width, h = *height;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      // Row y becomes column h - 1 - y; column x becomes row x.
      for (int c = 0; c < 3; ++c) turned[(x * h + (h - 1 - y)) * 3 + c] = picture[(y * w + x) * 3 + c];
    }
  }
  *width = h, *height = w;
  return turned;
}

std::vector<double> reference_upright(const Yuv& yuv, ColorSpace color, int rotation, int* width, int* height) {
  std::vector<double> picture(static_cast<size_t>(yuv.width * yuv.height * 3));
  for (int y = 0; y < yuv.height; ++y) {
    for (int x = 0; x < yuv.width; ++x) {
      const int chroma = (y / 2) * yuv.chroma_width() + x / 2;
      reference_rgb(color, yuv.y[y * yuv.width + x], yuv.u[chroma], yuv.v[chroma], &picture[(y * yuv.width + x) * 3]);
    }
  }
  *width = yuv.width, *height = yuv.height;
  for (int turn = 0; turn < rotation / 90; ++turn) picture = turn_clockwise(picture, width, height);
  return picture;
}

// 0, 1, ..., count - 1.
std::vector<int64_t> every(int64_t count) {
  std::vector<int64_t> indices(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) indices[i] = i;
  return indices;
}

// The whole upright frame.
std::vector<float> convert(const CameraImage& image, pthreadpool_t pool = nullptr, int threads = 1) {
  const adarun::PixelRect whole{0, 0, adarun::upright_width(image), adarun::upright_height(image)};
  std::vector<float> rgb(static_cast<size_t>(whole.width * whole.height * 3), -1.0f);
  adarun::camera_to_rgb(image, whole, every(whole.height), every(whole.width), rgb.data(), pool, threads);
  return rgb;
}

std::string message(const CameraImage& image) { return adarun::check_camera_image(image).message(); }

}  // namespace

TEST_CASE("YUV frames: NV12, NV21 and I420 in each color and rotation, odd sizes, against the standard's formula") {
  const ColorSpace colors[] = {ColorSpace::kBt601Full, ColorSpace::kBt601Video, ColorSpace::kBt709Full, ColorSpace::kBt709Video};
  int checked = 0, ties = 0;
  for (const auto& [width, height] : {std::pair{37, 23}, std::pair{1, 1}, std::pair{2, 5}, std::pair{16, 9}}) {
    const Yuv yuv = random_yuv(width, height, static_cast<unsigned>(width * 100 + height));
    for (ColorSpace color : colors) {
      for (int rotation : {0, 90, 180, 270}) {
        int upright_w = 0, upright_h = 0;
        const std::vector<double> reference = reference_upright(yuv, color, rotation, &upright_w, &upright_h);
        std::vector<float> first;
        for (PixelFormat format : {PixelFormat::kNv12, PixelFormat::kNv21, PixelFormat::kI420}) {
          CAPTURE(width);
          CAPTURE(height);
          CAPTURE(static_cast<int>(color));
          CAPTURE(rotation);
          CAPTURE(static_cast<int>(format));
          const Laid laid = lay_out(yuv, format, color, rotation);
          REQUIRE(adarun::check_camera_image(laid.image).is_ok());
          CHECK(adarun::upright_width(laid.image) == upright_w);
          CHECK(adarun::upright_height(laid.image) == upright_h);
          const std::vector<float> rgb = convert(laid.image);
          for (size_t i = 0; i < rgb.size(); ++i) {
            const double exact = std::min(std::max(reference[i], 0.0), 255.0);
            const double rounded = std::floor(exact + 0.5);
            // Float arithmetic may round the other way only where the exact value is a hair from a half.
            const bool near_tie = std::abs(exact - std::floor(exact) - 0.5) < 1e-3;
            ties += near_tie && rgb[i] != rounded;
            if (rgb[i] != rounded && !(near_tie && std::abs(rgb[i] - rounded) == 1.0)) {
              CAPTURE(i);
              CAPTURE(exact);
              CHECK(rgb[i] == rounded);
            }
            ++checked;
          }
          if (first.empty()) {
            first = rgb;
          } else {
            CHECK(rgb == first);  // the three layouts of the same samples convert alike
          }
        }
      }
    }
  }
  MESSAGE(checked << " values checked, " << ties << " rounded the other way at a tie");
  CHECK(ties * 10000 < checked);
}

TEST_CASE("YUV: the matrices' corners (black, white, grey, saturated) and video range's out-of-range codes clamp") {
  auto pixel = [](int y, int u, int v, ColorSpace color) {
    const uint8_t yp = static_cast<uint8_t>(y), up = static_cast<uint8_t>(u), vp = static_cast<uint8_t>(v);
    CameraImage image;
    image.format = PixelFormat::kI420, image.width = 1, image.height = 1, image.color = color;
    image.planes[0] = &yp, image.planes[1] = &up, image.planes[2] = &vp;
    image.strides[0] = image.strides[1] = image.strides[2] = 1;
    const std::vector<float> rgb = convert(image);
    return std::vector<int>{int(rgb[0]), int(rgb[1]), int(rgb[2])};
  };
  CHECK(pixel(0, 128, 128, ColorSpace::kBt601Full) == std::vector<int>{0, 0, 0});
  CHECK(pixel(255, 128, 128, ColorSpace::kBt709Full) == std::vector<int>{255, 255, 255});
  CHECK(pixel(16, 128, 128, ColorSpace::kBt601Video) == std::vector<int>{0, 0, 0});
  CHECK(pixel(235, 128, 128, ColorSpace::kBt709Video) == std::vector<int>{255, 255, 255});
  CHECK(pixel(126, 128, 128, ColorSpace::kBt601Video) == std::vector<int>{128, 128, 128});  // (126 - 16) * 255 / 219 = 128.08
  CHECK(pixel(0, 128, 128, ColorSpace::kBt601Video) == std::vector<int>{0, 0, 0});          // below 16: clamped
  CHECK(pixel(255, 255, 255, ColorSpace::kBt601Full) == std::vector<int>{255, 121, 255});   // G = 255 - (0.344 + 0.714) * 127 = 120.6
  // Pure red in BT.601 full range: Y = 76.245, Cb = -43.0, Cr = 127.5 -> codes 76, 85, 255.
  CHECK(pixel(76, 85, 255, ColorSpace::kBt601Full) == std::vector<int>{254, 0, 0});
}

TEST_CASE("interleaved frames: RGB8, RGBA8 and BGRA8 copy their bytes, in every rotation, with padded strides") {
  const int width = 5, height = 3;
  std::vector<double> reference(width * height * 3);
  for (size_t i = 0; i < reference.size(); ++i) reference[i] = static_cast<double>((i * 37 + 11) % 256);
  for (int rotation : {0, 90, 180, 270}) {
    int upright_w = width, upright_h = height;
    std::vector<double> upright = reference;
    for (int turn = 0; turn < rotation / 90; ++turn) upright = turn_clockwise(upright, &upright_w, &upright_h);
    for (PixelFormat format : {PixelFormat::kRgb8, PixelFormat::kRgba8, PixelFormat::kBgra8}) {
      CAPTURE(rotation);
      CAPTURE(static_cast<int>(format));
      const int bytes = format == PixelFormat::kRgb8 ? 3 : 4, stride = width * bytes + 2;
      std::vector<uint8_t> pixels(static_cast<size_t>(stride * height), 0xEE);
      for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
          uint8_t* pixel = &pixels[y * stride + x * bytes];
          for (int c = 0; c < 3; ++c) pixel[format == PixelFormat::kBgra8 ? 2 - c : c] = static_cast<uint8_t>(reference[(y * width + x) * 3 + c]);
          if (bytes == 4) pixel[3] = static_cast<uint8_t>(x * 50);  // alpha: ignored
        }
      }
      CameraImage image;
      image.format = format, image.width = width, image.height = height, image.rotation = rotation;
      image.planes[0] = pixels.data(), image.strides[0] = stride;
      const std::vector<float> rgb = convert(image);
      CHECK(std::vector<double>(rgb.begin(), rgb.end()) == upright);
    }
  }
}

TEST_CASE("a rect of the upright frame is the same pixels as in the whole frame, in every rotation") {
  const Yuv yuv = random_yuv(19, 12, 7);
  for (int rotation : {0, 90, 180, 270}) {
    CAPTURE(rotation);
    const Laid laid = lay_out(yuv, PixelFormat::kNv21, ColorSpace::kBt601Full, rotation);
    const std::vector<float> whole = convert(laid.image);
    const int64_t upright_w = adarun::upright_width(laid.image);
    const adarun::PixelRect rect{3, 2, 7, 5};
    std::vector<float> part(static_cast<size_t>(rect.width * rect.height * 3));
    adarun::camera_to_rgb(laid.image, rect, every(rect.height), every(rect.width), part.data());
    for (int64_t y = 0; y < rect.height; ++y) {
      for (int64_t x = 0; x < rect.width * 3; ++x) {
        CHECK(part[y * rect.width * 3 + x] == whole[(rect.y + y) * upright_w * 3 + rect.x * 3 + x]);
      }
    }
  }
}

// The view's pixels at `rows` x `columns` (view coordinates) cut from a whole conversion of the upright frame.
std::vector<float> cut(const std::vector<float>& whole, int64_t upright_w, const adarun::PixelRect& view, const std::vector<int64_t>& rows,
                       const std::vector<int64_t>& columns) {
  std::vector<float> pixels;
  for (int64_t r : rows) {
    for (int64_t c : columns) {
      const float* pixel = &whole[((view.y + r) * upright_w + view.x + c) * 3];
      pixels.insert(pixels.end(), pixel, pixel + 3);
    }
  }
  return pixels;
}

TEST_CASE("some rows and columns of a view are those pixels of the whole frame, every format and rotation") {
  std::unique_ptr<pthreadpool, void (*)(pthreadpool_t)> pool(pthreadpool_create(3), pthreadpool_destroy);
  const Yuv yuv = random_yuv(23, 17, 13);
  const std::vector<int64_t> rows = {0, 1, 4, 5, 6, 10}, columns = {0, 2, 3, 7, 8, 11, 12};  // odd and even, pairs split
  std::vector<uint8_t> bgra(static_cast<size_t>(23 * 17 * 4));
  for (size_t i = 0; i < bgra.size(); ++i) bgra[i] = static_cast<uint8_t>(i * 31);
  for (int rotation : {0, 90, 180, 270}) {
    for (PixelFormat format : {PixelFormat::kNv12, PixelFormat::kNv21, PixelFormat::kI420, PixelFormat::kBgra8}) {
      CAPTURE(rotation);
      CAPTURE(static_cast<int>(format));
      Laid laid;
      if (format == PixelFormat::kBgra8) {
        laid.image.format = format, laid.image.width = 23, laid.image.height = 17, laid.image.rotation = rotation;
        laid.image.planes[0] = bgra.data(), laid.image.strides[0] = 23 * 4;
      } else {
        laid = lay_out(yuv, format, ColorSpace::kBt601Video, rotation);
      }
      const adarun::PixelRect view{3, 1, 13, 12};
      const std::vector<float> expected = cut(convert(laid.image), adarun::upright_width(laid.image), view, rows, columns);
      for (int threads : {1, 3}) {
        std::vector<float> sampled(expected.size(), -1.0f);
        adarun::camera_to_rgb(laid.image, view, rows, columns, sampled.data(), pool.get(), threads);
        CHECK(sampled == expected);
      }
    }
  }
}

TEST_CASE("a frame converted over 3 threads (bands of rows) is the frame converted on one, every format and rotation") {
  std::unique_ptr<pthreadpool, void (*)(pthreadpool_t)> pool(pthreadpool_create(3), pthreadpool_destroy);
  const Yuv yuv = random_yuv(37, 23, 11);
  for (int rotation : {0, 90, 180, 270}) {
    for (PixelFormat format : {PixelFormat::kNv12, PixelFormat::kNv21, PixelFormat::kI420}) {
      CAPTURE(rotation);
      CAPTURE(static_cast<int>(format));
      const Laid laid = lay_out(yuv, format, ColorSpace::kBt709Video, rotation);
      const std::vector<float> alone = convert(laid.image);
      CHECK(convert(laid.image, pool.get(), 3) == alone);
      CHECK(convert(laid.image, pool.get(), 2) == alone);
    }
  }
  std::vector<uint8_t> rgba(static_cast<size_t>(13 * 9 * 4));
  for (size_t i = 0; i < rgba.size(); ++i) rgba[i] = static_cast<uint8_t>(i * 29);
  CameraImage image;
  image.format = PixelFormat::kBgra8, image.width = 13, image.height = 9, image.planes[0] = rgba.data(), image.strides[0] = 13 * 4;
  for (int rotation : {0, 90, 180, 270}) {
    image.rotation = rotation;
    CHECK(convert(image, pool.get(), 3) == convert(image));
  }
}

TEST_CASE("refused frames: unknown enums, sizes, NULL planes and short strides, each with a message saying which") {
  const Yuv yuv = random_yuv(7, 5, 3);  // odd sizes: chroma 4 x 3, NV rows of 8 bytes
  Laid nv12 = lay_out(yuv, PixelFormat::kNv12, ColorSpace::kBt601Full, 0);
  Laid i420 = lay_out(yuv, PixelFormat::kI420, ColorSpace::kBt709Video, 270);
  CHECK(adarun::check_camera_image(nv12.image).is_ok());
  CHECK(adarun::check_camera_image(i420.image).is_ok());

  CameraImage image = nv12.image;
  image.format = static_cast<PixelFormat>(7);
  CHECK(message(image) == "pixel format 7 is not one of RGB8 (1), RGBA8 (2), BGRA8 (3), NV12 (4), NV21 (5), I420 (6)");
  image.format = static_cast<PixelFormat>(0);
  CHECK(message(image).find("pixel format 0 is not") == 0);
  image = nv12.image, image.color = ColorSpace::kUnset;
  CHECK(message(image) == "NV12 needs its color: BT601_FULL (1), BT601_VIDEO (2), BT709_FULL (3) or BT709_VIDEO (4), not 0");
  image.color = static_cast<ColorSpace>(5);
  CHECK(message(image) == "color 5 is not one of BT601_FULL (1), BT601_VIDEO (2), BT709_FULL (3), BT709_VIDEO (4)");
  image = nv12.image, image.rotation = 45;
  CHECK(message(image) == "rotation 45 is not 0, 90, 180 or 270 (degrees clockwise)");
  image.rotation = -90;
  CHECK(message(image).find("rotation -90 is not") == 0);
  image = nv12.image, image.width = 0;
  CHECK(message(image).find("image is 0x5: it must be between 1x1 and 16384 pixels a side") == 0);
  image = nv12.image, image.height = 16385;
  CHECK(message(image).find("image is 7x16385") == 0);

  image = nv12.image, image.planes[1] = nullptr;
  CHECK(message(image) == "NV12 plane 1 (interleaved UV) is NULL");
  image = nv12.image, image.strides[0] = 6;
  CHECK(message(image) == "NV12 plane 0 (Y) has stride 6, shorter than its row of 7 bytes");
  image = nv12.image, image.strides[1] = 7;  // 2 * ceil(7 / 2) = 8
  CHECK(message(image) == "NV12 plane 1 (interleaved UV) has stride 7, shorter than its row of 8 bytes");
  image = nv12.image, image.strides[1] = -8;
  CHECK(message(image).find("has stride -8, shorter") != std::string::npos);
  image = nv12.image, image.format = PixelFormat::kNv21, image.planes[1] = nullptr;
  CHECK(message(image) == "NV21 plane 1 (interleaved VU) is NULL");
  image = i420.image, image.planes[2] = nullptr;
  CHECK(message(image) == "I420 plane 2 (V) is NULL");
  image = i420.image, image.strides[1] = 3;
  CHECK(message(image) == "I420 plane 1 (U) has stride 3, shorter than its row of 4 bytes");

  // RGB formats: one plane; color may be 0 (ignored) but not unknown; planes 1 and 2 are not read.
  const std::vector<uint8_t> pixels(7 * 4 * 5);
  image = CameraImage();
  image.format = PixelFormat::kBgra8, image.width = 7, image.height = 5, image.planes[0] = pixels.data(), image.strides[0] = 28;
  CHECK(adarun::check_camera_image(image).is_ok());
  image.strides[0] = 27;
  CHECK(message(image) == "BGRA8 plane 0 (pixels) has stride 27, shorter than its row of 28 bytes");
  image.strides[0] = 28, image.planes[0] = nullptr;
  CHECK(message(image) == "BGRA8 plane 0 (pixels) is NULL");
  image.planes[0] = pixels.data(), image.color = static_cast<ColorSpace>(-1);
  CHECK(message(image).find("color -1 is not one of") == 0);
  image.color = ColorSpace::kBt709Full, image.format = PixelFormat::kRgb8, image.strides[0] = 21;
  CHECK(adarun::check_camera_image(image).is_ok());
}
