#include "engine/src/op_profile.h"

namespace adarun {

const char* op_kind_name(OpKind kind) {
  switch (kind) {
    case OpKind::kLinear: return "linear";
    case OpKind::kAttention: return "attention";
    case OpKind::kLayerNorm: return "layer_norm";
    case OpKind::kGelu: return "gelu";
    case OpKind::kRows: return "gather_scatter";
    case OpKind::kElementwise: return "add_relu";
    case OpKind::kPolicy: return "policy";
    case OpKind::kConv: return "conv";
    case OpKind::kResize: return "resize";
    case OpKind::kCopy: return "copy";
    case OpKind::kCount: break;
  }
  return "?";
}

}  // namespace adarun
