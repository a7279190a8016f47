// Loss values against closed forms and against each other: softmax of equal logits is ln K; NormFace at a
// regular simplex reaches ln(1 + (K-1) e^{-K s/(K-1)}); each margin loss with its margin switched off equals
// the loss it extends; rotating H and W together changes nothing; psi is continuous and decreasing; numerics
// stay finite at s = 1000, at the ends of every margin range and at an all-zero embedding.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "sim/errors.h"
#include "sim/loss.h"

namespace ms {
namespace {

constexpr double kPi = 3.14159265358979323846;

Mat randn(int r, int c, uint32_t seed, double scale = 1.0) {
  std::mt19937 g(seed);
  std::normal_distribution<double> nd(0, scale);
  Mat m(r, c);
  for (int i = 0; i < r; ++i)
    for (int j = 0; j < c; ++j) m(i, j) = nd(g);
  return m;
}

std::vector<int> labels(int n, int K) {
  std::vector<int> y;
  for (int i = 0; i < n; ++i) y.push_back((i * 7 + 3) % K);
  return y;
}

struct Out {
  double loss;
  Mat dH, dW;
};

// W (K,d) -> (K k,d) for a loss with k sub-centres per class: class j's rows are W_j + 0.3 q W_{j+1}, linear
// in W so that rotating W rotates them too.
Mat subcentres(const Mat& W, int k) {
  Mat out(W.rows() * k, W.cols());
  for (Eigen::Index j = 0; j < W.rows(); ++j)
    for (int q = 0; q < k; ++q) out.row(j * k + q) = W.row(j) + 0.3 * q * W.row((j + 1) % W.rows());
  return out;
}

Out run(const std::string& name, const LossParams& p, const Mat& H, const Mat* W, const std::vector<int>& y,
        LossState st = LossState{}) {
  const LossSpec& spec = findLoss(name);
  LossWorkspace ws;
  Out o;
  Mat Wk;
  if (W && weightRowsPerClass(spec, p) > 1) {
    Wk = subcentres(*W, weightRowsPerClass(spec, p));
    W = &Wk;
  }
  o.loss = lossForwardBackward(spec, p, st, H, W, y, o.dH, W ? &o.dW : nullptr, ws);
  return o;
}

LossParams P(std::initializer_list<std::pair<const std::string, double>> v) {
  LossParams p;
  p.values = v;
  return p;
}

// LossRule resolves the parameters once; it must give exactly what the free functions give, for every loss
// and with non-default parameters, and a copy must keep the softmax bias after the LossParams are gone.
TEST(LossValues, ResolvedRuleEqualsTheFreeFunctions) {
  std::mt19937 g(11);
  std::uniform_real_distribution<double> u(-1, 1);
  for (const LossSpec& spec : lossCatalogue()) {
    LossParams p;
    for (const ParamSpec& ps : spec.params) {
      if (ps.kind == ParamKind::Real) p.values[ps.name] = ps.lo + (ps.hi - ps.lo) * 0.3 * (u(g) + 1) / 2;
      if (ps.kind == ParamKind::Integer) p.values[ps.name] = std::min(ps.hi, ps.lo + 2);
      if (ps.kind == ParamKind::Vector) p.vectors[ps.name] = {0.5, -1.5, 2.0};
    }
    LossState st;
    st.lambda = 0.7;
    const LossRule rule(spec, p, st);
    for (int i = 0; i < 50; ++i) {
      const int j = i % 3;
      const double c = u(g), hn = 2 + u(g), wn = 1.5 + u(g);
      EXPECT_EQ(rule.test(j, c, hn, wn), testLogit(spec, p, st, j, c, hn, wn)) << spec.name;
      EXPECT_EQ(rule.target(j, c, hn, wn), targetLogit(spec, p, st, j, c, hn, wn)) << spec.name;
      EXPECT_EQ(rule.other(j, c, hn, wn), otherLogit(spec, p, st, j, c, hn, wn)) << spec.name;
    }
  }
  LossRule copy;
  {
    LossParams p;
    p.vectors["bias"] = {0.0, 3.0};
    const LossRule rule(findLoss("softmax"), p, LossState{});
    copy = rule;
  }
  EXPECT_DOUBLE_EQ(copy.test(1, 0.5, 2.0, 1.0), 2.0 * 1.0 * 0.5 + 3.0);
  EXPECT_DOUBLE_EQ(copy.test(0, 0.5, 2.0, 1.0), 2.0 * 1.0 * 0.5);
}

TEST(LossValues, SoftmaxOfEqualLogitsIsLnK) {
  for (int K = 2; K <= 7; ++K) {
    const Mat H = Mat::Zero(5, 3), W = randn(K, 3, K);
    const auto y = labels(5, K);
    EXPECT_NEAR(run("softmax", {}, H, &W, y).loss, std::log(double(K)), 1e-12);
    EXPECT_NEAR(run("modified-softmax", {}, H, &W, y).loss, std::log(double(K)), 1e-12);
    // orthogonal-to-everything features: cos = 0 for every class, so every cosine logit without margin is 0
    EXPECT_NEAR(run("normface", P({{"s", 30}}), H, &W, y).loss, std::log(double(K)), 1e-12);
  }
}

// Regular simplex with K vertices in d = K-1 dimensions (K = 2: antipodal points on a line, embedded in 2-D).
Mat simplex(int K, int d) {
  Mat V = Mat::Zero(K, d);
  if (K == 2) {
    V(0, 0) = 1;
    V(1, 0) = -1;
    return V;
  }
  if (K == 3) {
    for (int j = 0; j < 3; ++j) {
      V(j, 0) = std::cos(2 * kPi * j / 3);
      V(j, 1) = std::sin(2 * kPi * j / 3);
    }
    return V;
  }
  // K = 4 in 3-D: alternate cube corners
  const double s = 1 / std::sqrt(3.0);
  V << s, s, s, s, -s, -s, -s, s, -s, -s, -s, s;
  return V;
}

TEST(LossValues, NormFaceAtRegularSimplexEqualsItsBound) {
  for (int K : {2, 3, 4}) {
    const int d = K == 4 ? 3 : 2;
    Mat W = simplex(K, d);
    for (int j = 0; j < K; ++j) W.row(j) *= 0.5 + j;  // norms do not matter to NormFace
    const auto y = labels(3 * K, K);
    Mat H(3 * K, d);
    for (int i = 0; i < 3 * K; ++i) H.row(i) = (1.0 + 0.3 * i) * W.row(y[size_t(i)]).normalized();
    for (double s : {1.0, 5.0, 16.0}) {
      const double bound = std::log1p((K - 1) * std::exp(-K * s / (K - 1)));
      EXPECT_NEAR(run("normface", P({{"s", s}}), H, &W, y).loss, bound, 1e-12) << K << " " << s;
      // and anything else is above it
      const Mat H2 = randn(3 * K, d, 99);
      EXPECT_GT(run("normface", P({{"s", s}}), H2, &W, y).loss, bound);
    }
  }
}

void expectSame(const Out& a, const Out& b, const char* what) {
  EXPECT_NEAR(a.loss, b.loss, 1e-12 * std::max(1.0, std::abs(a.loss))) << what;
  EXPECT_LT((a.dH - b.dH).cwiseAbs().maxCoeff(), 1e-11) << what;
  EXPECT_LT((a.dW - b.dW).cwiseAbs().maxCoeff(), 1e-11) << what;
}

TEST(LossValues, MarginOffEqualsTheBaseLoss) {
  const Mat H = randn(12, 3, 1), W = randn(5, 3, 2);
  const auto y = labels(12, 5);
  const Out nf = run("normface", P({{"s", 9}}), H, &W, y);
  expectSame(run("am-softmax", P({{"s", 9}, {"m", 0}}), H, &W, y), nf, "am m=0");
  expectSame(run("arcface", P({{"s", 9}, {"m", 0}, {"variant", 2}}), H, &W, y), nf, "arcface plain m=0");
  expectSame(run("combined", P({{"s", 9}, {"m1", 1}, {"m2", 0}, {"m3", 0}}), H, &W, y), nf, "combined 1,0,0");
  expectSame(run("enhanced-am-softmax", P({{"s", 9}, {"m", 0}}), H, &W, y), nf, "enhanced m=0");
  expectSame(run("combined", P({{"s", 9}, {"m1", 1}, {"m2", 0}, {"m3", 0.3}}), H, &W, y),
             run("am-softmax", P({{"s", 9}, {"m", 0.3}}), H, &W, y), "combined = cosface");
  expectSame(run("combined", P({{"s", 9}, {"m1", 1}, {"m2", 0.4}, {"m3", 0}}), H, &W, y),
             run("arcface", P({{"s", 9}, {"m", 0.4}, {"variant", 2}}), H, &W, y), "combined = arcface");
  const Out sm = run("softmax", {}, H, &W, y);
  expectSame(run("focal", P({{"gamma", 0}}), H, &W, y), sm, "focal gamma=0");
  expectSame(run("l-softmax", P({{"m", 1}}), H, &W, y), sm, "l-softmax m=1");
  expectSame(run("a-softmax", P({{"m", 1}}), H, &W, y), run("modified-softmax", {}, H, &W, y),
             "a-softmax m=1");
  LossParams ones, twos;
  ones.vectors["class_weights"] = std::vector<double>(5, 1.0);
  twos.vectors["class_weights"] = std::vector<double>(5, 2.0);
  expectSame(run("weighted-softmax", ones, H, &W, y), sm, "weighted 1");
  EXPECT_NEAR(run("weighted-softmax", twos, H, &W, y).loss, 2 * sm.loss,
              1e-12);  // mean, not / sum of weights
  // l2-softmax with unit-norm weights is NormFace with s = alpha
  Mat Wn = W;
  Wn.rowwise().normalize();
  EXPECT_NEAR(run("l2-softmax", P({{"alpha", 9}}), H, &Wn, y).loss,
              run("normface", P({{"s", 9}}), H, &Wn, y).loss, 1e-12);
  // the focal term only ever lowers the loss
  EXPECT_LT(run("focal", P({{"gamma", 2}}), H, &W, y).loss, sm.loss);
  // a positive margin only ever raises the loss
  EXPECT_GT(run("am-softmax", P({{"s", 9}, {"m", 0.2}}), H, &W, y).loss, nf.loss);
  EXPECT_GT(run("arcface", P({{"s", 9}, {"m", 0.2}}), H, &W, y).loss, nf.loss);
}

TEST(LossValues, RotatingHAndWTogetherChangesNothing) {
  const Mat Q = Eigen::AngleAxisd(0.7, Eigen::Vector3d(1, 2, 3).normalized()).toRotationMatrix();
  const Mat H = randn(10, 3, 3), W = randn(4, 3, 4);
  const Mat HQ = H * Q, WQ = W * Q;
  const auto y = labels(10, 4);
  for (const auto& spec : lossCatalogue()) {
    const bool w = spec.traits.has_weights || spec.traits.joint_softmax;
    const Out a = run(spec.name, {}, H, w ? &W : nullptr, y);
    const Out b = run(spec.name, {}, HQ, w ? &WQ : nullptr, y);
    EXPECT_NEAR(a.loss, b.loss, 1e-10 * std::max(1.0, std::abs(a.loss))) << spec.name;
    EXPECT_LT((a.dH * Q - b.dH).cwiseAbs().maxCoeff(), 1e-9) << spec.name;  // gradients rotate along
    if (w) {
      EXPECT_LT((a.dW * Q - b.dW).cwiseAbs().maxCoeff(), 1e-9) << spec.name;
    }
  }
}

TEST(LossValues, ScaleFreeLossesHaveNoRadialGradient) {
  const Mat H = randn(8, 3, 5), W = randn(4, 3, 6);
  const auto y = labels(8, 4);
  for (const char* name :
       {"normface", "am-softmax", "arcface", "combined", "coco", "contrastive", "triplet"}) {
    const Out o = run(name, {}, H, &W, y);
    for (int i = 0; i < 8; ++i) EXPECT_NEAR(o.dH.row(i).dot(H.row(i)), 0, 1e-10) << name;
  }
}

TEST(LossValues, PsiIsContinuousDecreasingAndEndsAt1Minus2m) {
  for (int m = 1; m <= 6; ++m) {
    const LossSpec& spec = findLoss("l-softmax");
    const LossParams p = P({{"m", m}, {"lambda", 0}});
    LossState st;
    double prev = targetCurve(spec, p, st, 0);
    EXPECT_NEAR(prev, 1, 1e-5);  // cos is clamped to 1 - 1e-7 before acos
    for (int q = 1; q <= 2000; ++q) {
      const double v = targetCurve(spec, p, st, kPi * q / 2000);
      EXPECT_LE(v, prev + 1e-12) << "m " << m << " t " << kPi * q / 2000;
      EXPECT_LT(prev - v, 0.02 * m) << "jump at m " << m;  // continuous at the branch ends
      prev = v;
    }
    EXPECT_NEAR(prev, 1 - 2 * m, 1e-5);
  }
}

TEST(LossValues, ArcFaceTargetCurveVariants) {
  const LossSpec& spec = findLoss("arcface");
  LossState st;
  const double s = 2, m = 0.5;
  for (double t : {0.1, 1.0, 1.6, 2.5, 2.7, 3.0}) {
    const double plain = s * std::cos(t + m);
    EXPECT_NEAR(targetCurve(spec, P({{"s", s}, {"m", m}, {"variant", 2}}), st, t), plain, 1e-9);
    const double ins = t > kPi - m ? s * (std::cos(t) - m * std::sin(m)) : plain;
    EXPECT_NEAR(targetCurve(spec, P({{"s", s}, {"m", m}, {"variant", 0}}), st, t), ins, 1e-9);
    const double easy = std::cos(t) > 0 ? plain : s * std::cos(t);
    EXPECT_NEAR(targetCurve(spec, P({{"s", s}, {"m", m}, {"variant", 1}}), st, t), easy, 1e-9);
    EXPECT_NEAR(otherLogit(spec, P({{"s", s}, {"m", m}}), st, 1, std::cos(t), 1, 1), s * std::cos(t), 1e-12);
    EXPECT_NEAR(testLogit(spec, P({{"s", s}, {"m", m}}), st, 1, std::cos(t), 1, 1), s * std::cos(t), 1e-12);
  }
}

TEST(LossValues, AdaCosScale) {
  const Mat H = randn(16, 3, 8), W = randn(10, 3, 9);
  const auto y = labels(16, 10);
  const double s0 = std::sqrt(2.0) * std::log(9.0);
  // fixed AdaCos is NormFace at s0
  EXPECT_NEAR(run("adacos", P({{"adaptive", 0}}), H, &W, y).loss,
              run("normface", P({{"s", s0}}), H, &W, y).loss, 1e-12);
  // dynamic AdaCos: s = ln(B_avg) / cos(min(pi/4, median target angle)), B_avg with the previous s (here s0)
  double b = 0;
  std::vector<double> ang;
  for (int i = 0; i < 16; ++i) {
    for (int j = 0; j < 10; ++j) {
      const double c = H.row(i).normalized().dot(W.row(j).normalized());
      if (j != y[size_t(i)]) b += std::exp(s0 * c);
      if (j == y[size_t(i)]) ang.push_back(std::acos(c));
    }
  }
  std::sort(ang.begin(), ang.end());
  const double s = std::log(b / 16) / std::cos(std::min(kPi / 4, ang[7]));
  LossState st;
  const Out o = run("adacos", {}, H, &W, y, st);
  const Out nf = run("normface", P({{"s", s}}), H, &W, y);
  expectSame(o, nf, "adacos = normface at the adapted s");
  const LossSpec& spec = findLoss("adacos");
  LossWorkspace ws;
  Mat dH, dW;
  lossForwardBackward(spec, {}, st, H, &W, y, dH, &dW, ws);
  EXPECT_NEAR(st.s, s, 1e-12);
}

TEST(LossValues, HandComputedMetricLosses) {
  // two unit points at 90 degrees: d = sqrt 2
  Mat H(2, 2);
  H << 3, 0, 0, 0.5;
  EXPECT_NEAR(run("contrastive", P({{"m", 1.9}}), H, nullptr, {0, 1}).loss,
              0.5 * std::pow(1.9 - std::sqrt(2.0), 2), 1e-12);
  EXPECT_NEAR(run("contrastive", {}, H, nullptr, {0, 0}).loss, 0.5 * 2, 1e-12);
  // marginal, same pair: max(0, xi - (theta - 2))
  EXPECT_NEAR(run("marginal", P({{"theta", 1.2}, {"xi", 0.3}}), H, nullptr, {0, 0}).loss, 0.3 - (1.2 - 2),
              1e-12);
  // triplet: anchor (1,0), positive at 60 deg, negatives at 90 and 180 deg
  Mat T(4, 2);
  T << 1, 0, 0.5, std::sqrt(3.0) / 2, 0, 2, -5, 0;
  const std::vector<int> y = {0, 0, 1, 2};
  // D: (0,1)=1, (0,2)=2, (0,3)=4, (1,2)=2-sqrt3, (1,3)=3
  const double m = 1.5;
  const double all = (std::max(0.0, 1 - 2 + m) + std::max(0.0, 1 - 4 + m) +
                      std::max(0.0, 1 - (2 - std::sqrt(3.0)) + m) + std::max(0.0, 1 - 3 + m)) /
                     4;
  EXPECT_NEAR(run("triplet", P({{"m", m}, {"mining", 0}}), T, nullptr, y).loss, all, 1e-12);
  // semi-hard keeps D_ap < D_an < D_ap + m: only (a=0, p=1, n=2); (0,1,3) has 4 > 2.5, (1,0,2) has 0.27 < 1,
  // (1,0,3) has 3 > 2.5
  const double semi = 1 - 2 + m;
  EXPECT_NEAR(run("triplet", P({{"m", m}, {"mining", 1}}), T, nullptr, y).loss, semi, 1e-12);
  // hard: anchor 0 -> hardest negative D = 2; anchor 1 -> D = 2 - sqrt 3
  const double hard = ((1 - 2 + m) + (1 - (2 - std::sqrt(3.0)) + m)) / 2;
  EXPECT_NEAR(run("triplet", P({{"m", m}, {"mining", 2}}), T, nullptr, y).loss, hard, 1e-12);
  // tpe of one triplet: softplus(<a,n> - <a,p>)
  Mat U(3, 2);
  U << 1, 0, 0, 1, -1, 0;
  EXPECT_NEAR(run("tpe", {}, U, nullptr, {0, 0, 1}).loss,
              0.5 * (std::log1p(std::exp(-1 - 0)) + std::log1p(std::exp(0 - 0))), 1e-12);
  EXPECT_NEAR(run("tse", P({{"alpha", 0.5}}), U, nullptr, {0, 0, 1}).loss,
              0.5 * (0 + std::max(0.0, 0.5 + 0 - 0)), 1e-12);
}

TEST(LossValues, CentreTerms) {
  Mat H(3, 2), C(2, 2);
  H << 1, 0, 3, 0, 0, 2;
  C << 2, 0, 0, 1;
  const std::vector<int> y = {0, 0, 1};
  EXPECT_NEAR(run("center", {}, H, &C, y).loss, (0.5 * 1 + 0.5 * 1 + 0.5 * 1) / 3, 1e-12);
  // |c0|^2 = 4, |c1|^2 = 1, mean 2.5: e = 1.5, 1.5, -1.5
  EXPECT_NEAR(run("center-invariant", P({{"gamma", 2}}), H, &C, y).loss, 0.5 + 2 * 0.25 * 3 * 2.25 / 3,
              1e-12);
  // range, k = 1: class 0 has one pair at D = 4; class 1 none; centres at D = 5 < margin 6
  EXPECT_NEAR(run("range", P({{"k", 1}, {"margin", 6}}), H, &C, y).loss, 4 + 1, 1e-12);
}

TEST(LossValues, WenCentreUpdate) {
  const Mat H = randn(9, 3, 21), C0 = randn(4, 3, 22), W = randn(4, 3, 23);
  const std::vector<int> y = {0, 0, 1, 2, 2, 2, 0, 1, 0};  // class 3 absent: it must not move
  const double alpha = 0.3;
  Mat expect = C0;
  for (int j = 0; j < 4; ++j) {
    Eigen::RowVectorXd delta = Eigen::RowVectorXd::Zero(3);
    int nj = 0;
    for (int i = 0; i < 9; ++i)
      if (y[size_t(i)] == j) delta += C0.row(j) - H.row(i), ++nj;
    expect.row(j) -= alpha * delta / (1 + nj);
  }
  for (const char* name : {"center", "center-invariant"}) {
    const LossSpec& spec = findLoss(name);
    const LossParams p = P({{"alpha", alpha}, {"lambda", 0.5}});
    LossAux aux;
    aux.joint = true;
    aux.centres = &C0;
    LossState st;
    LossWorkspace ws;
    Mat dH, dW, C = C0;
    lossForwardBackward(spec, p, st, H, &W, y, dH, &dW, ws, &aux);
    updateCentres(spec, p, H, y, aux, C);
    // center: Wen's rule alone; center-invariant: plus a step of rate alpha on the invariant term
    const bool plain = spec.name == "center";
    const Mat want = plain ? expect : Mat(expect - alpha * aux.dcentres);
    EXPECT_LT((C - want).cwiseAbs().maxCoeff(), 1e-12) << name;
    if (!plain) {
      EXPECT_GT(aux.dcentres.cwiseAbs().maxCoeff(), 1e-6);
    }
    EXPECT_LT((C.row(3) - (plain ? C0.row(3) : want.row(3))).cwiseAbs().maxCoeff(), 1e-12);
  }
}

// The decision rule the renderer draws (targetLogit / otherLogit) is the rule the loss trains: the loss of a
// batch equals the cross-entropy of the logits rebuilt from the rule, sample by sample.
TEST(LossValues, DecisionRuleIsTheTrainedRule) {
  const Mat H = randn(7, 3, 31), W = randn(4, 3, 32);
  const auto y = labels(7, 4);
  LossState st;
  st.lambda = 1.5;
  for (const auto& spec : lossCatalogue()) {
    // Rules that are not one logit per (sample, class) of H and W: batch centroids (CoCo), a batch scale
    // (AdaCos), hard negatives, sub-centres, a norm regulariser.
    if (spec.family == LossFamily::Centre || spec.family == LossFamily::Metric || spec.hooks.batch_weights ||
        spec.name == "adacos" || spec.hooks.other_logits || spec.hooks.norm_term ||
        !spec.traits.subcentres.empty())
      continue;
    LossParams p;
    if (spec.traits.learns_bias) p.vectors["bias"] = {0.3, -0.2, 0.1, 0.5};
    double expect = 0;
    for (int i = 0; i < 7; ++i) {
      std::vector<double> z;
      for (int j = 0; j < 4; ++j) {
        const double hn = H.row(i).norm(), wn = W.row(j).norm();
        const double c = H.row(i).dot(W.row(j)) / (hn * wn);
        z.push_back(j == y[size_t(i)] ? targetLogit(spec, p, st, j, c, hn, wn)
                                      : otherLogit(spec, p, st, j, c, hn, wn));
      }
      double mx = z[0], sum = 0;
      for (double v : z) mx = std::max(mx, v);
      for (double v : z) sum += std::exp(v - mx);
      const double ce = mx + std::log(sum) - z[size_t(y[size_t(i)])];
      expect += spec.name == "focal" ? std::pow(1 - std::exp(-ce), 2.0) * ce : ce;
    }
    EXPECT_NEAR(run(spec.name, p, H, &W, y, st).loss, expect / 7, 1e-10) << spec.name;
  }
}

TEST(LossValues, FiniteEverywhere) {
  const Mat Z = Mat::Zero(6, 3), H = randn(6, 3, 11), W = randn(4, 3, 12), Wz = Mat::Zero(4, 3);
  const auto y = labels(6, 4);
  for (const auto& spec : lossCatalogue()) {
    for (const Mat* h : {&Z, &H})
      for (const Mat* w : {&W, &Wz}) {
        const Out o = run(spec.name, {}, *h, w, y);
        EXPECT_TRUE(std::isfinite(o.loss) && o.dH.allFinite() && o.dW.allFinite()) << spec.name;
      }
    // every real parameter at both ends of its range (one at a time), with s at 1000 where there is one
    for (const auto& ps : spec.params) {
      if (ps.kind != ParamKind::Real && ps.kind != ParamKind::Integer) continue;
      for (double v : {ps.lo, ps.hi}) {
        LossParams p;
        p.values[ps.name] = v;
        for (const auto& q : spec.params)
          if (q.name == "s" && ps.name != "s") p.values["s"] = 1000;
        try {
          validateParams(spec, p, 4);
        } catch (const UserError&) {
          continue;  // a combination the catalogue rejects (e.g. MagFace's u_a below l_a) is never run
        }
        for (const Mat* h : {&Z, &H}) {
          const Out o = run(spec.name, p, *h, &W, y);
          EXPECT_TRUE(std::isfinite(o.loss) && o.dH.allFinite() && o.dW.allFinite())
              << spec.name << " " << ps.name << "=" << v;
        }
      }
    }
  }
  // the margin past pi - m for every m in range, at s = 1000
  Mat Ha(1, 2), Wa(2, 2);
  Wa << 1, 0, 0, 1;
  for (double t = 0; t <= kPi; t += 0.05) {
    Ha << std::cos(t), std::sin(t);
    for (double m = 0; m <= kPi; m += 0.1)
      for (int variant = 0; variant < 3; ++variant) {
        const Out o = run("arcface", P({{"s", 1000}, {"m", m}, {"variant", variant}}), Ha, &Wa, {0});
        EXPECT_TRUE(std::isfinite(o.loss) && o.dH.allFinite() && o.dW.allFinite()) << t << " " << m;
      }
  }
}

TEST(LossValues, AnnealedLambda) {
  const LossSpec& spec = findLoss("sphereface");
  EXPECT_NEAR(annealedLambda(spec, {}, 0), 1000, 1e-12);
  EXPECT_NEAR(annealedLambda(spec, {}, 100), 1000 / 13.0, 1e-9);
  EXPECT_NEAR(annealedLambda(spec, {}, 1000000), 5, 1e-12);
  // the state's lambda overrides the param (the trainer anneals; eval-loss passes the param)
  const Mat H = randn(6, 3, 13), W = randn(3, 3, 14);
  const auto y = labels(6, 3);
  LossState st;
  st.lambda = 2.0;
  EXPECT_NEAR(run("a-softmax", {}, H, &W, y, st).loss, run("a-softmax", P({{"lambda", 2}}), H, &W, y).loss,
              1e-12);
}

TEST(LossValues, CatalogueAndValidation) {
  EXPECT_EQ(lossCatalogue().size(), 26u);
  EXPECT_EQ(findLoss("cosface").name, "am-softmax");
  EXPECT_EQ(findLoss("sphereface").name, "a-softmax");
  EXPECT_THROW(findLoss("nope"), UserError);
  const LossSpec& arc = findLoss("arcface");
  EXPECT_THROW(validateParams(arc, P({{"s", -1}}), 3), UserError);
  EXPECT_THROW(validateParams(arc, P({{"q", 1}}), 3), UserError);
  EXPECT_THROW(validateParams(arc, P({{"variant", 3}}), 3), UserError);
  EXPECT_NO_THROW(validateParams(arc, P({{"variant", 2}, {"s", 1000}}), 3));
  EXPECT_THROW(validateParams(findLoss("l-softmax"), P({{"m", 2.5}}), 3), UserError);
  LossParams b;
  b.vectors["bias"] = {1, 2};
  EXPECT_THROW(validateParams(findLoss("softmax"), b, 3), UserError);
  EXPECT_NO_THROW(validateParams(findLoss("softmax"), b, 2));
  for (const auto& l : lossCatalogue()) {
    EXPECT_FALSE(l.formula.empty()) << l.name;
    EXPECT_FALSE(l.paper.empty()) << l.name;
    for (const auto& p : l.params) {
      EXPECT_LE(p.lo, p.hi) << l.name << " " << p.name;
      if (p.kind == ParamKind::Real || p.kind == ParamKind::Integer) {
        EXPECT_TRUE(p.def >= p.lo && p.def <= p.hi) << l.name << " " << p.name;
      }
      EXPECT_LE(p.name.size(), 15u) << "short names stay in std::string's small buffer";
    }
  }
}

}  // namespace
}  // namespace ms
