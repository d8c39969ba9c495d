#pragma once
// Where a frame's time goes: wall time, MACs, calls and rows per kind of op and per op of the plan, summed by
// the scheduler while a session profiles (Session::set_profiling).
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace adarun {

enum class OpKind { kLinear, kAttention, kLayerNorm, kGelu, kRows, kElementwise, kPolicy, kConv, kResize, kCopy, kCount };
constexpr int kOpKinds = static_cast<int>(OpKind::kCount);
// linear, attention, layer_norm, gelu, gather_scatter, add_relu, policy, conv, resize, copy.
const char* op_kind_name(OpKind kind);

struct OpKindTotals {
  double seconds = 0.0;
  int64_t macs = 0;
  int64_t calls = 0;
  int64_t rows = 0;  // rows run, for ops over token rows
};

struct OpProfile {
  std::array<OpKindTotals, kOpKinds> kinds{};
  std::vector<OpKindTotals> ops;  // per op of the session's plan; sized when profiling starts
  double frame_seconds = 0.0;     // whole frames, so the unattributed rest is frame minus the kinds
  int64_t frames = 0;
  OpKindTotals& operator[](OpKind kind) { return kinds[static_cast<int>(kind)]; }
  const OpKindTotals& operator[](OpKind kind) const { return kinds[static_cast<int>(kind)]; }
  void add(OpKind kind, int32_t op, double seconds, int64_t macs, int64_t rows) {
    for (OpKindTotals* totals : {&(*this)[kind], &ops[static_cast<size_t>(op)]}) {
      totals->seconds += seconds;
      totals->macs += macs;
      totals->calls += 1;
      totals->rows += rows;
    }
  }
};

}  // namespace adarun
