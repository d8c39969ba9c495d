// adarun command line: infer | info | bench, parsed with CLI11.
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "engine/cli/commands.h"
#include "engine/cli/options.h"
#include "engine/include/adarun/adarun.h"

#define ADARUN_TEXT(x) #x
#define ADARUN_VERSION_TEXT(major, minor, patch) ADARUN_TEXT(major) "." ADARUN_TEXT(minor) "." ADARUN_TEXT(patch)

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "adarun: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App program("adarun: runs adaptive multi-task vision models (AdaMTL, MTLoRA) from a converted weight file.", "adarun");
  // Before the commands are added: they take the program's formatter, help flag and option defaults.
  program.formatter(std::make_shared<adarun::cli::Formatter>());
  program.set_help_flag("-h,--help", "print this help and exit");
  program.set_version_flag("--version",
                           "adarun " ADARUN_VERSION_TEXT(ADARUN_VERSION_MAJOR, ADARUN_VERSION_MINOR, ADARUN_VERSION_PATCH),
                           "print the version and exit");
  program.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // an option given twice: the last
  program.require_subcommand(1);
  const std::vector<adarun::cli::Command> commands = {adarun::cli::add_infer_command(&program),
                                                      adarun::cli::add_info_command(&program),
                                                      adarun::cli::add_bench_command(&program)};
  for (const adarun::cli::Command& command : commands) command.parser->group("Commands");
  if (argc < 2) {
    std::fputs(program.help().c_str(), stderr);
    return 1;
  }
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    program.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return program.exit(e);
  } catch (const CLI::ParseError& e) {
    for (const adarun::cli::Command& command : commands) {
      if (!command.parser->parsed()) continue;
      const std::string name = command.parser->get_name();
      return fail(name + ": " + adarun::cli::parse_error_text(*command.parser, e, args) + " (see adarun " + name + " --help)");
    }
    if (args[0].rfind("-", 0) != 0) return fail("unknown command '" + args[0] + "': the commands are infer, info and bench (see adarun --help)");
    return fail("unknown option " + args[0].substr(0, args[0].find('=')) + " (see adarun --help)");
  }
  for (const adarun::cli::Command& command : commands) {
    if (!command.parser->parsed()) continue;
    adarun::Status status = adarun::Status::ok();
    try {
      status = command.run();
    } catch (const std::exception& e) {
      status = adarun::Status::error(std::string("internal error: ") + e.what());
    }
    return status.is_ok() ? 0 : fail(status.message());
  }
  return fail("no command given (adarun --help)");  // require_subcommand makes this unreachable
}
