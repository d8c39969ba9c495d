#include "engine/src/layers.h"

#include <cstring>

#include "kernels/activations.h"
#include "kernels/blur.h"
#include "kernels/conv.h"
#include "kernels/conv_int8.h"
#include "kernels/conv_transpose.h"
#include "kernels/ref/gemm.h"
#include "kernels/ref/conv_int8.h"
#include "kernels/ref/gemm_int8.h"
#include "kernels/ref/rows.h"
#include "kernels/resize.h"
#include "kernels/rows.h"

namespace adarun::layers {
namespace {

constexpr float kLayerNormEps = 1e-5f;

// Writes [x0, x1, x2, x3] of every 2x2 cell: (even, even), (odd, even), (even, odd), (odd, odd).
// Rows [r_begin, r_end) of the merged grid.
void gather_merge_cells(const float* x, int64_t resolution, int64_t dim, int64_t r_begin, int64_t r_end, float* cells) {
  const int64_t half = resolution / 2;
  const int64_t offsets[4][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}};
  for (int64_t r = r_begin; r < r_end; ++r) {
    for (int64_t c = 0; c < half; ++c) {
      float* cell = cells + (r * half + c) * 4 * dim;
      for (int part = 0; part < 4; ++part) {
        const int64_t token = (2 * r + offsets[part][0]) * resolution + 2 * c + offsets[part][1];
        std::memcpy(cell + part * dim, x + token * dim, sizeof(float) * dim);
      }
    }
  }
}

// The packed GEMM of a layer, with the epilogue `args` asks for.
void packed_linear(const Compute& compute, const float* x, int64_t rows, const LinearWeights& layer, GemmArgs args, float* y) {
  args.a = x;
  args.lda = layer.in;
  args.packed = layer.packed;
  args.bias = layer.bias;
  args.c = y;
  args.ldc = layer.out;
  args.m = rows, args.n = layer.out, args.k = layer.in;
  gemm(compute.isa, args, compute.pool);
}

// The packed GEMM where the model packed the layer (Model::pack_weights: every ISA but the reference), the twin otherwise.
bool runs_packed(const LinearWeights& layer) { return layer.packed != nullptr; }

// The int8 GEMM of a layer the model packed for it, with the epilogue the fusion asks for.
void int8_linear(const Compute& compute, const float* x, int64_t rows, const LinearWeights& layer, const LinearFusion& f, float* y) {
  Int8GemmArgs args;
  args.a = x, args.lda = layer.in, args.a_rows = f.gather;
  args.packed = layer.packed_int8, args.bias = layer.bias;
  args.c = y, args.ldc = layer.out, args.c_rows = f.scatter;
  args.m = rows, args.n = layer.out, args.k = layer.in;
  args.accumulate = f.accumulate, args.gelu = f.gelu;
  args.quantized = f.quantized;
  gemm_int8(layer.int8_kernel, args, compute.pool);
}

}  // namespace

void linear(const Compute& compute, const float* x, int64_t rows, const LinearWeights& layer, float* y) {
  if (runs_packed(layer)) return packed_linear(compute, x, rows, layer, GemmArgs(), y);
  if (layer.weight_int8) return ref::linear_int8(x, rows, layer.in, layer.weight_int8, layer.weight_scale, layer.bias, layer.out, y);
  ref::linear(x, rows, layer.in, layer.weight, layer.bias, layer.out, y);
}

LinearScratch linear_scratch_floats(const LinearWeights& layer, int64_t rows, bool gathers, bool scatters_or_accumulates) {
  if (runs_packed(layer)) return {};
  if (layer.packed_int8) {
    const int64_t bytes = quantized_rows_bytes(layer.int8_kernel, rows, layer.in);
    return {0, 0, (bytes + int64_t(sizeof(float)) - 1) / int64_t(sizeof(float))};
  }
  return {gathers ? rows * layer.in : 0, scatters_or_accumulates ? rows * layer.out : 0, 0};
}

void linear(const Compute& compute, const float* x, int64_t rows, const LinearWeights& layer, const LinearFusion& f, float* y) {
  if (layer.packed_int8) return int8_linear(compute, x, rows, layer, f, y);
  if (runs_packed(layer)) {
    GemmArgs epilogue;
    epilogue.a_rows = f.gather, epilogue.c_rows = f.scatter;
    epilogue.gelu = f.gelu, epilogue.accumulate = f.accumulate;
    return packed_linear(compute, x, rows, layer, epilogue, y);
  }
  // The reference path runs the steps one by one, through the caller's buffers.
  if (f.gather) {
    gather_rows(compute, x, f.gather, rows, layer.in, f.gathered);
    x = f.gathered;
  }
  const bool direct = !f.scatter && !f.accumulate;
  float* out = direct ? y : f.unfused_out;
  linear(compute, x, rows, layer, out);
  if (f.gelu) gelu(compute, out, rows * layer.out);
  if (direct) return;
  if (!f.scatter) return add(compute, y, out, rows * layer.out);
  if (f.accumulate) return scatter_add_rows(compute, out, f.scatter, rows, layer.out, y);
  scatter_rows(compute, out, f.scatter, rows, layer.out, y);
}

void layer_norm(const Compute& compute, const float* x, int64_t rows, int64_t dim, const NormWeights& norm, float* y) {
  parallel_chunks(compute, rows, [&](int64_t begin, int64_t end) {
    adarun::layer_norm(compute.isa, x + begin * dim, end - begin, dim, norm.gamma, norm.beta, kLayerNormEps, y + begin * dim);
  });
}

void gelu(const Compute& compute, float* x, int64_t n) {
  parallel_chunks(compute, n, [&](int64_t begin, int64_t end) { adarun::gelu(compute.isa, x + begin, end - begin); });
}

int64_t conv2d_scratch_floats(Isa isa, const ConvWeights& conv, int64_t h, int64_t w, int64_t stride, int64_t pad, int64_t dilation) {
  ConvArgs shape;
  shape.cin = conv.in, shape.h = h, shape.w = w, shape.kernel = conv.kernel, shape.stride = stride, shape.pad = pad;
  shape.dilation = dilation, shape.cout = conv.out;
  if (conv.packed_int8) {
    return (conv_int8_scratch_bytes(conv.int8_kernel, shape, kMaxConvChunks) + int64_t(sizeof(float)) - 1) / int64_t(sizeof(float));
  }
  if (conv.weight_int8) return 0;  // the twin, ref::conv2d_int8, needs none
  return adarun::conv_scratch_floats(isa, shape, kMaxConvChunks);
}

void conv2d(const Compute& compute, const ConvWeights& conv, const float* x, int64_t h, int64_t w, int64_t stride, int64_t pad,
            int64_t dilation, float* scratch, float* y, int64_t row_begin, int64_t row_end) {
  if (conv.weight_int8) {  // an int8 convolution on the reference path
    return ref::conv2d_int8(x, conv.in, h, w, conv.weight_int8, conv.weight_scale, conv.bias, conv.out, conv.kernel, stride, pad,
                            dilation, y);
  }
  ConvArgs args;
  args.x = x, args.cin = conv.in, args.h = h, args.w = w;
  args.weight = conv.weight, args.bias = conv.bias;
  args.cout = conv.out, args.kernel = conv.kernel, args.stride = stride, args.pad = pad, args.dilation = dilation;
  args.y = y, args.row_begin = row_begin, args.row_end = row_end;
  const int64_t chunks = std::min(compute.threads, kMaxConvChunks);
  if (conv.packed_int8) return conv2d_int8(conv.int8_kernel, args, conv.packed_int8, scratch, chunks, compute.pool);
  adarun::conv2d(compute.isa, args, scratch, chunks, compute.pool);
}

namespace {

ConvTransposeArgs conv_transpose_args(const ConvTransposeWeights& conv, int64_t h, int64_t w, int64_t stride, int64_t pad,
                                      int64_t output_pad) {
  ConvTransposeArgs args;
  args.cin = conv.in, args.h = h, args.w = w;
  args.weight = conv.weight, args.bias = conv.bias;
  args.cout = conv.out, args.kernel = conv.kernel, args.stride = stride, args.pad = pad, args.output_pad = output_pad;
  return args;
}

}  // namespace

int64_t conv_transpose2d_scratch_floats(Isa isa, const ConvTransposeWeights& conv, int64_t h, int64_t w, int64_t stride, int64_t pad,
                                        int64_t output_pad) {
  return adarun::conv_transpose_scratch_floats(isa, conv_transpose_args(conv, h, w, stride, pad, output_pad), kMaxConvChunks);
}

void conv_transpose2d(const Compute& compute, const ConvTransposeWeights& conv, const float* x, int64_t h, int64_t w, int64_t stride,
                      int64_t pad, int64_t output_pad, float* scratch, float* y) {
  ConvTransposeArgs args = conv_transpose_args(conv, h, w, stride, pad, output_pad);
  args.x = x, args.y = y;
  adarun::conv_transpose2d(compute.isa, args, scratch, std::min(compute.threads, kMaxConvChunks), compute.pool);
}

void channel_mean(const Compute& compute, const float* x, int64_t channels, int64_t pixels, float* y) {
  adarun::channel_mean(compute.isa, x, channels, pixels, y, compute.threads, compute.pool);
}

void broadcast_channels(const Compute& compute, const float* x, int64_t channels, int64_t pixels, float* y) {
  adarun::broadcast_channels(compute.isa, x, channels, pixels, y, compute.threads, compute.pool);
}

void resize_nearest(const Compute& compute, const float* x, int64_t channels, int64_t h, int64_t w, int64_t oh, int64_t ow, float* y) {
  adarun::resize_nearest(compute.isa, x, channels, h, w, oh, ow, y, compute.threads, compute.pool);
}

void resize_bilinear(const Compute& compute, const float* x, int64_t channels, int64_t h, int64_t w, int64_t oh, int64_t ow, float* y) {
  adarun::resize_bilinear(compute.isa, x, channels, h, w, oh, ow, y, compute.threads, compute.pool);
}

void blur_1_6_1(const Compute& compute, const float* x, int64_t channels, int64_t h, int64_t w, float* y) {
  adarun::blur_1_6_1(compute.isa, x, channels, h, w, y, compute.threads, compute.pool);
}

void add_low_rank(const Compute& /*compute: the adapters are thin, on the calling thread*/, const float* x, int64_t rows, int64_t in, const LowRank& adapter, int64_t out,
                  float* rank_scratch, float* out_scratch, float* y) {
  if (adapter.rank == 0) return;
  // A block of rows at a time: the [rows, out] product stays in cache and never needs a frame-sized buffer.
  for (int64_t begin = 0; begin < rows; begin += kLowRankRows) {
    const int64_t count = std::min(kLowRankRows, rows - begin);
    ref::linear(x + begin * in, count, in, adapter.down, nullptr, adapter.rank, rank_scratch);
    ref::linear(rank_scratch, count, adapter.rank, adapter.up, nullptr, out, out_scratch);
    ref::add_inplace(y + begin * out, out_scratch, count * out);
  }
}

int64_t window_attention_scratch_floats(int64_t window_tokens, int64_t head_dim) {
  return kMaxAttentionChunks * adarun::window_attention_scratch_floats(window_tokens, head_dim);
}

void window_attention(const Compute& compute, const WindowAttentionArgs& args, float* scratch) {
  adarun::window_attention(compute.isa, args, scratch, std::min(compute.threads, kMaxAttentionChunks), compute.pool);
}

void gather_rows(const Compute& compute, const float* src, const int32_t* index, int64_t count, int64_t cols, float* dst) {
  adarun::gather_rows(compute.isa, src, index, count, cols, dst, compute.threads, compute.pool);
}

void scatter_rows(const Compute& compute, const float* src, const int32_t* index, int64_t count, int64_t cols, float* dst) {
  adarun::scatter_rows(compute.isa, src, index, count, cols, dst, compute.threads, compute.pool);
}

void scatter_add_rows(const Compute& compute, const float* src, const int32_t* index, int64_t count, int64_t cols, float* dst) {
  adarun::scatter_add_rows(compute.isa, src, index, count, cols, dst, compute.threads, compute.pool);
}

void add(const Compute& compute, float* y, const float* x, int64_t n) {
  adarun::add_inplace(compute.isa, y, x, n, compute.threads, compute.pool);
}

void relu(const Compute& compute, float* x, int64_t n) {
  adarun::relu(compute.isa, x, n, compute.threads, compute.pool);
}

void transpose(const Compute& compute, const float* src, int64_t rows, int64_t cols, float* dst) {
  adarun::transpose(compute.isa, src, rows, cols, dst, compute.threads, compute.pool);
}

void copy(const Compute& /*compute*/, const float* src, int64_t n, float* dst) {
  std::memcpy(dst, src, sizeof(float) * static_cast<size_t>(n));
}

void merge_cells(const Compute& compute, const float* x, int64_t resolution, int64_t dim, float* cells) {
  parallel_chunks(compute, resolution / 2, [&](int64_t begin, int64_t end) { gather_merge_cells(x, resolution, dim, begin, end, cells); });
}

}  // namespace adarun::layers
