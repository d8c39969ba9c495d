#include "kernels/ref/rows.h"

#include <cstring>

namespace adarun::ref {

void gather_rows(const float* src, const int32_t* index, int64_t count, int64_t cols, float* dst) {
  for (int64_t i = 0; i < count; ++i) std::memcpy(dst + i * cols, src + int64_t{index[i]} * cols, sizeof(float) * cols);
}

void scatter_rows(const float* src, const int32_t* index, int64_t count, int64_t cols, float* dst) {
  for (int64_t i = 0; i < count; ++i) std::memcpy(dst + int64_t{index[i]} * cols, src + i * cols, sizeof(float) * cols);
}

void scatter_add_rows(const float* src, const int32_t* index, int64_t count, int64_t cols, float* dst) {
  for (int64_t i = 0; i < count; ++i) add_inplace(dst + int64_t{index[i]} * cols, src + i * cols, cols);
}

void transpose(const float* src, int64_t rows, int64_t cols, float* dst) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) dst[c * rows + r] = src[r * cols + c];
  }
}

void add_inplace(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

void channel_mean(const float* src, int64_t channels, int64_t pixels, float* dst) {
  for (int64_t c = 0; c < channels; ++c) {
    double sum = 0.0;
    for (int64_t p = 0; p < pixels; ++p) sum += src[c * pixels + p];
    dst[c] = static_cast<float>(sum / static_cast<double>(pixels));
  }
}

void broadcast_channels(const float* src, int64_t channels, int64_t pixels, float* dst) {
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t p = 0; p < pixels; ++p) dst[c * pixels + p] = src[c];
  }
}

}  // namespace adarun::ref
