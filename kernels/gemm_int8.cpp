#include "kernels/gemm_int8.h"

#include <cstdlib>
#include <cstring>

#ifdef ADARUN_X86_KERNELS
#include <cpuid.h>
#endif

#include "kernels/int8_tiles.h"
#include "kernels/parallel.h"

namespace adarun {
namespace {

// One kernel's entry points; null where this build lacks it.
struct Int8Entry {
  int panel = 0;
  bool unsigned_a = false;  // A as q + 128 (vpdpbusd multiplies unsigned by signed bytes)
  int a_bytes = 1;          // bytes per quantized A value
  int w_bytes = 1;          // bytes per packed weight
  int8::QuantizeRows quantize = nullptr;
  int8::Tile tile = nullptr;
};

Int8Entry entry(Int8Kernel kernel) {
  switch (kernel) {
#ifdef ADARUN_X86_KERNELS
    case Int8Kernel::kAvx512Vnni: return {int8::avx512vnni::kPanel, true, 1, 1, int8::avx512vnni::quantize, int8::avx512vnni::tile};
    case Int8Kernel::kAvxVnni: return {int8::avxvnni::kPanel, true, 1, 1, int8::avxvnni::quantize, int8::avxvnni::tile};
    case Int8Kernel::kAvx2: return {int8::avx2::kPanel, false, 2, int8::avx2::kValueBytes, int8::avx2::quantize, int8::avx2::tile};
#endif
#ifdef ADARUN_ARM_KERNELS
    case Int8Kernel::kNeonDot: return {int8::neondot::kPanel, false, 1, 1, int8::neondot::quantize, int8::neondot::tile};
#endif
    default: return {};
  }
}

// Whether ADARUN_INT8 lets `kernel` run: unset, every kernel; a kernel's name, it and the ones listed before it in
// kInt8Kernels; "none", no kernel (int8 weights widened to fp32).
bool requested_allows(Int8Kernel kernel) {
  const char* name = std::getenv("ADARUN_INT8");
  if (!name || !*name) return true;
  if (std::strcmp(name, "none") == 0) return false;
  for (Int8Kernel lower : kInt8Kernels) {
    if (std::strcmp(name, int8_kernel_name(lower)) == 0) return static_cast<int>(kernel) <= static_cast<int>(lower);
  }
  return true;
}

#ifdef ADARUN_X86_KERNELS
// AVX-VNNI: CPUID leaf 7, sub-leaf 1, EAX bit 4. Read directly: clang 14's __builtin_cpu_supports has no "avxvnni".
bool cpu_has_avx_vnni() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) && (eax >> 4 & 1u);
}
#endif

bool cpu_runs(Int8Kernel kernel) {
#ifdef ADARUN_X86_KERNELS
  switch (kernel) {
    case Int8Kernel::kAvx512Vnni:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512vnni");
    case Int8Kernel::kAvxVnni: return __builtin_cpu_supports("avx2") && cpu_has_avx_vnni();
    case Int8Kernel::kAvx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    default: return false;
  }
#elif defined(ADARUN_ARM_KERNELS)
  return kernel == Int8Kernel::kNeonDot && int8::neondot::cpu_has_dot_product();
#else
  (void)kernel;
  return false;
#endif
}

struct Int8Task {
  const Int8GemmArgs* args;
  Int8Entry kernel;
  int8::QuantizedRows rows;
  int64_t rows_per_task;
};

constexpr int64_t kRowsPerQuantizeTask = 32;
// As the fp32 GEMM (kernels/gemm.cpp): the larger operand walked once, a block of the smaller kept in L1.
constexpr int64_t kRowsPerTaskPanelsOuter = 96;
constexpr int64_t kRowsPerTaskRowsOuter = 48;

void quantize_block(void* context, size_t block) {
  const Int8Task& t = *static_cast<const Int8Task*>(context);
  const int64_t row = static_cast<int64_t>(block) * kRowsPerQuantizeTask;
  t.kernel.quantize(*t.args, t.rows, row, t.args->m - row < kRowsPerQuantizeTask ? t.args->m - row : kRowsPerQuantizeTask);
}

void run_block(const Int8Task& t, size_t row_block, size_t panel) {
  const int64_t row = static_cast<int64_t>(row_block) * t.rows_per_task;
  const int64_t rows = t.args->m - row < t.rows_per_task ? t.args->m - row : t.rows_per_task;
  t.kernel.tile(*t.args, t.rows, row, rows, static_cast<int64_t>(panel));
}

void run_panels_outer(void* context, size_t panel, size_t row_block) {
  run_block(*static_cast<const Int8Task*>(context), row_block, panel);
}

void run_rows_outer(void* context, size_t row_block, size_t panel) {
  run_block(*static_cast<const Int8Task*>(context), row_block, panel);
}

}  // namespace

const char* int8_kernel_name(Int8Kernel kernel) {
  switch (kernel) {
    case Int8Kernel::kAvx2: return "avx2";
    case Int8Kernel::kAvxVnni: return "avxvnni";
    case Int8Kernel::kAvx512Vnni: return "avx512vnni";
    case Int8Kernel::kNeonDot: return "neondot";
  }
  return "?";
}

bool int8_kernel_supported(Int8Kernel kernel) { return entry(kernel).tile != nullptr && cpu_runs(kernel); }

bool int8_kernel_for(Isa isa, Int8Kernel* kernel) {
  static const Int8Kernel kX86Order[] = {Int8Kernel::kAvx512Vnni, Int8Kernel::kAvxVnni, Int8Kernel::kAvx2};
  if (isa == Isa::kAvx512 || isa == Isa::kAvx2) {
    for (Int8Kernel candidate : kX86Order) {
      if (candidate == Int8Kernel::kAvx512Vnni && isa != Isa::kAvx512) continue;  // ADARUN_ISA=avx2: no 512-bit code
      if (requested_allows(candidate) && int8_kernel_supported(candidate)) return *kernel = candidate, true;
    }
  }
  if (isa == Isa::kNeon && requested_allows(Int8Kernel::kNeonDot) && int8_kernel_supported(Int8Kernel::kNeonDot)) {
    return *kernel = Int8Kernel::kNeonDot, true;
  }
  return false;
}

int64_t packed_int8_bytes(Int8Kernel kernel, int64_t n, int64_t k) {
  const Int8Entry e = entry(kernel);
  return e.panel ? (n + e.panel - 1) / e.panel * int8::panel_bytes(e.panel, k, e.w_bytes) : 0;
}

void pack_int8_weights(Int8Kernel kernel, const int8_t* w, const float* scales, int64_t n, int64_t k, void* packed) {
  const Int8Entry e = entry(kernel);
  if (e.panel) int8::pack_panels(w, scales, n, k, e.panel, e.unsigned_a, e.w_bytes, static_cast<uint8_t*>(packed));
}

int64_t quantized_rows_bytes(Int8Kernel kernel, int64_t m, int64_t k) {
  const int64_t rows = (m * int8::quantized_row_stride(kernel, k) + 63) / 64 * 64;
  return rows + m * int64_t(sizeof(float));
}

void gemm_int8(Int8Kernel kernel, const Int8GemmArgs& args, pthreadpool_t pool) {
  const Int8Entry e = entry(kernel);
  if (!e.tile || args.m == 0 || args.n == 0 || (args.gelu && args.accumulate)) return;
  const bool rows_outer = args.m > args.n;
  const Int8Task task{&args, e, int8::quantized_rows(kernel, args.quantized, args.m, args.k),
                      rows_outer ? kRowsPerTaskRowsOuter : kRowsPerTaskPanelsOuter};
  void* context = const_cast<Int8Task*>(&task);
  parallelize_1d(pool, quantize_block, context, static_cast<size_t>((args.m + kRowsPerQuantizeTask - 1) / kRowsPerQuantizeTask));
  const size_t panels = static_cast<size_t>((args.n + e.panel - 1) / e.panel);
  const size_t row_blocks = static_cast<size_t>((args.m + task.rows_per_task - 1) / task.rows_per_task);
  if (rows_outer) return parallelize_2d(pool, run_rows_outer, context, row_blocks, panels);
  parallelize_2d(pool, run_panels_outer, context, panels, row_blocks);
}

namespace int8 {

void pack_panels(const int8_t* w, const float* scales, int64_t n, int64_t k, int width, bool unsigned_a, int value_bytes,
                 uint8_t* packed) {
  const int64_t groups = k_groups(k);
  for (int64_t first = 0; first < n; first += width) {
    uint8_t* panel = packed + first / width * panel_bytes(width, k, value_bytes);
    int32_t* corrections = reinterpret_cast<int32_t*>(panel + panel_weight_bytes(width, k, value_bytes));
    float* panel_scales = reinterpret_cast<float*>(corrections + width);
    for (int j = 0; j < width; ++j) {
      const int64_t col = first + j;
      int32_t sum = 0;
      for (int64_t kk = 0; kk < groups * kGroup; ++kk) {
        const int8_t v = col < n && kk < k ? w[col * k + kk] : 0;
        sum += v;
        const int64_t at = (kk / kGroup) * kGroup * width + j * kGroup + kk % kGroup;
        if (value_bytes == 2) {
          const int16_t wide = v;
          std::memcpy(panel + 2 * at, &wide, 2);
        } else {
          panel[at] = static_cast<uint8_t>(v);
        }
      }
      corrections[j] = unsigned_a ? 128 * sum : 0;
      panel_scales[j] = col < n ? scales[col] : 0.0f;
    }
  }
}

int64_t quantized_row_stride(Int8Kernel kernel, int64_t k) {
  const int64_t bytes = k_groups(k) * kGroup * (kernel == Int8Kernel::kAvx2 ? 2 : 1);
  return (bytes + 15) / 16 * 16;
}

QuantizedRows quantized_rows(Int8Kernel kernel, void* buffer, int64_t m, int64_t k) {
  const int64_t stride = quantized_row_stride(kernel, k);
  uint8_t* rows = static_cast<uint8_t*>(buffer);
  return {rows, stride, reinterpret_cast<float*>(rows + (m * stride + 63) / 64 * 64)};
}

}  // namespace int8
}  // namespace adarun
