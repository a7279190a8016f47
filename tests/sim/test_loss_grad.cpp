// Finite-difference gradient checks (double precision, central differences) for every loss and every
// variant: both sides of ArcFace's thresholds, every k branch of psi for m = 1..5, softmax with and without
// bias, every triplet mining mode, CoCo with absent classes, joint centre training. A wrong sign, a missing
// chain-rule factor or a dropped normalisation term makes the analytic gradient differ from the numerical
// one by far more than the tolerance.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "sim/loss.h"
#include "tests/sim/grad_check.h"

namespace ms {
namespace {

void set(Case& c, const std::string& k, double v) {
  c.params.values[k] = v;
}

TEST(LossGrad, SoftmaxFamily) {
  for (int d : {2, 3, 5}) {
    Case c = randomCase("softmax", 9, d, 4, 1 + d);
    checkGradient(c);
    c.params.vectors["bias"] = {0.5, -1.0, 2.0, 0.1};
    checkGradient(c);
    Case w = randomCase("weighted-softmax", 9, d, 4, 7 + d);
    w.params.vectors["class_weights"] = {0.2, 3.0, 1.0, 0.7};
    checkGradient(w);
    for (double gamma : {0.0, 0.5, 2.0, 5.0}) {
      Case f = randomCase("focal", 9, d, 4, 11 + d, 2.0);
      set(f, "gamma", gamma);
      checkGradient(f);
    }
  }
}

TEST(LossGrad, NormalisedSoftmaxFamily) {
  for (int d : {2, 3, 4}) {
    checkGradient(randomCase("modified-softmax", 8, d, 5, 21 + d));
    Case l2 = randomCase("l2-softmax", 8, d, 5, 22 + d);
    set(l2, "alpha", 5);
    checkGradient(l2);
    Case nf = randomCase("normface", 8, d, 5, 23 + d);
    set(nf, "s", 7);
    checkGradient(nf);
    // n = 6 < K = 9: some classes are absent from the batch and fall back to W.
    Case coco = randomCase("coco", 6, d, 9, 24 + d);
    set(coco, "alpha", 4);
    checkGradient(coco);
    Case coco_full = randomCase("coco", 12, d, 3, 25 + d);
    checkGradient(coco_full);
    Case ada = randomCase("adacos", 8, d, 6, 26 + d);
    set(ada, "adaptive", 0);
    checkGradient(ada);
  }
}

// Places sample i at angle t_i from its class weight (in the plane of the first two axes, plus a small
// out-of-plane part for d = 3 that is removed again), so that specific branches can be hit on purpose.
Case angleCase(const std::string& loss, const std::vector<double>& t, int K, int d, uint32_t seed) {
  std::mt19937 g(seed);
  Case c;
  c.loss = loss;
  const int n = int(t.size());
  c.W = randn(K, d, g);
  c.H = Mat::Zero(n, d);
  std::uniform_real_distribution<double> radius(0.5, 2.0);
  for (int i = 0; i < n; ++i) {
    const int y = i % K;
    c.y.push_back(y);
    // an orthonormal pair (u, v) with u along W_y
    Eigen::VectorXd u = c.W.row(y).transpose().normalized();
    Eigen::VectorXd v = randn(d, 1, g).col(0);
    v -= v.dot(u) * u;
    v.normalize();
    c.H.row(i) = radius(g) * (std::cos(t[size_t(i)]) * u + std::sin(t[size_t(i)]) * v).transpose();
  }
  return c;
}

TEST(LossGrad, PsiEveryBranch) {
  for (const char* loss : {"l-softmax", "a-softmax"})
    for (int m = 1; m <= 5; ++m)
      for (double lambda : {0.0, 3.0}) {
        std::vector<double> t;
        for (int k = 0; k < m; ++k) t.push_back((k + 0.37) * kPi / m);  // inside branch k, off its ends
        Case c = angleCase(loss, t, 3, 3, 100 + m);
        set(c, "m", m);
        set(c, "lambda", lambda);
        checkGradient(c);
        Case c2 = angleCase(loss, t, 4, 2, 200 + m);
        set(c2, "m", m);
        set(c2, "lambda", lambda);
        checkGradient(c2);
      }
}

TEST(LossGrad, AdditiveMargins) {
  for (int d : {2, 3}) {
    Case am = randomCase("am-softmax", 8, d, 5, 31 + d);
    set(am, "s", 10);
    checkGradient(am);
    for (bool neg : {true, false}) {
      Case e = randomCase("enhanced-am-softmax", 8, d, 5, 32 + d);
      set(e, "s", 10);
      set(e, "negative_margin", neg);
      checkGradient(e);
    }
    Case cm = randomCase("combined", 8, d, 5, 33 + d);
    set(cm, "s", 8);
    set(cm, "m1", 1.3);
    checkGradient(cm);
  }
}

TEST(LossGrad, ArcFaceBothSidesOfEveryThreshold) {
  // insightface switches at t = pi - m, easy at t = pi/2; angles on both sides of each, with m = 0.5 and 1.2.
  for (double m : {0.5, 1.2})
    for (int variant = 0; variant < 3; ++variant) {
      const double th = variant == 1 ? kPi / 2 : kPi - m;
      std::vector<double> t = {0.2, th - 0.15, th + 0.15, 0.9 * kPi, 0.5 * th, th + 0.05};
      Case c = angleCase("arcface", t, 3, 3, 300 + variant);
      set(c, "s", 6);
      set(c, "m", m);
      set(c, "variant", variant);
      checkGradient(c);
    }
}

TEST(LossGrad, CentreFamily) {
  for (int d : {2, 3}) {
    checkGradient(randomCase("center", 10, d, 4, 41 + d));
    Case ci = randomCase("center-invariant", 10, d, 4, 42 + d);
    set(ci, "gamma", 0.7);
    checkGradient(ci);
    for (int k : {1, 2, 4}) {
      Case r = randomCase("range", 14, d, 3, 43 + d + k);
      set(r, "k", k);
      set(r, "margin", 8);  // the inter term is active
      checkGradient(r);
    }
    Case mg = randomCase("marginal", 10, d, 3, 44 + d);
    checkGradient(mg);
  }
}

TEST(LossGrad, MetricFamily) {
  for (int d : {2, 3}) {
    Case con = randomCase("contrastive", 10, d, 3, 51 + d);
    con.with_w = false;
    set(con, "m", 1.5);
    checkGradient(con);
    for (int mining = 0; mining < 3; ++mining) {
      Case t = randomCase("triplet", 12, d, 3, 52 + d + 10 * mining);
      t.with_w = false;
      set(t, "mining", mining);
      set(t, "m", 0.8);
      checkGradient(t);
    }
    Case tse = randomCase("tse", 10, d, 3, 53 + d);
    tse.with_w = false;
    set(tse, "alpha", 0.5);
    checkGradient(tse);
    Case tpe = randomCase("tpe", 10, d, 3, 54 + d);
    tpe.with_w = false;
    checkGradient(tpe);
  }
}

TEST(LossGrad, LearnableScaleDerivative) {
  for (const char* loss : {"normface", "l2-softmax"}) {
    Case c = randomCase(loss, 8, 3, 4, 61);
    const std::string key = std::string(loss) == "normface" ? "s" : "alpha";
    set(c, std::string(loss) == "normface" ? "learn_s" : "learn_alpha", 1);
    const LossSpec& spec = findLoss(loss);
    LossWorkspace ws;
    LossAux aux;
    Mat dH, dW;
    LossState st;
    auto at = [&](double sc) {
      LossState s2;
      (key == "s" ? s2.s : s2.alpha) = sc;
      return lossForwardBackward(spec, c.params, s2, c.H, &c.W, c.y, dH, &dW, ws, &aux);
    };
    (key == "s" ? st.s : st.alpha) = 3.0;
    lossForwardBackward(spec, c.params, st, c.H, &c.W, c.y, dH, &dW, ws, &aux);
    const double analytic = aux.dscale;
    const double num = (at(3.0 + 1e-6) - at(3.0 - 1e-6)) / 2e-6;
    EXPECT_NEAR(analytic, num, 1e-6 * std::max(1.0, std::abs(num))) << loss;
    EXPECT_GT(std::abs(analytic), 1e-4) << loss;
  }
}

TEST(LossGrad, SoftmaxBiasDerivative) {
  Case c = randomCase("softmax", 8, 3, 4, 71);
  c.params.vectors["bias"] = {0.1, 0.2, -0.3, 0.4};
  const LossSpec& spec = findLoss("softmax");
  LossWorkspace ws;
  LossAux aux;
  LossState st;
  Mat dH, dW;
  lossForwardBackward(spec, c.params, st, c.H, &c.W, c.y, dH, &dW, ws, &aux);
  const Vec db = aux.dbias;
  for (int j = 0; j < 4; ++j) {
    LossParams p = c.params;
    p.vectors["bias"][size_t(j)] += 1e-6;
    const double up = lossForwardBackward(spec, p, st, c.H, &c.W, c.y, dH, &dW, ws);
    p.vectors["bias"][size_t(j)] -= 2e-6;
    const double dn = lossForwardBackward(spec, p, st, c.H, &c.W, c.y, dH, &dW, ws);
    EXPECT_NEAR(db(j), (up - dn) / 2e-6, 1e-7);
  }
}

// Joint training (softmax on W + lambda * term on the centres): dH and dW against central differences, and
// the centre-term gradient against central differences on the centres.
TEST(LossGrad, JointCentreTraining) {
  for (const char* loss : {"center", "center-invariant", "range", "marginal"}) {
    Case c = randomCase(loss, 12, 3, 4, 81);
    set(c, "lambda", 0.3);
    if (std::string(loss) == "range") set(c, "margin", 8);
    std::mt19937 g(5);
    const Mat C = randn(4, 3, g);
    const LossSpec& spec = findLoss(loss);
    LossWorkspace ws;
    auto run = [&](const Mat& H, const Mat& W, const Mat& Cm, Mat* dH, Mat* dW, LossAux* out) {
      LossAux aux;
      aux.joint = true;
      aux.centres = &Cm;
      LossState st;
      Mat gH, gW;
      const double v = lossForwardBackward(spec, c.params, st, H, &W, c.y, gH, &gW, ws, &aux);
      if (dH) *dH = gH;
      if (dW) *dW = gW;
      if (out) *out = aux;
      return v;
    };
    Mat dH, dW;
    LossAux aux;
    run(c.H, c.W, C, &dH, &dW, &aux);
    const double h = 1e-6;
    for (int i = 0; i < c.H.rows(); ++i)
      for (int j = 0; j < 3; ++j) {
        Mat Hp = c.H, Hm = c.H;
        Hp(i, j) += h;
        Hm(i, j) -= h;
        EXPECT_NEAR(
            dH(i, j),
            (run(Hp, c.W, C, nullptr, nullptr, nullptr) - run(Hm, c.W, C, nullptr, nullptr, nullptr)) /
                (2 * h),
            1e-6)
            << loss;
      }
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 3; ++j) {
        Mat Wp = c.W, Wm = c.W;
        Wp(i, j) += h;
        Wm(i, j) -= h;
        EXPECT_NEAR(
            dW(i, j),
            (run(c.H, Wp, C, nullptr, nullptr, nullptr) - run(c.H, Wm, C, nullptr, nullptr, nullptr)) /
                (2 * h),
            1e-6)
            << loss;
      }
    // dcentres covers the terms other than the plain centre term: add that one back before comparing.
    for (int k = 0; k < 4; ++k)
      for (int j = 0; j < 3; ++j) {
        double plain = 0;
        if (std::string(loss) == "center" || std::string(loss) == "center-invariant")
          for (int i = 0; i < c.H.rows(); ++i)
            if (c.y[size_t(i)] == k) plain -= 0.3 * (c.H(i, j) - C(k, j)) / double(c.H.rows());
        Mat Cp = C, Cm = C;
        Cp(k, j) += h;
        Cm(k, j) -= h;
        const double num =
            (run(c.H, c.W, Cp, nullptr, nullptr, nullptr) - run(c.H, c.W, Cm, nullptr, nullptr, nullptr)) /
            (2 * h);
        EXPECT_NEAR(aux.dcentres(k, j) + plain, num, 1e-6) << loss;
      }
  }
}

}  // namespace
}  // namespace ms
