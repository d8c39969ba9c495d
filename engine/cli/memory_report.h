#pragma once
// What a model and its session hold in memory, for `adarun info` and `adarun bench`.
#include <cstdint>
#include <string>

#include "engine/src/model.h"
#include "engine/src/session.h"

namespace adarun::cli {

struct MemoryFigures {
  int64_t file_bytes = 0;     // the weight file (mapped)
  int64_t packed_bytes = 0;   // the linears packed for the ISA
  int64_t arena_bytes = 0;    // the session's planned buffers
  int64_t peak_resident_bytes = 0;  // the process's peak resident set so far (getrusage)
};

MemoryFigures memory_figures(const Model& model, const Session& session);
// "weight file 152.6 MB, packed 150.1 MB, arena 30.2 MB, peak resident 340.0 MB"
std::string memory_text(const MemoryFigures& figures);
// {"file_bytes": ..., "packed_bytes": ..., "arena_bytes": ..., "peak_resident_bytes": ...}
std::string memory_json(const MemoryFigures& figures);

}  // namespace adarun::cli
