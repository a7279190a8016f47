// The MLP and free-embedding backward passes against central finite differences of the forward pass, for
// relu and tanh and 0..4 hidden layers. A wrong transpose, missing bias gradient or activation derivative
// makes the relative error O(1), far above the 1e-6 allowed.
#include <gtest/gtest.h>

#include <cstdint>

#include <cmath>

#include "sim/network.h"

namespace ms {
namespace {

// L = sum(H .* G) so that dH = G.
double lossOf(const MlpLayout& L, const std::vector<double>& p, const RowMat& X, const Mat& G) {
  MlpCache c;
  Mat H;
  mlpForward(L, p.data(), X, c, H);
  return (H.array() * G.array()).sum();
}

void checkMlp(const std::vector<int>& hidden, Activation act, SimdLevel simd) {
  Rng rng(7);
  const int P = 3, d = 2, n = 5;
  MlpLayout L = mlpLayout(P, hidden, d, act, 4);  // offset 4: the layout must respect it
  L.simd = simd;
  std::vector<double> p(L.offset + L.size, 0.0), g(p.size(), 0.0);
  mlpInit(L, p.data(), rng);
  for (Eigen::Index i = L.offset; i < Eigen::Index(p.size()); ++i) p[i] += 0.1 * rng.normal();  // biases too
  RowMat X(n, P);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < P; ++j) X(i, j) = rng.normal();
  Mat G(n, d);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) G(i, j) = rng.normal();
  MlpCache c;
  Mat H;
  mlpForward(L, p.data(), X, c, H);
  ASSERT_EQ(H.rows(), n);
  ASSERT_EQ(H.cols(), d);
  mlpBackward(L, p.data(), X, c, G, g.data());
  for (Eigen::Index i = 0; i < L.offset; ++i) EXPECT_EQ(g[i], 0.0) << "wrote outside its slice";
  double worst = 0;
  for (Eigen::Index i = L.offset; i < Eigen::Index(p.size()); ++i) {
    const double h = 1e-6, keep = p[i];
    p[i] = keep + h;
    const double lp = lossOf(L, p, X, G);
    p[i] = keep - h;
    const double lm = lossOf(L, p, X, G);
    p[i] = keep;
    const double fd = (lp - lm) / (2 * h);
    worst = std::max(worst, std::abs(fd - g[i]) / std::max(1.0, std::abs(fd)));
  }
  EXPECT_LT(worst, 1e-6) << "hidden layers " << hidden.size() << ", kernels " << simdName(simd);
}

// The baseline kernels and the widest this CPU has (both run the same checks).
std::vector<SimdLevel> levels() {
  std::vector<SimdLevel> v = {SimdLevel::Generic};
  if (detectSimd() != SimdLevel::Generic) v.push_back(detectSimd());
  if (detectSimd() == SimdLevel::Avx512) v.push_back(SimdLevel::Avx2);
  return v;
}

TEST(Network, MlpGradientMatchesFiniteDifferencesRelu) {
  for (SimdLevel lv : levels())
    for (auto h : std::vector<std::vector<int>>{{}, {4}, {4, 3}, {3, 4, 5}, {3, 3, 3, 3}})
      checkMlp(h, Activation::Relu, lv);
}

TEST(Network, MlpGradientMatchesFiniteDifferencesTanh) {
  for (SimdLevel lv : levels())
    for (auto h : std::vector<std::vector<int>>{{}, {4}, {4, 3}, {3, 3, 3, 3}})
      checkMlp(h, Activation::Tanh, lv);
}

// The wide-vector kernels compute the same function and gradient as the baseline ones (to rounding), at a
// size where Eigen takes its blocked GEMM paths, with tanh (vectorised approximation) and relu.
TEST(Network, WideKernelsAgreeWithBaseline) {
  for (SimdLevel lv : levels()) {
    if (lv == SimdLevel::Generic) continue;
    for (Activation act : {Activation::Relu, Activation::Tanh}) {
      Rng rng(11);
      MlpLayout G = mlpLayout(37, {64, 48}, 3, act, 0), V = G;
      G.simd = SimdLevel::Generic;
      V.simd = lv;
      std::vector<double> p(G.size), gg(G.size, 0.0), gv(G.size, 0.0);
      mlpInit(G, p.data(), rng);
      RowMat X = RowMat::Random(130, 37);
      Mat dH = Mat::Random(130, 3), Hg, Hv;
      MlpCache cg, cv;
      mlpForward(G, p.data(), X, cg, Hg);
      mlpForward(V, p.data(), X, cv, Hv);
      mlpBackward(G, p.data(), X, cg, dH, gg.data());
      mlpBackward(V, p.data(), X, cv, dH, gv.data());
      EXPECT_LT((Hg - Hv).cwiseAbs().maxCoeff(), 1e-9 * (1 + Hg.cwiseAbs().maxCoeff())) << simdName(lv);
      double worst = 0, scale = 1;
      for (size_t i = 0; i < gg.size(); ++i) {
        worst = std::max(worst, std::abs(gg[i] - gv[i]));
        scale = std::max(scale, std::abs(gg[i]));
      }
      EXPECT_LT(worst, 1e-9 * scale) << simdName(lv);
    }
  }
}

// The same numbers wherever the heap puts the buffers: every buffer of a forward/backward pass and of the
// optimiser updates is placed at 8 offsets from a 64-byte boundary, and each SIMD level must give results
// bit-identical to its own offset-0 run. The AVX-512 kernels failed this twice (the bias gradient's
// vectorised column sum and Eigen's approximate square root in Adam), so a same-seed run changed with the
// output path.
TEST(Network, ResultsDoNotDependOnBufferAlignment) {
  const int widths[4] = {2, 64, 64, 3};
  long w_off[3], b_off[3], np = 0;
  for (int l = 0; l < 3; ++l) {
    w_off[l] = np;
    np += long(widths[l]) * widths[l + 1];
    b_off[l] = np;
    np += widths[l + 1];
  }
  const long n = 256;
  MlpRaw L;
  L.layers = 3;
  L.widths = widths;
  L.w_off = w_off;
  L.b_off = b_off;
  Rng rng(3);
  auto fill = [&](long k, double scale) {
    std::vector<double> out(static_cast<size_t>(k));
    for (double& x : out) x = scale * rng.normal();
    return out;
  };
  const std::vector<double> P0 = fill(np, 0.3), X0 = fill(2 * n, 1.5), dH0 = fill(3 * n, 1);
  const std::vector<double> M0 = fill(np, 0.01);
  std::vector<double> V0 = fill(np, 0.001);
  for (double& x : V0) x = x * x;  // second moments are non-negative
  std::vector<std::vector<double>> store;
  auto place = [&](const std::vector<double>& src, int shift) {  // a copy at `shift` doubles past 64 bytes
    store.emplace_back(src.size() + 16, 0.0);
    double* p = store.back().data();
    while (reinterpret_cast<uintptr_t>(p) % 64 != 0) ++p;
    std::copy(src.begin(), src.end(), p + shift);
    return p + shift;
  };
  for (SimdLevel lv : levels()) {
    if (lv == SimdLevel::Generic) continue;
    const SimdKernels& K = simdKernels(lv);
    for (bool relu : {true, false}) {
      L.relu = relu;
      std::vector<double> ref;
      for (int shift = 0; shift < 8; ++shift) {
        store.clear();
        const double* p = place(P0, shift);
        const double* x = place(X0, (shift * 3) % 8);  // buffers misaligned relative to each other too
        double* acts[3] = {place(std::vector<double>(size_t(n) * 64), (shift + 1) % 8),
                           place(std::vector<double>(size_t(n) * 64), (shift + 5) % 8),
                           place(std::vector<double>(size_t(n) * 3), shift)};
        double* g = place(std::vector<double>(size_t(np)), (shift + 2) % 8);
        K.mlpForward(L, p, x, n, acts);
        K.mlpBackward(L, p, x, n, acts, place(dH0, (shift + 7) % 8), g,
                      place(std::vector<double>(size_t(n) * 64), (shift + 3) % 8),
                      place(std::vector<double>(size_t(n) * 64), (shift + 6) % 8));
        double* q = place(P0, (shift + 4) % 8);
        double* m = place(M0, shift);
        double* v = place(V0, (shift + 1) % 8);
        K.adam(q, g, m, v, np, 0.01, 0.9, 0.999, 0.5, 1e-8);
        double* q2 = place(P0, (shift + 6) % 8);
        double* m2 = place(M0, (shift + 2) % 8);
        K.sgd(q2, g, m2, np, 0.05, 0.9, true);
        std::vector<double> out(acts[2], acts[2] + 3 * n);
        out.insert(out.end(), g, g + np);
        out.insert(out.end(), q, q + np);
        out.insert(out.end(), q2, q2 + np);
        if (shift == 0) ref = out;
        size_t differ = 0;
        for (size_t i = 0; i < out.size(); ++i) differ += out[i] != ref[i];
        EXPECT_EQ(differ, 0u) << simdName(lv) << (relu ? " relu" : " tanh") << " shift " << shift;
      }
    }
  }
}

TEST(Network, BackwardAccumulates) {
  Rng rng(3);
  const MlpLayout L = mlpLayout(2, {3}, 2, Activation::Tanh, 0);
  std::vector<double> p(L.size), g1(L.size, 0.0), g2(L.size, 0.0);
  mlpInit(L, p.data(), rng);
  RowMat X = RowMat::Random(4, 2);
  Mat G = Mat::Random(4, 2), H;
  MlpCache c;
  mlpForward(L, p.data(), X, c, H);
  mlpBackward(L, p.data(), X, c, G, g1.data());
  mlpBackward(L, p.data(), X, c, G, g2.data());
  mlpBackward(L, p.data(), X, c, G, g2.data());
  for (size_t i = 0; i < g1.size(); ++i) EXPECT_NEAR(g2[i], 2 * g1[i], 1e-12);
}

TEST(Network, InitIsSeededAndScaled) {
  const MlpLayout L = mlpLayout(100, {200}, 3, Activation::Relu, 0);
  std::vector<double> a(L.size), b(L.size);
  Rng r1(5), r2(5);
  mlpInit(L, a.data(), r1);
  mlpInit(L, b.data(), r2);
  EXPECT_EQ(a, b);
  // He: the first layer's weights have variance 2 / fan_in.
  double s = 0;
  for (Eigen::Index i = 0; i < 100 * 200; ++i) s += a[i] * a[i];
  EXPECT_NEAR(s / (100 * 200), 2.0 / 100, 0.1 * 2.0 / 100);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(a[L.b_off[0] + i], 0.0);
}

TEST(Network, FreeEmbeddingsGatherAndScatter) {
  const int d = 3;
  std::vector<double> E = {0, 1, 2, 3, 4, 5, 6, 7, 8}, dE(9, 0.0);
  Mat H;
  freeForward(E.data(), d, {2, 0, 2}, H);
  EXPECT_EQ(H(0, 0), 6);
  EXPECT_EQ(H(1, 2), 2);
  Mat dH = Mat::Ones(3, d);
  freeBackward(d, {2, 0, 2}, dH, dE.data());
  EXPECT_EQ(dE[6], 2);  // row 2 was used twice
  EXPECT_EQ(dE[0], 1);
  EXPECT_EQ(dE[3], 0);
}

TEST(Network, FlopCount) {
  const MlpLayout L = mlpLayout(784, {256, 256}, 3, Activation::Relu, 0);
  const double mac = 256.0 * (784 * 256 + 256 * 256 + 256 * 3);
  EXPECT_DOUBLE_EQ(mlpFlopsPerStep(L, 256), 2 * mac * 2 + 2 * 256.0 * (256 * 256 + 256 * 3));
}

}  // namespace
}  // namespace ms
