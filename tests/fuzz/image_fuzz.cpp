// libFuzzer target: any bytes as an encoded image (PNG, JPEG, BMP, GIF, ...) of any size, through the input path
// the CLI uses, to a small model input. Must give a status, never crash or leak.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/src/image_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr int64_t kModelSize = 32;
  std::vector<float> input;
  (void)adarun::decode_image(data, size, kModelSize, &input);
  return 0;
}
