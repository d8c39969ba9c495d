#include "kernels/conv_delta.h"

#include <algorithm>

#include "kernels/conv_delta_tiles.h"
#include "kernels/parallel.h"
#include "kernels/ref/conv_delta.h"

namespace adarun {
namespace {

using namespace conv_delta_detail;

// NEON (the aarch64 baseline) and the generic path: plain loops the compiler vectorises.
struct PlainRows {
  template <int Rows>
  static void add_3x3(float* out, const float* rows, int64_t width, const float* w, int64_t lo, int64_t hi) {
    add_rows_plain(out, rows, width, w, Rows, 3, lo, hi);
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
  return update_channels_generic;
}

// Per row piece of a span: the taps times the output pixels each reaches, for every output channel (the
// products of a changed float that land in the output; the tiles' zeros are not counted).
int64_t count_macs(const ConvDeltaArgs& a, const FlatSpan* spans, int64_t span_count) {
  int64_t macs = 0;
  const int64_t oh = a.out_h(), ow = a.out_w(), plane = a.h * a.w;
  for (int64_t s = 0; s < span_count; ++s) {
    for (int64_t f = spans[s].begin, end = spans[s].begin + spans[s].count; f < end;) {
      const int64_t row = f % plane / a.w, x0 = f % a.w, count = std::min(end - f, a.w - x0);
      int64_t per_row = 0;
      for (int64_t kx = 0; kx < a.kernel; ++kx) {
        per_row += std::max<int64_t>(0, std::min(ow, x0 + count + a.pad - kx) - std::max<int64_t>(0, x0 + a.pad - kx));
      }
      for (int64_t ky = 0; ky < a.kernel; ++ky) macs += row + a.pad - ky >= 0 && row + a.pad - ky < oh ? per_row : 0;
      f += count;
    }
  }
  return macs * a.cout;
}

}  // namespace

bool conv2d_delta_fits(int64_t kernel, int64_t pad, int64_t w) {
  return kernel >= 1 && kernel <= kMaxKernel && pad >= 0 && pad <= kernel - 1 && w + 2 * (kernel - 1) <= kTileFloats;
}

int64_t conv2d_delta(Isa isa, const ConvDeltaArgs& args, const FlatSpan* spans, int64_t span_count, pthreadpool_t pool, int threads) {
  if (isa == Isa::kReference) return ref::conv2d_delta(args, spans, span_count);
  // Each thread takes a range of output channels and walks every part once.
  const UpdateChannels update = update_channels_for(isa);
  parallel_ranges(pool, threads, args.cout, [&](int64_t first, int64_t last) { update(args, first, last, spans, span_count); });
  return count_macs(args, spans, span_count);
}

}  // namespace adarun
