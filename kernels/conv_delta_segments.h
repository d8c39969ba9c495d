#pragma once
// The row walk of conv2d_delta (kernels/conv_delta.h), shared by its ISA files: each includes this under its own
// compile flags with the row update for its vectors (a `Rows` type with a static add()).
#include <algorithm>
#include <cstdint>

#include "kernels/conv_delta.h"

namespace adarun::conv_delta_detail {

// A span's floats within one row of one channel, at most kMaxSegment of them.
struct Segment {
  int64_t channel, row, x0, count;
};

constexpr int64_t kMaxSegment = 256;
constexpr int64_t kMaxKernel = 16;  // conv2d_delta_kernel_fits  // the engine streams 1x1 and 3x3 convolutions; kernel_fits() guards the rest

// Calls fn(segment) for every segment of the spans, in order. Inlined whole into each ISA's target function, so
// that the pixel loops inside fn are compiled for that ISA.
template <typename Fn>
inline void for_each_segment(const ConvDeltaArgs& a, const FlatSpan* spans, int64_t span_count, const Fn& fn) {
  const int64_t plane = a.h * a.w;
  for (int64_t s = 0; s < span_count; ++s) {
    int64_t channel = spans[s].begin / plane, row = spans[s].begin % plane / a.w, x0 = spans[s].begin % a.w;
    for (int64_t left = spans[s].count; left > 0;) {
      const int64_t count = std::min({left, a.w - x0, kMaxSegment});
      fn(Segment{channel, row, x0, count});
      left -= count, x0 += count;
      if (x0 == a.w) x0 = 0, row += 1;
      if (row == a.h) row = 0, channel += 1;
    }
  }
}

// Output channels [first, last) updated from one segment. The segment's changes sit in `padded` between k - 1
// zeros each side, so every output pixel it reaches reads its k taps with no bounds to check.
template <typename Rows, int K>  // K: the kernel size when known at compile time, else 0
inline void add_segment(const ConvDeltaArgs& a, int64_t first, int64_t last, const Segment& s,
                                                       float* padded) {
  const int64_t k = K > 0 ? K : a.kernel, oh = a.out_h(), ow = a.out_w();
  const int64_t at = (s.channel * a.h + s.row) * a.w + s.x0;
  for (int64_t i = 0; i < k - 1; ++i) padded[i] = padded[k - 1 + s.count + i] = 0.0f;
  for (int64_t i = 0; i < s.count; ++i) padded[k - 1 + i] = a.x[at + i] - a.previous[at + i];
  // Output pixel ox reads the change at ox + kx - pad, which is padded[ox + kx + shift].
  const int64_t shift = k - 1 - a.pad - s.x0;
  const int64_t lo = std::max<int64_t>(0, s.x0 + a.pad - (k - 1)), hi = std::min(ow, s.x0 + s.count + a.pad);
  for (int64_t ky = 0; ky < k; ++ky) {
    const int64_t oy = s.row + a.pad - ky;
    if (oy < 0 || oy >= oh) continue;
    for (int64_t o = first; o < last; ++o) {
      Rows::add(a.y + (o * oh + oy) * ow, padded + shift, a.weight + ((o * a.cin + s.channel) * k + ky) * k, static_cast<int>(k), lo, hi);
    }
  }
}

template <typename Rows, int K>
inline void update_channels_body(const ConvDeltaArgs& a, int64_t first, int64_t last, const FlatSpan* spans,
                                                                int64_t span_count) {
  float padded[kMaxSegment + 2 * (kMaxKernel - 1)];
  for_each_segment(a, spans, span_count,
                   [&](const Segment& s) __attribute__((always_inline)) { add_segment<Rows, K>(a, first, last, s, padded); });
}

template <typename Rows>
inline void update_channels(const ConvDeltaArgs& a, int64_t first, int64_t last, const FlatSpan* spans,
                                                           int64_t n) {
  if (a.kernel == 3) return update_channels_body<Rows, 3>(a, first, last, spans, n);
  if (a.kernel == 1) return update_channels_body<Rows, 1>(a, first, last, spans, n);
  update_channels_body<Rows, 0>(a, first, last, spans, n);
}

using UpdateChannels = void (*)(const ConvDeltaArgs&, int64_t first, int64_t last, const FlatSpan*, int64_t span_count);
void update_channels_avx512(const ConvDeltaArgs& a, int64_t first, int64_t last, const FlatSpan* spans, int64_t span_count);
void update_channels_avx2(const ConvDeltaArgs& a, int64_t first, int64_t last, const FlatSpan* spans, int64_t span_count);

}  // namespace adarun::conv_delta_detail
