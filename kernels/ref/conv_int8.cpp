#include "kernels/ref/conv_int8.h"

#include <cstddef>
#include <vector>

#include "kernels/ref/conv.h"
#include "kernels/ref/gemm_int8.h"

namespace adarun::ref {

void conv2d_int8(const float* x, int64_t cin, int64_t h, int64_t w, const int8_t* weight, const float* scales, const float* bias,
                 int64_t cout, int64_t k, int64_t stride, int64_t pad, int64_t dilation, float* y) {
  const int64_t oh = conv_out_size(h, k, stride, pad, dilation), ow = conv_out_size(w, k, stride, pad, dilation);
  const int64_t taps = cin * k * k;
  std::vector<float> field(static_cast<std::size_t>(taps));
  std::vector<int8_t> q(static_cast<std::size_t>(taps));
  for (int64_t oy = 0; oy < oh; ++oy) {
    for (int64_t ox = 0; ox < ow; ++ox) {
      for (int64_t c = 0; c < cin; ++c) {
        for (int64_t ky = 0; ky < k; ++ky) {
          for (int64_t kx = 0; kx < k; ++kx) {
            const int64_t iy = oy * stride + ky * dilation - pad, ix = ox * stride + kx * dilation - pad;
            field[std::size_t((c * k + ky) * k + kx)] = iy >= 0 && iy < h && ix >= 0 && ix < w ? x[(c * h + iy) * w + ix] : 0.0f;
          }
        }
      }
      const float row_scale = quantize_row(field.data(), taps, q.data());
      for (int64_t o = 0; o < cout; ++o) {
        int32_t sum = 0;
        for (int64_t t = 0; t < taps; ++t) sum += int32_t{q[std::size_t(t)]} * int32_t{weight[o * taps + t]};
        const float value = static_cast<float>(sum) * (row_scale * scales[o]);
        y[(o * oh + oy) * ow + ox] = bias ? value + bias[o] : value;
      }
    }
  }
}

}  // namespace adarun::ref
