// Finite-difference gradient checks shared by the loss tests: a case (loss, params, H, W, labels), its loss
// and gradients through lossForwardBackward, and an entry-by-entry comparison with central differences in
// double precision. A wrong sign, a missing chain-rule factor or a dropped normalisation term makes the
// analytic gradient differ from the numerical one by far more than the tolerance.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "sim/loss.h"
#include "sim/math.h"

namespace ms {
namespace {

struct Case {
  std::string loss;
  LossParams params;
  Mat H, W;
  std::vector<int> y;
  bool with_w = true;
};

Mat randn(int r, int c, std::mt19937& g, double scale = 1.0) {
  std::normal_distribution<double> nd(0, scale);
  Mat m(r, c);
  for (int i = 0; i < r; ++i)
    for (int j = 0; j < c; ++j) m(i, j) = nd(g);
  return m;
}

Case randomCase(const std::string& loss, int n, int d, int K, uint32_t seed, double hscale = 1.0) {
  std::mt19937 g(seed);
  Case c;
  c.loss = loss;
  c.H = randn(n, d, g, hscale);
  c.W = randn(K, d, g);
  std::uniform_int_distribution<int> lab(0, K - 1);
  for (int i = 0; i < n; ++i) c.y.push_back(i < K ? i : lab(g));  // every class present when n >= K
  return c;
}

double evalLoss(const Case& c, const Mat& H, const Mat& W, Mat* dH = nullptr, Mat* dW = nullptr,
                LossState st = LossState{}) {
  const LossSpec& spec = findLoss(c.loss);
  validateParams(spec, c.params, int(W.rows()));
  LossWorkspace ws;
  Mat gH, gW;
  const double v = lossForwardBackward(spec, c.params, st, H, c.with_w ? &W : nullptr, c.y, gH,
                                       c.with_w ? &gW : nullptr, ws);
  if (dH) *dH = gH;
  if (dW) *dW = gW;
  return v;
}

// Compares the analytic gradient with central differences entry by entry; the error is relative to the
// larger of the two magnitudes and 1e-3 of the gradient's overall scale.
void checkGradient(const Case& c, double tol = 2e-6) {
  Mat dH, dW;
  const double v = evalLoss(c, c.H, c.W, &dH, &dW);
  ASSERT_TRUE(std::isfinite(v)) << c.loss;
  const double h = 1e-6;
  auto fd = [&](bool on_w, int i, int j) {
    Mat H = c.H, W = c.W;
    Mat& X = on_w ? W : H;
    X(i, j) += h;
    const double up = evalLoss(c, H, W);
    X(i, j) -= 2 * h;
    const double dn = evalLoss(c, H, W);
    return (up - dn) / (2 * h);
  };
  const double scale = std::max({1e-3, dH.cwiseAbs().maxCoeff(), c.with_w ? dW.cwiseAbs().maxCoeff() : 0.0});
  for (int i = 0; i < c.H.rows(); ++i)
    for (int j = 0; j < c.H.cols(); ++j) {
      const double num = fd(false, i, j);
      EXPECT_NEAR(dH(i, j), num, tol * std::max(scale, std::abs(num)) + 1e-9)
          << c.loss << " dH(" << i << "," << j << ")";
    }
  if (!c.with_w) return;
  for (int i = 0; i < c.W.rows(); ++i)
    for (int j = 0; j < c.W.cols(); ++j) {
      const double num = fd(true, i, j);
      EXPECT_NEAR(dW(i, j), num, tol * std::max(scale, std::abs(num)) + 1e-9)
          << c.loss << " dW(" << i << "," << j << ")";
    }
}

}  // namespace
}  // namespace ms
