#pragma once
// What `--input` names for the commands that run frames (infer, bench): one frame file, a folder of frames, or a
// numbered sequence given as a printf pattern; how each frame's stats are written; the progress of a long run.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/src/frame_stats.h"
#include "engine/src/status.h"

namespace adarun::cli {

struct FrameSequence {
  std::vector<std::string> files;  // in the order they run
  bool single = false;             // --input named one file (not a folder or a pattern)
};

// --input IN as frames:
//   - an existing file: that frame alone (single);
//   - a folder: its .png, .jpg, .jpeg, .bmp (any case) and .npy files, sorted by name (byte order); names starting
//     with '.' and other files are left out;
//   - a path with one printf integer conversion (%d, %4d or %04d; %% is a '%'): the files it names for consecutive
//     numbers, from the first of 0 to 4 that exists (as ffmpeg's image2 reader) to the last before a missing one.
// A missing path, an empty folder, a pattern that matches nothing or that is not one integer conversion: an error
// naming IN, one line.
Status list_frames(const std::string& input, FrameSequence* sequence);

// The name of frame `index`'s output folder in a sequence of `count`: the index zero-padded to max(4, digits).
std::string frame_folder(int64_t index, int64_t count);

// A frame's stats as JSON object members, without braces:
// "macs_executed": M, "macs_static": M, "blocks": [[1, 0], ...], "tokens_kept": [[3136, 0], ...]
std::string frame_stats_members(const FrameStats& stats);

// The "frame i/n, F fps, ETA T" line of a long run on stderr: on a terminal, one line rewritten in place (at most
// 4 times a second) and erased when the run ends; otherwise, only for runs of more than 20 frames, a line at each
// tenth of the run. Runs of a few frames into a pipe or a file print nothing.
class Progress {
 public:
  explicit Progress(int64_t count);
  ~Progress();  // erases a terminal line, so an error or the summary that follows starts a clean line
  void frame_done(int64_t done);

 private:
  int64_t count_;
  bool terminal_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace adarun::cli
