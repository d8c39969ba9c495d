#pragma once
// The CLI's commands. Each adds itself to the program's parser with its options; once the command line is
// parsed, the returned function runs the command with what was given.
#include <functional>

#include <CLI/CLI.hpp>

#include "engine/src/status.h"

namespace adarun::cli {

struct Command {
  CLI::App* parser = nullptr;
  std::function<Status()> run;
};

Command add_infer_command(CLI::App* program);
Command add_info_command(CLI::App* program);
Command add_bench_command(CLI::App* program);

}  // namespace adarun::cli
