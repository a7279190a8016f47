// Additive margins on the cosine scale: AM-Softmax/CosFace, ArcFace (three fallbacks), the combined margin,
// the course project's enhanced AM-Softmax, and AdaCos (no margin; its adaptive scale is a batch statistic).
// Each is one definition (spec, traits, rule, resolve) with its paper and the derivation of its closed form.
#include <cmath>
#include <limits>

#include "sim/loss_internal.h"

namespace ms::detail {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

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

void appendAdditiveLosses(std::vector<LossSpec>& out) {
  using F = LossFamily;
  LossSpec s;
  s.path = LossPath::Cosine;
  s.rule.test = testScaledCos;
  s.rule.other = otherScaled;
  s.rule.other_form = formScaled;

  // Additive margins: others s cos t_j.
  s.name = "am-softmax";
  s.contrast = "arcface";
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

  s.name = "arcface";
  s.contrast = "am-softmax";
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

  s.name = "combined";
  s.contrast = "arcface";
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

  s.name = "enhanced-am-softmax";
  s.contrast = "am-softmax";
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

  s.name = "adacos";
  s.contrast = "normface";
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
  s.rule.target = otherScaled;  // no margin: the target logit is the other logit
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
}

}  // namespace ms::detail
