#pragma once
#include <cstdint>

namespace adarun::ref {

// Floats of scratch conv2d needs (its im2col buffer); 0 for a 1x1, stride 1, unpadded convolution.
int64_t conv2d_scratch_floats(int64_t cin, int64_t h, int64_t w, int64_t k, int64_t stride, int64_t pad);

// x: CHW [cin, h, w]; weight [cout, cin, k, k]; bias [cout] or nullptr; zero padding.
// y: [cout, oh, ow] with oh = (h + 2 pad - k) / stride + 1, likewise ow.
void conv2d(const float* x, int64_t cin, int64_t h, int64_t w, const float* weight, const float* bias, int64_t cout, int64_t k,
            int64_t stride, int64_t pad, float* scratch, float* y);

}  // namespace adarun::ref
