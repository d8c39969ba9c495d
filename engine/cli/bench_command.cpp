// `adarun bench`: repeated frames on one session; median and p90 latency, GMAC/s. The frame is an image or
// .npy given with --input (how much an adaptive model runs depends on it), else a fixed pseudo-random one; a folder
// or a numbered pattern runs each of its frames in turn and reports the median of each and their spread.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>

#include "engine/cli/commands.h"
#include "engine/cli/frame_sequence.h"
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
  std::string input;  // a frame, a folder or a pattern (frame_sequence.h); empty: a fixed pseudo-random frame
  int iterations = 20, warmup = 3;
  bool json = false;
  bool profile = false;  // time, MACs and calls per op kind (engine/src/op_profile.h)
};

// The fixed pseudo-random normalised frame: the same work on every run.
void random_input(const ModelConfig& config, std::vector<float>* input) {
  std::mt19937 generator(7);
  std::normal_distribution<float> normal;
  input->resize(static_cast<size_t>(config.in_chans * config.img_size * config.img_size));
  for (float& v : *input) v = normal(generator);
}

double percentile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(q * double(values.size() - 1) + 0.5)];
}

// The frames' inputs: decoded once when they all fit in kCacheBytes, else again before each run (untimed).
class BenchFrames {
 public:
  static constexpr int64_t kCacheBytes = int64_t{256} << 20;

  BenchFrames(std::vector<std::string> files, const ModelConfig& config) : files_(std::move(files)), config_(config) {
    const int64_t frame_bytes = config.in_chans * config.img_size * config.img_size * int64_t{sizeof(float)};
    cached_ = files_.empty() || int64_t(files_.size()) * frame_bytes <= kCacheBytes;
  }
  size_t count() const { return std::max<size_t>(files_.size(), 1); }
  const std::string& file(size_t i) const { return files_[i]; }
  bool random() const { return files_.empty(); }

  Status prepare() {
    if (!cached_) return Status::ok();
    inputs_.resize(count());
    if (random()) {
      random_input(config_, &inputs_[0]);
      return Status::ok();
    }
    for (size_t i = 0; i < files_.size(); ++i) {
      const Status status = load_input_file(files_[i], config_.img_size, &inputs_[i]);
      if (!status.is_ok()) return status;
    }
    return Status::ok();
  }
  Status get(size_t i, const std::vector<float>** input) {
    if (cached_) {
      *input = &inputs_[i];
      return Status::ok();
    }
    *input = &scratch_;
    return load_input_file(files_[i], config_.img_size, &scratch_);
  }

 private:
  std::vector<std::string> files_;
  const ModelConfig& config_;
  bool cached_ = true;
  std::vector<std::vector<float>> inputs_;
  std::vector<float> scratch_;
};

struct FrameResult {
  std::vector<double> times;
  std::string stats;  // frame_stats_members of its first measured run
  int64_t macs_executed = 0, macs_static = 0;
};

Status run_bench(const BenchOptions& o) {
  FrameSequence sequence;
  Status status = Status::ok();
  if (!o.input.empty() && !(status = list_frames(o.input, &sequence)).is_ok()) return status;
  std::unique_ptr<Model> model;
  std::unique_ptr<Session> session;
  if (!(status = open_session(o.session, &model, &session)).is_ok()) return status;
  BenchFrames frames(sequence.files, model->config());
  if (!(status = frames.prepare()).is_ok()) return status;
  const size_t count = frames.count();
  auto run_frame = [&](size_t f, double* ms) {
    const std::vector<float>* input = nullptr;
    Status result = frames.get(f, &input);
    if (!result.is_ok()) return result;
    const auto start = std::chrono::steady_clock::now();
    result = session->run(input->data(), int64_t(input->size()));
    *ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return result;
  };
  double ms = 0.0;
  for (int i = 0; i < o.warmup; ++i) {  // the frames in turn from the first
    if (!(status = run_frame(size_t(i) % count, &ms)).is_ok()) return status;
  }
  session->set_profiling(o.profile);  // the measured frames only
  std::vector<FrameResult> results(count);
  std::vector<double> all_times;
  for (int pass = 0; pass < o.iterations; ++pass) {  // each frame in turn, every pass
    for (size_t f = 0; f < count; ++f) {
      if (!(status = run_frame(f, &ms)).is_ok()) return status;
      results[f].times.push_back(ms);
      all_times.push_back(ms);
      if (pass > 0) continue;
      results[f].stats = frame_stats_members(session->stats());
      results[f].macs_executed = session->stats().macs_executed, results[f].macs_static = session->stats().macs_static;
    }
  }
  std::vector<double> medians;
  double gmacs = 0.0, static_gmacs = 0.0;  // means over the frames
  for (const FrameResult& r : results) {
    medians.push_back(percentile(r.times, 0.5));
    gmacs += double(r.macs_executed) * 1e-9 / double(count), static_gmacs += double(r.macs_static) * 1e-9 / double(count);
  }
  const double median = percentile(medians, 0.5), p90 = percentile(all_times, 0.9);
  const auto [fastest, slowest] = std::minmax_element(medians.begin(), medians.end());
  const auto [fewest, most] = std::minmax_element(results.begin(), results.end(),
                                                  [](const FrameResult& a, const FrameResult& b) { return a.macs_executed < b.macs_executed; });
  const double gflops = 2.0 * gmacs / (median * 1e-3);
  const MemoryFigures memory = memory_figures(*model, *session);
  if (o.json) {
    std::string per_frame;
    for (size_t f = 0; f < count; ++f) {
      char times[96];
      std::snprintf(times, sizeof times, "\"median_ms\": %.3f, \"p90_ms\": %.3f, ", medians[f], percentile(results[f].times, 0.9));
      per_frame += std::string(f ? ", " : "") + "{\"frame\": " + std::to_string(f) +
                   ", \"file\": " + (frames.random() ? "null" : json_quote(frames.file(f))) + ", " + times + results[f].stats + "}";
    }
    std::printf("{\"model\": %s, \"input\": %s, \"isa\": \"%s\", \"threads\": %d, \"iters\": %d, \"frames\": %zu, \"median_ms\": %.3f, "
                "\"p90_ms\": %.3f, \"min_ms\": %.3f, \"max_ms\": %.3f, \"gmacs\": %.4f, \"macs_static_g\": %.4f, \"gflops_per_s\": %.2f, "
                "\"memory\": %s, \"per_frame\": [%s]%s}\n",
                json_quote(o.session.model).c_str(), o.input.empty() ? "null" : json_quote(o.input).c_str(), isa_name(model->isa()),
                o.session.threads, o.iterations, count, median, p90, *fastest, *slowest, gmacs, static_gmacs, gflops,
                memory_json(memory).c_str(), per_frame.c_str(),
                o.profile ? (", \"profile\": " + profile_json(session->profile()) + ", \"profile_ops\": " +
                                 op_profile_json(session->profile(), session->plan())).c_str() : "");
  } else if (count == 1) {
    std::printf("%s on %s: %s, %d thread(s), %d frames after %d warm-up: median %.1f ms, p90 %.1f ms, %.3f GMACs, %.1f GFLOP/s\n",
                o.session.model.c_str(), o.input.empty() ? "a random frame" : o.input.c_str(), isa_name(model->isa()), o.session.threads, o.iterations, o.warmup, median, p90, gmacs, gflops);
  } else {
    std::printf("%s on %s (%zu frames): %s, %d thread(s), %d passes over the frames after %d warm-up runs: per-frame median %.1f ms "
                "(frames %.1f to %.1f ms), p90 %.1f ms, %.3f GMACs mean (%.3f to %.3f), %.1f GFLOP/s\n",
                o.session.model.c_str(), o.input.c_str(), count, isa_name(model->isa()), o.session.threads, o.iterations, o.warmup,
                median, *fastest, *slowest, p90, gmacs, double(fewest->macs_executed) * 1e-9, double(most->macs_executed) * 1e-9, gflops);
  }
  if (!o.json) {
    std::printf("memory: %s\n", memory_text(memory).c_str());
    if (o.profile) {
      std::printf("profile, mean per frame over the %zu frames:\n%s\n", size_t(o.iterations) * count, profile_table(session->profile()).c_str());
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
  command->add_option("--input", o->input,
                      "the frame, read as infer reads it, or a folder or numbered pattern of frames, each run in turn "
                      "(default: a fixed pseudo-random frame)")->option_text("IN")->check(a_value());
  add_run_options(command, &o->session);
  command->add_option("--iters", o->iterations, "measured runs of each frame, 1 to 100000 (default 20)")->option_text("K")->check(integer_in(1, 100000));
  command->add_option("--warmup", o->warmup, "warm-up runs before them (the frames in turn), 0 to 10000 (default 3)")->option_text("W")->check(integer_in(0, 10000));
  command->add_flag("--json", o->json, "print one JSON object instead of text");
  command->add_flag("--profile", o->profile, "add where a frame's time went, per op kind and the slowest ops");
  return {command, [o] { return run_bench(*o); }};
}

}  // namespace adarun::cli
