#include "kernels/ref/blur.h"

#include <algorithm>

namespace adarun::ref {

void blur_1_6_1(const float* x, int64_t channels, int64_t h, int64_t w, float* y) {
  constexpr double kTap[3] = {0.125, 0.75, 0.125};
  for (int64_t c = 0; c < channels; ++c) {
    const float* plane = x + c * h * w;
    for (int64_t i = 0; i < h; ++i) {
      for (int64_t j = 0; j < w; ++j) {
        double sum = 0.0;
        for (int a = -1; a <= 1; ++a) {
          const float* row = plane + std::clamp<int64_t>(i + a, 0, h - 1) * w;
          for (int b = -1; b <= 1; ++b) sum += kTap[a + 1] * kTap[b + 1] * double{row[std::clamp<int64_t>(j + b, 0, w - 1)]};
        }
        y[(c * h + i) * w + j] = static_cast<float>(sum);
      }
    }
  }
}

}  // namespace adarun::ref
