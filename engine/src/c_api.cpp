// The C API (engine/include/adarun/adarun.h) over the engine's classes: it checks every pointer,
// turns Status values and exceptions into adarun_status codes, and keeps each thread's last message.
#include "adarun/adarun.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "engine/src/camera_frame.h"
#include "engine/src/framing.h"
#include "engine/src/session.h"

using adarun::Status;
using adarun::StatusCode;

struct adarun_model {
  std::shared_ptr<const adarun::Model> model;
};

struct adarun_session {
  std::shared_ptr<const adarun::Model> model;  // sessions keep their model alive
  std::unique_ptr<adarun::Session> session;
  std::vector<float> input;  // the image path's normalised tensor, reused from frame to frame
  bool has_run = false;      // outputs and stats belong to a finished run with the current tasks
  adarun::Framing framing = adarun::Framing::kStretch;  // for the next image or camera frame
  adarun::FrameBuffers frame_buffers;                   // the image path's RGB and resized view, reused
  adarun::FrameGeometry geometry;                       // where the last run's input came from
};

#define ADARUN_TEXT(x) #x
#define ADARUN_VERSION_TEXT(major, minor, patch) ADARUN_TEXT(major) "." ADARUN_TEXT(minor) "." ADARUN_TEXT(patch)

namespace {

thread_local std::string last_error;

adarun_status to_c(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return ADARUN_OK;
    case StatusCode::kInvalidArgument: return ADARUN_INVALID_ARGUMENT;
    case StatusCode::kIoError: return ADARUN_IO_ERROR;
    case StatusCode::kBadModel: return ADARUN_BAD_MODEL;
    case StatusCode::kOutOfMemory: return ADARUN_OUT_OF_MEMORY;
    case StatusCode::kInternal: return ADARUN_INTERNAL;
  }
  return ADARUN_INTERNAL;
}

// Never throws: when even the message cannot be stored, the thread is left with an empty one.
adarun_status record(adarun_status status, const char* function, const char* message) noexcept {
  try {
    last_error = status == ADARUN_OK ? std::string() : std::string(function) + ": " + message;
  } catch (...) {
    last_error.clear();
  }
  return status;
}

// Runs one API call's body: no exception leaves it, whatever the body does.
template <typename Body>
adarun_status guarded(const char* function, Body&& body) noexcept {
  try {
    const Status status = body();
    return record(to_c(status.code()), function, status.message().c_str());
  } catch (const std::bad_alloc&) {
    return record(ADARUN_OUT_OF_MEMORY, function, "out of memory");
  } catch (const std::exception& e) {
    return record(ADARUN_INTERNAL, function, e.what());
  } catch (...) {
    return record(ADARUN_INTERNAL, function, "unknown exception");
  }
}

Status null_argument(const char* name) { return Status::error(std::string(name) + " is NULL"); }

Status check_task_index(const adarun::Model& model, int32_t index) {
  const size_t count = model.config().tasks.size();
  if (index < 0 || static_cast<size_t>(index) >= count) {
    return Status::error("task index " + std::to_string(index) + " is outside [0, " + std::to_string(count) + ")");
  }
  return Status::ok();
}

// source is the path or buffer `load` reads, checked here so that *model is NULL on every failure.
template <typename Load>
Status load_model(const void* source, const char* source_name, adarun_model** model, Load&& load) {
  if (!model) return null_argument("model");
  *model = nullptr;
  if (!source) return null_argument(source_name);
  std::unique_ptr<adarun::Model> loaded;
  const Status status = load(&loaded);
  if (!status.is_ok()) return status;
  *model = new adarun_model{std::shared_ptr<const adarun::Model>(std::move(loaded))};
  return Status::ok();
}

Status read_tasks(const char* const* names, int32_t count, std::vector<std::string>* tasks) {
  if (count < 0) return Status::error("task count " + std::to_string(count) + " is negative");
  if (count > 0 && !names) return null_argument("names");
  for (int32_t i = 0; i < count; ++i) {
    if (!names[i]) return Status::error("task name " + std::to_string(i) + " is NULL");
    tasks->emplace_back(names[i]);
  }
  return Status::ok();
}

int32_t bytes_per_pixel(adarun_pixel_format format) {
  switch (format) {
    case ADARUN_PIXEL_RGB8: return 3;
    case ADARUN_PIXEL_RGBA8: return 4;
    default: return 0;  // run_camera's formats
  }
}

Status run_tensor(adarun_session* session, const float* tensor, int64_t count) {
  session->has_run = false;
  const Status status = session->session->run(tensor, count);
  session->has_run = status.is_ok();
  return status;
}

// A frame through its framing into the session's input tensor, then run. Nothing is written when it is refused.
Status run_frame(adarun_session* session, const adarun::CameraImage& image) {
  const int64_t size = session->model->config().img_size;
  adarun::FrameGeometry geometry;
  const Status status = adarun::camera_to_input(image, session->framing, size, &session->frame_buffers, &session->input, &geometry,
                                                session->session->pool(), session->session->threads());
  if (!status.is_ok()) return status;
  session->geometry = geometry;
  return run_tensor(session, session->input.data(), static_cast<int64_t>(session->input.size()));
}

// The caller's adarun_image, image_size bytes of it (a later header's struct may be longer: the fields this library
// does not know must then be zero).
Status read_image(const adarun_image* image, size_t image_size, adarun::CameraImage* frame) {
  if (image_size < sizeof(adarun_image)) {
    return Status::error("image_size " + std::to_string(image_size) + " is smaller than adarun_image (" + std::to_string(sizeof(adarun_image)) +
                         " bytes)");
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(image);
  if (std::any_of(bytes + sizeof(adarun_image), bytes + image_size, [](unsigned char byte) { return byte != 0; })) {
    return Status::error("the image sets fields that this library (" ADARUN_VERSION_TEXT(ADARUN_VERSION_MAJOR, ADARUN_VERSION_MINOR,
                                                                                           ADARUN_VERSION_PATCH) ") does not know");
  }
  frame->format = static_cast<adarun::PixelFormat>(image->format);
  frame->width = image->width, frame->height = image->height;
  for (int p = 0; p < 3; ++p) frame->planes[p] = image->planes[p], frame->strides[p] = image->strides[p];
  frame->color = static_cast<adarun::ColorSpace>(image->color);
  frame->rotation = image->rotation;
  return Status::ok();
}

// The task's output exists: the last run succeeded with the current tasks and computed it.
Status check_output(const adarun_session* session, int32_t index) {
  const Status status = check_task_index(*session->model, index);
  if (!status.is_ok()) return status;
  const std::vector<int>& ran = session->session->task_indices();
  if (!session->has_run || std::find(ran.begin(), ran.end(), index) == ran.end()) {
    return Status::error("task '" + session->model->config().tasks[index].name + "' was not computed by the last run");
  }
  return Status::ok();
}

constexpr int32_t kMaxFrameSide = ADARUN_MAX_IMAGE_SIDE;

// Only a tensor of the model's size is scanned: a wrong count is refused by Session::run unread.
Status check_finite(const adarun::ModelConfig& config, const float* tensor, int64_t count) {
  if (count != config.in_chans * config.img_size * config.img_size) return Status::ok();
  for (int64_t i = 0; i < count; ++i) {
    if (!std::isfinite(tensor[i])) return Status::error("tensor value " + std::to_string(i) + " is NaN or infinite");
  }
  return Status::ok();
}

adarun_stats frame_stats(const adarun::Session& session) {
  const adarun::FrameStats& frame = session.stats();
  const adarun::ModelConfig& config = session.model().config();
  adarun_stats stats{frame.macs_executed, frame.macs_static, 0, 0, 0, 0, frame.milliseconds, session.arena_bytes(), frame.tokens_reused};
  for (size_t stage = 0; stage < frame.blocks.size(); ++stage) {
    for (size_t block = 0; block < frame.blocks[stage].size(); ++block) {
      stats.blocks_run += frame.blocks[stage][block];
      stats.blocks_total += 1;
      stats.tokens_kept += frame.tokens_kept[stage][block];
      stats.tokens_total += config.stages[stage].tokens;
    }
  }
  return stats;
}

}  // namespace

extern "C" {

uint32_t adarun_version(void) { return ADARUN_VERSION; }

const char* adarun_version_string(void) {
  return ADARUN_VERSION_TEXT(ADARUN_VERSION_MAJOR, ADARUN_VERSION_MINOR, ADARUN_VERSION_PATCH);
}

const char* adarun_last_error(void) { return last_error.c_str(); }

const char* adarun_status_name(adarun_status status) {
  switch (status) {
    case ADARUN_OK: return "ADARUN_OK";
    case ADARUN_INVALID_ARGUMENT: return "ADARUN_INVALID_ARGUMENT";
    case ADARUN_IO_ERROR: return "ADARUN_IO_ERROR";
    case ADARUN_BAD_MODEL: return "ADARUN_BAD_MODEL";
    case ADARUN_OUT_OF_MEMORY: return "ADARUN_OUT_OF_MEMORY";
    case ADARUN_INTERNAL: return "ADARUN_INTERNAL";
  }
  return "unknown status";
}

adarun_status adarun_model_load_file(const char* path, adarun_model** model) {
  return guarded(__func__, [&] {
    return load_model(path, "path", model, [&](std::unique_ptr<adarun::Model>* loaded) { return adarun::Model::load_file(path, loaded); });
  });
}

adarun_status adarun_model_load_memory(const void* data, size_t size, adarun_model** model) {
  return guarded(__func__, [&] {
    return load_model(data, "data", model,
                      [&](std::unique_ptr<adarun::Model>* loaded) { return adarun::Model::load_memory(data, size, loaded); });
  });
}

void adarun_model_free(adarun_model* model) { delete model; }

adarun_status adarun_model_image_size(const adarun_model* model, int32_t* size) {
  return guarded(__func__, [&] {
    if (!model) return null_argument("model");
    if (!size) return null_argument("size");
    *size = static_cast<int32_t>(model->model->config().img_size);
    return Status::ok();
  });
}

adarun_status adarun_model_task_count(const adarun_model* model, int32_t* count) {
  return guarded(__func__, [&] {
    if (!model) return null_argument("model");
    if (!count) return null_argument("count");
    *count = static_cast<int32_t>(model->model->config().tasks.size());
    return Status::ok();
  });
}

adarun_status adarun_model_task_name(const adarun_model* model, int32_t index, const char** name) {
  return guarded(__func__, [&] {
    if (!model) return null_argument("model");
    if (!name) return null_argument("name");
    const Status status = check_task_index(*model->model, index);
    if (status.is_ok()) *name = model->model->config().tasks[index].name.c_str();
    return status;
  });
}

adarun_status adarun_model_task_channels(const adarun_model* model, int32_t index, int32_t* channels) {
  return guarded(__func__, [&] {
    if (!model) return null_argument("model");
    if (!channels) return null_argument("channels");
    const Status status = check_task_index(*model->model, index);
    if (status.is_ok()) *channels = static_cast<int32_t>(model->model->config().tasks[index].outputs);
    return status;
  });
}

adarun_status adarun_model_task_index(const adarun_model* model, const char* name, int32_t* index) {
  return guarded(__func__, [&] {
    if (!model) return null_argument("model");
    if (!name) return null_argument("name");
    if (!index) return null_argument("index");
    const int found = model->model->config().task_index(name);
    if (found < 0) return Status::error(std::string("the model has no task '") + name + "'");
    *index = found;
    return Status::ok();
  });
}

adarun_status adarun_model_stage_count(const adarun_model* model, int32_t* count) {
  return guarded(__func__, [&] {
    if (!model) return null_argument("model");
    if (!count) return null_argument("count");
    *count = static_cast<int32_t>(model->model->config().stages.size());
    return Status::ok();
  });
}

adarun_status adarun_session_create(adarun_model* model, adarun_session** session) {
  return guarded(__func__, [&] {
    if (!session) return null_argument("session");
    *session = nullptr;
    if (!model) return null_argument("model");
    auto created = std::make_unique<adarun_session>();
    created->model = model->model;
    const Status status = adarun::Session::create(*created->model, &created->session);
    if (status.is_ok()) *session = created.release();
    return status;
  });
}

void adarun_session_free(adarun_session* session) { delete session; }

adarun_status adarun_session_set_threads(adarun_session* session, int32_t threads) {
  return guarded(__func__, [&] { return session ? session->session->set_threads(threads) : null_argument("session"); });
}

adarun_status adarun_session_set_tasks(adarun_session* session, const char* const* names, int32_t count) {
  return guarded(__func__, [&] {
    if (!session) return null_argument("session");
    std::vector<std::string> tasks;
    Status status = read_tasks(names, count, &tasks);
    if (!status.is_ok()) return status;
    status = session->session->set_tasks(tasks);
    if (status.is_ok()) session->has_run = false;  // set_tasks resets the stats
    return status;
  });
}

adarun_status adarun_session_set_gate_threshold(adarun_session* session, float threshold) {
  return guarded(__func__, [&] {
    if (!session) return null_argument("session");
    if (!std::isfinite(threshold)) return Status::error("gate threshold must be finite");
    session->session->set_gate_threshold(threshold);
    return Status::ok();
  });
}

adarun_status adarun_session_set_budget(adarun_session* session, float fraction) {
  return guarded(__func__, [&] { return session ? session->session->set_budget(fraction) : null_argument("session"); });
}

adarun_status adarun_session_set_streaming(adarun_session* session, int32_t on, const adarun_streaming* settings) {
  return guarded(__func__, [&] {
    if (!session) return null_argument("session");
    adarun::StreamSettings stream;
    if (settings) {
      stream.threshold = settings->threshold;
      stream.refresh_every = settings->refresh_every;
      stream.max_recompute = settings->max_recompute;
    }
    stream.noise = session->session->stream_noise();  // adarun_session_set_stream_noise's, kept
    const Status status = session->session->set_streaming(on != 0, stream);
    if (status.is_ok()) session->has_run = false;  // the plan may have changed: the last run's outputs are gone
    return status;
  });
}

adarun_status adarun_session_set_stream_noise(adarun_session* session, float noise) {
  return guarded(__func__, [&] {
    if (!session) return null_argument("session");
    return session->session->set_stream_noise(noise);
  });
}

adarun_status adarun_session_run_image(adarun_session* session, const uint8_t* pixels, int32_t width, int32_t height,
                                       int32_t stride_bytes, adarun_pixel_format format) {
  return guarded(__func__, [&] {
    if (!session) return null_argument("session");
    if (!pixels) return null_argument("pixels");
    const int32_t channels = bytes_per_pixel(format);
    if (channels == 0) {
      return Status::error("pixel format " + std::to_string(int(format)) + " is neither RGB8 nor RGBA8 (adarun_session_run_camera takes the others)");
    }
    session->has_run = false;
    adarun::CameraImage image;
    image.format = format == ADARUN_PIXEL_RGB8 ? adarun::PixelFormat::kRgb8 : adarun::PixelFormat::kRgba8;
    image.width = width, image.height = height;
    image.planes[0] = pixels;
    image.strides[0] = stride_bytes;
    return run_frame(session, image);
  });
}

adarun_status adarun_session_set_framing(adarun_session* session, adarun_framing framing) {
  return guarded(__func__, [&] {
    if (!session) return null_argument("session");
    const auto value = static_cast<adarun::Framing>(framing);
    if (!adarun::known_framing(value)) {
      return Status::error("framing " + std::to_string(int(framing)) + " is not STRETCH (0), CROP (1) or LETTERBOX (2)");
    }
    session->framing = value;
    return Status::ok();
  });
}

adarun_status adarun_session_run_camera(adarun_session* session, const adarun_image* image, size_t image_size) {
  return guarded(__func__, [&] {
    if (!session) return null_argument("session");
    if (!image) return null_argument("image");
    adarun::CameraImage frame;
    Status status = read_image(image, image_size, &frame);
    if (!status.is_ok()) return status;
    status = adarun::check_camera_image(frame);  // before has_run changes: a refused frame leaves the last run's outputs
    if (!status.is_ok()) return status;
    return run_frame(session, frame);
  });
}

adarun_status adarun_session_run_tensor(adarun_session* session, const float* tensor, int64_t count) {
  return guarded(__func__, [&] {
    if (!session) return null_argument("session");
    if (!tensor) return null_argument("tensor");
    session->has_run = false;
    const Status status = check_finite(session->model->config(), tensor, count);
    if (!status.is_ok()) return status;
    const int64_t size = session->model->config().img_size;
    session->geometry = adarun::frame_geometry(size, size, size, adarun::Framing::kStretch);  // the tensor is the frame
    return run_tensor(session, tensor, count);
  });
}

adarun_status adarun_session_output(const adarun_session* session, int32_t index, const float** data, int64_t shape[3]) {
  return guarded(__func__, [&] {
    if (!session) return null_argument("session");
    if (!data) return null_argument("data");
    if (!shape) return null_argument("shape");
    const adarun::ModelConfig& config = session->model->config();
    const Status status = check_output(session, index);
    if (!status.is_ok()) return status;
    *data = session->session->output(index);
    shape[0] = config.tasks[index].outputs;
    shape[1] = shape[2] = config.img_size;
    return Status::ok();
  });
}

adarun_status adarun_session_output_on_frame(const adarun_session* session, int32_t index, int32_t width, int32_t height, float* out,
                                             size_t out_count) {
  return guarded(__func__, [&] {
    if (!session) return null_argument("session");
    if (!out) return null_argument("out");
    const Status status = check_output(session, index);
    if (!status.is_ok()) return status;
    if (width < 1 || height < 1 || width > kMaxFrameSide || height > kMaxFrameSide) {
      return Status::error("frame size " + std::to_string(width) + "x" + std::to_string(height) + " is not within 1 to " +
                           std::to_string(kMaxFrameSide) + " pixels a side");
    }
    const int64_t channels = session->model->config().tasks[index].outputs;
    const uint64_t needed = static_cast<uint64_t>(channels) * static_cast<uint64_t>(width) * static_cast<uint64_t>(height);
    if (out_count < needed) {
      return Status::error("out_count " + std::to_string(out_count) + " is less than the " + std::to_string(needed) +
                           " floats of " + std::to_string(channels) + " channels x " + std::to_string(height) + " x " + std::to_string(width));
    }
    adarun::maps_on_frame(session->session->output(index), channels, session->geometry, width, height, out);
    return Status::ok();
  });
}

adarun_status adarun_session_frame_geometry(const adarun_session* session, adarun_frame_geometry* geometry, size_t geometry_size) {
  return guarded(__func__, [&] {
    if (!session) return null_argument("session");
    if (!geometry) return null_argument("geometry");
    if (!session->has_run) return Status::error("no run has finished since the session was created or its tasks set");
    const adarun::FrameGeometry& g = session->geometry;
    const auto i32 = [](int64_t value) { return static_cast<int32_t>(value); };
    const adarun_frame_geometry filled{static_cast<int32_t>(g.framing), i32(g.frame_width), i32(g.frame_height),
                                       i32(g.view.x), i32(g.view.y), i32(g.view.width), i32(g.view.height),
                                       i32(g.model.x), i32(g.model.y), i32(g.model.width), i32(g.model.height)};
    std::memcpy(geometry, &filled, std::min(geometry_size, sizeof filled));
    return Status::ok();
  });
}

adarun_status adarun_session_stats(const adarun_session* session, adarun_stats* stats, size_t stats_size) {
  return guarded(__func__, [&] {
    if (!session) return null_argument("session");
    if (!stats) return null_argument("stats");
    if (!session->has_run) return Status::error("no run has finished since the session was created or its tasks set");
    const adarun_stats filled = frame_stats(*session->session);
    std::memcpy(stats, &filled, std::min(stats_size, sizeof filled));
    return Status::ok();
  });
}

adarun_status adarun_session_set_profiling(adarun_session* session, int32_t on) {
  return guarded(__func__, [&] {
    if (!session) return null_argument("session");
    session->session->set_profiling(on != 0);
    return Status::ok();
  });
}

adarun_status adarun_session_op_count(const adarun_session* session, int32_t* count) {
  return guarded(__func__, [&] {
    if (!session) return null_argument("session");
    if (!count) return null_argument("count");
    *count = static_cast<int32_t>(session->session->plan().ops.size());
    return Status::ok();
  });
}

adarun_status adarun_session_op_info(const adarun_session* session, int32_t index, adarun_op_info* info, size_t info_size) {
  return guarded(__func__, [&] {
    if (!session) return null_argument("session");
    if (!info) return null_argument("info");
    const adarun::Plan& plan = session->session->plan();
    if (index < 0 || static_cast<size_t>(index) >= plan.ops.size()) {
      return Status::error("op " + std::to_string(index) + " is outside [0, " + std::to_string(plan.ops.size()) + ")");
    }
    const adarun::Op& op = plan.ops[index];
    adarun_op_info filled{op.name.c_str(), adarun::op_code_name(op.code), adarun::op_kind_name(op.kind), 0, 0, 0, 0, 0.0};
    filled.macs_static = op.code == adarun::OpCode::kBlockGate ? 0 : op.macs(op.rows);
    const adarun::OpProfile& profile = session->session->profile();
    if (static_cast<size_t>(index) < profile.ops.size()) {
      const adarun::OpKindTotals& totals = profile.ops[index];
      filled.runs = totals.calls, filled.rows = totals.rows, filled.macs = totals.macs;
      filled.milliseconds = totals.seconds * 1e3;
    }
    std::memcpy(info, &filled, std::min(info_size, sizeof filled));
    return Status::ok();
  });
}

adarun_status adarun_session_stage_gates(const adarun_session* session, int32_t stage, const uint8_t** block_gates,
                                         const int64_t** tokens_kept, int32_t* blocks) {
  return guarded(__func__, [&] {
    if (!session) return null_argument("session");
    if (!block_gates) return null_argument("block_gates");
    if (!tokens_kept) return null_argument("tokens_kept");
    if (!blocks) return null_argument("blocks");
    if (!session->has_run) return Status::error("no run has finished since the session was created or its tasks set");
    const adarun::FrameStats& frame = session->session->stats();
    if (stage < 0 || static_cast<size_t>(stage) >= frame.blocks.size()) {
      return Status::error("stage " + std::to_string(stage) + " is outside [0, " + std::to_string(frame.blocks.size()) + ")");
    }
    *block_gates = frame.blocks[stage].data();
    *tokens_kept = frame.tokens_kept[stage].data();
    *blocks = static_cast<int32_t>(frame.blocks[stage].size());
    return Status::ok();
  });
}

}  // extern "C"
