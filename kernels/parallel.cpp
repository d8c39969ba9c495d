#include "kernels/parallel.h"

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

}  // namespace

void parallelize_1d(pthreadpool_t pool, Task1d task, void* context, size_t range) {
#ifdef ADARUN_TSAN
  Dispatch d{task, nullptr, context, 0, 0};
  __tsan_release(&d.start);
  pthreadpool_parallelize_1d(pool, run_1d, &d, range, 0);
  __tsan_acquire(&d.end);
#else
  pthreadpool_parallelize_1d(pool, task, context, range, 0);
#endif
}

void parallelize_2d(pthreadpool_t pool, Task2d task, void* context, size_t range_i, size_t range_j) {
#ifdef ADARUN_TSAN
  Dispatch d{nullptr, task, context, 0, 0};
  __tsan_release(&d.start);
  pthreadpool_parallelize_2d(pool, run_2d, &d, range_i, range_j, 0);
  __tsan_acquire(&d.end);
#else
  pthreadpool_parallelize_2d(pool, task, context, range_i, range_j, 0);
#endif
}

}  // namespace adarun
