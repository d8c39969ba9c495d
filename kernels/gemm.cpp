#include "kernels/gemm.h"

#include <cstdlib>
#include <cstring>

#include "kernels/parallel.h"

#ifdef ADARUN_X86_KERNELS
#include "kernels/x86/gemm_tiles.h"
#endif

namespace adarun {
namespace {

#ifdef ADARUN_X86_KERNELS
// Rows per task: enough for a panel of W to be reused from cache across many rows.
constexpr int64_t kRowsPerTask = 96;

struct GemmTask {
  const GemmArgs* args;
  void (*tile)(const GemmArgs&, int64_t, int64_t, int64_t);
};

void run_task(void* context, size_t panel, size_t row_block) {
  const GemmTask& task = *static_cast<const GemmTask*>(context);
  const int64_t row = static_cast<int64_t>(row_block) * kRowsPerTask;
  const int64_t rows = task.args->m - row < kRowsPerTask ? task.args->m - row : kRowsPerTask;
  task.tile(*task.args, row, rows, static_cast<int64_t>(panel));
}
#endif

Isa requested_isa() {
  const char* name = std::getenv("ADARUN_ISA");
  if (!name || !*name) return Isa::kAvx512;
  if (std::strcmp(name, "ref") == 0) return Isa::kReference;
  if (std::strcmp(name, "avx2") == 0) return Isa::kAvx2;
  return Isa::kAvx512;
}

}  // namespace

bool isa_supported(Isa isa) {
  if (isa == Isa::kReference) return true;
#ifdef ADARUN_X86_KERNELS
  if (isa == Isa::kAvx512) return __builtin_cpu_supports("avx512f");
  if (isa == Isa::kAvx2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return false;
}

Isa active_isa() {
  static const Isa chosen = [] {
    for (Isa isa = requested_isa();; isa = isa == Isa::kAvx512 ? Isa::kAvx2 : Isa::kReference) {
      if (isa_supported(isa)) return isa;
    }
  }();
  return chosen;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return "avx512";
    case Isa::kAvx2: return "avx2";
    case Isa::kReference: return "ref";
  }
  return "?";
}

int gemm_panel_width(Isa isa) {
#ifdef ADARUN_X86_KERNELS
  if (isa == Isa::kAvx512) return avx512::kPanel;
  if (isa == Isa::kAvx2) return avx2::kPanel;
#endif
  (void)isa;
  return 0;
}

int64_t packed_weight_floats(Isa isa, int64_t n, int64_t k) {
  const int64_t width = gemm_panel_width(isa);
  return width ? (n + width - 1) / width * width * k : 0;
}

void pack_weights(Isa isa, const float* w, int64_t n, int64_t k, float* packed) {
#ifdef ADARUN_X86_KERNELS
  if (isa == Isa::kAvx512) avx512::pack(w, n, k, packed);
  if (isa == Isa::kAvx2) avx2::pack(w, n, k, packed);
#endif
  (void)isa, (void)w, (void)n, (void)k, (void)packed;
}

void gemm(Isa isa, const GemmArgs& args, pthreadpool_t pool) {
#ifdef ADARUN_X86_KERNELS
  if (args.m == 0 || args.n == 0) return;
  const GemmTask task{&args, isa == Isa::kAvx512 ? avx512::tile : avx2::tile};
  const size_t panels = static_cast<size_t>((args.n + gemm_panel_width(isa) - 1) / gemm_panel_width(isa));
  const size_t row_blocks = static_cast<size_t>((args.m + kRowsPerTask - 1) / kRowsPerTask);
  parallelize_2d(pool, run_task, const_cast<GemmTask*>(&task), panels, row_blocks);
#else
  (void)isa, (void)args, (void)pool;  // no packed path on this architecture: active_isa() is kReference
#endif
}

}  // namespace adarun
