// The C API's contract: statuses and messages for bad arguments, loading, queries, both input paths.
#include <doctest/doctest.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>

#include "tests/api/api_test_support.h"
#include "tests/api/loaded_session.h"

namespace {

using adarun_test::Loaded;

// status is the expected one, and the thread's message names the function and says something.
void check_failure(adarun_status status, adarun_status expected, const char* function) {
  CAPTURE(function);
  CHECK(adarun_status_name(status) == std::string(adarun_status_name(expected)));
  const std::string message = adarun_last_error();
  CHECK(message.rfind(std::string(function) + ": ", 0) == 0);
  CHECK(message.size() > std::strlen(function) + 2);
}

std::string temporary_file(const char* name, const std::string& bytes) {
  const std::string path = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/adarun_c_api_test_" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string file_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("version: the macros, the packed number and the text agree") {
  CHECK(adarun_version() == ADARUN_VERSION);
  CHECK(adarun_version() == ((ADARUN_VERSION_MAJOR << 16) | (ADARUN_VERSION_MINOR << 8) | ADARUN_VERSION_PATCH));
  const std::string text = std::to_string(ADARUN_VERSION_MAJOR) + "." + std::to_string(ADARUN_VERSION_MINOR) + "." +
                           std::to_string(ADARUN_VERSION_PATCH);
  CHECK(adarun_version_string() == text);
  CHECK(adarun_status_name(ADARUN_BAD_MODEL) == std::string("ADARUN_BAD_MODEL"));
  CHECK(adarun_status_name(static_cast<adarun_status>(7)) == std::string("unknown status"));
}

TEST_CASE("NULL handles and pointers give ADARUN_INVALID_ARGUMENT and a message, never a crash") {
  Loaded loaded;
  adarun_model* model = loaded.model;
  adarun_session* session = loaded.session;
  int32_t value = 0;
  const char* name = nullptr;
  const float* data = nullptr;
  int64_t shape[3];
  adarun_stats stats;
  const uint8_t pixel[3] = {0, 0, 0};
  const float input = 0.0f;
  constexpr adarun_status kInvalid = ADARUN_INVALID_ARGUMENT;

  adarun_model* out_model = model;  // must come back NULL
  check_failure(adarun_model_load_file(nullptr, &out_model), kInvalid, "adarun_model_load_file");
  CHECK(out_model == nullptr);
  check_failure(adarun_model_load_file(adarun_test::model_path().c_str(), nullptr), kInvalid, "adarun_model_load_file");
  check_failure(adarun_model_load_memory(nullptr, 10, &out_model), kInvalid, "adarun_model_load_memory");
  check_failure(adarun_model_load_memory(pixel, 3, nullptr), kInvalid, "adarun_model_load_memory");
  check_failure(adarun_model_image_size(nullptr, &value), kInvalid, "adarun_model_image_size");
  check_failure(adarun_model_image_size(model, nullptr), kInvalid, "adarun_model_image_size");
  check_failure(adarun_model_task_count(nullptr, &value), kInvalid, "adarun_model_task_count");
  check_failure(adarun_model_task_count(model, nullptr), kInvalid, "adarun_model_task_count");
  check_failure(adarun_model_task_name(nullptr, 0, &name), kInvalid, "adarun_model_task_name");
  check_failure(adarun_model_task_name(model, 0, nullptr), kInvalid, "adarun_model_task_name");
  check_failure(adarun_model_task_channels(nullptr, 0, &value), kInvalid, "adarun_model_task_channels");
  check_failure(adarun_model_task_channels(model, 0, nullptr), kInvalid, "adarun_model_task_channels");
  check_failure(adarun_model_task_index(nullptr, "semseg", &value), kInvalid, "adarun_model_task_index");
  check_failure(adarun_model_task_index(model, nullptr, &value), kInvalid, "adarun_model_task_index");
  check_failure(adarun_model_task_index(model, "semseg", nullptr), kInvalid, "adarun_model_task_index");
  check_failure(adarun_model_stage_count(nullptr, &value), kInvalid, "adarun_model_stage_count");
  check_failure(adarun_model_stage_count(model, nullptr), kInvalid, "adarun_model_stage_count");

  adarun_session* out_session = session;
  check_failure(adarun_session_create(nullptr, &out_session), kInvalid, "adarun_session_create");
  CHECK(out_session == nullptr);
  check_failure(adarun_session_create(model, nullptr), kInvalid, "adarun_session_create");
  check_failure(adarun_session_set_threads(nullptr, 1), kInvalid, "adarun_session_set_threads");
  check_failure(adarun_session_set_tasks(nullptr, nullptr, 0), kInvalid, "adarun_session_set_tasks");
  check_failure(adarun_session_set_tasks(session, nullptr, 1), kInvalid, "adarun_session_set_tasks");
  const char* null_name[1] = {nullptr};
  check_failure(adarun_session_set_tasks(session, null_name, 1), kInvalid, "adarun_session_set_tasks");
  check_failure(adarun_session_set_gate_threshold(nullptr, 0.0f), kInvalid, "adarun_session_set_gate_threshold");
  check_failure(adarun_session_set_budget(nullptr, 0.5f), kInvalid, "adarun_session_set_budget");
  check_failure(adarun_session_run_image(nullptr, pixel, 1, 1, 3, ADARUN_PIXEL_RGB8), kInvalid, "adarun_session_run_image");
  check_failure(adarun_session_run_image(session, nullptr, 1, 1, 3, ADARUN_PIXEL_RGB8), kInvalid, "adarun_session_run_image");
  check_failure(adarun_session_run_tensor(nullptr, &input, 1), kInvalid, "adarun_session_run_tensor");
  check_failure(adarun_session_run_tensor(session, nullptr, 1), kInvalid, "adarun_session_run_tensor");
  check_failure(adarun_session_output(nullptr, 0, &data, shape), kInvalid, "adarun_session_output");
  check_failure(adarun_session_output(session, 0, nullptr, shape), kInvalid, "adarun_session_output");
  check_failure(adarun_session_output(session, 0, &data, nullptr), kInvalid, "adarun_session_output");
  check_failure(adarun_session_stats(nullptr, &stats, sizeof stats), kInvalid, "adarun_session_stats");
  check_failure(adarun_session_stats(session, nullptr, sizeof stats), kInvalid, "adarun_session_stats");
  const uint8_t* gates = nullptr;
  const int64_t* tokens = nullptr;
  check_failure(adarun_session_stage_gates(nullptr, 0, &gates, &tokens, &value), kInvalid, "adarun_session_stage_gates");
  check_failure(adarun_session_stage_gates(session, 0, nullptr, &tokens, &value), kInvalid, "adarun_session_stage_gates");
  check_failure(adarun_session_stage_gates(session, 0, &gates, nullptr, &value), kInvalid, "adarun_session_stage_gates");
  check_failure(adarun_session_stage_gates(session, 0, &gates, &tokens, nullptr), kInvalid, "adarun_session_stage_gates");
  adarun_model_free(nullptr);
  adarun_session_free(nullptr);
}

TEST_CASE("a success clears the thread's message") {
  Loaded loaded;
  int32_t size = 0;
  REQUIRE(adarun_session_set_threads(loaded.session, 0) == ADARUN_INVALID_ARGUMENT);
  CHECK(std::string(adarun_last_error()) != "");
  REQUIRE(adarun_model_image_size(loaded.model, &size) == ADARUN_OK);
  CHECK(std::string(adarun_last_error()) == "");
}

TEST_CASE("loading: unreadable files are I/O errors, bad bytes bad models, impossible sizes out of memory; *model stays NULL") {
  adarun_model* model = nullptr;
  check_failure(adarun_model_load_file("/nonexistent/model.adarun", &model), ADARUN_IO_ERROR, "adarun_model_load_file");
  check_failure(adarun_model_load_file("/", &model), ADARUN_IO_ERROR, "adarun_model_load_file");
  const std::string garbage = "not a weight file at all, just some text";
  check_failure(adarun_model_load_file(temporary_file("garbage.adarun", garbage).c_str(), &model), ADARUN_BAD_MODEL,
                "adarun_model_load_file");
  check_failure(adarun_model_load_memory(garbage.data(), garbage.size(), &model), ADARUN_BAD_MODEL, "adarun_model_load_memory");
  check_failure(adarun_model_load_memory(garbage.data(), 0, &model), ADARUN_BAD_MODEL, "adarun_model_load_memory");
  // A valid file cut short: the header promises tensors the bytes do not hold.
  const std::string bytes = file_bytes(adarun_test::model_path());
  check_failure(adarun_model_load_memory(bytes.data(), bytes.size() / 2, &model), ADARUN_BAD_MODEL, "adarun_model_load_memory");
  // Sizes no allocation can hold fail before the buffer is read.
  const size_t huge = std::numeric_limits<size_t>::max();
  check_failure(adarun_model_load_memory(bytes.data(), huge, &model), ADARUN_OUT_OF_MEMORY, "adarun_model_load_memory");
  check_failure(adarun_model_load_memory(bytes.data(), huge / 2, &model), ADARUN_OUT_OF_MEMORY, "adarun_model_load_memory");
  CHECK(model == nullptr);
}

TEST_CASE("model queries: image size, tasks, their names and channels") {
  Loaded loaded;
  CHECK(loaded.size == 224);
  REQUIRE(loaded.tasks == 4);
  const char* names[] = {"semseg", "human_parts", "sal", "normals"};
  const int32_t channels[] = {21, 7, 1, 3};
  for (int32_t t = 0; t < loaded.tasks; ++t) {
    const char* name = nullptr;
    int32_t outputs = 0, index = -1;
    REQUIRE(adarun_model_task_name(loaded.model, t, &name) == ADARUN_OK);
    CHECK(std::string(name) == names[t]);
    REQUIRE(adarun_model_task_channels(loaded.model, t, &outputs) == ADARUN_OK);
    CHECK(outputs == channels[t]);
    REQUIRE(adarun_model_task_index(loaded.model, names[t], &index) == ADARUN_OK);
    CHECK(index == t);
  }
  const char* name = nullptr;
  int32_t value = 0;
  check_failure(adarun_model_task_name(loaded.model, 4, &name), ADARUN_INVALID_ARGUMENT, "adarun_model_task_name");
  check_failure(adarun_model_task_channels(loaded.model, -1, &value), ADARUN_INVALID_ARGUMENT, "adarun_model_task_channels");
  check_failure(adarun_model_task_index(loaded.model, "depth", &value), ADARUN_INVALID_ARGUMENT, "adarun_model_task_index");
}

TEST_CASE("a model loaded from memory gives the same outputs as one loaded from its file; the buffer may go at once") {
  Loaded from_file;
  std::string bytes = file_bytes(adarun_test::model_path());
  adarun_model* model = nullptr;
  REQUIRE_MESSAGE(adarun_model_load_memory(bytes.data(), bytes.size(), &model) == ADARUN_OK, adarun_last_error());
  bytes.assign(bytes.size(), '\0');  // the library holds its own copy
  adarun_session* session = nullptr;
  REQUIRE(adarun_session_create(model, &session) == ADARUN_OK);
  const std::vector<float> input = adarun_test::tensor(from_file.size);
  REQUIRE(adarun_session_run_tensor(from_file.session, input.data(), int64_t(input.size())) == ADARUN_OK);
  REQUIRE(adarun_session_run_tensor(session, input.data(), int64_t(input.size())) == ADARUN_OK);
  CHECK(adarun_test::outputs(session, from_file.tasks) == adarun_test::outputs(from_file.session, from_file.tasks));
  adarun_session_free(session);
  adarun_model_free(model);
}

TEST_CASE("RGBA8 with a padded row stride gives exactly the RGB8 outputs") {
  Loaded loaded;
  const int width = 150, height = 97;
  const std::vector<uint8_t> rgb = adarun_test::image(width, height, 3, width * 3);
  const std::vector<uint8_t> rgba = adarun_test::image(width, height, 4, width * 4 + 13);
  REQUIRE(adarun_session_run_image(loaded.session, rgb.data(), width, height, width * 3, ADARUN_PIXEL_RGB8) == ADARUN_OK);
  const auto from_rgb = adarun_test::outputs(loaded.session, loaded.tasks);
  REQUIRE(adarun_session_run_image(loaded.session, rgba.data(), width, height, width * 4 + 13, ADARUN_PIXEL_RGBA8) == ADARUN_OK);
  CHECK(adarun_test::outputs(loaded.session, loaded.tasks) == from_rgb);
  CHECK(from_rgb[0].size() == size_t{21} * 224 * 224);
}

TEST_CASE("non-square images of any size run, wide and tall") {
  Loaded loaded;
  for (const auto& [width, height] : {std::pair{320, 180}, std::pair{90, 400}, std::pair{1, 1}}) {
    CAPTURE(width);
    CAPTURE(height);
    const std::vector<uint8_t> pixels = adarun_test::image(width, height, 3, width * 3);
    REQUIRE_MESSAGE(adarun_session_run_image(loaded.session, pixels.data(), width, height, width * 3, ADARUN_PIXEL_RGB8) == ADARUN_OK,
                    adarun_last_error());
    const float* data = nullptr;
    int64_t shape[3] = {0, 0, 0};
    REQUIRE(adarun_session_output(loaded.session, 3, &data, shape) == ADARUN_OK);
    CHECK(shape[0] == 3);
    CHECK(shape[1] == 224);
    CHECK(shape[2] == 224);
    CHECK(std::isfinite(data[0]));
  }
}

TEST_CASE("bad images: empty, too large, short stride, and formats other than RGB8 / RGBA8 (greyscale has none)") {
  Loaded loaded;
  const std::vector<uint8_t> pixels = adarun_test::image(8, 8, 4, 32);
  const char* run = "adarun_session_run_image";
  check_failure(adarun_session_run_image(loaded.session, pixels.data(), 0, 0, 0, ADARUN_PIXEL_RGB8), ADARUN_INVALID_ARGUMENT, run);
  check_failure(adarun_session_run_image(loaded.session, pixels.data(), 8, 0, 24, ADARUN_PIXEL_RGB8), ADARUN_INVALID_ARGUMENT, run);
  check_failure(adarun_session_run_image(loaded.session, pixels.data(), -8, 8, 24, ADARUN_PIXEL_RGB8), ADARUN_INVALID_ARGUMENT, run);
  check_failure(adarun_session_run_image(loaded.session, pixels.data(), 20000, 1, 60000, ADARUN_PIXEL_RGB8), ADARUN_INVALID_ARGUMENT, run);
  check_failure(adarun_session_run_image(loaded.session, pixels.data(), 8, 8, 31, ADARUN_PIXEL_RGBA8), ADARUN_INVALID_ARGUMENT, run);
  check_failure(adarun_session_run_image(loaded.session, pixels.data(), 8, 8, 8, static_cast<adarun_pixel_format>(0)), ADARUN_INVALID_ARGUMENT, run);
  check_failure(adarun_session_run_image(loaded.session, pixels.data(), 8, 8, 32, static_cast<adarun_pixel_format>(3)), ADARUN_INVALID_ARGUMENT, run);
}

TEST_CASE("float tensors: NaN and infinities are refused before any work, and so is a wrong size") {
  Loaded loaded;
  std::vector<float> input = adarun_test::tensor(loaded.size);
  const char* run = "adarun_session_run_tensor";
  check_failure(adarun_session_run_tensor(loaded.session, input.data(), int64_t(input.size()) - 1), ADARUN_INVALID_ARGUMENT, run);
  check_failure(adarun_session_run_tensor(loaded.session, input.data(), int64_t{1} << 40), ADARUN_INVALID_ARGUMENT, run);  // not read
  input[1234] = std::numeric_limits<float>::quiet_NaN();
  check_failure(adarun_session_run_tensor(loaded.session, input.data(), int64_t(input.size())), ADARUN_INVALID_ARGUMENT, run);
  input[1234] = -std::numeric_limits<float>::infinity();
  check_failure(adarun_session_run_tensor(loaded.session, input.data(), int64_t(input.size())), ADARUN_INVALID_ARGUMENT, run);
  const float* data = nullptr;
  int64_t shape[3];
  check_failure(adarun_session_output(loaded.session, 0, &data, shape), ADARUN_INVALID_ARGUMENT, "adarun_session_output");
}

TEST_CASE("options: threads, tasks, threshold and budget are checked") {
  Loaded loaded;
  check_failure(adarun_session_set_threads(loaded.session, 0), ADARUN_INVALID_ARGUMENT, "adarun_session_set_threads");
  check_failure(adarun_session_set_threads(loaded.session, -3), ADARUN_INVALID_ARGUMENT, "adarun_session_set_threads");
  check_failure(adarun_session_set_threads(loaded.session, 1025), ADARUN_INVALID_ARGUMENT, "adarun_session_set_threads");
  CHECK(adarun_session_set_threads(loaded.session, 2) == ADARUN_OK);
  const char* unknown[] = {"semseg", "depth"};
  check_failure(adarun_session_set_tasks(loaded.session, unknown, 2), ADARUN_INVALID_ARGUMENT, "adarun_session_set_tasks");
  CHECK(std::string(adarun_last_error()).find("'depth'") != std::string::npos);
  const char* one[] = {"sal"};
  check_failure(adarun_session_set_tasks(loaded.session, one, -1), ADARUN_INVALID_ARGUMENT, "adarun_session_set_tasks");
  CHECK(adarun_session_set_tasks(loaded.session, one, 1) == ADARUN_OK);
  CHECK(adarun_session_set_tasks(loaded.session, nullptr, 0) == ADARUN_OK);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  check_failure(adarun_session_set_gate_threshold(loaded.session, nan), ADARUN_INVALID_ARGUMENT, "adarun_session_set_gate_threshold");
  CHECK(adarun_session_set_gate_threshold(loaded.session, -1e9f) == ADARUN_OK);
  check_failure(adarun_session_set_budget(loaded.session, 1.5f), ADARUN_INVALID_ARGUMENT, "adarun_session_set_budget");
  check_failure(adarun_session_set_budget(loaded.session, -0.1f), ADARUN_INVALID_ARGUMENT, "adarun_session_set_budget");
  check_failure(adarun_session_set_budget(loaded.session, nan), ADARUN_INVALID_ARGUMENT, "adarun_session_set_budget");
  CHECK(adarun_session_set_budget(loaded.session, 0.5f) == ADARUN_OK);
}

TEST_CASE("outputs and stats: only the tasks the last run computed; a budget cuts the MACs") {
  Loaded loaded;
  adarun_stats stats;
  check_failure(adarun_session_stats(loaded.session, &stats, sizeof stats), ADARUN_INVALID_ARGUMENT, "adarun_session_stats");
  const char* subset[] = {"normals", "semseg"};
  REQUIRE(adarun_session_set_tasks(loaded.session, subset, 2) == ADARUN_OK);
  const std::vector<float> input = adarun_test::tensor(loaded.size);
  REQUIRE(adarun_session_run_tensor(loaded.session, input.data(), int64_t(input.size())) == ADARUN_OK);
  const auto outputs = adarun_test::outputs(loaded.session, loaded.tasks);
  CHECK(outputs[0].size() == size_t{21} * 224 * 224);
  CHECK(outputs[1].empty());
  CHECK(outputs[2].empty());
  CHECK(outputs[3].size() == size_t{3} * 224 * 224);
  const float* data = nullptr;
  int64_t shape[3];
  check_failure(adarun_session_output(loaded.session, 1, &data, shape), ADARUN_INVALID_ARGUMENT, "adarun_session_output");
  check_failure(adarun_session_output(loaded.session, 4, &data, shape), ADARUN_INVALID_ARGUMENT, "adarun_session_output");

  REQUIRE(adarun_session_stats(loaded.session, &stats, sizeof stats) == ADARUN_OK);
  CHECK(stats.blocks_total == 8);
  CHECK(stats.blocks_run >= 1);
  CHECK(stats.blocks_run <= 8);
  CHECK(stats.tokens_total == 2 * (3136 + 784 + 196 + 49));
  CHECK(stats.tokens_kept <= stats.tokens_total);
  CHECK(stats.macs_executed > 0);
  CHECK(stats.milliseconds > 0.0);
  REQUIRE(adarun_session_set_gate_threshold(loaded.session, -1e9f) == ADARUN_OK);  // every gate on
  REQUIRE(adarun_session_run_tensor(loaded.session, input.data(), int64_t(input.size())) == ADARUN_OK);
  adarun_stats all_on;
  REQUIRE(adarun_session_stats(loaded.session, &all_on, sizeof all_on) == ADARUN_OK);
  CHECK(all_on.blocks_run == 8);
  CHECK(all_on.tokens_kept == all_on.tokens_total);
  REQUIRE(adarun_session_set_budget(loaded.session, 0.25f) == ADARUN_OK);
  REQUIRE(adarun_session_run_tensor(loaded.session, input.data(), int64_t(input.size())) == ADARUN_OK);
  adarun_stats budget;
  REQUIRE(adarun_session_stats(loaded.session, &budget, sizeof budget) == ADARUN_OK);
  CHECK(budget.macs_executed < all_on.macs_executed);
  CHECK(budget.macs_static == all_on.macs_static);
}

TEST_CASE("op profile: per op of the plan, adding up to the run's MACs; gated-off blocks' ops do not run") {
  Loaded loaded;
  int32_t all_tasks = 0;
  REQUIRE(adarun_session_op_count(loaded.session, &all_tasks) == ADARUN_OK);
  const char* one[] = {"sal"};
  REQUIRE(adarun_session_set_tasks(loaded.session, one, 1) == ADARUN_OK);
  int32_t count = 0;
  REQUIRE(adarun_session_op_count(loaded.session, &count) == ADARUN_OK);
  CHECK(count < all_tasks);  // one head instead of four
  REQUIRE(adarun_session_set_profiling(loaded.session, 1) == ADARUN_OK);
  const std::vector<float> input = adarun_test::tensor(loaded.size);
  adarun_stats stats;
  int64_t executed = 0;
  for (float threshold : {-1e9f, 1e9f}) {  // every gate on, then every gate off
    REQUIRE(adarun_session_set_gate_threshold(loaded.session, threshold) == ADARUN_OK);
    REQUIRE(adarun_session_run_tensor(loaded.session, input.data(), int64_t(input.size())) == ADARUN_OK);
    REQUIRE(adarun_session_stats(loaded.session, &stats, sizeof stats) == ADARUN_OK);
    executed += stats.macs_executed;
  }
  CHECK(stats.arena_bytes > 0);
  int64_t macs = 0, macs_static = 0;
  for (int32_t i = 0; i < count; ++i) {
    adarun_op_info info;
    REQUIRE(adarun_session_op_info(loaded.session, i, &info, sizeof info) == ADARUN_OK);
    macs += info.macs;
    if (std::string(info.kind) != "policy") macs_static += info.macs_static;
    const std::string name = info.name;
    const size_t block = name.find(".block");
    const bool in_block = name.rfind("stage", 0) == 0 && block != std::string::npos && std::isdigit(static_cast<unsigned char>(name[block + 6]));
    if (in_block && std::string(info.op) != "block_gate") {
      CAPTURE(name);
      CHECK(info.runs == 1);  // a block's ops (its token policy too) ran with every gate on, not with every gate off
    } else if (std::string(info.op) != "block_gate") {
      CAPTURE(name);
      CHECK(info.runs == 2);
    }
  }
  CHECK(macs_static == stats.macs_static);
  CHECK(macs == executed);  // the all-on frame and the all-off frame together
  adarun_op_info info;
  check_failure(adarun_session_op_info(loaded.session, count, &info, sizeof info), ADARUN_INVALID_ARGUMENT, "adarun_session_op_info");
}

TEST_CASE("streaming: a repeated frame reuses stored outputs and gives the same answer; bad settings are refused") {
  Loaded loaded;
  check_failure(adarun_session_set_streaming(nullptr, 1, nullptr), ADARUN_INVALID_ARGUMENT, "adarun_session_set_streaming");
  adarun_streaming bad{0.05f, 0, 1.0f};
  check_failure(adarun_session_set_streaming(loaded.session, 1, &bad), ADARUN_INVALID_ARGUMENT, "adarun_session_set_streaming");
  check_failure(adarun_session_set_stream_noise(nullptr, 1.0f), ADARUN_INVALID_ARGUMENT, "adarun_session_set_stream_noise");
  for (float noise : {-2.0f, 256.0f, std::nanf("")}) {
    check_failure(adarun_session_set_stream_noise(loaded.session, noise), ADARUN_INVALID_ARGUMENT, "adarun_session_set_stream_noise");
    CHECK(std::string(adarun_last_error()).find("noise") != std::string::npos);
  }
  REQUIRE(adarun_session_set_streaming(loaded.session, 1, nullptr) == ADARUN_OK);
  const std::vector<float> input = adarun_test::tensor(loaded.size);
  REQUIRE(adarun_session_run_tensor(loaded.session, input.data(), int64_t(input.size())) == ADARUN_OK);
  adarun_stats first;
  REQUIRE(adarun_session_stats(loaded.session, &first, sizeof first) == ADARUN_OK);
  CHECK(first.tokens_reused == 0);
  const auto first_outputs = adarun_test::outputs(loaded.session, loaded.tasks);
  REQUIRE(adarun_session_run_tensor(loaded.session, input.data(), int64_t(input.size())) == ADARUN_OK);
  adarun_stats second;
  REQUIRE(adarun_session_stats(loaded.session, &second, sizeof second) == ADARUN_OK);
  CHECK(second.tokens_reused > 0);
  CHECK(second.macs_executed < first.macs_executed);
  CHECK(adarun_test::outputs(loaded.session, loaded.tasks) == first_outputs);
  REQUIRE(adarun_session_set_streaming(loaded.session, 0, nullptr) == ADARUN_OK);
  const float* data = nullptr;
  int64_t shape[3];
  check_failure(adarun_session_output(loaded.session, 0, &data, shape), ADARUN_INVALID_ARGUMENT, "adarun_session_output");
}

int64_t tokens_reused_after(adarun_session* session, const std::vector<float>& frame) {
  REQUIRE(adarun_session_run_tensor(session, frame.data(), int64_t(frame.size())) == ADARUN_OK);
  adarun_stats stats;
  REQUIRE(adarun_session_stats(session, &stats, sizeof stats) == ADARUN_OK);
  return stats.tokens_reused;
}

TEST_CASE("streaming: the camera's noise, set apart, holds across adarun_session_set_streaming and lets noise within 3 noise go") {
  Loaded loaded;
  const std::vector<float> still = adarun_test::tensor(loaded.size);
  std::vector<float> noisy = still;  // 4 grey levels of alternating sign on every value (SPEC 1: ImageNet std)
  const float std_of[3] = {0.229f, 0.224f, 0.225f};
  for (size_t k = 0; k < noisy.size(); ++k) noisy[k] += (k % 2 ? 4.0f : -4.0f) / (255.0f * std_of[k / (noisy.size() / 3)]);
  REQUIRE(adarun_session_set_stream_noise(loaded.session, 2.0f) == ADARUN_OK);  // within 6 grey levels
  REQUIRE(adarun_session_set_streaming(loaded.session, 1, nullptr) == ADARUN_OK);
  CHECK(tokens_reused_after(loaded.session, still) == 0);
  CHECK(tokens_reused_after(loaded.session, noisy) > 0);
  REQUIRE(adarun_session_set_stream_noise(loaded.session, 0.0f) == ADARUN_OK);  // restarts the stream
  CHECK(tokens_reused_after(loaded.session, still) == 0);
  CHECK(tokens_reused_after(loaded.session, noisy) == 0);  // the token test: every stage-0 token moved
}

TEST_CASE("stage gates: per block, summing to the stats; only after a run, only for stages that exist") {
  Loaded loaded;
  const uint8_t* gates = nullptr;
  const int64_t* tokens = nullptr;
  int32_t blocks = 0, stages = 0;
  const char* function = "adarun_session_stage_gates";
  check_failure(adarun_session_stage_gates(loaded.session, 0, &gates, &tokens, &blocks), ADARUN_INVALID_ARGUMENT, function);
  const std::vector<float> input = adarun_test::tensor(loaded.size);
  REQUIRE(adarun_session_run_tensor(loaded.session, input.data(), int64_t(input.size())) == ADARUN_OK);
  REQUIRE(adarun_model_stage_count(loaded.model, &stages) == ADARUN_OK);
  REQUIRE(stages == 4);
  adarun_stats stats;
  REQUIRE(adarun_session_stats(loaded.session, &stats, sizeof stats) == ADARUN_OK);
  int64_t blocks_run = 0, tokens_kept = 0;
  for (int32_t stage = 0; stage < stages; ++stage) {
    REQUIRE(adarun_session_stage_gates(loaded.session, stage, &gates, &tokens, &blocks) == ADARUN_OK);
    CHECK(blocks == 2);
    for (int32_t b = 0; b < blocks; ++b) {
      CHECK(gates[b] <= 1);
      CHECK((gates[b] == 1 || tokens[b] == 0));
      blocks_run += gates[b];
      tokens_kept += tokens[b];
    }
  }
  CHECK(blocks_run == stats.blocks_run);
  CHECK(tokens_kept == stats.tokens_kept);
  CHECK(blocks_run < stats.blocks_total);  // this golden case skips a block at the trained threshold
  check_failure(adarun_session_stage_gates(loaded.session, 4, &gates, &tokens, &blocks), ADARUN_INVALID_ARGUMENT, function);
  check_failure(adarun_session_stage_gates(loaded.session, -1, &gates, &tokens, &blocks), ADARUN_INVALID_ARGUMENT, function);
}

TEST_CASE("stats: a caller built against a shorter struct gets only the fields it knows") {
  Loaded loaded;
  const std::vector<float> input = adarun_test::tensor(loaded.size);
  REQUIRE(adarun_session_run_tensor(loaded.session, input.data(), int64_t(input.size())) == ADARUN_OK);
  adarun_stats stats;
  std::memset(&stats, 0xAB, sizeof stats);
  REQUIRE(adarun_session_stats(loaded.session, &stats, sizeof(int64_t)) == ADARUN_OK);
  CHECK(stats.macs_executed > 0);
  int64_t untouched;
  std::memset(&untouched, 0xAB, sizeof untouched);
  CHECK(stats.macs_static == untouched);
}

TEST_CASE("sessions keep their model alive: the model may be freed first") {
  adarun_model* model = nullptr;
  REQUIRE(adarun_model_load_file(adarun_test::model_path().c_str(), &model) == ADARUN_OK);
  adarun_session* session = nullptr;
  REQUIRE(adarun_session_create(model, &session) == ADARUN_OK);
  adarun_model_free(model);
  const std::vector<float> input = adarun_test::tensor(224);
  CHECK(adarun_session_run_tensor(session, input.data(), int64_t(input.size())) == ADARUN_OK);
  adarun_session_free(session);
}
