#include "kernels/gemm.h"

#include <cstdlib>
#include <cstring>

#include "kernels/gemm_tiles.h"
#include "kernels/parallel.h"

namespace adarun {
namespace {

using Tile = void (*)(const GemmArgs&, int64_t row, int64_t rows, int64_t panel);
using Pack = void (*)(const float* w, int64_t n, int64_t k, float* packed);

// One ISA's packed GEMM: its panel width and entry points. Null entries where it is not built.
struct PackedGemm {
  int panel = 0;
  Tile tile = nullptr;
  Pack pack = nullptr;
};

PackedGemm packed_gemm(Isa isa) {
  switch (isa) {
#ifdef ADARUN_X86_KERNELS
    case Isa::kAvx512: return {avx512::kPanel, avx512::tile, avx512::pack};
    case Isa::kAvx2: return {avx2::kPanel, avx2::tile, avx2::pack};
#endif
#ifdef ADARUN_ARM_KERNELS
    case Isa::kNeon: return {neon::kPanel, neon::tile, neon::pack};
#endif
    default: return {};
  }
}

// The task grid walks the larger operand once and keeps a block of the smaller one in L1 while it does. With
// more rows than columns (stage 0's 3136-token maps against a few hundred outputs), a block of A rows stays
// while every W panel passes (rows outer); otherwise a W panel stays while the A rows pass (panels outer).
// Rows per task: enough for the panel to be reused across many rows, or an A block small enough for L1.
constexpr int64_t kRowsPerTaskPanelsOuter = 96;
constexpr int64_t kRowsPerTaskRowsOuter = 48;

struct GemmTask {
  const GemmArgs* args;
  Tile tile;
  int64_t rows_per_task;
};

void run_block(const GemmTask& task, size_t row_block, size_t panel) {
  const int64_t row = static_cast<int64_t>(row_block) * task.rows_per_task;
  const int64_t rows = task.args->m - row < task.rows_per_task ? task.args->m - row : task.rows_per_task;
  task.tile(*task.args, row, rows, static_cast<int64_t>(panel));
}

void run_panels_outer(void* context, size_t panel, size_t row_block) {
  run_block(*static_cast<const GemmTask*>(context), row_block, panel);
}

void run_rows_outer(void* context, size_t row_block, size_t panel) {
  run_block(*static_cast<const GemmTask*>(context), row_block, panel);
}

// What runs when ADARUN_ISA names nothing: the best ISA this build has.
constexpr Isa kBestBuilt =
#ifdef ADARUN_ARM_KERNELS
    Isa::kNeon;
#else
    Isa::kAvx512;
#endif

Isa requested_isa() {
  const char* name = std::getenv("ADARUN_ISA");
  if (!name || !*name) return kBestBuilt;
  if (std::strcmp(name, "ref") == 0) return Isa::kReference;
  if (std::strcmp(name, "avx2") == 0) return Isa::kAvx2;
  if (std::strcmp(name, "neon") == 0) return Isa::kNeon;
  return Isa::kAvx512;
}

// The next ISA to try when `isa` does not run here.
Isa fallback(Isa isa) { return isa == Isa::kAvx512 ? Isa::kAvx2 : Isa::kReference; }

}  // namespace

bool isa_supported(Isa isa) {
  if (isa == Isa::kReference) return true;
#ifdef ADARUN_X86_KERNELS
  if (isa == Isa::kAvx512) return __builtin_cpu_supports("avx512f");
  if (isa == Isa::kAvx2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
#ifdef ADARUN_ARM_KERNELS
  if (isa == Isa::kNeon) return true;  // Advanced SIMD is part of every ARMv8-A core
#endif
  return false;
}

Isa active_isa() {
  static const Isa chosen = [] {
    for (Isa isa = requested_isa();; isa = fallback(isa)) {
      if (isa_supported(isa)) return isa;
    }
  }();
  return chosen;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return "avx512";
    case Isa::kAvx2: return "avx2";
    case Isa::kNeon: return "neon";
    case Isa::kReference: return "ref";
  }
  return "?";
}

int gemm_panel_width(Isa isa) { return packed_gemm(isa).panel; }

int64_t packed_weight_floats(Isa isa, int64_t n, int64_t k) {
  const int64_t width = gemm_panel_width(isa);
  return width ? (n + width - 1) / width * width * k : 0;
}

void pack_weights(Isa isa, const float* w, int64_t n, int64_t k, float* packed) {
  if (const Pack pack = packed_gemm(isa).pack) pack(w, n, k, packed);
}

void gemm(Isa isa, const GemmArgs& args, pthreadpool_t pool) {
  const PackedGemm kernel = packed_gemm(isa);
  if (!kernel.tile || args.m == 0 || args.n == 0 || (args.gelu && args.accumulate)) return;  // no tile: isa is kReference, which has no packed path
  const bool rows_outer = args.m > args.n;
  const GemmTask task{&args, kernel.tile, rows_outer ? kRowsPerTaskRowsOuter : kRowsPerTaskPanelsOuter};
  const size_t panels = static_cast<size_t>((args.n + kernel.panel - 1) / kernel.panel);
  const size_t row_blocks = static_cast<size_t>((args.m + task.rows_per_task - 1) / task.rows_per_task);
  if (rows_outer) return parallelize_2d(pool, run_rows_outer, const_cast<GemmTask*>(&task), row_blocks, panels);
  parallelize_2d(pool, run_panels_outer, const_cast<GemmTask*>(&task), panels, row_blocks);
}

}  // namespace adarun
