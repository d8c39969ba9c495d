#include "engine/cli/frame_sequence.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "engine/src/stats_json.h"

namespace adarun::cli {
namespace fs = std::filesystem;
namespace {

bool is_frame_file(const fs::path& path) {
  const std::string name = path.filename().string();
  if (name.empty() || name[0] == '.') return false;
  std::string extension = path.extension().string();
  if (extension == ".npy") return true;  // load_input_file reads .npy by its lower-case extension only
  std::transform(extension.begin(), extension.end(), extension.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return extension == ".png" || extension == ".jpg" || extension == ".jpeg" || extension == ".bmp";
}

Status list_folder(const std::string& folder, std::vector<std::string>* files) {
  std::error_code error;
  fs::directory_iterator entries(folder, error);
  if (error) return Status::error(folder + ": cannot read the folder: " + error.message());
  for (const fs::directory_entry& entry : entries) {
    if (is_frame_file(entry.path()) && fs::is_regular_file(entry.path(), error)) files->push_back(entry.path().string());
  }
  std::sort(files->begin(), files->end());
  if (files->empty()) return Status::error(folder + ": no frames in the folder (no .png, .jpg, .jpeg, .bmp or .npy files)");
  return Status::ok();
}

// A pattern's one integer conversion, checked: what snprintf may then be given.
Status check_pattern(const std::string& pattern) {
  int conversions = 0;
  bool well_formed = true;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%') continue;
    if (i + 1 < pattern.size() && pattern[i + 1] == '%') {
      ++i;
      continue;
    }
    size_t j = i + 1;
    if (j < pattern.size() && pattern[j] == '0') ++j;
    const size_t width = j;
    while (j < pattern.size() && std::isdigit(static_cast<unsigned char>(pattern[j]))) ++j;
    well_formed = well_formed && j < pattern.size() && pattern[j] == 'd' && j - width <= 2;  // %d, %Nd, %0Nd (N < 100)
    ++conversions;
    i = j;
  }
  if (conversions != 1 || !well_formed) {
    return Status::error(pattern + ": a frame pattern takes one integer conversion, like frames/%04d.png");
  }
  return Status::ok();
}

std::string numbered(const std::string& pattern, int64_t number) {
  std::vector<char> name(pattern.size() + 128);
  std::snprintf(name.data(), name.size(), pattern.c_str(), static_cast<int>(number));  // checked by check_pattern
  return name.data();
}

bool is_file(const std::string& path) {
  std::error_code error;
  return fs::is_regular_file(path, error);
}

Status list_pattern(const std::string& pattern, std::vector<std::string>* files) {
  Status status = check_pattern(pattern);
  if (!status.is_ok()) return status;
  int64_t number = 0;
  while (number <= 4 && !is_file(numbered(pattern, number))) ++number;
  if (number > 4) return Status::error(pattern + ": no frames match the pattern (its first frame must be numbered 0 to 4)");
  for (; number < INT32_MAX && is_file(numbered(pattern, number)); ++number) files->push_back(numbered(pattern, number));
  return Status::ok();
}

std::string duration_text(double seconds) {
  char text[32];
  const long whole = std::lround(seconds);
  if (whole < 60) {
    std::snprintf(text, sizeof text, "%lds", whole);
  } else {
    std::snprintf(text, sizeof text, "%ld:%02ld", whole / 60, whole % 60);
  }
  return text;
}


}  // namespace

Status list_frames(const std::string& input, FrameSequence* sequence) {
  *sequence = FrameSequence();
  std::error_code error;
  if (fs::is_directory(input, error)) return list_folder(input, &sequence->files);
  if (fs::exists(input, error)) {
    sequence->single = true;
    sequence->files = {input};
    return Status::ok();
  }
  if (input.find('%') != std::string::npos) return list_pattern(input, &sequence->files);
  return Status::error(input + ": no such file or folder");
}

std::string frame_folder(int64_t index, int64_t count) {
  const int digits = static_cast<int>(std::max<size_t>(4, std::to_string(std::max<int64_t>(count - 1, 0)).size()));
  char name[32];
  std::snprintf(name, sizeof name, "%0*lld", digits, static_cast<long long>(index));
  return name;
}

std::string frame_stats_members(const FrameStats& stats) {
  return "\"macs_executed\": " + std::to_string(stats.macs_executed) + ", \"macs_static\": " + std::to_string(stats.macs_static) +
         ", \"blocks\": " + json_nested_list(stats.blocks) + ", \"tokens_kept\": " + json_nested_list(stats.tokens_kept) +
         ", \"tokens_reused\": " + std::to_string(stats.tokens_reused);
}

Progress::Progress(int64_t count)
    : count_(count), terminal_(isatty(STDERR_FILENO) != 0), start_(std::chrono::steady_clock::now()), last_(start_) {}

Progress::~Progress() {
  if (terminal_ && shown_) std::fputs("\r\033[K", stderr);
}

void Progress::frame_done(int64_t done) {
  const auto now = std::chrono::steady_clock::now();
  if (terminal_) {
    if (done < count_ && now - last_ < std::chrono::milliseconds(250)) return;
  } else if (count_ <= 20 || done * 10 / count_ == (done - 1) * 10 / count_) {
    return;  // a line at each tenth of a long run
  }
  last_ = now;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const double fps = seconds > 0 ? double(done) / seconds : 0.0;
  const std::string eta = fps > 0 ? duration_text(double(count_ - done) / fps) : "?";
  std::fprintf(stderr, terminal_ ? "\rframe %lld/%lld, %.1f fps, ETA %s\033[K" : "frame %lld/%lld, %.1f fps, ETA %s\n",
               static_cast<long long>(done), static_cast<long long>(count_), fps, eta.c_str());
  std::fflush(stderr);
  shown_ = true;
}

}  // namespace adarun::cli
