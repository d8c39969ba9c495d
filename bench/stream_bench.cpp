// adarun_stream_bench: a streamed session against per-frame runs on the same video, frame by frame and side by
// side: latency, MACs, tokens reused, and how far each task's outputs drift from the per-frame answer.
//   adarun_stream_bench MODEL FRAMES.npy [--threshold T] [--refresh N] [--cap f] [--noise G] [--threads N] [--passes P] [--json]
// FRAMES.npy: float32 [frames, 3, S, S], normalised as the model's input (bench/streaming_video.py makes them).
// With P passes the video runs P times (the stream restarted each time) and each frame's time is its fastest pass:
// on a shared machine a burst of other work then has to hit the same frame in every pass to move the medians.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "engine/src/npy.h"
#include "engine/src/session.h"

namespace {

using adarun::Session;

struct Options {
  std::string model, frames;
  adarun::StreamSettings stream;
  int threads = 1, passes = 1;
  bool json = false;
};

bool parse(int argc, char** argv, Options* o) {
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--json") {
      o->json = true;
    } else if (arg == "--threshold" && has_value) {
      o->stream.threshold = std::strtof(argv[++i], nullptr);
    } else if (arg == "--refresh" && has_value) {
      o->stream.refresh_every = std::atoi(argv[++i]);
    } else if (arg == "--noise" && has_value) {
      o->stream.noise = std::strtof(argv[++i], nullptr);
    } else if (arg == "--cap" && has_value) {
      o->stream.max_recompute = std::strtof(argv[++i], nullptr);
    } else if (arg == "--threads" && has_value) {
      o->threads = std::atoi(argv[++i]);
    } else if (arg == "--passes" && has_value) {
      o->passes = std::max(1, std::atoi(argv[++i]));
    } else if (arg.rfind("--", 0) == 0) {
      return false;
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.size() != 2) return false;
  o->model = positional[0], o->frames = positional[1];
  return true;
}

// How far a streamed task output is from the per-frame one, in the task's own terms: class maps the share of
// pixels whose argmax agrees, sigmoid maps the IoU of their > 0.5 masks (1 when both are empty), normals the mean
// angle in degrees, anything else the mean absolute difference.
double drift(const std::string& task, const float* streamed, const float* per_frame, int64_t channels, int64_t pixels) {
  if (task == "semseg" || task == "human_parts") {
    int64_t agree = 0;
    for (int64_t p = 0; p < pixels; ++p) {
      int64_t a = 0, b = 0;
      for (int64_t c = 1; c < channels; ++c) {
        if (streamed[c * pixels + p] > streamed[a * pixels + p]) a = c;
        if (per_frame[c * pixels + p] > per_frame[b * pixels + p]) b = c;
      }
      agree += a == b;
    }
    return double(agree) / double(pixels);
  }
  if (task == "sal" || task == "edge") {
    int64_t both = 0, either = 0;
    for (int64_t p = 0; p < pixels; ++p) {
      const bool a = streamed[p] > 0.0f, b = per_frame[p] > 0.0f;  // sigmoid > 0.5
      both += a && b;
      either += a || b;
    }
    return either ? double(both) / double(either) : 1.0;
  }
  if (task == "normals") {
    double total = 0.0;
    for (int64_t p = 0; p < pixels; ++p) {
      double dot = 0.0, na = 0.0, nb = 0.0;
      for (int64_t c = 0; c < 3; ++c) {
        dot += double(streamed[c * pixels + p]) * per_frame[c * pixels + p];
        na += double(streamed[c * pixels + p]) * streamed[c * pixels + p];
        nb += double(per_frame[c * pixels + p]) * per_frame[c * pixels + p];
      }
      total += std::acos(std::clamp(dot / std::sqrt(std::max(na * nb, 1e-30)), -1.0, 1.0)) * 180.0 / M_PI;
    }
    return total / double(pixels);
  }
  double total = 0.0;
  for (int64_t k = 0; k < channels * pixels; ++k) total += std::fabs(streamed[k] - per_frame[k]);
  return total / double(channels * pixels);
}

double run_timed(Session& session, const float* frame, int64_t count) {
  const auto start = std::chrono::steady_clock::now();
  const adarun::Status status = session.run(frame, count);
  if (!status.is_ok()) {
    std::fprintf(stderr, "adarun_stream_bench: %s\n", status.message().c_str());
    std::exit(1);
  }
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0.0 : values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, &o)) {
    std::fprintf(stderr, "usage: adarun_stream_bench MODEL FRAMES.npy [--threshold T] [--refresh N] [--cap f] [--noise G] [--threads N] [--passes P] [--json]\n");
    return 1;
  }
  std::unique_ptr<adarun::Model> model;
  adarun::NpyArray frames;
  adarun::Status status = adarun::Model::load_file(o.model, &model);
  if (status.is_ok()) status = adarun::read_npy(o.frames, &frames);
  const adarun::ModelConfig& config = model ? model->config() : adarun::ModelConfig();
  const int64_t size = config.img_size, frame_floats = 3 * size * size;
  if (status.is_ok() && (frames.shape.size() != 4 || frames.shape[1] * frames.shape[2] * frames.shape[3] != frame_floats)) {
    status = adarun::Status::error(o.frames + ": expected float32 [frames, 3, " + std::to_string(size) + ", " + std::to_string(size) + "]");
  }
  std::unique_ptr<Session> per_frame, streamed;
  if (status.is_ok()) status = Session::create(*model, &per_frame);
  if (status.is_ok()) status = Session::create(*model, &streamed);
  if (status.is_ok()) status = per_frame->set_threads(o.threads);
  if (status.is_ok()) status = streamed->set_threads(o.threads);
  if (status.is_ok()) status = streamed->set_streaming(true, o.stream);
  if (!status.is_ok()) {
    std::fprintf(stderr, "adarun_stream_bench: %s\n", status.message().c_str());
    return 1;
  }
  const int64_t count = frames.shape[0], pixels = size * size;
  // The later passes' times; the first pass below also gives the MACs and drift (the same in every pass).
  std::vector<double> per_frame_best(size_t(count), 1e30), streamed_best(size_t(count), 1e30);
  for (int pass = 1; pass < o.passes; ++pass) {
    if (!streamed->set_streaming(true, o.stream).is_ok()) return 1;  // restarts the stream
    for (int64_t f = 0; f < count; ++f) {
      const float* frame = frames.values.data() + f * frame_floats;
      per_frame_best[size_t(f)] = std::min(per_frame_best[size_t(f)], run_timed(*per_frame, frame, frame_floats));
      streamed_best[size_t(f)] = std::min(streamed_best[size_t(f)], run_timed(*streamed, frame, frame_floats));
    }
  }
  if (o.passes > 1 && !streamed->set_streaming(true, o.stream).is_ok()) return 1;
  std::vector<double> per_frame_ms, streamed_ms;
  std::vector<double> worst(config.tasks.size(), 0.0);
  double macs_per_frame = 0.0, macs_streamed = 0.0;
  if (!o.json) {
    std::printf("frame  per-frame ms  streamed ms  MAC fraction  tokens reused");
    for (const adarun::TaskInfo& task : config.tasks) std::printf("  %12s", task.name.c_str());
    std::printf("\n");
  }
  std::string json_frames;
  for (int64_t f = 0; f < count; ++f) {
    const float* frame = frames.values.data() + f * frame_floats;
    per_frame_ms.push_back(std::min(per_frame_best[size_t(f)], run_timed(*per_frame, frame, frame_floats)));
    streamed_ms.push_back(std::min(streamed_best[size_t(f)], run_timed(*streamed, frame, frame_floats)));
    int64_t tokens = 0;
    for (size_t i = 0; i < streamed->stats().blocks.size(); ++i) {
      for (size_t j = 0; j < streamed->stats().blocks[i].size(); ++j) tokens += streamed->stats().blocks[i][j] ? config.stages[i].tokens : 0;
    }
    const double mac_fraction = double(streamed->stats().macs_executed) / double(per_frame->stats().macs_executed);
    const double reused = tokens ? double(streamed->stats().tokens_reused) / double(tokens) : 0.0;
    macs_per_frame += double(per_frame->stats().macs_executed), macs_streamed += double(streamed->stats().macs_executed);
    std::string drifts;
    if (!o.json) std::printf("%5lld  %12.2f  %11.2f  %12.3f  %13.3f", (long long)f, per_frame_ms.back(), streamed_ms.back(), mac_fraction, reused);
    for (size_t t = 0; t < config.tasks.size(); ++t) {
      const adarun::TaskInfo& task = config.tasks[t];
      const double d = drift(task.name, streamed->output(int(t)), per_frame->output(int(t)), task.outputs, pixels);
      const bool higher_is_better = task.name == "semseg" || task.name == "human_parts" || task.name == "sal" || task.name == "edge";
      worst[t] = f == 0 ? d : higher_is_better ? std::min(worst[t], d) : std::max(worst[t], d);
      if (!o.json) std::printf("  %12.4f", d);
      drifts += (t ? ", " : "") + std::string("\"") + task.name + "\": " + std::to_string(d);
    }
    if (!o.json) std::printf("\n");
    char item[256];
    std::snprintf(item, sizeof item, "%s{\"frame\": %lld, \"per_frame_ms\": %.3f, \"streamed_ms\": %.3f, \"mac_fraction\": %.4f, \"tokens_reused\": %.4f, ",
                  f ? ", " : "", (long long)f, per_frame_ms.back(), streamed_ms.back(), mac_fraction, reused);
    json_frames += item + std::string("\"drift\": {") + drifts + "}}";
  }
  const double latency_ratio = median(per_frame_ms) / std::max(median(streamed_ms), 1e-9);
  const double mac_ratio = macs_per_frame / std::max(macs_streamed, 1.0);
  if (o.json) {
    std::printf("{\"threshold\": %g, \"refresh\": %d, \"cap\": %g, \"noise\": %g, \"median_per_frame_ms\": %.3f, "
                "\"median_streamed_ms\": %.3f, \"latency_ratio\": %.3f, \"mac_ratio\": %.3f, \"frames\": [%s]}\n",
                o.stream.threshold, o.stream.refresh_every, o.stream.max_recompute, o.stream.noise, median(per_frame_ms),
                median(streamed_ms), latency_ratio, mac_ratio, json_frames.c_str());
    return 0;
  }
  std::printf("median: per-frame %.2f ms, streamed %.2f ms (%.2fx); MACs %.2fx fewer; worst drift:", median(per_frame_ms),
              median(streamed_ms), latency_ratio, mac_ratio);
  for (size_t t = 0; t < config.tasks.size(); ++t) std::printf(" %s %.4f", config.tasks[t].name.c_str(), worst[t]);
  std::printf("\n");
  return 0;
}
