#include "kernels/parallel.h"

#include <sched.h>

#include <cstdint>

#if defined(__SANITIZE_THREAD__)
#define ADARUN_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ADARUN_TSAN 1
#endif
#endif

#ifdef ADARUN_TSAN
extern "C" void __tsan_acquire(void* address);
extern "C" void __tsan_release(void* address);
#endif

namespace adarun {
namespace {

#ifdef ADARUN_TSAN
// Two distinct addresses per dispatch: work items acquire `start` (released by the caller only) and release `end`
// (acquired by the caller only), so no work item is ordered after another.
struct Dispatch {
  Task1d task_1d;
  Task2d task_2d;
  void* context;
  char start, end;
};

void run_1d(void* context, size_t i) {
  auto* d = static_cast<Dispatch*>(context);
  __tsan_acquire(&d->start);
  d->task_1d(d->context, i);
  __tsan_release(&d->end);
}

void run_2d(void* context, size_t i, size_t j) {
  auto* d = static_cast<Dispatch*>(context);
  __tsan_acquire(&d->start);
  d->task_2d(d->context, i, j);
  __tsan_release(&d->end);
}
#endif

// The CPUs this process may run on.
size_t usable_cpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  const int count = CPU_COUNT(&set);
  return count > 0 ? static_cast<size_t>(count) : 1;
}

// pthreadpool's threads spin while they wait. With more threads than CPUs, a spinning thread holds the CPU that
// the thread it waits for needs, and each dispatch can cost a scheduler time slice: Swin-T 224 on 3 threads of 2
// CPUs took 2172 ms instead of 92 ms on 2. Such a pool's workers wait in the kernel instead (which costs a wake-up
// per dispatch, so pools that fit keep spinning).
uint32_t dispatch_flags(pthreadpool_t pool) {
  static const size_t cpus = usable_cpus();
  return pool && pthreadpool_get_threads_count(pool) > cpus ? PTHREADPOOL_FLAG_YIELD_WORKERS : 0;
}

}  // namespace

void parallelize_1d(pthreadpool_t pool, Task1d task, void* context, size_t range) {
  const uint32_t flags = dispatch_flags(pool);
#ifdef ADARUN_TSAN
  Dispatch d{task, nullptr, context, 0, 0};
  __tsan_release(&d.start);
  pthreadpool_parallelize_1d(pool, run_1d, &d, range, flags);
  __tsan_acquire(&d.end);
#else
  pthreadpool_parallelize_1d(pool, task, context, range, flags);
#endif
}

void parallelize_2d(pthreadpool_t pool, Task2d task, void* context, size_t range_i, size_t range_j) {
  const uint32_t flags = dispatch_flags(pool);
#ifdef ADARUN_TSAN
  Dispatch d{nullptr, task, context, 0, 0};
  __tsan_release(&d.start);
  pthreadpool_parallelize_2d(pool, run_2d, &d, range_i, range_j, flags);
  __tsan_acquire(&d.end);
#else
  pthreadpool_parallelize_2d(pool, task, context, range_i, range_j, flags);
#endif
}

}  // namespace adarun
