#include "kernels/conv.h"

#include <algorithm>
#include <cstring>

#include "kernels/gemm_tiles.h"
#include "kernels/parallel.h"
#include "kernels/ref/conv.h"

namespace adarun {
namespace {

constexpr int64_t kAlignFloats = 16;  // 64 bytes, for the GEMM's aligned panel loads

int64_t aligned_floats(int64_t floats) { return (floats + kAlignFloats - 1) / kAlignFloats * kAlignFloats; }

// A stretch of a panel's lanes whose output pixels share one output row.
struct Run {
  int64_t lane, out_y, out_x, count;
};

// Splits pixels [first, first + count) into runs along output rows; returns how many (at most count + 1).
int split_runs(int64_t first, int64_t count, int64_t out_w, Run* runs) {
  int n = 0;
  for (int64_t lane = 0; lane < count;) {
    const int64_t pixel = first + lane, out_x = pixel % out_w;
    const int64_t take = std::min(count - lane, out_w - out_x);
    runs[n++] = {lane, pixel / out_w, out_x, take};
    lane += take;
  }
  return n;
}

// One tap's lanes for one run: input row `line` (nullptr: outside the image) read from column x0 by `stride`.
void fill_run(const float* line, int64_t x0, int64_t stride, int64_t count, int64_t w, float* lanes) {
  for (int64_t j = 0; j < count; ++j) {
    const int64_t ix = x0 + j * stride;
    lanes[j] = line && ix >= 0 && ix < w ? line[ix] : 0.0f;
  }
}

// Stride 1 reads the input through a copy with a zero border of `pad` and a panel and a kernel row of slack, so
// that a tap's run is one fixed-size copy with no bounds to check and a grid panel's last reads stay inside.
int64_t bordered_plane_floats(const ConvArgs& a) { return (a.h + 2 * a.pad) * (a.w + 2 * a.pad); }
int64_t bordered_input_floats(const ConvArgs& a) {
  return aligned_floats(a.cin * bordered_plane_floats(a) + kMaxPanelWidth + a.dilation * (a.kernel - 1));
}

void copy_bordered_channel(void* context, size_t channel) {
  const auto& [a, bordered] = *static_cast<const std::pair<const ConvArgs*, float*>*>(context);
  const int64_t bw = a->w + 2 * a->pad;
  float* plane = bordered + static_cast<int64_t>(channel) * bordered_plane_floats(*a);
  std::fill(plane, plane + bordered_plane_floats(*a), 0.0f);
  for (int64_t y = 0; y < a->h; ++y) {
    std::memcpy(plane + (y + a->pad) * bw + a->pad, a->x + (static_cast<int64_t>(channel) * a->h + y) * a->w, sizeof(float) * a->w);
  }
}

// The stride-1 unfolding from the bordered copy. Each run copies a whole panel row of Width floats: what spills past
// it lands on lanes that a later run or tap overwrites, or that the GEMM never stores (past `count`), or on the
// chunk's slack. Instantiated per ISA under its target, where the fixed-size copies become one or two vector moves.
template <int Width>
__attribute__((always_inline)) inline void unfold_bordered_body(const ConvArgs& a, const float* bordered, const Run* runs,
                                                                int run_count, float* panel) {
  const int64_t k = a.kernel, d = a.dilation, bw = a.w + 2 * a.pad;
  float* lanes = panel;  // tap (channel, ky, kx) in that order, one panel row each
  for (int64_t channel = 0; channel < a.cin; ++channel) {
    for (int64_t ky = 0; ky < k; ++ky) {
      for (int64_t kx = 0; kx < k; ++kx, lanes += Width) {
        const float* source = bordered + channel * bordered_plane_floats(a) + ky * d * bw + kx * d;
        for (int r = 0; r < run_count; ++r) {
          std::memcpy(lanes + runs[r].lane, source + runs[r].out_y * bw + runs[r].out_x, sizeof(float) * Width);
        }
      }
    }
  }
}

#ifdef ADARUN_X86_KERNELS
__attribute__((target("avx512f"))) void unfold_bordered_avx512(const ConvArgs& a, const float* bordered, const Run* runs,
                                                               int run_count, float* panel) {
  unfold_bordered_body<avx512::kPanel>(a, bordered, runs, run_count, panel);
}

__attribute__((target("avx2"))) void unfold_bordered_avx2(const ConvArgs& a, const float* bordered, const Run* runs,
                                                          int run_count, float* panel) {
  unfold_bordered_body<avx2::kPanel>(a, bordered, runs, run_count, panel);
}
#endif

void unfold_bordered(Isa isa, const ConvArgs& a, const float* bordered, int64_t first, int64_t count, float* panel) {
  Run runs[kMaxPanelWidth + 1];
  const int run_count = split_runs(first, count, a.out_w(), runs);
#ifdef ADARUN_X86_KERNELS
  if (isa == Isa::kAvx512) return unfold_bordered_avx512(a, bordered, runs, run_count, panel);
  if (isa == Isa::kAvx2) return unfold_bordered_avx2(a, bordered, runs, run_count, panel);
#endif
#ifdef ADARUN_ARM_KERNELS
  if (isa == Isa::kNeon) return unfold_bordered_body<neon::kPanel>(a, bordered, runs, run_count, panel);
#endif
  (void)isa;
}

int64_t chunk_floats(Isa isa, const ConvArgs& a) {
  return aligned_floats(packed_weight_floats(isa, 1, a.cin * a.kernel * a.kernel) + kMaxPanelWidth);
}

// Stride-1 convolutions whose output rows fill most of a panel read B in place from the bordered copy: k step
// (channel, ky, kx) of output pixel (oy, ox) is bordered[channel][oy + ky d][ox + kx d] (d the dilation), so for a panel along one
// output row each step's row is the bordered copy at a fixed offset (GemmArgs::b_offsets), and nothing is
// unfolded. Reads past a row's real pixels land in the border, the next row or the slack.
int64_t panels_per_row(Isa isa, const ConvArgs& a) {
  const int64_t width = gemm_panel_width(isa);
  return (a.out_w() + width - 1) / width;
}

bool reads_in_place(Isa isa, const ConvArgs& a) {
  const int64_t lanes = panels_per_row(isa, a) * gemm_panel_width(isa);
  return a.stride == 1 && 4 * a.out_w() >= 3 * lanes;  // at least 3/4 of the lanes are real pixels
}

// Narrower maps read B in place over the bordered grid: lane q is output pixel (q / bw, q % bw), bw the bordered
// width, so a panel spans several output rows and each k step's row is still the bordered copy at a fixed offset.
// The last d (k - 1) columns of each grid row are not output pixels (their taps straddle the border): the GEMM
// writes the grid into scratch and only the pixels are copied into y. Where they are at least 3/4 of the grid
// (every 1x1, a padded 3x3 from 7 pixels wide) this beats unfolding, which copies every tap of every pixel.
int64_t grid_width(const ConvArgs& a) { return a.w + 2 * a.pad; }
int64_t grid_pixels(const ConvArgs& a) { return a.out_h() * grid_width(a); }
bool reads_grid(Isa isa, const ConvArgs& a) { return a.stride == 1 && !reads_in_place(isa, a) && 4 * a.out_w() >= 3 * grid_width(a); }
int64_t grid_output_floats(const ConvArgs& a) { return aligned_floats(a.cout * grid_pixels(a)); }

int64_t offsets_floats(const ConvArgs& a) { return aligned_floats(a.cin * a.kernel * a.kernel); }  // int32 each

void fill_offsets(const ConvArgs& a, int32_t* offsets) {
  const int64_t bw = a.w + 2 * a.pad;
  for (int64_t channel = 0; channel < a.cin; ++channel) {
    for (int64_t ky = 0; ky < a.kernel; ++ky) {
      for (int64_t kx = 0; kx < a.kernel; ++kx) {
        *offsets++ = static_cast<int32_t>(channel * bordered_plane_floats(a) + (ky * bw + kx) * a.dilation);
      }
    }
  }
}

struct ConvTask {
  const ConvArgs* args;
  Isa isa;
  const float* bordered;   // stride 1 only
  const int32_t* offsets;  // reading in place only
  float* grid;             // reading the grid only: its output, [cout, grid_pixels]
  float* chunks_scratch;
  int64_t panels, chunks;
  int64_t first_lane, last_lane;  // the lanes (output pixels, or grid lanes) of the rows computed
};

// Every output channel times one panel of output pixels: C[cout, panel] = W B + bias, C at `c` with rows `ldc` apart.
void multiply_panel(const ConvTask& t, const float* b, const int32_t* offsets, float* c, int64_t ldc, int64_t count) {
  const ConvArgs& a = *t.args;
  GemmArgs g;
  g.a = a.weight;
  g.lda = a.cin * a.kernel * a.kernel;
  g.packed = b;
  g.b_offsets = offsets;
  g.row_bias = a.bias;
  g.c = c;
  g.ldc = ldc;
  g.m = a.cout, g.n = count, g.k = g.lda;
  gemm(t.isa, g, nullptr);
}

// Chunk c's panels, one at a time: unfold it (or find it in place), then multiply every output channel by it.
void run_chunk(void* context, size_t chunk) {
  const ConvTask& t = *static_cast<const ConvTask*>(context);
  const ConvArgs& a = *t.args;
  const int64_t width = gemm_panel_width(t.isa), ow = a.out_w(), pixels = a.out_h() * ow;
  const int64_t per_row = panels_per_row(t.isa, a);
  const int64_t c = static_cast<int64_t>(chunk);
  float* panel = t.chunks_scratch + c * chunk_floats(t.isa, a);
  for (int64_t p = c * t.panels / t.chunks; p < (c + 1) * t.panels / t.chunks; ++p) {
    if (t.grid) {  // panel p: grid lanes from first_lane + p * width
      const int64_t first = t.first_lane + p * width;
      multiply_panel(t, t.bordered + first, t.offsets, t.grid + first, grid_pixels(a), std::min(width, t.last_lane - first));
      continue;
    }
    if (t.offsets) {  // panel p: output row a.row_begin + p / per_row, from column (p % per_row) * width
      const int64_t oy = a.row_begin + p / per_row, ox = p % per_row * width;
      multiply_panel(t, t.bordered + oy * (a.w + 2 * a.pad) + ox, t.offsets, a.y + oy * ow + ox, pixels, std::min(width, ow - ox));
      continue;
    }
    const int64_t first = t.first_lane + p * width, count = std::min(width, t.last_lane - first);
    if (t.bordered) {
      unfold_bordered(t.isa, a, t.bordered, first, count, panel);
    } else {
      unfold_panel(t.isa, a, first, count, panel);
    }
    multiply_panel(t, panel, nullptr, a.y + first, pixels, count);
  }
}

}  // namespace

// conv2d runs at most one chunk per panel, and none unfolds when B is read in place: scratch for more would
// never be touched (a 7 x 7 map with 768 channels asked 14 MB for 16 chunks where it runs 4).
int64_t conv_scratch_floats(Isa isa, const ConvArgs& shape, int64_t chunks) {
  if (isa == Isa::kReference) return ref::conv2d_scratch_floats(shape.cin, shape.h, shape.w, shape.kernel, shape.stride, shape.pad, shape.dilation);
  const int64_t width = gemm_panel_width(isa), pixels = shape.out_h() * shape.out_w();
  const bool in_place = shape.stride == 1 && reads_in_place(isa, shape), grid = reads_grid(isa, shape);
  const int64_t panels = in_place ? shape.out_h() * panels_per_row(isa, shape) : (pixels + width - 1) / width;
  const int64_t unfolding = in_place || grid ? 0 : std::clamp<int64_t>(chunks, 1, std::max<int64_t>(panels, 1));
  return (shape.stride == 1 ? bordered_input_floats(shape) + offsets_floats(shape) : 0) + (grid ? grid_output_floats(shape) : 0) +
         unfolding * chunk_floats(isa, shape);
}

void unfold_panel(Isa isa, const ConvArgs& a, int64_t first, int64_t count, float* panel) {
  const int64_t width = gemm_panel_width(isa), k = a.kernel;
  Run runs[kMaxPanelWidth + 1];
  const int run_count = split_runs(first, count, a.out_w(), runs);
  for (int64_t tap = 0; tap < a.cin * k * k; ++tap) {
    const int64_t channel = tap / (k * k), ky = tap / k % k, kx = tap % k;
    float* lanes = panel + tap * width;
    for (int r = 0; r < run_count; ++r) {
      const Run& run = runs[r];
      const int64_t iy = run.out_y * a.stride + ky * a.dilation - a.pad;
      const float* line = iy >= 0 && iy < a.h ? a.x + (channel * a.h + iy) * a.w : nullptr;
      fill_run(line, run.out_x * a.stride + kx * a.dilation - a.pad, a.stride, run.count, a.w, lanes + run.lane);
    }
    std::fill(lanes + count, lanes + width, 0.0f);
  }
}

void conv2d(Isa isa, const ConvArgs& args, float* scratch, int64_t chunks, pthreadpool_t pool) {
  if (isa == Isa::kReference) {
    return ref::conv2d(args.x, args.cin, args.h, args.w, args.weight, args.bias, args.cout, args.kernel, args.stride, args.pad,
                       args.dilation, scratch, args.y);
  }
  const int64_t width = gemm_panel_width(isa), rows = args.last_row() - args.row_begin;
  if (rows <= 0 || args.out_w() == 0 || args.cout == 0) return;
  float* bordered = nullptr;
  int32_t* offsets = nullptr;
  if (args.stride == 1) {
    bordered = scratch;
    std::pair<const ConvArgs*, float*> copy{&args, bordered};
    parallelize_1d(pool, copy_bordered_channel, &copy, static_cast<size_t>(args.cin));
    std::fill(bordered + args.cin * bordered_plane_floats(args), bordered + bordered_input_floats(args), 0.0f);
    scratch += bordered_input_floats(args) + offsets_floats(args);
    if (reads_in_place(isa, args) || reads_grid(isa, args)) {
      offsets = reinterpret_cast<int32_t*>(bordered + bordered_input_floats(args));
      fill_offsets(args, offsets);
    }
  }
  float* grid = nullptr;
  if (reads_grid(isa, args)) grid = scratch, scratch += grid_output_floats(args);
  const int64_t lanes_per_row = grid ? grid_width(args) : args.out_w();
  const int64_t first_lane = args.row_begin * lanes_per_row, last_lane = args.last_row() * lanes_per_row;
  const int64_t panels = offsets && !grid ? rows * panels_per_row(isa, args) : (last_lane - first_lane + width - 1) / width;
  ConvTask task{&args, isa, bordered, offsets, grid, scratch, panels, std::clamp<int64_t>(chunks, 1, panels), first_lane, last_lane};
  parallelize_1d(pool, run_chunk, &task, static_cast<size_t>(task.chunks));
  if (!grid) return;
  const int64_t oh = args.out_h(), ow = args.out_w(), gw = grid_width(args);
  for (int64_t channel = 0; channel < args.cout; ++channel) {  // each computed row's pixels, without the grid's last columns
    for (int64_t oy = args.row_begin; oy < args.last_row(); ++oy) {
      std::memcpy(args.y + (channel * oh + oy) * ow, grid + channel * grid_pixels(args) + oy * gw, sizeof(float) * static_cast<size_t>(ow));
    }
  }
}

}  // namespace adarun
