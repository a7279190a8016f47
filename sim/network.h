// The embedding models: an MLP (0..4 hidden layers, relu or tanh) ending in the d-dimensional embedding, and
// `free` embeddings where each training sample's embedding is itself a parameter.
//
// llm.c style: the parameters live in ONE contiguous buffer owned by the trainer (gradients in another of the
// same layout); a layout records where each tensor starts; forward caches what backward needs; backward
// ACCUMULATES into the gradient buffer. Eigen Maps over the buffer do the matrix products.
// Storage: a layer's weight is kept transposed, Wt (in,out) column-major, so that Z = X Wt is one GEMM.
#pragma once
#include <Eigen/Dense>
#include <string>
#include <vector>

#include "sim/network_simd.h"
#include "sim/rng.h"

namespace ms {

using Mat = Eigen::MatrixXd;
using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

enum class Activation { Relu, Tanh };

struct MlpLayout {
  std::vector<int> widths;  // P, hidden..., d
  Activation act = Activation::Relu;
  std::vector<Eigen::Index> w_off, b_off;  // per layer: Wt (in,out) and b (out) offsets in the buffer
  Eigen::Index offset = 0, size = 0;       // the MLP's slice of the buffer
  SimdLevel simd = SimdLevel::Generic;     // kernels used (mlpLayout picks the widest the CPU has)
  int layers() const { return int(widths.size()) - 1; }
};

// Layout of an MLP P -> hidden... -> d placed at `offset` in the parameter buffer. simd = detectSimd(), or
// the level the environment variable MS_SIMD names (generic|avx2|avx512), for measurements.
MlpLayout mlpLayout(int P, const std::vector<int>& hidden, int d, Activation act, Eigen::Index offset);
// He (relu) or Xavier (tanh, and the final linear layer) normal init; biases zero.
void mlpInit(const MlpLayout& L, double* params, Rng& rng);

struct MlpCache {
  std::vector<Mat> a;  // a[l] (n, widths[l+1]) post-activation output of hidden layer l (the last is H)
  Mat dA, dZ;          // scratch for backward
  // Wide-vector kernels: activations and scratch in one 64-byte aligned block, because Eigen's reductions and
  // vectorised tanh peel a different number of leading elements at a different alignment, and the run must
  // be bit-identical however the allocator places a buffer.
  std::vector<double> wide;   // storage; the aligned start is computed on use
  std::vector<double*> ptrs;  // per layer activation (the last is H); then dZ, dA
};

// H (n,d) = MLP(X (n,P)); the cache keeps the activations for backward.
void mlpForward(const MlpLayout& L, const double* params, const RowMat& X, MlpCache& cache, Mat& H);
// Given dH (n,d): accumulates dWt, db into grads (same layout as params). dX is not needed and not computed.
void mlpBackward(const MlpLayout& L, const double* params, const RowMat& X, MlpCache& cache, const Mat& dH,
                 double* grads);
// Floating-point operations of one forward + backward at batch n (multiply-add = 2).
double mlpFlopsPerStep(const MlpLayout& L, int n);

// Free embeddings: E (n_train, d) row-major at `offset`; H (b,d) = E[idx].
void freeForward(const double* E, int d, const std::vector<int>& idx, Mat& H);
// dE[idx] += dH (b,d)
void freeBackward(int d, const std::vector<int>& idx, const Mat& dH, double* dE);

Activation parseActivation(const std::string& name);  // throws UserError

}  // namespace ms
