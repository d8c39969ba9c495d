#include "kernels/ref/conv_delta.h"

namespace adarun::ref {

int64_t conv2d_delta(const ConvDeltaArgs& a, const FlatSpan* spans, int64_t span_count) {
  const int64_t plane = a.h * a.w, oh = a.out_h(), ow = a.out_w(), k = a.kernel;
  int64_t macs = 0;
  for (int64_t s = 0; s < span_count; ++s) {
    for (int64_t f = spans[s].begin; f < spans[s].begin + spans[s].count; ++f) {
      const int64_t c = f / plane, iy = f % plane / a.w, ix = f % a.w;
      const float change = a.x[f] - a.previous[f];
      for (int64_t o = 0; o < a.cout; ++o) {
        for (int64_t ky = 0; ky < k; ++ky) {
          for (int64_t kx = 0; kx < k; ++kx) {
            const int64_t oy = iy + a.pad - ky, ox = ix + a.pad - kx;
            if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
            a.y[(o * oh + oy) * ow + ox] += a.weight[((o * a.cin + c) * k + ky) * k + kx] * change;
            ++macs;
          }
        }
      }
    }
  }
  return macs;
}

}  // namespace adarun::ref
