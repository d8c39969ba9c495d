#pragma once
// Fast CHW resizes for the engine's fast paths; the reference twins (torch-exact) are in kernels/ref/resize.h
// and tests/kernels/resize_test.cpp compares them. Portable C++ the compiler vectorises, for every ISA.
#include <cstdint>

namespace adarun {

// As ref::resize_nearest, bit for bit: whole output rows are copied when their source row repeats.
void resize_nearest(const float* x, int64_t channels, int64_t h, int64_t w, int64_t oh, int64_t ow, float* y);

// As ref::resize_bilinear (same taps and weights) but summed in float: a few ulps from it.
void resize_bilinear(const float* x, int64_t channels, int64_t h, int64_t w, int64_t oh, int64_t ow, float* y);

}  // namespace adarun
