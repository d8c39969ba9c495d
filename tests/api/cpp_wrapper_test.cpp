// adarun.hpp: RAII ownership over the C API, and failures as adarun::Error with status and message.
#include <doctest/doctest.h>

#include <adarun/adarun.hpp>

#include <string>
#include <utility>

#include "tests/api/api_test_support.h"

TEST_CASE("C++ wrapper: load, query, run an image, read outputs and stats") {
  const adarun::Model model = adarun::Model::load_file(adarun_test::model_path());
  CHECK(model.image_size() == 224);
  CHECK(model.task_names() == std::vector<std::string>{"semseg", "human_parts", "sal", "normals"});
  CHECK(model.task_channels(model.task_index("human_parts")) == 7);
  adarun::Session session(model);
  session.set_tasks({"human_parts"});
  session.set_threads(2);
  session.set_profiling(true);
  const std::vector<uint8_t> pixels = adarun_test::image(64, 48, 3, 64 * 3);
  session.run_image(pixels.data(), 64, 48, 64 * 3, ADARUN_PIXEL_RGB8);
  const adarun::Output output = session.output(model.task_index("human_parts"));
  CHECK(output.channels == 7);
  CHECK(output.size() == 7 * 224 * 224);
  CHECK(session.stats().macs_executed > 0);
  int blocks_run = 0;
  for (int stage = 0; stage < model.stage_count(); ++stage) {
    const adarun::StageGates gates = session.stage_gates(stage);
    for (int b = 0; b < gates.blocks; ++b) blocks_run += gates.block_gates[b];
  }
  CHECK(blocks_run == session.stats().blocks_run);
  int64_t macs = 0;
  for (const adarun_op_info& op : session.ops()) macs += op.macs;
  CHECK(macs == session.stats().macs_executed);
}

TEST_CASE("C++ wrapper: failures throw adarun::Error carrying the C status and message") {
  try {
    adarun::Model::load_file("/nonexistent.adarun");
    FAIL("no exception");
  } catch (const adarun::Error& error) {
    CHECK(error.status() == ADARUN_IO_ERROR);
    CHECK(std::string(error.what()).find("/nonexistent.adarun") != std::string::npos);
  }
  const adarun::Model model = adarun::Model::load_file(adarun_test::model_path());
  adarun::Session session(model);
  CHECK_THROWS_AS(session.set_tasks({"depth"}), adarun::Error);
  CHECK_THROWS_AS(session.set_threads(0), adarun::Error);
  CHECK_THROWS_AS(session.run_tensor({1.0f, 2.0f}), adarun::Error);
  CHECK_THROWS_AS(session.output(0), adarun::Error);
}

TEST_CASE("C++ wrapper: sessions and models move, and a session outlives its model") {
  adarun::Model model = adarun::Model::load_file(adarun_test::model_path());
  adarun::Session session(model);
  adarun::Model moved = std::move(model);
  CHECK(moved.task_count() == 4);
  { const adarun::Model gone = std::move(moved); }
  adarun::Session other = std::move(session);
  other.run_tensor(adarun_test::tensor(224));
  CHECK(other.output(0).channels == 21);
}
