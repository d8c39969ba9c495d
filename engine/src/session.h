#pragma once
// A session runs frames on a shared, read-only Model: the model's plan for the session's tasks, walked by
// the scheduler. It owns every buffer a frame needs, planned and allocated when its tasks are set: a frame
// allocates nothing.
#include <memory>
#include <string>
#include <vector>

#include "engine/src/arena.h"
#include "engine/src/frame_stats.h"
#include "engine/src/layers.h"
#include "engine/src/model.h"
#include "engine/src/op_profile.h"
#include "engine/src/plan.h"
#include "engine/src/scheduler.h"
#include "engine/src/status.h"

namespace adarun {

class Session {
 public:
  static Status create(const Model& model, std::unique_ptr<Session>* session);
  ~Session();

  // Which tasks the next frames compute; empty means all. Unknown names are an error.
  Status set_tasks(const std::vector<std::string>& names);
  // Threads for the next frames (the calling thread counts as one); 1 runs on the calling thread only.
  Status set_threads(int threads);
  int threads() const { return threads_; }
  // The pool those threads run on (nullptr with one thread): the C API converts camera frames on it too.
  pthreadpool_t pool() const { return pool_.get(); }
  // A gate is on iff its logit > threshold (0: the trained decision).
  void set_gate_threshold(float threshold) { gates_.threshold = threshold; }
  float gate_threshold() const { return gates_.threshold; }
  // A run-time compute budget f in (0, 1]: each block keeps the ceil(f L) tokens with the highest
  // policy logit (max over the requested tasks) and each stage the ceil(f depth) best blocks,
  // instead of thresholding. 0 turns the budget off (the default).
  Status set_budget(float fraction);
  float budget() const { return gates_.budget; }

  // Streaming (README "Streaming"): consecutive frames reuse each block's stored outputs for the windows whose
  // input barely changed. Turning it on or off rebuilds the plan; any change restarts the stream (the next
  // frame computes every window).
  Status set_streaming(bool on, const StreamSettings& settings = StreamSettings());
  // The camera's noise of the current stream settings (StreamSettings::noise), the rest kept; restarts the stream.
  Status set_stream_noise(float noise);
  float stream_noise() const { return scheduler_.stream_settings().noise; }
  bool streaming() const { return streaming_; }

  // While on, each frame adds its time, MACs, rows and calls per op kind and per op of plan() to profile();
  // turning it on clears it.
  void set_profiling(bool on);
  const OpProfile& profile() const { return profile_; }

  // input: [in_chans, img_size, img_size] float, normalised (SPEC 1).
  Status run(const float* input, int64_t count);

  const Model& model() const { return model_; }
  const std::vector<int>& task_indices() const { return task_indices_; }
  // Raw logits [outputs, img_size, img_size] of a task of the model, valid until the next run.
  const float* output(int task_index) const;
  const FrameStats& stats() const { return stats_; }
  // The ops a frame runs for the current tasks (README "Architecture").
  const Plan& plan() const { return plan_; }
  // Bytes of the buffers a frame computes in.
  int64_t arena_bytes() const { return static_cast<int64_t>(arena_.floats() * sizeof(float)); }

 private:
  explicit Session(const Model& model);
  void prepare_stats();

  const Model& model_;
  std::vector<int> task_indices_;
  GateSettings gates_;
  int threads_ = 1;
  std::unique_ptr<pthreadpool, void (*)(pthreadpool_t)> pool_{nullptr, pthreadpool_destroy};
  layers::Compute compute_;
  Plan plan_;
  Arena arena_;
  Scheduler scheduler_;
  FrameStats stats_;
  OpProfile profile_;
  bool profiling_ = false;
  bool streaming_ = false;
  Status build(const std::vector<int>& tasks, bool streaming);
};

}  // namespace adarun
