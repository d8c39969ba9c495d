#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/conv_delta.h"
#include "kernels/ref/conv.h"
#include "kernels/ref/conv_delta.h"
#include "tests/kernels/oracle.h"

using adarun::FlatSpan;
using adarun::testing::random_values;

namespace {

struct Shape { int64_t cin, h, w, cout, kernel, pad; };

// The AdaMTL heads' first convolutions on streamed stage outputs (3x3 and 1x1 shortcuts at 56, 14 and 7
// pixels), an unpadded 3x3, a 5x5, and a map whose channel is more rows than the kernel's tile holds (8192 floats:
// 27 rows of 300 padded by 2).
const Shape kShapes[] = {{32, 56, 56, 16, 3, 1}, {32, 56, 56, 16, 1, 0}, {128, 14, 14, 5, 3, 1}, {256, 7, 7, 3, 3, 1},
                         {5, 9, 11, 4, 3, 0},    {3, 10, 12, 6, 5, 2},   {2, 60, 300, 3, 3, 1}};

std::vector<float> convolve(const Shape& s, const std::vector<float>& x, const std::vector<float>& weight, const std::vector<float>& bias) {
  const int64_t oh = s.h + 2 * s.pad - s.kernel + 1, ow = s.w + 2 * s.pad - s.kernel + 1;
  std::vector<float> y(static_cast<size_t>(s.cout * oh * ow));
  std::vector<float> scratch(static_cast<size_t>(adarun::ref::conv2d_scratch_floats(s.cin, s.h, s.w, s.kernel, 1, s.pad, 1)) + 1);
  adarun::ref::conv2d(x.data(), s.cin, s.h, s.w, weight.data(), bias.data(), s.cout, s.kernel, 1, s.pad, 1, scratch.data(), y.data());
  return y;
}

// Token-sized spans as a streamed stage output changes them (`token` floats each, adjacent ones merged), the
// map's first and last floats, a span across a channel boundary and a whole channel (the last).
std::vector<FlatSpan> some_spans(const Shape& s) {
  const int64_t total = s.cin * s.h * s.w, plane = s.h * s.w;
  const int64_t token = std::max<int64_t>(1, std::min<int64_t>(s.cin, total / 64));
  std::vector<bool> changed(size_t(total), false);
  auto mark = [&](int64_t begin, int64_t count) {
    for (int64_t f = std::max<int64_t>(0, begin); f < std::min(total, begin + count); ++f) changed[size_t(f)] = true;
  };
  mark(0, token);
  for (int64_t t = 5; t * token < total; t += 11) mark(t * token, (t % 3 + 1) * token);
  mark(plane - 2, 4);
  mark(total - token, token);
  if (s.cin > 2) mark(total - plane, plane);
  if (s.cin == 2) mark(plane + 5, plane - 5);
  std::vector<FlatSpan> spans;
  for (int64_t f = 0; f < total; ++f) {
    if (!changed[size_t(f)]) continue;
    if (!spans.empty() && spans.back().begin + spans.back().count == f) {
      ++spans.back().count;
    } else {
      spans.push_back({f, 1});
    }
  }
  return spans;
}

std::vector<float> changed_on(const std::vector<float>& previous, const std::vector<FlatSpan>& spans, uint32_t seed) {
  std::vector<float> x = previous;
  const auto fresh = random_values(static_cast<int64_t>(x.size()), seed);
  for (const FlatSpan& span : spans) {
    for (int64_t f = span.begin; f < span.begin + span.count; ++f) x[size_t(f)] = fresh[size_t(f)];
  }
  return x;
}

struct Updated {
  std::vector<float> y;
  int64_t macs;
};

Updated update(adarun::Isa isa, const Shape& s, const std::vector<float>& x, const std::vector<float>& previous, const std::vector<float>& weight,
               std::vector<float> y, const std::vector<FlatSpan>& spans, pthreadpool_t pool) {
  adarun::ConvDeltaArgs args;
  args.x = x.data(), args.previous = previous.data(), args.cin = s.cin, args.h = s.h, args.w = s.w;
  args.weight = weight.data(), args.cout = s.cout, args.kernel = s.kernel, args.pad = s.pad, args.y = y.data();
  const int64_t macs = isa == adarun::Isa::kReference ? adarun::ref::conv2d_delta(args, spans.data(), int64_t(spans.size()))
                                                      : adarun::conv2d_delta(isa, args, spans.data(), int64_t(spans.size()), pool, pool ? 3 : 1);
  return {y, macs};
}

}  // namespace

TEST_CASE("conv2d_delta: conv(previous) updated over the changed spans is conv(x), on the twin and every ISA") {
  std::unique_ptr<pthreadpool, void (*)(pthreadpool_t)> pool(pthreadpool_create(3), pthreadpool_destroy);
  for (const Shape& s : kShapes) {
    const auto previous = random_values(s.cin * s.h * s.w, 51), weight = random_values(s.cout * s.cin * s.kernel * s.kernel, 52);
    const auto bias = random_values(s.cout, 53);
    const std::vector<FlatSpan> spans = some_spans(s);
    const auto x = changed_on(previous, spans, 54);
    const auto expected = convolve(s, x, weight, bias);  // the oracle: the whole convolution of the new input
    const std::vector<double> oracle(expected.begin(), expected.end());
    const auto before = convolve(s, previous, weight, bias);
    CAPTURE(s.cin);
    CAPTURE(s.w);
    CAPTURE(s.kernel);
    const Updated twin = update(adarun::Isa::kReference, s, x, previous, weight, before, spans, nullptr);
    CHECK(adarun::testing::relative_max_diff(twin.y, oracle) < 1e-5);
    // The twin counts one multiply-add per changed float, tap and output channel that lands in the output; every
    // float changed would be the whole convolution's count.
    int64_t changed = 0;
    for (const FlatSpan& span : spans) changed += span.count;
    CHECK(twin.macs > 0);
    CHECK(twin.macs <= changed * s.cout * s.kernel * s.kernel);
    for (adarun::Isa isa : adarun::kPackedIsas) {
      if (!adarun::isa_supported(isa)) continue;
      const std::string isa_name = adarun::isa_name(isa);
      CAPTURE(isa_name);
      const Updated alone = update(isa, s, x, previous, weight, before, spans, nullptr);
      const Updated threaded = update(isa, s, x, previous, weight, before, spans, pool.get());
      CHECK(adarun::testing::relative_max_diff(alone.y, oracle) < 1e-5);
      CHECK(adarun::testing::relative_max_diff(threaded.y, oracle) < 1e-5);
      CHECK(alone.macs == twin.macs);
      CHECK(threaded.macs == twin.macs);
    }
  }
}

TEST_CASE("conv2d_delta: every float changed counts the whole convolution's multiply-adds") {
  const Shape s{3, 6, 7, 2, 3, 1};
  const auto previous = random_values(s.cin * s.h * s.w, 61), weight = random_values(s.cout * s.cin * 9, 62);
  const std::vector<FlatSpan> all = {{0, s.cin * s.h * s.w}};
  const auto x = changed_on(previous, all, 63);
  const std::vector<float> zero_bias(size_t(s.cout), 0.0f);
  // A padded 3x3 on 6x7: each output pixel's taps that land inside the input, summed directly.
  int64_t taps = 0;
  for (int64_t oy = 0; oy < s.h; ++oy) {
    for (int64_t ox = 0; ox < s.w; ++ox) {
      for (int64_t ky = 0; ky < 3; ++ky) {
        for (int64_t kx = 0; kx < 3; ++kx) taps += oy + ky - 1 >= 0 && oy + ky - 1 < s.h && ox + kx - 1 >= 0 && ox + kx - 1 < s.w;
      }
    }
  }
  for (adarun::Isa isa : {adarun::Isa::kReference, adarun::Isa::kAvx2, adarun::Isa::kAvx512, adarun::Isa::kNeon}) {
    if (isa != adarun::Isa::kReference && !adarun::isa_supported(isa)) continue;
    const std::string isa_name = adarun::isa_name(isa);
    CAPTURE(isa_name);
    const Updated u = update(isa, s, x, previous, weight, convolve(s, previous, weight, zero_bias), all, nullptr);
    CHECK(u.macs == taps * s.cin * s.cout);
  }
}
