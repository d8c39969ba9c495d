// `adarun info`: what a weight file holds.
#include <cstdio>
#include <memory>
#include <string>

#include "engine/cli/commands.h"
#include "engine/cli/memory_report.h"
#include "engine/cli/session_options.h"
#include "engine/src/model.h"
#include "engine/src/plan_dump.h"
#include "engine/src/session.h"

namespace adarun::cli {
namespace {

void print_model(const Model& model) {
  const ModelConfig& c = model.config();
  std::printf("family        %s\n", c.is_mtlora() ? "mtlora" : "adamtl");
  std::printf("input         %lld x %lld, patch %lld, embed %lld, window %lld%s%s\n", (long long)c.img_size, (long long)c.img_size,
              (long long)c.patch_size, (long long)c.embed_dim, (long long)c.window_size, c.ape ? ", absolute position embedding" : "",
              c.patch_norm ? "" : ", no patch norm");
  for (int i = 0; i < kStages; ++i) {
    const StageGeometry& s = c.stages[i];
    std::printf("stage %d       dim %lld, %lld blocks, %lld heads, %lldx%lld tokens, window %lld%s\n", i, (long long)s.dim,
                (long long)s.depth, (long long)s.heads, (long long)s.resolution, (long long)s.resolution, (long long)s.window,
                s.shift ? ", shifted odd blocks" : "");
  }
  if (c.is_mtlora()) {
    std::printf("adapters      %s shared adapter on forking layers; decoder %s\n", c.lora.shared_separate ? "separate" : "merged",
                c.decoder_channels.empty() ? "without downsampler" : "with downsampler");
  } else {
    std::printf("policies      %s (blocks %s, tokens %s)\n", policy_mode_name(c.policy_mode), c.ada_blocks ? "on" : "off",
                c.ada_tokens ? "on" : "off");
    std::printf("decoder dim   %lld\n", (long long)c.decoder_dim);
  }
  for (const TaskInfo& task : c.tasks) {
    const std::string head = c.is_mtlora() ? std::string(", ") + head_kind_name(task.head.kind) + " head" : "";
    std::printf("task          %s (%lld output%s%s)\n", task.name.c_str(), (long long)task.outputs, task.outputs == 1 ? "" : "s",
                head.c_str());
  }
  std::printf("parameters    %lld\n", (long long)model.parameter_count());
  const Model::Storage& storage = model.storage();
  std::printf("weights       F32 %.2f M, F16 %.2f M, I8 %.2f M values", double(storage.f32) * 1e-6, double(storage.f16) * 1e-6,
              double(storage.i8) * 1e-6);
  if (storage.i8) {
    std::printf("; int8 layers on %s", storage.int8_kernel.empty() ? "fp32 (widened: no int8 kernel for this ISA, or ADARUN_INT8=none)" : storage.int8_kernel.c_str());
  }
  std::printf("\n");
}

struct InfoOptions {
  std::string model;
  bool plan = false;
};

Status run_info(const InfoOptions& options) {
  std::unique_ptr<Model> model;
  Status status = load_model(options.model, &model);
  if (!status.is_ok()) return status;
  print_model(*model);
  std::unique_ptr<Session> session;  // every task: the largest plan
  if (!(status = Session::create(*model, &session)).is_ok()) return status;
  std::printf("static MACs   %.3f G (all tasks)\n", double(session->plan().static_macs) * 1e-9);
  std::printf("memory        %s\n", memory_text(memory_figures(*model, *session)).c_str());
  if (options.plan) std::printf("\n%s", plan_text(session->plan()).c_str());
  return Status::ok();
}

}  // namespace

Command add_info_command(CLI::App* program) {
  auto options = std::make_shared<InfoOptions>();
  CLI::App* command = program->add_subcommand("info", "print a weight file's model: configuration, tasks, parameters, static MACs, memory");
  command->add_option("--model", options->model, "weight file")->option_text("M")->required()->check(a_value());
  command->add_flag("--plan", options->plan, "add the plan for all tasks, one op a line");
  return {command, [options] { return run_info(*options); }};
}

}  // namespace adarun::cli
