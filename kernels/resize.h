#pragma once
// Fast CHW resizes for the engine's fast paths; the reference twins (torch-exact) are in kernels/ref/resize.h
// and tests/kernels/resize_test.cpp compares them. Portable C++ the compiler vectorises, for every ISA.
#include <pthreadpool.h>

#include <cstdint>

#include "kernels/gemm.h"

namespace adarun {

// What the engine calls, over `channels` CHW planes: the reference twin on the calling thread for
// Isa::kReference, else the fast kernel below split over `threads` ranges of planes.
void resize_nearest(Isa isa, const float* x, int64_t channels, int64_t h, int64_t w, int64_t oh, int64_t ow, float* y, int threads,
                    pthreadpool_t pool);
void resize_bilinear(Isa isa, const float* x, int64_t channels, int64_t h, int64_t w, int64_t oh, int64_t ow, float* y, int threads,
                     pthreadpool_t pool);

}  // namespace adarun

namespace adarun::fast {

// As ref::resize_nearest, bit for bit: whole output rows are copied when their source row repeats.
void resize_nearest(const float* x, int64_t channels, int64_t h, int64_t w, int64_t oh, int64_t ow, float* y);

// As ref::resize_bilinear (same taps and weights) but summed in float: a few ulps from it.
void resize_bilinear(const float* x, int64_t channels, int64_t h, int64_t w, int64_t oh, int64_t ow, float* y);

}  // namespace adarun::fast
