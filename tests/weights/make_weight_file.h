#pragma once
// Builds adarun weight files (weights/FORMAT.md) in memory for tests: valid by default, with every field
// open to corruption, so that tests can craft good and bad files without Python.
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "weights/json.h"

namespace adarun::testing {

struct TestTensor {
  TestTensor(std::string tensor_name, std::vector<int64_t> tensor_shape, std::vector<float> tensor_values)
      : name(std::move(tensor_name)), shape(std::move(tensor_shape)), values(std::move(tensor_values)) {}

  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;  // written as they are, whatever `shape` says
  std::vector<uint16_t> halves;  // written instead of `values` when not empty (F16 tensors): 2 bytes each
  std::vector<int8_t> int8s;     // written instead of `values` when not empty (I8 tensors): 1 byte each
  // Overrides for bad files; by default the entry describes the tensor truthfully.
  std::string dtype = "F32";
  std::string shape_json;                                   // written instead of `shape` when not empty
  std::optional<std::pair<int64_t, int64_t>> data_offsets;  // written instead of the real [begin, end)
  std::string entry_json;                                   // written instead of the whole entry when not empty
};

struct WeightFileOptions {
  std::string metadata_json;              // written instead of the whole __metadata__ object when not empty
  std::string header;                     // written instead of the whole header when not empty
  std::optional<uint64_t> header_length;  // written instead of the true header length
  std::string format_version = "1";       // in the default __metadata__
};

// Bytes of a tensor's values, and what it takes in the data section: padded so that the next tensor is 64-byte aligned.
inline size_t data_size(const TestTensor& tensor) {
  if (!tensor.int8s.empty()) return tensor.int8s.size();
  return tensor.halves.empty() ? tensor.values.size() * sizeof(float) : tensor.halves.size() * sizeof(uint16_t);
}
inline size_t padded_data_size(const TestTensor& tensor) { return (data_size(tensor) + 63) / 64 * 64; }

inline std::string tensor_entry_json(const TestTensor& tensor, int64_t begin) {
  if (!tensor.entry_json.empty()) return tensor.entry_json;
  std::string shape = tensor.shape_json;
  if (shape.empty()) {
    for (const int64_t dim : tensor.shape) shape += (shape.empty() ? "[" : ",") + std::to_string(dim);
    shape = shape.empty() ? "[]" : shape + "]";
  }
  const int64_t end = begin + static_cast<int64_t>(data_size(tensor));
  const auto [first, last] = tensor.data_offsets.value_or(std::make_pair(begin, end));
  return "{\"dtype\":" + json_quote(tensor.dtype) + ",\"shape\":" + shape + ",\"data_offsets\":[" + std::to_string(first) + "," +
         std::to_string(last) + "]}";
}

// The JSON header, before padding: metadata first, then the tensors in order, packed and 64-byte aligned.
inline std::string weight_file_header(const std::vector<TestTensor>& tensors, const std::string& config,
                                      const std::string& metadata_json = "", const std::string& format_version = "1") {
  std::string header = "{\"__metadata__\":";
  header += metadata_json.empty() ? "{\"format\":\"adarun\",\"format_version\":" + json_quote(format_version) +
                                        ",\"config\":" + json_quote(config) + ",\"source\":\"test\"}"
                                  : metadata_json;
  int64_t offset = 0;
  for (const TestTensor& tensor : tensors) {
    header += "," + json_quote(tensor.name) + ":" + tensor_entry_json(tensor, offset);
    offset += static_cast<int64_t>(padded_data_size(tensor));
  }
  return header + "}";
}

// A whole weight file: header length, header padded with spaces to a multiple of 8, then the data.
inline std::string make_weight_file(const std::vector<TestTensor>& tensors, const std::string& config = "{}",
                                    const WeightFileOptions& options = {}) {
  std::string header =
      options.header.empty() ? weight_file_header(tensors, config, options.metadata_json, options.format_version) : options.header;
  header.append((8 - header.size() % 8) % 8, ' ');
  const uint64_t length = options.header_length.value_or(header.size());
  std::string file(8, '\0');
  for (size_t i = 0; i < 8; ++i) file[i] = static_cast<char>((length >> (8 * i)) & 0xFF);
  file += header;
  for (const TestTensor& tensor : tensors) {
    std::string data(padded_data_size(tensor), '\0');
    if (!tensor.int8s.empty()) {
      std::memcpy(data.data(), tensor.int8s.data(), data_size(tensor));
    } else if (!tensor.halves.empty()) {
      std::memcpy(data.data(), tensor.halves.data(), data_size(tensor));
    } else if (!tensor.values.empty()) {
      std::memcpy(data.data(), tensor.values.data(), data_size(tensor));
    }
    file += data;
  }
  return file;
}

// A fresh folder under the system temp directory, removed with its contents when this goes out of scope.
class TempDirectory {
 public:
  TempDirectory() {
    static int created = 0;  // with the pid, unique across tests and concurrent test processes
    path_ = std::filesystem::temp_directory_path() /
            ("adarun-test-" + std::to_string(::getpid()) + "-" + std::to_string(created++));
    std::filesystem::create_directories(path_);
  }
  ~TempDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDirectory(const TempDirectory&) = delete;
  TempDirectory& operator=(const TempDirectory&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Writes `bytes` to `name` in this folder; returns the file's path.
  std::string write(const std::string& name, const std::string& bytes) const {
    const std::filesystem::path file = path_ / name;
    std::ofstream(file, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return file.string();
  }

 private:
  std::filesystem::path path_;
};

}  // namespace adarun::testing
