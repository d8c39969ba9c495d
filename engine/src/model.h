#pragma once
// A loaded model: the validated weight file, its config, and typed views of every tensor.
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "engine/src/config.h"
#include "engine/src/status.h"

namespace adarun {

class WeightFile;

struct NormWeights {
  const float* gamma = nullptr;
  const float* beta = nullptr;
};

struct LinearWeights {
  const float* weight = nullptr;  // [out, in]
  const float* bias = nullptr;    // [out] or nullptr
  int64_t in = 0;
  int64_t out = 0;
};

struct ConvWeights {
  const float* weight = nullptr;  // [out, in, k, k]
  const float* bias = nullptr;    // [out]
  int64_t in = 0;
  int64_t out = 0;
  int64_t kernel = 0;
};

struct BlockWeights {
  NormWeights norm1;
  LinearWeights qkv;
  const float* rel_bias = nullptr;  // [heads, window_tokens, window_tokens]
  LinearWeights proj;
  NormWeights norm2;
  LinearWeights fc1;
  LinearWeights fc2;
};

// One policy network (SPEC 2): hidden = ReLU(mlp(x)), logits = fc(hidden).
struct PolicyWeights {
  LinearWeights mlp;
  LinearWeights fc;
};

struct StageWeights {
  std::vector<BlockWeights> blocks;
  NormWeights merge_norm;
  LinearWeights merge_reduction;
  std::vector<PolicyWeights> block_policies;  // indexed like ModelConfig::policy_names()
  std::vector<PolicyWeights> token_policies;
};

struct BasicBlockWeights {
  ConvWeights conv1;
  ConvWeights conv2;
  ConvWeights shortcut;  // weight == nullptr: identity
};

struct DecoderWeights {
  struct Fuse {
    BasicBlockWeights block1;
    BasicBlockWeights block2;
  };
  std::array<Fuse, kStages> fuse;
  ConvWeights head1;
  ConvWeights head2;
};

struct ModelWeights {
  ConvWeights patch_embed;
  NormWeights patch_norm;                    // gamma == nullptr when the model has none
  const float* absolute_pos_embed = nullptr;  // [tokens, embed_dim] or nullptr
  std::array<StageWeights, kStages> stages;
  std::vector<DecoderWeights> decoders;      // indexed like ModelConfig::tasks
};

class Model {
 public:
  static Status load_file(const std::string& path, std::unique_ptr<Model>* model);
  static Status load_memory(const void* data, size_t size, std::unique_ptr<Model>* model);
  ~Model();

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  int64_t parameter_count() const { return parameter_count_; }

 private:
  Model() = default;
  static Status from_weight_file(std::unique_ptr<WeightFile> file, std::unique_ptr<Model>* model);

  std::unique_ptr<WeightFile> file_;
  ModelConfig config_;
  ModelWeights weights_;
  int64_t parameter_count_ = 0;
};

}  // namespace adarun
