// adarun command line: infer | info.
#include <cstdio>
#include <string>
#include <vector>

#include "engine/cli/commands.h"

namespace {

constexpr const char* kUsage =
    "usage:\n"
    "  adarun infer [--model M] --input IN --out DIR [--tasks a,b] [--threads N] [--gate-threshold T] [--budget f]\n"
    "  adarun info --model M\n"
    "  adarun bench [--model M] [--input IN] [--tasks a,b] [--threads N] [--iters K] [--warmup W] [--gate-threshold T] [--budget f] [--json yes]\n";

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  adarun::Status status = adarun::Status::error("unknown command '" + args[0] + "'\n" + kUsage);
  try {
    if (args[0] == "infer") status = adarun::cli::run_infer(rest);
    if (args[0] == "info") status = adarun::cli::run_info(rest);
    if (args[0] == "bench") status = adarun::cli::run_bench(rest);
  } catch (const std::exception& e) {
    status = adarun::Status::error(std::string("internal error: ") + e.what());
  }
  if (status.is_ok()) return 0;
  std::fprintf(stderr, "adarun: %s\n", status.message().c_str());
  return 1;
}
