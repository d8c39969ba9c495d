#include "engine/src/framing.h"

#include <algorithm>
#include <cmath>

#include "kernels/parallel.h"
#include "kernels/ref/resize.h"

namespace adarun {
namespace {

// round(numerator / denominator), halves up, for positive values.
int64_t rounded_ratio(int64_t numerator, int64_t denominator) { return (2 * numerator + denominator) / (2 * denominator); }

// One output coordinate's two taps into the model's outputs (absolute indices) and their weights.
struct Tap {
  int64_t i0, i1;
  float w0, w1;
};

// Output pixel `dst` of `out` across a frame side of `frame` pixels: its centre in frame pixels, then in the model
// rect's pixels (align_corners=False), clamped to the rect's outer pixel centres.
Tap frame_tap(int64_t dst, int64_t out, int64_t frame, int64_t view_start, int64_t view_size, int64_t model_start,
              int64_t model_size) {
  const double centre = (static_cast<double>(dst) + 0.5) * static_cast<double>(frame) / static_cast<double>(out);
  const double source = (centre - static_cast<double>(view_start)) * static_cast<double>(model_size) / static_cast<double>(view_size) - 0.5;
  const double clamped = std::clamp(source, 0.0, static_cast<double>(model_size - 1));
  const int64_t i0 = static_cast<int64_t>(clamped);
  const int64_t i1 = std::min(i0 + 1, model_size - 1);
  const float w1 = static_cast<float>(clamped - static_cast<double>(i0));
  return {model_start + i0, model_start + i1, 1.0f - w1, w1};
}

// The sampled view (buffers.view, at buffers.rows x buffers.columns) -> the normalised input: bicubic resize to the
// model rect, clamp to [0, 255], / 255, mean and std; 0 outside the model rect.
void resized_to_input(FrameBuffers& buffers, const FrameGeometry& geometry, std::vector<float>* input, pthreadpool_t pool,
                      int threads) {
  const PixelRect& model = geometry.model;
  const int64_t size = geometry.size;
  buffers.resized.resize(static_cast<size_t>(model.width * model.height * 3));
  float* resized = buffers.resized.data();
  parallel_ranges(pool, threads, model.height, [&](int64_t first_row, int64_t end_row) {
    ref::resize_bicubic_hwc_rows_sampled(buffers.view.data(), buffers.rows, buffers.columns, 3, model.height, model.width, first_row,
                                         end_row, resized);
  });
  input->assign(static_cast<size_t>(3 * size * size), 0.0f);
  for (int64_t y = 0; y < model.height; ++y) {
    for (int64_t x = 0; x < model.width; ++x) {
      const float* pixel = resized + (y * model.width + x) * 3;
      const int64_t p = (model.y + y) * size + model.x + x;
      for (int c = 0; c < 3; ++c) {
        const float value = std::clamp(pixel[c], 0.0f, 255.0f) / 255.0f;
        (*input)[c * size * size + p] = (value - kImageMean[c]) / kImageStd[c];
      }
    }
  }
}

}  // namespace

bool known_framing(Framing framing) {
  return framing == Framing::kStretch || framing == Framing::kCrop || framing == Framing::kLetterbox;
}

FrameGeometry frame_geometry(int64_t frame_width, int64_t frame_height, int64_t size, Framing framing) {
  FrameGeometry g;
  g.framing = framing;
  g.frame_width = frame_width, g.frame_height = frame_height, g.size = size;
  g.view = {0, 0, frame_width, frame_height};
  g.model = {0, 0, size, size};
  if (framing == Framing::kCrop) {
    const int64_t side = std::min(frame_width, frame_height);
    g.view = {(frame_width - side) / 2, (frame_height - side) / 2, side, side};
  } else if (framing == Framing::kLetterbox) {
    const int64_t long_side = std::max(frame_width, frame_height);
    const int64_t short_model = std::clamp(rounded_ratio(std::min(frame_width, frame_height) * size, long_side), int64_t{1}, size);
    const int64_t model_width = frame_width >= frame_height ? size : short_model;
    const int64_t model_height = frame_width >= frame_height ? short_model : size;
    g.model = {(size - model_width) / 2, (size - model_height) / 2, model_width, model_height};
  }
  return g;
}

Status camera_to_input(const CameraImage& image, Framing framing, int64_t size, FrameBuffers* buffers, std::vector<float>* input,
                       FrameGeometry* geometry, pthreadpool_t pool, int threads) {
  const Status status = check_camera_image(image);
  if (!status.is_ok()) return status;
  if (!known_framing(framing)) {
    return Status::error("framing " + std::to_string(static_cast<int32_t>(framing)) + " is not STRETCH (0), CROP (1) or LETTERBOX (2)");
  }
  const FrameGeometry g = frame_geometry(upright_width(image), upright_height(image), size, framing);
  // Only the view's pixels the resize reads are converted (at S = 224 from 1920 x 1080, 0.8 of its 2.1 megapixels).
  ref::bicubic_sources(g.view.height, g.model.height, &buffers->rows);
  ref::bicubic_sources(g.view.width, g.model.width, &buffers->columns);
  buffers->view.resize(buffers->rows.indices.size() * buffers->columns.indices.size() * 3);
  camera_to_rgb(image, g.view, buffers->rows.indices, buffers->columns.indices, buffers->view.data(), pool, threads);
  resized_to_input(*buffers, g, input, pool, threads);
  *geometry = g;
  return Status::ok();
}

void maps_on_frame(const float* maps, int64_t channels, const FrameGeometry& geometry, int64_t width, int64_t height, float* out) {
  const PixelRect& view = geometry.view;
  const PixelRect& model = geometry.model;
  std::vector<Tap> columns(static_cast<size_t>(width)), rows(static_cast<size_t>(height));
  for (int64_t x = 0; x < width; ++x) {
    columns[x] = frame_tap(x, width, geometry.frame_width, view.x, view.width, model.x, model.width);
  }
  for (int64_t y = 0; y < height; ++y) {
    rows[y] = frame_tap(y, height, geometry.frame_height, view.y, view.height, model.y, model.height);
  }
  // Per output row, the two model rows blended first (S values), then each output pixel from that line.
  const int64_t size = geometry.size;
  std::vector<float> blended(static_cast<size_t>(size));
  for (int64_t c = 0; c < channels; ++c) {
    const float* plane = maps + c * size * size;
    for (int64_t y = 0; y < height; ++y) {
      const Tap& row = rows[y];
      if (y == 0 || row.i0 != rows[y - 1].i0 || row.i1 != rows[y - 1].i1 || row.w1 != rows[y - 1].w1) {
        const float* top = plane + row.i0 * size;
        const float* bottom = plane + row.i1 * size;
        for (int64_t i = model.x; i < model.x + model.width; ++i) blended[i] = row.w0 * top[i] + row.w1 * bottom[i];
      }
      float* line = out + (c * height + y) * width;
      for (int64_t x = 0; x < width; ++x) line[x] = columns[x].w0 * blended[columns[x].i0] + columns[x].w1 * blended[columns[x].i1];
    }
  }
}

}  // namespace adarun
