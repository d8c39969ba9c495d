#pragma once
// `--name value` options of a CLI subcommand.
#include <map>
#include <string>
#include <vector>

#include "engine/src/status.h"

namespace adarun::cli {

class Arguments {
 public:
  // Every argument must be a known `--name value` pair.
  Status parse(const std::vector<std::string>& args, const std::vector<std::string>& known);
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const;
  Status get_int(const std::string& name, int fallback, int min_value, int max_value, int* value) const;
  Status get_float(const std::string& name, float fallback, float* value) const;
  // "yes" or "no"; absent is no.
  Status get_yes_no(const std::string& name, bool* value) const;

 private:
  std::map<std::string, std::string> values_;
};

std::vector<std::string> split_commas(const std::string& text);

}  // namespace adarun::cli
