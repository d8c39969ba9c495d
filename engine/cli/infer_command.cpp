// `adarun infer`: one frame through a model, outputs written as .npy, .png and stats.json.
#include <cstdio>

#include "engine/cli/arguments.h"
#include "engine/cli/commands.h"
#include "engine/src/image_input.h"
#include "engine/src/npy.h"
#include "engine/src/output_files.h"
#include "engine/src/pictures.h"
#include "engine/src/session.h"
#include "engine/src/stats_json.h"

namespace adarun::cli {
namespace {

struct InferOptions {
  std::string model, input, out;
  std::vector<std::string> tasks;
  int threads = 1;
  float gate_threshold = 0.0f;
  float budget = 0.0f;
};

Status parse_options(const std::vector<std::string>& args, InferOptions* options) {
  Arguments arguments;
  Status status = arguments.parse(args, {"model", "input", "out", "tasks", "threads", "gate-threshold", "budget"});
  if (!status.is_ok()) return status;
  for (const char* required : {"model", "input", "out"}) {
    if (!arguments.has(required)) return Status::error(std::string("infer needs --") + required);
  }
  options->model = arguments.get("model");
  options->input = arguments.get("input");
  options->out = arguments.get("out");
  options->tasks = split_commas(arguments.get("tasks"));
  if (arguments.has("tasks") && options->tasks.empty()) return Status::error("--tasks needs at least one task name");
  status = arguments.get_int("threads", 1, 1, 256, &options->threads);
  if (!status.is_ok()) return status;
  status = arguments.get_float("budget", 0.0f, &options->budget);
  if (!status.is_ok()) return status;
  return arguments.get_float("gate-threshold", 0.0f, &options->gate_threshold);
}

OutputFiles collect_outputs(const Session& session) {
  const ModelConfig& config = session.model().config();
  const int64_t size = config.img_size;
  OutputFiles files;
  for (int t : session.task_indices()) {
    const TaskInfo& task = config.tasks[t];
    files.add(task.name + ".npy", npy_bytes(session.output(t), {task.outputs, size, size}));
    files.add(task.name + ".png", png_bytes(task_picture(task.name, session.output(t), task.outputs, size), size, size));
  }
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

}  // namespace

Status run_infer(const std::vector<std::string>& args) {
  InferOptions options;
  Status status = parse_options(args, &options);
  if (!status.is_ok()) return status;
  std::unique_ptr<Model> model;
  status = Model::load_file(options.model, &model);
  if (!status.is_ok()) return Status::error(options.model + ": " + status.message());
  std::unique_ptr<Session> session;
  status = Session::create(*model, &session);
  if (!status.is_ok()) return status;
  status = session->set_tasks(options.tasks);
  if (!status.is_ok()) return status;
  session->set_gate_threshold(options.gate_threshold);
  status = session->set_threads(options.threads);
  if (!status.is_ok()) return status;
  status = session->set_budget(options.budget);
  if (!status.is_ok()) return status;
  std::vector<float> input;
  status = load_input_file(options.input, model->config().img_size, &input);
  if (!status.is_ok()) return status;
  status = session->run(input.data(), static_cast<int64_t>(input.size()));
  if (!status.is_ok()) return status;
  status = collect_outputs(*session).commit(options.out);
  if (!status.is_ok()) return status;
  print_summary(*session, options.out);
  return Status::ok();
}

}  // namespace adarun::cli
