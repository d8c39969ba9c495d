// Streaming against the engine's per-frame runs (themselves checked against the PyTorch reference): with a zero
// threshold a streamed frame is the per-frame answer; a frame that repeats reuses every window.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <vector>

#include "engine/src/framing.h"
#include "engine/src/session.h"
#include "tests/parity/golden_case.h"

namespace {

struct Sessions {
  std::unique_ptr<adarun::Model> model;
  std::unique_ptr<adarun::Session> per_frame, streamed;
  std::vector<float> input;
  float gate_threshold = 0.0f;
};

void open(const std::string& name, const adarun::StreamSettings& settings, Sessions* s) {
  adarun::testing::GoldenCase golden;
  REQUIRE(adarun::testing::load_golden_case(name, &golden).is_ok());
  REQUIRE(adarun::Model::load_file(golden.directory + "/model.adarun", &s->model).is_ok());
  for (auto* session : {&s->per_frame, &s->streamed}) {
    REQUIRE(adarun::Session::create(*s->model, session).is_ok());
    (*session)->set_gate_threshold(golden.threshold);
  }
  s->gate_threshold = golden.threshold;
  REQUIRE(s->streamed->set_streaming(true, settings).is_ok());
  adarun::NpyArray input;
  REQUIRE(adarun::read_npy(golden.directory + "/input.npy", &input).is_ok());
  s->input = input.values;
}

// The largest |a - b| over every task's output, relative to the largest |b|.
double output_difference(const adarun::Session& a, const adarun::Session& b) {
  const adarun::ModelConfig& config = a.model().config();
  double diff = 0.0, scale = 1e-6;
  for (int t : a.task_indices()) {
    const int64_t count = config.tasks[t].outputs * config.img_size * config.img_size;
    for (int64_t k = 0; k < count; ++k) {
      diff = std::max(diff, double(std::fabs(a.output(t)[k] - b.output(t)[k])));
      scale = std::max(scale, double(std::fabs(b.output(t)[k])));
    }
  }
  return diff / scale;
}

void run_both(Sessions& s, const std::vector<float>& frame) {
  REQUIRE(s.per_frame->run(frame.data(), int64_t(frame.size())).is_ok());
  REQUIRE(s.streamed->run(frame.data(), int64_t(frame.size())).is_ok());
}

// The frame with its top-left rows x cols pixels brighter.
std::vector<float> brighten(std::vector<float> frame, int64_t size, int64_t rows, int64_t cols) {
  for (int64_t c = 0; c < 3; ++c) {
    for (int64_t y = 0; y < rows; ++y) {
      for (int64_t x = 0; x < cols; ++x) frame[(c * size + y) * size + x] += 1.5f;
    }
  }
  return frame;
}

// The same frame again at gate thresholds around the trained one: the streamed session decides stage 0's blocks
// from its block policy's stored logits (nothing changed), the per-frame one from fresh logits of the same input
// (stage 0 reads the patch embedding, which no gate touches), so any difference in the stored logits flips some
// gate. Later stages are left out: there the unchanged windows keep the token decisions of the frame before, by
// design, so their inputs differ once the threshold moves.
void check_stage0_block_logits_by_gates(Sessions& s, const std::vector<float>& frame) {
  for (float offset = -4.0f; offset <= 4.0f; offset += 0.25f) {
    CAPTURE(offset);
    s.per_frame->set_gate_threshold(s.gate_threshold + offset);
    s.streamed->set_gate_threshold(s.gate_threshold + offset);
    run_both(s, frame);
    CHECK(s.streamed->stats().blocks[0] == s.per_frame->stats().blocks[0]);
  }
  s.per_frame->set_gate_threshold(s.gate_threshold);
  s.streamed->set_gate_threshold(s.gate_threshold);
}

int64_t tokens_run(const adarun::Session& session) {
  int64_t total = 0;
  const adarun::FrameStats& stats = session.stats();
  for (size_t i = 0; i < stats.blocks.size(); ++i) {
    for (size_t j = 0; j < stats.blocks[i].size(); ++j) total += stats.blocks[i][j] ? session.model().config().stages[i].tokens : 0;
  }
  return total;
}

}  // namespace

TEST_CASE("streaming: with threshold 0 every frame is the per-frame answer; a repeated frame reuses every window") {
  adarun::StreamSettings exact;
  exact.threshold = 0.0f;
  exact.refresh_every = 1000;
  // Under an emulator per_task_small only: what is architecture-specific is that the kernels give gathered rows the
  // values they give them in a whole map, which it shows; the other cases vary the scheduler's gating and MTLoRA's
  // forked blocks, the same code on every architecture (and an MTLoRA frame takes ~13 s in qemu).
  std::vector<const char*> names = {"per_task_small"};
  if (!adarun::testing::fewer_frames()) names.insert(names.end(), {"static_small", "tokens_only_small", "mtlora_matrix_small"});
  for (const char* name : names) {
    CAPTURE(name);
    Sessions s;
    open(name, exact, &s);
    run_both(s, s.input);  // the first frame computes everything
    CHECK(s.streamed->stats().tokens_reused == 0);
    CHECK(output_difference(*s.streamed, *s.per_frame) < 1e-5);
    CHECK(s.streamed->stats().macs_executed == s.per_frame->stats().macs_executed);

    run_both(s, s.input);  // the same frame again: every block input is unchanged
    const bool forks = s.model->config().is_mtlora();  // MTLoRA's forked last blocks always run whole
    if (!forks) CHECK(s.streamed->stats().tokens_reused == tokens_run(*s.streamed));
    CHECK(s.streamed->stats().tokens_reused > 0);
    CHECK(s.streamed->stats().macs_executed < s.per_frame->stats().macs_executed);
    CHECK(output_difference(*s.streamed, *s.per_frame) < 1e-5);

    // Past half the tokens changed (the block policies recompute their whole maps, README "Streaming"), then a
    // bright square in one corner of that frame (the other windows keep their inputs).
    const int64_t size = s.model->config().img_size;
    const std::vector<float> most = brighten(s.input, size, size * 3 / 4, size);
    for (const std::vector<float>& moved : {most, brighten(most, size, size / 8, size / 8)}) {
      run_both(s, moved);
      CHECK(s.streamed->stats().tokens_reused > 0);
      CHECK(output_difference(*s.streamed, *s.per_frame) < 1e-5);
      const adarun::FrameStats& streamed = s.streamed->stats();
      const adarun::FrameStats& per_frame = s.per_frame->stats();
      CHECK(streamed.blocks == per_frame.blocks);
      CHECK(streamed.token_masks == per_frame.token_masks);
      CHECK(streamed.tokens_kept == per_frame.tokens_kept);
    }
  }
}

// The frame with every value moved by `delta`: every token of every block input changes.
std::vector<float> shifted(std::vector<float> frame, float delta) {
  for (float& v : frame) v += delta;
  return frame;
}

void check_same_answer_and_gates(const Sessions& s) {
  CHECK(output_difference(*s.streamed, *s.per_frame) < 1e-5);
  CHECK(s.streamed->stats().blocks == s.per_frame->stats().blocks);
  CHECK(s.streamed->stats().token_masks == s.per_frame->stats().token_masks);
}

// Frames that reuse nothing: each is the per-frame answer at the per-frame MACs.
void run_reusing_nothing(Sessions& s, std::initializer_list<const std::vector<float>*> frames) {
  for (const std::vector<float>* frame : frames) {
    run_both(s, *frame);
    CHECK(s.streamed->stats().tokens_reused == 0);
    CHECK(s.streamed->stats().macs_executed == s.per_frame->stats().macs_executed);
    check_same_answer_and_gates(s);
  }
}

TEST_CASE("streaming: across a pan the blocks after the first pass through, storing nothing, and reuse again after it") {
  adarun::StreamSettings exact;
  exact.threshold = 0.0f;
  exact.refresh_every = 1000;
  std::vector<const char*> names = {"per_task_small"};
  if (!adarun::testing::fewer_frames()) names.insert(names.end(), {"static_small", "mtlora_matrix_small"});
  for (const char* name : names) {
    CAPTURE(name);
    Sessions s;
    open(name, exact, &s);
    const bool forks = s.model->config().is_mtlora();  // MTLoRA's forked last blocks always run whole
    const std::vector<float> still = s.input, first = shifted(s.input, 0.01f), second = shifted(s.input, 0.02f), third = shifted(s.input, 0.03f);
    // The still frame, then a pan: the first panned frame stores every block's references as it goes, the next two
    // (every window changed two frames running) pass through.
    run_reusing_nothing(s, {&still, &first, &second, &third});
    // The pan stops: the first block, which stored the last frame, reuses it all; the blocks after it stored nothing
    // in the passed frames, so their references are the first panned frame's and every window recomputes.
    run_both(s, third);
    const int64_t reused = s.streamed->stats().tokens_reused;
    CHECK(reused > 0);
    CHECK(reused < tokens_run(*s.streamed));
    check_same_answer_and_gates(s);
    run_both(s, third);  // now every block's references are this frame's
    if (!forks) CHECK(s.streamed->stats().tokens_reused == tokens_run(*s.streamed));
    check_same_answer_and_gates(s);
    // Stage 0's block policy kept its older state under the pan: its logits are this frame's all the same.
    if (!adarun::testing::fewer_frames()) check_stage0_block_logits_by_gates(s, third);
    // A pan out and back: its first frame stores, the next ones pass through, back where it started included;
    // that frame again: the blocks after the first still hold its input and output, true as a pair, and reuse them.
    run_reusing_nothing(s, {&first, &second, &third, &first});
    run_both(s, first);
    if (!forks) CHECK(s.streamed->stats().tokens_reused == tokens_run(*s.streamed));
    check_same_answer_and_gates(s);
  }
}

// The frame with grey levels (of 255) added: `noise` with alternating signs on every value, and `bump` (instead) on
// the patch at (patch_row, patch_col).
std::vector<float> with_grey_levels(std::vector<float> frame, int64_t size, int64_t patch, float noise, int64_t patch_row,
                                    int64_t patch_col, float bump) {
  for (int64_t c = 0; c < 3; ++c) {
    const float unit = 1.0f / (255.0f * adarun::kImageStd[c]);  // a grey level in the normalised input (SPEC 1)
    for (int64_t y = 0; y < size; ++y) {
      for (int64_t x = 0; x < size; ++x) {
        const bool in_patch = y / patch == patch_row && x / patch == patch_col;
        frame[(c * size + y) * size + x] += unit * (in_patch ? bump : ((c + y + x) % 2 ? noise : -noise));
      }
    }
  }
  return frame;
}

TEST_CASE("streaming: with the camera's noise given, stage 0's first block lets its patches of the frame change by 3 noise RMS") {
  adarun::StreamSettings settings;
  settings.refresh_every = 1000;
  Sessions s;
  open("per_task_small", settings, &s);
  const int64_t size = s.model->config().img_size, patch = s.model->config().patch_size;
  // Without: noise of 4 grey levels on every value moves the patch embedding's tokens by far more than 0.05 of their
  // norm, and nothing is reused.
  run_both(s, s.input);
  run_both(s, with_grey_levels(s.input, size, patch, 4.0f, 9, 9, 5.9f));
  CHECK(s.streamed->stats().tokens_reused == 0);
  // With noise 2 (6 grey levels): the frame computed afresh, then that noise, and 5.9 on one patch: within 6, so the
  // first block reuses every window, and every block after it too.
  settings.noise = 2.0f;
  REQUIRE(s.streamed->set_streaming(true, settings).is_ok());
  run_both(s, s.input);
  run_both(s, s.input);  // the same frame again: what a frame that changed nothing costs
  const int64_t unchanged_macs = s.streamed->stats().macs_executed;
  run_both(s, with_grey_levels(s.input, size, patch, 4.0f, 9, 9, 5.9f));
  CHECK(s.streamed->stats().tokens_reused == tokens_run(*s.streamed));
  CHECK(s.streamed->stats().macs_executed == unchanged_macs);  // the patch embedding too lets the noise go
  // That patch 6.5 grey levels off the frame its window was computed from: that window (and what it reaches) recomputes.
  run_both(s, with_grey_levels(s.input, size, patch, 4.0f, 9, 9, 6.5f));
  const int64_t reused = s.streamed->stats().tokens_reused;
  CHECK(reused > 0);
  CHECK(reused < tokens_run(*s.streamed));
  CHECK(s.streamed->stats().blocks == s.per_frame->stats().blocks);
  settings.noise = -1.0f;
  CHECK_FALSE(s.streamed->set_streaming(true, settings).is_ok());
}

TEST_CASE("streaming: with the camera's noise given, a recomputed window stores its pixels, so the same frame again reuses it") {
  adarun::StreamSettings settings;
  settings.refresh_every = 1000;
  settings.noise = 2.0f;
  settings.threshold = 0.0f;  // past the first block, any change recomputes: the answers are the per-frame ones
  Sessions s;
  open("per_task_small", settings, &s);
  const int64_t size = s.model->config().img_size, patch = s.model->config().patch_size;
  const int64_t window_pixels = s.model->config().stages[0].window * patch;
  run_both(s, s.input);
  run_both(s, s.input);
  const int64_t unchanged_macs = s.streamed->stats().macs_executed;
  // The top-left window of stage 0 changed (every patch of it): it recomputes and stores its patches of this frame.
  const std::vector<float> changed = brighten(s.input, size, window_pixels, window_pixels);
  run_both(s, changed);
  CHECK(output_difference(*s.streamed, *s.per_frame) < 1e-5);
  CHECK(s.streamed->stats().tokens_reused > 0);
  CHECK(s.streamed->stats().tokens_reused < tokens_run(*s.streamed));
  // The same frame again: nothing changed since, if every patch of that window was stored.
  run_both(s, changed);
  CHECK(s.streamed->stats().tokens_reused == tokens_run(*s.streamed));
  CHECK(s.streamed->stats().macs_executed == unchanged_macs);
  CHECK(output_difference(*s.streamed, *s.per_frame) < 1e-5);
}

TEST_CASE("streaming: a threshold reuses windows that changed a little; refresh and a recompute cap bound it") {
  Sessions s;
  adarun::StreamSettings loose;
  loose.threshold = 1e9f;  // nothing ever counts as changed
  loose.refresh_every = 3;
  open("per_task_small", loose, &s);
  std::vector<float> frame = s.input;
  const int64_t everything = 0;
  for (int k = 0; k < 4; ++k) {
    for (float& v : frame) v += 0.01f;
    REQUIRE(s.streamed->run(frame.data(), int64_t(frame.size())).is_ok());
    CAPTURE(k);
    if (k % 3 == 0) {
      CHECK(s.streamed->stats().tokens_reused == everything);  // frames 0 and 3 refresh
    } else {
      CHECK(s.streamed->stats().tokens_reused == tokens_run(*s.streamed));
    }
  }
  adarun::StreamSettings capped;
  capped.threshold = 0.0f;
  capped.max_recompute = 0.25f;
  REQUIRE(s.streamed->set_streaming(true, capped).is_ok());
  REQUIRE(s.streamed->run(frame.data(), int64_t(frame.size())).is_ok());  // restarted: a full frame
  CHECK(s.streamed->stats().tokens_reused == 0);
  for (float& v : frame) v += 0.01f;  // every window changed, at most a quarter recomputed per block
  REQUIRE(s.streamed->run(frame.data(), int64_t(frame.size())).is_ok());
  CHECK(s.streamed->stats().tokens_reused >= tokens_run(*s.streamed) / 2);
  adarun::StreamSettings bad;
  bad.refresh_every = 0;
  CHECK_FALSE(s.streamed->set_streaming(true, bad).is_ok());
  bad = adarun::StreamSettings();
  bad.max_recompute = 0.0f;
  CHECK_FALSE(s.streamed->set_streaming(true, bad).is_ok());
}

TEST_CASE("streaming: a stage-0 block policy that recomputed its whole map holds the per-frame logits (its gates at other thresholds)") {
  adarun::StreamSettings exact;
  exact.threshold = 0.0f;
  exact.refresh_every = 1000;
  // It runs one frame 33 times; under an emulator frames run once (golden_case.h), and the two sessions' logits
  // come from the same kernels on every architecture.
  if (adarun::testing::fewer_frames()) return;
  Sessions s;
  open("per_task_small", exact, &s);  // per-task block and token policies
  run_both(s, s.input);
  const int64_t size = s.model->config().img_size;
  const std::vector<float> most = brighten(s.input, size, size * 3 / 4, size);  // past half the tokens changed
  run_both(s, most);
  CHECK(s.streamed->stats().tokens_reused > 0);
  check_stage0_block_logits_by_gates(s, most);
}
