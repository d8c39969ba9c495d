#pragma once
// Runs a plan per frame. Policy ops write the gate state; a block's gate op jumps past the block's ops when
// its gate is off or its token policy keeps no token, so skipped work costs no call and no copy; token-gated
// ops run over the kept rows. The MACs of a frame are those of the ops that ran.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "engine/src/frame_stats.h"
#include "engine/src/layers.h"
#include "engine/src/op_profile.h"
#include "engine/src/plan.h"
#include "kernels/conv_delta.h"

namespace adarun {

// How the policies decide: a gate is on iff its logit > threshold, or with a budget f in (0, 1] the
// ceil(f n) highest logits of each decision set are on.
struct GateSettings {
  float threshold = 0.0f;
  float budget = 0.0f;
};

// A streamed plan's rule (README "Streaming"): a token changed when |x - r| > threshold |r| (L2 over its
// channels, r the block's stored input); a window is recomputed when one of its tokens changed, at most
// ceil(max_recompute * windows) of a block's windows a frame (the most changed first), and every window every
// `refresh_every` frames. With a camera's noise given (sigma, grey levels of 255), stage 0's first block, whose input
// is the patch embedding of the frame, tests its tokens' patches of the frame instead: a token changed when the RMS
// change of its patch's pixels exceeds 3 noise. Why: the embedding's LayerNorm makes a grey level of noise a change of
// ~0.1 of a token's norm (a moved edge ~1), so on a camera's frames every token changes; in pixels the noise stays
// what it is, and changes within it are let go.
struct StreamSettings {
  float threshold = 0.05f;
  int refresh_every = 16;
  float max_recompute = 1.0f;
  float noise = 0.0f;
};

class Scheduler {
 public:
  // Sizes the gate state for `config` once: a frame allocates nothing.
  explicit Scheduler(const ModelConfig& config);

  // A streamed plan's next frame recomputes every window (its references are not the last frame's).
  void restart_stream() {
    frame_ = 0;
    sentinel_all_changed_ = false;
  }
  void set_stream_settings(const StreamSettings& settings) { stream_ = settings; }
  const StreamSettings& stream_settings() const { return stream_; }

  // Runs every op of `plan` on `input` that the gates let through; fills `stats` (sized by the session) and,
  // when `profile` is not null, adds each op's time, MACs, rows and calls to it.
  void run(const Plan& plan, const layers::Compute& compute, const GateSettings& settings, const float* input, FrameStats* stats,
           OpProfile* profile);

 private:
  // Whether this frame recomputes everything streamed: the stream's first frame and every refresh_every-th.
  bool refresh_frame() const { return frame_ % std::max(stream_.refresh_every, 1) == 0; }
  // How a streamed op runs this frame. A pan changes every window of every block, so its frames reuse nothing and
  // their references serve no next frame. The frame's first streamed block to run is the sentinel: it tests and
  // stores as always, and when it finds every window changed two frames running, the streamed blocks after it
  // pass through: no change test, no stored input or output (each keeps the older pair it has, which stays
  // true: an output with the input it was computed from). Block policies compute their whole maps apart and keep
  // their older state too; stage 0's does so already when the last frame's sentinel saw every window change.
  // Merges and head convolutions skip their tests but keep storing (small stores; they update their outputs in
  // place, so an older input would not match them).
  enum class StreamMode : uint8_t { kStreamed, kRecomputeAll, kPassThrough };
  StreamMode stream_mode() const {
    if (sentinel_passed_) return mode_;
    return refresh_frame() ? StreamMode::kRecomputeAll : StreamMode::kStreamed;
  }
  // The sentinel's verdict for the ops after it: all_changed is its own test's.
  void pass_sentinel(const Op& op, bool all_changed);
  // A streamed block's store of its whole output, on a frame it passes through (the sentinel's always runs).
  bool skips_store(const Op& op) const {
    const bool sentinel = op.stage == sentinel_stage_ && op.block == sentinel_block_;
    return op.stores_reference && stream_mode() == StreamMode::kPassThrough && !sentinel;
  }
  // Runs one op; returns the index of the next one.
  int32_t execute(const Op& op, int32_t index, const layers::Compute& compute, FrameStats* stats);
  void decide_gates(const Op& op, const layers::Compute& compute, uint8_t* out);
  void decide_from_logits(const float* best, int64_t decisions, uint8_t* out);
  void decide_block_gates_streamed(const Op& op, const layers::Compute& compute);
  void decide_tokens(const Op& op, const layers::Compute& compute, FrameStats* stats);
  // Which windows of a streamed block to recompute (their count); the others take their stored outputs.
  int64_t find_changed_windows(const Op& op, FrameStats* stats);
  // pixels: the tokens' patches of the frame (op.tests_pixels), mean squared change in grey levels.
  int64_t measure_window_changes(const Op& op, double limit, bool stop_at_first, bool pixels);
  void run_attention(const Op& op, const layers::Compute& compute) const;
  // A streamed convolution (kConvDelta): updated over the blocks of its input that differ from the input stored
  // for its change group, or run whole on the stream's first and refresh frames and when more than a third of them
  // differ (the delta kernel does about a third of the plain GEMM's MACs per second). The group's last op stores
  // the new input. Returns the multiply-adds done.
  int64_t run_conv_delta(const Op& op, const layers::Compute& compute);
  // A change group's test (its first op): the changed blocks of op.x against the stored input, adjacent ones merged.
  void find_changed_spans(const Op& op);
  // A streamed convolution of the frame (kConvChangedRows): its output rows whose input rows differ from the input
  // it last saw are recomputed, all on the stream's first and refresh frames. Returns the multiply-adds done.
  int64_t run_conv_changed_rows(const Op& op, const layers::Compute& compute);
  // A row move's indices: the changed windows' tokens (kActive), the changed groups (kActiveGroups), else the op's own.
  const int32_t* row_index(const Op& op, const int32_t* fixed) const {
    if (op.row_source == RowSource::kActive) return active_index_.data();
    if (op.row_source == RowSource::kActiveGroups) return active_windows_.data();
    return fixed;
  }
  int64_t rows_run(const Op& op) const {
    switch (op.row_source) {
      case RowSource::kKept: return kept_;
      case RowSource::kActive: return active_rows_;
      case RowSource::kActiveGroups: return active_groups_;
      case RowSource::kAll: break;
    }
    return op.rows;
  }

  std::vector<std::vector<uint8_t>> block_gates_;  // [stage][block], 1 where no block policy runs
  std::vector<int32_t> kept_index_;                // the current block's kept tokens
  int64_t kept_ = 0;
  std::vector<int32_t> gate_order_;                // budgeted top-k
  // Streaming: the changed windows of the current block, their tokens in window order, per window its change
  std::vector<int32_t> active_windows_, active_index_;
  int64_t active_rows_ = 0, active_groups_ = 0;
  std::vector<float> window_change_;
  struct ChangeGroup {  // a kConvDelta input's changed blocks this frame (adjacent ones merged), or all of it
    std::vector<FlatSpan> spans;
    int64_t span_count = 0;
    bool whole = true;
  };
  std::vector<ChangeGroup> change_groups_;  // one per stage (PlanBuilder::streamed_conv)
  std::vector<uint8_t> changed_rows_;     // a streamed frame convolution's changed input rows
  std::vector<float> patch_change_;       // with a camera's noise: each patch's mean squared change, grey levels
  std::vector<float> pixel_row_sums_;     // ... its image rows' sums by pixel
  int64_t op_macs_ = -1;                  // the MACs of an op that counts its own (kConvDelta, kConvChangedRows), else -1
  std::vector<uint8_t> compact_mask_;  // a streamed token policy's decisions on the changed rows
  StreamSettings stream_;
  int64_t frame_ = 0;  // frames since the stream (re)started
  bool sentinel_passed_ = false;       // this frame
  int sentinel_stage_ = -1, sentinel_block_ = -1;
  bool sentinel_all_changed_ = false;  // the last frame's sentinel found every window changed
  StreamMode mode_ = StreamMode::kStreamed;  // the ops' after the sentinel, this frame
  const float* input_ = nullptr;
  GateSettings settings_;
};

}  // namespace adarun
