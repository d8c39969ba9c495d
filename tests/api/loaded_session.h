#pragma once
// The golden model and a session on it through the C API, freed at the end of the test.
#include <doctest/doctest.h>

#include <vector>

#include "tests/api/api_test_support.h"

namespace adarun_test {

struct Loaded {
  adarun_model* model = nullptr;
  adarun_session* session = nullptr;
  int32_t size = 0, tasks = 0;

  Loaded() {
    REQUIRE_MESSAGE(adarun_model_load_file(model_path().c_str(), &model) == ADARUN_OK, adarun_last_error());
    REQUIRE(adarun_session_create(model, &session) == ADARUN_OK);
    REQUIRE(adarun_model_image_size(model, &size) == ADARUN_OK);
    REQUIRE(adarun_model_task_count(model, &tasks) == ADARUN_OK);
  }
  ~Loaded() {
    adarun_session_free(session);
    adarun_model_free(model);
  }
  Loaded(const Loaded&) = delete;
  Loaded& operator=(const Loaded&) = delete;
  std::vector<std::vector<float>> outputs() const { return adarun_test::outputs(session, tasks); }
};

}  // namespace adarun_test
