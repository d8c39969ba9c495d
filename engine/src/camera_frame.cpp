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

// Clamped to [0, 255], rounded to nearest with halves up (truncation is floor on non-negative values). Rounded in
// float, then clamped as an integer: the same as clamping first (a value below 0 rounds to at most 0, one
// above 255 to at least 255; |value| < 1000 here), and branch-free, so that loops over it vectorise.
float to_byte_value(float value) { return static_cast<float>(std::clamp(static_cast<int>(value + 0.5f), 0, 255)); }

void store_interleaved_pixel(const uint8_t* pixel, bool bgr, float* out) {
  out[0] = pixel[bgr ? 2 : 0];
  out[1] = pixel[1];
  out[2] = pixel[bgr ? 0 : 2];
}

// A pixel's bytes in its planes: luma (interleaved formats: the pixel's first byte) in plane 0, U and V in theirs
// (the V of NV12 / NV21 also in plane 1). Each offset is a stored row's part plus a stored column's part, and a
// rotation maps upright rows and columns onto stored rows and columns (or columns and rows), so a sampled view's
// pixel is its upright row's offsets plus its upright column's.
struct PixelOffsets {
  int64_t luma, u, v;
};

PixelOffsets stored_row_offsets(const CameraImage& image, int64_t ys) {
  if (!is_yuv(image.format)) return {ys * image.strides[0], 0, 0};
  const int64_t v_stride = image.format == PixelFormat::kI420 ? image.strides[2] : image.strides[1];
  return {ys * image.strides[0], (ys / 2) * image.strides[1], (ys / 2) * v_stride};
}

PixelOffsets stored_column_offsets(const CameraImage& image, int64_t xs) {
  if (!is_yuv(image.format)) return {xs * interleaved_bytes_per_pixel(image.format), 0, 0};
  const int64_t step = image.format == PixelFormat::kI420 ? 1 : 2;
  return {xs, (xs / 2) * step, (xs / 2) * step};
}

// A frame stored with rotation r stands upright turned r degrees clockwise: upright row yu is stored row yu (0),
// column yu (90), row h - 1 - yu (180) or column w - 1 - yu (270); upright column xu is stored column xu, row
// h - 1 - xu, column w - 1 - xu or row xu.
PixelOffsets upright_row_offsets(const CameraImage& image, int64_t yu) {
  switch (image.rotation) {
    case 90: return stored_column_offsets(image, yu);
    case 180: return stored_row_offsets(image, image.height - 1 - yu);
    case 270: return stored_column_offsets(image, image.width - 1 - yu);
    default: return stored_row_offsets(image, yu);
  }
}

PixelOffsets upright_column_offsets(const CameraImage& image, int64_t xu) {
  switch (image.rotation) {
    case 90: return stored_row_offsets(image, image.height - 1 - xu);
    case 180: return stored_column_offsets(image, image.width - 1 - xu);
    case 270: return stored_row_offsets(image, xu);
    default: return stored_column_offsets(image, xu);
  }
}

// Columns are taken in blocks whose offsets sit on the stack (the session's runs allocate nothing per frame).
constexpr int64_t kColumnBlock = 256;

struct YuvPlanes {
  const uint8_t *luma, *u, *v;
};

// `count` pixels of one upright row: their table values gathered first, then the arithmetic over plain arrays,
// which the compiler vectorises (a loop converting pixel by pixel keeps it scalar), then interleaved.
void yuv_block(const YuvTables& t, const YuvPlanes& planes, const PixelOffsets& row, const PixelOffsets* block, int64_t count, float* out) {
  float luma[kColumnBlock], red[kColumnBlock], green[kColumnBlock], blue[kColumnBlock];
  for (int64_t j = 0; j < count; ++j) {
    const uint8_t u = planes.u[row.u + block[j].u], v = planes.v[row.v + block[j].v];
    luma[j] = t.luma[planes.luma[row.luma + block[j].luma]];
    red[j] = t.red_v[v];
    green[j] = t.green_u[u] + t.green_v[v];
    blue[j] = t.blue_u[u];
  }
  for (int64_t j = 0; j < count; ++j) {  // in place, planar
    red[j] = to_byte_value(luma[j] + red[j]);
    green[j] = to_byte_value(luma[j] - green[j]);
    blue[j] = to_byte_value(luma[j] + blue[j]);
  }
  for (int64_t j = 0; j < count; ++j) {
    out[3 * j] = red[j];
    out[3 * j + 1] = green[j];
    out[3 * j + 2] = blue[j];
  }
}

// Upright pixels (view.x + columns[j], view.y + rows[i]) for i in [first_row, end_row), each converted alone.
void sampled_rows(const CameraImage& image, const PixelRect& view, const std::vector<int64_t>& rows, const std::vector<int64_t>& columns,
                  int64_t first_row, int64_t end_row, float* rgb) {
  const bool yuv = is_yuv(image.format);
  const YuvTables t = yuv ? yuv_tables(image.color) : YuvTables{};
  const bool bgr = image.format == PixelFormat::kBgra8;
  const uint8_t* luma = image.planes[0];
  const uint8_t* u = nullptr;
  const uint8_t* v = nullptr;
  if (yuv) {
    const bool nv21 = image.format == PixelFormat::kNv21;
    u = image.format == PixelFormat::kI420 ? image.planes[1] : image.planes[1] + (nv21 ? 1 : 0);
    v = image.format == PixelFormat::kI420 ? image.planes[2] : image.planes[1] + (nv21 ? 0 : 1);
  }
  const int64_t width = static_cast<int64_t>(columns.size());
  PixelOffsets block[kColumnBlock];
  for (int64_t j0 = 0; j0 < width; j0 += kColumnBlock) {
    const int64_t count = std::min(kColumnBlock, width - j0);
    for (int64_t j = 0; j < count; ++j) block[j] = upright_column_offsets(image, view.x + columns[j0 + j]);
    for (int64_t i = first_row; i < end_row; ++i) {
      const PixelOffsets row = upright_row_offsets(image, view.y + rows[i]);
      float* out = rgb + (i * width + j0) * 3;
      if (yuv) {  // the format's test outside the pixel loops
        yuv_block(t, YuvPlanes{luma, u, v}, row, block, count, out);
      } else {
        for (int64_t j = 0; j < count; ++j, out += 3) store_interleaved_pixel(luma + row.luma + block[j].luma, bgr, out);
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

void camera_to_rgb(const CameraImage& image, const PixelRect& view, const std::vector<int64_t>& rows,
                           const std::vector<int64_t>& columns, float* rgb, pthreadpool_t pool, int threads) {
  parallel_ranges(pool, threads, static_cast<int64_t>(rows.size()),
                  [&](int64_t first_row, int64_t end_row) { sampled_rows(image, view, rows, columns, first_row, end_row, rgb); });
}

}  // namespace adarun
