#pragma once
// A stride-1 convolution kept up to date as its input changes in a few places (README "Streaming"). Convolution
// is linear, so when x becomes x' on some spans of its flat [cin, h, w] floats, conv(x') = conv(x) + conv(x' - x)
// with no bias, and the update reads only those spans: a changed float of channel c at (iy, ix) moves the
// outputs (o, iy + pad - ky, ix + pad - kx) by weight[o, c, ky, kx] times its change. The reference twin is
// ref::conv2d_delta (tests/kernels/conv_delta_test.cpp).
#include <pthreadpool.h>

#include <cstdint>

#include "kernels/gemm.h"

namespace adarun {

// Floats [begin, begin + count) of a flat CHW map.
struct FlatSpan {
  int64_t begin = 0, count = 0;
};

struct ConvDeltaArgs {
  const float* x = nullptr;         // the new input [cin, h, w]
  const float* previous = nullptr;  // the input y holds the convolution of; equal to x outside the spans
  int64_t cin = 0, h = 0, w = 0;
  const float* weight = nullptr;  // [cout, cin, kernel, kernel]
  int64_t cout = 0, kernel = 1, pad = 0;
  float* y = nullptr;  // [cout, out_h, out_w]: conv(previous) on entry, conv(x) on return

  int64_t out_h() const { return h + 2 * pad - kernel + 1; }
  int64_t out_w() const { return w + 2 * pad - kernel + 1; }
};

// Whether conv2d_delta takes this shape: padding at most kernel - 1, a kernel up to 16 and rows up to 8 000
// floats wide (a part of a span is laid into a tile on the stack).
bool conv2d_delta_fits(int64_t kernel, int64_t pad, int64_t w);

// Adds conv(x - previous) over `spans` (disjoint, each inside the map) to y, output channels split into at most
// `threads` ranges on `pool`. Returns the multiply-adds counted as a changed float's products that land in the
// output (every output channel, every tap that reaches an output pixel). Isa::kReference runs the twin on the
// calling thread.
int64_t conv2d_delta(Isa isa, const ConvDeltaArgs& args, const FlatSpan* spans, int64_t span_count, pthreadpool_t pool,
                     int threads);

}  // namespace adarun
