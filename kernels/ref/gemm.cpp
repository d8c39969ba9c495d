#include "kernels/ref/gemm.h"

#include <Eigen/Core>

namespace adarun::ref {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

void linear(const float* x, int64_t rows, int64_t in, const float* w, const float* bias, int64_t out, float* y) {
  if (rows == 0 || out == 0) return;
  Eigen::Map<const RowMatrix> input(x, rows, in);
  Eigen::Map<const RowMatrix> weight(w, out, in);
  Eigen::Map<RowMatrix> output(y, rows, out);
  output.noalias() = input * weight.transpose();
  if (bias) output.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(bias, out);
}

}  // namespace adarun::ref
