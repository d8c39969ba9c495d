#include "engine/cli/arguments.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace adarun::cli {

Status Arguments::parse(const std::vector<std::string>& args, const std::vector<std::string>& known) {
  for (size_t i = 0; i < args.size(); i += 2) {
    const std::string& name = args[i];
    if (name.rfind("--", 0) != 0 || std::find(known.begin(), known.end(), name.substr(2)) == known.end()) {
      return Status::error("unknown option " + name);
    }
    if (i + 1 >= args.size()) return Status::error("option " + name + " needs a value");
    values_[name.substr(2)] = args[i + 1];
  }
  return Status::ok();
}

std::string Arguments::get(const std::string& name, const std::string& fallback) const {
  const auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

Status Arguments::get_int(const std::string& name, int fallback, int min_value, int max_value, int* value) const {
  *value = fallback;
  if (!has(name)) return Status::ok();
  const std::string text = get(name);
  char* end = nullptr;
  const long parsed = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || parsed < min_value || parsed > max_value) {
    return Status::error("--" + name + " must be an integer in [" + std::to_string(min_value) + ", " + std::to_string(max_value) + "], got '" + text + "'");
  }
  *value = static_cast<int>(parsed);
  return Status::ok();
}

Status Arguments::get_float(const std::string& name, float fallback, float* value) const {
  *value = fallback;
  if (!has(name)) return Status::ok();
  const std::string text = get(name);
  char* end = nullptr;
  const float parsed = std::strtof(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(parsed)) return Status::error("--" + name + " must be a finite number, got '" + text + "'");
  *value = parsed;
  return Status::ok();
}

Status Arguments::get_yes_no(const std::string& name, bool* value) const {
  const std::string text = get(name, "no");
  if (text != "yes" && text != "no") return Status::error("--" + name + " must be yes or no, got '" + text + "'");
  *value = text == "yes";
  return Status::ok();
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start) parts.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return parts;
}

}  // namespace adarun::cli
