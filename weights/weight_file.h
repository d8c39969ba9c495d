#pragma once
// The adarun weight file (FORMAT.md): mmapped read-only, every header field checked before use.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace adarun {

struct TensorView {
  std::string name;
  std::vector<int64_t> shape;
  int64_t numel = 0;
  const float* data = nullptr;
};

class WeightFile {
 public:
  // nullptr and a one-line *error when the file cannot be read or breaks FORMAT.md.
  static std::unique_ptr<WeightFile> open(const std::string& path, std::string* error);
  // Copies the caller's bytes into an aligned buffer of its own, then validates them.
  static std::unique_ptr<WeightFile> from_memory(const void* data, size_t size, std::string* error);
  ~WeightFile();
  WeightFile(const WeightFile&) = delete;
  WeightFile& operator=(const WeightFile&) = delete;

  const std::string* metadata(std::string_view key) const;
  const TensorView* find(std::string_view name) const;
  const std::vector<TensorView>& tensors() const { return tensors_; }
  size_t file_size() const { return size_; }

 private:
  WeightFile() = default;
  bool parse(std::string* error);

  const uint8_t* bytes_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;  // munmap when true, free otherwise
  std::map<std::string, std::string, std::less<>> metadata_;
  std::vector<TensorView> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
};

}  // namespace adarun
