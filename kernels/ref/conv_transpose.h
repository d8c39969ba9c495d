#pragma once
#include <cstdint>

namespace adarun::ref {

// Output size of a transposed convolution along one axis (PyTorch's ConvTranspose2d, dilation 1).
inline int64_t conv_transpose_out_size(int64_t size, int64_t k, int64_t stride, int64_t pad, int64_t output_pad) {
  return (size - 1) * stride - 2 * pad + k + output_pad;
}

// x: CHW [cin, h, w]; weight [cin, cout, k, k] (PyTorch's ConvTranspose2d layout); bias [cout] or nullptr.
// y: [cout, oh, ow] (conv_transpose_out_size of each axis), direct loops:
//   y[o, iy stride + ky - pad, ix stride + kx - pad] += weight[i, o, ky, kx] x[i, iy, ix]
// over every input pixel and tap whose output lies inside y, on top of the bias.
void conv_transpose2d(const float* x, int64_t cin, int64_t h, int64_t w, const float* weight, const float* bias, int64_t cout,
                      int64_t k, int64_t stride, int64_t pad, int64_t output_pad, float* y);

}  // namespace adarun::ref
