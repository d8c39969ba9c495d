#pragma once
// The fast twin of ref::blur_1_6_1 (kernels/ref/blur.h): the separable [1/8, 3/4, 1/8] blur with replicated edges
// over CHW planes, which stands for the updecoder head's bilinear x2, x2 and 4 S -> S resizes. Memory-bound, so one
// portable source serves every ISA, its loops written for the compiler to vectorise; tests/kernels/blur_test.cpp
// compares both with the chain of reference resizes and with each other.
#include <pthreadpool.h>

#include <cstdint>

#include "kernels/gemm.h"

namespace adarun {

// What the engine calls, over `channels` CHW planes of h x w (y the same size, not x): the reference twin on the
// calling thread for Isa::kReference, else the fast kernel below split over `threads` ranges of the planes' rows.
void blur_1_6_1(Isa isa, const float* x, int64_t channels, int64_t h, int64_t w, float* y, int threads, pthreadpool_t pool);

}  // namespace adarun

namespace adarun::fast {

// As ref::blur_1_6_1, summed in float (a vertical pass, then a horizontal one): a few ulps from it. Writes output
// rows [row_begin, row_end) of the channels * h rows of y (row r is row r % h of plane r / h).
void blur_1_6_1(const float* x, int64_t h, int64_t w, int64_t row_begin, int64_t row_end, float* y);

}  // namespace adarun::fast
