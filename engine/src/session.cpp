#include "engine/src/session.h"

#include <chrono>
#include <cmath>

#include "engine/src/build_plan.h"
#include "engine/src/memory_plan.h"

namespace adarun {
namespace {

bool valid_stream_noise(float noise) { return noise >= 0.0f && noise <= 255.0f; }  // NaN fails

std::string stream_noise_error(float noise) {
  return "streaming noise must be in [0, 255] grey levels, got " + std::to_string(noise);
}

}  // namespace

Session::Session(const Model& model) : model_(model), scheduler_(model.config()) { compute_.isa = model.isa(); }

Status Session::set_budget(float fraction) {
  if (!(fraction >= 0.0f && fraction <= 1.0f)) return Status::error("budget must be in (0, 1], or 0 for none");
  gates_.budget = fraction;
  return Status::ok();
}

Status Session::set_threads(int threads) {
  if (threads < 1 || threads > 1024) return Status::error("threads must be between 1 and 1024, got " + std::to_string(threads));
  if (threads == threads_) return Status::ok();
  // The new pool first: when it cannot start, the session keeps the threads it had.
  decltype(pool_) pool(threads > 1 ? pthreadpool_create(static_cast<size_t>(threads)) : nullptr, pthreadpool_destroy);
  if (threads > 1 && !pool) return Status::error(StatusCode::kOutOfMemory, "cannot start " + std::to_string(threads) + " threads");
  pool_ = std::move(pool);
  threads_ = threads;
  compute_.pool = pool_.get();
  compute_.threads = threads;
  return Status::ok();
}
Session::~Session() = default;

void Session::set_profiling(bool on) {
  profile_ = OpProfile();
  profile_.ops.resize(plan_.ops.size());
  profiling_ = on;
}

Status Session::create(const Model& model, std::unique_ptr<Session>* session) {
  std::unique_ptr<Session> created(new Session(model));
  Status status = created->set_tasks({});
  if (!status.is_ok()) return status;
  *session = std::move(created);
  return Status::ok();
}

Status Session::set_tasks(const std::vector<std::string>& names) {
  const ModelConfig& config = model_.config();
  std::vector<int> indices;
  for (const std::string& name : names) {
    const int index = config.task_index(name);
    if (index < 0) {
      std::string known;
      for (const TaskInfo& task : config.tasks) known += (known.empty() ? "" : ", ") + task.name;
      return Status::error("unknown task '" + name + "' (this model has: " + known + ")");
    }
    bool duplicate = false;
    for (int existing : indices) duplicate |= existing == index;
    if (!duplicate) indices.push_back(index);
  }
  if (indices.empty()) {
    for (size_t i = 0; i < config.tasks.size(); ++i) indices.push_back(static_cast<int>(i));
  }
  return build(indices, streaming_);
}

// The plan for `tasks` and its arena, made before anything is replaced: when memory is short, the session keeps
// the plan it had.
Status Session::build(const std::vector<int>& tasks, bool streaming) {
  Plan plan = build_plan(model_, tasks, streaming);
  Arena arena;
  arena.reserve(plan.arena_floats);
  if (!arena.allocate()) {
    return Status::error(StatusCode::kOutOfMemory, "out of memory allocating a session arena of " + std::to_string(plan.arena_floats * 4) + " bytes");
  }
  bind_operands(&plan, arena.at(0));
  plan_ = std::move(plan);
  arena_ = std::move(arena);
  task_indices_ = tasks;
  streaming_ = streaming;
  scheduler_.restart_stream();
  set_profiling(profiling_);
  prepare_stats();
  return Status::ok();
}

Status Session::set_stream_noise(float noise) {
  if (!valid_stream_noise(noise)) return Status::error(stream_noise_error(noise));
  StreamSettings settings = scheduler_.stream_settings();
  settings.noise = noise;
  scheduler_.set_stream_settings(settings);
  scheduler_.restart_stream();
  return Status::ok();
}

Status Session::set_streaming(bool on, const StreamSettings& settings) {
  if (!(settings.threshold >= 0.0f && std::isfinite(settings.threshold))) return Status::error("streaming threshold must be finite and >= 0");
  if (settings.refresh_every < 1) return Status::error("streaming refresh must be every 1 frame or more, got " + std::to_string(settings.refresh_every));
  if (!(settings.max_recompute > 0.0f && settings.max_recompute <= 1.0f)) return Status::error("streaming max_recompute must be in (0, 1]");
  if (!valid_stream_noise(settings.noise)) return Status::error(stream_noise_error(settings.noise));
  if (on != streaming_) {
    const Status status = build(task_indices_, on);
    if (!status.is_ok()) return status;
  }
  scheduler_.set_stream_settings(settings);
  scheduler_.restart_stream();
  return Status::ok();
}

// Sizes every stats field once, so a frame only overwrites values.
void Session::prepare_stats() {
  const ModelConfig& config = model_.config();
  stats_ = FrameStats();
  for (int t : task_indices_) stats_.tasks.push_back(config.tasks[t].name);
  for (const StageGeometry& stage : config.stages) {
    stats_.blocks.emplace_back(stage.depth, 0);
    stats_.tokens_kept.emplace_back(stage.depth, 0);
    const size_t mask_size = config.ada_tokens ? static_cast<size_t>(stage.tokens) : 0;
    stats_.token_masks.emplace_back(stage.depth, std::vector<uint8_t>(mask_size, 0));
  }
  stats_.macs_static = plan_.static_macs;
}

Status Session::run(const float* input, int64_t count) {
  const ModelConfig& config = model_.config();
  const int64_t expected = config.in_chans * config.img_size * config.img_size;
  if (input == nullptr || count != expected) {
    return Status::error("input must hold " + std::to_string(expected) + " floats ([" + std::to_string(config.in_chans) + ", " +
                         std::to_string(config.img_size) + ", " + std::to_string(config.img_size) + "]), got " + std::to_string(count));
  }
  const auto start = std::chrono::steady_clock::now();
  scheduler_.run(plan_, compute_, gates_, input, &stats_, profiling_ ? &profile_ : nullptr);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  stats_.milliseconds = elapsed.count() * 1e3;
  if (profiling_) {
    profile_.frame_seconds += elapsed.count();
    profile_.frames += 1;
  }
  return Status::ok();
}

const float* Session::output(int task_index) const {
  if (task_index < 0 || task_index >= static_cast<int>(plan_.task_outputs.size())) return nullptr;
  const int32_t buffer = plan_.task_outputs[task_index];
  return buffer < 0 ? nullptr : arena_.at(static_cast<size_t>(plan_.buffers[buffer].offset));
}

}  // namespace adarun
