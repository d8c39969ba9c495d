#include <doctest/doctest.h>

#include <cmath>
#include <memory>

#include "kernels/attention.h"
#include "kernels/ref/attention.h"
#include "tests/kernels/oracle.h"

using adarun::testing::random_values;

TEST_CASE("window attention: every ISA and thread count matches ref::window_attention window by window") {
  std::unique_ptr<pthreadpool, decltype(&pthreadpool_destroy)> pool(pthreadpool_create(3), pthreadpool_destroy);
  struct Shape { int64_t windows, n, heads, head_dim; bool masked; };
  for (Shape s : {Shape{4, 49, 3, 32, true}, Shape{3, 16, 2, 5, false}, Shape{2, 144, 2, 20, true}, Shape{5, 1, 1, 3, false}}) {
    const int64_t dim = s.heads * s.head_dim;
    const auto qkv = random_values(s.windows * s.n * 3 * dim, 51), bias = random_values(s.heads * s.n * s.n, 52);
    std::vector<float> masks(static_cast<size_t>(s.windows * s.n * s.n));
    for (size_t i = 0; i < masks.size(); ++i) masks[i] = (i % 7 == 0) ? -100.0f : 0.0f;
    const float scale = 1.0f / std::sqrt(float(s.head_dim));
    std::vector<float> expected(static_cast<size_t>(s.windows * s.n * dim)), scratch_ref(static_cast<size_t>(s.n * s.n));
    for (int64_t w = 0; w < s.windows; ++w) {
      adarun::ref::window_attention(qkv.data() + w * s.n * 3 * dim, s.n, s.heads, s.head_dim, bias.data(),
                                    s.masked ? masks.data() + w * s.n * s.n : nullptr, scale, scratch_ref.data(),
                                    expected.data() + w * s.n * dim);
    }
    for (adarun::Isa isa : {adarun::Isa::kReference, adarun::Isa::kAvx2, adarun::Isa::kAvx512, adarun::Isa::kNeon}) {
      if (!adarun::isa_supported(isa)) continue;
      for (int threads : {1, 3}) {
        std::vector<float> out(expected.size());
        std::vector<float> scratch(static_cast<size_t>(3 * adarun::window_attention_scratch_floats(s.n, s.head_dim)));
        adarun::WindowAttentionArgs args;
        args.qkv = qkv.data(), args.rel_bias = bias.data(), args.masks = s.masked ? masks.data() : nullptr;
        args.out = out.data(), args.windows = s.windows, args.n = s.n, args.heads = s.heads, args.head_dim = s.head_dim;
        args.scale = scale;
        adarun::window_attention(isa, args, scratch.data(), threads, threads > 1 ? pool.get() : nullptr);
        CAPTURE(adarun::isa_name(isa));
        CAPTURE(threads);
        CAPTURE(s.n);
        CHECK(adarun::testing::relative_max_diff(out, std::vector<double>(expected.begin(), expected.end())) < 1e-5);
      }
    }
  }
}

TEST_CASE("window attention: a subset of a stage's windows takes each window's own mask through mask_index") {
  const int64_t windows = 6, n = 16, heads = 2, head_dim = 8, dim = heads * head_dim;
  const auto qkv = random_values(windows * n * 3 * dim, 61), bias = random_values(heads * n * n, 62);
  std::vector<float> masks(static_cast<size_t>(windows * n * n));
  for (size_t i = 0; i < masks.size(); ++i) masks[i] = (i % 5 == (i / (n * n)) % 5) ? -100.0f : 0.0f;  // differs by window
  const std::vector<int32_t> subset = {4, 1, 5};  // computed windows, compacted in this order
  std::vector<float> compact_qkv;
  for (int32_t w : subset) compact_qkv.insert(compact_qkv.end(), qkv.begin() + w * n * 3 * dim, qkv.begin() + (w + 1) * n * 3 * dim);
  const float scale = 1.0f / std::sqrt(float(head_dim));
  std::vector<float> expected(subset.size() * n * dim), scratch_ref(static_cast<size_t>(n * n));
  for (size_t k = 0; k < subset.size(); ++k) {
    adarun::ref::window_attention(qkv.data() + subset[k] * n * 3 * dim, n, heads, head_dim, bias.data(), masks.data() + subset[k] * n * n,
                                  scale, scratch_ref.data(), expected.data() + k * n * dim);
  }
  for (adarun::Isa isa : {adarun::Isa::kReference, adarun::Isa::kAvx2, adarun::Isa::kAvx512, adarun::Isa::kNeon}) {
    if (!adarun::isa_supported(isa)) continue;
    std::vector<float> out(expected.size());
    std::vector<float> scratch(static_cast<size_t>(adarun::window_attention_scratch_floats(n, head_dim)));
    adarun::WindowAttentionArgs args;
    args.qkv = compact_qkv.data(), args.rel_bias = bias.data(), args.masks = masks.data(), args.mask_index = subset.data();
    args.out = out.data(), args.windows = int64_t(subset.size()), args.n = n, args.heads = heads, args.head_dim = head_dim;
    args.scale = scale;
    adarun::window_attention(isa, args, scratch.data(), 1, nullptr);
    CAPTURE(adarun::isa_name(isa));
    CHECK(adarun::testing::relative_max_diff(out, std::vector<double>(expected.begin(), expected.end())) < 1e-5);
  }
}
