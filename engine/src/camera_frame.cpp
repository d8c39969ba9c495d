#include "engine/src/camera_frame.h"

#include <algorithm>
#include <cmath>

#include "kernels/parallel.h"

namespace adarun {
namespace {

constexpr int64_t kMaxSide = 16384;
constexpr int64_t kMaxPixels = 40'000'000;

bool is_yuv(PixelFormat format) {
  return format == PixelFormat::kNv12 || format == PixelFormat::kNv21 || format == PixelFormat::kI420;
}

bool known_format(PixelFormat format) {
  switch (format) {
    case PixelFormat::kRgb8:
    case PixelFormat::kRgba8:
    case PixelFormat::kBgra8:
    case PixelFormat::kNv12:
    case PixelFormat::kNv21:
    case PixelFormat::kI420: return true;
  }
  return false;
}

bool known_color(ColorSpace color) {
  switch (color) {
    case ColorSpace::kUnset:
    case ColorSpace::kBt601Full:
    case ColorSpace::kBt601Video:
    case ColorSpace::kBt709Full:
    case ColorSpace::kBt709Video: return true;
  }
  return false;
}

const char* format_name(PixelFormat format) {
  switch (format) {
    case PixelFormat::kRgb8: return "RGB8";
    case PixelFormat::kRgba8: return "RGBA8";
    case PixelFormat::kBgra8: return "BGRA8";
    case PixelFormat::kNv12: return "NV12";
    case PixelFormat::kNv21: return "NV21";
    case PixelFormat::kI420: return "I420";
  }
  return "?";
}

// The planes a format reads, their names and the bytes of one of their rows.
struct PlaneUse {
  int count = 0;
  const char* names[3] = {nullptr, nullptr, nullptr};
  int64_t row_bytes[3] = {0, 0, 0};
};

PlaneUse plane_use(PixelFormat format, int64_t width) {
  const int64_t chroma_width = (width + 1) / 2;
  PlaneUse use;
  switch (format) {
    case PixelFormat::kRgb8:
    case PixelFormat::kRgba8:
    case PixelFormat::kBgra8:
      use.count = 1;
      use.names[0] = "pixels";
      use.row_bytes[0] = width * interleaved_bytes_per_pixel(format);
      break;
    case PixelFormat::kNv12:
    case PixelFormat::kNv21:
      use.count = 2;
      use.names[0] = "Y";
      use.names[1] = format == PixelFormat::kNv12 ? "interleaved UV" : "interleaved VU";
      use.row_bytes[0] = width;
      use.row_bytes[1] = 2 * chroma_width;
      break;
    case PixelFormat::kI420:
      use.count = 3;
      use.names[0] = "Y", use.names[1] = "U", use.names[2] = "V";
      use.row_bytes[0] = width;
      use.row_bytes[1] = use.row_bytes[2] = chroma_width;
      break;
  }
  return use;
}

// Y', and each chroma value's term in R, G and B, for every byte (README "Camera frames").
struct YuvTables {
  float luma[256];
  float red_v[256], green_u[256], green_v[256], blue_u[256];
};

YuvTables yuv_tables(ColorSpace color) {
  const bool bt709 = color == ColorSpace::kBt709Full || color == ColorSpace::kBt709Video;
  const bool video = color == ColorSpace::kBt601Video || color == ColorSpace::kBt709Video;
  const double kr = bt709 ? 0.2126 : 0.299, kb = bt709 ? 0.0722 : 0.114, kg = 1.0 - kr - kb;
  const double luma_scale = video ? 255.0 / 219.0 : 1.0, chroma_scale = video ? 255.0 / 224.0 : 1.0;
  const double luma_offset = video ? 16.0 : 0.0;
  YuvTables tables;
  for (int i = 0; i < 256; ++i) {
    const double chroma = (i - 128) * chroma_scale;
    tables.luma[i] = static_cast<float>((i - luma_offset) * luma_scale);
    tables.red_v[i] = static_cast<float>(2.0 * (1.0 - kr) * chroma);
    tables.green_u[i] = static_cast<float>(2.0 * kb * (1.0 - kb) / kg * chroma);
    tables.green_v[i] = static_cast<float>(2.0 * kr * (1.0 - kr) / kg * chroma);
    tables.blue_u[i] = static_cast<float>(2.0 * (1.0 - kb) * chroma);
  }
  return tables;
}

// Clamped to [0, 255], rounded to nearest with halves up (truncation is floor on non-negative values).
float to_byte_value(float value) { return static_cast<float>(static_cast<int>(std::min(std::max(value, 0.0f), 255.0f) + 0.5f)); }

// Where the upright rect's pixels come from in the stored frame, and where each stored pixel (xs, ys) goes in the
// rect's buffer: pixel index base + xs * dx + ys * dy.
struct RotatedRect {
  int64_t x0, x1, y0, y1;  // stored columns [x0, x1), rows [y0, y1)
  int64_t base, dx, dy;
};

RotatedRect rotated_rect(const CameraImage& image, const PixelRect& r) {
  const int64_t w = image.width, h = image.height;
  switch (image.rotation) {
    case 90:  // upright (h - 1 - ys, xs)
      return {r.y, r.y + r.height, h - r.x - r.width, h - r.x, -r.y * r.width + h - 1 - r.x, r.width, -1};
    case 180:  // upright (w - 1 - xs, h - 1 - ys)
      return {w - r.x - r.width, w - r.x, h - r.y - r.height, h - r.y, (h - 1 - r.y) * r.width + w - 1 - r.x, -1, -r.width};
    case 270:  // upright (ys, w - 1 - xs)
      return {w - r.y - r.height, w - r.y, r.x, r.x + r.width, (w - 1 - r.y) * r.width - r.x, -r.width, 1};
    default:
      return {r.x, r.x + r.width, r.y, r.y + r.height, -r.y * r.width - r.x, 1, r.width};
  }
}

void interleaved_rows(const CameraImage& image, const RotatedRect& rect, float* rgb) {
  const int64_t bytes = interleaved_bytes_per_pixel(image.format);
  const bool bgr = image.format == PixelFormat::kBgra8;
  for (int64_t ys = rect.y0; ys < rect.y1; ++ys) {
    const uint8_t* row = image.planes[0] + ys * image.strides[0];
    const int64_t row_base = rect.base + ys * rect.dy;
    for (int64_t xs = rect.x0; xs < rect.x1; ++xs) {
      const uint8_t* pixel = row + xs * bytes;
      float* out = rgb + 3 * (row_base + xs * rect.dx);
      out[0] = pixel[bgr ? 2 : 0];
      out[1] = pixel[1];
      out[2] = pixel[bgr ? 0 : 2];
    }
  }
}

void yuv_rows(const CameraImage& image, const RotatedRect& rect, float* rgb) {
  const YuvTables t = yuv_tables(image.color);
  // Chroma of column x: U at u_row[(x / 2) * step], V at v_row[(x / 2) * step].
  const int64_t step = image.format == PixelFormat::kI420 ? 1 : 2;
  for (int64_t ys = rect.y0; ys < rect.y1; ++ys) {
    const uint8_t* luma = image.planes[0] + ys * image.strides[0];
    const uint8_t *u_row = nullptr, *v_row = nullptr;
    if (image.format == PixelFormat::kI420) {
      u_row = image.planes[1] + (ys / 2) * image.strides[1];
      v_row = image.planes[2] + (ys / 2) * image.strides[2];
    } else {
      const uint8_t* chroma = image.planes[1] + (ys / 2) * image.strides[1];
      u_row = image.format == PixelFormat::kNv12 ? chroma : chroma + 1;
      v_row = image.format == PixelFormat::kNv12 ? chroma + 1 : chroma;
    }
    const int64_t row_base = rect.base + ys * rect.dy;
    // Two pixels a chroma sample: its terms once, then each pixel's luma.
    for (int64_t cx = rect.x0 / 2; 2 * cx < rect.x1; ++cx) {
      const uint8_t u = u_row[cx * step], v = v_row[cx * step];
      const float red = t.red_v[v], green = t.green_u[u] + t.green_v[v], blue = t.blue_u[u];
      for (int64_t xs = std::max(2 * cx, rect.x0); xs < std::min(2 * cx + 2, rect.x1); ++xs) {
        const float y = t.luma[luma[xs]];
        float* out = rgb + 3 * (row_base + xs * rect.dx);
        out[0] = to_byte_value(y + red);
        out[1] = to_byte_value(y - green);
        out[2] = to_byte_value(y + blue);
      }
    }
  }
}

}  // namespace

bool image_size_within_limits(int64_t width, int64_t height) {
  return width >= 1 && height >= 1 && width <= kMaxSide && height <= kMaxSide && width * height <= kMaxPixels;
}

std::string image_size_limits() {
  return "between 1x1 and " + std::to_string(kMaxSide) + " pixels a side, " + std::to_string(kMaxPixels) + " pixels in all";
}

int64_t interleaved_bytes_per_pixel(PixelFormat format) {
  switch (format) {
    case PixelFormat::kRgb8: return 3;
    case PixelFormat::kRgba8:
    case PixelFormat::kBgra8: return 4;
    default: return 0;
  }
}

Status check_camera_image(const CameraImage& image) {
  if (!known_format(image.format)) {
    return Status::error("pixel format " + std::to_string(static_cast<int32_t>(image.format)) +
                         " is not one of RGB8 (1), RGBA8 (2), BGRA8 (3), NV12 (4), NV21 (5), I420 (6)");
  }
  if (!image_size_within_limits(image.width, image.height)) {
    return Status::error("image is " + std::to_string(image.width) + "x" + std::to_string(image.height) + ": it must be " +
                         image_size_limits());
  }
  if (image.rotation != 0 && image.rotation != 90 && image.rotation != 180 && image.rotation != 270) {
    return Status::error("rotation " + std::to_string(image.rotation) + " is not 0, 90, 180 or 270 (degrees clockwise)");
  }
  if (!known_color(image.color)) {
    return Status::error("color " + std::to_string(static_cast<int32_t>(image.color)) +
                         " is not one of BT601_FULL (1), BT601_VIDEO (2), BT709_FULL (3), BT709_VIDEO (4)");
  }
  if (is_yuv(image.format) && image.color == ColorSpace::kUnset) {
    return Status::error(std::string(format_name(image.format)) +
                         " needs its color: BT601_FULL (1), BT601_VIDEO (2), BT709_FULL (3) or BT709_VIDEO (4), not 0");
  }
  const PlaneUse use = plane_use(image.format, image.width);
  for (int p = 0; p < use.count; ++p) {
    const std::string plane = std::string(format_name(image.format)) + " plane " + std::to_string(p) + " (" + use.names[p] + ")";
    if (!image.planes[p]) return Status::error(plane + " is NULL");
    if (image.strides[p] < use.row_bytes[p]) {
      return Status::error(plane + " has stride " + std::to_string(image.strides[p]) + ", shorter than its row of " +
                           std::to_string(use.row_bytes[p]) + " bytes");
    }
  }
  return Status::ok();
}

int64_t upright_width(const CameraImage& image) { return image.rotation % 180 == 0 ? image.width : image.height; }
int64_t upright_height(const CameraImage& image) { return image.rotation % 180 == 0 ? image.height : image.width; }

void camera_to_rgb(const CameraImage& image, const PixelRect& rect, float* rgb, pthreadpool_t pool, int threads) {
  parallel_ranges(pool, threads, rect.height, [&](int64_t first_row, int64_t end_row) {
    const PixelRect band{rect.x, rect.y + first_row, rect.width, end_row - first_row};
    const RotatedRect rotated = rotated_rect(image, band);
    float* out = rgb + first_row * rect.width * 3;
    if (is_yuv(image.format)) {
      yuv_rows(image, rotated, out);
    } else {
      interleaved_rows(image, rotated, out);
    }
  });
}

}  // namespace adarun
