#include "kernels/ref/conv.h"

#include <Eigen/Core>

namespace adarun::ref {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

bool is_pointwise(int64_t k, int64_t stride, int64_t pad) { return k == 1 && stride == 1 && pad == 0; }

// columns[(c, ky, kx), (oy, ox)] = x[c, oy*stride + ky*dilation - pad, ox*stride + kx*dilation - pad], zero outside.
void im2col(const float* x, int64_t cin, int64_t h, int64_t w, int64_t k, int64_t stride, int64_t pad, int64_t dilation, float* columns) {
  const int64_t oh = conv_out_size(h, k, stride, pad, dilation), ow = conv_out_size(w, k, stride, pad, dilation);
  for (int64_t c = 0; c < cin; ++c) {
    for (int64_t ky = 0; ky < k; ++ky) {
      for (int64_t kx = 0; kx < k; ++kx) {
        float* row = columns + ((c * k + ky) * k + kx) * oh * ow;
        for (int64_t oy = 0; oy < oh; ++oy) {
          const int64_t iy = oy * stride + ky * dilation - pad;
          for (int64_t ox = 0; ox < ow; ++ox) {
            const int64_t ix = ox * stride + kx * dilation - pad;
            const bool inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
            row[oy * ow + ox] = inside ? x[(c * h + iy) * w + ix] : 0.0f;
          }
        }
      }
    }
  }
}

}  // namespace

int64_t conv2d_scratch_floats(int64_t cin, int64_t h, int64_t w, int64_t k, int64_t stride, int64_t pad, int64_t dilation) {
  if (is_pointwise(k, stride, pad)) return 0;
  return cin * k * k * conv_out_size(h, k, stride, pad, dilation) * conv_out_size(w, k, stride, pad, dilation);
}

void conv2d(const float* x, int64_t cin, int64_t h, int64_t w, const float* weight, const float* bias, int64_t cout, int64_t k,
            int64_t stride, int64_t pad, int64_t dilation, float* scratch, float* y) {
  const int64_t pixels = conv_out_size(h, k, stride, pad, dilation) * conv_out_size(w, k, stride, pad, dilation);
  const float* columns = x;
  if (!is_pointwise(k, stride, pad)) {
    im2col(x, cin, h, w, k, stride, pad, dilation, scratch);
    columns = scratch;
  }
  Eigen::Map<const RowMatrix> filters(weight, cout, cin * k * k);
  Eigen::Map<const RowMatrix> patches(columns, cin * k * k, pixels);
  Eigen::Map<RowMatrix> output(y, cout, pixels);
  output.noalias() = filters * patches;
  if (bias) output.colwise() += Eigen::Map<const Eigen::VectorXf>(bias, cout);
}

}  // namespace adarun::ref
