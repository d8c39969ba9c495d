#include "engine/cli/session_options.h"

namespace adarun::cli {

void add_model_option(CLI::App* command, SessionOptions* options) {
  command->add_option("--model", options->model, "weight file (default: the bundled model, " ADARUN_DEFAULT_MODEL ")")
      ->option_text("M")
      ->check(a_value());
}

void add_run_options(CLI::App* command, SessionOptions* options) {
  command->add_option("--tasks", options->tasks, "run only these tasks' decoders (default: every task)")
      ->option_text("a,b")
      ->check(a_value())
      ->check(comma_list());
  command->add_option("--threads", options->threads, "threads for the GEMMs and the window attention, 1 to 256 (default 1)")
      ->option_text("N")
      ->check(integer_in(1, 256));
  command->add_option("--gate-threshold", options->gate_threshold,
                      "a gate is on iff its logit > T: 0 is the trained decision, lower keeps more (default 0)")
      ->option_text("T")
      ->check(finite_number());
  command->add_option("--budget", options->budget,
                      "compute budget, 0 < f <= 1, in place of the threshold: a block keeps its best ceil(f L) tokens, "
                      "a stage its best ceil(f depth) blocks (default: none)")
      ->option_text("f")
      ->check(budget_fraction());
  command->add_flag("--stream", options->stream,
                    "run the frames in order as video: each block reuses its stored outputs for the windows whose input "
                    "barely changed (README \"Streaming\")");
  command->add_option("--stream-threshold", options->stream_settings.threshold,
                      "with --stream: a token changed when |x - r| > T |r| (default 0.05; 0 with --stream-noise 0: the per-frame answer)")
      ->option_text("T")
      ->check(finite_number())
      ->check(CLI::NonNegativeNumber);
  command->add_option("--stream-refresh", options->stream_settings.refresh_every,
                      "with --stream: recompute everything every N frames (default 16)")
      ->option_text("N")
      ->check(integer_in(1, 1000000));
  command->add_option("--stream-noise", options->stream_settings.noise,
                      "with --stream: the camera's noise, grey levels (sigma): the first block lets its patches of the frame "
                      "change by up to 3 G RMS (default 0: it tests its tokens like the other blocks)")
      ->option_text("G")
      ->check(number_in(0, 255));
  command->add_option("--stream-cap", options->stream_settings.max_recompute,
                      "with --stream: recompute at most this share of a block's windows a frame, 0 < f <= 1 (default 1)")
      ->option_text("f")
      ->check(budget_fraction());
}

Status load_model(const std::string& path, std::unique_ptr<Model>* model) {
  const Status status = Model::load_file(path, model);
  if (status.is_ok() || status.message().rfind(path + ":", 0) == 0) return status;
  return Status::error(status.code(), path + ": " + status.message());
}

Status open_session(const SessionOptions& options, std::unique_ptr<Model>* model, std::unique_ptr<Session>* session) {
  Status status = load_model(options.model, model);
  if (!status.is_ok()) return status;
  if (!(status = Session::create(**model, session)).is_ok()) return status;
  if (!(status = (*session)->set_tasks(split_commas(options.tasks))).is_ok()) return status;
  if (!(status = (*session)->set_threads(options.threads)).is_ok()) return status;
  (*session)->set_gate_threshold(options.gate_threshold);
  if (!(status = (*session)->set_budget(options.budget)).is_ok()) return status;
  return options.stream ? (*session)->set_streaming(true, options.stream_settings) : Status::ok();
}

}  // namespace adarun::cli
