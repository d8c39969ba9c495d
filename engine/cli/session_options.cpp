#include "engine/cli/session_options.h"

namespace adarun::cli {

std::vector<std::string> with_session_option_names(std::vector<std::string> names) {
  for (const char* name : {"model", "tasks", "threads", "gate-threshold", "budget"}) names.push_back(name);
  return names;
}

Status read_session_options(const Arguments& arguments, SessionOptions* options) {
  // Without --model: the bundled default model of the source tree this binary was built from.
  options->model = arguments.has("model") ? arguments.get("model") : ADARUN_DEFAULT_MODEL;
  options->tasks = split_commas(arguments.get("tasks"));
  if (arguments.has("tasks") && options->tasks.empty()) return Status::error("--tasks needs at least one task name");
  Status status = arguments.get_int("threads", 1, 1, 256, &options->threads);
  if (!status.is_ok()) return status;
  status = arguments.get_float("budget", 0.0f, &options->budget);
  if (!status.is_ok()) return status;
  return arguments.get_float("gate-threshold", 0.0f, &options->gate_threshold);
}

Status open_session(const SessionOptions& options, std::unique_ptr<Model>* model, std::unique_ptr<Session>* session) {
  Status status = Model::load_file(options.model, model);
  if (!status.is_ok()) return Status::error(options.model + ": " + status.message());
  if (!(status = Session::create(**model, session)).is_ok()) return status;
  if (!(status = (*session)->set_tasks(options.tasks)).is_ok()) return status;
  if (!(status = (*session)->set_threads(options.threads)).is_ok()) return status;
  (*session)->set_gate_threshold(options.gate_threshold);
  return (*session)->set_budget(options.budget);
}

}  // namespace adarun::cli
