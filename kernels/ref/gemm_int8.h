#pragma once
// The reference twin of the dynamically quantized int8 GEMM (kernels/gemm_int8.h), in plain scalar code.
#include <cstdint>

namespace adarun::ref {

// Rows whose largest magnitude is below this quantize as zero rows (127 / max|x| would overflow near FLT_MIN).
constexpr float kQuantizeZeroBelow = 1e-30f;

// The rule every kernel's row quantizer shares, from the row's max|x|: whether its q are all 0 (too small, infinite
// or NaN: kernels/gemm_int8.h), and its scale.
constexpr bool quantizes_to_zero(float max_abs) { return !(max_abs >= kQuantizeZeroBelow) || max_abs == __builtin_inff(); }
constexpr float row_scale(float max_abs) { return max_abs >= kQuantizeZeroBelow ? max_abs / 127.0f : 0.0f; }

// A row quantized symmetrically: q[j] = round-half-even(x[j] * (127 / max|x|)) in [-127, 127]; returns the row's
// scale max|x| / 127 (0, with q all 0, when max|x| < kQuantizeZeroBelow).
float quantize_row(const float* x, int64_t k, int8_t* q);

// y[rows, out] = float(sum_j qx[i, j] w[o, j]) * (sx[i] * w_scale[o]) + bias[o] (bias may be nullptr), x's rows
// quantized by quantize_row; w: [out, in] int8, w_scale: [out]. y must not alias x.
void linear_int8(const float* x, int64_t rows, int64_t in, const int8_t* w, const float* w_scale, const float* bias, int64_t out,
                 float* y);

}  // namespace adarun::ref
