#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include "kernels/gemm.h"
#include "kernels/gemm_int8.h"
#include "kernels/ref/activations.h"
#include "kernels/ref/gemm.h"
#include "kernels/ref/gemm_int8.h"
#include "tests/kernels/oracle.h"

using adarun::testing::AlignedBytes;
using adarun::testing::random_int8;
using adarun::testing::random_values;

namespace {

struct Shape {
  int64_t m, n, k;
};

struct Case {
  Shape s;
  bool bias = false, accumulate = false, gelu = false, gather = false, scatter = false;
};

// The kernel's C and ref::linear_int8's (then GELU, + the starting C, through the gather and scatter) for one case.
void run_case(adarun::Int8Kernel kernel, const Case& t, pthreadpool_t pool, std::vector<float>* fast, std::vector<double>* oracle) {
  const Shape s = t.s;
  const int64_t a_rows_total = s.m + 3;
  auto a = random_values(a_rows_total * s.k, 31);
  for (int64_t j = 0; j < s.k; ++j) a[size_t(1 % a_rows_total * s.k + j)] = 0.0f;  // an all-zero row
  const auto w = random_int8(s.n * s.k, 32);
  auto scales = random_values(s.n, 33, 0.01f);
  for (float& v : scales) v = std::fabs(v);
  const auto bias = random_values(s.n, 34);
  std::vector<int32_t> gather(size_t(s.m)), scatter(size_t(s.m));
  for (int64_t i = 0; i < s.m; ++i) gather[size_t(i)] = int32_t((i * 7 + 2) % a_rows_total);
  std::iota(scatter.rbegin(), scatter.rend(), 0);  // rows reversed
  const auto start = random_values(s.m * s.n, 35);

  AlignedBytes packed(adarun::packed_int8_bytes(kernel, s.n, s.k)), quantized(adarun::quantized_rows_bytes(kernel, s.m, s.k));
  adarun::pack_int8_weights(kernel, w.data(), scales.data(), s.n, s.k, packed.get());
  *fast = start;
  adarun::Int8GemmArgs args;
  args.a = a.data(), args.lda = s.k, args.a_rows = t.gather ? gather.data() : nullptr;
  args.packed = packed.get(), args.bias = t.bias ? bias.data() : nullptr;
  args.c = fast->data(), args.ldc = s.n, args.c_rows = t.scatter ? scatter.data() : nullptr;
  args.m = s.m, args.n = s.n, args.k = s.k, args.accumulate = t.accumulate, args.gelu = t.gelu;
  args.quantized = quantized.get();
  adarun::gemm_int8(kernel, args, pool);

  std::vector<float> gathered(size_t(s.m * s.k)), expected(size_t(s.m * s.n));
  for (int64_t i = 0; i < s.m; ++i) {
    const int64_t from = t.gather ? gather[size_t(i)] : i;
    std::copy(a.begin() + from * s.k, a.begin() + (from + 1) * s.k, gathered.begin() + i * s.k);
  }
  adarun::ref::linear_int8(gathered.data(), s.m, s.k, w.data(), scales.data(), t.bias ? bias.data() : nullptr, s.n, expected.data());
  if (t.gelu) adarun::ref::gelu(expected.data(), int64_t(expected.size()));
  oracle->assign(start.begin(), start.end());
  for (int64_t i = 0; i < s.m; ++i) {
    const int64_t to = t.scatter ? scatter[size_t(i)] : i;
    for (int64_t j = 0; j < s.n; ++j) {
      const float value = expected[size_t(i * s.n + j)];
      // The kernels add C in float, as the twin's caller would: (value + C) rounded once.
      (*oracle)[size_t(to * s.n + j)] = t.accumulate ? double(value + start[size_t(to * s.n + j)]) : double(value);
    }
  }
}

}  // namespace

TEST_CASE("ref::quantize_row: round half to even of x * 127 / max|x|, the scale max|x| / 127, zero rows") {
  const float x[] = {1.0f, -0.5f, 0.25f, 0.0f, -1.0f, 0.125f};  // x * 127: 127, -63.5, 31.75, 0, -127, 15.875
  int8_t q[6];
  CHECK(adarun::ref::quantize_row(x, 6, q) == 1.0f / 127.0f);
  const int8_t expected[] = {127, -64, 32, 0, -127, 16};
  for (int j = 0; j < 6; ++j) CHECK(q[j] == expected[j]);
  const float tiny[] = {1e-31f, -1e-32f};
  int8_t q_tiny[2] = {5, 5};
  CHECK(adarun::ref::quantize_row(tiny, 2, q_tiny) == 0.0f);
  CHECK(q_tiny[0] == 0);
  CHECK(q_tiny[1] == 0);
}

TEST_CASE("ref::linear_int8 stays within the quantization's error of the fp32 product") {
  const Shape s{17, 23, 96};
  const auto a = random_values(s.m * s.k, 41), w = random_values(s.n * s.k, 42), bias = random_values(s.n, 43);
  std::vector<int8_t> qw(size_t(s.n * s.k));
  std::vector<float> w_scale(size_t(s.n)), fp32(size_t(s.m * s.n)), int8(size_t(s.m * s.n));
  for (int64_t o = 0; o < s.n; ++o) w_scale[size_t(o)] = adarun::ref::quantize_row(w.data() + o * s.k, s.k, qw.data() + o * s.k);
  adarun::ref::linear(a.data(), s.m, s.k, w.data(), bias.data(), s.n, fp32.data());
  adarun::ref::linear_int8(a.data(), s.m, s.k, qw.data(), w_scale.data(), bias.data(), s.n, int8.data());
  // Each product's error is at most |a| dw + |w| da + da dw with da, dw half a step: bound it per output.
  for (int64_t i = 0; i < s.m; ++i) {
    float a_max = 0;
    for (int64_t j = 0; j < s.k; ++j) a_max = std::max(a_max, std::fabs(a[size_t(i * s.k + j)]));
    for (int64_t o = 0; o < s.n; ++o) {
      double bound = 0;
      const double da = a_max / 127.0 / 2, dw = w_scale[size_t(o)] / 2;
      for (int64_t j = 0; j < s.k; ++j) {
        bound += std::fabs(a[size_t(i * s.k + j)]) * dw + std::fabs(w[size_t(o * s.k + j)]) * da + da * dw;
      }
      CHECK(std::fabs(int8[size_t(i * s.n + o)] - fp32[size_t(i * s.n + o)]) <= bound * 1.001 + 1e-5);
    }
  }
}

TEST_CASE("gemm_int8: every supported kernel gives ref::linear_int8's sums exactly, with every epilogue, gather and scatter") {
  std::unique_ptr<pthreadpool, decltype(&pthreadpool_destroy)> pool(pthreadpool_create(3), pthreadpool_destroy);
  int kernels_run = 0;
  for (adarun::Int8Kernel kernel : adarun::kInt8Kernels) {
    if (!adarun::int8_kernel_supported(kernel)) continue;
    ++kernels_run;
    for (Shape s : {Shape{1, 1, 1}, Shape{7, 5, 3}, Shape{49, 288, 96}, Shape{97, 33, 17}, Shape{200, 40, 130}, Shape{13, 16, 8},
                    Shape{6, 17, 5}, Shape{9, 64, 384}}) {
      for (int variant = 0; variant < 32; ++variant) {
        Case t{s, bool(variant & 1), bool(variant & 2), bool(variant & 4), bool(variant & 8), bool(variant & 16)};
        if (t.gelu && t.accumulate) continue;
        CAPTURE(adarun::int8_kernel_name(kernel));
        CAPTURE(s.m);
        CAPTURE(s.n);
        CAPTURE(s.k);
        CAPTURE(variant);
        std::vector<float> fast;
        std::vector<double> oracle;
        run_case(kernel, t, variant % 3 == 0 ? pool.get() : nullptr, &fast, &oracle);
        if (t.gelu) {
          CHECK(adarun::testing::relative_max_diff(fast, oracle) < 1e-6);  // the kernels' GELU against ref::gelu
        } else {
          int mismatches = 0;
          for (size_t i = 0; i < oracle.size(); ++i) mismatches += double(fast[i]) != oracle[i];
          CHECK(mismatches == 0);  // same int32 sums, same float epilogue: the same bits
        }
      }
    }
  }
  MESSAGE("int8 kernels checked on this CPU: " << kernels_run);
}
