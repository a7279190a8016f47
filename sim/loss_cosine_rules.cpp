// The margin-rule table of the cosine-logit losses: for each, its paper and equation, its parameters, its
// traits, its target and other logits with their partials, its test score and the closed-form margin between
// two classes whose weights are at angle alpha (the SphereFace lemma and its relatives). The shared
// forward/backward that uses these rules is loss_cosine.cpp.
//
// Notation: c = cos t of a feature and a weight, hn = |h|, wn = |w|; a margin between two classes a, b at
// angle alpha is the part of the arc neither claims: class a's boundary is where its target logit equals b's
// other logit; every rule below is symmetric under |w_a| = |w_b|, so both boundaries lie t* from their
// weights and the margin is alpha - 2 t*.
#include <cmath>
#include <limits>

#include "sim/loss_internal.h"

namespace ms::detail {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

void setNote(std::string* note, const std::string& s) {
  if (note && note->empty()) *note = s;
}

// Margin of a symmetric boundary t* (radians), which must lie on the arc [0, alpha]; a negative margin (t* >
// alpha/2, the regions overlap) is reported as it is.
double marginFromBoundary(double t, double alpha, std::string* note, const char* why) {
  if (!(t >= 0 && t <= alpha)) {
    setNote(note, why);
    return kNaN;
  }
  return alpha - 2 * t;
}

// ------------------------------------------------------------------ margin functions of the cosine

namespace {

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

// cos(a t + b) as a function of c = cos t, and its derivative a sin(a t + b) / sin t.
double cosAffineAngle(double a, double b, double c, double& dc) {
  const double cc = clampCos(c);
  const double t = std::acos(cc);
  const double sin_t = std::sqrt(std::max(0.0, 1 - cc * cc));
  dc = (cc == c) ? a * std::sin(a * t + b) / sin_t : 0.0;
  return std::cos(a * t + b);
}

// ArcFace's target cosine at margin m with insightface's fallback: past t = pi - m, cos(t + m) stops
// decreasing in t, so the linear extension cos t - m sin m takes over. *dm: its derivative in m.
double arcInsightface(double m, double c, double& dc, double* dm) {
  const double t = std::acos(clampCos(c));
  if (t > kPi - m) {
    dc = 1;
    if (dm) *dm = -(std::sin(m) + m * std::cos(m));
    return c - m * std::sin(m);
  }
  if (dm) *dm = -std::sin(t + m);
  return cosAffineAngle(1, m, c, dc);
}

namespace {

// ArcFace target cosine (Deng et al. 2019, eq. 3) with the three fallbacks of the catalogue.
double arcTarget(const ResolvedParams& r, double c, double& dc) {
  if (r.variant == 2) return cosAffineAngle(1, r.m, c, dc);  // plain
  if (r.variant == 1) {                                      // easy margin
    if (c > 0) return cosAffineAngle(1, r.m, c, dc);
    dc = 1;
    return c;
  }
  return arcInsightface(r.m, c, dc);
}

}  // namespace

// Boundary of target cos(t + m2) - m3 against other cos(alpha - t):
//   cos(t + m2) - cos(alpha - t) = -2 sin((alpha + m2)/2) sin(t - (alpha - m2)/2) = m3,
//   t* = (alpha - m2)/2 - asin(m3 / (2 sin((alpha + m2)/2))),  margin = m2 + 2 asin(m3 / (2
//   sin((alpha+m2)/2))).
// CosFace at m2 = 0, ArcFace at m3 = 0 (then t* = (alpha - m2)/2 for any alpha >= m2).
double additiveMargin(double m2, double m3, double alpha, std::string* note) {
  const double x = m3 / (2 * std::sin((alpha + m2) / 2));
  if (std::fabs(x) > 1) {
    setNote(note, "no root: the cosine margin exceeds 2 sin((alpha + m)/2)");
    return kNaN;
  }
  const double t = (alpha - m2) / 2 - std::asin(x);
  if (t + m2 > kPi) {
    setNote(note, "no closed form: the boundary lies where t + m > pi");
    return kNaN;
  }
  return marginFromBoundary(t, alpha, note, "no root: the margins are too large for alpha");
}

// ArcFace (Deng et al. 2019, eq. 3): boundary cos(t + m) = cos(alpha - t), with t + m and alpha - t in
// [0, pi]: t* = (alpha - m)/2 and margin = m, for alpha >= m (else a does not claim even w_a). The variants
// change the target only for large t: insightface's fallback starts at t = pi - m > t* whenever alpha + m < 2
// pi, easy margin's at t = pi/2 > t* when alpha - m < pi; neither meets cos(alpha - t) again on the arc.
double marginArc(const ResolvedParams& r, double alpha, std::string* note) {
  return marginFromBoundary((alpha - r.m) / 2, alpha, note, "no root: m > alpha");
}

double testScaledCos(const ResolvedParams& r, int, double c, double, double) {
  return r.s * c;
}
double otherScaled(const ResolvedParams& r, double c, double, double, Dz& d) {
  d = {r.s, 0, 0};
  return r.s * c;
}
OtherForm formScaled(const ResolvedParams& r) {
  return {r.s, 0, false, false};
}

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

// Normalised softmax without a margin: the target is the other logit.
double targetScaled(const ResolvedParams& r, double c, double hn, double wn, Dz& d) {
  return otherScaled(r, c, hn, wn, d);
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

void appendCosineLosses(std::vector<LossSpec>& out) {
  using F = LossFamily;
  LossSpec s;
  s.path = LossPath::Cosine;

  s.id = LossId::ModifiedSoftmax;
  s.name = "modified-softmax";
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

  s.id = LossId::LSoftmax;
  s.name = "l-softmax";
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

  s.id = LossId::ASoftmax;
  s.name = "a-softmax";
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

  s.id = LossId::L2Softmax;
  s.name = "l2-softmax";
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
  s.rule.target = targetScaled;
  s.rule.other = otherScaled;
  s.rule.other_form = formScaled;
  s.rule.no_closed_form = "no margin: the training rule is the test rule";

  s.id = LossId::NormFace;
  s.name = "normface";
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

  s.id = LossId::CoCo;
  s.name = "coco";
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

  // Additive margins: others s cos t_j.
  s.id = LossId::AmSoftmax;
  s.name = "am-softmax";
  s.aliases = {"cosface", "lmcl"};
  s.family = F::AngularMargin;
  s.params = {real("s", 30, 0, 1000, "scale s"), real("m", 0.35, 0, 2, "additive cosine margin")};
  s.formula = "target s (cos t_y - m), others s cos t_j";
  s.paper =
      "Wang et al. 2018, Additive margin softmax, IEEE SPL, eq. (5); Wang et al. 2018, CosFace, CVPR, eq. "
      "(4)";
  s.traits = {};
  s.traits.has_margin = true;
  s.rule.target = [](const ResolvedParams& r, double c, double, double, Dz& d) {
    d = {r.s, 0, 0};
    return r.s * (c - r.m);
  };
  // Boundary cos t - m = cos(alpha - t): margin 2 asin(m / (2 sin(alpha/2))), defined for m <= 1 - cos alpha
  // (the CosFace condition m <= 1 - max cos(W_i, W_j)).
  s.rule.closed_form = [](const ResolvedParams& r, double alpha, std::string* note) {
    return additiveMargin(0, r.m, alpha, note);
  };
  s.rule.no_closed_form = "";
  s.resolve = [](const ParamReader& v, const LossState&, ResolvedParams& r) {
    r.s = v("s");
    r.m = v("m");
  };
  out.push_back(s);

  s.id = LossId::ArcFace;
  s.name = "arcface";
  s.aliases = {"insightface"};
  s.params = {
      real("s", 64, 0, 1000, "scale s"), real("m", 0.5, 0, kPi, "additive angular margin"),
      choice("variant", 0, {"insightface", "easy", "plain"},
             "insightface: cos t - m sin m where t > pi - m; easy: margin only where cos t > 0; plain: "
             "always")};
  s.formula = "target s cos(t_y + m), others s cos t_j";
  s.paper = "Deng et al. 2019, ArcFace: additive angular margin loss, CVPR, eq. (3)";
  s.rule.target = [](const ResolvedParams& r, double c, double, double, Dz& d) {
    double dc = 0;
    const double v = arcTarget(r, c, dc);
    d = {r.s * dc, 0, 0};
    return r.s * v;
  };
  s.rule.closed_form = marginArc;
  s.resolve = [](const ParamReader& v, const LossState&, ResolvedParams& r) {
    r.s = v("s");
    r.m = v("m");
    r.variant = int(v("variant"));
  };
  out.push_back(s);

  s.id = LossId::Combined;
  s.name = "combined";
  s.aliases = {"combined-margin"};
  s.params = {real("s", 64, 0, 1000, "scale s"), real("m1", 1, 0, 4, "multiplicative angular margin"),
              real("m2", 0.3, 0, kPi, "additive angular margin"),
              real("m3", 0.2, 0, 2, "additive cosine margin")};
  s.formula = "target s (cos(m1 t_y + m2) - m3), others s cos t_j (no fallback)";
  s.paper = "Deng et al. 2019, ArcFace, CVPR, eq. (4) (combined margin)";
  s.rule.target = [](const ResolvedParams& r, double c, double, double, Dz& d) {
    double dc = 0;
    const double v = cosAffineAngle(r.m1, r.m2, c, dc) - r.m3;
    d = {r.s * dc, 0, 0};
    return r.s * v;
  };
  // Boundary cos(m1 t + m2) - m3 = cos(alpha - t).
  //  m3 = 0: m1 t + m2 = alpha - t (both in [0, pi]), t* = (alpha - m2)/(m1 + 1), margin (alpha (m1 - 1) +
  //          2 m2)/(m1 + 1) (SphereFace at m2 = 0, ArcFace at m1 = 1); needs m1 t* + m2 <= pi.
  //  m1 = 1: the additive form above (CosFace at m2 = 0).
  //  otherwise the equation mixes the angles m1 t and t with a constant: no closed form.
  s.rule.closed_form = [](const ResolvedParams& r, double alpha, std::string* note) {
    if (r.m3 == 0) {
      const double t = (alpha - r.m2) / (r.m1 + 1);
      if (r.m1 * t + r.m2 > kPi) {
        setNote(note, "no closed form: the boundary lies where m1 t + m2 > pi");
        return kNaN;
      }
      return marginFromBoundary(t, alpha, note, "no root: the margins are too large for alpha");
    }
    if (r.m1 == 1) return additiveMargin(r.m2, r.m3, alpha, note);
    setNote(note, "no closed form: combined margin with m1 != 1 and m3 != 0 (see measured)");
    return kNaN;
  };
  s.resolve = [](const ParamReader& v, const LossState&, ResolvedParams& r) {
    r.s = v("s");
    r.m1 = v("m1");
    r.m2 = v("m2");
    r.m3 = v("m3");
  };
  out.push_back(s);

  s.id = LossId::EnhancedAm;
  s.name = "enhanced-am-softmax";
  s.aliases = {"enhanced-am"};
  s.params = {
      real("s", 30, 0, 1000, "scale s"), real("m", 0.35, 0, 2, "additive cosine margin, also M = e^m"),
      boolean(
          "negative_margin", true,
          "true: others s (cos t_j + m) as the formula says; false: others s cos t_j as the notes' code")};
  s.formula = "target s (cos t_y - m)/e^m, others s (cos t_j + m)";
  s.paper = "Agarwal, CSO 211 course project, 'Enhanced AM softmax loss' (notes 000)";
  s.rule.target = [](const ResolvedParams& r, double c, double, double, Dz& d) {
    const double inv_M = std::exp(-r.m);  // 1 / M, M = e^m
    d = {r.s * inv_M, 0, 0};
    return r.s * (c - r.m) * inv_M;
  };
  s.rule.other = [](const ResolvedParams& r, double c, double, double, Dz& d) {
    d = {r.s, 0, 0};
    return r.negative_margin ? r.s * (c + r.m) : r.s * c;
  };
  s.rule.other_form = [](const ResolvedParams& r) {
    return OtherForm{r.s, r.negative_margin ? r.s * r.m : 0.0, false, false};
  };
  // Boundary (cos t - m)/M = cos(alpha - t) + n, n = m when negative_margin else 0. With cos(alpha - t) =
  // cos alpha cos t + sin alpha sin t: (1 - M cos alpha) cos t - M sin alpha sin t = m + M n =: c, i.e.
  // R cos(t + phi) = c, R = |(1 - M cos alpha, M sin alpha)|, phi = atan2(M sin alpha, 1 - M cos alpha),
  // t* = acos(c/R) - phi. phi + alpha = arg(e^{i alpha} - M) lies in [0, pi], so R cos(t + phi) decreases on
  // the whole arc and t* is its only root. (M = 1, n = 0 gives back the CosFace form.)
  s.rule.closed_form = [](const ResolvedParams& r, double alpha, std::string* note) {
    const double n = r.negative_margin ? r.m : 0;
    const double M = std::exp(r.m);
    const double u = 1 - M * std::cos(alpha), v = M * std::sin(alpha);
    const double R = std::hypot(u, v), c = r.m + M * n;
    if (!(R > 0) || std::fabs(c / R) > 1) {
      setNote(note, "no root: the margin is too large for alpha");
      return kNaN;
    }
    return marginFromBoundary(std::acos(c / R) - std::atan2(v, u), alpha, note,
                              "no root: the margin is too large for alpha");
  };
  s.resolve = [](const ParamReader& v, const LossState&, ResolvedParams& r) {
    r.s = v("s");
    r.m = v("m");
    r.negative_margin = v("negative_margin") != 0;
  };
  out.push_back(s);

  s.id = LossId::AdaCos;
  s.name = "adacos";
  s.aliases = {};
  s.family = F::NormalisedSoftmax;
  s.params = {
      boolean("adaptive", true, "true: dynamic AdaCos (s re-estimated every batch); false: fixed s0")};
  s.formula =
      "-log softmax(s cos t_j)_y; s0 = sqrt(2) ln(K-1), s <- ln(B_avg)/cos(min(pi/4, median t_y)) before the "
      "logits, no gradient through s";
  s.paper = "Zhang et al. 2019, AdaCos: adaptively scaling cosine logits, CVPR, eqs. (13) and (15)";
  s.notes = "AdaCos: s is updated from the batch before the logits, with no gradient through s.";
  s.exact_gradient_at = {{"adaptive", 0}};
  s.traits = {};
  s.traits.stateful = true;
  s.rule = {};
  s.rule.test = testScaledCos;
  s.rule.target = targetScaled;
  s.rule.other = otherScaled;
  s.rule.other_form = formScaled;
  s.rule.no_closed_form = "no margin: the training rule is the test rule";
  s.resolve = [](const ParamReader& v, const LossState& st, ResolvedParams& r) {
    r.adaptive = v("adaptive") != 0;
    r.s = st.s > 0 ? st.s : 1;  // the decision rule's scale; the loss sets s itself
  };
  // AdaCos (Zhang et al. 2019, eq. 15): re-estimate s from this batch before the logits, with the previous s
  // in B_avg; no gradient flows through s. Ct (K,n) cosines.
  s.prepare = [](ResolvedParams& r, LossState& st, const Mat& Ct, const Vec&, const std::vector<int>& y,
                 LossWorkspace& ws) {
    const Eigen::Index K = Ct.rows(), n = Ct.cols();
    const double s0 = K > 2 ? std::sqrt(2.0) * std::log(double(K - 1)) : 0.0;
    if (!r.adaptive) {
      r.s = s0;
      return;
    }
    const double s_old = st.s > 0 ? st.s : s0;
    // ln B_avg = ln (1/n sum_i sum_{j != y_i} e^{s_old cos t_ij}), by log-sum-exp over the non-target entries
    // (the target ones set to -inf, whose exp is 0).
    ws.pair = s_old * Ct;
    for (Eigen::Index i = 0; i < n; ++i) ws.pair(y[size_t(i)], i) = -std::numeric_limits<double>::infinity();
    const double mx = ws.pair.maxCoeff();
    const double log_b =
        (K > 1) ? mx + std::log((ws.pair.array() - mx).exp().sum()) - std::log(double(n)) : 0.0;
    ws.u.resize(n);
    for (Eigen::Index i = 0; i < n; ++i) ws.u(i) = std::acos(clampCos(Ct(y[size_t(i)], i)));
    // The lower median (torch.median's convention, as in the reference implementations).
    const Eigen::Index mid = (n - 1) / 2;
    std::nth_element(ws.u.data(), ws.u.data() + mid, ws.u.data() + n);
    double s = log_b / std::cos(std::min(kPi / 4, ws.u(mid)));
    // Where the paper's assumption (non-target angles near 90 degrees) fails, as in 2-D and 3-D embeddings,
    // the update can grow s without bound; cap it at the catalogue's largest scale (never reached from s0 in
    // one step: there s <= (s0 + ln(K-1)) sqrt 2).
    if (!std::isfinite(s)) s = s_old;
    s = std::min(s, 1000.0);
    st.s = s;
    r.s = s;
  };
  out.push_back(s);
  s.notes = "";
  s.prepare = nullptr;
  s.exact_gradient_at = {};

  appendModernLosses(out);
}

}  // namespace ms::detail
