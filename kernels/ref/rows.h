#pragma once
// Row gathers and scatters: how tokens move between grid order, window order and kept-token lists.
#include <cstdint>

namespace adarun::ref {

// dst[i, :] = src[index[i], :] for i < count; rows are `cols` floats.
void gather_rows(const float* src, const int32_t* index, int64_t count, int64_t cols, float* dst);

// dst[index[i], :] = src[i, :].
void scatter_rows(const float* src, const int32_t* index, int64_t count, int64_t cols, float* dst);

// dst[index[i], :] += src[i, :].
void scatter_add_rows(const float* src, const int32_t* index, int64_t count, int64_t cols, float* dst);

// dst[cols, rows] = src[rows, cols]^T: token-major maps to CHW and back.
void transpose(const float* src, int64_t rows, int64_t cols, float* dst);

// y[i] += x[i].
void add_inplace(float* y, const float* x, int64_t n);

// Global average pooling of a CHW map: dst[c] = the mean of src[c, :] over `pixels` values (summed in double).
void channel_mean(const float* src, int64_t channels, int64_t pixels, float* dst);

// Its broadcast back: dst[c, p] = src[c] for every pixel p < pixels.
void broadcast_channels(const float* src, int64_t channels, int64_t pixels, float* dst);

}  // namespace adarun::ref
