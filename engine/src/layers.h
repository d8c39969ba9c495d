#pragma once
// Model layers over the kernels: weights structs in, plain buffers out.
#include <algorithm>
#include <cstdint>

#include "engine/src/config.h"
#include "engine/src/model.h"
#include "kernels/attention.h"
#include "kernels/parallel.h"

namespace adarun::layers {

// Where and how a frame computes: the model's packed ISA and the session's thread pool.
struct Compute {
  Isa isa = Isa::kReference;
  pthreadpool_t pool = nullptr;
  int threads = 1;
};

// Attention scratch is sized for this many concurrent chunks; more threads share them.
constexpr int kMaxAttentionChunks = 64;
// Convolutions unfold one panel per chunk into their scratch, sized for this many chunks.
constexpr int kMaxConvChunks = 16;

// Splits [0, count) into one contiguous chunk per thread and runs fn(begin, end) on each.
template <typename Fn>
void parallel_chunks(const Compute& compute, int64_t count, const Fn& fn) {
  parallel_ranges(compute.pool, compute.threads, count, fn);
}

// GELU on n floats, across the threads.
void gelu(const Compute& compute, float* x, int64_t n);

// y = x W^T + b: the packed GEMM when the layer was packed, the reference otherwise. Not for int8 layers, which need
// a quantization buffer: the fused form below.
void linear(const Compute& compute, const float* x, int64_t rows, const LinearWeights& layer, float* y);

// What a linear layer does around its product, fused into the packed GEMM (its A read and its epilogue):
//   y[scatter[i]] (+)= act(x[gather[i]] W^T + b)   for i < rows; act is GELU or nothing (GELU excludes accumulate).
// The reference path runs the same steps apart, through `gathered` ([rows, in]) and `unfused_out` ([rows, out]).
// An int8 layer's GEMM quantizes the rows into `quantized` (kernels/gemm_int8.h).
struct LinearFusion {
  const int32_t* gather = nullptr;
  const int32_t* scatter = nullptr;
  bool gelu = false;
  bool accumulate = false;
  float* gathered = nullptr;
  float* unfused_out = nullptr;
  void* quantized = nullptr;
};
void linear(const Compute& compute, const float* x, int64_t rows, const LinearWeights& layer, const LinearFusion& fusion, float* y);
// The buffers (in floats) a fused linear of up to `rows` rows needs: none where the packed fp32 GEMM fuses the
// steps, the quantized rows for an int8 layer's, the unfused steps' on the reference path.
struct LinearScratch {
  int64_t gathered = 0, unfused_out = 0, quantized = 0;
};
LinearScratch linear_scratch_floats(const LinearWeights& layer, int64_t rows, bool gathers, bool scatters_or_accumulates);
void layer_norm(const Compute& compute, const float* x, int64_t rows, int64_t dim, const NormWeights& norm, float* y);
// y[rows, out] += (x down^T) up^T; no-op for rank 0. Runs kLowRankRows rows at a time through
// rank_scratch (low_rank_scratch_floats(rows, rank)) and out_scratch (low_rank_scratch_floats(rows, out)).
constexpr int64_t kLowRankRows = 256;
inline int64_t low_rank_scratch_floats(int64_t rows, int64_t width) { return std::min(rows, kLowRankRows) * width; }
void add_low_rank(const Compute& compute, const float* x, int64_t rows, int64_t in, const LowRank& adapter, int64_t out,
                  float* rank_scratch, float* out_scratch, float* y);
// CHW convolution with zero padding, taps `dilation` pixels apart: the unfolding GEMM across the threads, or
// ref::conv2d on the reference path. scratch: conv2d_scratch_floats of it.
int64_t conv2d_scratch_floats(Isa isa, const ConvWeights& conv, int64_t h, int64_t w, int64_t stride, int64_t pad, int64_t dilation);
// With rows [row_begin, row_end) (row_end >= 0) only those output rows are computed (fp32 weights; ConvArgs).
void conv2d(const Compute& compute, const ConvWeights& conv, const float* x, int64_t h, int64_t w, int64_t stride, int64_t pad,
            int64_t dilation, float* scratch, float* y, int64_t row_begin = 0, int64_t row_end = -1);
// CHW transposed convolution (weights [in, out, k, k]): the blocks GEMM across the threads, or
// ref::conv_transpose2d on the reference path. scratch: conv_transpose2d_scratch_floats of it (0 on the reference path).
int64_t conv_transpose2d_scratch_floats(Isa isa, const ConvTransposeWeights& conv, int64_t h, int64_t w, int64_t stride, int64_t pad,
                                        int64_t output_pad);
void conv_transpose2d(const Compute& compute, const ConvTransposeWeights& conv, const float* x, int64_t h, int64_t w, int64_t stride,
                      int64_t pad, int64_t output_pad, float* scratch, float* y);
// Global average pooling of a CHW map (y[c] = mean of x[c, :]) and its broadcast back (y[c, :] = x[c]).
void channel_mean(const Compute& compute, const float* x, int64_t channels, int64_t pixels, float* y);
void broadcast_channels(const Compute& compute, const float* x, int64_t channels, int64_t pixels, float* y);
// CHW resizes of `channels` planes, across the threads: the torch-exact reference on the reference path, the fast
// kernels otherwise.
void resize_nearest(const Compute& compute, const float* x, int64_t channels, int64_t h, int64_t w, int64_t oh, int64_t ow, float* y);
void resize_bilinear(const Compute& compute, const float* x, int64_t channels, int64_t h, int64_t w, int64_t oh, int64_t ow, float* y);
// The [1/8, 3/4, 1/8] blur with replicated edges of `channels` h x w planes (kernels/blur.h), across the threads:
// what bilinear x2 upsamplings and the bilinear resize back compute (the updecoder head's x2, x2, 4 S -> S).
void blur_1_6_1(const Compute& compute, const float* x, int64_t channels, int64_t h, int64_t w, float* y);
// Window attention (kernels/attention.h) over a stage's windows; scratch: window_attention_scratch_floats.
int64_t window_attention_scratch_floats(int64_t window_tokens, int64_t head_dim);
void window_attention(const Compute& compute, const WindowAttentionArgs& args, float* scratch);

// Token moves (kernels/ref/rows.h): dst[i] = src[index[i]], dst[index[i]] = src[i], dst[index[i]] += src[i].
void gather_rows(const Compute& compute, const float* src, const int32_t* index, int64_t count, int64_t cols, float* dst);
void scatter_rows(const Compute& compute, const float* src, const int32_t* index, int64_t count, int64_t cols, float* dst);
void scatter_add_rows(const Compute& compute, const float* src, const int32_t* index, int64_t count, int64_t cols, float* dst);
// y += x and x = max(x, 0) over n floats.
void add(const Compute& compute, float* y, const float* x, int64_t n);
void relu(const Compute& compute, float* x, int64_t n);
// dst[cols, rows] = src[rows, cols]^T, and a plain copy of n floats.
void transpose(const Compute& compute, const float* src, int64_t rows, int64_t cols, float* dst);
void copy(const Compute& compute, const float* src, int64_t n, float* dst);

// SPEC 1 patch merging's gather: the [x0, x1, x2, x3] of every 2x2 cell of a [resolution^2, dim] map into
// cells [resolution^2 / 4, 4 dim].
void merge_cells(const Compute& compute, const float* x, int64_t resolution, int64_t dim, float* cells);

}  // namespace adarun::layers
