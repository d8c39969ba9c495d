#include "kernels/ref/conv_transpose.h"

#include <algorithm>

namespace adarun::ref {

void conv_transpose2d(const float* x, int64_t cin, int64_t h, int64_t w, const float* weight, const float* bias, int64_t cout,
                      int64_t k, int64_t stride, int64_t pad, int64_t output_pad, float* y) {
  const int64_t oh = conv_transpose_out_size(h, k, stride, pad, output_pad), ow = conv_transpose_out_size(w, k, stride, pad, output_pad);
  for (int64_t o = 0; o < cout; ++o) {
    float* plane = y + o * oh * ow;
    std::fill(plane, plane + oh * ow, bias ? bias[o] : 0.0f);
    for (int64_t i = 0; i < cin; ++i) {
      const float* input = x + i * h * w;
      for (int64_t ky = 0; ky < k; ++ky) {
        for (int64_t kx = 0; kx < k; ++kx) {
          const float tap = weight[((i * cout + o) * k + ky) * k + kx];
          for (int64_t iy = 0; iy < h; ++iy) {
            const int64_t oy = iy * stride + ky - pad;
            if (oy < 0 || oy >= oh) continue;
            for (int64_t ix = 0; ix < w; ++ix) {
              const int64_t ox = ix * stride + kx - pad;
              if (ox >= 0 && ox < ow) plane[oy * ow + ox] += tap * input[iy * w + ix];
            }
          }
        }
      }
    }
  }
}

}  // namespace adarun::ref
