// conv2d_delta's row update in AVX2 vectors (kernels/conv_delta_segments.h); this file alone is built for it.
#include <immintrin.h>

#include "kernels/conv_delta_segments.h"

namespace adarun::conv_delta_detail {
namespace {

struct Avx2Rows {
  static void add(float* out, const float* taps, const float* w, int taps_count,
                                                                            int64_t lo, int64_t hi) {
    alignas(32) static const int32_t kLanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t ox = lo; ox < hi; ox += 8) {
      const __m256i mask = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kLanes + 8 - std::min<int64_t>(8, hi - ox)));
      __m256 sum = _mm256_maskload_ps(out + ox, mask);
      for (int t = 0; t < taps_count; ++t) sum = _mm256_fmadd_ps(_mm256_set1_ps(w[t]), _mm256_maskload_ps(taps + ox + t, mask), sum);
      _mm256_maskstore_ps(out + ox, mask, sum);
    }
  }
};

}  // namespace

void update_channels_avx2(const ConvDeltaArgs& a, int64_t first, int64_t last, const FlatSpan* spans, int64_t span_count) {
  update_channels<Avx2Rows>(a, first, last, spans, span_count);
}

}  // namespace adarun::conv_delta_detail
