#include "kernels/conv_transpose.h"

#include <algorithm>

#include "kernels/conv.h"
#include "kernels/parallel.h"
#include "kernels/ref/conv_transpose.h"

namespace adarun {
namespace {

constexpr int64_t kAlignFloats = 16;  // 64 bytes

int64_t aligned_floats(int64_t floats) { return (floats + kAlignFloats - 1) / kAlignFloats * kAlignFloats; }

int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

int64_t taps(const ConvTransposeArgs& a) { return a.cout * a.kernel * a.kernel; }

// The 1x1 convolution that makes the blocks: cout k^2 outputs from the cin inputs of every pixel.
ConvArgs blocks_conv(const ConvTransposeArgs& a, const float* weight, float* blocks) {
  ConvArgs conv;
  conv.x = a.x, conv.cin = a.cin, conv.h = a.h, conv.w = a.w;
  conv.weight = weight, conv.bias = nullptr;
  conv.cout = taps(a), conv.kernel = 1, conv.stride = 1, conv.pad = 0;
  conv.y = blocks;
  return conv;
}

struct PlaneTask {
  const ConvTransposeArgs* args;
  const float* blocks;  // [cout, k, k, h w]
};

// Output plane o: the bias, plus tap (ky, kx) of every input pixel at (iy stride + ky - pad, ix stride + kx - pad).
void gather_plane(void* context, size_t plane_index) {
  const PlaneTask& t = *static_cast<const PlaneTask*>(context);
  const ConvTransposeArgs& a = *t.args;
  const int64_t o = static_cast<int64_t>(plane_index), k = a.kernel, s = a.stride;
  const int64_t oh = a.out_h(), ow = a.out_w();
  float* plane = a.y + o * oh * ow;
  std::fill(plane, plane + oh * ow, a.bias ? a.bias[o] : 0.0f);
  for (int64_t ky = 0; ky < k; ++ky) {
    for (int64_t kx = 0; kx < k; ++kx) {
      const float* block = t.blocks + ((o * k + ky) * k + kx) * a.h * a.w;
      // The input columns whose output column lies inside the plane: ix s + kx - pad in [0, ow).
      const int64_t ix0 = std::max<int64_t>(0, -floor_div(kx - a.pad, s));
      const int64_t ix1 = std::min<int64_t>(a.w, floor_div(ow - 1 + a.pad - kx, s) + 1);
      for (int64_t iy = 0; iy < a.h; ++iy) {
        const int64_t oy = iy * s + ky - a.pad;
        if (oy < 0 || oy >= oh) continue;
        const int64_t row = oy * ow + kx - a.pad;
        const float* source = block + iy * a.w;
        for (int64_t ix = ix0; ix < ix1; ++ix) plane[row + ix * s] += source[ix];
      }
    }
  }
}

}  // namespace

int64_t conv_transpose_scratch_floats(Isa isa, const ConvTransposeArgs& shape, int64_t chunks) {
  if (isa == Isa::kReference) return 0;
  const ConvArgs conv = blocks_conv(shape, nullptr, nullptr);
  return aligned_floats(taps(shape) * shape.cin) + aligned_floats(taps(shape) * shape.h * shape.w) + conv_scratch_floats(isa, conv, chunks);
}

void conv_transpose2d(Isa isa, const ConvTransposeArgs& args, float* scratch, int64_t chunks, pthreadpool_t pool) {
  if (isa == Isa::kReference) {
    return ref::conv_transpose2d(args.x, args.cin, args.h, args.w, args.weight, args.bias, args.cout, args.kernel, args.stride, args.pad,
                                 args.output_pad, args.y);
  }
  if (args.cout == 0 || args.out_h() <= 0 || args.out_w() <= 0) return;
  // The weight [cin, cout k^2] as the 1x1 convolution's [cout k^2, cin].
  float* weight = scratch;
  const int64_t n = taps(args);
  for (int64_t i = 0; i < args.cin; ++i) {
    for (int64_t j = 0; j < n; ++j) weight[j * args.cin + i] = args.weight[i * n + j];
  }
  float* blocks = weight + aligned_floats(n * args.cin);
  float* conv_scratch = blocks + aligned_floats(n * args.h * args.w);
  if (args.h * args.w > 0) conv2d(isa, blocks_conv(args, weight, blocks), conv_scratch, chunks, pool);
  PlaneTask task{&args, blocks};
  parallelize_1d(pool, gather_plane, &task, static_cast<size_t>(args.cout));
}

}  // namespace adarun
