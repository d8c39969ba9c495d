#pragma once
// `adarun bench --profile`: a session's op profile per frame, as a table and as JSON.
#include <string>

#include "engine/src/op_profile.h"
#include "engine/src/plan.h"

namespace adarun::cli {

// One line per op kind that ran (ms per frame, share of the frame, calls, GMACs, GFLOP/s), then the
// unattributed rest (scheduling, gate bookkeeping) and the frame.
std::string profile_table(const OpProfile& profile);
// The same rows as a JSON array of objects.
std::string profile_json(const OpProfile& profile);
// The `top` ops of the plan that took the most time per frame: name, op, ms/frame, share, runs per frame,
// rows per run (kept tokens for token-gated ops), GMACs, GFLOP/s.
std::string op_profile_table(const OpProfile& profile, const Plan& plan, size_t top);
// Every op that ran, as a JSON array of objects.
std::string op_profile_json(const OpProfile& profile, const Plan& plan);

}  // namespace adarun::cli
