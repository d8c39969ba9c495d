#pragma once
// A session's model for its task set, compiled once into a flat list of ops over planned buffers (README
// "Architecture"). Builders (engine/src/build_*.cpp) emit it; the memory planner lays its buffers into one
// arena; the scheduler (engine/src/scheduler.h) walks it per frame, skipping what the gates turn off.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/src/model.h"
#include "engine/src/op_profile.h"
#include "engine/src/window_plan.h"

namespace adarun {

enum class OpCode : uint8_t {
  kConv,             // y = conv(x), CHW, zero padding, dilated or not
  kConvTranspose,    // y = conv_transpose(x), CHW
  kConvDelta,        // streaming: y = conv(x) kept from frame to frame, y += conv(x - previous) over the floats of x that
                     // changed since the op last ran (scratch: previous; both persistent), or in full (scheduler.h)
  kConvChangedRows,  // streaming: y = conv(x) kept from frame to frame, its output rows whose input rows changed since the
                     // op last ran recomputed (scratch: previous; both persistent; scratch2 the convolution's)
  kLinear,           // y[scatter[i]] (+)= act(x[gather[i]] W^T + b), i < rows (layers::LinearFusion)
  kLowRank,          // y += (x down^T) up^T
  kLayerNorm,        // y = LN(x), rows x cols
  kWindowAttention,  // y = softmax(q k^T * scale + bias + mask) v per window and head; x = qkv
  kGelu,             // y = GELU(y), rows x cols
  kRelu,             // y = max(y, 0), rows x cols
  kAdd,              // y += x, rows x cols
  kCopy,             // y = x, rows x cols
  kZero,             // y = 0, rows x cols
  kTranspose,        // y[cols, rows] = x[rows, cols]^T
  kScatterAddRows,   // y[scatter[i]] += x[i], i < rows
  kMergeCells,       // y = the [x0, x1, x2, x3] of every 2x2 cell of x (patch merging)
  kResizeNearest,    // y = resize(x), CHW
  kResizeBilinear,
  kBlur,             // y = the [1/8, 3/4, 1/8] blur of x per axis, replicated edges, CHW (bilinear x2s and back)
  kChannelMean,      // y[c] = the mean of x[c, :], rows (channels) x cols (pixels): global average pooling
  kBroadcast,        // y[c, :] = x[c], rows (channels) x cols (pixels)
  kBlockPolicy,      // the stage's block gates, from x
  kBlockGate,        // jumps to `jump` when the block's gate is off
  kTokenPolicy,      // the block's token mask and kept rows, from x; jumps to `jump` when none is kept
  kWindowChange,     // streaming: which of the block's windows changed since its reference (scheduler.h); the others
                     // take their stored outputs; jumps to `jump` when none changed
  kGatherRows,       // y[i] = x[index[i]], i < rows
  kScatterRows,      // y[index[i]] = x[i], i < rows
  kJump,             // goes on at `jump`
};
const char* op_code_name(OpCode code);

// A place in the arena: a planned buffer and a float offset into it; or the frame's input.
constexpr int32_t kFrameInput = -2;
struct Operand {
  int32_t buffer = -1;
  int64_t offset = 0;
  float* data = nullptr;  // bound when the arena is allocated
  bool valid() const { return buffer >= 0; }
};

// The rows an op runs over. kKept: the current block's kept tokens (their count and indices from its token
// policy); kActive: in a streamed block, the tokens of the windows that changed (their count and, for row
// moves, their indices from kWindowChange); rows is then the most there can be.
// kActiveGroups: the changed groups themselves (windows of a streamed block, 2x2 cells of a streamed patch merging).
enum class RowSource : uint8_t { kAll, kKept, kActive, kActiveGroups };

// A CHW map's shape before and after a convolution or resize.
struct MapShape {
  int64_t channels = 0, h = 0, w = 0, out_h = 0, out_w = 0, stride = 1, pad = 0;
  int64_t dilation = 1;    // convolutions: taps this many pixels apart
  int64_t output_pad = 0;  // transposed convolutions: extra output rows and columns
};

struct Op {
  OpCode code = OpCode::kCopy;
  OpKind kind = OpKind::kCopy;  // the profile's bucket
  std::string name;             // "stage2.block3.fc1"
  Operand x, y;                 // input and output
  Operand scratch, scratch2;    // op-private buffers: live for this op only
  int64_t rows = 0, cols = 0;
  RowSource row_source = RowSource::kAll;  // which rows a token-gated or streamed op runs over
  MapShape map;
  // Weights
  const LinearWeights* linear = nullptr;
  const ConvWeights* conv = nullptr;
  const ConvTransposeWeights* conv_transpose = nullptr;
  const NormWeights* norm = nullptr;
  const LowRank* low_rank = nullptr;
  const float* addend = nullptr;  // kAdd of a weight (absolute position embedding) instead of x
  std::vector<const PolicyWeights*> policies;  // policy ops: the requested tasks' (max of their logits)
  int64_t policy_fc_rows = 0;                  // block policy: 1 (flattened hidden map); token policy: tokens
  int64_t decisions = 0;                       // policy ops: gates decided (blocks of the stage, or tokens)
  int64_t adapter_out = 0;                     // kLowRank: the adapter's output width
  // Linear fusions and row moves: static orders (window partition and reverse) or the kept rows.
  const int32_t* gather = nullptr;
  const int32_t* scatter = nullptr;
  bool gather_kept = false, scatter_kept = false, gelu = false, accumulate = false;
  bool restore_rows = false;  // kWindowChange: unchanged windows' rows take the stored outputs (a block; not a merge)
  // kConvDelta: the ops reading one input share its stored copy (scratch) and its change test: the first of them
  // (plan order) finds the changed spans into the scheduler's `change_group`, the last stores the new input.
  int change_group = -1;
  bool tests_change = false, stores_input = false;
  // kCopy of a streamed block's whole output into its stored output: skipped on frames that pass through (scheduler.h).
  bool stores_reference = false;
  // kWindowChange of stage 0's first block: its windows may be tested on the frame's pixels (scheduler.h), map holds
  // the frame (channels, h = w = size, stride = patch size) and scratch2 the pixels each window was last computed
  // from. kConvChangedRows of the patch embedding: its rows may be tested by patches (map and scratch its own).
  bool tests_pixels = false;
  // Window attention
  const float* rel_bias = nullptr;
  const float* masks = nullptr;
  int64_t windows = 0, window_tokens = 0, heads = 0, head_dim = 0;
  // Gates
  int stage = -1, block = -1;
  int32_t jump = -1;  // the op after the block
  int32_t jump_all = -1;  // kWindowChange of a block: where it goes on when every window changed (the unstreamed ops)
  // MACs: fixed + per_row * rows run (kept rows for token-gated ops).
  int64_t macs_fixed = 0, macs_per_row = 0;
  int64_t macs(int64_t rows_run) const { return macs_fixed + macs_per_row * rows_run; }
};

struct PlanBuffer {
  std::string name;
  int64_t floats = 0;
  int64_t offset = 0;  // in the arena, set by plan_memory
  int32_t first_op = -1, last_op = -1;
  bool lives_to_end = false;  // task outputs: read after the frame
  bool persistent = false;    // streaming references: kept from frame to frame, never shared
};

struct Plan {
  std::vector<Op> ops;
  std::vector<PlanBuffer> buffers;
  std::vector<WindowPlan> windows;       // per stage: the orders and masks ops point into
  std::vector<std::vector<int32_t>> merge_cells;  // per stage: the tokens [x0, x1, x2, x3] of each 2x2 cell (SPEC 1)
  std::vector<int32_t> task_outputs;     // per model task: its output buffer, -1 when not requested
  std::vector<int> tasks;                // the requested task indices
  std::vector<int> policies;             // the policies OR-ed for them
  int64_t arena_floats = 0;              // set by plan_memory
  int64_t static_macs = 0;               // every op but the policies, all rows: the static model's MACs
};

}  // namespace adarun
