// conv2d_delta's row update in AVX-512 vectors (kernels/conv_delta_segments.h); this file alone is built for it.
#include <immintrin.h>

#include "kernels/conv_delta_segments.h"

namespace adarun::conv_delta_detail {
namespace {

struct Avx512Rows {
  static void add(float* out, const float* taps, const float* w, int taps_count,
                                                                           int64_t lo, int64_t hi) {
    for (int64_t ox = lo; ox < hi; ox += 16) {
      const __mmask16 mask = hi - ox >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (hi - ox)) - 1);
      __m512 sum = _mm512_maskz_loadu_ps(mask, out + ox);
      for (int t = 0; t < taps_count; ++t) sum = _mm512_fmadd_ps(_mm512_set1_ps(w[t]), _mm512_maskz_loadu_ps(mask, taps + ox + t), sum);
      _mm512_mask_storeu_ps(out + ox, mask, sum);
    }
  }
};

}  // namespace

void update_channels_avx512(const ConvDeltaArgs& a, int64_t first, int64_t last, const FlatSpan* spans, int64_t span_count) {
  update_channels<Avx512Rows>(a, first, last, spans, span_count);
}

}  // namespace adarun::conv_delta_detail
