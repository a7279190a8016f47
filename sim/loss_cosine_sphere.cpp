// Normalised softmax and the multiplicative angular margin: the modified softmax, L-Softmax and A-Softmax
// (SphereFace) with psi(t), L2-softmax, NormFace and CoCo, each as one definition (spec, traits, rule,
// resolve) with its paper and the derivation of its closed-form margin.
#include <cmath>

#include "sim/loss_internal.h"

namespace ms::detail {
namespace {

// CoCo (Liu et al. 2017): class centroids of the scaled unit features alpha H_i/|H_i| over this batch replace
// W; a class absent from the batch uses its row of W instead. Fills ws.cen (K,d) and ws.cnt (K).
const Mat* cocoCentroids(const ResolvedParams& r, const Mat& Xh, const Mat& W, const std::vector<int>& y,
                         LossWorkspace& ws) {
  const Eigen::Index K = W.rows(), n = Xh.rows();
  ws.cnt.assign(size_t(K), 0);
  ws.cen.setZero(K, W.cols());
  for (Eigen::Index i = 0; i < n; ++i) {
    ws.cen.row(y[size_t(i)]) += r.s * Xh.row(i);
    ws.cnt[size_t(y[size_t(i)])]++;
  }
  for (Eigen::Index j = 0; j < K; ++j) {
    if (ws.cnt[size_t(j)] > 0)
      ws.cen.row(j) /= double(ws.cnt[size_t(j)]);
    else
      ws.cen.row(j) = W.row(j);
  }
  return &ws.cen;
}

// dL/dcentroid (K,d): present classes pass it on to their members' unit features (c_j = alpha/n_j sum
// xh_i), absent ones to W.
void cocoCentroidsBackward(const ResolvedParams& r, const Mat& dcen, const std::vector<int>& y,
                           LossWorkspace& ws, Mat& dxh, Mat* dW) {
  for (Eigen::Index i = 0; i < dxh.rows(); ++i) {
    const int yi = y[size_t(i)];
    dxh.row(i) += r.s / double(ws.cnt[size_t(yi)]) * dcen.row(yi);
  }
  if (dW) {
    dW->setZero(dcen.rows(), dcen.cols());
    for (Eigen::Index j = 0; j < dcen.rows(); ++j)
      if (ws.cnt[size_t(j)] == 0) dW->row(j) = dcen.row(j);
  }
}

// psi(t) = (-1)^k cos(m t) - 2k, k = floor(m t / pi) (Liu et al. 2016, eq. 6), as a function of c = cos t.
// cos(m t) = T_m(c) and d cos(m t)/dc = m U_{m-1}(c) (Chebyshev polynomials), so no division by sin t.
double psiOfCos(int m, double c, double& dpsi) {
  const double cc = clampCos(c);
  const double t = std::acos(cc);
  int k = int(std::floor(m * t / kPi));
  k = std::max(0, std::min(m - 1, k));
  double t_prev = 1, tm = cc;    // T_0, T_1
  double u_prev = 0, um1 = 1;    // U_{-1}, U_0
  for (int q = 1; q < m; ++q) {  // T_{q+1} = 2c T_q - T_{q-1}, U_q = 2c U_{q-1} - U_{q-2}
    const double t_next = 2 * cc * tm - t_prev;
    t_prev = tm;
    tm = t_next;
    const double u_next = 2 * cc * um1 - u_prev;
    u_prev = um1;
    um1 = u_next;
  }
  const double sign = (k % 2) ? -1.0 : 1.0;
  dpsi = (cc == c) ? sign * m * um1 : 0.0;
  return sign * tm - 2.0 * k;
}

}  // namespace

namespace {

// ------------------------------------------------------------------ shared pieces of the rules

double testHnCos(const ResolvedParams&, int, double c, double hn, double) {
  return hn * c;
}
double testHnWnCos(const ResolvedParams&, int, double c, double hn, double wn) {
  return hn * wn * c;
}
double testScaledWnCos(const ResolvedParams& r, int, double c, double, double wn) {
  return r.s * wn * c;
}

// The modified softmax and A-Softmax keep |h|: |h| cos t; L-Softmax also |w|.
double otherHn(const ResolvedParams&, double c, double hn, double, Dz& d) {
  d = {hn, c, 0};
  return hn * c;
}
double otherHnWn(const ResolvedParams&, double c, double hn, double wn, Dz& d) {
  d = {wn * hn, wn * c, hn * c};
  return wn * hn * c;
}

// L-Softmax (Liu et al. 2016, eqs. 5-6) and A-Softmax (Liu et al. 2017, eq. 7): target
// [|w|] |h| (psi(t) + lambda cos t)/(1 + lambda).
double targetPsi(const ResolvedParams& r, double c, double hn, double wn, bool norm_w, Dz& d) {
  const double w = norm_w ? 1.0 : wn;
  double dpsi = 0;
  const double psi = psiOfCos(r.mi, c, dpsi);
  const double q = (psi + r.lambda * c) / (1 + r.lambda);
  const double dq = (dpsi + r.lambda) / (1 + r.lambda);
  d = {w * hn * dq, w * q, norm_w ? 0.0 : hn * q};
  return w * hn * q;
}

// lambda = 0: psi(t) = cos(m t) on [0, pi/m]. Boundary of a: psi(t) = cos(alpha - t); with both arguments in
// [0, pi] (cos is one-to-one there) m t = alpha - t, t* = alpha/(m+1) <= pi/(m+1) < pi/m; psi decreases and
// cos(alpha - t) increases, so this is the only root. margin = alpha - 2 alpha/(m+1) = alpha (m-1)/(m+1).
// (For L-Softmax this assumes |w_a| = |w_b|, as the lemma does; the measured margin uses the norms.)
double marginPsi(const ResolvedParams& r, double alpha, std::string*) {
  return alpha * (r.mi - 1) / (r.mi + 1);
}

std::vector<ParamSpec> lsoftmaxParams(int m_default) {
  return {
      integer("m", m_default, 1, 8, "multiplicative angular margin: psi(t) = (-1)^k cos(m t) - 2k"),
      real("lambda", 0, 0, 1e6,
           "mix with cos t: (psi + lambda cos)/(1 + lambda); eval-loss uses it as given, training anneals"),
      real("base", 1000, 0, 1e6, "annealing: lambda = max(lambda_min, base (1 + gamma iter)^-power)"),
      real("gamma", 0.12, 0, 10, "annealing rate"),
      real("power", 1, 0, 10, "annealing power"),
      real("lambda_min", 5, 0, 1e6, "annealing floor")};
}

}  // namespace

void appendSphereLosses(std::vector<LossSpec>& out) {
  using F = LossFamily;
  LossSpec s;
  s.path = LossPath::Cosine;

  s.name = "modified-softmax";
  s.contrast = "softmax";
  s.family = F::NormalisedSoftmax;
  s.params = {};
  s.formula = "-log softmax(|H_i| cos t_j)_y, W rows normalised, no bias";
  s.paper = "Liu et al. 2017, SphereFace, CVPR, sec. 3.1 (modified softmax)";
  s.traits = {};
  s.traits.feature_norm = true;
  s.rule = {};
  s.rule.test = testHnCos;
  s.rule.target = s.rule.other = otherHn;
  s.rule.other_form = [](const ResolvedParams&) { return OtherForm{1, 0, true, false}; };
  s.rule.no_closed_form = "no margin: the training rule is the test rule";
  s.resolve = [](const ParamReader&, const LossState&, ResolvedParams&) {};
  out.push_back(s);

  s.name = "l-softmax";
  s.contrast = "softmax";
  s.aliases = {"lsoftmax", "large-margin-softmax"};
  s.family = F::AngularMargin;
  s.params = lsoftmaxParams(2);
  s.formula =
      "target |W_y||H_i| (psi(t_y) + lambda cos t_y)/(1+lambda), others |W_j||H_i| cos t_j; "
      "psi(t) = (-1)^k cos(m t) - 2k, k = floor(m t/pi)";
  s.paper = "Liu et al. 2016, Large-margin softmax loss for CNNs, ICML, eqs. (5)-(6)";
  s.traits = {};
  s.traits.has_margin = s.traits.anneals_lambda = s.traits.feature_norm = s.traits.weight_norm = true;
  s.rule = {};
  s.rule.test = testHnWnCos;
  s.rule.target = [](const ResolvedParams& r, double c, double hn, double wn, Dz& d) {
    return targetPsi(r, c, hn, wn, false, d);
  };
  s.rule.other = otherHnWn;
  s.rule.other_form = [](const ResolvedParams&) { return OtherForm{1, 0, true, true}; };
  s.rule.closed_form = marginPsi;
  s.resolve = [](const ParamReader& v, const LossState& st, ResolvedParams& r) {
    r.mi = int(v("m"));
    r.lambda = st.lambda >= 0 ? st.lambda : v("lambda");
  };
  out.push_back(s);

  s.name = "a-softmax";
  s.contrast = "modified-softmax";
  s.aliases = {"sphereface"};
  s.params = lsoftmaxParams(4);
  s.formula =
      "as l-softmax with W rows normalised: target |H_i| (psi(t_y) + lambda cos t_y)/(1+lambda), others "
      "|H_i| cos t_j";
  s.paper = "Liu et al. 2017, SphereFace: deep hypersphere embedding, CVPR, eq. (7)";
  s.traits.weight_norm = false;
  s.rule.test = testHnCos;
  s.rule.target = [](const ResolvedParams& r, double c, double hn, double wn, Dz& d) {
    return targetPsi(r, c, hn, wn, true, d);
  };
  s.rule.other = otherHn;
  s.rule.other_form = [](const ResolvedParams&) { return OtherForm{1, 0, true, false}; };
  out.push_back(s);

  s.name = "l2-softmax";
  s.contrast = "softmax";
  s.aliases = {"l2-constrained-softmax"};
  s.family = F::NormalisedSoftmax;
  s.params = {real("alpha", 16, 0.01, 1000, "feature radius alpha"),
              boolean("learn_alpha", false, "learn alpha by gradient (LossAux.dscale)")};
  s.formula = "-log softmax(alpha (H_i/|H_i|) W^T)_y";
  s.paper =
      "Ranjan et al. 2017, L2-constrained softmax loss for discriminative face verification, arXiv, eq. (2)";
  s.traits = {};
  s.traits.weight_norm = true;
  s.traits.learnable_scale = "alpha";
  s.traits.learn_flag = "learn_alpha";
  s.rule = {};
  s.rule.test = testScaledWnCos;
  s.rule.target = s.rule.other = [](const ResolvedParams& r, double c, double, double wn, Dz& d) {
    d = {r.s * wn, 0, r.s * c};
    return r.s * wn * c;
  };
  s.rule.other_form = [](const ResolvedParams& r) { return OtherForm{r.s, 0, false, true}; };
  s.rule.no_closed_form = "no margin: the training rule is the test rule";
  s.resolve = [](const ParamReader& v, const LossState& st, ResolvedParams& r) {
    r.learn = v("learn_alpha") != 0;
    r.s = (r.learn && st.alpha >= 0) ? st.alpha : v("alpha");
  };
  out.push_back(s);

  // NormFace, CoCo and AdaCos share the plain scaled-cosine rule.
  s.rule = {};
  s.rule.test = testScaledCos;
  s.rule.target = otherScaled;  // no margin: the target logit is the other logit
  s.rule.other = otherScaled;
  s.rule.other_form = formScaled;
  s.rule.no_closed_form = "no margin: the training rule is the test rule";

  s.name = "normface";
  s.contrast = "softmax";
  s.aliases = {};
  s.params = {real("s", 16, 0.01, 1000, "scale s"),
              boolean("learn_s", false, "learn s by gradient (LossAux.dscale)")};
  s.formula = "-log softmax(s cos t_j)_y";
  s.paper = "Wang et al. 2017, NormFace: L2 hypersphere embedding, ACM MM, eq. (6)";
  s.traits = {};
  s.traits.learnable_scale = "s";
  s.traits.learn_flag = "learn_s";
  s.resolve = [](const ParamReader& v, const LossState& st, ResolvedParams& r) {
    r.learn = v("learn_s") != 0;
    r.s = (r.learn && st.s >= 0) ? st.s : v("s");
  };
  out.push_back(s);

  s.hooks.batch_weights = cocoCentroids;
  s.hooks.batch_weights_backward = cocoCentroidsBackward;
  s.name = "coco";
  s.contrast = "normface";
  s.aliases = {"congenerous-cosine"};
  s.params = {real("alpha", 10, 0.01, 1000, "scale alpha of the normalised features")};
  s.formula =
      "-log softmax(alpha <c_j/|c_j|, H_i/|H_i|>)_y, c_j = mean of alpha H_i/|H_i| over batch class j "
      "(W_j for classes absent from the batch)";
  s.paper =
      "Liu et al. 2017, Rethinking feature discrimination and polymerization (COCO loss), arXiv, eq. (4)";
  s.notes = "CoCo: a class absent from the batch uses its row of W as its centroid.";
  s.traits = {};
  s.resolve = [](const ParamReader& v, const LossState&, ResolvedParams& r) { r.s = v("alpha"); };
  out.push_back(s);
  s.notes = "";
}

}  // namespace ms::detail
