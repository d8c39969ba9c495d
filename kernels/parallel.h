#pragma once
// Every dispatch to the thread pool goes through here. pthreadpool is not built with ThreadSanitizer, so under TSan
// its hand-offs are declared explicitly: the caller's writes happen before every work item, and every work item
// happens before the caller goes on. Work items stay unordered among themselves, so races between them are reported.
#include <pthreadpool.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace adarun {

using Task1d = void (*)(void* context, size_t i);
using Task2d = void (*)(void* context, size_t i, size_t j);

void parallelize_1d(pthreadpool_t pool, Task1d task, void* context, size_t range);
void parallelize_2d(pthreadpool_t pool, Task2d task, void* context, size_t range_i, size_t range_j);

// Splits [0, count) into one contiguous range per thread (at most `threads`) and runs fn(begin, end) on each.
template <typename Fn>
void parallel_ranges(pthreadpool_t pool, int threads, int64_t count, const Fn& fn) {
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(threads, count));
  struct Task {
    const Fn* fn;
    int64_t count, chunks;
  } task{&fn, count, chunks};
  auto run = [](void* context, size_t chunk) {
    const Task& t = *static_cast<const Task*>(context);
    const int64_t c = static_cast<int64_t>(chunk);
    (*t.fn)(c * t.count / t.chunks, (c + 1) * t.count / t.chunks);
  };
  parallelize_1d(pool, run, &task, static_cast<size_t>(chunks));
}

}  // namespace adarun
