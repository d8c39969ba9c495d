#pragma once
// Where a frame's time goes: wall time, MACs and calls per kind of op, summed while a session profiles
// (Session::set_profiling). Off, an op pays one null-pointer test.
#include <array>
#include <chrono>
#include <cstdint>

namespace adarun {

enum class OpKind { kLinear, kAttention, kLayerNorm, kGelu, kRows, kElementwise, kPolicy, kConv, kResize, kCopy, kCount };
constexpr int kOpKinds = static_cast<int>(OpKind::kCount);
// linear, attention, layer_norm, gelu, gather_scatter, add_relu, policy, conv, resize, copy.
const char* op_kind_name(OpKind kind);

struct OpKindTotals {
  double seconds = 0.0;
  int64_t macs = 0;
  int64_t calls = 0;
};

struct OpProfile {
  std::array<OpKindTotals, kOpKinds> kinds{};
  double frame_seconds = 0.0;  // whole frames, so the unattributed rest is frame minus the kinds
  int64_t frames = 0;
  OpKindTotals& operator[](OpKind kind) { return kinds[static_cast<int>(kind)]; }
  const OpKindTotals& operator[](OpKind kind) const { return kinds[static_cast<int>(kind)]; }
};

// Times one op from construction to destruction into `profile` (nullptr: does nothing).
class OpTimer {
 public:
  OpTimer(OpProfile* profile, OpKind kind, int64_t macs) : profile_(profile), kind_(kind), macs_(macs) {
    if (profile_) start_ = std::chrono::steady_clock::now();
  }
  ~OpTimer() {
    if (!profile_) return;
    OpKindTotals& totals = (*profile_)[kind_];
    totals.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    totals.macs += macs_;
    totals.calls += 1;
  }
  OpTimer(const OpTimer&) = delete;
  OpTimer& operator=(const OpTimer&) = delete;

 private:
  OpProfile* profile_;
  OpKind kind_;
  int64_t macs_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace adarun
