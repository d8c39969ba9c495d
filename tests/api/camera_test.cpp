// Camera frames and framing through the C API and the C++ wrapper: every format gives the outputs of the RGB8 frame
// it converts to, rotations the outputs of the turned frame, each framing's geometry and outputs laid back onto the
// frame, and every refusal (nothing written).
#include <doctest/doctest.h>

#include <adarun/adarun.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "tests/api/api_test_support.h"
#include "tests/api/loaded_session.h"

namespace {

using adarun_test::Loaded;

void check_failure(adarun_status status, const char* function, const std::string& says) {
  CAPTURE(function);
  CHECK(status == ADARUN_INVALID_ARGUMENT);
  const std::string message = adarun_last_error();
  CAPTURE(message);
  CHECK(message.rfind(std::string(function) + ": ", 0) == 0);
  CHECK(message.find(says) != std::string::npos);
}

double max_difference(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b, double* scale) {
  double worst = 0.0;
  *scale = 1.0;
  REQUIRE(a.size() == b.size());
  for (size_t t = 0; t < a.size(); ++t) {
    REQUIRE(a[t].size() == b[t].size());
    for (size_t i = 0; i < a[t].size(); ++i) {
      worst = std::max(worst, double(std::abs(a[t][i] - b[t][i])));
      *scale = std::max(*scale, double(std::abs(b[t][i])));
    }
  }
  return worst;
}

struct Matrix {
  double kr, kb;
  bool video;
};

Matrix matrix(adarun_color color) {
  const bool bt709 = color == ADARUN_COLOR_BT709_FULL || color == ADARUN_COLOR_BT709_VIDEO;
  return {bt709 ? 0.2126 : 0.299, bt709 ? 0.0722 : 0.114, color == ADARUN_COLOR_BT601_VIDEO || color == ADARUN_COLOR_BT709_VIDEO};
}

uint8_t byte(double value) { return static_cast<uint8_t>(std::floor(std::min(std::max(value, 0.0), 255.0) + 0.5)); }

// An RGB frame encoded as a camera would: Y per pixel, U and V averaged over each 2 x 2 block (ceil at odd sizes).
struct Yuv {
  int width, height;
  std::vector<uint8_t> y, u, v;
  int chroma_width() const { return (width + 1) / 2; }
};

Yuv encode(const std::vector<uint8_t>& rgb, int width, int height, adarun_color color) {
  const Matrix m = matrix(color);
  const double kg = 1 - m.kr - m.kb;
  Yuv yuv{width, height, std::vector<uint8_t>(size_t(width) * height), {}, {}};
  const int cw = (width + 1) / 2, ch = (height + 1) / 2;
  std::vector<double> cb_sum(size_t(cw) * ch), cr_sum(cb_sum.size()), count(cb_sum.size());
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const uint8_t* p = &rgb[(size_t(y) * width + x) * 3];
      const double luma = m.kr * p[0] + kg * p[1] + m.kb * p[2];
      const double cb = (p[2] - luma) / (2 * (1 - m.kb)), cr = (p[0] - luma) / (2 * (1 - m.kr));
      yuv.y[size_t(y) * width + x] = byte(m.video ? 16 + luma * 219 / 255 : luma);
      const size_t c = size_t(y / 2) * cw + x / 2;
      cb_sum[c] += m.video ? cb * 224 / 255 : cb;
      cr_sum[c] += m.video ? cr * 224 / 255 : cr;
      count[c] += 1;
    }
  }
  for (size_t c = 0; c < count.size(); ++c) {
    yuv.u.push_back(byte(128 + cb_sum[c] / count[c]));
    yuv.v.push_back(byte(128 + cr_sum[c] / count[c]));
  }
  return yuv;
}

// The RGB8 frame a YUV frame stands for: the standard's inverse per pixel in double, clamped, rounded.
std::vector<uint8_t> decode(const Yuv& yuv, adarun_color color) {
  const Matrix m = matrix(color);
  const double kg = 1 - m.kr - m.kb;
  std::vector<uint8_t> rgb;
  for (int y = 0; y < yuv.height; ++y) {
    for (int x = 0; x < yuv.width; ++x) {
      const size_t c = size_t(y / 2) * yuv.chroma_width() + x / 2;
      const double luma = m.video ? (yuv.y[size_t(y) * yuv.width + x] - 16) * 255.0 / 219 : yuv.y[size_t(y) * yuv.width + x];
      const double cb = (yuv.u[c] - 128.0) * (m.video ? 255.0 / 224 : 1.0), cr = (yuv.v[c] - 128.0) * (m.video ? 255.0 / 224 : 1.0);
      const double r = luma + 2 * (1 - m.kr) * cr, b = luma + 2 * (1 - m.kb) * cb;
      rgb.push_back(byte(r));
      rgb.push_back(byte((luma - m.kr * r - m.kb * b) / kg));
      rgb.push_back(byte(b));
    }
  }
  return rgb;
}

// The YUV planes in one layout, rows padded, with the adarun_image pointing into them.
struct Camera {
  std::vector<uint8_t> planes[3];
  adarun_image image{};
};

Camera lay_out(const Yuv& yuv, adarun_pixel_format format, adarun_color color, int rotation) {
  Camera camera;
  const int cw = yuv.chroma_width(), ch = (yuv.height + 1) / 2;
  const int y_stride = yuv.width + 5, uv_stride = 2 * cw + 3, u_stride = cw + 1, v_stride = cw + 9;
  camera.planes[0].assign(size_t(y_stride) * yuv.height, 0);
  for (int y = 0; y < yuv.height; ++y) std::copy_n(&yuv.y[size_t(y) * yuv.width], yuv.width, &camera.planes[0][size_t(y) * y_stride]);
  if (format == ADARUN_PIXEL_I420) {
    camera.planes[1].assign(size_t(u_stride) * ch, 0);
    camera.planes[2].assign(size_t(v_stride) * ch, 0);
    for (int y = 0; y < ch; ++y) {
      std::copy_n(&yuv.u[size_t(y) * cw], cw, &camera.planes[1][size_t(y) * u_stride]);
      std::copy_n(&yuv.v[size_t(y) * cw], cw, &camera.planes[2][size_t(y) * v_stride]);
    }
    camera.image = adarun::i420_image(camera.planes[0].data(), y_stride, camera.planes[1].data(), u_stride, camera.planes[2].data(),
                                      v_stride, yuv.width, yuv.height, color, rotation);
  } else {
    camera.planes[1].assign(size_t(uv_stride) * ch, 0);
    for (int y = 0; y < ch; ++y) {
      for (int x = 0; x < cw; ++x) {
        const bool nv12 = format == ADARUN_PIXEL_NV12;
        camera.planes[1][size_t(y) * uv_stride + 2 * x + (nv12 ? 0 : 1)] = yuv.u[size_t(y) * cw + x];
        camera.planes[1][size_t(y) * uv_stride + 2 * x + (nv12 ? 1 : 0)] = yuv.v[size_t(y) * cw + x];
      }
    }
    camera.image = adarun::semi_planar_image(format, camera.planes[0].data(), y_stride, camera.planes[1].data(), uv_stride, yuv.width,
                                             yuv.height, color, rotation);
  }
  return camera;
}

// torch's F.interpolate(mode='bilinear', align_corners=False) of one [h, w] plane, in double: the oracle for the
// outputs laid on the frame.
std::vector<double> bilinear(const float* plane, int h, int w, int stride, int oh, int ow) {
  auto taps = [](int dst, int in, int out, int* i0, int* i1, double* t) {
    const double src = std::max((dst + 0.5) * in / out - 0.5, 0.0);
    *i0 = std::min(int(src), in - 1);
    *i1 = std::min(*i0 + 1, in - 1);
    *t = std::min(src - *i0, 1.0);
  };
  std::vector<double> out(size_t(oh) * ow);
  for (int y = 0; y < oh; ++y) {
    int y0, y1, x0, x1;
    double ty, tx;
    taps(y, h, oh, &y0, &y1, &ty);
    for (int x = 0; x < ow; ++x) {
      taps(x, w, ow, &x0, &x1, &tx);
      const double top = plane[y0 * stride + x0] * (1 - tx) + plane[y0 * stride + x1] * tx;
      const double bottom = plane[y1 * stride + x0] * (1 - tx) + plane[y1 * stride + x1] * tx;
      out[size_t(y) * ow + x] = top * (1 - ty) + bottom * ty;
    }
  }
  return out;
}

// A 16:9 RGB8 frame: the support's colour pattern with a bright square right of the centre.
std::vector<uint8_t> scene(int width, int height) {
  std::vector<uint8_t> rgb = adarun_test::image(width, height, 3, width * 3);
  for (int y = height / 4; y < height / 2; ++y) {
    for (int x = width / 2; x < width / 2 + height / 4; ++x) std::fill_n(&rgb[(size_t(y) * width + x) * 3], 3, uint8_t{240});
  }
  return rgb;
}

// An RGB8 frame turned clockwise by quarter turns.
std::vector<uint8_t> turned(const std::vector<uint8_t>& rgb, int* width, int* height, int rotation) {
  std::vector<uint8_t> picture = rgb;
  for (int turn = 0; turn < rotation / 90; ++turn) {
    std::vector<uint8_t> next(picture.size());
    const int w = *width, h = *height;
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) std::copy_n(&picture[(size_t(y) * w + x) * 3], 3, &next[(size_t(x) * h + (h - 1 - y)) * 3]);
    }
    picture.swap(next);
    *width = h, *height = w;
  }
  return picture;
}

}  // namespace

TEST_CASE("camera frames: NV12, NV21 and I420 give the outputs of the RGB8 frame they stand for, in each color") {
  Loaded loaded;
  const int width = 161, height = 91;  // odd: the chroma planes are 81 x 46
  const std::vector<uint8_t> rgb = scene(width, height);
  for (adarun_color color : {ADARUN_COLOR_BT601_FULL, ADARUN_COLOR_BT601_VIDEO, ADARUN_COLOR_BT709_FULL, ADARUN_COLOR_BT709_VIDEO}) {
    CAPTURE(int(color));
    const Yuv yuv = encode(rgb, width, height, color);
    const std::vector<uint8_t> equivalent = decode(yuv, color);
    REQUIRE(adarun_session_run_image(loaded.session, equivalent.data(), width, height, width * 3, ADARUN_PIXEL_RGB8) == ADARUN_OK);
    const auto expected = loaded.outputs();
    for (adarun_pixel_format format : {ADARUN_PIXEL_NV12, ADARUN_PIXEL_NV21, ADARUN_PIXEL_I420}) {
      CAPTURE(int(format));
      const Camera camera = lay_out(yuv, format, color, 0);
      REQUIRE_MESSAGE(adarun_session_run_camera(loaded.session, &camera.image, sizeof camera.image) == ADARUN_OK, adarun_last_error());
      double scale = 1.0;
      const double difference = max_difference(loaded.outputs(), expected, &scale);
      // Equal but where the engine's float arithmetic rounds a pixel the other way at a tie (a 1/255 step).
      CHECK(difference <= 1e-4 * scale);
      if (difference != 0.0) MESSAGE("outputs differ by up to " << difference);
    }
  }
}

TEST_CASE("camera frames: RGBA8 and BGRA8 give RGB8's outputs exactly, and a rotated frame those of the turned frame") {
  Loaded loaded;
  const int width = 96, height = 54;
  const std::vector<uint8_t> rgb = scene(width, height);
  const int stride = width * 4 + 8;
  std::vector<uint8_t> rgba(size_t(stride) * height), bgra(rgba.size());
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const uint8_t* p = &rgb[(size_t(y) * width + x) * 3];
      uint8_t* a = &rgba[size_t(y) * stride + x * 4];
      uint8_t* b = &bgra[size_t(y) * stride + x * 4];
      a[0] = p[0], a[1] = p[1], a[2] = p[2], a[3] = uint8_t(x);
      b[0] = p[2], b[1] = p[1], b[2] = p[0], b[3] = uint8_t(y);
    }
  }
  for (adarun_framing framing : {ADARUN_FRAMING_STRETCH, ADARUN_FRAMING_CROP, ADARUN_FRAMING_LETTERBOX}) {
    CAPTURE(int(framing));
    REQUIRE(adarun_session_set_framing(loaded.session, framing) == ADARUN_OK);
    REQUIRE(adarun_session_run_image(loaded.session, rgb.data(), width, height, width * 3, ADARUN_PIXEL_RGB8) == ADARUN_OK);
    const auto expected = loaded.outputs();
    adarun_image image = adarun::interleaved_image(ADARUN_PIXEL_RGBA8, rgba.data(), width, height, stride);
    REQUIRE(adarun_session_run_camera(loaded.session, &image, sizeof image) == ADARUN_OK);
    CHECK(loaded.outputs() == expected);
    image = adarun::interleaved_image(ADARUN_PIXEL_BGRA8, bgra.data(), width, height, stride);
    REQUIRE(adarun_session_run_camera(loaded.session, &image, sizeof image) == ADARUN_OK);
    CHECK(loaded.outputs() == expected);
    image = adarun::interleaved_image(ADARUN_PIXEL_RGB8, rgb.data(), width, height, width * 3);
    REQUIRE(adarun_session_run_camera(loaded.session, &image, sizeof image) == ADARUN_OK);
    CHECK(loaded.outputs() == expected);
  }
  REQUIRE(adarun_session_set_framing(loaded.session, ADARUN_FRAMING_CROP) == ADARUN_OK);
  for (int rotation : {90, 180, 270}) {
    CAPTURE(rotation);
    int upright_w = width, upright_h = height;
    const std::vector<uint8_t> upright = turned(rgb, &upright_w, &upright_h, rotation);
    REQUIRE(adarun_session_run_image(loaded.session, upright.data(), upright_w, upright_h, upright_w * 3, ADARUN_PIXEL_RGB8) == ADARUN_OK);
    const auto expected = loaded.outputs();
    const adarun_image image = adarun::interleaved_image(ADARUN_PIXEL_BGRA8, bgra.data(), width, height, stride, rotation);
    REQUIRE(adarun_session_run_camera(loaded.session, &image, sizeof image) == ADARUN_OK);
    CHECK(loaded.outputs() == expected);
    adarun_frame_geometry geometry;
    REQUIRE(adarun_session_frame_geometry(loaded.session, &geometry, sizeof geometry) == ADARUN_OK);
    CHECK(geometry.frame_width == upright_w);
    CHECK(geometry.frame_height == upright_h);
  }
}

TEST_CASE("framing: each framing's geometry, and the outputs laid back onto the frame at its size and at another") {
  Loaded loaded;
  const int width = 192, height = 108;
  const std::vector<uint8_t> rgb = scene(width, height);
  const Yuv yuv = encode(rgb, width, height, ADARUN_COLOR_BT601_FULL);
  const Camera camera = lay_out(yuv, ADARUN_PIXEL_NV21, ADARUN_COLOR_BT601_FULL, 0);
  const int32_t sal = 2;  // one channel
  const int32_t normals = 3;
  struct Expected {
    adarun_framing framing;
    adarun_frame_geometry geometry;
  };
  const Expected cases[] = {
      {ADARUN_FRAMING_STRETCH, {ADARUN_FRAMING_STRETCH, 192, 108, 0, 0, 192, 108, 0, 0, 224, 224}},
      {ADARUN_FRAMING_CROP, {ADARUN_FRAMING_CROP, 192, 108, 42, 0, 108, 108, 0, 0, 224, 224}},
      {ADARUN_FRAMING_LETTERBOX, {ADARUN_FRAMING_LETTERBOX, 192, 108, 0, 0, 192, 108, 0, 49, 224, 126}},
  };
  for (const Expected& expected : cases) {
    CAPTURE(int(expected.framing));
    REQUIRE(adarun_session_set_framing(loaded.session, expected.framing) == ADARUN_OK);
    REQUIRE(adarun_session_run_camera(loaded.session, &camera.image, sizeof camera.image) == ADARUN_OK);
    adarun_frame_geometry g;
    REQUIRE(adarun_session_frame_geometry(loaded.session, &g, sizeof g) == ADARUN_OK);
    CHECK(std::memcmp(&g, &expected.geometry, sizeof g) == 0);

    for (int32_t task : {sal, normals}) {
      const float* logits = nullptr;
      int64_t shape[3];
      REQUIRE(adarun_session_output(loaded.session, task, &logits, shape) == ADARUN_OK);  // still S x S
      CHECK(shape[1] == 224);
      const int channels = int(shape[0]);
      for (const auto& [out_w, out_h] : {std::pair{width, height}, std::pair{64, 36}}) {
        CAPTURE(out_w);
        std::vector<float> on_frame(size_t(channels) * out_w * out_h + 1, -7.0f);  // one float more than needed
        REQUIRE(adarun_session_output_on_frame(loaded.session, task, out_w, out_h, on_frame.data(), on_frame.size()) == ADARUN_OK);
        CHECK(on_frame.back() == -7.0f);  // exactly channels * height * width written
        // The view's pixels in the picture; the model rect's logits resized onto them.
        const double sx = double(out_w) / width;
        const int view_x0 = int(std::lround(g.view_x * sx)), view_x1 = int(std::lround((g.view_x + g.view_width) * sx));
        for (int c = 0; c < channels; ++c) {
          const float* plane = logits + (size_t(c) * 224 + g.model_y) * 224 + g.model_x;
          const std::vector<double> view = bilinear(plane, g.model_height, g.model_width, 224, out_h, view_x1 - view_x0);
          // The sides the crop cut off: the model's edge columns, resized down the rows.
          const std::vector<double> left = bilinear(plane, g.model_height, 1, 224, out_h, 1);
          const std::vector<double> right = bilinear(plane + g.model_width - 1, g.model_height, 1, 224, out_h, 1);
          double worst = 0.0;
          for (int y = 0; y < out_h; ++y) {
            const float* row = &on_frame[(size_t(c) * out_h + y) * out_w];
            for (int x = view_x0; x < view_x1; ++x) worst = std::max(worst, std::abs(row[x] - view[size_t(y) * (view_x1 - view_x0) + x - view_x0]));
            for (int x = 0; x < view_x0; ++x) worst = std::max(worst, std::abs(row[x] - left[y]));
            for (int x = view_x1; x < out_w; ++x) worst = std::max(worst, std::abs(row[x] - right[y]));
          }
          CHECK(worst < 1e-4);
        }
      }
    }
  }
}

TEST_CASE("run_camera refuses bad frames with a message and writes nothing: the last run's outputs stay") {
  Loaded loaded;
  const int width = 33, height = 17;
  const Yuv yuv = encode(scene(width, height), width, height, ADARUN_COLOR_BT709_VIDEO);
  const Camera camera = lay_out(yuv, ADARUN_PIXEL_NV12, ADARUN_COLOR_BT709_VIDEO, 90);
  REQUIRE(adarun_session_set_framing(loaded.session, ADARUN_FRAMING_LETTERBOX) == ADARUN_OK);
  REQUIRE(adarun_session_run_camera(loaded.session, &camera.image, sizeof camera.image) == ADARUN_OK);
  const auto outputs = loaded.outputs();
  adarun_frame_geometry before;
  REQUIRE(adarun_session_frame_geometry(loaded.session, &before, sizeof before) == ADARUN_OK);
  CHECK(before.frame_width == 17);

  const char* run = "adarun_session_run_camera";
  auto refused = [&](const adarun_image& image, const std::string& says, size_t size = sizeof(adarun_image)) {
    check_failure(adarun_session_run_camera(loaded.session, &image, size), run, says);
    CHECK(loaded.outputs() == outputs);
    adarun_frame_geometry after;
    REQUIRE(adarun_session_frame_geometry(loaded.session, &after, sizeof after) == ADARUN_OK);
    CHECK(std::memcmp(&after, &before, sizeof after) == 0);
  };
  adarun_image image = camera.image;
  image.format = 0;
  refused(image, "pixel format 0 is not one of RGB8 (1)");
  image.format = 9;
  refused(image, "pixel format 9 is not one of");
  image = camera.image, image.color = 0;
  refused(image, "NV12 needs its color");
  image.color = 5;
  refused(image, "color 5 is not one of");
  image = camera.image, image.rotation = 360;
  refused(image, "rotation 360 is not 0, 90, 180 or 270");
  image = camera.image, image.planes[0] = nullptr;
  refused(image, "NV12 plane 0 (Y) is NULL");
  image = camera.image, image.planes[1] = nullptr;
  refused(image, "NV12 plane 1 (interleaved UV) is NULL");
  image = camera.image, image.strides[0] = 32;
  refused(image, "NV12 plane 0 (Y) has stride 32, shorter than its row of 33 bytes");
  image = camera.image, image.strides[1] = 33;  // 2 * ceil(33 / 2) = 34
  refused(image, "NV12 plane 1 (interleaved UV) has stride 33, shorter than its row of 34 bytes");
  image = camera.image, image.width = 0;
  refused(image, "image is 0x17");
  image = camera.image, image.height = -1;
  refused(image, "image is 33x-1");
  image = camera.image, image.format = ADARUN_PIXEL_I420;  // plane 2 not given
  refused(image, "I420 plane 2 (V) is NULL");
  refused(camera.image, "image_size 8 is smaller than adarun_image", 8);
  // A later header's longer struct: its extra fields must be zero.
  struct Longer {
    adarun_image image;
    int64_t extra;
  } longer;
  std::memset(&longer, 0, sizeof longer);
  longer.image = camera.image, longer.extra = 1;
  refused(longer.image, "sets fields that this library", sizeof longer);
  longer.extra = 0;
  CHECK(adarun_session_run_camera(loaded.session, &longer.image, sizeof longer) == ADARUN_OK);
  check_failure(adarun_session_run_camera(loaded.session, nullptr, sizeof image), run, "image is NULL");
  check_failure(adarun_session_run_camera(nullptr, &camera.image, sizeof image), run, "session is NULL");
  check_failure(adarun_session_set_framing(loaded.session, static_cast<adarun_framing>(3)), "adarun_session_set_framing",
                "framing 3 is not STRETCH (0), CROP (1) or LETTERBOX (2)");
  check_failure(adarun_session_set_framing(nullptr, ADARUN_FRAMING_CROP), "adarun_session_set_framing", "session is NULL");
  // run_image keeps to RGB8 and RGBA8.
  const std::vector<uint8_t> pixels(64 * 4);
  check_failure(adarun_session_run_image(loaded.session, pixels.data(), 8, 8, 32, ADARUN_PIXEL_BGRA8), "adarun_session_run_image",
                "adarun_session_run_camera takes the others");
}

TEST_CASE("output_on_frame and frame_geometry refuse bad arguments and write nothing") {
  Loaded loaded;
  const char* on_frame = "adarun_session_output_on_frame";
  const char* geometry = "adarun_session_frame_geometry";
  std::vector<float> out(3 * 10 * 10, -7.0f);
  adarun_frame_geometry g;
  std::memset(&g, 0xAB, sizeof g);
  const adarun_frame_geometry untouched = g;
  check_failure(adarun_session_output_on_frame(loaded.session, 3, 10, 10, out.data(), out.size()), on_frame, "was not computed");
  check_failure(adarun_session_frame_geometry(loaded.session, &g, sizeof g), geometry, "no run has finished");
  CHECK(std::memcmp(&g, &untouched, sizeof g) == 0);

  const char* subset[] = {"normals"};
  REQUIRE(adarun_session_set_tasks(loaded.session, subset, 1) == ADARUN_OK);
  const std::vector<float> input = adarun_test::tensor(loaded.size);
  REQUIRE(adarun_session_run_tensor(loaded.session, input.data(), int64_t(input.size())) == ADARUN_OK);
  check_failure(adarun_session_output_on_frame(loaded.session, 0, 10, 10, out.data(), out.size()), on_frame,
                "task 'semseg' was not computed");
  check_failure(adarun_session_output_on_frame(loaded.session, 4, 10, 10, out.data(), out.size()), on_frame, "task index 4");
  check_failure(adarun_session_output_on_frame(loaded.session, 3, 0, 10, out.data(), out.size()), on_frame,
                "frame size 0x10 is not within 1 to 16384");
  check_failure(adarun_session_output_on_frame(loaded.session, 3, 10, 16385, out.data(), out.size()), on_frame, "10x16385");
  check_failure(adarun_session_output_on_frame(loaded.session, 3, 10, 10, out.data(), out.size() - 1), on_frame,
                "out_count 299 is less than the 300 floats of 3 channels x 10 x 10");
  check_failure(adarun_session_output_on_frame(loaded.session, 3, 10, 10, nullptr, out.size()), on_frame, "out is NULL");
  check_failure(adarun_session_output_on_frame(nullptr, 3, 10, 10, out.data(), out.size()), on_frame, "session is NULL");
  CHECK(std::all_of(out.begin(), out.end(), [](float value) { return value == -7.0f; }));
  check_failure(adarun_session_frame_geometry(loaded.session, nullptr, sizeof g), geometry, "geometry is NULL");
  check_failure(adarun_session_frame_geometry(nullptr, &g, sizeof g), geometry, "session is NULL");

  // After a tensor run the frame is the S x S input itself.
  REQUIRE(adarun_session_frame_geometry(loaded.session, &g, sizeof g) == ADARUN_OK);
  const adarun_frame_geometry identity{ADARUN_FRAMING_STRETCH, 224, 224, 0, 0, 224, 224, 0, 0, 224, 224};
  CHECK(std::memcmp(&g, &identity, sizeof g) == 0);
  // A caller that knows fewer fields gets only those.
  std::memset(&g, 0xAB, sizeof g);
  REQUIRE(adarun_session_frame_geometry(loaded.session, &g, 3 * sizeof(int32_t)) == ADARUN_OK);
  CHECK(g.frame_height == 224);
  CHECK(g.view_x == untouched.view_x);
  // At S x S the outputs come back as they are.
  std::vector<float> same(size_t(3) * 224 * 224);
  REQUIRE(adarun_session_output_on_frame(loaded.session, 3, 224, 224, same.data(), same.size()) == ADARUN_OK);
  CHECK(same == loaded.outputs()[3]);
}

TEST_CASE("C++ wrapper: run_camera, set_framing, frame_geometry and output_on_frame") {
  const adarun::Model model = adarun::Model::load_file(adarun_test::model_path());
  adarun::Session session(model);
  session.set_tasks({"sal"});
  const int width = 64, height = 36;
  const Yuv yuv = encode(scene(width, height), width, height, ADARUN_COLOR_BT601_FULL);
  const Camera camera = lay_out(yuv, ADARUN_PIXEL_I420, ADARUN_COLOR_BT601_FULL, 270);
  session.set_framing(ADARUN_FRAMING_LETTERBOX);
  session.run_camera(camera.image);
  const adarun_frame_geometry g = session.frame_geometry();
  CHECK(g.framing == ADARUN_FRAMING_LETTERBOX);
  CHECK(g.frame_width == 36);
  CHECK(g.frame_height == 64);
  CHECK(g.model_x == 49);
  CHECK(g.model_width == 126);
  const std::vector<float> on_frame = session.output_on_frame(model.task_index("sal"), g.frame_width, g.frame_height);
  CHECK(on_frame.size() == size_t(36) * 64);
  std::vector<float> again(on_frame.size());
  session.output_on_frame(model.task_index("sal"), 36, 64, again.data(), again.size());
  CHECK(again == on_frame);
  CHECK_THROWS_AS(session.set_framing(static_cast<adarun_framing>(3)), adarun::Error);
  CHECK_THROWS_AS(session.output_on_frame(model.task_index("sal"), 0, 64), adarun::Error);
  CHECK_THROWS_AS(session.output_on_frame(model.task_index("sal"), 20000, 64), adarun::Error);
  CHECK_THROWS_AS(session.output_on_frame(model.task_index("semseg"), 36, 64), adarun::Error);
  adarun_image bad = camera.image;
  bad.strides[2] = 1;
  try {
    session.run_camera(bad);
    FAIL("no exception");
  } catch (const adarun::Error& error) {
    CHECK(error.status() == ADARUN_INVALID_ARGUMENT);
    CHECK(std::string(error.what()).find("I420 plane 2 (V) has stride 1") != std::string::npos);
  }
}
