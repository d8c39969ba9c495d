#pragma once
// Compiles a model and a task set into a plan: one builder per model part (build_swin.cpp for the
// backbone, build_forked_block.cpp for MTLoRA's forked blocks) and one per head kind (build_*_head.cpp).
#include <string>
#include <vector>

#include "engine/src/layers.h"
#include "engine/src/plan.h"
#include "engine/src/plan_builder.h"

namespace adarun {

// The plan of `model` for the given task indices (none empty, each valid), its buffers laid out
// (memory_plan.h) but not yet bound to an arena. `streaming`: blocks recompute only the windows that
// changed since the previous frames (build_streamed_block.cpp).
Plan build_plan(const Model& model, const std::vector<int>& tasks, bool streaming = false);

// Builders: each appends its ops to the plan under construction.
void emit_backbone(PlanBuilder& b, StageOutputs* outputs);
void emit_forked_block(PlanBuilder& b, int stage_index, int block_index, Operand x, StageOutputs* outputs);
// A block that reuses its stored outputs for the windows whose input did not change; returns after its token
// policy's jump target is set (the op that writes the block's rows back).
void emit_streamed_block(PlanBuilder& b, int stage_index, int block_index, Operand x);
// A block's ops with every token (its token policy first when the model has token policies), jumping to `skip` when
// the policy keeps none; the ops a streamed block runs when all its windows changed.
void emit_whole_block(PlanBuilder& b, int stage_index, int block_index, Operand x, std::vector<size_t>* skips);
void emit_fuse_head(PlanBuilder& b, int task, const StageOutputs& stages, Operand output);
// MTLoRA: one per head kind (HeadConfig::kind), each writing the task's [outputs, S, S] logits.
void emit_hrnet_head(PlanBuilder& b, int task, const StageOutputs& stages, Operand output);
void emit_aspp_head(PlanBuilder& b, int task, const StageOutputs& stages, Operand output);
void emit_segformer_head(PlanBuilder& b, int task, const StageOutputs& stages, Operand output);
void emit_updecoder_head(PlanBuilder& b, int task, const StageOutputs& stages, Operand output);

// Parts the builders share.
void emit_attention_and_proj(PlanBuilder& b, int stage_index, int block_index, Operand x, Operand projected);
void emit_stage_output(PlanBuilder& b, int stage_index, Operand stream, const std::string& suffix, Operand out);
void emit_conv_head(PlanBuilder& b, const std::string& name, const ConvWeights& conv1, const ConvWeights& conv2, Operand x, int64_t r0,
                    Operand output);
// MTLoRA (build_hrnet_head.cpp): the task's stage map as CHW [c_i, r_i, r_i] (through its downsampler when it has
// one), and the four upsampled to stage 0's size and concatenated in stage order [C, r0, r0].
Operand emit_task_map(PlanBuilder& b, int task, int stage_index, const StageOutputs& stages);
Operand emit_task_concat(PlanBuilder& b, int task, const StageOutputs& stages);
const int32_t* stage_window_order(const Plan& plan, const StageGeometry& stage, int stage_index, int block_index);
std::string block_name(int stage, int block);
void emit_policy(PlanBuilder& b, OpCode code, const std::string& name, const std::vector<PolicyWeights>& policies, int stage_index,
                 Operand x, int64_t fc_rows, int64_t decisions);
// Window attention of a block over its qkv rows (window order) into `out`; active: over the changed windows only.
void emit_window_attention(PlanBuilder& b, int stage_index, int block_index, Operand qkv, Operand out, bool active);

}  // namespace adarun
