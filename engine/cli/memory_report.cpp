#include "engine/cli/memory_report.h"

#include <sys/resource.h>

#include <cstdio>

namespace adarun::cli {
namespace {

int64_t peak_resident_bytes() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux reports kilobytes
}

double megabytes(int64_t bytes) { return double(bytes) * 1e-6; }

}  // namespace

MemoryFigures memory_figures(const Model& model, const Session& session) {
  MemoryFigures figures;
  figures.file_bytes = model.file_bytes();
  figures.packed_bytes = model.packed_bytes();
  figures.arena_bytes = session.arena_bytes();
  figures.peak_resident_bytes = peak_resident_bytes();
  return figures;
}

std::string memory_text(const MemoryFigures& f) {
  char text[160];
  std::snprintf(text, sizeof text, "weight file %.1f MB, packed %.1f MB, arena %.1f MB, peak resident %.1f MB", megabytes(f.file_bytes),
                megabytes(f.packed_bytes), megabytes(f.arena_bytes), megabytes(f.peak_resident_bytes));
  return text;
}

std::string memory_json(const MemoryFigures& f) {
  char text[200];
  std::snprintf(text, sizeof text, "{\"file_bytes\": %lld, \"packed_bytes\": %lld, \"arena_bytes\": %lld, \"peak_resident_bytes\": %lld}",
                (long long)f.file_bytes, (long long)f.packed_bytes, (long long)f.arena_bytes, (long long)f.peak_resident_bytes);
  return text;
}

}  // namespace adarun::cli
