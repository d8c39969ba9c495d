// conv2d_delta's row update in AVX-512 vectors (kernels/conv_delta_tiles.h); this file alone is built for it.
#include <immintrin.h>

#include "kernels/conv_delta_tiles.h"

namespace adarun::conv_delta_detail {
namespace {

// out[ox] += sum over tap rows r < count and kx < k of w[r k + kx] rows[r width + ox + kx], ox in [lo, hi); the
// last partial vector masked.
struct Avx512Rows {
  // A 3x3's `Rows` tap rows (1 at a part's first and last output rows, 2 next to them, else 3), their weights
  // in registers and one partial sum per tap row (short FMA chains).
  template <int Rows>
  static void add_3x3(float* out, const float* rows, int64_t width, const float* w, int64_t lo, int64_t hi) {
    __m512 weights[3 * Rows];
    for (int t = 0; t < 3 * Rows; ++t) weights[t] = _mm512_set1_ps(w[t]);
    for (int64_t ox = lo; ox < hi; ox += 16) {
      const __mmask16 mask = hi - ox >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (hi - ox)) - 1);
      __m512 partial[Rows];
      partial[0] = _mm512_maskz_loadu_ps(mask, out + ox);
      for (int r = 1; r < Rows; ++r) partial[r] = _mm512_setzero_ps();
      for (int r = 0; r < Rows; ++r) {
        for (int kx = 0; kx < 3; ++kx) {
          partial[r] = _mm512_fmadd_ps(weights[r * 3 + kx], _mm512_maskz_loadu_ps(mask, rows + r * width + ox + kx), partial[r]);
        }
      }
      for (int r = 1; r < Rows; ++r) partial[0] = _mm512_add_ps(partial[0], partial[r]);
      _mm512_mask_storeu_ps(out + ox, mask, partial[0]);
    }
  }
};

}  // namespace

void update_channels_avx512(const ConvDeltaArgs& a, int64_t first, int64_t last, const FlatSpan* spans, int64_t span_count) {
  update_channels<Avx512Rows>(a, first, last, spans, span_count);
}

}  // namespace adarun::conv_delta_detail
