#pragma once
// The reference twin of the int8 convolution (kernels/conv_int8.h), in plain scalar code.
#include <cstdint>

namespace adarun::ref {

// As ref::conv2d (kernels/ref/conv.h), with int8 weights w [cout, cin, k, k] and per-output-channel scales [cout]:
// each output pixel's receptive field (cin k k values, zero outside the image) is quantized by quantize_row, and
// y = float(sum q w) * (row scale * scale[o]) + bias[o].
void conv2d_int8(const float* x, int64_t cin, int64_t h, int64_t w, const int8_t* weight, const float* scales, const float* bias,
                 int64_t cout, int64_t k, int64_t stride, int64_t pad, int64_t dilation, float* y);

}  // namespace adarun::ref
