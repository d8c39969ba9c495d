#pragma once
#include <string>
#include <vector>

#include "engine/src/status.h"

namespace adarun::cli {

Status run_infer(const std::vector<std::string>& args);
Status run_info(const std::vector<std::string>& args);
Status run_bench(const std::vector<std::string>& args);

}  // namespace adarun::cli
