// The MLP kernels of network_avx2.cpp and network_avx512.cpp (see network_simd.h). Included once by each,
// after the target pragma and the renaming of Eigen's namespace; MS_SIMD_NS names the namespace and
// MS_SIMD_TABLE the function returning the file's SimdKernels.
// The same llm.c-style pair as network.cpp: forward caches activations, backward accumulates.
#include <Eigen/Dense>

#include "sim/network_simd.h"

namespace ms {
namespace MS_SIMD_NS {

using MatX = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic>;
using RowMatX = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using VecX = Eigen::Matrix<double, Eigen::Dynamic, 1>;

void mlpForwardRaw(const MlpRaw& L, const double* params, const double* X, long n, double* const* acts) {
  for (int l = 0; l < L.layers; ++l) {
    const long in = L.widths[l], out = L.widths[l + 1];
    Eigen::Map<const MatX> Wt(params + L.w_off[l], in, out);  // (in,out)
    Eigen::Map<const VecX> b(params + L.b_off[l], out);       // (out)
    Eigen::Map<MatX> Z(acts[l], n, out);                      // (n,out)
    if (l == 0)
      Z.noalias() = Eigen::Map<const RowMatX>(X, n, in) * Wt;  // (n,P) x (P,out)
    else
      Z.noalias() = Eigen::Map<const MatX>(acts[l - 1], n, in) * Wt;  // (n,in) x (in,out)
    Z.rowwise() += b.transpose();
    if (l < L.layers - 1) {
      if (L.relu)
        Z = Z.cwiseMax(0.0);
      else
        Z = Z.array().tanh().matrix();
    }
  }
}

void mlpBackwardRaw(const MlpRaw& L, const double* params, const double* X, long n, double* const* acts,
                    const double* dH, double* grads, double* dZbuf, double* dAbuf) {
  const int nl = L.layers;
  Eigen::Map<MatX>(dZbuf, n, L.widths[nl]) =
      Eigen::Map<const MatX>(dH, n, L.widths[nl]);  // last layer linear
  for (int l = nl - 1; l >= 0; --l) {
    const long in = L.widths[l], out = L.widths[l + 1];
    Eigen::Map<const MatX> Wt(params + L.w_off[l], in, out);  // (in,out)
    Eigen::Map<MatX> dWt(grads + L.w_off[l], in, out);        // (in,out)
    Eigen::Map<VecX> db(grads + L.b_off[l], out);             // (out)
    Eigen::Map<MatX> dZ(dZbuf, n, out);                       // (n,out)
    if (l == 0)
      dWt.noalias() += Eigen::Map<const RowMatX>(X, n, in).transpose() * dZ;  // (P,n) x (n,out)
    else
      dWt.noalias() += Eigen::Map<const MatX>(acts[l - 1], n, in).transpose() * dZ;  // (in,n) x (n,out)
    // The bias gradient in a fixed order: Eigen's vectorised column sum peels to the buffer's alignment,
    // which glibc does not fix (16 bytes), so the same run gave different sums when the heap layout moved.
    for (long j = 0; j < out; ++j) {
      double sum = 0;
      for (long i = 0; i < n; ++i) sum += dZ(i, j);
      db(j) += sum;
    }
    if (l == 0) break;
    Eigen::Map<MatX> dA(dAbuf, n, in);
    dA.noalias() = dZ * Wt.transpose();  // (n,out) x (out,in)
    Eigen::Map<const MatX> A(acts[l - 1], n, in);
    Eigen::Map<MatX> dZin(dZbuf, n, in);  // dZ of the layer below, written over the one just used
    if (L.relu)
      dZin = (A.array() > 0.0).select(dA.array(), 0.0).matrix();
    else
      dZin = dA.array() * (1.0 - A.array().square());
  }
}

void gemmRaw(const double* A, const double* B, double* C, long n) {
  Eigen::Map<MatX>(C, n, n).noalias() = Eigen::Map<const MatX>(A, n, n) * Eigen::Map<const MatX>(B, n, n);
}

// m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p -= step m / (sqrt(v / bc2) + eps)   (Kingma and Ba 2015)
void adamRaw(double* p, const double* g, double* m, double* v, long n, double step, double b1, double b2,
             double bc2, double eps) {
  using A = Eigen::Map<Eigen::Array<double, Eigen::Dynamic, 1>>;
  using CA = Eigen::Map<const Eigen::Array<double, Eigen::Dynamic, 1>>;
  A P(p, n), M(m, n), V(v, n);
  CA G(g, n);
  M = b1 * M + (1.0 - b1) * G;
  V = b2 * V + (1.0 - b2) * G.square();
  P -= step * M / ((V / bc2).sqrt() + eps);
}

void sgdRaw(double* p, const double* g, double* m, long n, double lr, double momentum, bool nesterov) {
  using A = Eigen::Map<Eigen::Array<double, Eigen::Dynamic, 1>>;
  using CA = Eigen::Map<const Eigen::Array<double, Eigen::Dynamic, 1>>;
  A P(p, n), M(m, n);
  CA G(g, n);
  M = momentum * M + G;
  if (nesterov)
    P -= lr * (G + momentum * M);
  else
    P -= lr * M;
}

}  // namespace MS_SIMD_NS

const SimdKernels* MS_SIMD_TABLE() {
  static const SimdKernels k{MS_SIMD_NS::mlpForwardRaw, MS_SIMD_NS::mlpBackwardRaw, MS_SIMD_NS::gemmRaw,
                             MS_SIMD_NS::adamRaw, MS_SIMD_NS::sgdRaw};
  return &k;
}

}  // namespace ms
