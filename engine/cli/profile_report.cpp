#include "engine/cli/profile_report.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
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

struct OpRow {
  size_t index = 0;
  double ms = 0.0, runs = 0.0, rows = 0.0, gmacs = 0.0;
};

// Per-frame means of the ops that ran, slowest first.
std::vector<OpRow> op_rows(const OpProfile& profile) {
  std::vector<OpRow> rows;
  if (profile.frames == 0) return rows;
  const double frames = double(profile.frames);
  for (size_t i = 0; i < profile.ops.size(); ++i) {
    const OpKindTotals& totals = profile.ops[i];
    if (totals.calls == 0) continue;
    rows.push_back({i, totals.seconds * 1e3 / frames, double(totals.calls) / frames, double(totals.rows) / double(totals.calls),
                    double(totals.macs) * 1e-9 / frames});
  }
  std::stable_sort(rows.begin(), rows.end(), [](const OpRow& a, const OpRow& b) { return a.ms > b.ms; });
  return rows;
}

}  // namespace

std::string op_profile_table(const OpProfile& profile, const Plan& plan, size_t top) {
  const double frame_ms = profile.frames ? profile.frame_seconds * 1e3 / double(profile.frames) : 0.0;
  std::string text = "slowest ops                                 op                  ms/frame   share   runs   rows/run   GMACs  GFLOP/s\n";
  char line[256];
  const std::vector<OpRow> rows = op_rows(profile);
  for (size_t r = 0; r < std::min(top, rows.size()); ++r) {
    const OpRow& row = rows[r];
    const Op& op = plan.ops[row.index];
    const double gflops = row.ms > 0.0 ? 2.0 * row.gmacs / (row.ms * 1e-3) : 0.0;
    std::snprintf(line, sizeof line, "%-43s %-16s %11.3f %6.1f%% %6.2f %10.0f %7.3f %8.1f\n", op.name.c_str(), op_code_name(op.code), row.ms,
                  frame_ms > 0.0 ? 100.0 * row.ms / frame_ms : 0.0, row.runs, row.rows, row.gmacs, gflops);
    text += line;
  }
  return text;
}

std::string op_profile_json(const OpProfile& profile, const Plan& plan) {
  std::string text = "[";
  char item[384];
  for (const OpRow& row : op_rows(profile)) {
    const Op& op = plan.ops[row.index];
    std::snprintf(item, sizeof item, "%s{\"index\": %zu, \"name\": \"%s\", \"op\": \"%s\", \"ms\": %.4f, \"runs\": %.2f, \"rows\": %.1f, \"macs\": %.0f}",
                  text.size() > 1 ? ", " : "", row.index, op.name.c_str(), op_code_name(op.code), row.ms, row.runs, row.rows, row.gmacs * 1e9);
    text += item;
  }
  return text + "]";
}

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
