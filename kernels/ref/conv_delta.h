#pragma once
#include <cstdint>

#include "kernels/conv_delta.h"

namespace adarun::ref {

// The twin of adarun::conv2d_delta: for every float of every span, its change times each tap, added to the
// output pixel that tap reaches (skipped outside the output). Returns the multiply-adds counted as
// conv2d_delta counts them.
int64_t conv2d_delta(const ConvDeltaArgs& args, const FlatSpan* spans, int64_t span_count);

}  // namespace adarun::ref
