#pragma once
// The fast twins of kernels/ref/rows.h and ref::relu: how tokens move between layouts, residual adds and ReLU.
// They are memory-bound, so one portable source serves every ISA: its loops are written for the compiler to
// vectorise (SSE2 on any x86-64, Advanced SIMD on aarch64), and transpose goes in cache-sized blocks.
// The dispatchers at the top spread them over the threads; tests/kernels/fast_rows_test.cpp compares them with the twins.
#include <pthreadpool.h>

#include <cstdint>

#include "kernels/gemm.h"

namespace adarun {

// What the engine calls: the reference twin on the calling thread for Isa::kReference, else the fast kernel
// below split over `threads` ranges of the pool.
void gather_rows(Isa isa, const float* src, const int32_t* index, int64_t count, int64_t cols, float* dst, int threads, pthreadpool_t pool);
void scatter_rows(Isa isa, const float* src, const int32_t* index, int64_t count, int64_t cols, float* dst, int threads, pthreadpool_t pool);
void scatter_add_rows(Isa isa, const float* src, const int32_t* index, int64_t count, int64_t cols, float* dst, int threads,
                      pthreadpool_t pool);
void transpose(Isa isa, const float* src, int64_t rows, int64_t cols, float* dst, int threads, pthreadpool_t pool);
void add_inplace(Isa isa, float* y, const float* x, int64_t n, int threads, pthreadpool_t pool);
void relu(Isa isa, float* x, int64_t n, int threads, pthreadpool_t pool);
void channel_mean(Isa isa, const float* src, int64_t channels, int64_t pixels, float* dst, int threads, pthreadpool_t pool);
void broadcast_channels(Isa isa, const float* src, int64_t channels, int64_t pixels, float* dst, int threads, pthreadpool_t pool);

}  // namespace adarun

namespace adarun::fast {

// dst[i, :] = src[index[i], :], dst[index[i], :] = src[i, :], dst[index[i], :] += src[i, :] for i < count.
void gather_rows(const float* src, const int32_t* index, int64_t count, int64_t cols, float* dst);
void scatter_rows(const float* src, const int32_t* index, int64_t count, int64_t cols, float* dst);
void scatter_add_rows(const float* src, const int32_t* index, int64_t count, int64_t cols, float* dst);
// dst[cols, rows] = src[rows, cols]^T for the columns [col_begin, col_end) of src (dst rows of that range).
void transpose(const float* src, int64_t rows, int64_t cols, int64_t col_begin, int64_t col_end, float* dst);
// y += x; x = max(x, 0).
void add_inplace(float* y, const float* x, int64_t n);
void relu(float* x, int64_t n);
// dst[c] = mean of src[c, :] (summed in float, eight partial sums: a few ulps from the twin);
// dst[c, :] = src[c] (exact).
void channel_mean(const float* src, int64_t channels, int64_t pixels, float* dst);
void broadcast_channels(const float* src, int64_t channels, int64_t pixels, float* dst);

}  // namespace adarun::fast
