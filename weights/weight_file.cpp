#include "weights/weight_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

#include "weights/json.h"

namespace adarun {
namespace {

constexpr uint64_t kLengthBytes = 8;  // the u64 header length that opens the file
constexpr uint64_t kMaxHeaderBytes = uint64_t{100} << 20;
constexpr double kMaxDim = 1099511627776.0;  // 2^40
constexpr int64_t kMaxNumel = std::numeric_limits<int64_t>::max() / int64_t{sizeof(float)};  // byte count fits int64
constexpr double kMaxOffset = 9007199254740992.0;  // 2^53: every integer up to it is exact in a double
constexpr uint64_t kTensorAlignment = 64;
// Version 1: every tensor F32. Version 2 adds F16, version 3 I8 (FORMAT.md); the converter writes the oldest version
// that its file's dtypes need, so that its fp32 output stays readable by version-1 readers, its fp16 output by
// version-2 readers.
constexpr const char* kFormatVersions[] = {"1", "2", "3"};
constexpr const char* kSupportedVersions = " (this reader supports \"1\", \"2\" and \"3\")";
// An I8 tensor X's per-output-channel scales are the F32 tensor X + kScaleSuffix; the suffix names nothing else.
constexpr std::string_view kScaleSuffix = "_scale";
constexpr std::string_view kEntryFields[] = {"dtype", "shape", "data_offsets"};

bool fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return false;
}

std::unique_ptr<WeightFile> no_file(WeightFileFailure* failure, WeightFileFailure why, std::string* error, std::string message) {
  if (failure) *failure = why;
  fail(error, std::move(message));
  return nullptr;
}

// Header strings enter messages JSON-quoted, so that whatever bytes they hold the message stays one line.
std::string tensor_prefix(const std::string& name) { return "tensor " + json_quote(name) + ": "; }

std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string range_text(uint64_t begin, uint64_t end) { return "[" + std::to_string(begin) + ", " + std::to_string(end) + ")"; }

const char* kind_name(const JsonValue& value) {
  switch (value.kind()) {
    case JsonValue::Kind::kNull: return "null";
    case JsonValue::Kind::kBool: return "a boolean";
    case JsonValue::Kind::kNumber: return "a number";
    case JsonValue::Kind::kString: return "a string";
    case JsonValue::Kind::kArray: return "an array";
    case JsonValue::Kind::kObject: return "an object";
  }
  return "?";
}

// A JSON number that must be a whole number in [0, max]; `what` names it in the message.
bool read_count(const JsonValue& value, double max, const std::string& what, uint64_t* out, std::string* error) {
  if (!value.is_number()) return fail(error, what + " is " + kind_name(value) + ", not a number");
  const double number = value.as_number();
  if (number < 0) return fail(error, what + " = " + number_text(number) + " is negative");
  if (number != std::floor(number)) return fail(error, what + " = " + number_text(number) + " is not an integer");
  if (number > max) return fail(error, what + " = " + number_text(number) + " is larger than " + number_text(max));
  *out = static_cast<uint64_t>(number);
  return true;
}

bool read_header_length(const uint8_t* bytes, size_t size, uint64_t* length, std::string* error) {
  if (size < kLengthBytes) {
    return fail(error, "file is " + std::to_string(size) + " bytes, too short for the 8-byte header length (truncated?)");
  }
  *length = 0;
  for (uint64_t i = 0; i < kLengthBytes; ++i) *length |= uint64_t{bytes[i]} << (8 * i);
  const std::string stated = "header length " + std::to_string(*length);
  if (*length == 0) return fail(error, "header length is 0");
  if (*length > kMaxHeaderBytes) return fail(error, stated + " exceeds the 100 MB limit");
  if (*length > size - kLengthBytes) {
    return fail(error, stated + " runs past the end of the " + std::to_string(size) + "-byte file (truncated?)");
  }
  // The data section starts at 8 + length: 8-byte aligned only when the length is.
  if (*length % 8 != 0) return fail(error, stated + " is not a multiple of 8");
  return true;
}

// format, format_version and config: what makes the file an adarun file this reader understands.
bool check_identity(const std::map<std::string, std::string, std::less<>>& metadata, std::string* error) {
  const auto format = metadata.find("format");
  if (format == metadata.end()) return fail(error, "__metadata__ has no format (not an adarun weight file)");
  if (format->second != "adarun") return fail(error, "__metadata__ format is " + json_quote(format->second) + ", not \"adarun\"");
  const auto version = metadata.find("format_version");
  if (version == metadata.end()) return fail(error, std::string("__metadata__ has no format_version") + kSupportedVersions);
  if (std::find(std::begin(kFormatVersions), std::end(kFormatVersions), version->second) == std::end(kFormatVersions)) {
    return fail(error, "unsupported format_version " + json_quote(version->second) + kSupportedVersions);
  }
  if (!metadata.count("config")) return fail(error, "__metadata__ has no config");
  return true;
}

bool read_metadata(const JsonValue& header, std::map<std::string, std::string, std::less<>>* out, std::string* error) {
  const JsonValue* metadata = header.find("__metadata__");
  if (!metadata) return fail(error, "header has no __metadata__ (not an adarun weight file)");
  if (!metadata->is_object()) return fail(error, std::string("__metadata__ is ") + kind_name(*metadata) + ", not an object");
  for (const auto& [key, value] : metadata->as_object()) {
    if (!value.is_string()) {
      return fail(error, "__metadata__ value of " + json_quote(key) + " is " + kind_name(value) + ", not a string");
    }
    if (!out->emplace(key, value.as_string()).second) return fail(error, "__metadata__ key " + json_quote(key) + " appears twice");
  }
  return check_identity(*out, error);
}

// An entry holds dtype, shape and data_offsets, each exactly once, and nothing else.
bool check_entry_fields(const std::string& where, const JsonValue& entry, std::string* error) {
  if (!entry.is_object()) return fail(error, where + "entry is " + kind_name(entry) + ", not an object");
  const JsonValue::Object& fields = entry.as_object();
  for (const auto& field : fields) {
    if (std::find(std::begin(kEntryFields), std::end(kEntryFields), field.first) == std::end(kEntryFields)) {
      return fail(error, where + "unexpected field " + json_quote(field.first));
    }
  }
  for (const std::string_view name : kEntryFields) {
    const auto count = std::count_if(fields.begin(), fields.end(), [&](const auto& field) { return field.first == name; });
    if (count == 0) return fail(error, where + "missing field " + std::string(name));
    if (count > 1) return fail(error, where + "field " + std::string(name) + " appears twice");
  }
  return true;
}

// Element count, overflow-checked; a zero dimension makes it zero whatever the others are.
bool count_elements(const std::string& where, TensorView* tensor, std::string* error) {
  const std::vector<int64_t>& shape = tensor->shape;
  tensor->numel = 1;
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) {
    tensor->numel = 0;
    return true;
  }
  for (const int64_t dim : shape) {
    if (tensor->numel > kMaxNumel / dim) return fail(error, where + "shape " + shape_text(shape) + " has an element count that overflows");
    tensor->numel *= dim;
  }
  return true;
}

bool read_shape(const std::string& where, const JsonValue& shape, TensorView* tensor, std::string* error) {
  if (!shape.is_array()) return fail(error, where + "shape is " + kind_name(shape) + ", not an array");
  const JsonValue::Array& dims = shape.as_array();
  for (size_t i = 0; i < dims.size(); ++i) {
    uint64_t dim = 0;
    if (!read_count(dims[i], kMaxDim, where + "shape[" + std::to_string(i) + "]", &dim, error)) return false;
    tensor->shape.push_back(static_cast<int64_t>(dim));
  }
  return count_elements(where, tensor, error);
}

struct Span {
  uint64_t begin = 0, end = 0;  // within the data section
  size_t tensor = 0;            // index in the header's tensor list
};

bool read_offsets(const std::string& where, const JsonValue& offsets, const TensorView& tensor, uint64_t data_size, Span* span,
                  std::string* error) {
  if (!offsets.is_array() || offsets.as_array().size() != 2) {
    return fail(error, where + "data_offsets is not an array of two numbers");
  }
  if (!read_count(offsets.as_array()[0], kMaxOffset, where + "data_offsets[0]", &span->begin, error) ||
      !read_count(offsets.as_array()[1], kMaxOffset, where + "data_offsets[1]", &span->end, error)) {
    return false;
  }
  const std::string range = "data_offsets " + range_text(span->begin, span->end);
  if (span->end < span->begin) return fail(error, where + range + " end before they begin");
  if (span->end > data_size) {
    return fail(error, where + range + " run past the end of the " + std::to_string(data_size) +
                           "-byte data section (out of range, or the file is truncated)");
  }
  const uint64_t needed = tensor.byte_size();
  if (span->end - span->begin != needed) {
    return fail(error, where + range + " hold " + std::to_string(span->end - span->begin) + " bytes but shape " +
                           shape_text(tensor.shape) + " needs " + std::to_string(needed));
  }
  if (span->begin % kTensorAlignment != 0) {
    return fail(error, where + "data offset " + std::to_string(span->begin) + " is not 64-byte aligned");
  }
  return true;
}

// F32 in every version, F16 from version 2 on, I8 from version 3 on.
bool read_dtype(const std::string& where, const JsonValue& dtype, const std::string& version, TensorView* tensor, std::string* error) {
  if (!dtype.is_string()) return fail(error, where + "dtype is " + kind_name(dtype) + ", not a string");
  if (dtype.as_string() == "F32") {
    tensor->dtype = TensorDtype::kF32;
  } else if (dtype.as_string() == "F16") {
    if (version == "1") return fail(error, where + "dtype \"F16\" needs format_version \"2\" (the file says \"1\")");
    tensor->dtype = TensorDtype::kF16;
  } else if (dtype.as_string() == "I8") {
    if (version != "3") return fail(error, where + "dtype \"I8\" needs format_version \"3\" (the file says " + json_quote(version) + ")");
    tensor->dtype = TensorDtype::kI8;
  } else {
    return fail(error, where + "dtype " + json_quote(dtype.as_string()) + " is not supported (only F32, F16 and I8)");
  }
  return true;
}

const char* dtype_name(TensorDtype dtype) {
  switch (dtype) {
    case TensorDtype::kF32: return "F32";
    case TensorDtype::kF16: return "F16";
    case TensorDtype::kI8: return "I8";
  }
  return "?";
}

bool read_tensor(const std::string& name, const JsonValue& entry, const std::string& version, uint64_t data_size, TensorView* tensor,
                 Span* span, std::string* error) {
  const std::string where = tensor_prefix(name);
  if (!check_entry_fields(where, entry, error)) return false;
  if (!read_dtype(where, *entry.find("dtype"), version, tensor, error)) return false;
  tensor->name = name;
  return read_shape(where, *entry.find("shape"), tensor, error) &&
         read_offsets(where, *entry.find("data_offsets"), *tensor, data_size, span, error);
}

// Empty tensors own no bytes; every other pair of ranges must be disjoint.
bool check_no_overlap(std::vector<Span> spans, const std::vector<TensorView>& tensors, std::string* error) {
  spans.erase(std::remove_if(spans.begin(), spans.end(), [](const Span& s) { return s.begin == s.end; }), spans.end());
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < spans.size(); ++i) {
    const Span& previous = spans[i - 1];
    const Span& current = spans[i];
    if (current.begin < previous.end) {
      return fail(error, "tensors " + json_quote(tensors[previous.tensor].name) + " " + range_text(previous.begin, previous.end) +
                             " and " + json_quote(tensors[current.tensor].name) + " " + range_text(current.begin, current.end) +
                             " overlap");
    }
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

std::unique_ptr<WeightFile> WeightFile::open(const std::string& path, std::string* error, WeightFileFailure* failure) {
  // O_NONBLOCK: opening a FIFO must not hang; it is then refused as not a regular file.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return no_file(failure, WeightFileFailure::kUnreadable, error, path + ": cannot open: " + std::strerror(errno));
  std::unique_ptr<WeightFile> file(new WeightFile());
  std::string map_error;
  const bool mapped = file->map(fd, path, &map_error);
  ::close(fd);
  if (!mapped) return no_file(failure, WeightFileFailure::kUnreadable, error, map_error);
  std::string validate_error;
  if (!file->validate(&validate_error)) return no_file(failure, WeightFileFailure::kMalformed, error, path + ": " + validate_error);
  return file;
}

bool WeightFile::map(int fd, const std::string& path, std::string* error) {
  struct stat info {};
  if (fstat(fd, &info) != 0) return fail(error, path + ": cannot stat: " + std::strerror(errno));
  if (S_ISDIR(info.st_mode)) return fail(error, path + ": is a directory, not a weight file");
  if (!S_ISREG(info.st_mode)) return fail(error, path + ": not a regular file");
  const size_t size = static_cast<size_t>(info.st_size);
  if (size == 0) return true;  // mmap refuses empty ranges; validation reports the empty file
  void* bytes = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (bytes == MAP_FAILED) return fail(error, path + ": cannot map: " + std::strerror(errno));
  bytes_ = static_cast<const uint8_t*>(bytes);
  size_ = size;
  mapped_ = true;
  return true;
}

std::unique_ptr<WeightFile> WeightFile::from_memory(const void* data, size_t size, std::string* error, WeightFileFailure* failure) {
  if (!data && size > 0) {
    return no_file(failure, WeightFileFailure::kMalformed, error, "weight buffer is null but " + std::to_string(size) + " bytes long");
  }
  if (size > std::numeric_limits<size_t>::max() - kTensorAlignment) {
    return no_file(failure, WeightFileFailure::kOutOfMemory, error, "weight buffer of " + std::to_string(size) + " bytes is too large to copy");
  }
  std::unique_ptr<WeightFile> file(new WeightFile());
  // aligned_alloc wants a whole number of alignment blocks, at least one so that an empty buffer works too.
  const size_t capacity = std::max<size_t>(1, (size + kTensorAlignment - 1) / kTensorAlignment) * kTensorAlignment;
  void* copy = std::aligned_alloc(kTensorAlignment, capacity);
  if (!copy) {
    return no_file(failure, WeightFileFailure::kOutOfMemory, error, "out of memory copying a " + std::to_string(size) + "-byte weight buffer");
  }
  if (size > 0) std::memcpy(copy, data, size);
  file->bytes_ = static_cast<const uint8_t*>(copy);
  file->size_ = size;
  std::string validate_error;
  if (!file->validate(&validate_error)) return no_file(failure, WeightFileFailure::kMalformed, error, validate_error);
  return file;
}

bool WeightFile::validate(std::string* error) {
  try {
    return read_header(error);
  } catch (const std::bad_alloc&) {  // a hostile header can ask for more memory than there is
    return fail(error, "out of memory reading the header");
  }
}

bool WeightFile::read_header(std::string* error) {
  uint64_t header_size = 0;
  if (!read_header_length(bytes_, size_, &header_size, error)) return false;
  JsonValue header;
  std::string json_error;
  const std::string_view header_text(reinterpret_cast<const char*>(bytes_ + kLengthBytes), header_size);
  if (!parse_json(header_text, &header, &json_error)) return fail(error, "header is not valid JSON: " + json_error + " of the header");
  if (!header.is_object()) return fail(error, std::string("header is ") + kind_name(header) + ", not a JSON object");
  if (!read_metadata(header, &metadata_, error)) return false;
  return read_tensors(header, kLengthBytes + header_size, error);
}

bool WeightFile::read_tensors(const JsonValue& header, uint64_t data_start, std::string* error) {
  const uint64_t data_size = size_ - data_start;
  std::vector<Span> spans;
  bool seen_metadata = false;
  for (const auto& [name, entry] : header.as_object()) {
    if (name == "__metadata__") {
      if (seen_metadata) return fail(error, "header holds __metadata__ twice");
      seen_metadata = true;
      continue;
    }
    if (!index_.emplace(name, tensors_.size()).second) return fail(error, tensor_prefix(name) + "name appears twice in the header");
    TensorView tensor;
    Span span;
    if (!read_tensor(name, entry, metadata_.at("format_version"), data_size, &tensor, &span, error)) return false;
    const uint8_t* data = bytes_ + data_start + span.begin;
    switch (tensor.dtype) {
      case TensorDtype::kF32: tensor.data = reinterpret_cast<const float*>(data); break;
      case TensorDtype::kF16: tensor.half = reinterpret_cast<const uint16_t*>(data); break;
      case TensorDtype::kI8: tensor.int8 = reinterpret_cast<const int8_t*>(data); break;
    }
    span.tensor = tensors_.size();
    tensors_.push_back(std::move(tensor));
    spans.push_back(span);
  }
  return check_no_overlap(std::move(spans), tensors_, error) && pair_scales(error);
}

// Every I8 tensor X has its scales in X_scale: F32, 1-D, one value per output channel (shape[0], or shape[1] for a
// transposed convolution); every tensor named *_scale is such a companion. In header order, the first problem.
bool WeightFile::pair_scales(std::string* error) {
  for (TensorView& tensor : tensors_) {
    const std::string& name = tensor.name;
    if (name.size() >= kScaleSuffix.size() && name.compare(name.size() - kScaleSuffix.size(), kScaleSuffix.size(), kScaleSuffix) == 0) {
      const std::string base = name.substr(0, name.size() - kScaleSuffix.size());
      const TensorView* owner = find(base);
      if (!owner || owner->dtype != TensorDtype::kI8) {
        return fail(error, tensor_prefix(name) + "is named as the scales of " + json_quote(base) + ", which " +
                               (owner ? std::string("is ") + dtype_name(owner->dtype) + ", not I8" : std::string("the file lacks")) +
                               " (only I8 tensors have _scale companions)");
      }
    }
    if (tensor.dtype != TensorDtype::kI8) continue;
    const std::string scale_name = name + std::string(kScaleSuffix);
    const std::string where = tensor_prefix(name);
    const TensorView* scale = find(scale_name);
    if (!scale) return fail(error, where + "dtype \"I8\" needs its scales, tensor " + json_quote(scale_name) + ", which the file lacks");
    const std::string companion = "its scales " + json_quote(scale_name);
    if (scale->dtype != TensorDtype::kF32) {
      return fail(error, where + companion + " are " + dtype_name(scale->dtype) + ", not F32");
    }
    if (scale->shape.size() != 1) {
      return fail(error, where + companion + " have shape " + shape_text(scale->shape) + ", not one dimension");
    }
    const int64_t count = scale->shape[0];
    const bool per_output = !tensor.shape.empty() && count == tensor.shape[0];
    const bool per_transposed_output = tensor.shape.size() >= 2 && count == tensor.shape[1];
    if (!per_output && !per_transposed_output) {
      return fail(error, where + companion + " hold " + std::to_string(count) + " values, matching neither shape[0] nor shape[1] of " +
                             shape_text(tensor.shape));
    }
    tensor.scale = scale->data;
    tensor.scale_count = count;
  }
  return true;
}

const std::string* WeightFile::metadata(std::string_view key) const {
  const auto it = metadata_.find(key);
  return it == metadata_.end() ? nullptr : &it->second;
}

const TensorView* WeightFile::find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

void WeightFile::release(const void* data, size_t bytes) const {
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = reinterpret_cast<uintptr_t>(data);
  const uintptr_t first = (begin + page - 1) / page * page, last = (begin + bytes) / page * page;
  const uintptr_t file_begin = reinterpret_cast<uintptr_t>(bytes_);
  if (first >= last || begin < file_begin || begin + bytes > file_begin + size_) return;
  madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

}  // namespace adarun
