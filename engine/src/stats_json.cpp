#include "engine/src/stats_json.h"

#include <cstdio>
#include <sstream>

#include "weights/json.h"

namespace adarun {
namespace {

// Per stage, per block, the token gates as a string of 0 and 1 in token order ("" for a skipped block, or
// without token gating): compact enough for stats.json (9 114 characters for Swin-T 224).
std::string token_gates_json(const FrameStats& stats) {
  std::string text = "[";
  for (size_t stage = 0; stage < stats.token_masks.size(); ++stage) {
    text += stage ? ", [" : "[";
    for (size_t block = 0; block < stats.token_masks[stage].size(); ++block) {
      std::string gates;
      const bool ran = stage < stats.blocks.size() && block < stats.blocks[stage].size() && stats.blocks[stage][block];
      if (ran) {
        for (uint8_t kept : stats.token_masks[stage][block]) gates += kept ? '1' : '0';
      }
      text += (block ? ", \"" : "\"") + gates + "\"";
    }
    text += "]";
  }
  return text + "]";
}

}  // namespace

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
  out << ",\n  \"token_gates\": " << token_gates_json(stats);
  // To the microsecond, as stats.jsonl writes it (the stream's default 6 digits dropped one above 1 s).
  char milliseconds[32];
  std::snprintf(milliseconds, sizeof milliseconds, "%.3f", stats.milliseconds);
  out << ",\n  \"milliseconds\": " << milliseconds << "\n}\n";
  return out.str();
}

}  // namespace adarun
