#include "engine/src/session.h"

#include <chrono>

#include "engine/src/macs.h"
#include "engine/src/workspace.h"

namespace adarun {

Session::Session(const Model& model) : model_(model), workspace_(std::make_unique<Workspace>()) { compute_.isa = model.isa(); }

Status Session::set_budget(float fraction) {
  if (!(fraction >= 0.0f && fraction <= 1.0f)) return Status::error("budget must be in (0, 1], or 0 for none");
  budget_ = fraction;
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
  compute_.profile = on ? &profile_ : nullptr;
}

Status Session::create(const Model& model, std::unique_ptr<Session>* session) {
  std::unique_ptr<Session> created(new Session(model));
  for (const StageGeometry& stage : model.config().stages) created->window_plans_.push_back(make_window_plan(stage));
  if (!create_workspace(model.config(), model.isa(), &created->arena_, created->workspace_.get())) {
    return Status::error(StatusCode::kOutOfMemory, "out of memory allocating a session arena of " + std::to_string(created->arena_.floats() * 4) + " bytes");
  }
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
  task_indices_ = indices;
  // per_task policies are OR-ed over the requested tasks only (SPEC 2); a single policy serves all.
  policy_indices_.clear();
  if (config.policy_mode == PolicyMode::kSingle) policy_indices_ = {0};
  if (config.policy_mode == PolicyMode::kPerTask) policy_indices_ = task_indices_;
  prepare_stats();
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
  stats_.macs_static = macs::static_model(config, task_indices_);
}

Status Session::run(const float* input, int64_t count) {
  const ModelConfig& config = model_.config();
  const int64_t expected = config.in_chans * config.img_size * config.img_size;
  if (input == nullptr || count != expected) {
    return Status::error("input must hold " + std::to_string(expected) + " floats ([" + std::to_string(config.in_chans) + ", " +
                         std::to_string(config.img_size) + ", " + std::to_string(config.img_size) + "]), got " + std::to_string(count));
  }
  const auto start = std::chrono::steady_clock::now();
  stats_.macs_executed = 0;
  run_backbone(input);
  for (int t : task_indices_) run_decoder(t);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  stats_.milliseconds = elapsed.count() * 1e3;
  if (compute_.profile) {
    profile_.frame_seconds += elapsed.count();
    profile_.frames += 1;
  }
  return Status::ok();
}

const float* Session::output(int task_index) const {
  if (task_index < 0 || task_index >= static_cast<int>(workspace_->outputs.size())) return nullptr;
  return workspace_->outputs[task_index];
}

}  // namespace adarun
