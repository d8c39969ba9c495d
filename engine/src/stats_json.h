#pragma once
// FrameStats as the JSON the CLI writes to stats.json.
#include <string>

#include "engine/src/frame_stats.h"

namespace adarun {

// budget 0: none.
std::string stats_json(const FrameStats& stats, float gate_threshold, float budget);

}  // namespace adarun
