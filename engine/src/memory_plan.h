#pragma once
// Lays a plan's buffers into one arena: buffers whose lifetimes (first to last op that uses them) do not
// overlap may share bytes. Greedy by size, largest first, each at the lowest offset free for its whole
// lifetime (the scheme of XNNPACK's memory planner).
#include <cstdint>

#include "engine/src/plan.h"

namespace adarun {

// Sets every buffer's first_op/last_op and offset, and plan->arena_floats.
void plan_memory(Plan* plan);

// Points every operand of the plan at `arena` (plan->arena_floats floats).
void bind_operands(Plan* plan, float* arena);

}  // namespace adarun
