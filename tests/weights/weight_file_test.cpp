#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tests/weights/make_weight_file.h"
#include "weights/weight_file.h"

using adarun::WeightFile;
using adarun::WeightFileFailure;
using adarun::testing::make_weight_file;
using adarun::testing::TempDirectory;
using adarun::testing::TestTensor;
using adarun::testing::WeightFileOptions;

namespace {

const std::string kConfig = R"({"family":"adamtl","depths":[2,2,6,2]})";

// Data section layout: z.weight [0, 24), a.bias [64, 84), empty [128, 128), scalar [128, 132); 192 bytes with padding.
std::vector<TestTensor> valid_tensors() {
  return {{"z.weight", {2, 3}, {1.5f, -2.0f, 3.25f, 0.0f, -0.0f, 1e-30f}},
          {"a.bias", {5}, {-1, -2, -3, -4, -5}},
          {"empty", {0, 4}, {}},
          {"scalar", {}, {42}}};
}

std::string valid_file() { return make_weight_file(valid_tensors(), kConfig); }

uint64_t header_length(const std::string& file) {
  uint64_t length = 0;
  for (size_t i = 0; i < 8; ++i) length |= uint64_t{static_cast<unsigned char>(file[i])} << (8 * i);
  return length;
}

void check_contents(const WeightFile& file, size_t file_size) {
  CHECK(file.file_size() == file_size);
  CHECK(*file.metadata("format") == "adarun");
  CHECK(*file.metadata("format_version") == "1");
  CHECK(*file.metadata("config") == kConfig);
  CHECK(*file.metadata("source") == "test");
  CHECK(file.metadata("missing") == nullptr);
  const std::vector<TestTensor> expected = valid_tensors();
  REQUIRE(file.tensors().size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const adarun::TensorView& tensor = file.tensors()[i];  // header order, not sorted
    CAPTURE(expected[i].name);
    CHECK(tensor.name == expected[i].name);
    CHECK(file.find(expected[i].name) == &tensor);
    CHECK(tensor.shape == expected[i].shape);
    REQUIRE(tensor.numel == static_cast<int64_t>(expected[i].values.size()));
    CHECK(reinterpret_cast<uintptr_t>(tensor.data) % alignof(float) == 0);
    CHECK(std::vector<float>(tensor.data, tensor.data + tensor.numel) == expected[i].values);
  }
  CHECK(file.find("missing") == nullptr);
  CHECK(file.find("z") == nullptr);
}

// Both loaders must refuse `bytes` with a one-line message containing every one of `words`.
void check_rejected(const std::string& bytes, std::initializer_list<std::string> words) {
  TempDirectory directory;
  std::string file_error, memory_error;
  CHECK(WeightFile::open(directory.write("bad.adarun", bytes), &file_error) == nullptr);
  CHECK(WeightFile::from_memory(bytes.data(), bytes.size(), &memory_error) == nullptr);
  for (const std::string& error : {file_error, memory_error}) {
    CHECK_MESSAGE(error.find('\n') == std::string::npos, error);
    for (const std::string& word : words) CHECK_MESSAGE(error.find(word) != std::string::npos, "want '", word, "' in: ", error);
  }
}

std::string with_tensor(size_t index, const TestTensor& replacement) {
  std::vector<TestTensor> tensors = valid_tensors();
  tensors[index] = replacement;
  return make_weight_file(tensors, kConfig);
}

TestTensor z_with_shape(const std::string& shape_json) {
  TestTensor z = valid_tensors()[0];
  z.shape_json = shape_json;
  return z;
}

TestTensor z_with_entry(const std::string& entry_json) {
  TestTensor z = valid_tensors()[0];
  z.entry_json = entry_json;
  return z;
}

TestTensor a_with_offsets(int64_t begin, int64_t end) {
  TestTensor a = valid_tensors()[1];
  a.data_offsets = {begin, end};
  return a;
}

std::string with_metadata(const std::string& metadata_json) {
  WeightFileOptions options;
  options.metadata_json = metadata_json;
  return make_weight_file(valid_tensors(), kConfig, options);
}

std::string with_header_length(uint64_t length) {
  WeightFileOptions options;
  options.header_length = length;
  return make_weight_file(valid_tensors(), kConfig, options);
}

std::string with_header(const std::string& header) {
  WeightFileOptions options;
  options.header = header;
  return make_weight_file(valid_tensors(), kConfig, options);
}

}  // namespace

TEST_CASE("weight file: a valid file reads back from disk and from memory") {
  const std::string bytes = valid_file();
  TempDirectory directory;
  std::string error;
  const std::unique_ptr<WeightFile> from_disk = WeightFile::open(directory.write("model.adarun", bytes), &error);
  REQUIRE_MESSAGE(from_disk != nullptr, error);
  check_contents(*from_disk, bytes.size());

  auto buffer = std::make_unique<std::vector<char>>(bytes.begin(), bytes.end());
  const std::unique_ptr<WeightFile> from_memory = WeightFile::from_memory(buffer->data(), buffer->size(), &error);
  REQUIRE_MESSAGE(from_memory != nullptr, error);
  std::fill(buffer->begin(), buffer->end(), '\xff');  // the file keeps its own copy
  buffer.reset();
  check_contents(*from_memory, bytes.size());
}

TEST_CASE("weight file: edge cases that are valid") {
  std::string error;
  const std::string no_tensors = make_weight_file({}, kConfig);
  const auto empty = WeightFile::from_memory(no_tensors.data(), no_tensors.size(), &error);
  REQUIRE_MESSAGE(empty != nullptr, error);
  CHECK(empty->tensors().empty());

  // A zero dimension makes the count zero, however large the others are.
  TestTensor huge_but_empty("huge_but_empty", {}, {});
  huge_but_empty.shape_json = "[1099511627776,0,1099511627776]";
  const std::string zero_count = make_weight_file({huge_but_empty}, kConfig);
  const auto zero = WeightFile::from_memory(zero_count.data(), zero_count.size(), &error);
  REQUIRE_MESSAGE(zero != nullptr, error);
  CHECK(zero->find("huge_but_empty")->numel == 0);

  const std::string spelled = with_tensor(0, z_with_shape("[2,3e0,1.0]"));  // integral values, however written
  const auto spelled_file = WeightFile::from_memory(spelled.data(), spelled.size(), &error);
  REQUIRE_MESSAGE(spelled_file != nullptr, error);
  CHECK(spelled_file->find("z.weight")->shape == std::vector<int64_t>{2, 3, 1});

  // Header members in any order; metadata after the tensors.
  const std::string z = R"({"dtype":"F32","shape":[2,3],"data_offsets":[0,24]})";
  const std::string reordered =
      make_weight_file({valid_tensors()[0]}, kConfig,
                       {"", R"({"z.weight":)" + z + R"(,"__metadata__":{"config":"{}","format_version":"1","format":"adarun"}})", {}});
  REQUIRE_MESSAGE(WeightFile::from_memory(reordered.data(), reordered.size(), &error) != nullptr, error);
}

TEST_CASE("weight file: truncation anywhere is reported") {
  const std::string bytes = valid_file();
  const size_t header_end = 8 + header_length(bytes);
  check_rejected(bytes.substr(0, 0), {"0 bytes", "truncated"});
  check_rejected(bytes.substr(0, 7), {"7 bytes", "truncated"});
  check_rejected(bytes.substr(0, 8), {"header length", "truncated"});
  check_rejected(bytes.substr(0, header_end / 2), {"header length", "truncated"});
  check_rejected(bytes.substr(0, header_end - 1), {"header length", "truncated"});
  check_rejected(bytes.substr(0, header_end), {"\"z.weight\"", "truncated"});
  check_rejected(bytes.substr(0, header_end + 64 + 10), {"\"a.bias\"", "truncated"});  // inside a.bias
  // Every cut before the last data byte fails; later ones only lose padding.
  const size_t data_end = header_end + 132;
  for (size_t cut = 0; cut <= bytes.size(); ++cut) {
    std::string error;
    const bool loaded = WeightFile::from_memory(bytes.data(), cut, &error) != nullptr;
    CHECK_MESSAGE(loaded == (cut >= data_end), cut, ": ", error);
  }
}

TEST_CASE("weight file: a lying header length") {
  const std::string bytes = valid_file();
  check_rejected(with_header_length(0), {"header length is 0"});
  check_rejected(with_header_length(uint64_t{1} << 62), {"header length 4611686018427387904", "100 MB"});
  check_rejected(with_header_length((uint64_t{100} << 20) + 8), {"100 MB"});
  check_rejected(with_header_length(bytes.size()), {"runs past the end", "truncated"});
  check_rejected(with_header_length(header_length(bytes) - 4), {"not a multiple of 8"});
  check_rejected(with_header_length(header_length(bytes) + 64), {"not valid JSON"});  // reads into the data
}

TEST_CASE("weight file: data offsets") {
  check_rejected(with_tensor(1, a_with_offsets(1 << 20, (1 << 20) + 20)), {"\"a.bias\"", "[1048576, 1048596)", "192-byte data section"});
  check_rejected(with_tensor(1, a_with_offsets(128, 64)), {"\"a.bias\"", "end before they begin"});
  check_rejected(with_tensor(1, a_with_offsets(64, 80)), {"\"a.bias\"", "hold 16 bytes but shape [5] needs 20"});
  check_rejected(with_tensor(1, a_with_offsets(64, 88)), {"\"a.bias\"", "hold 24 bytes"});
  check_rejected(with_tensor(1, a_with_offsets(68, 88)), {"\"a.bias\"", "data offset 68 is not 64-byte aligned"});
  check_rejected(with_tensor(1, a_with_offsets(-64, -44)), {"\"a.bias\"", "data_offsets[0] = -64 is negative"});
  check_rejected(with_tensor(1, a_with_offsets(0, 20)), {"\"z.weight\" [0, 24)", "\"a.bias\" [0, 20)", "overlap"});
  TestTensor a = valid_tensors()[1];
  a.entry_json = R"({"dtype":"F32","shape":[5],"data_offsets":[64.5,84]})";
  check_rejected(with_tensor(1, a), {"data_offsets[0] = 64.5 is not an integer"});
  a.entry_json = R"({"dtype":"F32","shape":[5],"data_offsets":[64,1e300]})";
  check_rejected(with_tensor(1, a), {"data_offsets[1] = 1.0000000000000001e+300 is larger than"});
  a.entry_json = R"({"dtype":"F32","shape":[5],"data_offsets":[64]})";
  check_rejected(with_tensor(1, a), {"\"a.bias\"", "data_offsets is not an array of two numbers"});
  a.entry_json = R"({"dtype":"F32","shape":[5],"data_offsets":[64,84,84]})";
  check_rejected(with_tensor(1, a), {"data_offsets is not an array of two numbers"});
  a.entry_json = R"({"dtype":"F32","shape":[5],"data_offsets":["64",84]})";
  check_rejected(with_tensor(1, a), {"data_offsets[0] is a string, not a number"});
}

TEST_CASE("weight file: dtypes other than F32, F16 and I8") {
  for (const char* dtype : {"I64", "BF16", "F64", "f32", "f16", "i8", "U8", "I16"}) {
    TestTensor z = valid_tensors()[0];
    z.dtype = dtype;
    check_rejected(with_tensor(0, z), {"\"z.weight\"", std::string("dtype \"") + dtype + "\"", "only F32, F16 and I8"});
  }
  check_rejected(with_tensor(0, z_with_entry(R"({"dtype":32,"shape":[2,3],"data_offsets":[0,24]})")),
                 {"\"z.weight\"", "dtype is a number, not a string"});
}

TEST_CASE("weight file: shapes") {
  check_rejected(with_tensor(0, z_with_shape("[-2,-3]")), {"\"z.weight\"", "shape[0] = -2 is negative"});
  check_rejected(with_tensor(0, z_with_shape("[2.5,2]")), {"\"z.weight\"", "shape[0] = 2.5 is not an integer"});
  check_rejected(with_tensor(0, z_with_shape("[1099511627777]")), {"shape[0] = 1099511627777 is larger than 1099511627776"});
  check_rejected(with_tensor(0, z_with_shape("[1099511627776,1099511627776]")), {"\"z.weight\"", "overflows"});
  check_rejected(with_tensor(0, z_with_shape("[1048576,1048576,1048576,1048576]")), {"overflows"});
  check_rejected(with_tensor(0, z_with_shape("\"six\"")), {"shape is a string, not an array"});
  check_rejected(with_tensor(0, z_with_shape("[2,null]")), {"shape[1] is null, not a number"});
  check_rejected(with_tensor(0, z_with_shape("[3,3]")), {"hold 24 bytes but shape [3, 3] needs 36"});
}

TEST_CASE("weight file: tensor entries and names") {
  check_rejected(with_tensor(0, z_with_entry("[0,24]")), {"\"z.weight\"", "entry is an array, not an object"});
  check_rejected(with_tensor(0, z_with_entry(R"({"dtype":"F32","shape":[2,3]})")), {"\"z.weight\"", "missing field data_offsets"});
  check_rejected(with_tensor(0, z_with_entry(R"({"dtype":"F32","shape":[2,3],"data_offsets":[0,24],"crc":1})")),
                 {"\"z.weight\"", "unexpected field \"crc\""});
  check_rejected(with_tensor(0, z_with_entry(R"({"dtype":"F32","dtype":"F32","shape":[2,3],"data_offsets":[0,24]})")),
                 {"field dtype appears twice"});
  check_rejected(with_tensor(3, {"a.bias", {5}, {1, 2, 3, 4, 5}}), {"\"a.bias\"", "appears twice"});
  check_rejected(with_tensor(3, {"__metadata__", {1}, {1}}), {"__metadata__ twice"});
  TestTensor odd_name = valid_tensors()[0];
  odd_name.name = "line\nbreak";
  odd_name.dtype = "F16";
  check_rejected(with_tensor(0, odd_name), {"\"line\\nbreak\""});  // quoted: the message stays on one line
}

TEST_CASE("weight file: metadata must identify a version-1, version-2 or version-3 adarun file") {
  check_rejected(with_metadata(R"({"format":"adarun","config":"{}"})"), {"no format_version", "supports \"1\", \"2\" and \"3\""});
  // A version from the future is refused by name, saying what this reader knows.
  for (const char* version : {"4", "0", "1.0", "3 ", "03", ""}) {
    check_rejected(with_metadata(std::string(R"({"format":"adarun","format_version":")") + version + R"(","config":"{}"})"),
                   {std::string("unsupported format_version \"") + version + "\"", "(this reader supports \"1\", \"2\" and \"3\")"});
  }
  check_rejected(with_metadata(R"({"format":"adarun","format_version":1,"config":"{}"})"),
                 {"\"format_version\" is a number, not a string"});
  check_rejected(with_metadata(R"({"format":"adarun","format_version":"1","config":"{}","n":5})"), {"\"n\" is a number, not a string"});
  check_rejected(with_metadata(R"({"format":"adarun","format_version":"1","config":{}})"), {"\"config\" is an object, not a string"});
  check_rejected(with_metadata(R"({"format":"adarun","format_version":"1"})"), {"no config"});
  check_rejected(with_metadata(R"({"format_version":"1","config":"{}"})"), {"no format"});
  check_rejected(with_metadata(R"({"format":"safetensors","format_version":"1","config":"{}"})"), {"format is \"safetensors\""});
  check_rejected(with_metadata(R"({"format":"adarun","format":"adarun","format_version":"1","config":"{}"})"), {"\"format\" appears twice"});
  check_rejected(with_metadata("[]"), {"__metadata__ is an array, not an object"});
  check_rejected(with_header(R"({"z.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})"), {"no __metadata__"});
  check_rejected(with_header("[1,2,3]"), {"header is an array, not a JSON object"});
  check_rejected(with_header("{not json}"), {"not valid JSON", "at byte 1 of the header"});
  check_rejected(with_header(std::string("{}\0\0\0\0\0\0", 8)), {"not valid JSON"});  // padding must be spaces
}

// Format version 2: F16 tensors beside F32 ones, 2 bytes a value, under the same layout rules.
namespace {

// Data section: w.f16 [2, 3] [0, 12), b [2] [64, 72), odd.f16 [3] [128, 134), last [1] [192, 196).
std::vector<TestTensor> f16_tensors() {
  std::vector<TestTensor> tensors{{"w.f16", {2, 3}, {}}, {"b", {2}, {0.5f, -0.25f}}, {"odd.f16", {3}, {}}, {"last", {1}, {7.0f}}};
  tensors[0].dtype = tensors[2].dtype = "F16";
  tensors[0].halves = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00};  // 1, -2, 65504, 2^-24, -0, inf
  tensors[2].halves = {0x3555, 0x0400, 0xfbff};
  return tensors;
}

std::string f16_file(const std::vector<TestTensor>& tensors = f16_tensors(), const std::string& version = "2") {
  WeightFileOptions options;
  options.format_version = version;
  return make_weight_file(tensors, kConfig, options);
}

}  // namespace

TEST_CASE("weight file: F16 tensors of a version-2 file read back bit for bit, beside F32 ones") {
  const std::string bytes = f16_file();
  TempDirectory directory;
  std::string error;
  for (const auto& file : {WeightFile::open(directory.write("half.adarun", bytes), &error),
                           WeightFile::from_memory(bytes.data(), bytes.size(), &error)}) {
    REQUIRE_MESSAGE(file != nullptr, error);
    CHECK(*file->metadata("format_version") == "2");
    for (const TestTensor& expected : f16_tensors()) {
      CAPTURE(expected.name);
      const adarun::TensorView* tensor = file->find(expected.name);
      REQUIRE(tensor != nullptr);
      CHECK(tensor->shape == expected.shape);
      if (expected.dtype == "F16") {
        CHECK(tensor->dtype == adarun::TensorDtype::kF16);
        CHECK(tensor->data == nullptr);
        REQUIRE(tensor->half != nullptr);
        CHECK(reinterpret_cast<uintptr_t>(tensor->half) % 64 == reinterpret_cast<uintptr_t>(file->find("w.f16")->half) % 64);
        CHECK(tensor->byte_size() == 2 * expected.halves.size());
        CHECK(std::vector<uint16_t>(tensor->half, tensor->half + tensor->numel) == expected.halves);
      } else {
        CHECK(tensor->dtype == adarun::TensorDtype::kF32);
        CHECK(tensor->half == nullptr);
        CHECK(tensor->byte_size() == 4 * expected.values.size());
        CHECK(std::vector<float>(tensor->data, tensor->data + tensor->numel) == expected.values);
      }
    }
  }
  // Version 2 takes all-F32 files too; version 1 files read as before (every other test case).
  const std::string all_f32 = f16_file(valid_tensors());
  REQUIRE_MESSAGE(WeightFile::from_memory(all_f32.data(), all_f32.size(), &error) != nullptr, error);
}

TEST_CASE("weight file: F16 tensors with a wrong byte size, misaligned, or in a version-1 file are refused") {
  std::vector<TestTensor> tensors = f16_tensors();
  tensors[0].data_offsets = {0, 24};  // 4 bytes a value, as if F32
  check_rejected(f16_file(tensors), {"\"w.f16\"", "hold 24 bytes but shape [2, 3] needs 12"});
  tensors = f16_tensors();
  tensors[2].data_offsets = {128, 132};  // one value short
  check_rejected(f16_file(tensors), {"\"odd.f16\"", "hold 4 bytes but shape [3] needs 6"});
  tensors = f16_tensors();
  tensors[2].data_offsets = {130, 136};  // 2-byte aligned only
  check_rejected(f16_file(tensors), {"\"odd.f16\"", "data offset 130 is not 64-byte aligned"});
  tensors = f16_tensors();
  tensors[2].data_offsets = {66, 72};  // inside b
  check_rejected(f16_file(tensors), {"\"odd.f16\"", "not 64-byte aligned"});
  tensors = f16_tensors();
  tensors[1].dtype = "F16";  // b's 8 bytes read as 4 halves for shape [2]
  check_rejected(f16_file(tensors), {"\"b\"", "hold 8 bytes but shape [2] needs 4"});
  check_rejected(f16_file(f16_tensors(), "1"), {"\"w.f16\"", "dtype \"F16\" needs format_version \"2\""});
  // Cut anywhere before the last F16 value: truncated.
  const std::string bytes = f16_file();
  const size_t odd_end = 8 + header_length(bytes) + 134;
  for (const size_t cut : {odd_end - 1, odd_end - 2, odd_end - 6}) check_rejected(bytes.substr(0, cut), {"truncated"});
}

// Format version 3: I8 tensors, 1 byte a value, each with its F32 per-output-channel scales in <name>_scale.
namespace {

// Data section: w.weight I8 [2, 3] [0, 6), w.weight_scale [2] [64, 72), b [2] [128, 136),
// d.weight I8 [2, 3, 1, 1] [192, 198) with d.weight_scale [3] [256, 268) (a transposed convolution's: shape[1]),
// h.f16 F16 [2] [320, 324).
std::vector<TestTensor> i8_tensors() {
  std::vector<TestTensor> tensors{{"w.weight", {2, 3}, {}},        {"w.weight_scale", {2}, {0.5f, 0.015625f}},
                                  {"b", {2}, {0.5f, -0.25f}},      {"d.weight", {2, 3, 1, 1}, {}},
                                  {"d.weight_scale", {3}, {1e-3f, 0.0f, 2.0f}}, {"h.f16", {2}, {}}};
  tensors[0].dtype = tensors[3].dtype = "I8";
  tensors[0].int8s = {1, -127, 127, 0, -1, -128};  // -128 is never written, but the reader does not check values
  tensors[3].int8s = {5, 0, -5, 100, 0, -100};
  tensors[5].dtype = "F16";
  tensors[5].halves = {0x3c00, 0xc000};
  return tensors;
}

std::string i8_file(const std::vector<TestTensor>& tensors = i8_tensors(), const std::string& version = "3") {
  WeightFileOptions options;
  options.format_version = version;
  return make_weight_file(tensors, kConfig, options);
}

// i8_tensors() with tensor `index` replaced by `replacement`, or removed when it is nullopt.
std::string i8_file_with(size_t index, std::optional<TestTensor> replacement) {
  std::vector<TestTensor> tensors = i8_tensors();
  if (replacement) {
    tensors[index] = *replacement;
  } else {
    tensors.erase(tensors.begin() + static_cast<std::ptrdiff_t>(index));
  }
  return i8_file(tensors);
}

}  // namespace

TEST_CASE("weight file: I8 tensors of a version-3 file read back with their scales, beside F32 and F16 ones") {
  const std::string bytes = i8_file();
  TempDirectory directory;
  std::string error;
  for (const auto& file : {WeightFile::open(directory.write("int8.adarun", bytes), &error),
                           WeightFile::from_memory(bytes.data(), bytes.size(), &error)}) {
    REQUIRE_MESSAGE(file != nullptr, error);
    CHECK(*file->metadata("format_version") == "3");
    REQUIRE(file->tensors().size() == i8_tensors().size());  // the companions are tensors of their own
    for (const TestTensor& expected : i8_tensors()) {
      CAPTURE(expected.name);
      const adarun::TensorView* tensor = file->find(expected.name);
      REQUIRE(tensor != nullptr);
      CHECK(tensor->shape == expected.shape);
      if (expected.dtype == "I8") {
        CHECK(tensor->dtype == adarun::TensorDtype::kI8);
        CHECK(tensor->data == nullptr);
        CHECK(tensor->half == nullptr);
        REQUIRE(tensor->int8 != nullptr);
        CHECK(reinterpret_cast<uintptr_t>(tensor->int8) % 64 == reinterpret_cast<uintptr_t>(file->find("b")->data) % 64);
        CHECK(tensor->byte_size() == expected.int8s.size());
        CHECK(std::vector<int8_t>(tensor->int8, tensor->int8 + tensor->numel) == expected.int8s);
        const adarun::TensorView* scale = file->find(expected.name + "_scale");
        REQUIRE(scale != nullptr);
        CHECK(tensor->scale == scale->data);
        CHECK(tensor->scale_count == scale->numel);
      } else {
        CHECK(tensor->int8 == nullptr);
        CHECK(tensor->scale == nullptr);
        CHECK(tensor->scale_count == 0);
        if (expected.dtype == "F16") {
          CHECK(tensor->dtype == adarun::TensorDtype::kF16);
          CHECK(std::vector<uint16_t>(tensor->half, tensor->half + tensor->numel) == expected.halves);
        } else {
          CHECK(tensor->dtype == adarun::TensorDtype::kF32);
          CHECK(tensor->byte_size() == 4 * expected.values.size());
          CHECK(std::vector<float>(tensor->data, tensor->data + tensor->numel) == expected.values);
        }
      }
    }
    const adarun::TensorView& w = *file->find("w.weight");
    CHECK(w.scale_count == 2);  // shape[0]: a linear's output channels
    CHECK(std::vector<float>(w.scale, w.scale + w.scale_count) == std::vector<float>{0.5f, 0.015625f});
    const adarun::TensorView& d = *file->find("d.weight");
    CHECK(d.scale_count == 3);  // shape[1]: a transposed convolution's output channels
    CHECK(std::vector<float>(d.scale, d.scale + d.scale_count) == std::vector<float>{1e-3f, 0.0f, 2.0f});
  }
  // Version 3 takes F32-only and F16 files too.
  for (const std::string& other : {i8_file(valid_tensors()), i8_file(f16_tensors())}) {
    REQUIRE_MESSAGE(WeightFile::from_memory(other.data(), other.size(), &error) != nullptr, error);
  }
  // The reader pairs by name, whatever the header order; scales of shape[1] count serve a [out, in] tensor too.
  std::vector<TestTensor> reordered = i8_tensors();
  std::swap(reordered[0], reordered[1]);
  reordered[0] = {"w.weight_scale", {3}, {1, 2, 3}};
  const std::string swapped = i8_file(reordered);
  const auto file = WeightFile::from_memory(swapped.data(), swapped.size(), &error);
  REQUIRE_MESSAGE(file != nullptr, error);
  CHECK(file->find("w.weight")->scale_count == 3);
  CHECK(file->find("w.weight")->scale == file->find("w.weight_scale")->data);
}

TEST_CASE("weight file: I8 tensors with a wrong byte size, misaligned, or in a version-1 or version-2 file are refused") {
  std::vector<TestTensor> tensors = i8_tensors();
  tensors[0].data_offsets = {0, 12};  // 2 bytes a value, as if F16
  check_rejected(i8_file(tensors), {"\"w.weight\"", "hold 12 bytes but shape [2, 3] needs 6"});
  tensors = i8_tensors();
  tensors[3].data_offsets = {192, 197};  // one value short
  check_rejected(i8_file(tensors), {"\"d.weight\"", "hold 5 bytes but shape [2, 3, 1, 1] needs 6"});
  tensors = i8_tensors();
  tensors[3].data_offsets = {193, 199};  // 1-byte aligned only
  check_rejected(i8_file(tensors), {"\"d.weight\"", "data offset 193 is not 64-byte aligned"});
  tensors = i8_tensors();
  tensors[2].dtype = "I8";  // b's 8 bytes read as 8 values for shape [2]
  check_rejected(i8_file(tensors), {"\"b\"", "hold 8 bytes but shape [2] needs 2"});
  for (const char* version : {"2", "1"}) {
    check_rejected(i8_file(i8_tensors(), version), {"\"w.weight\"", std::string("dtype \"I8\" needs format_version \"3\" (the file says \"") + version + "\")"});
  }
  // Cut anywhere before the last I8 value: truncated.
  const std::vector<TestTensor> in_order = i8_tensors();
  // d.weight last, at [320, 326): w.weight, w.weight_scale, b, h.f16, d.weight_scale, d.weight.
  const std::string bytes = i8_file({in_order[0], in_order[1], in_order[2], in_order[5], in_order[4], in_order[3]});
  std::string error;
  REQUIRE_MESSAGE(WeightFile::from_memory(bytes.data(), bytes.size(), &error) != nullptr, error);
  const size_t d_end = 8 + header_length(bytes) + 320 + 6;
  CHECK(bytes.size() == d_end + 58);
  for (const size_t cut : {d_end - 1, d_end - 6}) check_rejected(bytes.substr(0, cut), {"truncated"});
}

TEST_CASE("weight file: I8 tensors need F32 one-dimensional scales of an output channel count; _scale names only those") {
  check_rejected(i8_file_with(1, std::nullopt), {"\"w.weight\"", "dtype \"I8\" needs its scales, tensor \"w.weight_scale\", which the file lacks"});
  check_rejected(i8_file_with(4, std::nullopt), {"\"d.weight\"", "tensor \"d.weight_scale\", which the file lacks"});
  TestTensor scale = i8_tensors()[1];
  scale.dtype = "F16";
  scale.halves = {0x3800, 0x2400};
  check_rejected(i8_file_with(1, scale), {"\"w.weight\"", "its scales \"w.weight_scale\" are F16, not F32"});
  scale = i8_tensors()[1];
  scale.dtype = "I8";
  scale.int8s = {1, 2};
  check_rejected(i8_file_with(1, scale), {"\"w.weight\"", "its scales \"w.weight_scale\" are I8, not F32"});
  check_rejected(i8_file_with(1, TestTensor{"w.weight_scale", {2, 1}, {0.5f, 0.25f}}),
                 {"\"w.weight\"", "its scales \"w.weight_scale\" have shape [2, 1], not one dimension"});
  check_rejected(i8_file_with(1, TestTensor{"w.weight_scale", {}, {0.5f}}), {"\"w.weight\"", "have shape [], not one dimension"});
  check_rejected(i8_file_with(1, TestTensor{"w.weight_scale", {4}, {1, 2, 3, 4}}),
                 {"\"w.weight\"", "its scales \"w.weight_scale\" hold 4 values, matching neither shape[0] nor shape[1] of [2, 3]"});
  check_rejected(i8_file_with(1, TestTensor{"w.weight_scale", {1}, {1}}), {"\"w.weight\"", "hold 1 values"});
  check_rejected(i8_file_with(4, TestTensor{"d.weight_scale", {1}, {1}}), {"\"d.weight\"", "neither shape[0] nor shape[1] of [2, 3, 1, 1]"});
  // An I8 scalar has no output channels at all.
  TestTensor scalar{"s.weight", {}, {}};
  scalar.dtype = "I8";
  scalar.int8s = {3};
  std::vector<TestTensor> tensors = i8_tensors();
  tensors.push_back(scalar);
  tensors.push_back({"s.weight_scale", {1}, {1}});
  check_rejected(i8_file(tensors), {"\"s.weight\"", "hold 1 values, matching neither shape[0] nor shape[1] of []"});
  // A *_scale tensor whose base is F32, F16 or absent: refused, in every version.
  check_rejected(i8_file_with(2, TestTensor{"w.bias_scale", {2}, {1, 2}}),
                 {"\"w.bias_scale\"", "is named as the scales of \"w.bias\", which the file lacks (only I8 tensors have _scale companions)"});
  tensors = i8_tensors();
  tensors.push_back({"b_scale", {2}, {1, 2}});
  check_rejected(i8_file(tensors), {"\"b_scale\"", "is named as the scales of \"b\", which is F32, not I8"});
  tensors = i8_tensors();
  tensors.push_back({"h.f16_scale", {2}, {1, 2}});
  check_rejected(i8_file(tensors), {"\"h.f16_scale\"", "which is F16, not I8"});
  tensors = i8_tensors();
  tensors.push_back({"_scale", {2}, {1, 2}});
  check_rejected(i8_file(tensors), {"\"_scale\"", "is named as the scales of \"\", which the file lacks"});
  tensors = valid_tensors();
  tensors.push_back({"z.weight_scale", {2}, {1, 2}});
  check_rejected(make_weight_file(tensors, kConfig), {"\"z.weight_scale\"", "is named as the scales of \"z.weight\", which is F32, not I8"});
}

TEST_CASE("weight file: paths that are not weight files") {
  TempDirectory directory;
  std::string error;
  const std::string missing = (directory.path() / "missing.adarun").string();
  CHECK(WeightFile::open(missing, &error) == nullptr);
  CHECK_MESSAGE(error.find(missing + ": cannot open: No such file") == 0, error);
  CHECK(WeightFile::open(directory.path().string(), &error) == nullptr);
  CHECK_MESSAGE(error.find("is a directory") != std::string::npos, error);
  const std::string fifo = (directory.path() / "fifo").string();
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(WeightFile::open(fifo, &error) == nullptr);  // and does not block waiting for a writer
  CHECK_MESSAGE(error.find("not a regular file") != std::string::npos, error);
  const std::string bad = directory.write("bad.adarun", with_header_length(0));
  CHECK(WeightFile::open(bad, &error) == nullptr);
  CHECK_MESSAGE(error.find(bad + ": header length is 0") == 0, error);  // validation errors name the file
}

TEST_CASE("weight file: failures say whether the path could not be read or the bytes are malformed") {
  TempDirectory directory;
  std::string error;
  const std::string fifo = (directory.path() / "fifo").string();
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  for (const std::string& unreadable : {(directory.path() / "missing.adarun").string(), directory.path().string(), fifo}) {
    WeightFileFailure failure = WeightFileFailure::kNone;
    CHECK(WeightFile::open(unreadable, &error, &failure) == nullptr);
    CHECK_MESSAGE(failure == WeightFileFailure::kUnreadable, unreadable);
  }
  const std::string bytes = with_header_length(0);
  WeightFileFailure failure = WeightFileFailure::kNone;
  CHECK(WeightFile::open(directory.write("bad.adarun", bytes), &error, &failure) == nullptr);
  CHECK(failure == WeightFileFailure::kMalformed);
  failure = WeightFileFailure::kNone;
  CHECK(WeightFile::from_memory(bytes.data(), bytes.size(), &error, &failure) == nullptr);
  CHECK(failure == WeightFileFailure::kMalformed);
}

TEST_CASE("weight file: null or empty buffers") {
  std::string error;
  CHECK(WeightFile::from_memory(nullptr, 16, &error) == nullptr);
  CHECK_MESSAGE(error.find("null") != std::string::npos, error);
  CHECK(WeightFile::from_memory(nullptr, 0, &error) == nullptr);
  CHECK_MESSAGE(error.find("0 bytes") != std::string::npos, error);
  CHECK(WeightFile::from_memory(nullptr, 0, nullptr) == nullptr);  // the error is optional
}

TEST_CASE("weight file: corrupting any single byte never crashes") {
  const std::string bytes = valid_file();
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (const char replacement : {'\0', '\xff', '"', '}', ']', ',', '9', '-', ' ', '\\'}) {
      std::string corrupted = bytes;
      corrupted[i] = replacement;
      std::string error;
      const std::unique_ptr<WeightFile> file = WeightFile::from_memory(corrupted.data(), corrupted.size(), &error);
      CHECK_MESSAGE((file != nullptr) == error.empty(), i, ": ", error);
      CHECK(error.find('\n') == std::string::npos);
    }
  }
}

TEST_CASE("weight file: released pages of a mapped file read back from the file; pages partly outside stay") {
  // Three pages of values: releasing the middle of the tensor drops whole pages only, and a mapped page that
  // is read again comes back from the file.
  std::vector<float> values(3 * 4096 / sizeof(float));
  for (size_t i = 0; i < values.size(); ++i) values[i] = float(i % 1000) - 500.0f;
  const std::string bytes = make_weight_file({{"big", {int64_t(values.size())}, values}}, kConfig);
  TempDirectory directory;
  std::string error;
  const std::unique_ptr<WeightFile> file = WeightFile::open(directory.write("model.adarun", bytes), &error);
  REQUIRE(file);
  const float* data = file->find("big")->data;
  file->release(data + 100, sizeof(float) * (values.size() - 200));
  CHECK(std::equal(values.begin(), values.end(), data));
  file->release(data, 0);                  // nothing
  file->release(values.data(), 1 << 20);   // not the file's bytes: ignored
  CHECK(std::equal(values.begin(), values.end(), data));
}

TEST_CASE("weight file: releasing a copied-in file's pages gives back whole pages inside the range only") {
  std::vector<float> values(4 * 4096 / sizeof(float));
  for (size_t i = 0; i < values.size(); ++i) values[i] = float(i % 1000) + 1.0f;  // never 0
  const std::string bytes = make_weight_file({{"big", {int64_t(values.size())}, values}}, kConfig);
  std::string error;
  const std::unique_ptr<WeightFile> file = WeightFile::from_memory(bytes.data(), bytes.size(), &error);
  REQUIRE(file);
  const float* data = file->find("big")->data;
  const size_t begin = 100, end = values.size() - 100;
  file->release(data + begin, sizeof(float) * (end - begin));
  const uintptr_t page = 4096;
  size_t zeros = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    const uintptr_t address = reinterpret_cast<uintptr_t>(data + i);
    const uintptr_t page_start = address / page * page;
    const bool whole_page_inside = page_start >= reinterpret_cast<uintptr_t>(data + begin) &&
                                   page_start + page <= reinterpret_cast<uintptr_t>(data + end);
    if (whole_page_inside) {
      zeros += data[i] == 0.0f;
    } else {
      CHECK(data[i] == values[i]);
    }
  }
  CHECK(zeros >= 2 * page / sizeof(float));  // at least two whole pages lie inside and read as zeros
}
