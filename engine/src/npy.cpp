#include "engine/src/npy.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>

namespace adarun {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

Status parse_shape(const std::string& text, std::vector<int64_t>* shape) {
  static const std::regex number("\\d+");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), number); it != std::sregex_iterator(); ++it) {
    if (it->str().size() > 9) return Status::error("shape dimension too large");
    shape->push_back(std::stoll(it->str()));
  }
  return Status::ok();
}

// The header is a Python dict literal; we accept exactly float32 little-endian C order.
Status parse_header(const std::string& header, NpyArray* array) {
  static const std::regex descr("'descr'\\s*:\\s*'([^']*)'");
  static const std::regex order("'fortran_order'\\s*:\\s*(True|False)");
  static const std::regex shape("'shape'\\s*:\\s*\\(([^)]*)\\)");
  std::smatch match;
  if (!std::regex_search(header, match, descr)) return Status::error("npy header has no descr");
  if (match[1] != "<f4" && match[1] != "f4") return Status::error("npy dtype must be float32 ('<f4'), found '" + match[1].str() + "'");
  if (!std::regex_search(header, match, order) || match[1] != "False") return Status::error("npy array must be C-ordered");
  if (!std::regex_search(header, match, shape)) return Status::error("npy header has no shape");
  return parse_shape(match[1].str(), &array->shape);
}

}  // namespace

Status read_npy(const std::string& path, NpyArray* array) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Status::error("cannot open " + path);
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || bytes.compare(0, kMagicSize, kMagic, kMagicSize) != 0) return Status::error(path + " is not a .npy file");
  const int major = static_cast<unsigned char>(bytes[6]);
  const size_t length_bytes = major == 1 ? 2 : 4;
  if (major < 1 || major > 3 || bytes.size() < 8 + length_bytes) return Status::error(path + ": unsupported .npy version");
  size_t header_length = 0;
  for (size_t i = 0; i < length_bytes; ++i) header_length |= size_t(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
  const size_t data_start = 8 + length_bytes + header_length;
  if (data_start > bytes.size()) return Status::error(path + ": truncated .npy header");
  *array = NpyArray();
  Status status = parse_header(bytes.substr(8 + length_bytes, header_length), array);
  if (!status.is_ok()) return Status::error(path + ": " + status.message());
  int64_t count = 1;
  for (int64_t dim : array->shape) {
    count *= dim;
    if (count > (int64_t{1} << 36)) return Status::error(path + ": .npy shape is too large");
  }
  if (bytes.size() - data_start != size_t(count) * sizeof(float)) {
    return Status::error(path + ": data holds " + std::to_string(bytes.size() - data_start) + " bytes, the shape needs " +
                         std::to_string(count * 4));
  }
  array->values.resize(size_t(count));
  std::memcpy(array->values.data(), bytes.data() + data_start, size_t(count) * sizeof(float));
  return Status::ok();
}

std::string npy_bytes(const float* values, const std::vector<int64_t>& shape) {
  std::string dims;
  int64_t count = 1;
  for (int64_t dim : shape) {
    dims += std::to_string(dim) + ", ";
    count *= dim;
  }
  if (shape.size() > 1) dims.resize(dims.size() - 1);  // "(3,)" for one dim, "(3, 4)" otherwise
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  const size_t unpadded = kMagicSize + 4 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string bytes(kMagic, kMagicSize);
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  bytes.append(reinterpret_cast<const char*>(values), size_t(count) * sizeof(float));
  return bytes;
}

}  // namespace adarun
