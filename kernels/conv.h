#pragma once
// 2-D convolution on the packed GEMM (CHW in, CHW out). The input is never unfolded whole: each task unfolds one
// panel of output pixels into its own scratch right before the GEMM reads it, so the copy stays in cache and is
// spread over the threads. The reference twin is ref::conv2d (tests/kernels/fast_conv_test.cpp).
#include <pthreadpool.h>

#include <cstdint>

#include "kernels/gemm.h"

namespace adarun {

struct ConvArgs {
  const float* x = nullptr;  // [cin, h, w]
  int64_t cin = 0, h = 0, w = 0;
  const float* weight = nullptr;  // [cout, cin, kernel, kernel]
  const float* bias = nullptr;    // [cout] or nullptr
  int64_t cout = 0, kernel = 1, stride = 1, pad = 0;
  int64_t dilation = 1;  // tap (ky, kx) reads x[c, oy stride + ky dilation - pad, ox stride + kx dilation - pad]
  float* y = nullptr;    // [cout, out_h, out_w]
  // The output rows to compute, [row_begin, row_end) (row_end < 0: through the last); the packed paths leave the
  // others of y as they were, the reference path computes them too.
  int64_t row_begin = 0, row_end = -1;

  int64_t out_h() const { return (h + 2 * pad - dilation * (kernel - 1) - 1) / stride + 1; }
  int64_t out_w() const { return (w + 2 * pad - dilation * (kernel - 1) - 1) / stride + 1; }
  int64_t last_row() const { return row_end < 0 ? out_h() : row_end; }
};

// Scratch floats conv2d needs with `chunks` chunks (one unfolded panel each, plus a zero-bordered copy of the input
// for stride 1). The scratch must be 64-byte aligned.
int64_t conv_scratch_floats(Isa isa, const ConvArgs& shape, int64_t chunks);

// Output pixels split into `chunks` ranges of panels run on `pool`; Isa::kReference runs the twin, ref::conv2d,
// on the calling thread (its scratch: conv_scratch_floats of kReference).
void conv2d(Isa isa, const ConvArgs& args, float* scratch, int64_t chunks, pthreadpool_t pool);

// The general (any stride) unfolding: output pixels [first, first + count) of the unfolded input as one packed GEMM panel: row `tap` (channel, ky, kx)
// holds, at lane j, the input under pixel first + j for that tap, zero outside the image and past `count`.
void unfold_panel(Isa isa, const ConvArgs& args, int64_t first, int64_t count, float* panel);

}  // namespace adarun
