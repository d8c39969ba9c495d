#pragma once
// A parity case written by converter/make_golden.py: model, input, and the PyTorch reference's answers.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/src/npy.h"
#include "engine/src/status.h"

namespace adarun::testing {

struct GoldenCase {
  std::string name;
  std::string directory;
  std::vector<std::string> tasks;
  float threshold = 0.0f;
  std::vector<std::vector<int64_t>> blocks;
  std::vector<std::vector<int64_t>> tokens_kept;
  std::vector<std::vector<std::string>> token_masks;  // "0110..." per block, "" when none
  bool has_macs = false;
  int64_t macs_executed = 0;
  int64_t macs_static = 0;
  double max_abs_ref = 0.0;
  bool int8_convs = true;  // false: an int8 case whose convolutions the oracle widens (ADARUN_INT8_CONV=0)
};

// ADARUN_GOLDEN_DIR/<name>, made by the golden_data ctest fixture.
std::string golden_directory(const std::string& name);
Status load_golden_case(const std::string& name, GoldenCase* golden);

// A file's bytes ("" when it cannot be read).
std::string read_bytes(const std::string& path);
// A weight file's bytes with the first `from` in its JSON header replaced by `to`, the layout kept valid (a test
// fails when the header has no `from`).
std::string edit_header(const std::string& bytes, const std::string& from, const std::string& to);

// Under an emulator (ADARUN_TEST_FEWER_FRAMES set) tests run each frame once: minutes count there.
bool fewer_frames();

}  // namespace adarun::testing
