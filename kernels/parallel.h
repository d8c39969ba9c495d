#pragma once
// Every dispatch to the thread pool goes through here. pthreadpool is not built with ThreadSanitizer, so under TSan
// its hand-offs are declared explicitly: the caller's writes happen before every work item, and every work item
// happens before the caller goes on. Work items stay unordered among themselves, so races between them are reported.
#include <pthreadpool.h>

#include <cstddef>

namespace adarun {

using Task1d = void (*)(void* context, size_t i);
using Task2d = void (*)(void* context, size_t i, size_t j);

void parallelize_1d(pthreadpool_t pool, Task1d task, void* context, size_t range);
void parallelize_2d(pthreadpool_t pool, Task2d task, void* context, size_t range_i, size_t range_j);

}  // namespace adarun
