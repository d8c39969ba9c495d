#pragma once
// The walk of conv2d_delta (kernels/conv_delta.h), shared by its ISA files: each includes this under its own
// compile flags with the row update for its vectors (a `Rows` type with a static add_3x3<tap rows>(); see
// add_rows). Everything but the ISA entry points is in an unnamed namespace: each file's copy is compiled for its
// ISA and stays its own (one shared inline copy built with AVX-512 could be the one a CPU without it runs).
//
// Each span is cut into parts, each within one channel and at most a tile of input rows. A part's changes are
// laid into a zeroed tile, its rows padded by k - 1 zeros each side, and every output row the part reaches
// takes all its taps from the tile in one pass: one load and one store of the output per k x k multiply-adds
// (a pass per tap row would load and store it k times).
#include <algorithm>
#include <cstdint>

#include "kernels/conv_delta.h"

namespace adarun::conv_delta_detail {

using UpdateChannels = void (*)(const ConvDeltaArgs&, int64_t first, int64_t last, const FlatSpan*, int64_t span_count);
void update_channels_avx512(const ConvDeltaArgs& a, int64_t first, int64_t last, const FlatSpan* spans, int64_t span_count);
void update_channels_avx2(const ConvDeltaArgs& a, int64_t first, int64_t last, const FlatSpan* spans, int64_t span_count);

namespace {

constexpr int64_t kMaxKernel = 16;      // conv2d_delta_fits; the engine streams 3x3 convolutions
constexpr int64_t kTileFloats = 8192;   // a part's tile, on the stack of the thread that walks it

// Floats [begin, end) of one channel's plane (offsets within the plane), input rows row0..row1 inclusive.
struct Part {
  int64_t channel, begin, end, row0, row1;
};

// One padded tile row's width, and how many input rows a tile holds.
inline int64_t tile_width(const ConvDeltaArgs& a) { return a.w + 2 * (a.kernel - 1); }
inline int64_t tile_rows(const ConvDeltaArgs& a) { return std::max<int64_t>(1, kTileFloats / tile_width(a)); }

// Calls fn(part) for every part of the spans, in order.
template <typename Fn>
inline void for_each_part(const ConvDeltaArgs& a, const FlatSpan* spans, int64_t span_count, const Fn& fn) {
  const int64_t plane = a.h * a.w, rows = tile_rows(a);
  for (int64_t s = 0; s < span_count; ++s) {
    const int64_t end = spans[s].begin + spans[s].count;
    for (int64_t f = spans[s].begin; f < end;) {
      const int64_t channel = f / plane, begin = f % plane, row0 = begin / a.w;
      const int64_t stop = std::min({end - channel * plane, plane, (row0 + rows) * a.w});
      fn(Part{channel, begin, stop, row0, (stop - 1) / a.w});
      f = channel * plane + stop;
    }
  }
}

// The part's changes in a zeroed tile: input (row, x) at tile[(row - row0) * width + k - 1 + x].
inline void fill_tile(const ConvDeltaArgs& a, const Part& p, float* tile) {
  const int64_t width = tile_width(a), k = a.kernel;
  std::fill(tile, tile + (p.row1 - p.row0 + 1) * width, 0.0f);
  const float* x = a.x + p.channel * a.h * a.w;
  const float* previous = a.previous + p.channel * a.h * a.w;
  for (int64_t row = p.row0; row <= p.row1; ++row) {
    const int64_t from = std::max(p.begin, row * a.w), to = std::min(p.end, (row + 1) * a.w);
    float* line = tile + (row - p.row0) * width + k - 1;  // line[x] is the change at column x of this row
    for (int64_t i = from; i < to; ++i) line[i - row * a.w] = x[i] - previous[i];
  }
}

// out[ox] += sum over tap rows r < count and kx < k of w[r k + kx] rows[r width + ox + kx], ox in [lo, hi), in
// plain loops the compiler vectorises: NEON's update (the aarch64 baseline), and any kernel but a 3x3 on x86.
inline void add_rows_plain(float* __restrict out, const float* __restrict rows, int64_t width, const float* w, int64_t count, int64_t k,
                           int64_t lo, int64_t hi) {
  for (int64_t r = 0; r < count; ++r) {
    for (int64_t kx = 0; kx < k; ++kx) {
      const float wt = w[r * k + kx];
      const float* taps = rows + r * width + kx;
      for (int64_t ox = lo; ox < hi; ++ox) out[ox] += wt * taps[ox];
    }
  }
}

// One output row: a 3x3 through the ISA's add_3x3<tap rows> (1 at a part's first and last output rows, 2 next to
// them, else 3), any other kernel in plain loops.
template <typename Rows>
inline void add_rows(float* out, const float* rows, int64_t width, const float* w, int64_t count, int64_t k, int64_t lo, int64_t hi) {
  if (k != 3) return add_rows_plain(out, rows, width, w, count, k, lo, hi);
  if (count == 3) return Rows::template add_3x3<3>(out, rows, width, w, lo, hi);
  if (count == 2) return Rows::template add_3x3<2>(out, rows, width, w, lo, hi);
  Rows::template add_3x3<1>(out, rows, width, w, lo, hi);
}

// Output channels [first, last) updated from one part. Output (oy, ox) takes tap (ky, kx) from input row
// oy + ky - pad, column ox + kx - pad: tile row oy + ky - pad - row0, float ox + kx + k - 1 - pad.
template <typename Rows>
inline void add_part(const ConvDeltaArgs& a, int64_t first, int64_t last, const Part& p, const float* tile) {
  const int64_t k = a.kernel, oh = a.out_h(), ow = a.out_w(), width = tile_width(a);
  const int64_t x_first = p.begin % a.w, x_last = (p.end - 1) % a.w;  // columns of the part's first and last rows
  for (int64_t oy = std::max<int64_t>(0, p.row0 + a.pad - (k - 1)); oy <= std::min(oh - 1, p.row1 + a.pad); ++oy) {
    const int64_t ky0 = std::max<int64_t>(0, p.row0 - oy + a.pad), ky1 = std::min(k - 1, p.row1 - oy + a.pad);
    // The columns the reached input rows (first..last) hold changes in: only the part's first row starts late and
    // only its last ends early. Then the output columns their taps reach.
    const int64_t first_row = oy + ky0 - a.pad, last_row = oy + ky1 - a.pad;
    const int64_t in0 = last_row == p.row0 ? x_first : 0, in1 = first_row == p.row1 ? x_last : a.w - 1;
    const int64_t lo = std::max<int64_t>(0, in0 + a.pad - (k - 1)), hi = std::min(ow, in1 + a.pad + 1);
    if (lo >= hi) continue;
    const float* rows = tile + (oy + ky0 - a.pad - p.row0) * width + k - 1 - a.pad;
    for (int64_t o = first; o < last; ++o) {
      const float* w = a.weight + ((o * a.cin + p.channel) * k + ky0) * k;
      add_rows<Rows>(a.y + (o * oh + oy) * ow, rows, width, w, ky1 - ky0 + 1, k, lo, hi);
    }
  }
}

template <typename Rows>
inline void update_channels(const ConvDeltaArgs& a, int64_t first, int64_t last, const FlatSpan* spans, int64_t span_count) {
  float tile[kTileFloats];
  for_each_part(a, spans, span_count, [&](const Part& p) {
    fill_tile(a, p, tile);
    add_part<Rows>(a, first, last, p, tile);
  });
}

}  // namespace
}  // namespace adarun::conv_delta_detail
