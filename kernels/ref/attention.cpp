#include "kernels/ref/attention.h"

#include <Eigen/Core>

#include "kernels/ref/activations.h"

namespace adarun::ref {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstStrided = Eigen::Map<const RowMatrix, 0, Eigen::OuterStride<>>;
using Strided = Eigen::Map<RowMatrix, 0, Eigen::OuterStride<>>;

void window_attention(const float* qkv, int64_t n, int64_t heads, int64_t head_dim, const float* rel_bias, const float* mask,
                      float scale, float* scratch, float* out) {
  const int64_t dim = heads * head_dim;
  const Eigen::OuterStride<> qkv_stride(3 * dim), out_stride(dim);
  Eigen::Map<RowMatrix> scores(scratch, n, n);
  for (int64_t h = 0; h < heads; ++h) {
    ConstStrided k(qkv + dim + h * head_dim, n, head_dim, qkv_stride);
    ConstStrided v(qkv + 2 * dim + h * head_dim, n, head_dim, qkv_stride);
    // The head's slice of out holds q * scale until the head's result replaces it: q is rounded after scaling,
    // as torch's q = q * scale is, and no more scratch is needed. (Eigen would fold a scalar into the product.)
    Strided head_out(out + h * head_dim, n, head_dim, out_stride);
    head_out = ConstStrided(qkv + h * head_dim, n, head_dim, qkv_stride) * scale;
    scores.noalias() = head_out * k.transpose();
    scores += Eigen::Map<const RowMatrix>(rel_bias + h * n * n, n, n);
    if (mask) scores += Eigen::Map<const RowMatrix>(mask, n, n);
    softmax_rows(scratch, n, n);
    head_out.noalias() = scores * v;
  }
}

}  // namespace adarun::ref
