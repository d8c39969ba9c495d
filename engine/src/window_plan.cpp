#include "engine/src/window_plan.h"

namespace adarun {
namespace {

// Rolling the grid by -shift puts grid token (r + shift) % R at rolled position r.
std::vector<int32_t> window_order(const StageGeometry& stage, int64_t shift) {
  const int64_t resolution = stage.resolution;
  const int64_t window = stage.window;
  const int64_t grid = resolution / window;
  std::vector<int32_t> order;
  order.reserve(static_cast<size_t>(stage.tokens));
  for (int64_t window_row = 0; window_row < grid; ++window_row) {
    for (int64_t window_col = 0; window_col < grid; ++window_col) {
      for (int64_t r = 0; r < window; ++r) {
        for (int64_t c = 0; c < window; ++c) {
          const int64_t row = (window_row * window + r + shift) % resolution;
          const int64_t col = (window_col * window + c + shift) % resolution;
          order.push_back(static_cast<int32_t>(row * resolution + col));
        }
      }
    }
  }
  return order;
}

// Region of a rolled coordinate: the last `window` rows split at `shift` from the end.
int region(int64_t position, const StageGeometry& stage) {
  if (position < stage.resolution - stage.window) return 0;
  if (position < stage.resolution - stage.shift) return 1;
  return 2;
}

std::vector<float> shifted_mask(const StageGeometry& stage) {
  const int64_t window = stage.window;
  const int64_t grid = stage.resolution / window;
  const int64_t n = stage.window_tokens;
  std::vector<float> mask(static_cast<size_t>(stage.windows * n * n));
  std::vector<int> labels(static_cast<size_t>(n));
  for (int64_t w = 0; w < stage.windows; ++w) {
    for (int64_t p = 0; p < n; ++p) {
      const int64_t row = (w / grid) * window + p / window;
      const int64_t col = (w % grid) * window + p % window;
      labels[p] = 3 * region(row, stage) + region(col, stage);
    }
    float* window_mask = mask.data() + w * n * n;
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < n; ++j) window_mask[i * n + j] = labels[i] == labels[j] ? 0.0f : -100.0f;
    }
  }
  return mask;
}

}  // namespace

WindowPlan make_window_plan(const StageGeometry& stage) {
  WindowPlan plan;
  plan.plain_order = window_order(stage, 0);
  if (stage.shift > 0) {
    plan.shifted_order = window_order(stage, stage.shift);
    plan.shifted_mask = shifted_mask(stage);
  }
  return plan;
}

}  // namespace adarun
