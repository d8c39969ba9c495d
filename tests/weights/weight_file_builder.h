#pragma once
// Builds weight files in memory for tests, valid by default, with any field open to corruption.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "weights/json.h"

namespace adarun::testing {

struct TestTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;
  std::string dtype = "F32";
  int64_t offset_shift = 0;  // added to both data offsets
  int64_t length_shift = 0;  // added to the end offset only
};

class WeightFileBuilder {
 public:
  std::vector<TestTensor> tensors;
  std::string config = "{}";
  std::string format_version = "1";
  std::string extra_metadata;  // raw JSON members appended to __metadata__, e.g. ",\"x\":1"

  std::string header() const {
    std::string text = "{\"__metadata__\":{\"format\":\"adarun\",\"format_version\":" + json_quote(format_version) +
                       ",\"config\":" + json_quote(config) + extra_metadata + "}";
    int64_t offset = 0;
    for (const TestTensor& t : tensors) {
      std::string shape;
      for (int64_t d : t.shape) shape += (shape.empty() ? "" : ",") + std::to_string(d);
      const int64_t begin = offset + t.offset_shift, end = offset + int64_t(t.values.size() * 4) + t.offset_shift + t.length_shift;
      text += "," + json_quote(t.name) + ":{\"dtype\":" + json_quote(t.dtype) + ",\"shape\":[" + shape + "],\"data_offsets\":[" +
              std::to_string(begin) + "," + std::to_string(end) + "]}";
      offset += padded(int64_t(t.values.size() * 4));
    }
    text += "}";
    text.append((8 - text.size() % 8) % 8, ' ');
    return text;
  }

  // `header_override` (padded to a multiple of 8) replaces the generated header when not empty.
  std::string bytes(const std::string& header_override = "") const {
    std::string text = header_override.empty() ? header() : header_override;
    text.append((8 - text.size() % 8) % 8, ' ');
    std::string out(8, '\0');
    const uint64_t length = text.size();
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((length >> (8 * i)) & 0xff);
    out += text;
    for (const TestTensor& t : tensors) {
      std::string data(static_cast<size_t>(padded(int64_t(t.values.size() * 4))), '\0');
      if (!t.values.empty()) std::memcpy(data.data(), t.values.data(), t.values.size() * 4);
      out += data;
    }
    return out;
  }

 private:
  static int64_t padded(int64_t n) { return (n + 63) / 64 * 64; }
};

// A temporary file that deletes itself.
class TempFile {
 public:
  explicit TempFile(const std::string& contents, const std::string& name = "weights.adarun") {
    path_ = (std::filesystem::temp_directory_path() / ("adarun-test-" + std::to_string(counter()++) + "-" + name)).string();
    std::ofstream(path_, std::ios::binary) << contents;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  static int& counter() {
    static int value = 0;
    return value;
  }
  std::string path_;
};

}  // namespace adarun::testing
