#pragma once
// A plan as text, one op a line (`adarun info --plan yes`).
#include <string>

#include "engine/src/plan.h"

namespace adarun {

std::string plan_text(const Plan& plan);

}  // namespace adarun
