#pragma once
#include <cstdint>

namespace adarun::ref {

// Output size of a convolution along one axis: (size + 2 pad - dilation (k - 1) - 1) / stride + 1.
inline int64_t conv_out_size(int64_t size, int64_t k, int64_t stride, int64_t pad, int64_t dilation = 1) {
  return (size + 2 * pad - dilation * (k - 1) - 1) / stride + 1;
}

// Floats of scratch conv2d needs (its im2col buffer); 0 for a 1x1, stride 1, unpadded convolution.
int64_t conv2d_scratch_floats(int64_t cin, int64_t h, int64_t w, int64_t k, int64_t stride, int64_t pad, int64_t dilation);

// x: CHW [cin, h, w]; weight [cout, cin, k, k]; bias [cout] or nullptr; zero padding; tap (ky, kx) reads the
// input `dilation` pixels apart: x[c, oy stride + ky dilation - pad, ox stride + kx dilation - pad].
// y: [cout, oh, ow], conv_out_size of each axis.
void conv2d(const float* x, int64_t cin, int64_t h, int64_t w, const float* weight, const float* bias, int64_t cout, int64_t k,
            int64_t stride, int64_t pad, int64_t dilation, float* scratch, float* y);

}  // namespace adarun::ref
