#include "weights/weight_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "weights/json.h"

namespace adarun {
namespace {

constexpr uint64_t kMaxHeaderBytes = 100u << 20;
constexpr int64_t kMaxDim = int64_t{1} << 40;
constexpr uint64_t kTensorAlignment = 64;
constexpr const char* kFormatVersion = "1";

bool fail(std::string* error, const std::string& message) {
  if (error) *error = message;
  return false;
}

bool is_integer(const JsonValue& value) {
  return value.is_number() && std::floor(value.as_number()) == value.as_number() && value.as_number() >= 0 &&
         value.as_number() <= 9.0e15;
}

bool read_shape(const std::string& name, const JsonValue& shape, TensorView* tensor, std::string* error) {
  if (!shape.is_array()) return fail(error, "tensor " + name + ": shape must be a list");
  int64_t numel = 1;
  for (const JsonValue& dim : shape.as_array()) {
    if (!is_integer(dim) || dim.as_number() > double(kMaxDim)) {
      return fail(error, "tensor " + name + ": shape entries must be non-negative integers");
    }
    const int64_t size = static_cast<int64_t>(dim.as_number());
    if (size != 0 && numel > kMaxDim / size) return fail(error, "tensor " + name + ": shape has too many elements");
    numel *= size;
    tensor->shape.push_back(size);
  }
  tensor->numel = numel;
  return true;
}

struct Span {
  uint64_t begin, end;
  const std::string* name;
};

bool read_offsets(const std::string& name, const JsonValue& offsets, const TensorView& tensor, uint64_t data_size, Span* span,
                  std::string* error) {
  const auto& pair = offsets.as_array();
  if (!offsets.is_array() || pair.size() != 2 || !is_integer(pair[0]) || !is_integer(pair[1])) {
    return fail(error, "tensor " + name + ": data_offsets must be two non-negative integers");
  }
  span->begin = static_cast<uint64_t>(pair[0].as_number());
  span->end = static_cast<uint64_t>(pair[1].as_number());
  if (span->end < span->begin) return fail(error, "tensor " + name + ": data_offsets end before they begin");
  if (span->end > data_size) {
    return fail(error, "tensor " + name + ": data_offsets [" + std::to_string(span->begin) + ", " + std::to_string(span->end) +
                           ") out of range of the " + std::to_string(data_size) + "-byte data section");
  }
  if (span->end - span->begin != uint64_t(tensor.numel) * sizeof(float)) {
    return fail(error, "tensor " + name + ": data length " + std::to_string(span->end - span->begin) + " does not match its shape (" +
                           std::to_string(tensor.numel * 4) + " bytes)");
  }
  if (span->begin % kTensorAlignment != 0) return fail(error, "tensor " + name + ": data offset is not 64-byte aligned");
  return true;
}

bool read_metadata(const JsonValue& metadata, std::map<std::string, std::string, std::less<>>* out, std::string* error) {
  if (!metadata.is_object()) return fail(error, "__metadata__ must be an object");
  for (const auto& [key, value] : metadata.as_object()) {
    if (!value.is_string()) return fail(error, "__metadata__ value of " + key + " must be a string");
    (*out)[key] = value.as_string();
  }
  const auto format = out->find("format");
  if (format == out->end() || format->second != "adarun") return fail(error, "not an adarun weight file (__metadata__.format)");
  const auto version = out->find("format_version");
  if (version == out->end()) return fail(error, "weight file has no format_version");
  if (version->second != kFormatVersion) {
    return fail(error, "weight file format_version " + version->second + " is not supported (this build reads " + kFormatVersion + ")");
  }
  if (!out->count("config")) return fail(error, "weight file has no config in __metadata__");
  return true;
}

bool check_no_overlap(std::vector<Span> spans, std::string* error) {
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].begin < spans[i - 1].end) return fail(error, "tensors " + *spans[i - 1].name + " and " + *spans[i].name + " overlap");
  }
  return true;
}

}  // namespace

WeightFile::~WeightFile() {
  if (mapped_) {
    munmap(const_cast<uint8_t*>(bytes_), size_);
  } else {
    std::free(const_cast<uint8_t*>(bytes_));
  }
}

std::unique_ptr<WeightFile> WeightFile::open(const std::string& path, std::string* error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(error, "cannot open " + path + ": " + std::strerror(errno)), nullptr;
  struct stat info {};
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return fail(error, path + " is not a regular file"), nullptr;
  }
  std::unique_ptr<WeightFile> file(new WeightFile());
  file->size_ = static_cast<size_t>(info.st_size);
  if (file->size_ > 0) {
    void* map = mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      ::close(fd);
      return fail(error, "cannot map " + path + ": " + std::strerror(errno)), nullptr;
    }
    file->bytes_ = static_cast<const uint8_t*>(map);
    file->mapped_ = true;
  }
  ::close(fd);
  if (!file->parse(error)) return nullptr;
  return file;
}

std::unique_ptr<WeightFile> WeightFile::from_memory(const void* data, size_t size, std::string* error) {
  if (!data && size) return fail(error, "weight buffer is null"), nullptr;
  std::unique_ptr<WeightFile> file(new WeightFile());
  void* copy = std::aligned_alloc(kTensorAlignment, (size + kTensorAlignment - 1) / kTensorAlignment * kTensorAlignment + kTensorAlignment);
  if (!copy) return fail(error, "out of memory copying a " + std::to_string(size) + "-byte weight buffer"), nullptr;
  if (size) std::memcpy(copy, data, size);
  file->bytes_ = static_cast<const uint8_t*>(copy);
  file->size_ = size;
  if (!file->parse(error)) return nullptr;
  return file;
}

bool WeightFile::parse(std::string* error) {
  if (size_ < 8) return fail(error, "weight file is truncated: " + std::to_string(size_) + " bytes, no header");
  uint64_t header_size = 0;
  for (int i = 0; i < 8; ++i) header_size |= uint64_t{bytes_[i]} << (8 * i);
  if (header_size == 0 || header_size > kMaxHeaderBytes || header_size > size_ - 8) {
    return fail(error, "weight file header length " + std::to_string(header_size) + " is impossible for a " + std::to_string(size_) +
                           "-byte file (truncated or not a weight file)");
  }
  if (header_size % 8 != 0) return fail(error, "weight file header length is not a multiple of 8");
  JsonValue header;
  std::string json_error;
  if (!parse_json(std::string_view(reinterpret_cast<const char*>(bytes_ + 8), header_size), &header, &json_error)) {
    return fail(error, "weight file header is not valid JSON: " + json_error);
  }
  if (!header.is_object()) return fail(error, "weight file header must be a JSON object");
  const uint64_t data_start = 8 + header_size;
  const uint64_t data_size = size_ - data_start;
  std::vector<Span> spans;
  bool has_metadata = false;
  for (const auto& [name, entry] : header.as_object()) {
    if (name == "__metadata__") {
      if (!read_metadata(entry, &metadata_, error)) return false;
      has_metadata = true;
      continue;
    }
    if (index_.count(name)) return fail(error, "tensor " + name + " appears twice");
    const JsonValue* dtype = entry.find("dtype");
    const JsonValue* shape = entry.find("shape");
    const JsonValue* offsets = entry.find("data_offsets");
    if (!entry.is_object() || entry.as_object().size() != 3 || !dtype || !shape || !offsets) {
      return fail(error, "tensor " + name + ": entry must hold exactly dtype, shape and data_offsets");
    }
    if (!dtype->is_string() || dtype->as_string() != "F32") {
      return fail(error, "tensor " + name + ": dtype " + (dtype->is_string() ? dtype->as_string() : "?") + " is not supported (only F32)");
    }
    TensorView tensor;
    tensor.name = name;
    if (!read_shape(name, *shape, &tensor, error)) return false;
    Span span{};
    if (!read_offsets(name, *offsets, tensor, data_size, &span, error)) return false;
    tensor.data = reinterpret_cast<const float*>(bytes_ + data_start + span.begin);
    index_[name] = tensors_.size();
    tensors_.push_back(std::move(tensor));
    spans.push_back(span);
  }
  if (!has_metadata) return fail(error, "weight file has no __metadata__ (not an adarun weight file)");
  for (size_t i = 0; i < spans.size(); ++i) spans[i].name = &tensors_[i].name;
  return check_no_overlap(std::move(spans), error);
}

const std::string* WeightFile::metadata(std::string_view key) const {
  const auto it = metadata_.find(key);
  return it == metadata_.end() ? nullptr : &it->second;
}

const TensorView* WeightFile::find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace adarun
