#include "engine/src/stats_json.h"

#include <sstream>

#include "weights/json.h"

namespace adarun {

std::string stats_json(const FrameStats& stats, float gate_threshold, float budget) {
  std::ostringstream out;
  out << "{\n  \"tasks\": [";
  for (size_t i = 0; i < stats.tasks.size(); ++i) out << (i ? ", " : "") << json_quote(stats.tasks[i]);
  out << "],\n  \"gate_threshold\": " << gate_threshold;
  out << ",\n  \"budget\": " << budget;
  out << ",\n  \"macs_executed\": " << stats.macs_executed;
  out << ",\n  \"macs_static\": " << stats.macs_static;
  out << ",\n  \"blocks\": " << json_nested_list(stats.blocks);
  out << ",\n  \"tokens_kept\": " << json_nested_list(stats.tokens_kept);
  out << ",\n  \"milliseconds\": " << stats.milliseconds << "\n}\n";
  return out.str();
}

}  // namespace adarun
