#include <doctest/doctest.h>

#include "tests/weights/weight_file_builder.h"
#include "weights/weight_file.h"

using adarun::WeightFile;
using adarun::testing::TempFile;
using adarun::testing::WeightFileBuilder;

namespace {

WeightFileBuilder valid_builder() {
  WeightFileBuilder b;
  b.tensors.push_back({"a", {2, 3}, {1, 2, 3, 4, 5, 6}});
  b.tensors.push_back({"b", {5}, {-1, -2, -3, -4, -5}});
  b.config = "{\"x\":1}";
  return b;
}

// Loads from a file and from memory; both must fail with a message containing `word`.
void check_rejected(const std::string& bytes, const std::string& word) {
  std::string error;
  TempFile file(bytes);
  CHECK(WeightFile::open(file.path(), &error) == nullptr);
  CHECK_MESSAGE(error.find(word) != std::string::npos, error);
  error.clear();
  CHECK(WeightFile::from_memory(bytes.data(), bytes.size(), &error) == nullptr);
  CHECK_MESSAGE(error.find(word) != std::string::npos, error);
}

}  // namespace

TEST_CASE("weight file: a valid file reads back its tensors and metadata, from disk and from memory") {
  const std::string bytes = valid_builder().bytes();
  TempFile file(bytes);
  std::string error;
  std::unique_ptr<WeightFile> loaded_files[] = {WeightFile::open(file.path(), &error),
                                               WeightFile::from_memory(bytes.data(), bytes.size(), &error)};
  for (const auto& loaded : loaded_files) {
    REQUIRE_MESSAGE(loaded != nullptr, error);
    REQUIRE(loaded->tensors().size() == 2);
    const adarun::TensorView* a = loaded->find("a");
    REQUIRE(a != nullptr);
    CHECK(a->shape == std::vector<int64_t>{2, 3});
    CHECK(a->numel == 6);
    CHECK(a->data[5] == 6.0f);
    CHECK(loaded->find("b")->data[4] == -5.0f);
    CHECK(loaded->find("c") == nullptr);
    CHECK(*loaded->metadata("config") == "{\"x\":1}");
  }
}

TEST_CASE("weight file: truncation anywhere is an error") {
  const std::string bytes = valid_builder().bytes();
  check_rejected(bytes.substr(0, 4), "truncated");
  check_rejected(bytes.substr(0, 20), "header length");
  const size_t header_end = 8 + valid_builder().header().size();
  check_rejected(bytes.substr(0, header_end + 10), "out of range");
}

TEST_CASE("weight file: header length lies") {
  std::string bytes = valid_builder().bytes();
  bytes[7] = '\x7f';  // astronomically long
  check_rejected(bytes, "header length");
  std::string zero = valid_builder().bytes();
  for (int i = 0; i < 8; ++i) zero[i] = 0;
  check_rejected(zero, "header length");
}

TEST_CASE("weight file: bad offsets, lengths and overlaps") {
  WeightFileBuilder out_of_range = valid_builder();
  out_of_range.tensors[1].offset_shift = 1 << 20;
  check_rejected(out_of_range.bytes(), "out of range");
  WeightFileBuilder backwards = valid_builder();
  backwards.tensors[0].offset_shift = 128;
  backwards.tensors[0].length_shift = -64;
  check_rejected(backwards.bytes(), "end before");
  WeightFileBuilder short_data = valid_builder();
  short_data.tensors[0].length_shift = -4;
  check_rejected(short_data.bytes(), "does not match its shape");
  WeightFileBuilder misaligned = valid_builder();
  misaligned.tensors[1].offset_shift = 4;
  check_rejected(misaligned.bytes(), "aligned");
  WeightFileBuilder overlapping = valid_builder();
  overlapping.tensors[1].offset_shift = -64;
  check_rejected(overlapping.bytes(), "overlap");
}

TEST_CASE("weight file: wrong dtypes and shapes") {
  for (const char* dtype : {"F16", "I64", "BF16"}) {
    WeightFileBuilder b = valid_builder();
    b.tensors[0].dtype = dtype;
    check_rejected(b.bytes(), "only F32");
  }
  const std::string good_header = valid_builder().header();
  auto with = [&](const std::string& from, const std::string& to) {
    std::string h = good_header;
    h.replace(h.find(from), from.size(), to);
    h.append((8 - h.size() % 8) % 8, ' ');
    return valid_builder().bytes(h);
  };
  check_rejected(with("[2,3]", "[-2,-3]"), "non-negative");
  check_rejected(with("[2,3]", "[2.5,2]"), "non-negative integers");
  check_rejected(with("[2,3]", "\"six\""), "shape must be a list");
  check_rejected(with("[2,3]", "[1099511627776,1099511627776]"), "too many");
  check_rejected(with("\"b\":{", "\"a\":{"), "twice");
  check_rejected(with("\"dtype\":\"F32\",", ""), "exactly dtype, shape and data_offsets");
}

TEST_CASE("weight file: metadata must identify a version-1 adarun file") {
  WeightFileBuilder future = valid_builder();
  future.format_version = "2";
  check_rejected(future.bytes(), "format_version 2");
  WeightFileBuilder numeric = valid_builder();
  numeric.extra_metadata = ",\"n\":5";
  check_rejected(numeric.bytes(), "must be a string");
  const std::string foreign = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}     ";
  WeightFileBuilder tiny;
  tiny.tensors.push_back({"w", {1}, {1}});
  check_rejected(tiny.bytes(foreign), "__metadata__");
  check_rejected(valid_builder().bytes("[1,2,3]  "), "JSON object");
  check_rejected(valid_builder().bytes("{not json}     "), "not valid JSON");
}

TEST_CASE("weight file: paths that are not files") {
  std::string error;
  CHECK(WeightFile::open("/nonexistent/model.adarun", &error) == nullptr);
  CHECK(error.find("cannot open") != std::string::npos);
  CHECK(WeightFile::open(std::filesystem::temp_directory_path().string(), &error) == nullptr);
  CHECK(error.find("not a regular file") != std::string::npos);
  CHECK(WeightFile::from_memory(nullptr, 0, &error) == nullptr);
}
