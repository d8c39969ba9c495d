#pragma once
// One aligned allocation carved into named buffers: sizes are planned first, then fixed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

namespace adarun {

class Arena {
 public:
  // Planning: returns a handle to a buffer of `count` floats.
  size_t reserve(int64_t count) {
    const size_t offset = size_;
    size_ += round_up(static_cast<size_t>(count));
    return offset;
  }
  // Allocates everything reserved; false when memory is short.
  bool allocate() {
    storage_.reset(static_cast<float*>(std::aligned_alloc(kAlignment, std::max<size_t>(size_, 1) * sizeof(float))));
    return storage_ != nullptr;
  }
  float* at(size_t handle) const { return storage_.get() + handle; }
  size_t floats() const { return size_; }

 private:
  static constexpr size_t kAlignment = 64;
  static size_t round_up(size_t count) { return (count + 15) / 16 * 16; }
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float, Free> storage_;
  size_t size_ = 0;
};

}  // namespace adarun
