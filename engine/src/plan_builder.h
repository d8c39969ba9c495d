#pragma once
// What every builder uses to emit a plan: named buffers and one emitter per op, each computing its op's MACs
// from its shapes and asking the layers for the scratch it needs.
#include <string>
#include <vector>

#include "engine/src/plan.h"
#include "kernels/gemm.h"

namespace adarun {

// How a linear reads its rows and writes its outputs (layers::LinearFusion).
struct LinearOptions {
  const int32_t* gather = nullptr;   // static row orders (window partition / reverse)
  const int32_t* scatter = nullptr;
  bool gather_kept = false;          // through the block's kept rows instead; rows are then the kept count
  bool scatter_kept = false;
  bool active_rows = false;          // a streamed block's compact rows: rows are the changed windows' tokens
  bool active_groups = false;        // a streamed merge's compact rows: rows are the changed cells
  bool gelu = false;
  bool accumulate = false;
};

// The stage outputs the heads read: the shared one, and per model task its own where a stage forks (MTLoRA).
struct StageOutputs {
  std::vector<Operand> shared;                  // [stage]
  std::vector<std::vector<Operand>> per_task;   // [task][stage]; the shared output where the stage does not fork
};

// Marks each kConvDelta change group's first op (tests the change) and last (stores the input); after every
// op of the plan is emitted.
void mark_change_tests(Plan* plan);

class PlanBuilder {
 public:
  PlanBuilder(const Model& model, Isa isa, bool streaming, Plan* plan) : model_(model), isa_(isa), streaming_(streaming), plan_(*plan) {}
  const ModelConfig& config() const { return model_.config(); }
  const ModelWeights& weights() const { return model_.weights(); }
  Plan& plan() { return plan_; }
  // Blocks are streamed: each recomputes only the windows whose input changed (build_streamed_block.cpp).
  bool streaming() const { return streaming_; }

  Operand buffer(const std::string& name, int64_t floats);
  static Operand slice(Operand base, int64_t offset);
  Op& emit(OpCode code, OpKind kind, const std::string& name);

  // MACs: every tap of the kernel (a dilated one's too) at every output pixel.
  void conv(const std::string& name, const ConvWeights& conv, Operand x, int64_t h, int64_t w, int64_t stride, int64_t pad, Operand y,
            int64_t dilation = 1);
  // A streamed stage output's convolution (stride 1): y = conv(x) through a kConvDelta op that keeps its output
  // and input from frame to frame and updates the output over the changed floats of x, compared in blocks of
  // `block` floats (a token's). Without streaming, for int8 weights, a 1x1 or a too wide kernel, a plain conv.
  // The ops reading one x share its stored copy and change test (Op::change_group; at most `stages` inputs).
  void streamed_conv(const std::string& name, const ConvWeights& conv, Operand x, int64_t h, int64_t w, int64_t pad, int64_t block,
                     Operand y);
  // A convolution of the frame (the patch embedding): y = conv(x) through a kConvChangedRows op that keeps its output
  // and input from frame to frame and recomputes the output rows whose input rows changed; y is made persistent.
  // Without streaming or for int8 weights, a plain conv.
  void streamed_frame_conv(const std::string& name, const ConvWeights& conv, Operand x, int64_t h, int64_t w, int64_t stride, int64_t pad,
                           Operand y);
  // MACs: in * out * k^2 per input pixel (every tap, the ones cut at the border too).
  void conv_transpose(const std::string& name, const ConvTransposeWeights& conv, Operand x, int64_t h, int64_t w, int64_t stride,
                      int64_t pad, int64_t output_pad, Operand y);
  // rows: all rows, or with gather_kept / scatter_kept the most the kept rows can be.
  void linear(const std::string& name, const LinearWeights& layer, Operand x, int64_t rows, Operand y, const LinearOptions& options = {});
  void low_rank(const std::string& name, const LowRank& adapter, Operand x, int64_t rows, int64_t in, int64_t out, Operand y);
  void layer_norm(const std::string& name, const NormWeights& norm, Operand x, int64_t rows, int64_t cols, Operand y,
                  RowSource source = RowSource::kAll);
  // y += x over rows x cols floats (rows: the most there can be for RowSource::kActive).
  void add_rows(const std::string& name, Operand x, Operand y, int64_t rows, int64_t cols, RowSource source);
  // kGatherRows / kScatterRows of a streamed block or merge: through the changed windows' tokens (kActive) or
  // the changed groups' own indices (kActiveGroups: a streamed merge's output tokens).
  void move_changed_rows(OpCode code, const std::string& name, Operand x, Operand y, int64_t rows, int64_t cols, RowSource source);
  // gelu/relu/zero act on y; add is y += x; copy is y = x.
  void elementwise(OpCode code, const std::string& name, Operand x, Operand y, int64_t count);
  void transpose(const std::string& name, Operand x, int64_t rows, int64_t cols, Operand y);
  void scatter_add_rows(const std::string& name, Operand x, const int32_t* index, int64_t rows, int64_t cols, Operand y);
  // Global average pooling of a CHW map to [channels], and its broadcast back; no MACs, as resizes.
  void channel_mean(const std::string& name, Operand x, int64_t channels, int64_t pixels, Operand y);
  void broadcast(const std::string& name, Operand x, int64_t channels, int64_t pixels, Operand y);
  void resize(OpCode code, const std::string& name, Operand x, int64_t channels, int64_t h, int64_t w, int64_t out_h, int64_t out_w,
              Operand y);
  // The [1/8, 3/4, 1/8] blur of a CHW map with replicated edges, y the same size; no MACs, as resizes.
  void blur(const std::string& name, Operand x, int64_t channels, int64_t h, int64_t w, Operand y);

 private:
  // kConvDelta's shared inputs: per change group, the input read and its stored copy.
  struct ChangeGroup {
    Operand input, previous;
  };
  std::vector<ChangeGroup> change_groups_;
  const Model& model_;
  Isa isa_;
  bool streaming_;
  Plan& plan_;
};

}  // namespace adarun
