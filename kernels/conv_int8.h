#pragma once
// 2-D convolution with int8 weights on the dynamically quantized int8 GEMM (kernels/gemm_int8.h), CHW in and out.
// Each output pixel's receptive field (its cin k k input values, zeros where it leaves the image) is one row of the
// GEMM's A, quantized on its own (per row, as gemm_int8 does); the weights are the GEMM's per-output-channel int8
// columns. The field is gathered from a zero-bordered HWC copy of the input in (ky, kx, channel) order, so each tap
// is one contiguous run of cin values; the weights are packed in the same order (the int32 sums do not depend on
// it). The reference twin is ref::conv2d_int8 (tests/kernels/conv_int8_test.cpp).
#include <pthreadpool.h>

#include <cstdint>

#include "kernels/conv.h"
#include "kernels/gemm_int8.h"

namespace adarun {

// Bytes of the packed weights, and the packing of w [cout, cin, k, k] int8 with scales [cout].
int64_t packed_conv_int8_bytes(Int8Kernel kernel, int64_t cout, int64_t cin, int64_t k);
void pack_conv_int8_weights(Int8Kernel kernel, const int8_t* w, const float* scales, int64_t cout, int64_t cin, int64_t k, void* packed);

// Scratch bytes conv2d_int8 needs with `chunks` chunks (the bordered copy, and per chunk the gathered rows, their
// quantized form and the output block). 64-byte aligned.
int64_t conv_int8_scratch_bytes(Int8Kernel kernel, const ConvArgs& shape, int64_t chunks);

// args.weight is unused: `packed` holds the weights. Output pixels in blocks spread over `chunks` chunks on `pool`.
void conv2d_int8(Int8Kernel kernel, const ConvArgs& args, const void* packed, void* scratch, int64_t chunks, pthreadpool_t pool);

}  // namespace adarun
