// Kernel benchmarks on the Swin-T 224 shapes: the reference GEMM, the packed ones this CPU runs
// (AVX2, AVX-512 or NEON; fc1 also with its GELU epilogue), the int8 ones (A quantized in the timed loop, as at run time) and XNNPACK's side by side, window attention per ISA, and the FMA peak they
// are measured against. And the bundled model's first head convolution (stage 0's merged output, 28 x 28 tokens of 64
// floats read as [64, 28, 28], -> 16 channels, 3x3) whole and as a streaming update over 1 and 4 of its 16 windows
// changed (conv2d_delta).
#include <benchmark/benchmark.h>
#include <xnnpack.h>

#include <cmath>

#include <cstdlib>
#include <random>
#include <vector>

#include "bench/fma_peak.h"
#include "kernels/attention.h"
#include "kernels/conv.h"
#include "kernels/conv_delta.h"
#include "kernels/conv_int8.h"
#include "kernels/gemm.h"
#include "kernels/gemm_int8.h"
#include "kernels/ref/gemm.h"

namespace {

struct Shape {
  const char* name;
  int64_t m, n, k;
};

// Swin-T 224 linears: stage 0 qkv, fc1, fc2; stage 2 qkv, fc1, fc2; a merging reduction.
const Shape kShapes[] = {{"s0_qkv", 3136, 288, 96},  {"s0_fc1", 3136, 384, 96},   {"s0_fc2", 3136, 96, 384},
                         {"s2_qkv", 196, 1152, 384}, {"s2_fc1", 196, 1536, 384},  {"s2_fc2", 196, 384, 1536},
                         {"s1_merge", 196, 384, 768}};

std::vector<float> random_floats(int64_t n) {
  std::mt19937 generator(1);
  std::normal_distribution<float> normal;
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = normal(generator);
  return v;
}

void report(benchmark::State& state, const Shape& s) {
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(s.m * s.n * s.k), benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}

void gemm_reference(benchmark::State& state, Shape s) {
  const auto a = random_floats(s.m * s.k), w = random_floats(s.n * s.k), bias = random_floats(s.n);
  std::vector<float> c(static_cast<size_t>(s.m * s.n));
  for (auto _ : state) adarun::ref::linear(a.data(), s.m, s.k, w.data(), bias.data(), s.n, c.data());
  report(state, s);
}

// gelu: with the GELU epilogue, as the MLPs' fc1 runs.
void gemm_packed(benchmark::State& state, Shape s, adarun::Isa isa, bool gelu) {
  const auto a = random_floats(s.m * s.k), w = random_floats(s.n * s.k), bias = random_floats(s.n);
  float* packed = static_cast<float*>(std::aligned_alloc(64, size_t(adarun::packed_weight_floats(isa, s.n, s.k) + 16) * 4));
  adarun::pack_weights(isa, w.data(), s.n, s.k, packed);
  std::vector<float> c(static_cast<size_t>(s.m * s.n));
  adarun::GemmArgs args;
  args.a = a.data(), args.lda = s.k, args.packed = packed, args.bias = bias.data();
  args.c = c.data(), args.ldc = s.n, args.m = s.m, args.n = s.n, args.k = s.k, args.gelu = gelu;
  for (auto _ : state) adarun::gemm(isa, args, nullptr);
  report(state, s);
  std::free(packed);
}

// The dynamically quantized int8 GEMM: each iteration quantizes A's rows too, as a frame does.
void gemm_int8(benchmark::State& state, Shape s, adarun::Int8Kernel kernel) {
  const auto a = random_floats(s.m * s.k), bias = random_floats(s.n);
  std::vector<int8_t> w(static_cast<size_t>(s.n * s.k));
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<int8_t>(int(i * 37 % 255) - 127);
  const std::vector<float> scales(static_cast<size_t>(s.n), 0.01f);
  void* packed = std::aligned_alloc(64, size_t(adarun::packed_int8_bytes(kernel, s.n, s.k) + 63) / 64 * 64);
  void* quantized = std::aligned_alloc(64, size_t(adarun::quantized_rows_bytes(kernel, s.m, s.k) + 63) / 64 * 64);
  adarun::pack_int8_weights(kernel, w.data(), scales.data(), s.n, s.k, packed);
  std::vector<float> c(static_cast<size_t>(s.m * s.n));
  adarun::Int8GemmArgs args;
  args.a = a.data(), args.lda = s.k, args.packed = packed, args.bias = bias.data();
  args.c = c.data(), args.ldc = s.n, args.m = s.m, args.n = s.n, args.k = s.k, args.quantized = quantized;
  for (auto _ : state) adarun::gemm_int8(kernel, args, nullptr);
  report(state, s);
  std::free(packed);
  std::free(quantized);
}

// XNNPACK's fully-connected operator on the same shape: its weights are packed at creation too.
void gemm_xnnpack(benchmark::State& state, Shape s) {
  if (xnn_initialize(nullptr) != xnn_status_success) return state.SkipWithError("xnn_initialize failed");
  const auto a = random_floats(s.m * s.k), w = random_floats(s.n * s.k), bias = random_floats(s.n);
  std::vector<float> c(static_cast<size_t>(s.m * s.n));
  xnn_operator_t op = nullptr;
  if (xnn_create_fully_connected_nc_f32(size_t(s.k), size_t(s.n), size_t(s.k), size_t(s.n), w.data(), bias.data(), -INFINITY,
                                        INFINITY, 0, &op) != xnn_status_success ||
      xnn_setup_fully_connected_nc_f32(op, size_t(s.m), a.data(), c.data(), nullptr) != xnn_status_success) {
    return state.SkipWithError("XNNPACK fully connected setup failed");
  }
  for (auto _ : state) xnn_run_operator(op, nullptr);
  xnn_delete_operator(op);
  report(state, s);
}

struct AttentionShape {
  const char* name;
  int64_t windows, heads;  // Swin-T: 7x7 windows of 32-wide heads
};

// Swin-T 224's stages: 64 windows x 3 heads, 16 x 6, 4 x 12, 1 x 24; shifted (masked) blocks.
const AttentionShape kAttentionShapes[] = {{"s0", 64, 3}, {"s1", 16, 6}, {"s2", 4, 12}, {"s3", 1, 24}};

// One shifted block's window attention on `isa` (kReference: the scalar twin), one thread.
void window_attention(benchmark::State& state, AttentionShape s, adarun::Isa isa) {
  constexpr int64_t n = 49, head_dim = 32;
  const int64_t dim = s.heads * head_dim;
  const auto qkv = random_floats(s.windows * n * 3 * dim), bias = random_floats(s.heads * n * n);
  // Shifted-window masks as the model has them: 0 within a region, -100 across (make_window_plan).
  std::vector<float> masks(size_t(s.windows * n * n), 0.0f);
  for (size_t i = 0; i < masks.size(); ++i) masks[i] = (i * 2654435761u) % 3 == 0 ? -100.0f : 0.0f;
  std::vector<float> out(size_t(s.windows * n * dim)), scratch(size_t(adarun::window_attention_scratch_floats(n, head_dim)));
  adarun::WindowAttentionArgs args;
  args.qkv = qkv.data(), args.rel_bias = bias.data(), args.masks = masks.data(), args.out = out.data();
  args.windows = s.windows, args.n = n, args.heads = s.heads, args.head_dim = head_dim;
  args.scale = 1.0f / std::sqrt(float(head_dim));
  for (auto _ : state) adarun::window_attention(isa, args, scratch.data(), 1, nullptr);
  // q k^T and p v: 2 n^2 head_dim MACs per (window, head).
  state.counters["GFLOP/s"] = benchmark::Counter(4.0 * double(s.windows * s.heads * n * n * head_dim),
                                                 benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

// The head convolution's input: stage 0's merged output, 28 x 28 tokens of 64 floats, read as [64, 28, 28]; the
// bundled model's decoders make 16 channels of it, wider decoders more.
adarun::ConvArgs head_conv_shape(int64_t cout = 16) {
  adarun::ConvArgs a;
  a.cin = 64, a.h = 28, a.w = 28, a.cout = cout, a.kernel = 3, a.pad = 1;
  return a;
}
constexpr int64_t kHeadConvOutputs[] = {16, 32, 64, 128};

void head_conv_dense(benchmark::State& state, adarun::Isa isa) {
  adarun::ConvArgs a = head_conv_shape(state.range(0));
  const auto x = random_floats(a.cin * a.h * a.w), w = random_floats(a.cout * a.cin * 9), bias = random_floats(a.cout);
  std::vector<float> y(size_t(a.cout * a.h * a.w));
  a.x = x.data(), a.weight = w.data(), a.bias = bias.data(), a.y = y.data();
  float* scratch = static_cast<float*>(std::aligned_alloc(64, size_t(adarun::conv_scratch_floats(isa, a, 1) + 16) * 4));
  for (auto _ : state) adarun::conv2d(isa, a, scratch, 1, nullptr);
  std::free(scratch);
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(a.cout * a.cin * 9 * a.h * a.w), benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}

// The same convolution with int8 weights (an int8 weight file's heads): each output pixel's field gathered and
// quantized, one int8 GEMM per block of pixels.
void head_conv_int8(benchmark::State& state, adarun::Int8Kernel kernel) {
  adarun::ConvArgs a = head_conv_shape(state.range(0));
  const auto x = random_floats(a.cin * a.h * a.w), bias = random_floats(a.cout);
  std::vector<int8_t> w(size_t(a.cout * a.cin * 9));
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<int8_t>(int(i * 37 % 255) - 127);
  const std::vector<float> scales(size_t(a.cout), 0.01f);
  std::vector<float> y(size_t(a.cout * a.h * a.w));
  a.x = x.data(), a.bias = bias.data(), a.y = y.data();
  void* packed = std::aligned_alloc(64, size_t(adarun::packed_conv_int8_bytes(kernel, a.cout, a.cin, 3) + 63) / 64 * 64);
  void* scratch = std::aligned_alloc(64, size_t(adarun::conv_int8_scratch_bytes(kernel, a, 1) + 63) / 64 * 64);
  adarun::pack_conv_int8_weights(kernel, w.data(), scales.data(), a.cout, a.cin, 3, packed);
  for (auto _ : state) adarun::conv2d_int8(kernel, a, packed, scratch, 1, nullptr);
  std::free(packed);
  std::free(scratch);
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(a.cout * a.cin * 9 * a.h * a.w), benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}

// The first `windows` 7x7-token windows of the 4 x 4 changed: their tokens' floats.
void head_conv_delta(benchmark::State& state, adarun::Isa isa, int windows) {
  const adarun::ConvArgs shape = head_conv_shape();
  const auto previous = random_floats(shape.cin * shape.h * shape.w), w = random_floats(shape.cout * shape.cin * 9);
  std::vector<float> x = previous, y(size_t(shape.cout * shape.h * shape.w));
  std::vector<adarun::FlatSpan> spans;
  for (int window = 0; window < windows; ++window) {
    for (int64_t row = 0; row < 7; ++row) {
      const int64_t token = (window / 4 * 7 + row) * 28 + window % 4 * 7, floats = 7 * shape.cin;
      for (int64_t f = token * shape.cin; f < token * shape.cin + floats; ++f) x[size_t(f)] += 1.0f;
      spans.push_back({token * shape.cin, floats});
    }
  }
  adarun::ConvDeltaArgs a;
  a.x = x.data(), a.previous = previous.data(), a.cin = shape.cin, a.h = shape.h, a.w = shape.w;
  a.weight = w.data(), a.cout = shape.cout, a.kernel = 3, a.pad = 1, a.y = y.data();
  int64_t macs = 0;
  for (auto _ : state) macs = adarun::conv2d_delta(isa, a, spans.data(), int64_t(spans.size()), nullptr, 1);
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * double(macs), benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

void fma_peak(benchmark::State& state, adarun::Isa isa) {
  double gflops = 0;
  for (auto _ : state) gflops = adarun::bench::fma_peak_gflops(isa, 0.2);
  state.counters["GFLOP/s"] = gflops;
}

void register_benchmarks() {
  for (adarun::Isa isa : adarun::kPackedIsas) {
    if (!adarun::isa_supported(isa)) continue;
    benchmark::RegisterBenchmark((std::string("fma_peak/") + adarun::isa_name(isa)).c_str(), fma_peak, isa)->Iterations(3);
  }
  for (const Shape& s : kShapes) {
    benchmark::RegisterBenchmark((std::string("gemm/ref/") + s.name).c_str(), gemm_reference, s);
    for (adarun::Isa isa : adarun::kPackedIsas) {
      if (!adarun::isa_supported(isa)) continue;
      benchmark::RegisterBenchmark((std::string("gemm/") + adarun::isa_name(isa) + "/" + s.name).c_str(), gemm_packed, s, isa, false);
      if (std::string(s.name).find("fc1") != std::string::npos) {
        benchmark::RegisterBenchmark((std::string("gemm_gelu/") + adarun::isa_name(isa) + "/" + s.name).c_str(), gemm_packed, s, isa, true);
      }
    }
    for (adarun::Int8Kernel kernel : adarun::kInt8Kernels) {
      if (!adarun::int8_kernel_supported(kernel)) continue;
      benchmark::RegisterBenchmark((std::string("gemm_int8/") + adarun::int8_kernel_name(kernel) + "/" + s.name).c_str(), gemm_int8, s,
                                   kernel);
    }
    benchmark::RegisterBenchmark((std::string("gemm/xnnpack/") + s.name).c_str(), gemm_xnnpack, s);
  }
  for (adarun::Isa isa : adarun::kPackedIsas) {
    if (!adarun::isa_supported(isa)) continue;
    auto* dense = benchmark::RegisterBenchmark((std::string("head_conv/dense/") + adarun::isa_name(isa)).c_str(), head_conv_dense, isa);
    for (int64_t cout : kHeadConvOutputs) dense->ArgName("cout")->Arg(cout);
    for (int windows : {1, 4}) {
      benchmark::RegisterBenchmark((std::string("head_conv/delta/") + adarun::isa_name(isa) + "/" + std::to_string(windows) + "_of_16").c_str(),
                                   head_conv_delta, isa, windows);
    }
  }
  for (adarun::Int8Kernel kernel : adarun::kInt8Kernels) {
    if (!adarun::int8_kernel_supported(kernel)) continue;
    auto* int8 = benchmark::RegisterBenchmark((std::string("head_conv/int8/") + adarun::int8_kernel_name(kernel)).c_str(), head_conv_int8, kernel);
    for (int64_t cout : kHeadConvOutputs) int8->ArgName("cout")->Arg(cout);
  }
  for (const AttentionShape& s : kAttentionShapes) {
    benchmark::RegisterBenchmark((std::string("attention/ref/") + s.name).c_str(), window_attention, s, adarun::Isa::kReference);
    for (adarun::Isa isa : adarun::kPackedIsas) {
      if (!adarun::isa_supported(isa)) continue;
      benchmark::RegisterBenchmark((std::string("attention/") + adarun::isa_name(isa) + "/" + s.name).c_str(), window_attention, s, isa);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_benchmarks();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
