#include "kernels/conv_int8.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/parallel.h"

namespace adarun {
namespace {

// Output pixels per GEMM: enough rows for the panels' reuse, few enough that the gathered rows stay in L2.
constexpr int64_t kBlockPixels = 64;

int64_t aligned(int64_t bytes) { return (bytes + 63) / 64 * 64; }
int64_t taps(const ConvArgs& a) { return a.cin * a.kernel * a.kernel; }

// The zero-bordered HWC copy: (h + 2 pad) x (w + 2 pad) pixels of cin floats.
int64_t bordered_width(const ConvArgs& a) { return a.w + 2 * a.pad; }
int64_t bordered_bytes(const ConvArgs& a) { return aligned((a.h + 2 * a.pad) * bordered_width(a) * a.cin * int64_t(sizeof(float))); }

// One chunk's buffers: the gathered rows [kBlockPixels, taps], their quantized form, the output block [pixels, cout].
int64_t rows_bytes(const ConvArgs& a) { return aligned(kBlockPixels * taps(a) * int64_t(sizeof(float))); }
int64_t block_bytes(const ConvArgs& a) { return aligned(kBlockPixels * a.cout * int64_t(sizeof(float))); }
int64_t chunk_bytes(Int8Kernel kernel, const ConvArgs& a) {
  return rows_bytes(a) + aligned(quantized_rows_bytes(kernel, kBlockPixels, taps(a))) + block_bytes(a);
}

struct BorderedCopy {
  const ConvArgs* args;
  float* bordered;
};

// Input row y into the bordered copy, channels interleaved, between its zeroed border columns. (The border rows
// are zeroed apart: zeroing the whole copy first wrote every interior float twice.)
void copy_bordered_row(void* context, size_t row) {
  const BorderedCopy& t = *static_cast<const BorderedCopy*>(context);
  const ConvArgs& a = *t.args;
  const int64_t y = static_cast<int64_t>(row), border = a.pad * a.cin;
  float* line = t.bordered + (y + a.pad) * bordered_width(a) * a.cin;
  std::fill(line, line + border, 0.0f);
  std::fill(line + border + a.w * a.cin, line + 2 * border + a.w * a.cin, 0.0f);
  float* out = line + border;
  for (int64_t x = 0; x < a.w; ++x) {
    for (int64_t c = 0; c < a.cin; ++c) out[x * a.cin + c] = a.x[(c * a.h + y) * a.w + x];
  }
}

struct ConvTask {
  const ConvArgs* args;
  Int8Kernel kernel;
  const void* packed;
  const float* bordered;
  uint8_t* scratch;
  int64_t blocks, chunks;
};

// Output pixels [first, first + count): gather their fields, one int8 GEMM over every output channel, then the
// [pixels, cout] block into the CHW output.
void run_block(const ConvTask& t, uint8_t* chunk, int64_t first, int64_t count) {
  const ConvArgs& a = *t.args;
  const int64_t k = a.kernel, row_taps = taps(a), ow = a.out_w(), pixels = a.out_h() * ow, bw = bordered_width(a);
  float* rows = reinterpret_cast<float*>(chunk);
  void* quantized = chunk + rows_bytes(a);
  float* block = reinterpret_cast<float*>(chunk + rows_bytes(a) + aligned(quantized_rows_bytes(t.kernel, kBlockPixels, row_taps)));
  for (int64_t i = 0; i < count; ++i) {
    const int64_t oy = (first + i) / ow, ox = (first + i) % ow;
    float* row = rows + i * row_taps;
    for (int64_t ky = 0; ky < k; ++ky) {
      const float* line = t.bordered + (oy * a.stride + ky * a.dilation) * bw * a.cin;
      for (int64_t kx = 0; kx < k; ++kx) {
        std::memcpy(row + (ky * k + kx) * a.cin, line + (ox * a.stride + kx * a.dilation) * a.cin, sizeof(float) * size_t(a.cin));
      }
    }
  }
  Int8GemmArgs g;
  g.a = rows, g.lda = row_taps, g.packed = t.packed, g.bias = a.bias;
  g.c = block, g.ldc = a.cout, g.m = count, g.n = a.cout, g.k = row_taps, g.quantized = quantized;
  gemm_int8(t.kernel, g, nullptr);
  for (int64_t o = 0; o < a.cout; ++o) {
    float* out = a.y + o * pixels + first;
    for (int64_t i = 0; i < count; ++i) out[i] = block[i * a.cout + o];
  }
}

void run_chunk(void* context, size_t chunk) {
  const ConvTask& t = *static_cast<const ConvTask*>(context);
  const int64_t c = static_cast<int64_t>(chunk), pixels = t.args->out_h() * t.args->out_w();
  uint8_t* scratch = t.scratch + c * chunk_bytes(t.kernel, *t.args);
  for (int64_t b = c * t.blocks / t.chunks; b < (c + 1) * t.blocks / t.chunks; ++b) {
    run_block(t, scratch, b * kBlockPixels, std::min(kBlockPixels, pixels - b * kBlockPixels));
  }
}

}  // namespace

int64_t packed_conv_int8_bytes(Int8Kernel kernel, int64_t cout, int64_t cin, int64_t k) {
  return packed_int8_bytes(kernel, cout, cin * k * k);
}

void pack_conv_int8_weights(Int8Kernel kernel, const int8_t* w, const float* scales, int64_t cout, int64_t cin, int64_t k, void* packed) {
  // [cout, cin, k, k] -> [cout, (ky, kx, cin)]: the order the fields are gathered in.
  std::vector<int8_t> reordered(static_cast<size_t>(cout * cin * k * k));
  for (int64_t o = 0; o < cout; ++o) {
    for (int64_t c = 0; c < cin; ++c) {
      for (int64_t tap = 0; tap < k * k; ++tap) reordered[size_t((o * k * k + tap) * cin + c)] = w[(o * cin + c) * k * k + tap];
    }
  }
  pack_int8_weights(kernel, reordered.data(), scales, cout, cin * k * k, packed);
}

int64_t conv_int8_scratch_bytes(Int8Kernel kernel, const ConvArgs& shape, int64_t chunks) {
  const int64_t blocks = (shape.out_h() * shape.out_w() + kBlockPixels - 1) / kBlockPixels;
  return bordered_bytes(shape) + std::clamp<int64_t>(chunks, 1, std::max<int64_t>(blocks, 1)) * chunk_bytes(kernel, shape);
}

void conv2d_int8(Int8Kernel kernel, const ConvArgs& args, const void* packed, void* scratch, int64_t chunks, pthreadpool_t pool) {
  const int64_t pixels = args.out_h() * args.out_w();
  if (pixels == 0 || args.cout == 0) return;
  float* bordered = static_cast<float*>(scratch);
  const int64_t border_rows_floats = args.pad * bordered_width(args) * args.cin;
  std::fill(bordered, bordered + border_rows_floats, 0.0f);
  float* bottom = bordered + (args.h + args.pad) * bordered_width(args) * args.cin;
  std::fill(bottom, bottom + border_rows_floats, 0.0f);
  BorderedCopy copy{&args, bordered};
  parallelize_1d(pool, copy_bordered_row, &copy, static_cast<size_t>(args.h));
  const int64_t blocks = (pixels + kBlockPixels - 1) / kBlockPixels;
  ConvTask task{&args, kernel, packed, bordered, static_cast<uint8_t*>(scratch) + bordered_bytes(args), blocks,
                std::clamp<int64_t>(chunks, 1, blocks)};
  parallelize_1d(pool, run_chunk, &task, static_cast<size_t>(task.chunks));
}

}  // namespace adarun
