#include "engine/src/memory_plan.h"

#include <algorithm>
#include <numeric>

namespace adarun {
namespace {

constexpr int64_t kAlignFloats = 16;  // 64 bytes: a cache line, the widest vector load

int64_t aligned(int64_t floats) { return (floats + kAlignFloats - 1) / kAlignFloats * kAlignFloats; }

template <typename Fn>
void for_each_operand(Op& op, const Fn& fn) {
  for (Operand* operand : {&op.x, &op.y, &op.scratch, &op.scratch2}) fn(*operand);
}

void find_lifetimes(Plan* plan) {
  for (PlanBuffer& buffer : plan->buffers) buffer.first_op = buffer.last_op = -1;
  for (int32_t i = 0; i < static_cast<int32_t>(plan->ops.size()); ++i) {
    for_each_operand(plan->ops[i], [&](const Operand& operand) {
      if (!operand.valid()) return;
      PlanBuffer& buffer = plan->buffers[operand.buffer];
      if (buffer.first_op < 0) buffer.first_op = i;
      buffer.last_op = i;
    });
  }
  const int32_t end = static_cast<int32_t>(plan->ops.size());
  for (PlanBuffer& buffer : plan->buffers) {
    if (buffer.lives_to_end || buffer.persistent) buffer.last_op = end;
    if (buffer.persistent) buffer.first_op = 0;  // and alive before the first op: they carry the last frame's values
  }
}

bool lifetimes_overlap(const PlanBuffer& a, const PlanBuffer& b) { return a.first_op <= b.last_op && b.first_op <= a.last_op; }

}  // namespace

void plan_memory(Plan* plan) {
  find_lifetimes(plan);
  std::vector<int32_t> order(plan->buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {  // largest first, ties in plan order
    const int64_t size_a = plan->buffers[a].floats, size_b = plan->buffers[b].floats;
    return size_a != size_b ? size_a > size_b : a < b;
  });
  std::vector<int32_t> placed;
  int64_t arena = 0;
  for (int32_t id : order) {
    PlanBuffer& buffer = plan->buffers[id];
    if (buffer.first_op < 0) continue;  // never used
    // Candidate offsets: 0 and the end of every placed buffer alive at the same time; the lowest that fits.
    std::vector<const PlanBuffer*> neighbours;
    for (int32_t other : placed) {
      if (lifetimes_overlap(buffer, plan->buffers[other])) neighbours.push_back(&plan->buffers[other]);
    }
    std::vector<int64_t> candidates = {0};
    for (const PlanBuffer* other : neighbours) candidates.push_back(other->offset + aligned(other->floats));
    std::sort(candidates.begin(), candidates.end());
    const int64_t size = aligned(buffer.floats);
    for (int64_t offset : candidates) {
      const bool fits = std::none_of(neighbours.begin(), neighbours.end(), [&](const PlanBuffer* other) {
        return offset < other->offset + aligned(other->floats) && other->offset < offset + size;
      });
      if (fits) {
        buffer.offset = offset;
        break;
      }
    }
    arena = std::max(arena, buffer.offset + size);
    placed.push_back(id);
  }
  plan->arena_floats = arena;
}

void bind_operands(Plan* plan, float* arena) {
  for (Op& op : plan->ops) {
    for_each_operand(op, [&](Operand& operand) {
      operand.data = operand.valid() ? arena + plan->buffers[operand.buffer].offset + operand.offset : nullptr;
    });
  }
}

}  // namespace adarun
