// `adarun infer`: one frame through a model, outputs written as .npy, .png, summary.png, compute.png and stats.json.
#include <cstdio>
#include <memory>

#include "engine/cli/commands.h"
#include "engine/cli/session_options.h"
#include "engine/src/image_input.h"
#include "engine/src/npy.h"
#include "engine/src/output_files.h"
#include "engine/src/pictures.h"
#include "engine/src/session.h"
#include "engine/src/stats_json.h"

namespace adarun::cli {
namespace {

struct InferOptions {
  SessionOptions session;
  std::string input, out;
};

OutputFiles collect_outputs(const Session& session, const std::vector<float>& input) {
  const ModelConfig& config = session.model().config();
  const int64_t size = config.img_size;
  OutputFiles files;
  const std::vector<uint8_t> input_rgb = input_picture(input.data(), size);
  std::vector<SummaryPanel> summary = {{input_rgb, "input", {}}};
  for (int t : session.task_indices()) {
    const TaskInfo& task = config.tasks[t];
    std::vector<uint8_t> picture = task_picture(task.name, session.output(t), task.outputs, size);
    files.add(task.name + ".npy", npy_bytes(session.output(t), {task.outputs, size, size}));
    files.add(task.name + ".png", png_bytes(picture, size, size));
    summary.push_back({std::move(picture), task.name,
                       is_class_map(task.name, task.outputs) ? class_labels(task.name, task.outputs) : std::vector<std::string>()});
  }
  files.add("summary.png", png_bytes(summary_picture(summary, size)));
  std::vector<int64_t> resolutions;
  for (const StageGeometry& stage : config.stages) resolutions.push_back(stage.resolution);
  files.add("compute.png", png_bytes(compute_picture(input_rgb, size, session.stats(), resolutions)));
  files.add("stats.json", stats_json(session.stats(), session.gate_threshold(), session.budget()));
  return files;
}

void print_summary(const Session& session, const std::string& out) {
  const FrameStats& stats = session.stats();
  std::string tasks;
  for (const std::string& task : stats.tasks) tasks += (tasks.empty() ? "" : ",") + task;
  std::printf("tasks %s: %.1f ms, %.3f GMACs executed of %.3f static (%.1f%%), outputs in %s\n", tasks.c_str(), stats.milliseconds,
              double(stats.macs_executed) * 1e-9, double(stats.macs_static) * 1e-9,
              100.0 * double(stats.macs_executed) / double(stats.macs_static), out.c_str());
}

Status run_infer(const InferOptions& options) {
  std::unique_ptr<Model> model;
  std::unique_ptr<Session> session;
  Status status = open_session(options.session, &model, &session);
  if (!status.is_ok()) return status;
  std::vector<float> input;
  status = load_input_file(options.input, model->config().img_size, &input);
  if (!status.is_ok()) return status;
  status = session->run(input.data(), static_cast<int64_t>(input.size()));
  if (!status.is_ok()) return status;
  status = collect_outputs(*session, input).commit(options.out);
  if (!status.is_ok()) return status;
  print_summary(*session, options.out);
  return Status::ok();
}

}  // namespace

Command add_infer_command(CLI::App* program) {
  auto options = std::make_shared<InferOptions>();
  CLI::App* command = program->add_subcommand("infer", "run one frame; write each task's output (.npy, .png), summary.png, compute.png and stats.json");
  add_model_option(command, &options->session);
  command->add_option("--input", options->input, "the frame: .jpg or .png (resized and normalised), or .npy float32 [3, S, S] normalised")
      ->option_text("IN")
      ->required()
      ->check(a_value());
  command->add_option("--out", options->out, "folder for the outputs (made if missing)")->option_text("DIR")->required()->check(a_value());
  add_run_options(command, &options->session);
  return {command, [options] { return run_infer(*options); }};
}

}  // namespace adarun::cli
