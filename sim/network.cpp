// MLP and free-embedding forward/backward pairs over one contiguous parameter buffer (see network.h).
#include "sim/network.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "sim/errors.h"

namespace ms {

using MapMat = Eigen::Map<Mat>;
using CMapMat = Eigen::Map<const Mat>;
using MapVec = Eigen::Map<Eigen::VectorXd>;
using CMapVec = Eigen::Map<const Eigen::VectorXd>;

static_assert(std::is_same<Eigen::Index, long>::value, "the raw kernels take Eigen::Index offsets as long");

SimdLevel detectSimd() {
  SimdLevel best = SimdLevel::Generic;
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    best = SimdLevel::Avx2;
    if (__builtin_cpu_supports("avx512f")) best = SimdLevel::Avx512;
  }
#endif
  if (const char* e = std::getenv("MS_SIMD")) {
    const SimdLevel want = std::strcmp(e, "avx512") == 0 ? SimdLevel::Avx512
                           : std::strcmp(e, "avx2") == 0 ? SimdLevel::Avx2
                                                         : SimdLevel::Generic;
    if (int(want) < int(best)) best = want;  // never wider than the CPU has
  }
  return best;
}

void usePortableArithmetic() {
  setenv("MS_SIMD", "generic", 1);
  // Eigen's own x86-64 defaults (used when it cannot ask the CPU); only their being fixed matters. Eigen
  // keeps them for the whole process.
  Eigen::setCpuCacheSizes(32 * 1024, 256 * 1024, 2 * 1024 * 1024);
}

bool portableRequested() {
  const char* e = std::getenv("MS_SIMD");
  return e && std::strcmp(e, "generic") == 0;
}

const char* simdName(SimdLevel s) {
  return s == SimdLevel::Avx512 ? "avx512" : s == SimdLevel::Avx2 ? "avx2" : "generic";
}

namespace {
MlpRaw raw(const MlpLayout& L) {
  MlpRaw r;
  r.layers = L.layers();
  r.widths = L.widths.data();
  r.w_off = L.w_off.data();
  r.b_off = L.b_off.data();
  r.relu = L.act == Activation::Relu;
  return r;
}
// Places the activations (nl) and the dZ, dA scratch in cache.wide, each 64-byte aligned.
void wideLayout(const MlpLayout& L, Eigen::Index n, MlpCache& cache) {
  const int nl = L.layers();
  const int maxw = *std::max_element(L.widths.begin(), L.widths.end());
  auto round8 = [](Eigen::Index x) { return (x + 7) / 8 * 8; };
  std::vector<Eigen::Index> off(nl + 2);
  Eigen::Index total = 0;
  for (int l = 0; l < nl + 2; ++l) {
    off[l] = total;
    total += round8(n * (l < nl ? L.widths[l + 1] : maxw));
  }
  if (cache.wide.size() < size_t(total + 8)) cache.wide.resize(size_t(total + 8));
  const uintptr_t raw_addr = reinterpret_cast<uintptr_t>(cache.wide.data());
  double* base = cache.wide.data() + ((64 - raw_addr % 64) % 64) / sizeof(double);
  cache.ptrs.resize(nl + 2);
  for (int l = 0; l < nl + 2; ++l) cache.ptrs[l] = base + off[l];
}
}  // namespace

MlpLayout mlpLayout(int P, const std::vector<int>& hidden, int d, Activation act, Eigen::Index offset) {
  MlpLayout L;
  L.simd = detectSimd();
  L.act = act;
  L.widths.push_back(P);
  for (int h : hidden) L.widths.push_back(h);
  L.widths.push_back(d);
  L.offset = offset;
  Eigen::Index o = offset;
  for (int l = 0; l < L.layers(); ++l) {
    L.w_off.push_back(o);
    o += Eigen::Index(L.widths[l]) * L.widths[l + 1];
    L.b_off.push_back(o);
    o += L.widths[l + 1];
  }
  L.size = o - offset;
  return L;
}

void mlpInit(const MlpLayout& L, double* params, Rng& rng) {
  for (int l = 0; l < L.layers(); ++l) {
    const int in = L.widths[l], out = L.widths[l + 1];
    const bool last = l == L.layers() - 1;
    // He et al. 2015 keeps the variance of relu activations constant; Glorot and Bengio 2010 for tanh and for
    // the final linear map into the embedding.
    const double std =
        (!last && L.act == Activation::Relu) ? std::sqrt(2.0 / in) : std::sqrt(2.0 / (in + out));
    double* w = params + L.w_off[l];
    for (Eigen::Index i = 0; i < Eigen::Index(in) * out; ++i) w[i] = std * rng.normal();
    double* b = params + L.b_off[l];
    for (int i = 0; i < out; ++i) b[i] = 0.0;
  }
}

void mlpForward(const MlpLayout& L, const double* params, const RowMat& X, MlpCache& cache, Mat& H) {
  const Eigen::Index n = X.rows();
  const int nl = L.layers();
  cache.a.resize(nl);
  if (L.simd != SimdLevel::Generic) {
    wideLayout(L, n, cache);
    simdKernels(L.simd).mlpForward(raw(L), params, X.data(), n, cache.ptrs.data());
    H = Eigen::Map<const Mat>(cache.ptrs[nl - 1], n, L.widths[nl]);
    return;
  }
  for (int l = 0; l < nl; ++l) {
    const int in = L.widths[l], out = L.widths[l + 1];
    CMapMat Wt(params + L.w_off[l], in, out);  // (in,out)
    CMapVec b(params + L.b_off[l], out);       // (out)
    Mat& Z = (l == nl - 1) ? H : cache.a[l];   // (n,out)
    Z.resize(n, out);
    if (l == 0)
      Z.noalias() = X * Wt;  // (n,P) x (P,out)
    else
      Z.noalias() = cache.a[l - 1] * Wt;  // (n,in) x (in,out)
    Z.rowwise() += b.transpose();
    if (l < nl - 1) {
      if (L.act == Activation::Relu)
        Z = Z.cwiseMax(0.0);
      else
        Z = Z.array().tanh().matrix();
    }
  }
}

void mlpBackward(const MlpLayout& L, const double* params, const RowMat& X, MlpCache& cache, const Mat& dH,
                 double* grads) {
  const int nl = L.layers();
  if (L.simd != SimdLevel::Generic) {
    simdKernels(L.simd).mlpBackward(raw(L), params, X.data(), X.rows(), cache.ptrs.data(), dH.data(), grads,
                                    cache.ptrs[nl], cache.ptrs[nl + 1]);
    return;
  }
  cache.dZ = dH;  // (n,d): the last layer is linear
  for (int l = nl - 1; l >= 0; --l) {
    const int in = L.widths[l], out = L.widths[l + 1];
    CMapMat Wt(params + L.w_off[l], in, out);  // (in,out)
    MapMat dWt(grads + L.w_off[l], in, out);   // (in,out)
    MapVec db(grads + L.b_off[l], out);        // (out)
    if (l == 0)
      dWt.noalias() += X.transpose() * cache.dZ;  // (P,n) x (n,out)
    else
      dWt.noalias() += cache.a[l - 1].transpose() * cache.dZ;  // (in,n) x (n,out)
    db.noalias() += cache.dZ.colwise().sum().transpose();
    if (l == 0) break;
    cache.dA.noalias() = cache.dZ * Wt.transpose();  // (n,out) x (out,in) = (n,in)
    const Mat& A = cache.a[l - 1];                   // activation output of the layer below
    if (L.act == Activation::Relu)
      cache.dZ = (A.array() > 0.0).select(cache.dA.array(), 0.0).matrix();  // relu'(z) = [out > 0]
    else
      cache.dZ = cache.dA.array() * (1.0 - A.array().square());  // tanh' = 1 - out^2
  }
}

double mlpFlopsPerStep(const MlpLayout& L, int n) {
  double f = 0;
  for (int l = 0; l < L.layers(); ++l) {
    const double mac = double(n) * L.widths[l] * L.widths[l + 1];
    f += 2 * mac;             // forward
    f += 2 * mac;             // dWt
    if (l > 0) f += 2 * mac;  // dA of the layer below
  }
  return f;
}

void freeForward(const double* E, int d, const std::vector<int>& idx, Mat& H) {
  H.resize(Eigen::Index(idx.size()), d);
  for (size_t i = 0; i < idx.size(); ++i)
    for (int j = 0; j < d; ++j) H(Eigen::Index(i), j) = E[size_t(idx[i]) * d + j];
}

void freeBackward(int d, const std::vector<int>& idx, const Mat& dH, double* dE) {
  for (size_t i = 0; i < idx.size(); ++i)
    for (int j = 0; j < d; ++j) dE[size_t(idx[i]) * d + j] += dH(Eigen::Index(i), j);
}

Activation parseActivation(const std::string& name) {
  if (name == "relu") return Activation::Relu;
  if (name == "tanh") return Activation::Tanh;
  throw UserError("activation: unknown " + shownValue(name) + " (allowed: relu, tanh)");
}

}  // namespace ms
