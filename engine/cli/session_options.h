#pragma once
// The options of every command that runs frames (infer, bench), and opening a session from them.
#include <memory>
#include <string>
#include <vector>

#include "engine/cli/arguments.h"
#include "engine/src/session.h"

namespace adarun::cli {

struct SessionOptions {
  std::string model;
  std::vector<std::string> tasks;
  int threads = 1;
  float gate_threshold = 0.0f;
  float budget = 0.0f;
};

// Option names these cover, to add to a command's own for Arguments::parse.
std::vector<std::string> with_session_option_names(std::vector<std::string> names);
Status read_session_options(const Arguments& arguments, SessionOptions* options);
Status open_session(const SessionOptions& options, std::unique_ptr<Model>* model, std::unique_ptr<Session>* session);

}  // namespace adarun::cli
