#include "engine/src/scheduler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "engine/src/framing.h"

namespace adarun {
namespace {

using layers::Compute;

const float* input_of(const Op& op, const float* frame_input) { return op.x.buffer == kFrameInput ? frame_input : op.x.data; }

// Four float lanes (GCC and Clang vector extensions: SSE on x86-64, Advanced SIMD on aarch64). The change test
// reads every token of every streamed block each frame and must cost little beside the work it saves: written
// as eight plain float lanes, GCC 12 vectorised it into shuffles and stack spills (9% of a streamed frame).
using Lanes = float __attribute__((vector_size(16)));

Lanes load_lanes(const float* p) {
  Lanes v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

float sum_lanes(Lanes v) { return (v[0] + v[1]) + (v[2] + v[3]); }

// |a - r|^2 / |r|^2 over `cols` floats.
float relative_change(const float* a, const float* r, int64_t cols) {
  Lanes difference[2] = {}, norm[2] = {};
  int64_t c = 0;
  for (; c + 8 <= cols; c += 8) {
    for (int half = 0; half < 2; ++half) {
      const Lanes x = load_lanes(a + c + 4 * half), reference = load_lanes(r + c + 4 * half);
      const Lanes d = x - reference;
      difference[half] += d * d;
      norm[half] += reference * reference;
    }
  }
  float total_difference = sum_lanes(difference[0] + difference[1]), total_norm = sum_lanes(norm[0] + norm[1]);
  for (; c < cols; ++c) {
    total_difference += (a[c] - r[c]) * (a[c] - r[c]);
    total_norm += r[c] * r[c];
  }
  return total_difference / std::max(total_norm, 1e-30f);
}

// With a camera's noise given, stage 0's first block tests its windows on the frame's pixels (scheduler.h): a patch
// changed when its RMS change over its channels and pixels exceeds this many times the noise. The RMS of the
// difference of two noisy frames is sqrt(2) noise, and its largest over the 3136 patches of a 224 frame ~1.9 noise.
constexpr double kNoiseMargin = 3.0;

// The mean squared change, in grey levels, of each patch in patch rows [first, first + count) between two
// normalised frames (SPEC 1: (v / 255 - mean) / std per channel), into out[(row - first) * grid + col]; frame:
// channels, h = w = size, stride = patch size; row_sums: w floats of scratch. Summed a whole image row at a time
// (contiguous, vectorised), then by patch: a patch at a time cost 0.2-0.3 ms a frame each for the two tests.
void patch_changes(const float* a, const float* r, const MapShape& frame, int64_t first, int64_t count, float* row_sums,
                   float* out) {
  const int64_t patch = frame.stride, grid = frame.w / patch, plane = frame.h * frame.w;
  const float mean_of = 1.0f / static_cast<float>(frame.channels * patch * patch);
  for (int64_t row = first; row < first + count; ++row) {
    std::fill(row_sums, row_sums + frame.w, 0.0f);
    for (int64_t c = 0; c < frame.channels; ++c) {
      const float grey = 255.0f * kImageStd[c];
      for (int64_t y = row * patch; y < (row + 1) * patch; ++y) {
        const float* pa = a + c * plane + y * frame.w;
        const float* pr = r + c * plane + y * frame.w;
        for (int64_t x = 0; x < frame.w; ++x) {
          const float d = (pa[x] - pr[x]) * grey;
          row_sums[x] += d * d;
        }
      }
    }
    for (int64_t col = 0; col < grid; ++col) {
      float sum = 0.0f;
      for (int64_t k = 0; k < patch; ++k) sum += row_sums[col * patch + k];
      out[(row - first) * grid + col] = sum * mean_of;
    }
  }
}

// to = from over the patches of the `count` tokens listed, one copy per pixel row of a run of consecutive tokens
// in one grid row (a window's row is one run: a copy per patch was a library call per 16 bytes).
void copy_patches(const float* from, const int32_t* tokens, int64_t count, const MapShape& frame, float* to) {
  const int64_t patch = frame.stride, grid = frame.w / patch, plane = frame.h * frame.w;
  for (int64_t i = 0; i < count;) {
    int64_t run = 1;
    while (i + run < count && tokens[i + run] == tokens[i] + run && (tokens[i] + run) % grid != 0) ++run;
    const int64_t top = (tokens[i] / grid) * patch, left = (tokens[i] % grid) * patch;
    for (int64_t c = 0; c < frame.channels; ++c) {
      for (int64_t y = 0; y < patch; ++y) {
        const int64_t row = c * plane + (top + y) * frame.w + left;
        std::memcpy(to + row, from + row, sizeof(float) * static_cast<size_t>(run * patch));
      }
    }
    i += run;
  }
}

// Recomputes the runs of output rows r of a frame convolution (kConvChangedRows) for which recompute(r); returns
// the rows computed.
template <typename Recompute>
int64_t convolve_row_runs(const Op& op, const layers::Compute& compute, const float* x, Recompute recompute) {
  const MapShape& m = op.map;
  int64_t computed = 0;
  for (int64_t r = 0; r < m.out_h;) {
    if (!recompute(r)) {
      ++r;
      continue;
    }
    const int64_t begin = r;
    while (r < m.out_h && recompute(r)) ++r;
    layers::conv2d(compute, *op.conv, x, m.h, m.w, m.stride, m.pad, m.dilation, op.scratch2.data, op.y.data, begin, r);
    computed += r - begin;
  }
  return computed;
}

// to[t] = from[t] for the `count` tokens of `cols` floats listed in `tokens`, one copy per run of consecutive tokens
// (a window's row is one run: a copy per token cost a library call per 128 bytes at stage 0).
void copy_token_runs(const float* from, const int32_t* tokens, int64_t count, int64_t cols, float* to) {
  for (int64_t i = 0; i < count;) {
    int64_t run = 1;
    while (i + run < count && tokens[i + run] == tokens[i] + run) ++run;
    const int64_t first = tokens[i];
    std::memcpy(to + first * cols, from + first * cols, sizeof(float) * static_cast<size_t>(run * cols));
    i += run;
  }
}

// w . (a - b) over `count` floats, in eight float lanes the compiler vectorises.
float dot_difference(const float* w, const float* a, const float* b, int64_t count) {
  float lanes[8] = {};
  int64_t i = 0;
  for (; i + 8 <= count; i += 8) {
    for (int lane = 0; lane < 8; ++lane) lanes[lane] += w[i + lane] * (a[i + lane] - b[i + lane]);
  }
  for (; i < count; ++i) lanes[0] += w[i] * (a[i] - b[i]);
  float total = 0.0f;
  for (float lane : lanes) total += lane;
  return total;
}

}  // namespace

Scheduler::Scheduler(const ModelConfig& config) {
  int64_t tokens = 0, depth = 0, windows = 0;
  for (const StageGeometry& stage : config.stages) {
    block_gates_.emplace_back(static_cast<size_t>(stage.depth), 1);
    tokens = std::max(tokens, stage.tokens);
    depth = std::max(depth, stage.depth);
    windows = std::max(windows, stage.windows);
  }
  kept_index_.assign(static_cast<size_t>(tokens), 0);
  // Groups are windows of a block or 2x2 cells of a merge: never more than the tokens.
  active_windows_.assign(static_cast<size_t>(std::max(windows, tokens)), 0);
  active_index_.assign(static_cast<size_t>(tokens), 0);
  window_change_.assign(static_cast<size_t>(std::max(windows, tokens)), 0.0f);
  compact_mask_.assign(static_cast<size_t>(tokens), 0);
  gate_order_.assign(static_cast<size_t>(std::max(tokens, depth)), 0);
  change_groups_.resize(config.stages.size());
  for (ChangeGroup& group : change_groups_) group.spans.assign(static_cast<size_t>(tokens), FlatSpan());  // blocks: a stage's tokens
  changed_rows_.assign(static_cast<size_t>(config.img_size), 0);
  const int64_t patches = config.patch_size > 0 ? config.patch_resolution() : 0;
  patch_change_.assign(static_cast<size_t>(patches * patches), 0.0f);
  pixel_row_sums_.assign(static_cast<size_t>(config.img_size), 0.0f);
}

void Scheduler::run(const Plan& plan, const Compute& compute, const GateSettings& settings, const float* input, FrameStats* stats,
                    OpProfile* profile) {
  input_ = input;
  settings_ = settings;
  stats->macs_executed = 0;
  stats->tokens_reused = 0;
  if (!sentinel_passed_) sentinel_all_changed_ = false;  // the last frame ran no streamed block (every gate off)
  sentinel_passed_ = false;
  const int32_t count = static_cast<int32_t>(plan.ops.size());
  for (int32_t i = 0; i < count;) {
    const Op& op = plan.ops[i];
    const auto start = profile ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    const int32_t next = execute(op, i, compute, stats);
    const bool control = op.code == OpCode::kBlockGate || op.code == OpCode::kJump;  // control flow, not work
    const int64_t macs = control ? 0 : op_macs_ >= 0 ? op_macs_ : op.macs(rows_run(op));
    op_macs_ = -1;
    stats->macs_executed += macs;
    if (profile && !control) {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      profile->add(op.kind, i, seconds, macs, rows_run(op));
    }
    i = next;
  }
  ++frame_;
}

int32_t Scheduler::execute(const Op& op, int32_t index, const Compute& compute, FrameStats* stats) {
  const int64_t n = rows_run(op) * op.cols;
  switch (op.code) {
    case OpCode::kConv:
      layers::conv2d(compute, *op.conv, input_of(op, input_), op.map.h, op.map.w, op.map.stride, op.map.pad, op.map.dilation,
                     op.scratch.data, op.y.data);
      break;
    case OpCode::kConvDelta: op_macs_ = run_conv_delta(op, compute); break;
    case OpCode::kConvChangedRows: op_macs_ = run_conv_changed_rows(op, compute); break;
    case OpCode::kConvTranspose:
      layers::conv_transpose2d(compute, *op.conv_transpose, op.x.data, op.map.h, op.map.w, op.map.stride, op.map.pad, op.map.output_pad,
                               op.scratch.data, op.y.data);
      break;
    case OpCode::kLinear: {
      layers::LinearFusion fusion;
      fusion.gather = op.gather_kept ? kept_index_.data() : op.gather;
      fusion.scatter = op.scatter_kept ? kept_index_.data() : op.scatter;
      fusion.gelu = op.gelu, fusion.accumulate = op.accumulate;
      fusion.gathered = op.scratch.data, fusion.unfused_out = op.scratch2.data;
      fusion.quantized = op.scratch.data;  // the int8 layers' (plan_builder.cpp: one or the other)
      if (rows_run(op) > 0) layers::linear(compute, op.x.data, rows_run(op), *op.linear, fusion, op.y.data);
      break;
    }
    case OpCode::kLowRank:
      layers::add_low_rank(compute, op.x.data, op.rows, op.cols, *op.low_rank, op.adapter_out, op.scratch.data, op.scratch2.data,
                           op.y.data);
      break;
    case OpCode::kLayerNorm: layers::layer_norm(compute, op.x.data, rows_run(op), op.cols, *op.norm, op.y.data); break;
    case OpCode::kWindowAttention: run_attention(op, compute); break;
    case OpCode::kGelu: layers::gelu(compute, op.y.data, n); break;
    case OpCode::kRelu: layers::relu(compute, op.y.data, n); break;
    case OpCode::kAdd: layers::add(compute, op.y.data, op.addend ? op.addend : op.x.data, n); break;
    case OpCode::kCopy:
      if (!skips_store(op)) layers::copy(compute, op.x.data, n, op.y.data);
      break;
    case OpCode::kZero: std::memset(op.y.data, 0, sizeof(float) * static_cast<size_t>(n)); break;
    case OpCode::kTranspose: layers::transpose(compute, op.x.data, op.rows, op.cols, op.y.data); break;
    case OpCode::kScatterAddRows: layers::scatter_add_rows(compute, op.x.data, op.scatter, op.rows, op.cols, op.y.data); break;
    case OpCode::kMergeCells: layers::merge_cells(compute, op.x.data, op.rows, op.cols, op.y.data); break;
    case OpCode::kResizeNearest:
      layers::resize_nearest(compute, op.x.data, op.map.channels, op.map.h, op.map.w, op.map.out_h, op.map.out_w, op.y.data);
      break;
    case OpCode::kResizeBilinear:
      layers::resize_bilinear(compute, op.x.data, op.map.channels, op.map.h, op.map.w, op.map.out_h, op.map.out_w, op.y.data);
      break;
    case OpCode::kBlur: layers::blur_1_6_1(compute, op.x.data, op.map.channels, op.map.h, op.map.w, op.y.data); break;
    case OpCode::kChannelMean: layers::channel_mean(compute, op.x.data, op.rows, op.cols, op.y.data); break;
    case OpCode::kBroadcast: layers::broadcast_channels(compute, op.x.data, op.rows, op.cols, op.y.data); break;
    case OpCode::kBlockPolicy:
      if (op.row_source == RowSource::kActive) {
        decide_block_gates_streamed(op, compute);
      } else {
        decide_gates(op, compute, block_gates_[op.stage].data());
      }
      break;
    case OpCode::kBlockGate: {
      const bool on = block_gates_[op.stage][op.block] != 0;
      stats->blocks[op.stage][op.block] = on;
      stats->tokens_kept[op.stage][op.block] = on ? op.rows : 0;
      kept_ = op.rows;
      if (on) break;
      std::vector<uint8_t>& mask = stats->token_masks[op.stage][op.block];
      std::fill(mask.begin(), mask.end(), 0);
      return op.jump;
    }
    case OpCode::kTokenPolicy:
      decide_tokens(op, compute, stats);
      if (stats->tokens_kept[op.stage][op.block] == 0) return op.jump;  // SPEC 2: an empty token set skips the whole block
      break;
    case OpCode::kWindowChange: {
      const int64_t changed = find_changed_windows(op, stats);
      if (changed == 0) return op.jump;
      if (changed == op.windows && op.jump_all >= 0) return op.jump_all;
      break;
    }
    case OpCode::kJump: return op.jump;
    case OpCode::kGatherRows:
      layers::gather_rows(compute, op.x.data, row_index(op, op.gather), rows_run(op), op.cols, op.y.data);
      break;
    case OpCode::kScatterRows:
      layers::scatter_rows(compute, op.x.data, row_index(op, op.scatter), rows_run(op), op.cols, op.y.data);
      break;
  }
  return index + 1;
}

void Scheduler::run_attention(const Op& op, const Compute& compute) const {
  WindowAttentionArgs args;
  args.qkv = op.x.data;
  args.rel_bias = op.rel_bias;
  args.masks = op.masks;
  args.mask_index = op.row_source == RowSource::kActive ? active_windows_.data() : nullptr;
  args.out = op.y.data;
  args.windows = rows_run(op) / op.window_tokens, args.n = op.window_tokens, args.heads = op.heads, args.head_dim = op.head_dim;
  args.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(op.head_dim)));
  if (args.windows > 0) layers::window_attention(compute, args, op.scratch.data);
}

void Scheduler::find_changed_spans(const Op& op) {
  ChangeGroup& group = change_groups_[size_t(op.change_group)];
  const float* x = op.x.data;
  const float* previous = op.scratch.data;
  const int64_t blocks = op.rows, block = op.cols;
  group.span_count = 0;
  group.whole = stream_mode() != StreamMode::kStreamed;
  int64_t changed = 0;
  for (int64_t b = 0; b < blocks && !group.whole; ++b) {
    if (std::memcmp(x + b * block, previous + b * block, sizeof(float) * static_cast<size_t>(block)) == 0) continue;
    group.whole = 3 * ++changed > blocks;
    FlatSpan* last = group.span_count > 0 ? &group.spans[size_t(group.span_count - 1)] : nullptr;
    if (last && last->begin + last->count == b * block) {
      last->count += block;
    } else {
      group.spans[size_t(group.span_count++)] = {b * block, block};
    }
  }
}

int64_t Scheduler::run_conv_delta(const Op& op, const Compute& compute) {
  if (op.tests_change) find_changed_spans(op);
  const ChangeGroup& group = change_groups_[size_t(op.change_group)];
  const float* x = op.x.data;
  float* previous = op.scratch.data;
  int64_t macs = op.macs_fixed;
  if (group.whole) {
    layers::conv2d(compute, *op.conv, x, op.map.h, op.map.w, 1, op.map.pad, 1, op.scratch2.data, op.y.data);
  } else {
    ConvDeltaArgs args;
    args.x = x, args.previous = previous, args.cin = op.map.channels, args.h = op.map.h, args.w = op.map.w;
    args.weight = op.conv->weight, args.cout = op.conv->out, args.kernel = op.conv->kernel, args.pad = op.map.pad, args.y = op.y.data;
    macs = conv2d_delta(compute.isa, args, group.spans.data(), group.span_count, compute.pool, compute.threads);
  }
  if (!op.stores_input) return macs;
  if (group.whole) {
    std::memcpy(previous, x, sizeof(float) * static_cast<size_t>(op.rows * op.cols));
  } else {
    for (int64_t s = 0; s < group.span_count; ++s) {
      const FlatSpan& span = group.spans[size_t(s)];
      std::memcpy(previous + span.begin, x + span.begin, sizeof(float) * static_cast<size_t>(span.count));
    }
  }
  return macs;
}

int64_t Scheduler::run_conv_changed_rows(const Op& op, const Compute& compute) {
  const float* x = input_of(op, input_);
  float* previous = op.scratch.data;
  const MapShape& m = op.map;
  const int64_t plane = m.h * m.w, row_bytes = static_cast<int64_t>(sizeof(float)) * m.w;
  if (stream_mode() != StreamMode::kStreamed) {
    layers::conv2d(compute, *op.conv, x, m.h, m.w, m.stride, m.pad, m.dilation, op.scratch2.data, op.y.data);
    std::memcpy(previous, x, sizeof(float) * static_cast<size_t>(m.channels * plane));
    return op.macs_fixed;
  }
  // With the camera's noise, the patch embedding's rows of patches: a row changed when one of its patches moved by
  // over kNoiseMargin noise (as stage 0's first block tests its windows), and its input rows become the stored ones.
  if (op.tests_pixels && stream_.noise > 0.0f) {
    const float limit = static_cast<float>(kNoiseMargin * stream_.noise * kNoiseMargin * stream_.noise);
    patch_changes(x, previous, m, 0, m.out_h, pixel_row_sums_.data(), patch_change_.data());
    auto changed = [&](int64_t r) {
      const float* row = patch_change_.data() + r * m.out_w;
      return std::any_of(row, row + m.out_w, [limit](float change) { return change > limit; });
    };
    const int64_t computed = convolve_row_runs(op, compute, x, changed);
    const int64_t patch_row = m.stride * m.w;  // stride = kernel, no padding: row r reads its own rows of patches
    for (int64_t r = 0; r < m.out_h; ++r) {
      if (!changed(r)) continue;
      for (int64_t c = 0; c < m.channels; ++c) {
        const int64_t first = c * plane + r * patch_row;
        std::memcpy(previous + first, x + first, sizeof(float) * static_cast<size_t>(patch_row));
      }
    }
    return op.macs_fixed / m.out_h * computed;
  }
  for (int64_t iy = 0; iy < m.h; ++iy) {
    changed_rows_[iy] = 0;
    for (int64_t c = 0; c < m.channels && !changed_rows_[iy]; ++c) {
      changed_rows_[iy] = std::memcmp(x + c * plane + iy * m.w, previous + c * plane + iy * m.w, size_t(row_bytes)) != 0;
    }
  }
  // Output row r reads input rows r stride - pad + ky dilation, ky < kernel.
  auto reads_change = [&](int64_t r) {
    for (int64_t ky = 0; ky < op.conv->kernel; ++ky) {
      const int64_t iy = r * m.stride - m.pad + ky * m.dilation;
      if (iy >= 0 && iy < m.h && changed_rows_[iy]) return true;
    }
    return false;
  };
  const int64_t computed = convolve_row_runs(op, compute, x, reads_change);
  for (int64_t iy = 0; iy < m.h; ++iy) {
    if (!changed_rows_[iy]) continue;
    for (int64_t c = 0; c < m.channels; ++c) std::memcpy(previous + c * plane + iy * m.w, x + c * plane + iy * m.w, size_t(row_bytes));
  }
  return op.macs_fixed / m.out_h * computed;
}

// The token mask of a block: on every token, or in a streamed block on the changed rows only (positions among
// them), the other tokens keeping the decisions their windows had when last computed.
void Scheduler::decide_tokens(const Op& op, const Compute& compute, FrameStats* stats) {
  std::vector<uint8_t>& mask = stats->token_masks[op.stage][op.block];
  const bool streamed = op.row_source == RowSource::kActive;
  uint8_t* decisions = streamed ? compact_mask_.data() : mask.data();
  decide_gates(op, compute, decisions);
  kept_ = 0;
  for (int64_t t = 0; t < rows_run(op); ++t) {
    if (decisions[t]) kept_index_[kept_++] = static_cast<int32_t>(t);
  }
  if (!streamed) {
    stats->tokens_kept[op.stage][op.block] = kept_;
    return;
  }
  for (int64_t i = 0; i < active_rows_; ++i) mask[active_index_[i]] = decisions[i];
  int64_t kept_tokens = 0;
  for (uint8_t m : mask) kept_tokens += m;
  stats->tokens_kept[op.stage][op.block] = kept_tokens;
}

// Each window's largest token change (each token is in one window); returns the windows over limit. Without a cap
// to order the windows by (stop_at_first), a window's test stops at its first changed token, so a frame that
// changed everywhere (a pan) tests about one token a window instead of all of them.
int64_t Scheduler::measure_window_changes(const Op& op, double limit, bool stop_at_first, bool pixels) {
  const int64_t n = op.window_tokens, cols = op.cols;
  if (pixels) {
    patch_changes(input_, op.scratch2.data, op.map, 0, op.map.h / op.map.stride, pixel_row_sums_.data(), patch_change_.data());
  }
  int64_t changed = 0;
  for (int64_t w = 0; w < op.windows; ++w) {
    float worst = 0.0f;
    for (int64_t i = 0; i < n && !(stop_at_first && worst > limit); ++i) {
      const int64_t t = op.gather[w * n + i];
      const float change = pixels ? patch_change_[size_t(t)]
                                  : relative_change(op.x.data + t * cols, op.scratch.data + t * cols, cols);
      worst = std::max(worst, change);
    }
    window_change_[w] = worst;
    changed += worst > limit;
  }
  return changed;
}

// The windows of a streamed block to recompute: those with a changed token (all on the stream's refresh frames),
// at most ceil(max_recompute * windows), the most changed first. The others' tokens take their stored outputs;
// the recomputed ones' inputs become their new references.
int64_t Scheduler::find_changed_windows(const Op& op, FrameStats* stats) {
  float* x = op.x.data;
  float* reference_input = op.scratch.data;
  const float* reference_output = op.y.data;
  const int64_t n = op.window_tokens, windows = op.windows, cols = op.cols;
  const bool sentinel = op.restore_rows && !sentinel_passed_;
  const StreamMode mode = stream_mode();
  const bool refresh = mode != StreamMode::kStreamed;
  // A block passing through keeps its older input and output pair (its store_all is skipped too).
  const bool store_input = !(mode == StreamMode::kPassThrough && op.restore_rows);
  // A merge reuses only cells whose tokens are exactly as before (they came from reused windows): its reuse adds
  // no drift of its own.
  const double threshold = op.restore_rows ? double(stream_.threshold) : 0.0;
  const bool pixels = op.tests_pixels && stream_.noise > 0.0f;
  const double pixel_limit = kNoiseMargin * double(stream_.noise);
  const double limit = pixels ? pixel_limit * pixel_limit : threshold * threshold;
  const int64_t uncapped = static_cast<int64_t>(std::ceil(double(stream_.max_recompute) * double(windows)));
  const int64_t cap = refresh ? windows : uncapped;
  int64_t changed = 0;
  if (refresh) {
    std::fill(window_change_.begin(), window_change_.begin() + windows, std::numeric_limits<float>::infinity());
    changed = windows;
  } else {
    changed = measure_window_changes(op, limit, /*stop_at_first=*/cap >= windows, pixels);
  }
  if (sentinel) pass_sentinel(op, changed == windows && uncapped >= windows);  // a cap bounds every frame's work
  int32_t* order = gate_order_.data();
  if (changed > cap) {
    std::iota(order, order + windows, 0);
    std::nth_element(order, order + cap, order + windows, [this](int32_t a, int32_t b) { return window_change_[a] > window_change_[b]; });
    std::sort(order, order + cap);
    changed = cap;
  } else {  // the changed windows first, each group in window order (std::stable_partition may allocate)
    int64_t front = 0;
    for (int64_t w = 0; w < windows; ++w) {
      if (window_change_[w] > limit) order[front++] = static_cast<int32_t>(w);
    }
    for (int64_t w = 0; w < windows; ++w) {
      if (!(window_change_[w] > limit)) order[front++] = static_cast<int32_t>(w);
    }
  }
  if (changed == windows) {  // every token is new: the whole input is the reference (one copy)
    if (store_input) std::memcpy(reference_input, x, sizeof(float) * static_cast<size_t>(op.rows * cols));
    const int64_t frame_floats = op.map.channels * op.map.h * op.map.w;
    if (store_input && pixels) std::memcpy(op.scratch2.data, input_, sizeof(float) * static_cast<size_t>(frame_floats));
    for (int64_t k = 0; k < windows; ++k) {
      active_windows_[k] = order[k];
      for (int64_t i = 0; i < n; ++i) active_index_[k * n + i] = op.gather[order[k] * n + i];
    }
  }
  for (int64_t k = changed == windows ? windows : 0; k < windows; ++k) {
    const int32_t w = order[k];
    const bool recompute = k < changed;
    const int32_t* tokens = op.gather + w * n;
    if (recompute) {
      active_windows_[k] = w;
      std::copy(tokens, tokens + n, active_index_.begin() + k * n);
      copy_token_runs(x, tokens, n, cols, reference_input);
      if (pixels) copy_patches(input_, tokens, n, op.map, op.scratch2.data);
    } else if (op.restore_rows) {
      copy_token_runs(reference_output, tokens, n, cols, x);
    }
  }
  active_rows_ = changed * n;
  active_groups_ = changed;
  if (!op.restore_rows) return changed;  // a merge: its output keeps the unchanged cells' tokens
  stats->tokens_reused += (windows - changed) * n;
  const std::vector<uint8_t>& mask = stats->token_masks[op.stage][op.block];
  if (!mask.empty()) stats->tokens_kept[op.stage][op.block] = std::count(mask.begin(), mask.end(), uint8_t{1});
  return changed;
}

void Scheduler::pass_sentinel(const Op& op, bool all_changed) {
  sentinel_passed_ = true;
  sentinel_stage_ = op.stage, sentinel_block_ = op.block;
  if (refresh_frame()) {  // tests nothing: no verdict on motion
    mode_ = StreamMode::kRecomputeAll;
    sentinel_all_changed_ = false;
    return;
  }
  mode_ = all_changed && sentinel_all_changed_ ? StreamMode::kPassThrough : StreamMode::kStreamed;
  sentinel_all_changed_ = all_changed;
}

// hidden = ReLU(mlp(x)) [tokens, h], logits = fc(hidden viewed as fc_rows rows); a gate's logit is the max over
// the policies, so "logit > T" is the OR of their decisions. With a budget f, the ceil(f n) highest are on.
void Scheduler::decide_gates(const Op& op, const Compute& compute, uint8_t* out) {
  const int64_t decisions = op.code == OpCode::kTokenPolicy ? rows_run(op) : op.decisions;
  float* hidden = op.scratch.data;
  float* logits = op.scratch2.data;
  float* best = logits + decisions;
  std::fill(best, best + decisions, -std::numeric_limits<float>::infinity());
  for (const PolicyWeights* policy : op.policies) {
    const int64_t rows = rows_run(op);  // a streamed token policy: the changed rows
    const int64_t fc_rows = op.code == OpCode::kTokenPolicy ? rows : op.policy_fc_rows;
    layers::linear(compute, op.x.data, rows, policy->mlp, hidden);
    layers::relu(compute, hidden, rows * policy->mlp.out);
    layers::linear(compute, hidden, fc_rows, policy->fc, logits);
    for (int64_t k = 0; k < decisions; ++k) best[k] = std::max(best[k], logits[k]);
  }
  decide_from_logits(best, decisions, out);
}

// A gate is on iff its logit > threshold, or with a budget f the ceil(f n) highest are on.
void Scheduler::decide_from_logits(const float* best, int64_t decisions, uint8_t* out) {
  if (settings_.budget <= 0.0f) {
    for (int64_t k = 0; k < decisions; ++k) out[k] = best[k] > settings_.threshold;
    return;
  }
  const int64_t keep = std::min(decisions, static_cast<int64_t>(std::ceil(double(settings_.budget) * double(decisions))));
  int32_t* order = gate_order_.data();
  std::iota(order, order + decisions, 0);
  std::nth_element(order, order + keep, order + decisions, [best](int32_t a, int32_t b) { return best[a] > best[b]; });
  std::fill(out, out + decisions, 0);
  for (int64_t k = 0; k < keep; ++k) out[order[k]] = 1;
}

// A streamed block policy (build_swin.cpp): the hidden map is per token and the logits linear in it, so only the
// tokens whose stage input changed (all on refresh frames) get a new hidden row, and each logit moves by its fc
// weights times that row's change. Past half the tokens changed (a pan), the whole map is recomputed instead: a
// row's update costs about two rows of the whole map (stage 0 of the bundled model under a pan, 85% of its tokens
// changed: 0.66 ms updating them, 0.46 ms for the whole map). State: the input last seen, then per policy its
// hidden map and logits.
void Scheduler::decide_block_gates_streamed(const Op& op, const Compute& compute) {
  const int64_t tokens = op.rows, dim = op.cols, decisions = op.decisions;
  const int64_t hidden = op.policies.front()->mlp.out;
  const StreamMode mode = stream_mode();
  // Under a pan (the blocks after the sentinel pass through; before it, the last frame's sentinel saw one) its state
  // serves no next frame: the whole map as a per-frame run computes it, in scratch, and the state stays the older
  // input, hidden map and logits, true together.
  const bool pan = !sentinel_passed_ && sentinel_all_changed_ && stream_.max_recompute >= 1.0f;
  if (mode == StreamMode::kPassThrough || (mode == StreamMode::kStreamed && pan)) {
    active_rows_ = tokens;
    decide_gates(op, compute, block_gates_[op.stage].data());
    return;
  }
  const bool refresh = mode != StreamMode::kStreamed;
  const float limit = stream_.threshold * stream_.threshold;
  float* reference = op.y.data;
  int64_t changed = refresh ? tokens : 0;
  for (int64_t t = 0; t < tokens && 2 * changed <= tokens; ++t) {  // past half, the whole map: the rest need no test
    if (relative_change(op.x.data + t * dim, reference + t * dim, dim) > limit) active_index_[changed++] = static_cast<int32_t>(t);
  }
  const bool whole = 2 * changed > tokens;
  active_rows_ = whole ? tokens : changed;  // the rows run, for the MACs and the profile
  float* rows = op.scratch.data;
  float* rows_hidden = rows + tokens * dim;
  if (whole) {
    std::memcpy(reference, op.x.data, sizeof(float) * static_cast<size_t>(tokens * dim));
  } else {
    for (int64_t i = 0; i < changed; ++i) {
      const float* token = op.x.data + active_index_[i] * dim;
      std::memcpy(reference + active_index_[i] * dim, token, sizeof(float) * static_cast<size_t>(dim));
      std::memcpy(rows + i * dim, token, sizeof(float) * static_cast<size_t>(dim));
    }
  }
  float* best = op.scratch2.data + decisions;
  std::fill(best, best + decisions, -std::numeric_limits<float>::infinity());
  float* state = reference + tokens * dim;
  for (const PolicyWeights* policy : op.policies) {
    float* hidden_map = state;
    float* logits = state + tokens * hidden;
    state += tokens * hidden + decisions;
    if (whole) {
      layers::linear(compute, op.x.data, tokens, policy->mlp, hidden_map);
      layers::relu(compute, hidden_map, tokens * hidden);
      layers::linear(compute, hidden_map, 1, policy->fc, logits);
    } else if (changed > 0) {
      layers::linear(compute, rows, changed, policy->mlp, rows_hidden);
      layers::relu(compute, rows_hidden, changed * hidden);
      for (int64_t i = 0; i < changed; ++i) {
        const int64_t t = active_index_[i];
        float* stored = hidden_map + t * hidden;
        const float* fresh = rows_hidden + i * hidden;
        for (int64_t j = 0; j < decisions; ++j) logits[j] += dot_difference(policy->fc.weight + j * policy->fc.in + t * hidden, fresh, stored, hidden);
        std::memcpy(stored, fresh, sizeof(float) * static_cast<size_t>(hidden));
      }
    }
    for (int64_t k = 0; k < decisions; ++k) best[k] = std::max(best[k], logits[k]);
  }
  decide_from_logits(best, decisions, block_gates_[op.stage].data());
}

}  // namespace adarun
