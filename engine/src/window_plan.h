#pragma once
// Precomputed token orders and masks for (shifted) window attention, per stage (SPEC 1).
#include <cstdint>
#include <vector>

#include "engine/src/config.h"

namespace adarun {

struct WindowPlan {
  // order[p] = grid token that sits at window position p (windows row-major, tokens row-major inside).
  std::vector<int32_t> plain_order;
  std::vector<int32_t> shifted_order;  // empty when the stage has no shift
  // [windows, window_tokens, window_tokens]: 0 inside a region, -100 across regions the roll joined.
  std::vector<float> shifted_mask;
};

WindowPlan make_window_plan(const StageGeometry& stage);

}  // namespace adarun
