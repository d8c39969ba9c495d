#include "kernels/conv_delta.h"

#include <algorithm>

#include "kernels/conv_delta_segments.h"
#include "kernels/parallel.h"
#include "kernels/ref/conv_delta.h"

namespace adarun {
namespace {

using namespace conv_delta_detail;

// Row updates out[ox] += sum over taps t of w[t] taps[ox + t], ox in [lo, hi), one struct per ISA: plain loops
// the compiler vectorises (NEON, the aarch64 baseline), and x86 vectors whose last partial vector is masked, so
// that short rows (a 56-pixel map row is 3.5 AVX-512 vectors) run no scalar tail.
struct PlainRows {
  static void add(float* __restrict out, const float* __restrict taps, const float* w, int taps_count, int64_t lo, int64_t hi) {
    if (taps_count == 3) {
      const float w0 = w[0], w1 = w[1], w2 = w[2];
      for (int64_t ox = lo; ox < hi; ++ox) out[ox] += w0 * taps[ox] + w1 * taps[ox + 1] + w2 * taps[ox + 2];
      return;
    }
    for (int t = 0; t < taps_count; ++t) {
      const float wt = w[t];
      for (int64_t ox = lo; ox < hi; ++ox) out[ox] += wt * taps[ox + t];
    }
  }
};

void update_channels_generic(const ConvDeltaArgs& a, int64_t first, int64_t last, const FlatSpan* spans, int64_t n) {
  update_channels<PlainRows>(a, first, last, spans, n);
}

UpdateChannels update_channels_for(Isa isa) {
#ifdef ADARUN_X86_KERNELS
  if (isa == Isa::kAvx512) return update_channels_avx512;
  if (isa == Isa::kAvx2) return update_channels_avx2;
#endif
  (void)isa;
  return update_channels_generic;  // NEON: Advanced SIMD is the aarch64 baseline
}

// Per segment and reached output row: the taps times the output pixels each reaches, for every output channel.
int64_t count_macs(const ConvDeltaArgs& a, const FlatSpan* spans, int64_t span_count) {
  int64_t macs = 0;
  const int64_t oh = a.out_h(), ow = a.out_w();
  for_each_segment(a, spans, span_count, [&](const Segment& s) {
    int64_t per_row = 0;
    for (int64_t kx = 0; kx < a.kernel; ++kx) {
      const int64_t first = std::max<int64_t>(0, s.x0 + a.pad - kx), last = std::min(ow, s.x0 + s.count + a.pad - kx);
      per_row += std::max<int64_t>(0, last - first);
    }
    for (int64_t ky = 0; ky < a.kernel; ++ky) {
      const int64_t oy = s.row + a.pad - ky;
      if (oy >= 0 && oy < oh) macs += per_row;
    }
  });
  return macs * a.cout;
}

}  // namespace

bool conv2d_delta_kernel_fits(int64_t kernel) { return kernel >= 1 && kernel <= kMaxKernel; }

int64_t conv2d_delta(Isa isa, const ConvDeltaArgs& args, const FlatSpan* spans, int64_t span_count, pthreadpool_t pool, int threads) {
  if (isa == Isa::kReference) return ref::conv2d_delta(args, spans, span_count);
  // Each thread takes a range of output channels and walks every segment once (its changes computed once).
  const UpdateChannels update = update_channels_for(isa);
  parallel_ranges(pool, threads, args.cout, [&](int64_t first, int64_t last) { update(args, first, last, spans, span_count); });
  return count_macs(args, spans, span_count);
}

}  // namespace adarun
