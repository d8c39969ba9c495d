#pragma once
// What one frame did: the gate decisions and the work they left.
#include <cstdint>
#include <string>
#include <vector>

namespace adarun {

struct FrameStats {
  std::vector<std::string> tasks;                         // the tasks run
  int64_t macs_executed = 0;
  int64_t macs_static = 0;                                // the static model for the same tasks
  std::vector<std::vector<uint8_t>> blocks;               // [stage][block]: block gate, 1 = on
  std::vector<std::vector<int64_t>> tokens_kept;          // [stage][block]: tokens through the MLP, 0 = skipped
  std::vector<std::vector<std::vector<uint8_t>>> token_masks;  // [stage][block][token]; empty without token gating
  int64_t tokens_reused = 0;  // streaming: block input tokens whose stored outputs were reused, summed over the blocks run
  double milliseconds = 0.0;
};

}  // namespace adarun
