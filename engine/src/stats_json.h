#pragma once
// FrameStats as the JSON the CLI writes to stats.json.
#include <string>
#include <vector>

#include "engine/src/frame_stats.h"

namespace adarun {

// [[a, b], [c]]: a list of lists of numbers as JSON (per stage, per block).
template <typename T>
std::string json_nested_list(const std::vector<std::vector<T>>& lists) {
  std::string text = "[";
  for (size_t i = 0; i < lists.size(); ++i) {
    text += i ? ", [" : "[";
    for (size_t j = 0; j < lists[i].size(); ++j) text += (j ? ", " : "") + std::to_string(lists[i][j]);
    text += "]";
  }
  return text + "]";
}

// budget 0: none.
std::string stats_json(const FrameStats& stats, float gate_threshold, float budget);

}  // namespace adarun
