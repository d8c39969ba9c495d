#pragma once
// The options of every command that runs frames (infer, bench), and opening a model and a session from them.
#include <memory>
#include <string>
#include <vector>

#include "engine/cli/options.h"
#include "engine/src/session.h"

namespace adarun::cli {

struct SessionOptions {
  std::string model = ADARUN_DEFAULT_MODEL;  // the bundled model of the source tree this binary was built from
  std::string tasks;                         // comma-separated; empty: every task
  int threads = 1;
  float gate_threshold = 0.0f;
  float budget = 0.0f;
  bool stream = false;  // frames of a sequence reuse work across frames (README "Streaming")
  StreamSettings stream_settings;
};

// --model, defaulting to the bundled model; then --tasks, --threads, --gate-threshold, --budget and the
// streaming options (--stream, --stream-threshold, --stream-refresh, --stream-cap).
void add_model_option(CLI::App* command, SessionOptions* options);
void add_run_options(CLI::App* command, SessionOptions* options);
// Model::load_file, its errors naming the file once.
Status load_model(const std::string& path, std::unique_ptr<Model>* model);
Status open_session(const SessionOptions& options, std::unique_ptr<Model>* model, std::unique_ptr<Session>* session);

}  // namespace adarun::cli
