// `adarun infer`: a frame, a folder of frames or a numbered sequence through a model on one session, each frame's
// outputs written as .npy, .png, summary.png, compute.png and stats.json; a sequence's frames into numbered folders,
// with a line per frame in stats.jsonl.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "engine/cli/commands.h"
#include "engine/cli/frame_sequence.h"
#include "engine/cli/session_options.h"
#include "engine/src/image_input.h"
#include "engine/src/npy.h"
#include "engine/src/output_files.h"
#include "engine/src/pictures.h"
#include "engine/src/session.h"
#include "engine/src/stats_json.h"
#include "weights/json.h"

namespace adarun::cli {
namespace {

struct InferOptions {
  SessionOptions session;
  std::string input, out;
};

OutputFiles collect_outputs(const Session& session, const std::vector<float>& input) {
  const ModelConfig& config = session.model().config();
  const int64_t size = config.img_size;
  OutputFiles files;
  const std::vector<uint8_t> input_rgb = input_picture(input.data(), size);
  std::vector<SummaryPanel> summary = {{input_rgb, "input", {}}};
  for (int t : session.task_indices()) {
    const TaskInfo& task = config.tasks[t];
    std::vector<uint8_t> picture = task_picture(task.name, session.output(t), task.outputs, size);
    files.add(task.name + ".npy", npy_bytes(session.output(t), {task.outputs, size, size}));
    files.add(task.name + ".png", png_bytes(picture, size, size));
    summary.push_back({std::move(picture), task.name,
                       is_class_map(task.name, task.outputs) ? class_labels(task.name, task.outputs) : std::vector<std::string>()});
  }
  files.add("summary.png", png_bytes(summary_picture(summary, size)));
  std::vector<int64_t> resolutions;
  for (const StageGeometry& stage : config.stages) resolutions.push_back(stage.resolution);
  files.add("compute.png", png_bytes(compute_picture(input_rgb, size, session.stats(), resolutions)));
  files.add("stats.json", stats_json(session.stats(), session.gate_threshold(), session.budget()));
  return files;
}

void print_summary(const Session& session, const std::string& out) {
  const FrameStats& stats = session.stats();
  std::string tasks;
  for (const std::string& task : stats.tasks) tasks += (tasks.empty() ? "" : ",") + task;
  std::printf("tasks %s: %.1f ms, %.3f GMACs executed of %.3f static (%.1f%%), outputs in %s\n", tasks.c_str(), stats.milliseconds,
              double(stats.macs_executed) * 1e-9, double(stats.macs_static) * 1e-9,
              100.0 * double(stats.macs_executed) / double(stats.macs_static), out.c_str());
}

// What a sequence's frames did, for stats.jsonl and the closing summary.
struct SequenceRecord {
  std::string lines;  // stats.jsonl
  std::vector<double> milliseconds, mac_fractions;

  void add(int64_t index, const std::string& file, const std::string& folder, const FrameStats& stats) {
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.3f", stats.milliseconds);
    lines += "{\"frame\": " + std::to_string(index) + ", \"file\": " + json_quote(file) + ", \"outputs\": " + json_quote(folder) +
             ", \"milliseconds\": " + ms + ", " + frame_stats_members(stats) + "}\n";
    milliseconds.push_back(stats.milliseconds);
    mac_fractions.push_back(double(stats.macs_executed) / double(std::max<int64_t>(stats.macs_static, 1)));
  }
  // stats.jsonl, all or nothing, once any frame has run.
  Status commit(const std::string& out) const {
    if (lines.empty()) return Status::ok();
    OutputFiles files;
    files.add("stats.jsonl", lines);
    return files.commit(out);
  }
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

// The frames in order on the one session (a streamed session carries state from frame to frame), each frame's
// outputs committed to its own folder before the next runs. A frame that fails stops the run: the frames before it
// stay written (each whole, with its stats.jsonl line), the failing one writes nothing.
Status run_sequence(const std::vector<std::string>& files, const std::string& out, Session* session) {
  const int64_t count = static_cast<int64_t>(files.size());
  SequenceRecord record;
  Status status = Status::ok();
  {
    Progress progress(count);
    std::vector<float> input;
    for (int64_t i = 0; i < count && status.is_ok(); ++i) {
      const std::string& file = files[static_cast<size_t>(i)];
      const std::string folder = frame_folder(i, count);
      status = load_input_file(file, session->model().config().img_size, &input);
      if (status.is_ok()) status = session->run(input.data(), static_cast<int64_t>(input.size()));
      if (status.is_ok()) status = collect_outputs(*session, input).commit((std::filesystem::path(out) / folder).string());
      if (!status.is_ok()) {
        const std::string& message = status.message();
        status = Status::error(status.code(), message.find(file) == std::string::npos ? file + ": " + message : message);
        break;
      }
      record.add(i, file, folder, session->stats());
      progress.frame_done(i + 1);
    }
  }
  const Status written = record.commit(out);
  if (!status.is_ok()) return status;
  if (!written.is_ok()) return written;
  std::string tasks;
  for (const std::string& task : session->stats().tasks) tasks += (tasks.empty() ? "" : ",") + task;
  const auto [low, high] = std::minmax_element(record.mac_fractions.begin(), record.mac_fractions.end());
  double mean = 0.0;
  for (double f : record.mac_fractions) mean += f / double(count);
  std::printf("%lld frames, tasks %s: median %.1f ms, mean %.1f%% of static MACs (%.1f%% to %.1f%%), outputs in %s\n",
              static_cast<long long>(count), tasks.c_str(), median(record.milliseconds), 100.0 * mean, 100.0 * *low, 100.0 * *high,
              out.c_str());
  return Status::ok();
}

Status run_infer(const InferOptions& options) {
  FrameSequence frames;
  Status status = list_frames(options.input, &frames);
  if (!status.is_ok()) return status;
  std::unique_ptr<Model> model;
  std::unique_ptr<Session> session;
  if (!(status = open_session(options.session, &model, &session)).is_ok()) return status;
  if (!frames.single) return run_sequence(frames.files, options.out, session.get());
  std::vector<float> input;
  status = load_input_file(options.input, model->config().img_size, &input);
  if (!status.is_ok()) return status;
  status = session->run(input.data(), static_cast<int64_t>(input.size()));
  if (!status.is_ok()) return status;
  status = collect_outputs(*session, input).commit(options.out);
  if (!status.is_ok()) return status;
  print_summary(*session, options.out);
  return Status::ok();
}

}  // namespace

Command add_infer_command(CLI::App* program) {
  auto options = std::make_shared<InferOptions>();
  CLI::App* command = program->add_subcommand(
      "infer", "run a frame, a folder of frames or a numbered sequence on one session; write each frame's outputs "
               "(.npy, .png), summary.png, compute.png and stats.json, a sequence's into numbered folders with stats.jsonl");
  add_model_option(command, &options->session);
  command->add_option("--input", options->input,
                      "the frame: .jpg or .png (resized and normalised), or .npy float32 [3, S, S] normalised; or a folder of "
                      "them (sorted by name), or a numbered sequence as a printf pattern (frames/%04d.png)")
      ->option_text("IN")
      ->required()
      ->check(a_value());
  command->add_option("--out", options->out, "folder for the outputs (made if missing); a sequence's frames in DIR/0000, DIR/0001, ..., a line per frame in DIR/stats.jsonl")->option_text("DIR")->required()->check(a_value());
  add_run_options(command, &options->session);
  return {command, [options] { return run_infer(*options); }};
}

}  // namespace adarun::cli
