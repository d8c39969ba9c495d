// adarun C++ wrapper: RAII classes over the C API (adarun.h) and nothing else, header-only, so
// an app compiled with any C++17 compiler and standard library talks to libadarun.so through the
// stable C ABI. Every failure throws adarun::Error, which carries the C status and its message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "adarun/adarun.h"

namespace adarun {

class Error : public std::runtime_error {
 public:
  Error(adarun_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  adarun_status status() const noexcept { return status_; }

 private:
  adarun_status status_;
};

namespace detail {

inline void check(adarun_status status) {
  if (status != ADARUN_OK) throw Error(status, adarun_last_error());
}

struct ModelFree {
  void operator()(adarun_model* model) const noexcept { adarun_model_free(model); }
};
struct SessionFree {
  void operator()(adarun_session* session) const noexcept { adarun_session_free(session); }
};

}  // namespace detail

// One task's raw logits [channels, height, width], owned by the session, valid until its next run.
struct Output {
  const float* data = nullptr;
  int64_t channels = 0, height = 0, width = 0;
  int64_t size() const { return channels * height * width; }
};

// One stage's gates from a session's last run (adarun_session_stage_gates), valid until its next run.
struct StageGates {
  const uint8_t* block_gates = nullptr;  // 1: the block ran
  const int64_t* tokens_kept = nullptr;  // tokens through the block's MLP
  int blocks = 0;
};

// adarun_image for the usual layouts (Session::run_camera); rotation: degrees clockwise to make the frame upright.
inline adarun_image interleaved_image(adarun_pixel_format format, const uint8_t* pixels, int width, int height, int stride_bytes,
                                      int rotation = 0) {
  adarun_image image{};
  image.format = format;
  image.width = width, image.height = height, image.rotation = rotation;
  image.planes[0] = pixels, image.strides[0] = stride_bytes;
  return image;
}
// NV12 or NV21: a Y plane and an interleaved chroma plane.
inline adarun_image semi_planar_image(adarun_pixel_format format, const uint8_t* y, int y_stride, const uint8_t* chroma,
                                      int chroma_stride, int width, int height, adarun_color color, int rotation = 0) {
  adarun_image image = interleaved_image(format, y, width, height, y_stride, rotation);
  image.planes[1] = chroma, image.strides[1] = chroma_stride;
  image.color = color;
  return image;
}
inline adarun_image i420_image(const uint8_t* y, int y_stride, const uint8_t* u, int u_stride, const uint8_t* v, int v_stride,
                               int width, int height, adarun_color color, int rotation = 0) {
  adarun_image image = semi_planar_image(ADARUN_PIXEL_I420, y, y_stride, u, u_stride, width, height, color, rotation);
  image.planes[2] = v, image.strides[2] = v_stride;
  return image;
}

// A loaded model: read-only, shareable by sessions on any threads. Move-only.
class Model {
 public:
  static Model load_file(const std::string& path) {
    adarun_model* model = nullptr;
    detail::check(adarun_model_load_file(path.c_str(), &model));
    return Model(model);
  }
  // The bytes are copied: the buffer may be freed once this returns.
  static Model load_memory(const void* data, size_t size) {
    adarun_model* model = nullptr;
    detail::check(adarun_model_load_memory(data, size, &model));
    return Model(model);
  }

  int image_size() const { return query(adarun_model_image_size); }
  int task_count() const { return query(adarun_model_task_count); }
  int stage_count() const { return query(adarun_model_stage_count); }
  std::string task_name(int index) const {
    const char* name = nullptr;
    detail::check(adarun_model_task_name(handle_.get(), index, &name));
    return name;
  }
  int task_channels(int index) const {
    int32_t channels = 0;
    detail::check(adarun_model_task_channels(handle_.get(), index, &channels));
    return channels;
  }
  int task_index(const std::string& name) const {
    int32_t index = 0;
    detail::check(adarun_model_task_index(handle_.get(), name.c_str(), &index));
    return index;
  }
  std::vector<std::string> task_names() const {
    std::vector<std::string> names;
    for (int i = 0; i < task_count(); ++i) names.push_back(task_name(i));
    return names;
  }
  adarun_model* handle() const { return handle_.get(); }

 private:
  explicit Model(adarun_model* model) : handle_(model) {}
  int query(adarun_status (*get)(const adarun_model*, int32_t*)) const {
    int32_t value = 0;
    detail::check(get(handle_.get(), &value));
    return value;
  }
  std::unique_ptr<adarun_model, detail::ModelFree> handle_;
};

// Runs frames on a model, one thread at a time; the model may be destroyed first. Move-only.
class Session {
 public:
  explicit Session(const Model& model) {
    adarun_session* session = nullptr;
    detail::check(adarun_session_create(model.handle(), &session));
    handle_.reset(session);
  }

  void set_threads(int threads) { detail::check(adarun_session_set_threads(handle_.get(), threads)); }
  // Empty: all tasks.
  void set_tasks(const std::vector<std::string>& names) {
    std::vector<const char*> pointers;
    for (const std::string& name : names) pointers.push_back(name.c_str());
    detail::check(adarun_session_set_tasks(handle_.get(), pointers.data(), static_cast<int32_t>(pointers.size())));
  }
  void set_gate_threshold(float threshold) { detail::check(adarun_session_set_gate_threshold(handle_.get(), threshold)); }
  void set_budget(float fraction) { detail::check(adarun_session_set_budget(handle_.get(), fraction)); }
  // Streaming on with the defaults (threshold 0.05, refresh every 16 frames, no cap, no camera noise), or with `settings`; off.
  void set_streaming(bool on) { detail::check(adarun_session_set_streaming(handle_.get(), on ? 1 : 0, nullptr)); }
  void set_streaming(bool on, const adarun_streaming& settings) {
    detail::check(adarun_session_set_streaming(handle_.get(), on ? 1 : 0, &settings));
  }
  // The camera's noise for streaming, grey levels (adarun_session_set_stream_noise).
  void set_stream_noise(float noise) { detail::check(adarun_session_set_stream_noise(handle_.get(), noise)); }

  void run_image(const uint8_t* pixels, int width, int height, int stride_bytes, adarun_pixel_format format) {
    detail::check(adarun_session_run_image(handle_.get(), pixels, width, height, stride_bytes, format));
  }
  void run_tensor(const std::vector<float>& tensor) {
    detail::check(adarun_session_run_tensor(handle_.get(), tensor.data(), static_cast<int64_t>(tensor.size())));
  }
  // A camera frame in any adarun_pixel_format (interleaved_image, semi_planar_image, i420_image build one).
  void run_camera(const adarun_image& image) { detail::check(adarun_session_run_camera(handle_.get(), &image, sizeof image)); }
  // How the next run_image / run_camera frames become square (ADARUN_FRAMING_STRETCH until set).
  void set_framing(adarun_framing framing) { detail::check(adarun_session_set_framing(handle_.get(), framing)); }

  Output output(int task_index) const {
    Output output;
    int64_t shape[3] = {0, 0, 0};
    detail::check(adarun_session_output(handle_.get(), task_index, &output.data, shape));
    output.channels = shape[0];
    output.height = shape[1];
    output.width = shape[2];
    return output;
  }
  // A task's logits laid onto a width x height picture of the last frame, the framing undone: [channels, height, width].
  std::vector<float> output_on_frame(int task_index, int width, int height) const {
    const int64_t channels = output(task_index).channels;
    if (width < 1 || height < 1 || width > ADARUN_MAX_IMAGE_SIDE || height > ADARUN_MAX_IMAGE_SIDE) {
      float unused = 0.0f;
      output_on_frame(task_index, width, height, &unused, 0);  // throws the library's error for the size
    }
    std::vector<float> out(static_cast<size_t>(channels) * static_cast<size_t>(width) * static_cast<size_t>(height));
    output_on_frame(task_index, width, height, out.data(), out.size());
    return out;
  }
  // The same into the caller's buffer of out_count floats (at least channels * height * width).
  void output_on_frame(int task_index, int width, int height, float* out, size_t out_count) const {
    detail::check(adarun_session_output_on_frame(handle_.get(), task_index, width, height, out, out_count));
  }
  // Which part of the last frame the model saw, and where it lies in the model's input.
  adarun_frame_geometry frame_geometry() const {
    adarun_frame_geometry geometry{};
    detail::check(adarun_session_frame_geometry(handle_.get(), &geometry, sizeof geometry));
    return geometry;
  }
  adarun_stats stats() const {
    adarun_stats stats{};
    detail::check(adarun_session_stats(handle_.get(), &stats, sizeof stats));
    return stats;
  }
  // Profiling on: later runs add each op's time, rows and MACs to ops(); on again clears them.
  void set_profiling(bool on) { detail::check(adarun_session_set_profiling(handle_.get(), on ? 1 : 0)); }
  // The session's plan for its current tasks, op by op, with the profile's totals.
  std::vector<adarun_op_info> ops() const {
    int32_t count = 0;
    detail::check(adarun_session_op_count(handle_.get(), &count));
    std::vector<adarun_op_info> ops(static_cast<size_t>(count));
    for (int32_t i = 0; i < count; ++i) detail::check(adarun_session_op_info(handle_.get(), i, &ops[i], sizeof ops[i]));
    return ops;
  }
  StageGates stage_gates(int stage) const {
    StageGates gates;
    int32_t blocks = 0;
    detail::check(adarun_session_stage_gates(handle_.get(), stage, &gates.block_gates, &gates.tokens_kept, &blocks));
    gates.blocks = blocks;
    return gates;
  }
  adarun_session* handle() const { return handle_.get(); }

 private:
  std::unique_ptr<adarun_session, detail::SessionFree> handle_;
};

}  // namespace adarun
