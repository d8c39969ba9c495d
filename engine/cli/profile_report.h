#pragma once
// `adarun bench --profile yes`: a session's op profile per frame, as a table and as JSON.
#include <string>

#include "engine/src/op_profile.h"

namespace adarun::cli {

// One line per op kind that ran (ms per frame, share of the frame, calls, GMACs, GFLOP/s), then the
// unattributed rest (scheduling, gate bookkeeping) and the frame.
std::string profile_table(const OpProfile& profile);
// The same rows as a JSON array of objects.
std::string profile_json(const OpProfile& profile);

}  // namespace adarun::cli
