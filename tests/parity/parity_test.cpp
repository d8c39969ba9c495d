// Engine against the PyTorch reference: outputs within tolerance, identical gates, identical MACs.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "engine/src/session.h"
#include "tests/parity/golden_case.h"

namespace {

using adarun::testing::GoldenCase;

std::string mask_string(const std::vector<uint8_t>& mask) {
  std::string text;
  for (uint8_t bit : mask) text += bit ? '1' : '0';
  return text;
}

void check_gates(const GoldenCase& golden, const adarun::FrameStats& stats) {
  for (size_t i = 0; i < golden.blocks.size(); ++i) {
    for (size_t j = 0; j < golden.blocks[i].size(); ++j) {
      CAPTURE(i);
      CAPTURE(j);
      CHECK(int64_t{stats.blocks[i][j]} == golden.blocks[i][j]);
      CHECK(stats.tokens_kept[i][j] == golden.tokens_kept[i][j]);
      if (!golden.token_masks[i][j].empty()) CHECK(mask_string(stats.token_masks[i][j]) == golden.token_masks[i][j]);
    }
  }
  if (golden.has_macs) {  // the research code's own goldens count none
    CHECK(stats.macs_executed == golden.macs_executed);
    CHECK(stats.macs_static == golden.macs_static);
  }
}

void check_outputs(const GoldenCase& golden, const adarun::Session& session) {
  const adarun::ModelConfig& config = session.model().config();
  const double tolerance = 1e-4 * std::max(1.0, golden.max_abs_ref);
  for (const std::string& task : golden.tasks) {
    adarun::NpyArray expected;
    REQUIRE(adarun::read_npy(golden.directory + "/expected/" + task + ".npy", &expected).is_ok());
    const float* actual = session.output(config.task_index(task));
    double max_diff = 0.0;
    for (size_t k = 0; k < expected.values.size(); ++k) max_diff = std::max(max_diff, double(std::fabs(actual[k] - expected.values[k])));
    std::printf("%-22s %-12s max|diff| %.3g (tolerance %.3g)\n", golden.name.c_str(), task.c_str(), max_diff, tolerance);
    CAPTURE(task);
    CHECK(max_diff <= tolerance);
  }
}

// A second frame on the same session must not see anything left over from the first.
void check_rerun_identical(adarun::Session& session, const std::vector<float>& input) {
  const adarun::ModelConfig& config = session.model().config();
  const int64_t pixels = config.img_size * config.img_size;
  std::vector<std::vector<float>> first;
  for (int t : session.task_indices()) first.emplace_back(session.output(t), session.output(t) + config.tasks[t].outputs * pixels);
  REQUIRE(session.run(input.data(), static_cast<int64_t>(input.size())).is_ok());
  for (size_t k = 0; k < first.size(); ++k) {
    const int t = session.task_indices()[k];
    CHECK(std::equal(first[k].begin(), first[k].end(), session.output(t)));
  }
}

void check_case(const std::string& name) {
  CAPTURE(name);
  GoldenCase golden;
  adarun::Status status = adarun::testing::load_golden_case(name, &golden);
  REQUIRE_MESSAGE(status.is_ok(), status.message());
  std::unique_ptr<adarun::Model> model;
  if (!golden.int8_convs) setenv("ADARUN_INT8_CONV", "0", 1);  // read as the model loads
  status = adarun::Model::load_file(golden.directory + "/model.adarun", &model);
  unsetenv("ADARUN_INT8_CONV");
  REQUIRE_MESSAGE(status.is_ok(), status.message());
  std::unique_ptr<adarun::Session> session;
  REQUIRE(adarun::Session::create(*model, &session).is_ok());
  REQUIRE(session->set_tasks(golden.tasks).is_ok());
  const char* threads = std::getenv("ADARUN_TEST_THREADS");
  REQUIRE(session->set_threads(threads ? std::atoi(threads) : 1).is_ok());
  session->set_gate_threshold(golden.threshold);
  adarun::NpyArray input;
  REQUIRE(adarun::read_npy(golden.directory + "/input.npy", &input).is_ok());
  REQUIRE(session->run(input.values.data(), static_cast<int64_t>(input.values.size())).is_ok());
  CHECK(session->stats().tasks == golden.tasks);
  check_gates(golden, session->stats());
  check_outputs(golden, *session);
  if (!adarun::testing::fewer_frames()) check_rerun_identical(*session, input.values);
}

}  // namespace

TEST_CASE("parity: static Swin MTL") { check_case("static_small"); }
TEST_CASE("parity: NYUD tasks (semseg 40, depth, normals, edge), 'state_dict' checkpoint") { check_case("nyud_small"); }
TEST_CASE("parity: single policy") { check_case("single_small"); }
TEST_CASE("parity: per_task policies") { check_case("per_task_small"); }
TEST_CASE("parity: block gates only") { check_case("blocks_only_small"); }
TEST_CASE("parity: token gates only") { check_case("tokens_only_small"); }
TEST_CASE("parity: task subset") { check_case("subset_small"); }
TEST_CASE("parity: gate threshold") { check_case("threshold_small"); }
TEST_CASE("parity: very low threshold turns every gate on") { check_case("all_gates_on_small"); }
TEST_CASE("parity: ape, no patch norm, no qkv bias, window 4") { check_case("variants_small"); }
TEST_CASE("parity: Swin-S/B depths and heads (2-2-18-2, 4-8-16-32)") { check_case("swin_b_shape_small"); }
TEST_CASE("parity: window 12") { check_case("window12_small"); }
TEST_CASE("parity: Swin-T 224 per_task, full size") { check_case("swin_t_224_per_task"); }

TEST_CASE("parity: MTLoRA matrix") { check_case("mtlora_matrix_small"); }
TEST_CASE("parity: MTLoRA matrixv2 with downsampler LoRA, bare checkpoint") { check_case("mtlora_matrixv2_small"); }
TEST_CASE("parity: MTLoRA without decoder downsampler, module. prefixes") { check_case("mtlora_plain_decoder_small"); }
TEST_CASE("parity: MTLoRA without proj adapters (task streams lose the shortcut)") { check_case("mtlora_no_proj_small"); }
TEST_CASE("parity: MTLoRA task subset") { check_case("mtlora_subset_small"); }
TEST_CASE("parity: MTLoRA 448 (shifted last stage)") { check_case("mtlora_448_small"); }
TEST_CASE("parity: MTLoRA Swin-T 448, r64 shared, r4 per task, full size") { check_case("mtlora_swin_t_448"); }
// MTLoRA's other decoder heads (SPEC 3, weights/FORMAT.md): one kind on every task, then mixed per task. Sanitizer
// and emulator runs leave the "on every task" cases out: the mixed and research cases run every kind's code.
TEST_CASE("parity: MTLoRA ASPP on every task (dilated 3x3 past the map, pooled branch)") { check_case("mtlora_aspp_small"); }
TEST_CASE("parity: MTLoRA SegFormer on every task") { check_case("mtlora_segformer_small"); }
TEST_CASE("parity: MTLoRA updecoder on every task (transposed convolutions, x2 x2 then down to S)") { check_case("mtlora_updecoder_small"); }
TEST_CASE("parity: MTLoRA mixed heads (ASPP SegFormer updecoder HRNet), no downsampler, transposed kernels 4-3-2, task subset") {
  check_case("mtlora_mixed_heads_small");
}

// F16 weights (converter --weights fp16, format version 2), widened at load: the reference computes with the same
// rounded weights (converter/make_golden.py, exact_in_fp16), so the tolerance is fp32's. tests/parity/fp16_test.cpp:
// the same files widened to F32 run bit for bit alike.
TEST_CASE("parity: F16 weights, per_task policies") { check_case("per_task_small_fp16"); }
TEST_CASE("parity: F16 weights, MTLoRA matrix (adapters apart)") { check_case("mtlora_matrix_small_fp16"); }
TEST_CASE("parity: F16 weights, MTLoRA matrixv2 (adapters merged, downsampler LoRA)") { check_case("mtlora_matrixv2_small_fp16"); }
TEST_CASE("parity: F16 weights, MTLoRA mixed heads (ASPP SegFormer updecoder HRNet)") { check_case("mtlora_mixed_heads_small_fp16"); }

// I8 weights (converter --weights int8, format version 3): the packable linears on the dynamically quantized int8 GEMM,
// the convolutions on the int8 convolution (the AdaMTL case) or widened (the MTLoRA cases: ADARUN_INT8_CONV=0, see
// make_golden.py INT8_FP32_CONVS). The oracle is the reference emulating that arithmetic on the file's q and scales
// (converter/adarun_ref/int8.py, emulate_int8; convolutions made q * scale before converting: make_golden.py,
// exact_in_int8), so the tolerance is fp32's and the gates, from fp32 policies on the quantized model's activations,
// match exactly. Tiny models (32 x 32) with no activation near a rounding boundary: one rounded the other way would
// move the outputs far past fp32's tolerance (make_golden.py, INT8_CASES).
TEST_CASE("parity: I8 weights, per_task policies (tiny)") { check_case("per_task_tiny_int8"); }
TEST_CASE("parity: I8 weights, MTLoRA matrix, F16 adapters apart (tiny)") { check_case("mtlora_matrix_tiny_int8"); }
TEST_CASE("parity: I8 weights, MTLoRA ASPP SegFormer updecoder heads, transposed convolutions (tiny)") {
  check_case("mtlora_heads_tiny_int8");
}

// The research code's own models (scale-lab/AdaMTL, scale-lab/MTLoRA), saved by its save_checkpoint, with its
// outputs and gates on a fixed input: tests/data/research.
TEST_CASE("research code: AdaMTL per-task policies, blocks and tokens") { check_case("research_adamtl_per_task_small"); }
TEST_CASE("research code: MTLoRA matrix, HRNet heads") { check_case("research_mtlora_small"); }
TEST_CASE("research code: MTLoRA ASPP SegFormer and updecoder heads") { check_case("research_mtlora_heads_small"); }

TEST_CASE("budget: each executed block keeps ceil(f L) tokens and each stage ceil(f depth) blocks") {
  GoldenCase golden;
  REQUIRE(adarun::testing::load_golden_case("per_task_small", &golden).is_ok());
  std::unique_ptr<adarun::Model> model;
  REQUIRE(adarun::Model::load_file(golden.directory + "/model.adarun", &model).is_ok());
  std::unique_ptr<adarun::Session> session;
  REQUIRE(adarun::Session::create(*model, &session).is_ok());
  adarun::NpyArray input;
  REQUIRE(adarun::read_npy(golden.directory + "/input.npy", &input).is_ok());
  CHECK_FALSE(session->set_budget(1.5f).is_ok());
  int64_t previous_macs = 0;
  for (float f : {1.0f, 0.75f, 0.5f, 0.25f}) {
    REQUIRE(session->set_budget(f).is_ok());
    REQUIRE(session->run(input.values.data(), static_cast<int64_t>(input.values.size())).is_ok());
    const adarun::FrameStats& stats = session->stats();
    for (int i = 0; i < adarun::kStages; ++i) {
      const adarun::StageGeometry& stage = model->config().stages[i];
      int64_t blocks_on = 0;
      for (int64_t j = 0; j < stage.depth; ++j) {
        blocks_on += stats.blocks[i][j];
        if (stats.blocks[i][j]) CHECK(stats.tokens_kept[i][j] == int64_t(std::ceil(double(f) * double(stage.tokens))));
      }
      CHECK(blocks_on == int64_t(std::ceil(double(f) * double(stage.depth))));
    }
    if (previous_macs) CHECK(stats.macs_executed < previous_macs);
    previous_macs = stats.macs_executed;
  }
}
