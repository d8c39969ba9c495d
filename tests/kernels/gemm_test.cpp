#include <doctest/doctest.h>

#include <cstdlib>
#include <memory>

#include "kernels/gemm.h"
#include "kernels/ref/activations.h"
#include "kernels/ref/gemm.h"
#include "tests/kernels/oracle.h"

using adarun::testing::random_values;

namespace {

struct Shape {
  int64_t m, n, k;
};

// max |fast - ref| / max(1, max |ref|) for one ISA, shape and epilogue.
double gemm_error(adarun::Isa isa, Shape s, bool with_bias, bool accumulate, bool gelu, pthreadpool_t pool) {
  const auto a = random_values(s.m * s.k, 21), w = random_values(s.n * s.k, 22), bias = random_values(s.n, 23);
  const auto start = random_values(s.m * s.n, 24);
  std::vector<float> packed(static_cast<size_t>(adarun::packed_weight_floats(isa, s.n, s.k)) + 16);
  float* aligned = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(packed.data()) + 63) & ~uintptr_t{63});
  adarun::pack_weights(isa, w.data(), s.n, s.k, aligned);
  std::vector<float> fast = start, expected(start.size());
  adarun::GemmArgs args;
  args.a = a.data();
  args.lda = s.k;
  args.packed = aligned;
  args.bias = with_bias ? bias.data() : nullptr;
  args.c = fast.data();
  args.ldc = s.n;
  args.m = s.m, args.n = s.n, args.k = s.k;
  args.accumulate = accumulate;
  args.gelu = gelu;
  adarun::gemm(isa, args, pool);
  adarun::ref::linear(a.data(), s.m, s.k, w.data(), with_bias ? bias.data() : nullptr, s.n, expected.data());
  if (gelu) adarun::ref::gelu(expected.data(), int64_t(expected.size()));
  std::vector<double> oracle(expected.begin(), expected.end());
  if (accumulate) {
    for (size_t i = 0; i < oracle.size(); ++i) oracle[i] += start[i];
  }
  return adarun::testing::relative_max_diff(fast, oracle);
}

}  // namespace

TEST_CASE("gemm: every supported ISA matches ref::linear (then ref::gelu) on odd shapes, epilogues and thread counts") {
  std::unique_ptr<pthreadpool, decltype(&pthreadpool_destroy)> pool(pthreadpool_create(3), pthreadpool_destroy);
  for (adarun::Isa isa : adarun::kPackedIsas) {
    if (!adarun::isa_supported(isa)) continue;
    for (Shape s : {Shape{1, 1, 1}, Shape{7, 5, 3}, Shape{49, 288, 96}, Shape{97, 33, 17}, Shape{200, 40, 129}, Shape{13, 16, 8}, Shape{6, 17, 5}}) {
      for (int variant : {0, 1, 2, 3, 4, 5}) {  // bias, accumulate, GELU (which excludes accumulate)
        CAPTURE(adarun::isa_name(isa));
        CAPTURE(s.m);
        CAPTURE(s.n);
        CAPTURE(s.k);
        CAPTURE(variant);
        CHECK(gemm_error(isa, s, variant & 1, variant & 2, variant & 4, variant == 3 || variant == 5 ? pool.get() : nullptr) < 1e-5);
      }
    }
  }
}

TEST_CASE("gemm: zero rows leave C untouched") {
  const adarun::Isa isa = adarun::active_isa();
  if (isa == adarun::Isa::kReference) return;
  std::vector<float> c = {5.0f};
  adarun::GemmArgs args;
  args.c = c.data();
  args.n = 1;
  args.k = 1;
  adarun::gemm(isa, args, nullptr);
  CHECK(c[0] == 5.0f);
}
