#include "engine/src/model.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <new>
#include <set>

#include "kernels/conv_int8.h"
#include "weights/half.h"
#include "weights/weight_file.h"

namespace adarun {
namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

// Values [first, first + count) of an I8 tensor as F32: float(q) * scale[channel], the channel being dimension
// `scale_axis` (weights/FORMAT.md).
void widen_int8(const TensorView& tensor, int scale_axis, int64_t first, int64_t count, float* out) {
  int64_t inner = 1;
  for (size_t d = size_t(scale_axis) + 1; d < tensor.shape.size(); ++d) inner *= tensor.shape[d];
  const int64_t channels = tensor.shape[size_t(scale_axis)];
  for (int64_t i = 0; i < count; ++i) {
    const int64_t at = first + i;
    out[i] = static_cast<float>(tensor.int8[at]) * tensor.scale[at / inner % channels];
  }
}

// Values [first, first + count) of an F16 or I8 tensor as F32 (I8 scaled along dimension 0).
void widen_values(const TensorView& tensor, int64_t first, int64_t count, float* out) {
  if (tensor.dtype == TensorDtype::kI8) return widen_int8(tensor, 0, first, count, out);
  half_to_float(tensor.half + first, count, out);
}

// An F16 or I8 tensor's values widened to F32 into a new 64-byte aligned buffer, kept in *owned; the file's pages
// of the stored values go back to the system. nullptr when memory is short.
const float* widen_tensor(const WeightFile& file, const TensorView& tensor, int scale_axis,
                          std::vector<std::unique_ptr<float, FreeFloats>>* owned) {
  const size_t bytes = (std::max<size_t>(1, size_t(tensor.numel)) * sizeof(float) + 63) / 64 * 64;
  std::unique_ptr<float, FreeFloats> buffer(static_cast<float*>(std::aligned_alloc(64, bytes)));
  if (!buffer) return nullptr;
  if (tensor.dtype == TensorDtype::kI8) {
    widen_int8(tensor, scale_axis, 0, tensor.numel, buffer.get());
    file.release(tensor.int8, tensor.byte_size());
  } else {
    half_to_float(tensor.half, tensor.numel, buffer.get());
    file.release(tensor.half, tensor.byte_size());
  }
  owned->push_back(std::move(buffer));
  return owned->back().get();
}

// What the binder does with an F16 or I8 tensor (weights/FORMAT.md says which tensors may be which).
enum class Reduced {
  kRefuse,           // the format stores it as F32 only: an error naming the tensor
  kHalfOnly,         // F16 widened at once; I8 refused (the MTLoRA adapter factors)
  kWiden,            // F16 or I8 widened to F32 at once, into a buffer the model owns; the file's pages go back
  kWidenTransposed,  // as kWiden; I8 scales along dimension 1 (transposed convolutions' [in, out, k, k])
  kDefer,            // a linear's weight: Model::pack_weights packs it straight from the stored values
};

const char* dtype_name(TensorDtype dtype) { return dtype == TensorDtype::kI8 ? "I8" : "F16"; }

// Looks tensors up by name and shape; remembers the first problem and which tensors were used. F16 and I8 tensors
// are widened to F32 as they are bound, except linear weights, which are deferred to the packing: until then their
// `weight` holds the stored values' address, which deferred() maps back to the tensor.
class TensorBinder {
 public:
  explicit TensorBinder(const WeightFile& file) : file_(file) {}

  const float* bind(const std::string& name, const std::vector<int64_t>& shape, Reduced reduced = Reduced::kRefuse) {
    const TensorView* tensor = file_.find(name);
    if (!tensor) return fail("weight file lacks tensor " + name + " " + shape_text(shape)), nullptr;
    if (tensor->shape != shape) {
      return fail("tensor " + name + " has shape " + shape_text(tensor->shape) + ", the config implies " + shape_text(shape)), nullptr;
    }
    used_.insert(name);
    if (tensor->dtype == TensorDtype::kF32) return tensor->data;
    const bool int8 = tensor->dtype == TensorDtype::kI8;
    if (int8) used_.insert(name + "_scale");
    if (reduced == Reduced::kRefuse || (int8 && reduced == Reduced::kHalfOnly)) {
      if (reduced == Reduced::kHalfOnly) return fail("tensor " + name + " is I8, but adapter factors are F32 or F16 (weights/FORMAT.md)"), nullptr;
      return fail("tensor " + name + " is " + dtype_name(tensor->dtype) + ", but only linear and convolution weights may be (weights/FORMAT.md)"),
             nullptr;
    }
    const int scale_axis = reduced == Reduced::kWidenTransposed ? 1 : 0;
    if (int8 && tensor->scale_count != shape[size_t(scale_axis)]) {
      return fail("tensor " + name + " has " + std::to_string(tensor->scale_count) + " scales, its " +
                  std::to_string(shape[size_t(scale_axis)]) + " output channels need one each"), nullptr;
    }
    // An empty tensor's address may be another's: deferred handles must be unique, so it is widened.
    if (reduced != Reduced::kDefer || tensor->numel == 0) return widen(*tensor, scale_axis);
    const float* handle = reinterpret_cast<const float*>(int8 ? static_cast<const void*>(tensor->int8) : tensor->half);
    deferred_.emplace(handle, tensor);
    return handle;
  }

  NormWeights norm(const std::string& prefix, int64_t dim) { return {bind(prefix + ".weight", {dim}), bind(prefix + ".bias", {dim})}; }

  // Policies' linears are F32 only; the others' weights may be F16.
  LinearWeights linear(const std::string& prefix, int64_t in, int64_t out, bool has_bias = true, Reduced reduced = Reduced::kDefer) {
    LinearWeights linear;
    linear.weight = bind(prefix + ".weight", {out, in}, reduced), linear.in = in, linear.out = out;
    if (has_bias) linear.bias = bind(prefix + ".bias", {out});
    return linear;
  }

  // An I8 convolution keeps the file's values, for Model::pack_convs to pack (or widen), unless it is to compute in
  // fp32 (int8 false: widened at once); the others are F32.
  ConvWeights conv(const std::string& prefix, int64_t in, int64_t out, int64_t kernel, bool has_bias = true, bool int8 = true) {
    ConvWeights conv;
    conv.in = in, conv.out = out, conv.kernel = kernel;
    const TensorView* tensor = file_.find(prefix + ".weight");
    if (int8 && tensor && tensor->dtype == TensorDtype::kI8 && tensor->numel > 0) {
      const float* handle = bind(prefix + ".weight", {out, in, kernel, kernel}, Reduced::kDefer);  // checks shape, scales
      if (handle) {
        conv.weight_int8 = tensor->int8, conv.weight_scale = tensor->scale;
        deferred_.erase(handle);
        int8_convs_.emplace(tensor->int8, tensor);
      }
    } else {
      conv.weight = bind(prefix + ".weight", {out, in, kernel, kernel}, Reduced::kWiden);
    }
    if (has_bias) conv.bias = bind(prefix + ".bias", {out});
    return conv;
  }

  ConvTransposeWeights conv_transpose(const std::string& prefix, int64_t in, int64_t out, int64_t kernel) {
    return {bind(prefix + ".weight", {in, out, kernel, kernel}, Reduced::kWidenTransposed), bind(prefix + ".bias", {out}), in, out, kernel};
  }

  LowRank low_rank(const std::string& prefix, int64_t in, int64_t out, int64_t rank) {
    return {bind(prefix + ".down", {rank, in}, Reduced::kHalfOnly), bind(prefix + ".up", {out, rank}, Reduced::kHalfOnly), rank};
  }

  // An F16 or I8 tensor's values as F32 in a buffer of the binder's (nullptr and an error when memory is short).
  const float* widen(const TensorView& tensor, int scale_axis) {
    const float* widened = widen_tensor(file_, tensor, scale_axis, &widened_);
    if (!widened) {
      out_of_memory_ = true;
      return fail("out of memory widening tensor " + tensor.name + " from " + dtype_name(tensor.dtype)), nullptr;
    }
    widened_bytes_ += tensor.numel * int64_t(sizeof(float));
    return widened;
  }

  // The F16 and I8 linear weights bound so far, by the handle their `weight` holds.
  const std::map<const float*, const TensorView*>& deferred() const { return deferred_; }
  // The I8 convolution weights bound so far, by their values' address.
  const std::map<const int8_t*, const TensorView*>& int8_convs() const { return int8_convs_; }
  std::vector<std::unique_ptr<float, FreeFloats>>& widened() { return widened_; }
  int64_t widened_bytes() const { return widened_bytes_; }
  bool out_of_memory() const { return out_of_memory_; }

  // Every tensor in the file must be one the config implies.
  void check_all_used() {
    for (const TensorView& tensor : file_.tensors()) {
      if (!used_.count(tensor.name)) return fail("weight file has unexpected tensor " + tensor.name);
    }
  }

  void fail(const std::string& message) {
    if (error_.empty()) error_ = message;
  }
  const std::string& error() const { return error_; }

 private:
  const WeightFile& file_;
  std::set<std::string> used_;
  std::string error_;
  std::map<const float*, const TensorView*> deferred_;
  std::map<const int8_t*, const TensorView*> int8_convs_;
  std::vector<std::unique_ptr<float, FreeFloats>> widened_;
  int64_t widened_bytes_ = 0;
  bool out_of_memory_ = false;
};

BlockWeights bind_block(TensorBinder& binder, const std::string& prefix, const StageGeometry& stage) {
  BlockWeights block;
  block.norm1 = binder.norm(prefix + ".norm1", stage.dim);
  block.qkv = binder.linear(prefix + ".attn.qkv", stage.dim, 3 * stage.dim);
  block.rel_bias = binder.bind(prefix + ".attn.rel_bias", {stage.heads, stage.window_tokens, stage.window_tokens});
  block.proj = binder.linear(prefix + ".attn.proj", stage.dim, stage.dim);
  block.norm2 = binder.norm(prefix + ".norm2", stage.dim);
  block.fc1 = binder.linear(prefix + ".mlp.fc1", stage.dim, stage.mlp_hidden);
  block.fc2 = binder.linear(prefix + ".mlp.fc2", stage.mlp_hidden, stage.dim);
  return block;
}

std::vector<PolicyWeights> bind_policies(TensorBinder& binder, const std::string& prefix, const ModelConfig& config,
                                         int64_t dim, int64_t hidden, int64_t fc_in, int64_t fc_out) {
  std::vector<PolicyWeights> policies;
  for (const std::string& name : config.policy_names()) {
    const std::string policy = prefix + "." + name;
    policies.push_back({binder.linear(policy + ".mlp", dim, hidden, true, Reduced::kRefuse),
                        binder.linear(policy + ".fc", fc_in, fc_out, true, Reduced::kRefuse)});
  }
  return policies;
}

ForkedLinear bind_fork(TensorBinder& binder, const std::string& prefix, const ModelConfig& config, int stage, int64_t in, int64_t out) {
  ForkedLinear fork;
  if (config.lora.shared_separate) fork.shared = binder.low_rank(prefix + ".shared_lora", in, out, config.lora.shared_ranks[stage]);
  for (size_t t = 0; t < config.tasks.size(); ++t) {
    fork.tasks.push_back(binder.low_rank(prefix + ".task_lora." + config.tasks[t].name, in, out, config.lora.task_ranks[t][stage]));
  }
  return fork;
}

void bind_forks(TensorBinder& binder, const std::string& prefix, const ModelConfig& config, int stage, BlockWeights* block) {
  const TaskBranches& branches = config.lora.branches[stage];
  const StageGeometry& geometry = config.stages[stage];
  if (branches.proj) block->proj_fork = bind_fork(binder, prefix + ".attn.proj", config, stage, geometry.dim, geometry.dim);
  if (branches.fc1) block->fc1_fork = bind_fork(binder, prefix + ".mlp.fc1", config, stage, geometry.dim, geometry.mlp_hidden);
  if (branches.fc2) block->fc2_fork = bind_fork(binder, prefix + ".mlp.fc2", config, stage, geometry.mlp_hidden, geometry.dim);
}

StageWeights bind_stage(TensorBinder& binder, const ModelConfig& config, int index) {
  const StageGeometry& geometry = config.stages[index];
  const std::string prefix = "stages." + std::to_string(index);
  StageWeights stage;
  for (int64_t j = 0; j < geometry.depth; ++j) {
    stage.blocks.push_back(bind_block(binder, prefix + ".blocks." + std::to_string(j), geometry));
  }
  if (config.is_mtlora()) bind_forks(binder, prefix + ".blocks." + std::to_string(geometry.depth - 1), config, index, &stage.blocks.back());
  if (geometry.merges) {
    stage.merge_norm = binder.norm(prefix + ".merge.norm", 4 * geometry.dim);
    stage.merge_reduction = binder.linear(prefix + ".merge.reduction", 4 * geometry.dim, 2 * geometry.dim, false);
  }
  if (config.ada_blocks) {
    const int64_t hidden = config.block_ctrl_dim;
    stage.block_policies = bind_policies(binder, prefix + ".block_policy", config, geometry.dim, hidden,
                                         geometry.tokens * hidden, geometry.depth);
  }
  if (config.ada_tokens) {
    const int64_t hidden = config.token_ctrl_dim;
    stage.token_policies = bind_policies(binder, prefix + ".token_policy", config, geometry.dim, hidden, hidden, 1);
  }
  return stage;
}

BasicBlockWeights bind_basic_block(TensorBinder& binder, const std::string& prefix, int64_t in, int64_t out) {
  BasicBlockWeights block;
  block.conv1 = binder.conv(prefix + ".conv1", in, out, 3);
  block.conv2 = binder.conv(prefix + ".conv2", out, out, 3);
  return block;
}

AsppHeadWeights bind_aspp_head(TensorBinder& binder, const std::string& prefix, const HeadConfig& head, int64_t channels, int64_t outputs) {
  const int64_t width = head.channels;
  AsppHeadWeights aspp;
  aspp.branches.push_back(binder.conv(prefix + ".branch.0", channels, width, 1));
  for (size_t i = 0; i < head.rates.size(); ++i) aspp.branches.push_back(binder.conv(prefix + ".branch." + std::to_string(i + 1), channels, width, 3));
  aspp.pool = binder.conv(prefix + ".pool", channels, width, 1);
  aspp.project = binder.conv(prefix + ".project", int64_t(aspp.branches.size() + 1) * width, width, 1);
  aspp.conv1 = binder.conv(prefix + ".conv1", width, width, 3);
  aspp.conv2 = binder.conv(prefix + ".conv2", width, outputs, 1);
  return aspp;
}

SegformerHeadWeights bind_segformer_head(TensorBinder& binder, const std::string& prefix, const HeadConfig& head,
                                         const std::vector<int64_t>& channels, int64_t outputs) {
  const int64_t width = head.channels;
  SegformerHeadWeights segformer;
  for (int i = 0; i < kStages; ++i) segformer.linear[i] = binder.conv(prefix + ".linear." + std::to_string(i), channels[i], width, 1);
  segformer.conv1 = binder.conv(prefix + ".conv1", kStages * width, width, 1);
  segformer.conv2 = binder.conv(prefix + ".conv2", width, outputs, 1);
  return segformer;
}

UpdecoderHeadWeights bind_updecoder_head(TensorBinder& binder, const std::string& prefix, const HeadConfig& head, int64_t channels,
                                         int64_t outputs) {
  UpdecoderHeadWeights updecoder;
  for (size_t j = 0; j < head.deconv.size(); ++j) {
    const DeconvLayer& layer = head.deconv[j];
    updecoder.deconv.push_back(binder.conv_transpose(prefix + ".deconv." + std::to_string(j), channels, layer.channels, layer.kernel));
    channels = layer.channels;
  }
  updecoder.conv = binder.conv(prefix + ".conv", channels, outputs, head.conv_kernel);
  return updecoder;
}

// MTLoRA: per-task downsampler (optional) and the task's head.
DecoderWeights bind_mtlora_decoder(TensorBinder& binder, const ModelConfig& config, const TaskInfo& task) {
  const std::string prefix = "decoders." + task.name;
  DecoderWeights decoder;
  if (!config.decoder_channels.empty()) {
    for (int i = 0; i < kStages; ++i) {
      decoder.downsample[i] = binder.conv(prefix + ".downsample." + std::to_string(i), config.stages[i].out_dim,
                                          config.decoder_channels[i], 1, false);
    }
  }
  int64_t channels = 0;
  for (int64_t c : config.hrnet_channels()) channels += c;
  const std::string head = prefix + ".head";
  switch (task.head.kind) {
    case HeadKind::kHrnet:
      decoder.head1 = binder.conv(head + ".conv1", channels, 4 * channels, 1);
      decoder.head2 = binder.conv(head + ".conv2", 4 * channels, task.outputs, 1);
      break;
    case HeadKind::kAspp: decoder.aspp = bind_aspp_head(binder, head, task.head, channels, task.outputs); break;
    case HeadKind::kSegformer:
      decoder.segformer = bind_segformer_head(binder, head, task.head, config.hrnet_channels(), task.outputs);
      break;
    case HeadKind::kUpdecoder: decoder.updecoder = bind_updecoder_head(binder, head, task.head, channels, task.outputs); break;
  }
  return decoder;
}

DecoderWeights bind_decoder(TensorBinder& binder, const ModelConfig& config, const TaskInfo& task) {
  if (config.is_mtlora()) return bind_mtlora_decoder(binder, config, task);
  const std::string prefix = "decoders." + task.name;
  const int64_t half = config.decoder_dim / 2;
  DecoderWeights decoder;
  for (int i = 0; i < kStages; ++i) {
    const std::string fuse = prefix + ".fuse." + std::to_string(i);
    const int64_t in = config.stages[i].out_dim;
    // The first block of each branch changes width, so it has a projection shortcut; the second has none.
    decoder.fuse[i].block1 = bind_basic_block(binder, fuse + ".block1", in, half);
    decoder.fuse[i].block1.shortcut = binder.conv(fuse + ".block1.shortcut", in, half, 1);
    decoder.fuse[i].block2 = bind_basic_block(binder, fuse + ".block2", half, half);
  }
  decoder.head1 = binder.conv(prefix + ".head.conv1", kStages * half, half, 1);
  decoder.head2 = binder.conv(prefix + ".head.conv2", half, task.outputs, 1);
  return decoder;
}

ModelWeights bind_model(TensorBinder& binder, const ModelConfig& config) {
  ModelWeights weights;
  const int64_t embed = config.embed_dim;
  // The patch embedding computes in fp32 whatever its weights' precision: it reads the image itself and feeds every
  // policy (quantizing its input moved 0.24% of the bundled model's token gates), for 0.3% of Swin-T's MACs.
  weights.patch_embed = binder.conv("patch_embed", config.in_chans, embed, config.patch_size, true, false);
  if (config.patch_norm) weights.patch_norm = binder.norm("patch_embed.norm", embed);
  if (config.ape) weights.absolute_pos_embed = binder.bind("absolute_pos_embed", {config.stages[0].tokens, embed});  // F32 only
  for (int i = 0; i < kStages; ++i) weights.stages[i] = bind_stage(binder, config, i);
  for (const TaskInfo& task : config.tasks) weights.decoders.push_back(bind_decoder(binder, config, task));
  binder.check_all_used();
  return weights;
}

// The linears worth packing: wide outputs, many rows per call. Thin ones (policy fc, adapters) stay on
// the reference path.
std::vector<LinearWeights*> packable_linears(ModelWeights& weights) {
  std::vector<LinearWeights*> linears;
  for (StageWeights& stage : weights.stages) {
    for (BlockWeights& block : stage.blocks) {
      for (LinearWeights* layer : {&block.qkv, &block.proj, &block.fc1, &block.fc2}) linears.push_back(layer);
    }
    if (stage.merge_reduction.weight) linears.push_back(&stage.merge_reduction);
    for (auto* policies : {&stage.block_policies, &stage.token_policies}) {
      for (PolicyWeights& policy : *policies) linears.push_back(&policy.mlp);
    }
  }
  return linears;
}

}  // namespace

Model::~Model() = default;

int64_t Model::file_bytes() const { return static_cast<int64_t>(file_->file_size()); }

namespace {

// Rows of W widened per step when packing from F16 or I8: a whole number of panels, about 256 KB of floats.
int64_t widen_chunk_rows(Isa isa, int64_t k) {
  const int64_t width = gemm_panel_width(isa);
  return width * std::max<int64_t>(1, (int64_t{1} << 16) / (width * std::max<int64_t>(k, 1)));
}

// pack_weights of the widened W, a few panels at a time through `scratch` (widen_chunk_rows(isa, k) * k floats):
// the packed layout is panel after panel (kernels/gemm.h), so the chunks land where packing W whole puts them.
void pack_widened_weights(Isa isa, const TensorView& w, int64_t n, int64_t k, float* scratch, float* packed) {
  const int64_t chunk = widen_chunk_rows(isa, k);
  for (int64_t first = 0; first < n; first += chunk) {
    const int64_t rows = std::min(chunk, n - first);
    widen_values(w, first * k, rows * k, scratch);
    adarun::pack_weights(isa, scratch, rows, k, packed + first * k);
  }
}

constexpr int64_t kPackAlign = 64;  // bytes
int64_t aligned_bytes(int64_t bytes) { return (bytes + kPackAlign - 1) / kPackAlign * kPackAlign; }

}  // namespace

// Packs every packable linear for the active ISA: fp32 panels, or int8 panels for I8 weights where the ISA has an
// int8 GEMM. On the reference path the F16 ones are widened and the I8 ones run on the int8 twin from the file's
// values. False when memory is short.
bool Model::pack_weights(const std::map<const float*, const TensorView*>& deferred,
                         const std::map<const int8_t*, const TensorView*>& int8_convs) {
  isa_ = active_isa();
  if (!pack_convs(int8_convs)) return false;
  Int8Kernel int8_kernel = Int8Kernel::kAvx2;
  const bool int8_gemm = int8_kernel_for(isa_, &int8_kernel);
  const std::vector<LinearWeights*> linears = packable_linears(weights_);
  const auto stored_of = [&](const LinearWeights* layer) -> const TensorView* {
    const auto found = deferred.find(layer->weight);
    return found == deferred.end() ? nullptr : found->second;
  };
  const auto runs_int8 = [&](const TensorView* stored) { return stored && stored->dtype == TensorDtype::kI8 && int8_gemm; };
  if (isa_ == Isa::kReference) {
    for (LinearWeights* layer : linears) {
      const TensorView* stored = stored_of(layer);
      if (!stored) continue;
      if (stored->dtype == TensorDtype::kI8) {
        layer->weight = nullptr, layer->weight_int8 = stored->int8, layer->weight_scale = stored->scale;
        storage_.int8_kernel = "ref";
        continue;
      }
      layer->weight = widen_tensor(*file_, *stored, 0, &widened_);
      if (!layer->weight) return false;
      widened_bytes_ += stored->numel * int64_t(sizeof(float));
    }
    return true;
  }
  int64_t total = 0, total_int8 = 0, scratch_floats = 0;
  for (const LinearWeights* layer : linears) {
    const TensorView* stored = stored_of(layer);
    if (runs_int8(stored)) {
      total_int8 += aligned_bytes(packed_int8_bytes(int8_kernel, layer->out, layer->in));
      continue;
    }
    total += aligned_bytes(packed_weight_floats(isa_, layer->out, layer->in) * int64_t(sizeof(float)));
    if (stored) scratch_floats = std::max(scratch_floats, widen_chunk_rows(isa_, layer->in) * layer->in);
  }
  packed_.reset(static_cast<float*>(std::aligned_alloc(kPackAlign, size_t(std::max(total, kPackAlign)))));
  packed_int8_.reset(static_cast<float*>(std::aligned_alloc(kPackAlign, size_t(std::max(total_int8, kPackAlign)))));
  packed_bytes_ += total + total_int8;
  if (!packed_ || !packed_int8_) return false;
  std::vector<float> scratch;
  try {
    scratch.resize(size_t(scratch_floats));
  } catch (const std::bad_alloc&) {
    return false;
  }
  char* cursor = reinterpret_cast<char*>(packed_.get());
  char* cursor_int8 = reinterpret_cast<char*>(packed_int8_.get());
  for (LinearWeights* layer : linears) {
    // The packed copy replaces the file's bytes, which go back to the system at once: the process never holds
    // both copies of the model's largest tensors, so peak memory stays near the file plus the arena. F16 and I8
    // weights are packed straight from the file, a few panels at a time: no whole F32 copy of them ever exists.
    const TensorView* stored = stored_of(layer);
    if (runs_int8(stored)) {
      pack_int8_weights(int8_kernel, stored->int8, stored->scale, layer->out, layer->in, cursor_int8);
      file_->release(stored->int8, stored->byte_size());
      layer->weight = nullptr;
      layer->packed_int8 = cursor_int8, layer->int8_kernel = int8_kernel;
    storage_.int8_kernel = int8_kernel_name(int8_kernel);
      cursor_int8 += aligned_bytes(packed_int8_bytes(int8_kernel, layer->out, layer->in));
      continue;
    }
    float* packed = reinterpret_cast<float*>(cursor);
    if (stored) {
      pack_widened_weights(isa_, *stored, layer->out, layer->in, scratch.data(), packed);
      file_->release(stored->dtype == TensorDtype::kI8 ? static_cast<const void*>(stored->int8) : stored->half, stored->byte_size());
      layer->weight = nullptr;  // only `packed` is read
    } else {
      adarun::pack_weights(isa_, layer->weight, layer->out, layer->in, packed);
      file_->release(layer->weight, static_cast<size_t>(layer->out * layer->in) * sizeof(float));
    }
    layer->packed = packed;
    cursor += aligned_bytes(packed_weight_floats(isa_, layer->out, layer->in) * int64_t(sizeof(float)));
  }
  return true;
}

namespace {

// Every convolution of the model (the transposed ones apart).
std::vector<ConvWeights*> all_convs(ModelWeights& weights) {
  std::vector<ConvWeights*> convs{&weights.patch_embed};
  for (DecoderWeights& decoder : weights.decoders) {
    for (DecoderWeights::Fuse& fuse : decoder.fuse) {
      for (BasicBlockWeights* block : {&fuse.block1, &fuse.block2}) {
        for (ConvWeights* conv : {&block->conv1, &block->conv2, &block->shortcut}) convs.push_back(conv);
      }
    }
    for (ConvWeights& conv : decoder.downsample) convs.push_back(&conv);
    for (ConvWeights* conv : {&decoder.head1, &decoder.head2, &decoder.aspp.pool, &decoder.aspp.project, &decoder.aspp.conv1,
                              &decoder.aspp.conv2, &decoder.segformer.conv1, &decoder.segformer.conv2, &decoder.updecoder.conv}) {
      convs.push_back(conv);
    }
    for (ConvWeights& conv : decoder.aspp.branches) convs.push_back(&conv);
    for (ConvWeights& conv : decoder.segformer.linear) convs.push_back(&conv);
  }
  return convs;
}

}  // namespace

// The I8 convolutions: packed for the ISA's int8 kernel (their file pages then go back), kept as the file's values
// for the twin on the reference path, or widened to F32 where the ISA has no int8 GEMM. False when memory is short.
bool Model::pack_convs(const std::map<const int8_t*, const TensorView*>& int8_convs) {
  Int8Kernel kernel = Int8Kernel::kAvx2;
  const char* int8_conv = std::getenv("ADARUN_INT8_CONV");  // "0": widened, computed in fp32 (README, precision)
  const bool widen_all = int8_conv && std::strcmp(int8_conv, "0") == 0;
  const bool int8_gemm = int8_kernel_for(isa_, &kernel) && !widen_all;
  std::vector<ConvWeights*> convs;
  for (ConvWeights* conv : all_convs(weights_)) {
    if (conv->weight_int8) convs.push_back(conv);
  }
  if (convs.empty() || (isa_ == Isa::kReference && !widen_all)) return true;  // the reference path: the twin
  if (!int8_gemm) {
    for (ConvWeights* conv : convs) {
      conv->weight = widen_tensor(*file_, *int8_convs.at(conv->weight_int8), 0, &widened_);
      if (!conv->weight) return false;
      widened_bytes_ += int8_convs.at(conv->weight_int8)->numel * int64_t(sizeof(float));
      conv->weight_int8 = nullptr, conv->weight_scale = nullptr;
    }
    return true;
  }
  int64_t total = 0;
  for (const ConvWeights* conv : convs) total += aligned_bytes(packed_conv_int8_bytes(kernel, conv->out, conv->in, conv->kernel));
  packed_conv_int8_.reset(static_cast<float*>(std::aligned_alloc(kPackAlign, size_t(std::max(total, kPackAlign)))));
  if (!packed_conv_int8_) return false;
  packed_bytes_ += total;
  char* cursor = reinterpret_cast<char*>(packed_conv_int8_.get());
  for (ConvWeights* conv : convs) {
    const TensorView& stored = *int8_convs.at(conv->weight_int8);
    pack_conv_int8_weights(kernel, stored.int8, stored.scale, conv->out, conv->in, conv->kernel, cursor);
    file_->release(stored.int8, stored.byte_size());
    conv->packed_int8 = cursor, conv->int8_kernel = kernel;
    storage_.int8_kernel = int8_kernel_name(kernel);
    conv->weight_int8 = nullptr, conv->weight_scale = nullptr;
    cursor += aligned_bytes(packed_conv_int8_bytes(kernel, conv->out, conv->in, conv->kernel));
  }
  return true;
}

Status Model::from_weight_file(std::unique_ptr<WeightFile> file, std::unique_ptr<Model>* model) {
  const std::string* config_text = file->metadata("config");
  if (!config_text) return Status::error(StatusCode::kBadModel, "weight file has no model config");
  std::unique_ptr<Model> loaded(new Model());
  Status status = parse_model_config(*config_text, &loaded->config_);
  if (!status.is_ok()) return Status::error(StatusCode::kBadModel, status.message());
  TensorBinder binder(*file);
  loaded->weights_ = bind_model(binder, loaded->config_);
  loaded->widened_ = std::move(binder.widened());
  loaded->widened_bytes_ = binder.widened_bytes();
  if (!binder.error().empty()) {
    return Status::error(binder.out_of_memory() ? StatusCode::kOutOfMemory : StatusCode::kBadModel, binder.error());
  }
  for (const TensorView& tensor : file->tensors()) {
    if (tensor.dtype == TensorDtype::kI8) loaded->parameter_count_ -= tensor.scale_count;  // its scales are no parameters
    loaded->parameter_count_ += tensor.numel;
    int64_t& count = tensor.dtype == TensorDtype::kI8 ? loaded->storage_.i8 : tensor.dtype == TensorDtype::kF16 ? loaded->storage_.f16 : loaded->storage_.f32;
    count += tensor.numel;
    if (tensor.dtype == TensorDtype::kI8) loaded->storage_.f32 -= tensor.scale_count;
  }
  loaded->file_ = std::move(file);
  // Every F16 or I8 linear weight is one of the packable linears' (the others' are F32 only), which the packing takes.
  std::set<const float*> packable;
  for (const LinearWeights* layer : packable_linears(loaded->weights_)) packable.insert(layer->weight);
  for (const auto& [handle, tensor] : binder.deferred()) {
    if (!packable.count(handle)) return Status::error(StatusCode::kBadModel, std::string(dtype_name(tensor->dtype)) + " tensor " + tensor->name + " is bound to no packable linear");
  }
  if (!loaded->pack_weights(binder.deferred(), binder.int8_convs())) {
    return Status::error(StatusCode::kOutOfMemory, "out of memory packing the weights");
  }
  *model = std::move(loaded);
  return Status::ok();
}

namespace {

Status weight_file_error(WeightFileFailure failure, std::string message) {
  switch (failure) {
    case WeightFileFailure::kUnreadable: return Status::error(StatusCode::kIoError, std::move(message));
    case WeightFileFailure::kOutOfMemory: return Status::error(StatusCode::kOutOfMemory, std::move(message));
    default: return Status::error(StatusCode::kBadModel, std::move(message));
  }
}

}  // namespace

Status Model::load_file(const std::string& path, std::unique_ptr<Model>* model) {
  std::string error;
  WeightFileFailure failure = WeightFileFailure::kNone;
  std::unique_ptr<WeightFile> file = WeightFile::open(path, &error, &failure);
  if (!file) return weight_file_error(failure, error);
  return from_weight_file(std::move(file), model);
}

Status Model::load_memory(const void* data, size_t size, std::unique_ptr<Model>* model) {
  std::string error;
  WeightFileFailure failure = WeightFileFailure::kNone;
  std::unique_ptr<WeightFile> file = WeightFile::from_memory(data, size, &error, &failure);
  if (!file) return weight_file_error(failure, error);
  return from_weight_file(std::move(file), model);
}

}  // namespace adarun
