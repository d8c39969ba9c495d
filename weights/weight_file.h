#pragma once
// The adarun weight file (FORMAT.md): every header field is checked before any tensor is handed out.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace adarun {

class JsonValue;

// How a tensor's values are stored (FORMAT.md): IEEE single, IEEE half (format version 2 on), or signed 8-bit
// integers with a per-output-channel F32 scale (format version 3 on).
enum class TensorDtype { kF32, kF16, kI8 };

// One tensor, pointing into the file's bytes (valid as long as its WeightFile lives).
struct TensorView {
  std::string name;
  std::vector<int64_t> shape;
  int64_t numel = 0;
  TensorDtype dtype = TensorDtype::kF32;
  const float* data = nullptr;     // F32: the values; nullptr otherwise
  const uint16_t* half = nullptr;  // F16: the values' bits (weights/half.h widens them exactly); nullptr otherwise
  const int8_t* int8 = nullptr;    // I8: the quantized values q; nullptr otherwise
  // I8: the values of its companion tensor `<name>_scale` (F32, 1-D), one per output channel: scale_count is
  // shape[0] (linears, convolutions) or shape[1] (transposed convolutions), and the weight is float(q) * scale[o].
  // The companion is also a tensor of its own (an F32 one, in tensors() and find()). nullptr and 0 otherwise.
  const float* scale = nullptr;
  int64_t scale_count = 0;
  // The bytes the values take in the file: 4, 2 or 1 per value (an I8 tensor's scales not included).
  size_t byte_size() const {
    return static_cast<size_t>(numel) * (dtype == TensorDtype::kF32 ? 4 : dtype == TensorDtype::kF16 ? 2 : 1);
  }
};

// Why open or from_memory failed, for callers that report errors by kind (the C API's status codes).
enum class WeightFileFailure { kNone, kUnreadable, kOutOfMemory, kMalformed };

class WeightFile {
 public:
  // Maps the file read-only (MAP_PRIVATE) and validates it; nullptr, a one-line *error and *failure on failure.
  static std::unique_ptr<WeightFile> open(const std::string& path, std::string* error, WeightFileFailure* failure = nullptr);
  // Copies the caller's bytes into a 64-byte aligned buffer of its own (the caller may free theirs),
  // then validates them; nullptr, a one-line *error and *failure on failure.
  static std::unique_ptr<WeightFile> from_memory(const void* data, size_t size, std::string* error,
                                                 WeightFileFailure* failure = nullptr);
  ~WeightFile();
  WeightFile(const WeightFile&) = delete;
  WeightFile& operator=(const WeightFile&) = delete;

  // A `__metadata__` value, or nullptr when the key is absent.
  const std::string* metadata(std::string_view key) const;
  // nullptr when the file holds no tensor of that name.
  const TensorView* find(std::string_view name) const;
  // In header order.
  const std::vector<TensorView>& tensors() const { return tensors_; }
  size_t file_size() const { return size_; }
  // Gives back to the system the pages that lie wholly inside [data, data + bytes), part of this file's
  // bytes: for tensors copied elsewhere (packed), whose bytes are never read again. A mapped page that is
  // read after all is read from the file again; a page of a copied-in file reads as zeros.
  void release(const void* data, size_t bytes) const;

 private:
  WeightFile() = default;
  bool map(int fd, const std::string& path, std::string* error);
  bool validate(std::string* error);
  bool read_header(std::string* error);
  bool read_tensors(const JsonValue& header, uint64_t data_start, std::string* error);
  bool pair_scales(std::string* error);

  const uint8_t* bytes_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;  // munmap when true, free otherwise
  std::map<std::string, std::string, std::less<>> metadata_;
  std::vector<TensorView> tensors_;
  std::map<std::string, size_t, std::less<>> index_;  // name -> position in tensors_
};

}  // namespace adarun
