#include "kernels/rows.h"

#include <algorithm>
#include <cstring>

#include "kernels/parallel.h"
#include "kernels/ref/activations.h"
#include "kernels/ref/rows.h"

namespace adarun::fast {
namespace {

// A transpose block: 16 x 16 floats read and 16 x 16 written stay within 32 cache lines.
constexpr int64_t kBlock = 16;

inline void add_row(float* __restrict y, const float* __restrict x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace

void gather_rows(const float* src, const int32_t* index, int64_t count, int64_t cols, float* dst) {
  for (int64_t i = 0; i < count; ++i) std::memcpy(dst + i * cols, src + int64_t{index[i]} * cols, sizeof(float) * size_t(cols));
}

void scatter_rows(const float* src, const int32_t* index, int64_t count, int64_t cols, float* dst) {
  for (int64_t i = 0; i < count; ++i) std::memcpy(dst + int64_t{index[i]} * cols, src + i * cols, sizeof(float) * size_t(cols));
}

void scatter_add_rows(const float* src, const int32_t* index, int64_t count, int64_t cols, float* dst) {
  for (int64_t i = 0; i < count; ++i) add_row(dst + int64_t{index[i]} * cols, src + i * cols, cols);
}

void transpose(const float* src, int64_t rows, int64_t cols, int64_t col_begin, int64_t col_end, float* dst) {
  for (int64_t c0 = col_begin; c0 < col_end; c0 += kBlock) {
    const int64_t c1 = std::min(c0 + kBlock, col_end);
    for (int64_t r0 = 0; r0 < rows; r0 += kBlock) {
      const int64_t r1 = std::min(r0 + kBlock, rows);
      for (int64_t c = c0; c < c1; ++c) {
        for (int64_t r = r0; r < r1; ++r) dst[c * rows + r] = src[r * cols + c];
      }
    }
  }
}

void add_inplace(float* y, const float* x, int64_t n) { add_row(y, x, n); }

void relu(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = x[i] < 0.0f ? 0.0f : x[i];  // NaN and -0 pass, as std::max(x, 0) in the twin
}

void channel_mean(const float* src, int64_t channels, int64_t pixels, float* dst) {
  constexpr int64_t kLanes = 8;
  for (int64_t c = 0; c < channels; ++c) {
    const float* plane = src + c * pixels;
    float partial[kLanes] = {};
    int64_t p = 0;
    for (; p + kLanes <= pixels; p += kLanes) {
      for (int64_t lane = 0; lane < kLanes; ++lane) partial[lane] += plane[p + lane];
    }
    for (; p < pixels; ++p) partial[p % kLanes] += plane[p];
    float sum = 0.0f;
    for (float value : partial) sum += value;
    dst[c] = sum / static_cast<float>(pixels);
  }
}

void broadcast_channels(const float* src, int64_t channels, int64_t pixels, float* dst) {
  for (int64_t c = 0; c < channels; ++c) std::fill(dst + c * pixels, dst + (c + 1) * pixels, src[c]);
}

}  // namespace adarun::fast

namespace adarun {

void gather_rows(Isa isa, const float* src, const int32_t* index, int64_t count, int64_t cols, float* dst, int threads, pthreadpool_t pool) {
  if (isa == Isa::kReference) return ref::gather_rows(src, index, count, cols, dst);
  parallel_ranges(pool, threads, count, [&](int64_t begin, int64_t end) {
    fast::gather_rows(src, index + begin, end - begin, cols, dst + begin * cols);
  });
}

void scatter_rows(Isa isa, const float* src, const int32_t* index, int64_t count, int64_t cols, float* dst, int threads, pthreadpool_t pool) {
  if (isa == Isa::kReference) return ref::scatter_rows(src, index, count, cols, dst);
  parallel_ranges(pool, threads, count, [&](int64_t begin, int64_t end) {
    fast::scatter_rows(src + begin * cols, index + begin, end - begin, cols, dst);
  });
}

void scatter_add_rows(Isa isa, const float* src, const int32_t* index, int64_t count, int64_t cols, float* dst, int threads,
                      pthreadpool_t pool) {
  if (isa == Isa::kReference) return ref::scatter_add_rows(src, index, count, cols, dst);
  parallel_ranges(pool, threads, count, [&](int64_t begin, int64_t end) {
    fast::scatter_add_rows(src + begin * cols, index + begin, end - begin, cols, dst);
  });
}

void transpose(Isa isa, const float* src, int64_t rows, int64_t cols, float* dst, int threads, pthreadpool_t pool) {
  if (isa == Isa::kReference) return ref::transpose(src, rows, cols, dst);
  parallel_ranges(pool, threads, cols, [&](int64_t begin, int64_t end) { fast::transpose(src, rows, cols, begin, end, dst); });
}

void add_inplace(Isa isa, float* y, const float* x, int64_t n, int threads, pthreadpool_t pool) {
  if (isa == Isa::kReference) return ref::add_inplace(y, x, n);
  parallel_ranges(pool, threads, n, [&](int64_t begin, int64_t end) { fast::add_inplace(y + begin, x + begin, end - begin); });
}

void relu(Isa isa, float* x, int64_t n, int threads, pthreadpool_t pool) {
  if (isa == Isa::kReference) return ref::relu(x, n);
  parallel_ranges(pool, threads, n, [&](int64_t begin, int64_t end) { fast::relu(x + begin, end - begin); });
}

void channel_mean(Isa isa, const float* src, int64_t channels, int64_t pixels, float* dst, int threads, pthreadpool_t pool) {
  if (isa == Isa::kReference) return ref::channel_mean(src, channels, pixels, dst);
  parallel_ranges(pool, threads, channels, [&](int64_t begin, int64_t end) {
    fast::channel_mean(src + begin * pixels, end - begin, pixels, dst + begin);
  });
}

void broadcast_channels(Isa isa, const float* src, int64_t channels, int64_t pixels, float* dst, int threads, pthreadpool_t pool) {
  if (isa == Isa::kReference) return ref::broadcast_channels(src, channels, pixels, dst);
  parallel_ranges(pool, threads, channels, [&](int64_t begin, int64_t end) {
    fast::broadcast_channels(src + begin, end - begin, pixels, dst + begin * pixels);
  });
}

}  // namespace adarun
