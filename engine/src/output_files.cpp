#include "engine/src/output_files.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace adarun {
namespace fs = std::filesystem;
namespace {

Status write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  file.close();
  if (!file) return Status::error("cannot write " + path.string());
  return Status::ok();
}

void remove_all(const std::vector<fs::path>& paths) {
  std::error_code ignored;
  for (const fs::path& path : paths) fs::remove(path, ignored);
}

}  // namespace

Status OutputFiles::commit(const std::string& directory) const {
  std::error_code error;
  fs::create_directories(directory, error);
  if (error || !fs::is_directory(directory)) return Status::error("cannot create output directory " + directory);
  const std::string suffix = ".tmp-" + std::to_string(getpid());
  std::vector<fs::path> temporaries;
  for (const auto& [name, bytes] : files_) {
    temporaries.push_back(fs::path(directory) / ("." + name + suffix));
    Status status = write_file(temporaries.back(), bytes);
    if (!status.is_ok()) {
      remove_all(temporaries);
      return status;
    }
  }
  for (size_t i = 0; i < files_.size(); ++i) {
    fs::rename(temporaries[i], fs::path(directory) / files_[i].first, error);
    if (error) {
      remove_all(temporaries);
      return Status::error("cannot rename into " + directory + ": " + error.message());
    }
  }
  return Status::ok();
}

}  // namespace adarun
