// Window attention on the packed GEMM (kernels/gemm.h) of the ISA: per (window, head), k is packed as the GEMM's
// weight panels and the scores are q_scaled k^T accumulated onto bias + mask; the ISA's softmax; then v packed
// the same way and out = p v. Each ISA's best-tuned micro-tile does both products, so no ISA keeps attention
// loops of its own.
#include "kernels/attention.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

#include "kernels/activations.h"
#include "kernels/gemm_tiles.h"
#include "kernels/packed_tiles.h"
#include "kernels/parallel.h"
#include "kernels/ref/attention.h"

namespace adarun {
namespace {

constexpr int64_t kAlign = 16;  // floats: every scratch part starts on a 64-byte line, as the panels' loads need
constexpr int64_t kSoftmaxPadding = 16;  // a multiple of every ISA's vector width

int64_t aligned(int64_t floats) { return (floats + kAlign - 1) / kAlign * kAlign; }
int64_t padded(int64_t n, int64_t width) { return (n + width - 1) / width * width; }
// Columns that hold n padded to any panel width up to kMaxPanelWidth (NEON's 12 does not divide 32).
int64_t any_panels(int64_t n) { return n + kMaxPanelWidth - 1; }

// One head's scratch, laid out for any ISA's panel width.
struct HeadScratch {
  float* q_scaled;  // [n, hd]
  float* k_panels;  // k as the weight of scores = q_scaled k^T
  float* v_panels;  // v^T as the weight of out = p v
  float* scores;    // [n, padded n]
  int64_t score_stride;

  HeadScratch(float* scratch, int64_t n, int64_t hd) {
    const uintptr_t line = 4 * kAlign;
    q_scaled = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(scratch) + line - 1) / line * line);
    k_panels = q_scaled + aligned(n * hd);
    v_panels = k_panels + aligned(any_panels(n) * hd);
    scores = v_panels + aligned(any_panels(hd) * n);
    score_stride = padded(n, kMaxPanelWidth);  // >= n padded to the softmax's vectors
  }
  static int64_t floats(int64_t n, int64_t hd) {
    return kAlign + aligned(n * hd) + aligned(any_panels(n) * hd) + aligned(any_panels(hd) * n) +
           aligned(n * padded(n, kMaxPanelWidth));  // kAlign: the start's alignment
  }
};

// The packed layout of kernels/packed_tiles.h (panel p, depth t, lane c: W[p * width + c, t]) for v^T, whose
// columns are v's rows: W[c, t] = x[t * ldx + c]. Each x row is a run of panel lanes; columns past `cols` are
// zero. (k, held as rows, goes through packed::pack_panels.)
void pack_columns(const float* x, int64_t cols, int64_t depth, int64_t ldx, int width, float* packed) {
  const int64_t panels = (cols + width - 1) / width;
  for (int64_t p = 0; p < panels; ++p) {
    const int64_t lanes = std::min<int64_t>(width, cols - p * width);
    float* panel = packed + p * depth * width;
    for (int64_t t = 0; t < depth; ++t) {
      std::memcpy(panel + t * width, x + t * ldx + p * width, sizeof(float) * size_t(lanes));
      std::fill(panel + t * width + lanes, panel + (t + 1) * width, 0.0f);
    }
  }
}

// What one head's products read, prepared in scratch: q scaled (torch scales q first), bias + mask with the
// rows' -inf padding (softmax runs over whole vectors and turns it to 0; no GEMM store reaches it), k packed.
struct HeadInputs {
  const float *q, *k, *bias, *mask;
  int64_t n, hd, stride, softmax_cols;
  float scale;
};

// Plain loops, instantiated per ISA below under its target, so that the compiler vectorises them at its width.
template <int Width>
__attribute__((always_inline)) inline void prepare_head_body(const HeadInputs& h, const HeadScratch& s) {
  for (int64_t i = 0; i < h.n; ++i) {
    for (int64_t d = 0; d < h.hd; ++d) s.q_scaled[i * h.hd + d] = h.q[i * h.stride + d] * h.scale;
  }
  for (int64_t i = 0; i < h.n; ++i) {
    float* row = s.scores + i * s.score_stride;
    const float* bias = h.bias + i * h.n;
    if (h.mask) {
      const float* mask = h.mask + i * h.n;
      for (int64_t j = 0; j < h.n; ++j) row[j] = bias[j] + mask[j];
    } else {
      for (int64_t j = 0; j < h.n; ++j) row[j] = bias[j];
    }
    for (int64_t j = h.n; j < h.softmax_cols; ++j) row[j] = -std::numeric_limits<float>::infinity();
  }
  packed::pack_panels(h.k, h.n, h.hd, h.stride, Width, s.k_panels);  // W[j, d] = k[j, d]
}

#ifdef ADARUN_X86_KERNELS
__attribute__((target("avx512f"))) void prepare_head_avx512(const HeadInputs& h, const HeadScratch& s) {
  prepare_head_body<avx512::kPanel>(h, s);
}

__attribute__((target("avx2"))) void prepare_head_avx2(const HeadInputs& h, const HeadScratch& s) { prepare_head_body<avx2::kPanel>(h, s); }
#endif

void prepare_head([[maybe_unused]] Isa isa, const HeadInputs& h, const HeadScratch& s) {
#ifdef ADARUN_X86_KERNELS
  if (isa == Isa::kAvx512) return prepare_head_avx512(h, s);
  if (isa == Isa::kAvx2) return prepare_head_avx2(h, s);
#endif
#ifdef ADARUN_ARM_KERNELS
  if (isa == Isa::kNeon) return prepare_head_body<neon::kPanel>(h, s);
#endif
}

const float* window_mask(const WindowAttentionArgs& a, int64_t window) {
  if (!a.masks) return nullptr;
  return a.masks + (a.mask_index ? a.mask_index[window] : window) * a.n * a.n;
}

void attention_head(Isa isa, const WindowAttentionArgs& a, int64_t window, int64_t head, float* scratch) {
  const int64_t n = a.n, hd = a.head_dim, dim = a.heads * hd, stride = 3 * dim;
  const int width = gemm_panel_width(isa);
  const float* q = a.qkv + window * n * stride + head * hd;
  const float* v = q + 2 * dim;
  HeadScratch s(scratch, n, hd);
  const int64_t softmax_cols = padded(n, kSoftmaxPadding);
  const HeadInputs inputs{q, q + dim, a.rel_bias + head * n * n, window_mask(a, window), n, hd, stride,
                          softmax_cols, a.scale};
  prepare_head(isa, inputs, s);
  GemmArgs scores;
  scores.a = s.q_scaled, scores.lda = hd, scores.packed = s.k_panels;
  scores.c = s.scores, scores.ldc = s.score_stride, scores.m = n, scores.n = n, scores.k = hd;
  scores.accumulate = true;
  gemm(isa, scores, nullptr);
  softmax_rows_strided(isa, s.scores, n, softmax_cols, s.score_stride);
  pack_columns(v, hd, n, stride, width, s.v_panels);
  GemmArgs out;
  out.a = s.scores, out.lda = s.score_stride, out.packed = s.v_panels;
  out.c = a.out + window * n * dim + head * hd, out.ldc = dim, out.m = n, out.n = hd, out.k = n;
  gemm(isa, out, nullptr);
}

struct AttentionTask {
  const WindowAttentionArgs* args;
  Isa isa;
  float* scratch;
  int64_t scratch_per_thread;
  int64_t chunks;
};

void run_window(const AttentionTask& task, int64_t w, float* scratch) {
  const WindowAttentionArgs& a = *task.args;
  if (task.isa != Isa::kReference) {
    for (int64_t h = 0; h < a.heads; ++h) attention_head(task.isa, a, w, h, scratch);
    return;
  }
  const int64_t dim = a.heads * a.head_dim;
  const float* mask = window_mask(a, w);
  ref::window_attention(a.qkv + w * a.n * 3 * dim, a.n, a.heads, a.head_dim, a.rel_bias, mask, a.scale, scratch, a.out + w * a.n * dim);
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
  return std::max(HeadScratch::floats(n, head_dim), aligned(n * n));
}

void window_attention(Isa isa, const WindowAttentionArgs& args, float* scratch, int threads, pthreadpool_t pool) {
  const int64_t chunks = std::min<int64_t>(std::max(threads, 1), args.windows);
  const AttentionTask task{&args, isa, scratch, window_attention_scratch_floats(args.n, args.head_dim), chunks};
  parallelize_1d(pool, run_chunk, const_cast<AttentionTask*>(&task), size_t(chunks));
}

}  // namespace adarun
