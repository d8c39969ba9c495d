#include "engine/cli/profile_report.h"

#include <cstdio>
#include <vector>

namespace adarun::cli {
namespace {

struct Row {
  std::string name;
  double ms = 0.0, share = 0.0, calls = 0.0, gmacs = 0.0, gflops = 0.0;
};

// Per-frame means of every kind that ran, then "other" (frame minus the kinds) and "frame".
std::vector<Row> rows_of(const OpProfile& profile) {
  std::vector<Row> rows;
  if (profile.frames == 0) return rows;
  const double frames = double(profile.frames), frame_ms = profile.frame_seconds * 1e3 / frames;
  double attributed_ms = 0.0, total_gmacs = 0.0;
  for (int k = 0; k < kOpKinds; ++k) {
    const OpKindTotals& totals = profile.kinds[k];
    if (totals.calls == 0) continue;
    Row row{op_kind_name(static_cast<OpKind>(k))};
    row.ms = totals.seconds * 1e3 / frames;
    row.calls = double(totals.calls) / frames;
    row.gmacs = double(totals.macs) * 1e-9 / frames;
    row.gflops = row.ms > 0.0 ? 2.0 * row.gmacs / (row.ms * 1e-3) : 0.0;
    attributed_ms += row.ms;
    total_gmacs += row.gmacs;
    rows.push_back(row);
  }
  Row other{"other"};
  other.ms = frame_ms - attributed_ms;
  rows.push_back(other);
  Row frame{"frame"};
  frame.ms = frame_ms;
  frame.gmacs = total_gmacs;
  frame.gflops = frame_ms > 0.0 ? 2.0 * total_gmacs / (frame_ms * 1e-3) : 0.0;
  rows.push_back(frame);
  for (Row& row : rows) row.share = frame_ms > 0.0 ? row.ms / frame_ms : 0.0;
  return rows;
}

}  // namespace

std::string profile_table(const OpProfile& profile) {
  std::string text = "op                  ms/frame   share  calls/frame   GMACs  GFLOP/s\n";
  char line[160];
  for (const Row& row : rows_of(profile)) {
    std::snprintf(line, sizeof line, "%-16s %11.3f %6.1f%% %12.1f %7.3f %8.1f\n", row.name.c_str(), row.ms, 100.0 * row.share,
                  row.calls, row.gmacs, row.gflops);
    text += line;
  }
  return text;
}

std::string profile_json(const OpProfile& profile) {
  std::string text = "[";
  char item[256];
  for (const Row& row : rows_of(profile)) {
    std::snprintf(item, sizeof item, "%s{\"op\": \"%s\", \"ms\": %.4f, \"share\": %.4f, \"calls\": %.1f, \"gmacs\": %.5f, \"gflops_per_s\": %.2f}",
                  text.size() > 1 ? ", " : "", row.name.c_str(), row.ms, row.share, row.calls, row.gmacs, row.gflops);
    text += item;
  }
  return text + "]";
}

}  // namespace adarun::cli
