// libFuzzer target: any bytes as a weight file, then as a model. Must give a status, never crash or leak.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "engine/src/model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<adarun::Model> model;
  (void)adarun::Model::load_memory(data, size, &model);
  return 0;
}
