#pragma once
// Runs a plan per frame. Policy ops write the gate state; a block's gate op jumps past the block's ops when
// its gate is off or its token policy keeps no token, so skipped work costs no call and no copy; token-gated
// ops run over the kept rows. The MACs of a frame are those of the ops that ran.
#include <cstdint>
#include <vector>

#include "engine/src/frame_stats.h"
#include "engine/src/layers.h"
#include "engine/src/op_profile.h"
#include "engine/src/plan.h"

namespace adarun {

// How the policies decide: a gate is on iff its logit > threshold, or with a budget f in (0, 1] the
// ceil(f n) highest logits of each decision set are on.
struct GateSettings {
  float threshold = 0.0f;
  float budget = 0.0f;
};

class Scheduler {
 public:
  // Sizes the gate state for `config` once: a frame allocates nothing.
  explicit Scheduler(const ModelConfig& config);

  // Runs every op of `plan` on `input` that the gates let through; fills `stats` (sized by the session) and,
  // when `profile` is not null, adds each op's time, MACs, rows and calls to it.
  void run(const Plan& plan, const layers::Compute& compute, const GateSettings& settings, const float* input, FrameStats* stats,
           OpProfile* profile);

 private:
  // Runs one op; returns the index of the next one.
  int32_t execute(const Op& op, int32_t index, const layers::Compute& compute, FrameStats* stats);
  void decide_gates(const Op& op, const layers::Compute& compute, uint8_t* out);
  int64_t rows_run(const Op& op) const { return op.kept_rows ? kept_ : op.rows; }

  std::vector<std::vector<uint8_t>> block_gates_;  // [stage][block], 1 where no block policy runs
  std::vector<int32_t> kept_index_;                // the current block's kept tokens
  int64_t kept_ = 0;
  std::vector<int32_t> gate_order_;                // budgeted top-k
  const float* input_ = nullptr;
  GateSettings settings_;
};

}  // namespace adarun
