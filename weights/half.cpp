#include "weights/half.h"

namespace adarun {

void half_to_float(const uint16_t* in, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = half_to_float(in[i]);
}

}  // namespace adarun
