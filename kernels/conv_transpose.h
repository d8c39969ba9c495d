#pragma once
// 2-D transposed convolution (CHW in, CHW out) on the packed GEMM: every input pixel times the weight gives its
// k x k block of every output channel, T[(o, ky, kx), pixel] = sum_i W[i, o, ky, kx] x[i, pixel] (a 1x1 convolution
// with cout k^2 outputs, kernels/conv.h), then each output plane gathers its blocks on top of the bias (stride k,
// padding 0: the blocks tile the plane; otherwise they overlap and add up, or reach past the border and are cut).
// The reference twin is ref::conv_transpose2d (tests/kernels/conv_transpose_test.cpp).
#include <pthreadpool.h>

#include <cstdint>

#include "kernels/gemm.h"

namespace adarun {

struct ConvTransposeArgs {
  const float* x = nullptr;  // [cin, h, w]
  int64_t cin = 0, h = 0, w = 0;
  const float* weight = nullptr;  // [cin, cout, kernel, kernel]: PyTorch's ConvTranspose2d layout
  const float* bias = nullptr;    // [cout] or nullptr
  int64_t cout = 0, kernel = 2, stride = 2, pad = 0, output_pad = 0;
  float* y = nullptr;  // [cout, out_h, out_w]

  int64_t out_h() const { return (h - 1) * stride - 2 * pad + kernel + output_pad; }
  int64_t out_w() const { return (w - 1) * stride - 2 * pad + kernel + output_pad; }
};

// Scratch floats conv_transpose2d needs with `chunks` chunks: the weight as [cout k^2, cin], the blocks
// [cout k^2, h w] and the 1x1 convolution's own scratch. 64-byte aligned.
int64_t conv_transpose_scratch_floats(Isa isa, const ConvTransposeArgs& shape, int64_t chunks);

// The GEMM over `chunks` chunks of pixels, then the output planes split over the pool; Isa::kReference runs the
// twin, ref::conv_transpose2d, on the calling thread (no scratch).
void conv_transpose2d(Isa isa, const ConvTransposeArgs& args, float* scratch, int64_t chunks, pthreadpool_t pool);

}  // namespace adarun
