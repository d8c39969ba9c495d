#include <doctest/doctest.h>

#include <tuple>

#include "engine/src/window_plan.h"

namespace {

adarun::StageGeometry stage_of(int64_t resolution, int64_t window, int64_t shift) {
  adarun::StageGeometry stage;
  stage.resolution = resolution;
  stage.tokens = resolution * resolution;
  stage.window = window;
  stage.window_tokens = window * window;
  stage.windows = stage.tokens / stage.window_tokens;
  stage.shift = shift;
  return stage;
}

// torch.roll(x, -shift) then window_partition, written the long way: rolled[r][c] = grid[(r+s)%R][(c+s)%R].
int32_t rolled_window_token(int64_t resolution, int64_t window, int64_t shift, int64_t w, int64_t p) {
  const int64_t grid = resolution / window;
  const int64_t rolled_row = (w / grid) * window + p / window;
  const int64_t rolled_col = (w % grid) * window + p % window;
  return static_cast<int32_t>(((rolled_row + shift) % resolution) * resolution + (rolled_col + shift) % resolution);
}

}  // namespace

TEST_CASE("window plan: orders match roll + partition") {
  for (auto [resolution, window, shift] : {std::tuple<int64_t, int64_t, int64_t>{14, 7, 3}, {8, 4, 2}, {12, 6, 3}}) {
    const adarun::WindowPlan plan = adarun::make_window_plan(stage_of(resolution, window, shift));
    REQUIRE(plan.shifted_order.size() == size_t(resolution * resolution));
    for (int64_t w = 0; w < resolution * resolution / (window * window); ++w) {
      for (int64_t p = 0; p < window * window; ++p) {
        CHECK(plan.plain_order[w * window * window + p] == rolled_window_token(resolution, window, 0, w, p));
        CHECK(plan.shifted_order[w * window * window + p] == rolled_window_token(resolution, window, shift, w, p));
      }
    }
  }
}

TEST_CASE("window plan: unshifted stage has no mask") {
  const adarun::WindowPlan plan = adarun::make_window_plan(stage_of(7, 7, 0));
  CHECK(plan.shifted_order.empty());
  CHECK(plan.shifted_mask.empty());
}

TEST_CASE("window plan: shifted mask on a 4x4 grid, window 2, shift 1 (values worked by hand)") {
  const adarun::WindowPlan plan = adarun::make_window_plan(stage_of(4, 2, 1));
  REQUIRE(plan.shifted_mask.size() == 4 * 4 * 4);
  // Window 0 (rows 0-1, cols 0-1) lies in one region: no mask.
  for (int k = 0; k < 16; ++k) CHECK(plan.shifted_mask[k] == 0.0f);
  // Window 3 (rows 2-3, cols 2-3): its four tokens lie in four different regions.
  const float* last = plan.shifted_mask.data() + 3 * 16;
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) CHECK(last[i * 4 + j] == (i == j ? 0.0f : -100.0f));
  }
  // Window 1 (rows 0-1, cols 2-3): column 2 and column 3 differ, rows agree.
  const float* second = plan.shifted_mask.data() + 1 * 16;
  CHECK(second[0 * 4 + 2] == 0.0f);     // (0,2) with (1,2)
  CHECK(second[0 * 4 + 1] == -100.0f);  // (0,2) with (0,3)
}
