#include "kernels/attention.h"

#include <algorithm>

#include "kernels/parallel.h"
#include "kernels/ref/window_attention.h"

namespace adarun {
namespace {

struct AttentionTask {
  const WindowAttentionArgs* args;
  Isa isa;
  float* scratch;
  int64_t scratch_per_thread;
  int64_t chunks;
};

void run_window(const AttentionTask& task, int64_t w, float* scratch) {
  const WindowAttentionArgs& a = *task.args;
  const int64_t dim = a.heads * a.head_dim;
  const float* mask = a.masks ? a.masks + w * a.n * a.n : nullptr;
#ifdef ADARUN_X86_KERNELS
  if (task.isa == Isa::kAvx512) {
    for (int64_t h = 0; h < a.heads; ++h) avx512::attention_head(a, w, h, scratch);
    return;
  }
  if (task.isa == Isa::kAvx2) {
    for (int64_t h = 0; h < a.heads; ++h) avx2::attention_head(a, w, h, scratch);
    return;
  }
#endif
#ifdef ADARUN_ARM_KERNELS
  if (task.isa == Isa::kNeon) {
    for (int64_t h = 0; h < a.heads; ++h) neon::attention_head(a, w, h, scratch);
    return;
  }
#endif
  {
    ref::window_attention(a.qkv + w * a.n * 3 * dim, a.n, a.heads, a.head_dim, a.rel_bias, mask, a.scale, scratch,
                          a.out + w * a.n * dim);
  }
}

// Chunk `chunk` of `chunks` owns a contiguous range of windows and scratch slice `chunk`.
void run_chunk(void* context, size_t chunk) {
  const AttentionTask& task = *static_cast<const AttentionTask*>(context);
  const int64_t windows = task.args->windows, c = static_cast<int64_t>(chunk);
  float* scratch = task.scratch + c * task.scratch_per_thread;
  for (int64_t w = c * windows / task.chunks; w < (c + 1) * windows / task.chunks; ++w) run_window(task, w, scratch);
}

}  // namespace

int64_t window_attention_scratch_floats(int64_t n, int64_t head_dim) {
  const int64_t padded = (n + 15) / 16 * 16;
  return (padded * n + head_dim * padded + 16 + 15) / 16 * 16;  // scores and a transposed k, 64-byte rows
}

void window_attention(Isa isa, const WindowAttentionArgs& args, float* scratch, int threads, pthreadpool_t pool) {
  const int64_t chunks = std::min<int64_t>(std::max(threads, 1), args.windows);
  const AttentionTask task{&args, isa, scratch, window_attention_scratch_floats(args.n, args.head_dim), chunks};
  parallelize_1d(pool, run_chunk, const_cast<AttentionTask*>(&task), size_t(chunks));
}

}  // namespace adarun
