// Transposed convolution: the reference twin against a double-precision oracle, the GEMM kernel against the twin.
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/conv_transpose.h"
#include "kernels/ref/conv_transpose.h"
#include "tests/kernels/oracle.h"

using adarun::testing::random_values;
using adarun::testing::relative_max_diff;

namespace {

struct Shape { int64_t cin, h, w, cout, kernel, stride, pad, output_pad; };

// The updecoder's kernel 2 stride 2 (blocks tile the output), its kernel 3 (padding 1, output padding 1) and
// kernel 4 (padding 1): overlapping blocks cut at the border; a 1x1 input; more block rows than a GEMM tile
// (cout k^2 = 132); maps wide enough for the 1x1 GEMM to read in place (56); stride 3 with output padding 2.
const Shape kShapes[] = {{5, 3, 4, 7, 2, 2, 0, 0},  {3, 5, 5, 4, 3, 2, 1, 1},   {6, 4, 7, 3, 4, 2, 1, 0}, {2, 1, 1, 5, 2, 2, 0, 0},
                         {9, 7, 9, 33, 2, 2, 0, 0}, {4, 6, 56, 5, 2, 2, 0, 0},  {3, 5, 40, 6, 3, 2, 1, 1}, {4, 6, 5, 3, 3, 3, 0, 2},
                         {3, 1, 2, 2, 4, 2, 1, 0}};

int64_t out_size(const Shape& s, int64_t size) { return adarun::ref::conv_transpose_out_size(size, s.kernel, s.stride, s.pad, s.output_pad); }

std::vector<double> oracle(const Shape& s, const std::vector<float>& x, const std::vector<float>& weight, const float* bias) {
  const int64_t oh = out_size(s, s.h), ow = out_size(s, s.w);
  std::vector<double> y(static_cast<size_t>(s.cout * oh * ow));
  for (int64_t o = 0; o < s.cout; ++o) {
    for (int64_t p = 0; p < oh * ow; ++p) y[size_t(o * oh * ow + p)] = bias ? bias[o] : 0.0;
  }
  for (int64_t i = 0; i < s.cin; ++i) {
    for (int64_t iy = 0; iy < s.h; ++iy) {
      for (int64_t ix = 0; ix < s.w; ++ix) {
        for (int64_t o = 0; o < s.cout; ++o) {
          for (int64_t ky = 0; ky < s.kernel; ++ky) {
            for (int64_t kx = 0; kx < s.kernel; ++kx) {
              const int64_t oy = iy * s.stride + ky - s.pad, ox = ix * s.stride + kx - s.pad;
              if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
              y[size_t((o * oh + oy) * ow + ox)] +=
                  double(x[size_t((i * s.h + iy) * s.w + ix)]) * weight[size_t(((i * s.cout + o) * s.kernel + ky) * s.kernel + kx)];
            }
          }
        }
      }
    }
  }
  return y;
}

std::vector<float> reference(const Shape& s, const std::vector<float>& x, const std::vector<float>& weight, const float* bias) {
  std::vector<float> y(static_cast<size_t>(s.cout * out_size(s, s.h) * out_size(s, s.w)), -7.0f);
  adarun::ref::conv_transpose2d(x.data(), s.cin, s.h, s.w, weight.data(), bias, s.cout, s.kernel, s.stride, s.pad, s.output_pad, y.data());
  return y;
}

std::vector<float> fast(adarun::Isa isa, const Shape& s, const std::vector<float>& x, const std::vector<float>& weight, const float* bias,
                        int chunks, pthreadpool_t pool) {
  adarun::ConvTransposeArgs args;
  args.x = x.data(), args.cin = s.cin, args.h = s.h, args.w = s.w;
  args.weight = weight.data(), args.bias = bias;
  args.cout = s.cout, args.kernel = s.kernel, args.stride = s.stride, args.pad = s.pad, args.output_pad = s.output_pad;
  std::vector<float> y(static_cast<size_t>(s.cout * args.out_h() * args.out_w()), -7.0f);
  args.y = y.data();
  std::vector<float> scratch(static_cast<size_t>(adarun::conv_transpose_scratch_floats(isa, args, chunks)) + 16, -5.0f);
  float* aligned = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(scratch.data()) + 63) & ~uintptr_t{63});
  adarun::conv_transpose2d(isa, args, aligned, chunks, pool);
  return y;
}

}  // namespace

TEST_CASE("conv_transpose2d: the reference twin matches the oracle, with and without bias") {
  for (const Shape& s : kShapes) {
    CAPTURE(s.kernel);
    CAPTURE(s.h);
    CAPTURE(s.w);
    const auto x = random_values(s.cin * s.h * s.w, 51), weight = random_values(s.cin * s.cout * s.kernel * s.kernel, 52);
    const auto bias = random_values(s.cout, 53);
    CHECK(relative_max_diff(reference(s, x, weight, bias.data()), oracle(s, x, weight, bias.data())) < 1e-5);
    CHECK(relative_max_diff(reference(s, x, weight, nullptr), oracle(s, x, weight, nullptr)) < 1e-5);
  }
  CHECK(adarun::ref::conv_transpose_out_size(7, 2, 2, 0, 0) == 14);
  CHECK(adarun::ref::conv_transpose_out_size(7, 3, 2, 1, 1) == 14);
  CHECK(adarun::ref::conv_transpose_out_size(7, 4, 2, 1, 0) == 14);
}

TEST_CASE("conv_transpose2d: the GEMM kernel matches the reference twin on every ISA, alone and over threads") {
  std::unique_ptr<pthreadpool, void (*)(pthreadpool_t)> pool(pthreadpool_create(3), pthreadpool_destroy);
  for (adarun::Isa isa : adarun::kPackedIsas) {
    if (!adarun::isa_supported(isa)) continue;
    for (const Shape& s : kShapes) {
      CAPTURE(adarun::isa_name(isa));
      CAPTURE(s.kernel);
      CAPTURE(s.h);
      CAPTURE(s.w);
      const auto x = random_values(s.cin * s.h * s.w, 54), weight = random_values(s.cin * s.cout * s.kernel * s.kernel, 55);
      const auto bias = random_values(s.cout, 56);
      const auto expected = reference(s, x, weight, bias.data());
      const std::vector<double> twin(expected.begin(), expected.end());
      CHECK(relative_max_diff(fast(isa, s, x, weight, bias.data(), 1, nullptr), twin) < 1e-5);
      CHECK(relative_max_diff(fast(isa, s, x, weight, bias.data(), 3, pool.get()), twin) < 1e-5);
      const auto unbiased = reference(s, x, weight, nullptr);
      CHECK(relative_max_diff(fast(isa, s, x, weight, nullptr, 3, pool.get()), std::vector<double>(unbiased.begin(), unbiased.end())) < 1e-5);
    }
  }
}
