// Wide-vector (AVX2+FMA, AVX-512) builds of the MLP forward/backward and the optimiser updates, chosen at
// run time.
//
// Why: the project is compiled for baseline x86-64 (SSE2) so that one binary runs everywhere, which caps
// Eigen's matrix products at about a quarter of what this machine's cores can do. network_avx2.cpp and
// network_avx512.cpp compile the same kernels (network_kernels.h) for the wider instruction sets, and
// mlpForward/mlpBackward call them when the CPU has them (MlpLayout::simd). The kernels see raw pointers
// only: each of those files renames Eigen's namespace so that its template instantiations, compiled with
// the wider instructions, can never be merged with the baseline ones by the linker.
#pragma once

namespace ms {

enum class SimdLevel { Generic, Avx2, Avx512 };

// The widest level this CPU supports (and that the build provides), capped by MS_SIMD=generic|avx2|avx512.
SimdLevel detectSimd();

// Portable arithmetic (`train/render --portable`, or MS_SIMD=generic): the baseline kernels only (the wide
// ones fuse multiply-adds, which rounds differently), and Eigen's product blocking sized from fixed cache
// sizes instead of this CPU's (the depth split of a product, which sets its summation order, follows the L1
// size). Then the same seed gives bit-identical numbers on any x86-64 machine running this binary with the
// same libraries. Sets MS_SIMD=generic in this process's environment, so call it before any other thread
// starts.
void usePortableArithmetic();
// True when MS_SIMD=generic is set in the environment.
bool portableRequested();
const char* simdName(SimdLevel s);

// The MLP as plain arrays (see MlpLayout).
struct MlpRaw {
  int layers = 0;
  const int* widths = nullptr;  // (layers+1)
  const long* w_off = nullptr;  // (layers) offsets of Wt (in,out) column-major
  const long* b_off = nullptr;  // (layers)
  bool relu = true;             // else tanh
};

// One instruction set's build of the kernels (network_kernels.h).
// forward: X (n,P) row-major; acts[l] (n,widths[l+1]) column-major, the last one is H.
// backward: accumulates into grads; dZ and dA are scratch of n * max(widths) each.
// gemm: C (n,n) = A (n,n) B (n,n), column-major: Eigen's own product at this width (the benchmark's
// reference). adam, sgd: element-wise optimiser updates of n parameters (see optim.cpp; exact IEEE operations
// only, so the results are bit-identical to the baseline loop's).
struct SimdKernels {
  void (*mlpForward)(const MlpRaw& L, const double* params, const double* X, long n, double* const* acts);
  void (*mlpBackward)(const MlpRaw& L, const double* params, const double* X, long n, double* const* acts,
                      const double* dH, double* grads, double* dZ, double* dA);
  void (*gemm)(const double* A, const double* B, double* C, long n);
  void (*adam)(double* p, const double* g, double* m, double* v, long n, double step, double b1, double b2,
               double bc2, double eps);
  void (*sgd)(double* p, const double* g, double* m, long n, double lr, double momentum, bool nesterov);
};
// Null where the build does not provide that instruction set (a compiler other than GCC).
const SimdKernels* avx2Kernels();
const SimdKernels* avx512Kernels();
// The kernels of a level detectSimd() returned (not Generic).
inline const SimdKernels& simdKernels(SimdLevel s) {
  return *(s == SimdLevel::Avx512 ? avx512Kernels() : avx2Kernels());
}

}  // namespace ms
