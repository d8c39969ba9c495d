#pragma once
// A loaded model: the validated weight file, its config, and typed views of every tensor.
#include <array>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/src/config.h"
#include "engine/src/status.h"
#include "kernels/gemm.h"
#include "kernels/gemm_int8.h"

namespace adarun {

class WeightFile;
struct TensorView;

struct FreeFloats {
  void operator()(float* p) const { std::free(p); }
};

struct NormWeights {
  const float* gamma = nullptr;
  const float* beta = nullptr;
};

// Every weight below is F32 however the file stores it (F16 and I8 tensors, weights/FORMAT.md, are widened at
// load), except the I8 weights of linears where the ISA has an int8 GEMM (kernels/gemm_int8.h) or on the reference
// path, which compute in int8.
struct LinearWeights {
  // [out, in]; once packed, its bytes are given back (WeightFile::release): read `packed`. nullptr once packed
  // when the file holds it as F16 or I8 (packed straight from those values), and for int8 layers.
  const float* weight = nullptr;
  const float* bias = nullptr;    // [out] or nullptr
  int64_t in = 0;
  int64_t out = 0;
  const float* packed = nullptr;  // weight packed for Model::isa(), or nullptr: the reference path (or int8)
  // An int8 layer: packed for `int8_kernel` (packed_int8), or on the reference path the file's values and scales.
  const void* packed_int8 = nullptr;
  Int8Kernel int8_kernel = Int8Kernel::kAvx2;
  const int8_t* weight_int8 = nullptr;  // [out, in]
  const float* weight_scale = nullptr;  // [out]
};

struct ConvWeights {
  const float* weight = nullptr;  // [out, in, k, k]; nullptr for an int8 convolution
  const float* bias = nullptr;    // [out]
  int64_t in = 0;
  int64_t out = 0;
  int64_t kernel = 0;
  // An int8 convolution (I8 in the file, kernels/conv_int8.h): packed for `int8_kernel`, or on the reference path
  // the file's values and scales. Where the ISA has no int8 GEMM the file's I8 weights are widened into `weight`.
  const void* packed_int8 = nullptr;
  Int8Kernel int8_kernel = Int8Kernel::kAvx2;
  const int8_t* weight_int8 = nullptr;  // [out, in, k, k]
  const float* weight_scale = nullptr;  // [out]
  bool present() const { return weight || weight_int8 || packed_int8; }
};

// A transposed convolution (PyTorch's ConvTranspose2d).
struct ConvTransposeWeights {
  const float* weight = nullptr;  // [in, out, k, k]
  const float* bias = nullptr;    // [out]
  int64_t in = 0;
  int64_t out = 0;
  int64_t kernel = 0;
};

// y += (x down^T) up^T, the scale folded into `up` by the converter.
struct LowRank {
  const float* down = nullptr;  // [rank, in]
  const float* up = nullptr;    // [out, rank]
  int64_t rank = 0;
};

// A layer that forks per task (SPEC 3): the shared stream gets weight/bias (+ shared adapter),
// each task stream weight/bias applied to the shared input plus its own adapter on its own input.
struct ForkedLinear {
  LowRank shared;              // rank 0 unless the model kept it apart ('matrix' mode)
  std::vector<LowRank> tasks;  // indexed like ModelConfig::tasks; empty: this layer does not fork
  bool forks() const { return !tasks.empty(); }
};

struct BlockWeights {
  NormWeights norm1;
  LinearWeights qkv;
  const float* rel_bias = nullptr;  // [heads, window_tokens, window_tokens]
  LinearWeights proj;
  NormWeights norm2;
  LinearWeights fc1;
  LinearWeights fc2;
  ForkedLinear proj_fork;  // MTLoRA, last block of a stage
  ForkedLinear fc1_fork;
  ForkedLinear fc2_fork;
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

// MTLoRA's heads besides HRNet (weights/FORMAT.md, "MTLoRA decoder heads"); every conv has its BN folded.
struct AsppHeadWeights {
  std::vector<ConvWeights> branches;  // branch.0 (1x1), then one 3x3 per rate
  ConvWeights pool;                   // 1x1 on the channel means
  ConvWeights project;                // 1x1 from the concatenated branches
  ConvWeights conv1;                  // 3x3
  ConvWeights conv2;                  // 1x1 to the outputs
};

struct SegformerHeadWeights {
  std::array<ConvWeights, kStages> linear;  // per stage map: its per-pixel linear as a 1x1 conv
  ConvWeights conv1;                        // 1x1 from the concatenated embeddings, input channels in stage order
  ConvWeights conv2;
};

struct UpdecoderHeadWeights {
  std::vector<ConvTransposeWeights> deconv;
  ConvWeights conv;
};

// One task's decoder. AdaMTL: fuse, head1, head2. MTLoRA: the downsampler, then the task's head kind
// (config.tasks[t].head.kind) only: head1/head2 for HRNet, or one of aspp, segformer, updecoder; the others
// stay empty.
struct DecoderWeights {
  struct Fuse {
    BasicBlockWeights block1;
    BasicBlockWeights block2;
  };
  std::array<Fuse, kStages> fuse;
  std::array<ConvWeights, kStages> downsample;  // MTLoRA: 1x1 convs without bias; weight nullptr when absent
  ConvWeights head1;
  ConvWeights head2;
  AsppHeadWeights aspp;
  SegformerHeadWeights segformer;
  UpdecoderHeadWeights updecoder;
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
  // The instruction set the weights were packed for (kernels/gemm.h).
  Isa isa() const { return isa_; }
  // Bytes of the weight file, of the packed copies of its linears (fp32 and int8), and of its F16 and I8 tensors
  // widened to F32 (convolutions, adapters; on the reference path the F16 linears; I8 linears where the ISA has no
  // int8 GEMM).
  int64_t file_bytes() const;
  int64_t packed_bytes() const { return packed_bytes_; }
  // How the file stores its weights: parameters per dtype (an I8 tensor's scales not counted), and the int8 kernel
  // the int8 layers run on ("ref" for the scalar twin; "" when none does: no I8 weights, or an ISA without one).
  struct Storage {
    int64_t f32 = 0, f16 = 0, i8 = 0;
    std::string int8_kernel;
  };
  const Storage& storage() const { return storage_; }
  int64_t widened_bytes() const { return widened_bytes_; }

 private:
  Model() = default;
  static Status from_weight_file(std::unique_ptr<WeightFile> file, std::unique_ptr<Model>* model);
  // deferred: the F16 and I8 linear weights, by the handle their `weight` holds until then; int8_convs: the I8
  // convolution weights, by their values' address (model.cpp, TensorBinder).
  bool pack_weights(const std::map<const float*, const TensorView*>& deferred, const std::map<const int8_t*, const TensorView*>& int8_convs);
  bool pack_convs(const std::map<const int8_t*, const TensorView*>& int8_convs);

  std::unique_ptr<WeightFile> file_;
  ModelConfig config_;
  ModelWeights weights_;
  int64_t parameter_count_ = 0;
  Isa isa_ = Isa::kReference;
  int64_t packed_bytes_ = 0;
  int64_t widened_bytes_ = 0;
  Storage storage_;
  std::unique_ptr<float, FreeFloats> packed_;
  std::unique_ptr<float, FreeFloats> packed_int8_;           // the int8 layers' panels (bytes; float for the deleter)
  std::unique_ptr<float, FreeFloats> packed_conv_int8_;      // the int8 convolutions' panels
  std::vector<std::unique_ptr<float, FreeFloats>> widened_;  // F16 and I8 tensors widened at load
};

}  // namespace adarun
