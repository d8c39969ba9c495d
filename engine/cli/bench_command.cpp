// `adarun bench`: repeated frames on one session; median and p90 latency, GMAC/s. The frame is an image or
// .npy given with --input (how much an adaptive model runs depends on it), else a fixed pseudo-random one.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>

#include "engine/cli/commands.h"
#include "engine/cli/memory_report.h"
#include "engine/cli/profile_report.h"
#include "engine/cli/session_options.h"
#include "engine/src/image_input.h"
#include "engine/src/session.h"
#include "weights/json.h"

namespace adarun::cli {
namespace {

struct BenchOptions {
  SessionOptions session;
  std::string input;  // empty: bench_input
  int iterations = 20, warmup = 3;
  bool json = false;
  bool profile = false;  // time, MACs and calls per op kind (engine/src/op_profile.h)
};

// The --input frame, else a fixed pseudo-random normalised one: the same work on every run.
Status bench_input(const std::string& path, const ModelConfig& config, std::vector<float>* input) {
  if (!path.empty()) return load_input_file(path, config.img_size, input);
  std::mt19937 generator(7);
  std::normal_distribution<float> normal;
  input->resize(static_cast<size_t>(config.in_chans * config.img_size * config.img_size));
  for (float& v : *input) v = normal(generator);
  return Status::ok();
}

double percentile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(q * double(values.size() - 1) + 0.5)];
}

Status run_bench(const BenchOptions& o) {
  std::unique_ptr<Model> model;
  std::unique_ptr<Session> session;
  Status status = open_session(o.session, &model, &session);
  if (!status.is_ok()) return status;
  std::vector<float> input;
  if (!(status = bench_input(o.input, model->config(), &input)).is_ok()) return status;
  std::vector<double> times;
  for (int i = 0; i < o.warmup + o.iterations; ++i) {
    if (i == o.warmup) session->set_profiling(o.profile);  // the measured frames only
    const auto start = std::chrono::steady_clock::now();
    if (!(status = session->run(input.data(), int64_t(input.size()))).is_ok()) return status;
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (i >= o.warmup) times.push_back(ms);
  }
  const double median = percentile(times, 0.5), p90 = percentile(times, 0.9);
  const double gmacs = double(session->stats().macs_executed) * 1e-9;
  const double gflops = 2.0 * gmacs / (median * 1e-3);
  const MemoryFigures memory = memory_figures(*model, *session);
  if (o.json) {
    std::printf("{\"model\": %s, \"input\": %s, \"isa\": \"%s\", \"threads\": %d, \"iters\": %d, \"median_ms\": %.3f, \"p90_ms\": %.3f, "
                "\"gmacs\": %.4f, \"macs_static_g\": %.4f, \"gflops_per_s\": %.2f, \"memory\": %s%s}\n",
                json_quote(o.session.model).c_str(), o.input.empty() ? "null" : json_quote(o.input).c_str(), isa_name(model->isa()),
                o.session.threads, o.iterations, median, p90, gmacs, double(session->stats().macs_static) * 1e-9, gflops, memory_json(memory).c_str(),
                o.profile ? (", \"profile\": " + profile_json(session->profile()) + ", \"profile_ops\": " +
                                 op_profile_json(session->profile(), session->plan())).c_str() : "");
  } else {
    std::printf("%s on %s: %s, %d thread(s), %d frames after %d warm-up: median %.1f ms, p90 %.1f ms, %.3f GMACs, %.1f GFLOP/s\n",
                o.session.model.c_str(), o.input.empty() ? "a random frame" : o.input.c_str(), isa_name(model->isa()), o.session.threads, o.iterations, o.warmup, median, p90, gmacs, gflops);
    std::printf("memory: %s\n", memory_text(memory).c_str());
    if (o.profile) {
      std::printf("profile, mean per frame over the %d frames:\n%s\n", o.iterations, profile_table(session->profile()).c_str());
      std::printf("%s", op_profile_table(session->profile(), session->plan(), 12).c_str());
    }
  }
  return Status::ok();
}

}  // namespace

Command add_bench_command(CLI::App* program) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* command = program->add_subcommand("bench", "time repeated frames on one session: median and p90 latency, GMACs, GFLOP/s, memory");
  add_model_option(command, &o->session);
  command->add_option("--input", o->input, "the frame, read as infer reads it (default: a fixed pseudo-random frame)")->option_text("IN")->check(a_value());
  add_run_options(command, &o->session);
  command->add_option("--iters", o->iterations, "measured frames, 1 to 100000 (default 20)")->option_text("K")->check(integer_in(1, 100000));
  command->add_option("--warmup", o->warmup, "warm-up frames before them, 0 to 10000 (default 3)")->option_text("W")->check(integer_in(0, 10000));
  command->add_flag("--json", o->json, "print one JSON object instead of text");
  command->add_flag("--profile", o->profile, "add where a frame's time went, per op kind and the slowest ops");
  return {command, [o] { return run_bench(*o); }};
}

}  // namespace adarun::cli
