#pragma once
#include <cstdint>

namespace adarun::ref {

// CHW planar. The separable blur [1/8, 3/4, 1/8] along each axis with replicated edges (indices clamped to the
// plane), y the same size as x: y[c, i, j] = sum over a, b in {-1, 0, 1} of k[a] k[b] x[c, clamp(i + a), clamp(j + b)],
// k = {1/8, 3/4, 1/8}. The nine exact weights' products summed in double, rounded once.
//
// It is what bilinear (align_corners=False) x2 upsamplings followed by the bilinear resize back to the first size
// compute (the updecoder head's x2, x2, 4 S -> S; engine/src/build_updecoder_head.cpp has the derivation): equal in
// exact arithmetic, within float rounding of the chain of ref::resize_bilinear.
void blur_1_6_1(const float* x, int64_t channels, int64_t h, int64_t w, float* y);

}  // namespace adarun::ref
