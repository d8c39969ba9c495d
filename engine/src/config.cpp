#include "engine/src/config.h"

#include <algorithm>
#include <cmath>

#include "weights/json.h"

namespace adarun {
namespace {

// Reads config fields, remembering the first error so callers can chain reads.
class FieldReader {
 public:
  explicit FieldReader(const JsonValue& object) : object_(object) {}

  int64_t integer(const char* key, int64_t min_value, int64_t max_value) {
    const JsonValue* value = field(key);
    if (!value) return 0;
    return checked_integer(*value, key, min_value, max_value);
  }

  bool boolean(const char* key) {
    const JsonValue* value = field(key);
    if (!value) return false;
    if (!value->is_bool()) return fail(std::string(key) + " must be true or false"), false;
    return value->as_bool();
  }

  std::string string(const char* key) {
    const JsonValue* value = field(key);
    if (!value) return {};
    if (!value->is_string()) return fail(std::string(key) + " must be a string"), std::string();
    return value->as_string();
  }

  std::vector<int64_t> integers(const char* key, size_t count, int64_t min_value, int64_t max_value) {
    return integers(key, count, count, min_value, max_value);
  }

  // A list of min_count to max_count integers.
  std::vector<int64_t> integers(const char* key, size_t min_count, size_t max_count, int64_t min_value, int64_t max_value) {
    const JsonValue* value = field(key);
    if (!value) return {};
    if (!value->is_array() || value->as_array().size() < min_count || value->as_array().size() > max_count) {
      const std::string count = min_count == max_count ? std::to_string(min_count)
                                                       : std::to_string(min_count) + " to " + std::to_string(max_count);
      return fail(std::string(key) + " must be a list of " + count + " integers"), std::vector<int64_t>();
    }
    std::vector<int64_t> result;
    for (const JsonValue& item : value->as_array()) result.push_back(checked_integer(item, key, min_value, max_value));
    return result;
  }

  const JsonValue* field(const char* key) {
    const JsonValue* value = object_.find(key);
    if (!value) fail(std::string("missing field ") + key);
    return value;
  }

  void fail(const std::string& message) {
    if (problem_.empty()) problem_ = message;
  }
  // The first problem, and the same as a config error.
  const std::string& problem() const { return problem_; }
  std::string error() const { return problem_.empty() ? problem_ : "model config: " + problem_; }

 private:
  int64_t checked_integer(const JsonValue& value, const char* key, int64_t min_value, int64_t max_value) {
    if (!value.is_number() || std::floor(value.as_number()) != value.as_number() || value.as_number() < double(min_value) ||
        value.as_number() > double(max_value)) {
      fail(std::string(key) + " must be an integer in [" + std::to_string(min_value) + ", " + std::to_string(max_value) + "]");
      return 0;
    }
    return static_cast<int64_t>(value.as_number());
  }

  const JsonValue& object_;
  std::string problem_;
};

void read_tasks(FieldReader& reader, ModelConfig* config) {
  const JsonValue* tasks = reader.field("tasks");
  if (!tasks) return;
  if (!tasks->is_array() || tasks->as_array().empty()) return reader.fail("tasks must be a non-empty list");
  for (const JsonValue& task : tasks->as_array()) {
    if (!task.is_object()) return reader.fail("each task must be an object");
    FieldReader task_reader(task);
    TaskInfo info;
    info.name = task_reader.string("name");
    info.outputs = task_reader.integer("outputs", 1, 4096);
    if (!task_reader.problem().empty()) return reader.fail(task_reader.problem());
    if (info.name.empty() || config->task_index(info.name) >= 0) return reader.fail("task names must be unique and non-empty");
    config->tasks.push_back(info);
  }
}

PolicyMode read_policy_mode(FieldReader& reader) {
  const std::string mode = reader.string("policy_mode");
  if (mode == "single") return PolicyMode::kSingle;
  if (mode == "per_task") return PolicyMode::kPerTask;
  if (mode != "none" && reader.error().empty()) reader.fail("policy_mode must be single, per_task or none, not " + mode);
  return PolicyMode::kNone;
}

void read_backbone_fields(FieldReader& reader, ModelConfig* config) {
  config->img_size = reader.integer("img_size", 1, 8192);
  config->in_chans = reader.integer("in_chans", 1, 16);
  config->patch_size = reader.integer("patch_size", 1, 64);
  config->embed_dim = reader.integer("embed_dim", 1, 4096);
  config->depths = reader.integers("depths", kStages, 1, 64);
  config->num_heads = reader.integers("num_heads", kStages, 1, 1024);
  config->mlp_hidden = reader.integers("mlp_hidden", kStages, 1, 1 << 16);
  config->window_size = reader.integer("window_size", 1, 64);
  config->ape = reader.boolean("ape");
  config->patch_norm = reader.boolean("patch_norm");
  read_tasks(reader, config);
}

void read_adamtl_fields(FieldReader& reader, ModelConfig* config) {
  config->ada_blocks = reader.boolean("ada_blocks");
  config->ada_tokens = reader.boolean("ada_tokens");
  config->policy_mode = read_policy_mode(reader);
  config->block_ctrl_dim = reader.integer("block_ctrl_dim", 0, 4096);
  config->token_ctrl_dim = reader.integer("token_ctrl_dim", 0, 4096);
  config->decoder_dim = reader.integer("decoder_dim", 2, 4096);
}

std::array<int64_t, kStages> stage_ranks(FieldReader& reader, const char* key) {
  std::array<int64_t, kStages> ranks{};
  const std::vector<int64_t> values = reader.integers(key, kStages, 0, 4096);
  std::copy(values.begin(), values.end(), ranks.begin());
  return ranks;
}

void read_branches(FieldReader& reader, const JsonValue* branches, LoraConfig* lora) {
  if (!branches || !branches->is_array() || branches->as_array().size() != kStages) return reader.fail("lora.branches must list 4 stages");
  for (int i = 0; i < kStages; ++i) {
    const JsonValue& layers = branches->as_array()[i];
    if (!layers.is_array()) return reader.fail("lora.branches entries must be lists");
    for (const JsonValue& layer : layers.as_array()) {
      const std::string name = layer.is_string() ? layer.as_string() : "";
      if (name == "proj") lora->branches[i].proj = true;
      else if (name == "fc1") lora->branches[i].fc1 = true;
      else if (name == "fc2") lora->branches[i].fc2 = true;
      else return reader.fail("lora.branches may name proj, fc1 and fc2 only");
    }
    if ((lora->branches[i].proj || lora->branches[i].fc1) && !lora->branches[i].fc2) return reader.fail("lora.branches need fc2 to fork");
  }
}

void read_mtlora_fields(FieldReader& reader, ModelConfig* config) {
  const JsonValue* lora = reader.field("lora");
  if (!lora) return;
  if (!lora->is_object()) return reader.fail("lora must be an object");
  FieldReader lora_reader(*lora);
  config->lora.shared_separate = lora_reader.boolean("shared_separate");
  config->lora.shared_ranks = stage_ranks(lora_reader, "shared_ranks");
  read_branches(lora_reader, lora_reader.field("branches"), &config->lora);
  const JsonValue* task_ranks = lora_reader.field("task_ranks");
  for (const TaskInfo& task : config->tasks) {
    if (!task_ranks || !task_ranks->find(task.name)) {
      lora_reader.fail("lora.task_ranks lacks task " + task.name);
      break;
    }
    FieldReader ranks_reader(*task_ranks);
    config->lora.task_ranks.push_back(stage_ranks(ranks_reader, task.name.c_str()));
    if (!ranks_reader.problem().empty()) lora_reader.fail(ranks_reader.problem());
  }
  if (!lora_reader.problem().empty()) return reader.fail(lora_reader.problem());
  const JsonValue* channels = reader.field("decoder_channels");
  if (channels && !channels->is_null()) config->decoder_channels = reader.integers("decoder_channels", kStages, 1, 1 << 16);
}

constexpr int64_t kMaxWidth = 1 << 16;

void read_updecoder(FieldReader& head, HeadConfig* config) {
  const JsonValue* deconv = head.field("deconv");
  if (!deconv) return;
  if (!deconv->is_array() || deconv->as_array().empty() || deconv->as_array().size() > 8) return head.fail("deconv must be a list of 1 to 8 layers");
  for (const JsonValue& entry : deconv->as_array()) {
    if (!entry.is_object()) return head.fail("each deconv layer must be an object");
    FieldReader layer_reader(entry);
    DeconvLayer layer;
    layer.channels = layer_reader.integer("channels", 1, kMaxWidth);
    layer.kernel = layer_reader.integer("kernel", 1, 64);
    layer.stride = layer_reader.integer("stride", 1, 64);
    layer.padding = layer_reader.integer("padding", 0, 64);
    layer.output_padding = layer_reader.integer("output_padding", 0, 63);
    if (layer_reader.problem().empty() && layer.output_padding >= layer.stride) layer_reader.fail("output_padding must be less than stride");
    if (!layer_reader.problem().empty()) return head.fail("deconv: " + layer_reader.problem());
    config->deconv.push_back(layer);
  }
  config->conv_kernel = head.integer("conv_kernel", 1, 64);
  config->conv_padding = head.integer("conv_padding", 0, 64);
  config->upsample = head.integers("upsample", 0, 8, 1, 64);
}

// tasks[t].head of an MTLoRA model: absent means hrnet (files written before the other heads).
void read_head(const JsonValue& task, TaskInfo* info, FieldReader& reader) {
  const JsonValue* object = task.find("head");
  if (!object) return;
  if (!object->is_object()) return reader.fail("task " + info->name + ": head must be an object");
  FieldReader head(*object);
  const std::string kind = head.string("kind");
  HeadConfig& config = info->head;
  if (kind == "hrnet") {
    config.kind = HeadKind::kHrnet;
  } else if (kind == "aspp") {
    config.kind = HeadKind::kAspp;
    config.channels = head.integer("channels", 1, kMaxWidth);
    config.rates = head.integers("rates", 1, 16, 1, 4096);
  } else if (kind == "segformer") {
    config.kind = HeadKind::kSegformer;
    config.channels = head.integer("channels", 1, kMaxWidth);
  } else if (kind == "updecoder") {
    config.kind = HeadKind::kUpdecoder;
    read_updecoder(head, &config);
  } else if (head.problem().empty()) {
    head.fail("unknown head kind '" + kind + "' (known: hrnet, aspp, segformer, updecoder)");
  }
  if (!head.problem().empty()) reader.fail("task " + info->name + ": head: " + head.problem());
}

void read_heads(FieldReader& reader, ModelConfig* config) {
  const JsonValue* tasks = reader.field("tasks");
  if (!tasks || !tasks->is_array() || tasks->as_array().size() != config->tasks.size()) return;
  for (size_t t = 0; t < config->tasks.size(); ++t) read_head(tasks->as_array()[t], &config->tasks[t], reader);
}

void read_fields(FieldReader& reader, ModelConfig* config) {
  const std::string family = reader.string("family");
  if (family == "mtlora") {
    config->family = Family::kMTLoRA;
  } else if (family != "adamtl" && reader.error().empty()) {
    return reader.fail("unsupported family '" + family + "'");
  }
  read_backbone_fields(reader, config);
  if (config->is_mtlora()) {
    read_mtlora_fields(reader, config);
    read_heads(reader, config);
  } else {
    read_adamtl_fields(reader, config);
  }
}

// SPEC 1: a stage whose resolution fits in one window uses the whole grid as its window, unshifted.
Status derive_geometry(ModelConfig* config) {
  int64_t resolution = config->patch_resolution();
  if (resolution * config->patch_size != config->img_size) return Status::error("model config: img_size is not a multiple of patch_size");
  for (int i = 0; i < kStages; ++i) {
    StageGeometry& stage = config->stages[i];
    stage.dim = config->embed_dim << i;
    stage.resolution = resolution;
    stage.tokens = resolution * resolution;
    stage.window = std::min(config->window_size, resolution);
    stage.window_tokens = stage.window * stage.window;
    stage.shift = resolution > config->window_size ? config->window_size / 2 : 0;
    stage.heads = config->num_heads[i];
    stage.depth = config->depths[i];
    stage.mlp_hidden = config->mlp_hidden[i];
    stage.merges = i + 1 < kStages;
    if (resolution % stage.window != 0) return Status::error("model config: stage " + std::to_string(i) + " resolution " + std::to_string(resolution) + " is not divisible by its window " + std::to_string(stage.window));
    if (stage.dim % stage.heads != 0) return Status::error("model config: stage " + std::to_string(i) + " dim is not divisible by its heads");
    if (stage.merges && resolution % 2 != 0) return Status::error("model config: stage " + std::to_string(i) + " resolution is odd and cannot be merged");
    stage.windows = stage.tokens / stage.window_tokens;
    stage.head_dim = stage.dim / stage.heads;
    stage.out_dim = stage.merges ? 2 * stage.dim : stage.dim;
    stage.out_resolution = stage.merges ? resolution / 2 : resolution;
    stage.out_tokens = stage.out_resolution * stage.out_resolution;
    resolution = stage.out_resolution;
    config->hrnet_channels_.push_back(stage.out_dim);
  }
  if (!config->decoder_channels.empty()) config->hrnet_channels_ = config->decoder_channels;
  return Status::ok();
}

// An updecoder head's maps from R_0 on: every transposed convolution and the conv must leave at least a pixel.
Status check_head_sizes(const ModelConfig& config) {
  for (const TaskInfo& task : config.tasks) {
    if (task.head.kind != HeadKind::kUpdecoder) continue;
    int64_t size = config.stages[0].out_resolution;
    for (const DeconvLayer& layer : task.head.deconv) size = layer.out_size(size);
    if (size >= 1) size = size + 2 * task.head.conv_padding - task.head.conv_kernel + 1;
    for (int64_t factor : task.head.upsample) size *= factor;
    if (size < 1 || size > (1 << 16)) {
      return Status::error("model config: task " + task.name + ": the updecoder head's layers take its " +
                           std::to_string(config.stages[0].out_resolution) + " x " + std::to_string(config.stages[0].out_resolution) +
                           " map to an unusable size");
    }
  }
  return Status::ok();
}

Status check_policy_fields(const ModelConfig& config) {
  const bool adaptive = config.ada_blocks || config.ada_tokens;
  if (adaptive == (config.policy_mode == PolicyMode::kNone)) {
    return Status::error("model config: policy_mode must be none exactly when ada_blocks and ada_tokens are both false");
  }
  if (config.ada_blocks && config.block_ctrl_dim < 1) return Status::error("model config: block_ctrl_dim must be positive");
  if (config.ada_tokens && config.token_ctrl_dim < 1) return Status::error("model config: token_ctrl_dim must be positive");
  if (config.decoder_dim % 2 != 0) return Status::error("model config: decoder_dim must be even");
  return Status::ok();
}

}  // namespace

std::vector<std::string> ModelConfig::policy_names() const {
  if (policy_mode == PolicyMode::kSingle) return {"all"};
  std::vector<std::string> names;
  if (policy_mode == PolicyMode::kPerTask) {
    for (const TaskInfo& task : tasks) names.push_back(task.name);
  }
  return names;
}

int ModelConfig::task_index(const std::string& name) const {
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (tasks[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

const char* head_kind_name(HeadKind kind) {
  switch (kind) {
    case HeadKind::kAspp: return "aspp";
    case HeadKind::kSegformer: return "segformer";
    case HeadKind::kUpdecoder: return "updecoder";
    case HeadKind::kHrnet: break;
  }
  return "hrnet";
}

const char* policy_mode_name(PolicyMode mode) {
  switch (mode) {
    case PolicyMode::kSingle: return "single";
    case PolicyMode::kPerTask: return "per_task";
    case PolicyMode::kNone: break;
  }
  return "none";
}

Status parse_model_config(const std::string& json_text, ModelConfig* config) {
  JsonValue root;
  std::string error;
  if (!parse_json(json_text, &root, &error)) return Status::error("model config is not valid JSON: " + error);
  if (!root.is_object()) return Status::error("model config must be a JSON object");
  FieldReader reader(root);
  *config = ModelConfig();
  read_fields(reader, config);
  if (!reader.error().empty()) return Status::error(reader.error());
  if (!config->is_mtlora()) {
    Status status = check_policy_fields(*config);
    if (!status.is_ok()) return status;
  }
  Status status = derive_geometry(config);
  if (!status.is_ok()) return status;
  return check_head_sizes(*config);
}

}  // namespace adarun
