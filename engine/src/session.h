#pragma once
// A session runs frames on a shared, read-only Model. It owns every buffer a frame needs,
// allocated once when it is created: a frame allocates nothing.
#include <memory>
#include <string>
#include <vector>

#include "engine/src/arena.h"
#include "engine/src/frame_stats.h"
#include "engine/src/layers.h"
#include "engine/src/model.h"
#include "engine/src/op_profile.h"
#include "engine/src/status.h"
#include "engine/src/window_plan.h"

namespace adarun {

struct Workspace;

class Session {
 public:
  static Status create(const Model& model, std::unique_ptr<Session>* session);
  ~Session();

  // Which tasks the next frames compute; empty means all. Unknown names are an error.
  Status set_tasks(const std::vector<std::string>& names);
  // Threads for the next frames (the calling thread counts as one); 1 runs on the calling thread only.
  Status set_threads(int threads);
  int threads() const { return threads_; }
  // A gate is on iff its logit > threshold (0: the trained decision).
  void set_gate_threshold(float threshold) { gate_threshold_ = threshold; }
  float gate_threshold() const { return gate_threshold_; }
  // A run-time compute budget f in (0, 1]: each block keeps the ceil(f L) tokens with the highest
  // policy logit (max over the requested tasks) and each stage the ceil(f depth) best blocks,
  // instead of thresholding. 0 turns the budget off (the default).
  Status set_budget(float fraction);
  float budget() const { return budget_; }

  // While on, each frame adds its time, MACs and calls per op kind to profile(); turning it on clears it.
  void set_profiling(bool on);
  const OpProfile& profile() const { return profile_; }

  // input: [in_chans, img_size, img_size] float, normalised (SPEC 1).
  Status run(const float* input, int64_t count);

  const Model& model() const { return model_; }
  const std::vector<int>& task_indices() const { return task_indices_; }
  // Raw logits [outputs, img_size, img_size] of a task of the model, valid until the next run.
  const float* output(int task_index) const;
  const FrameStats& stats() const { return stats_; }
  // Bytes of the buffers a frame computes in.
  int64_t arena_bytes() const { return static_cast<int64_t>(arena_.floats() * sizeof(float)); }

 private:
  explicit Session(const Model& model);
  void prepare_stats();
  void run_backbone(const float* input);
  void run_stage(int stage_index);
  // macs: what the policies compute, for the profile (macs.cpp's count).
  void decide_gates(const std::vector<PolicyWeights>& policies, const StageGeometry& stage, int64_t fc_rows, int64_t decisions,
                    int64_t macs, uint8_t* out);
  bool block_gate_decisions(int stage_index, uint8_t* gates);
  int64_t token_gate_decisions(int stage_index, uint8_t* mask);
  void run_block(int stage_index, int block_index, const uint8_t* mask, int64_t kept);
  void run_forked_block(int stage_index, int block_index);
  void run_task_stream(int stage_index, const BlockWeights& block, int task_index);
  void attend(int stage_index, int block_index);
  const int32_t* window_order(int stage_index, int block_index) const;
  void run_decoder(int task_index);
  void run_hrnet_decoder(int task_index);

  const Model& model_;
  std::vector<WindowPlan> window_plans_;
  std::vector<int> task_indices_;
  std::vector<int> policy_indices_;  // the policies OR-ed for the current tasks
  float gate_threshold_ = 0.0f;
  float budget_ = 0.0f;
  int threads_ = 1;
  std::unique_ptr<pthreadpool, void (*)(pthreadpool_t)> pool_{nullptr, pthreadpool_destroy};
  layers::Compute compute_;
  Arena arena_;
  std::unique_ptr<Workspace> workspace_;
  FrameStats stats_;
  OpProfile profile_;
};

}  // namespace adarun
