#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "kernels/conv_int8.h"
#include "kernels/ref/conv.h"
#include "kernels/ref/conv_int8.h"
#include "kernels/ref/gemm_int8.h"
#include "tests/kernels/oracle.h"

using adarun::testing::AlignedBytes;
using adarun::testing::random_int8;
using adarun::testing::random_values;

namespace {

struct Shape {
  int64_t cin, h, w, cout, kernel, stride, pad, dilation;
};

const Shape kShapes[] = {{3, 16, 16, 8, 4, 4, 0, 1},  {5, 9, 11, 7, 3, 1, 1, 1},  {16, 14, 14, 33, 3, 1, 1, 1}, {8, 12, 10, 16, 1, 1, 0, 1},
                         {6, 13, 13, 5, 3, 2, 1, 1},  {4, 15, 15, 6, 3, 1, 2, 2},  {64, 7, 7, 40, 3, 1, 1, 1},  {2, 5, 4, 3, 3, 1, 4, 3}};

adarun::ConvArgs conv_args(const Shape& s) {
  adarun::ConvArgs a;
  a.cin = s.cin, a.h = s.h, a.w = s.w, a.cout = s.cout, a.kernel = s.kernel, a.stride = s.stride, a.pad = s.pad, a.dilation = s.dilation;
  return a;
}

}  // namespace

TEST_CASE("conv2d_int8: every supported int8 kernel gives ref::conv2d_int8's outputs bit for bit (strides, padding, dilation, threads)") {
  std::unique_ptr<pthreadpool, decltype(&pthreadpool_destroy)> pool(pthreadpool_create(3), pthreadpool_destroy);
  int kernels_run = 0;
  for (adarun::Int8Kernel kernel : adarun::kInt8Kernels) {
    if (!adarun::int8_kernel_supported(kernel)) continue;
    ++kernels_run;
    for (const Shape& s : kShapes) {
      for (bool threaded : {false, true}) {
        CAPTURE(adarun::int8_kernel_name(kernel));
        CAPTURE(s.cin);
        CAPTURE(s.kernel);
        CAPTURE(s.stride);
        CAPTURE(s.pad);
        CAPTURE(s.dilation);
        const auto x = random_values(s.cin * s.h * s.w, 51), bias = random_values(s.cout, 52);
        const auto w = random_int8(s.cout * s.cin * s.kernel * s.kernel, 53);
        auto scales = random_values(s.cout, 54, 0.01f);
        for (float& v : scales) v = std::fabs(v);
        adarun::ConvArgs a = conv_args(s);
        a.x = x.data(), a.bias = bias.data();
        std::vector<float> fast(size_t(s.cout * a.out_h() * a.out_w())), expected(fast.size());
        a.y = fast.data();
        AlignedBytes packed(adarun::packed_conv_int8_bytes(kernel, s.cout, s.cin, s.kernel));
        adarun::pack_conv_int8_weights(kernel, w.data(), scales.data(), s.cout, s.cin, s.kernel, packed.get());
        const int64_t chunks = threaded ? 3 : 1;
        AlignedBytes scratch(adarun::conv_int8_scratch_bytes(kernel, a, chunks));
        std::fill(scratch.storage.begin(), scratch.storage.end(), uint8_t{0xFF});  // NaNs: an arena's leftovers
        adarun::conv2d_int8(kernel, a, packed.get(), scratch.get(), chunks, threaded ? pool.get() : nullptr);
        adarun::ref::conv2d_int8(x.data(), s.cin, s.h, s.w, w.data(), scales.data(), bias.data(), s.cout, s.kernel, s.stride, s.pad,
                                 s.dilation, expected.data());
        int mismatches = 0;
        for (size_t i = 0; i < fast.size(); ++i) mismatches += fast[i] != expected[i];
        CHECK(mismatches == 0);
      }
    }
  }
  MESSAGE("int8 kernels checked on this CPU: " << kernels_run);
}

TEST_CASE("ref::conv2d_int8 stays within the quantization's error of ref::conv2d on the dequantized weights") {
  for (const Shape& s : kShapes) {
    CAPTURE(s.cin);
    CAPTURE(s.kernel);
    const auto x = random_values(s.cin * s.h * s.w, 61), wf = random_values(s.cout * s.cin * s.kernel * s.kernel, 62);
    const int64_t taps = s.cin * s.kernel * s.kernel;
    std::vector<int8_t> q(wf.size());
    std::vector<float> scales(size_t(s.cout)), dequantized(wf.size());
    for (int64_t o = 0; o < s.cout; ++o) {
      scales[size_t(o)] = adarun::ref::quantize_row(wf.data() + o * taps, taps, q.data() + o * taps);
      for (int64_t t = 0; t < taps; ++t) dequantized[size_t(o * taps + t)] = float(q[size_t(o * taps + t)]) * scales[size_t(o)];
    }
    const adarun::ConvArgs a = conv_args(s);
    std::vector<float> fp32(size_t(s.cout * a.out_h() * a.out_w())), int8(fp32.size());
    std::vector<float> scratch(size_t(adarun::ref::conv2d_scratch_floats(s.cin, s.h, s.w, s.kernel, s.stride, s.pad, s.dilation)) + 1);
    adarun::ref::conv2d(x.data(), s.cin, s.h, s.w, dequantized.data(), nullptr, s.cout, s.kernel, s.stride, s.pad, s.dilation,
                        scratch.data(), fp32.data());
    adarun::ref::conv2d_int8(x.data(), s.cin, s.h, s.w, q.data(), scales.data(), nullptr, s.cout, s.kernel, s.stride, s.pad, s.dilation,
                             int8.data());
    // Only the activations are rounded here (the weights are exactly q * scale): each output within
    // half an activation step times sum |w| over its field, the field's step at most max|x| / 127.
    float x_max = 0;
    for (float v : x) x_max = std::max(x_max, std::fabs(v));
    for (int64_t o = 0; o < s.cout; ++o) {
      double w_sum = 0;
      for (int64_t t = 0; t < taps; ++t) w_sum += std::fabs(dequantized[size_t(o * taps + t)]);
      const double bound = x_max / 127.0 / 2 * w_sum * 1.001 + 1e-5;
      for (int64_t p = 0; p < a.out_h() * a.out_w(); ++p) {
        const size_t i = size_t(o * a.out_h() * a.out_w() + p);
        CHECK(std::fabs(int8[i] - fp32[i]) <= bound);
      }
    }
  }
}
