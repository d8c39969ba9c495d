#pragma once
// Collects a run's output files and writes them all or none: each goes to a temporary name
// first, and only when every one is on disk are they renamed into place.
#include <string>
#include <utility>
#include <vector>

#include "engine/src/status.h"

namespace adarun {

class OutputFiles {
 public:
  void add(std::string name, std::string bytes) { files_.emplace_back(std::move(name), std::move(bytes)); }
  // Creates `directory` if needed.
  Status commit(const std::string& directory) const;

 private:
  std::vector<std::pair<std::string, std::string>> files_;
};

}  // namespace adarun
