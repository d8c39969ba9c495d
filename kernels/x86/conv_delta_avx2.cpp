// conv2d_delta's row update in AVX2 vectors (kernels/conv_delta_tiles.h); this file alone is built for it.
#include <immintrin.h>

#include "kernels/conv_delta_tiles.h"

namespace adarun::conv_delta_detail {
namespace {

// As Avx512Rows (kernels/x86/conv_delta_avx512.cpp) in eight lanes; the last partial vector through maskload and
// maskstore, whose masked-off lanes neither fault nor write.
struct Avx2Rows {
  static __m256i tail_mask(int64_t left) {
    alignas(32) static const int32_t kLanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kLanes + 8 - (left < 8 ? left : 8)));
  }

  template <int Rows>
  static void add_3x3(float* out, const float* rows, int64_t width, const float* w, int64_t lo, int64_t hi) {
    __m256 weights[3 * Rows];
    for (int t = 0; t < 3 * Rows; ++t) weights[t] = _mm256_set1_ps(w[t]);
    for (int64_t ox = lo; ox < hi; ox += 8) {
      const __m256i mask = tail_mask(hi - ox);
      __m256 partial[Rows];
      partial[0] = _mm256_maskload_ps(out + ox, mask);
      for (int r = 1; r < Rows; ++r) partial[r] = _mm256_setzero_ps();
      for (int r = 0; r < Rows; ++r) {
        for (int kx = 0; kx < 3; ++kx) {
          partial[r] = _mm256_fmadd_ps(weights[r * 3 + kx], _mm256_maskload_ps(rows + r * width + ox + kx, mask), partial[r]);
        }
      }
      for (int r = 1; r < Rows; ++r) partial[0] = _mm256_add_ps(partial[0], partial[r]);
      _mm256_maskstore_ps(out + ox, mask, partial[0]);
    }
  }
};

}  // namespace

void update_channels_avx2(const ConvDeltaArgs& a, int64_t first, int64_t last, const FlatSpan* spans, int64_t span_count) {
  update_channels<Avx2Rows>(a, first, last, spans, span_count);
}

}  // namespace adarun::conv_delta_detail
