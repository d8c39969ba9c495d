#pragma once
// The model config stored in a weight file, and the geometry derived from it.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/src/status.h"

namespace adarun {

class JsonValue;

constexpr int kStages = 4;

enum class PolicyMode { kNone, kSingle, kPerTask };

enum class Family { kAdaMTL, kMTLoRA };

// The layers of a stage's last block that fork one stream per task (MTLoRA, SPEC 3).
struct TaskBranches {
  bool proj = false;
  bool fc1 = false;
  bool fc2 = false;  // the research block returns task streams only when fc2 forks
  bool any() const { return fc2; }
};

struct LoraConfig {
  bool shared_separate = false;  // 'matrix' mode: branch layers keep the shared adapter apart
  std::array<int64_t, 4> shared_ranks{};
  std::vector<std::array<int64_t, 4>> task_ranks;  // indexed like ModelConfig::tasks
  std::array<TaskBranches, 4> branches{};
};

// An MTLoRA task's decoder head (weights/FORMAT.md, "MTLoRA decoder heads"); AdaMTL tasks keep the default.
enum class HeadKind { kHrnet, kAspp, kSegformer, kUpdecoder };
const char* head_kind_name(HeadKind kind);

// One transposed convolution of the updecoder head, from the previous width to `channels`.
struct DeconvLayer {
  int64_t channels = 0, kernel = 0, stride = 0, padding = 0, output_padding = 0;
  int64_t out_size(int64_t size) const { return (size - 1) * stride - 2 * padding + kernel + output_padding; }
};

struct HeadConfig {
  HeadKind kind = HeadKind::kHrnet;
  int64_t channels = 0;                       // aspp: each branch's width W; segformer: the embedding width E
  std::vector<int64_t> rates;                 // aspp: the dilation (= padding) of each 3x3 branch
  std::vector<DeconvLayer> deconv;            // updecoder, in order
  int64_t conv_kernel = 0, conv_padding = 0;  // updecoder: the conv after them
  std::vector<int64_t> upsample;              // updecoder: bilinear factors after the conv, in order
};

struct TaskInfo {
  std::string name;
  int64_t outputs = 0;
  HeadConfig head;  // MTLoRA
};

// Shapes of one backbone stage, derived from the config (SPEC 1).
struct StageGeometry {
  int64_t dim = 0;          // token channels inside the stage
  int64_t resolution = 0;   // the stage's token grid is resolution x resolution
  int64_t tokens = 0;       // resolution^2
  int64_t window = 0;       // min(window_size, resolution)
  int64_t window_tokens = 0;
  int64_t windows = 0;      // number of windows
  int64_t shift = 0;        // shift of odd blocks; 0 when resolution <= window
  int64_t heads = 0;
  int64_t head_dim = 0;
  int64_t depth = 0;
  int64_t mlp_hidden = 0;
  bool merges = false;       // patch merging follows (stages 0..2)
  int64_t out_dim = 0;       // stage output (after merging) as the decoders see it
  int64_t out_resolution = 0;
  int64_t out_tokens = 0;
};

struct ModelConfig {
  Family family = Family::kAdaMTL;
  int64_t img_size = 0;
  int64_t in_chans = 0;
  int64_t patch_size = 0;
  int64_t embed_dim = 0;
  std::vector<int64_t> depths;
  std::vector<int64_t> num_heads;
  std::vector<int64_t> mlp_hidden;
  int64_t window_size = 0;
  bool ape = false;
  bool patch_norm = true;
  bool ada_blocks = false;
  bool ada_tokens = false;
  PolicyMode policy_mode = PolicyMode::kNone;
  int64_t block_ctrl_dim = 0;
  int64_t token_ctrl_dim = 0;
  int64_t decoder_dim = 0;                // AdaMTL decoders
  LoraConfig lora;                         // MTLoRA
  std::vector<int64_t> decoder_channels;   // MTLoRA downsampler outputs; empty: no downsampler
  std::vector<TaskInfo> tasks;

  std::array<StageGeometry, kStages> stages{};

  int64_t patch_resolution() const { return img_size / patch_size; }
  bool is_mtlora() const { return family == Family::kMTLoRA; }
  // MTLoRA HRNet input channels per stage: the downsampler's, or the stage dims without one.
  const std::vector<int64_t>& hrnet_channels() const { return hrnet_channels_; }
  std::vector<int64_t> hrnet_channels_;  // derived once, with the stage geometry
  // Names of the policies in the file: "all" (single) or one per task.
  std::vector<std::string> policy_names() const;
  int task_index(const std::string& name) const;  // -1 when unknown
};

// Parses and checks the `config` JSON text of a weight file, then derives the stage geometry.
Status parse_model_config(const std::string& json_text, ModelConfig* config);

const char* policy_mode_name(PolicyMode mode);

}  // namespace adarun
