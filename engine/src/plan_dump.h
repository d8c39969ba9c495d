#pragma once
// A plan as text (`adarun info --plan`): one op a line, then every buffer with its size, arena offset and lifetime.
#include <string>

#include "engine/src/plan.h"

namespace adarun {

std::string plan_text(const Plan& plan);

}  // namespace adarun
