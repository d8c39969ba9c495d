#include "kernels/ref/window_attention.h"

#include <Eigen/Core>

#include "kernels/ref/activations.h"

namespace adarun::ref {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Strided = Eigen::Map<const RowMatrix, 0, Eigen::OuterStride<>>;

void window_attention(const float* qkv, int64_t n, int64_t heads, int64_t head_dim, const float* rel_bias, const float* mask,
                      float scale, float* scratch, float* out) {
  const int64_t dim = heads * head_dim;
  const int64_t stride = 3 * dim;
  Eigen::Map<RowMatrix> scores(scratch, n, n);
  for (int64_t h = 0; h < heads; ++h) {
    Strided q(qkv + h * head_dim, n, head_dim, Eigen::OuterStride<>(stride));
    Strided k(qkv + dim + h * head_dim, n, head_dim, Eigen::OuterStride<>(stride));
    Strided v(qkv + 2 * dim + h * head_dim, n, head_dim, Eigen::OuterStride<>(stride));
    scores.noalias() = (q * scale) * k.transpose();  // scale q first, as the research code does
    scores += Eigen::Map<const RowMatrix>(rel_bias + h * n * n, n, n);
    if (mask) scores += Eigen::Map<const RowMatrix>(mask, n, n);
    softmax_rows(scratch, n, n);
    Eigen::Map<RowMatrix, 0, Eigen::OuterStride<>> head_out(out + h * head_dim, n, head_dim, Eigen::OuterStride<>(dim));
    head_out.noalias() = scores * v;
  }
}

}  // namespace adarun::ref
