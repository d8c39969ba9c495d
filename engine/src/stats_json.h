#pragma once
// FrameStats as the JSON the CLI writes to stats.json.
#include <string>

#include "engine/src/frame_stats.h"

namespace adarun {

std::string stats_json(const FrameStats& stats, float gate_threshold);

}  // namespace adarun
