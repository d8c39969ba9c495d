// Several sessions on one model, on several threads at once, each with its own tasks and thread
// count, must compute exactly what one session alone computes: the model is read-only and shared.
#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "tests/api/api_test_support.h"

namespace {

struct Job {
  std::vector<const char*> tasks;
  int32_t threads = 1;
  std::vector<std::vector<std::vector<float>>> frames;  // [frame][task]: what the job's session computed
  std::string error;
};

constexpr int kFrames = 3;

// Runs kFrames different frames on a session of its own; any failure ends up in job->error.
void run_job(adarun_model* model, int32_t size, int32_t task_count, Job* job) {
  adarun_session* session = nullptr;
  bool ok = adarun_session_create(model, &session) == ADARUN_OK &&
            adarun_session_set_tasks(session, job->tasks.data(), int32_t(job->tasks.size())) == ADARUN_OK &&
            adarun_session_set_threads(session, job->threads) == ADARUN_OK;
  for (int frame = 0; ok && frame < kFrames; ++frame) {
    const std::vector<float> input = adarun_test::tensor(size, 100 + frame);
    ok = adarun_session_run_tensor(session, input.data(), int64_t(input.size())) == ADARUN_OK;
    if (ok) job->frames.push_back(adarun_test::outputs(session, task_count));
  }
  if (!ok) job->error = adarun_last_error();
  adarun_session_free(session);
}

}  // namespace

TEST_CASE("four sessions on one model on four threads match single-session runs") {
  adarun_model* model = nullptr;
  REQUIRE(adarun_model_load_file(adarun_test::model_path().c_str(), &model) == ADARUN_OK);
  int32_t size = 0, task_count = 0;
  REQUIRE(adarun_model_image_size(model, &size) == ADARUN_OK);
  REQUIRE(adarun_model_task_count(model, &task_count) == ADARUN_OK);
  // Different task subsets change the OR-ed per-task gates, so the sessions really do different work.
  std::vector<Job> jobs = {{{}, 1, {}, {}}, {{"semseg"}, 2, {}, {}}, {{"sal", "normals"}, 1, {}, {}}, {{"human_parts", "semseg"}, 3, {}, {}}};
  std::vector<Job> alone = jobs;

  std::vector<std::thread> threads;
  for (Job& job : jobs) threads.emplace_back(run_job, model, size, task_count, &job);
  for (std::thread& thread : threads) thread.join();
  for (Job& job : alone) run_job(model, size, task_count, &job);  // one after another, for reference
  adarun_model_free(model);

  for (size_t j = 0; j < jobs.size(); ++j) {
    CAPTURE(j);
    REQUIRE_MESSAGE(jobs[j].error.empty(), jobs[j].error);
    REQUIRE_MESSAGE(alone[j].error.empty(), alone[j].error);
    REQUIRE(jobs[j].frames.size() == size_t{kFrames});
    for (int frame = 0; frame < kFrames; ++frame) {
      CAPTURE(frame);
      CHECK(jobs[j].frames[frame] == alone[j].frames[frame]);
    }
  }
}
