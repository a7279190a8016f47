// Four later margin losses, each added as one definition on the cosine path: CurricularFace, sub-center
// ArcFace, MagFace and AdaFace. Their parameters, defaults and departures from the papers follow the
// contract in the project's issue (and the README's loss notes). Each keeps its own parameters in a struct
// below (ResolvedParams::own) and its state in LossState::own; the shared forward/backward in loss_cosine.cpp
// calls their hooks (hard negatives, the norm regulariser) and generic switches (sub-centre rows, the cosine
// clamp).
#include <cmath>
#include <limits>

#include "sim/loss_internal.h"

namespace ms::detail {
namespace {

struct CurricularParams {
  double t, momentum;
};
struct MagParams {
  double l_a, u_a, l_m, u_m, lambda_g;
};
struct AdaParams {
  double h, mu, sigma, t_alpha;
};
enum : size_t { kStateT = 0, kStateMu = 1, kStateSigma = 2 };  // LossState::own slots

// ArcFace with insightface's fallback at the loss's own m: target s cos(t_y + m) (past pi - m: cos t - m sin
// m).
double targetArcInsightface(const ResolvedParams& r, double c, double, double, Dz& d) {
  double dc = 0;
  const double v = arcInsightface(r.m, c, dc);
  d = {r.s * dc, 0, 0};
  return r.s * v;
}

// MagFace's margin ramp m(a) = (u_m - l_m)/(u_a - l_a) (a - l_a) + l_m at a = |h| clamped to [l_a, u_a];
// *slope is dm/d|h| (zero outside the clamp, as torch.clamp's gradient).
double magMargin(const ResolvedParams& rp, double hn, double* slope) {
  const auto r = ownParams<MagParams>(rp);
  const double a = std::min(r.u_a, std::max(r.l_a, hn));
  const double k = (r.u_m - r.l_m) / (r.u_a - r.l_a);
  if (slope) *slope = (hn >= r.l_a && hn <= r.u_a) ? k : 0.0;
  return k * (a - r.l_a) + r.l_m;
}

constexpr double kAdaEps = 1e-3;  // AdaFace's eps: the cosine clamp, the angle clip and sigma's floor

// AdaFace's margin scaler z = clip((clip(|h|, 0.001, 100) - mu)/(sigma + eps) h, -1, 1), no gradient through
// it.
double adaScaler(const ResolvedParams& rp, double hn) {
  const auto r = ownParams<AdaParams>(rp);
  const double norm = std::min(100.0, std::max(0.001, hn));
  return std::min(1.0, std::max(-1.0, (norm - r.mu) / (r.sigma + kAdaEps) * r.h));
}

double adaClamp(double c, double& dc) {
  const double cc = std::min(1 - kAdaEps, std::max(-1 + kAdaEps, c));
  dc = cc == c ? 1.0 : 0.0;
  return cc;
}

// CurricularFace (Huang et al. 2020, eq. 7): a negative with cos t_j > cos(t_y + m) (computed as the official
// code does, before the fallback) gets s cos t_j (t + cos t_j), d/dcos = s (t + 2 cos).
void curricularHardNegatives(const ResolvedParams& r, const Mat& Ct, const std::vector<int>& y, Mat& Zt,
                             Mat& over) {
  const double t = ownParams<CurricularParams>(r).t;
  const double cm = std::cos(r.m), sm = std::sin(r.m);
  for (Eigen::Index i = 0; i < Ct.cols(); ++i) {
    const int yi = y[size_t(i)];
    const double ct = Ct(yi, i);
    const double thr = ct * cm - std::sqrt(std::max(0.0, 1 - ct * ct)) * sm;
    for (Eigen::Index j = 0; j < Ct.rows(); ++j) {
      const double c = Ct(j, i);
      if (j == yi || !(c > thr)) continue;
      Zt(j, i) = r.s * c * (t + c);
      over(j, i) = r.s * (t + 2 * c);
    }
  }
}

// MagFace (Meng et al. 2021, eq. 5): + lambda_g mean g(a), g(a) = 1/a + a/u_a^2, a = |h| clamped.
double magRegulariser(const ResolvedParams& rp, const Vec& hn, Vec& dhn) {
  const auto r = ownParams<MagParams>(rp);
  const Eigen::Index n = hn.size();
  double reg = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    const double a = std::min(r.u_a, std::max(r.l_a, hn(i)));
    reg += 1 / a + a / (r.u_a * r.u_a);
    if (hn(i) >= r.l_a && hn(i) <= r.u_a)
      dhn(i) += r.lambda_g / double(n) * (-1 / (a * a) + 1 / (r.u_a * r.u_a));
  }
  return r.lambda_g * reg / double(n);
}

}  // namespace

void appendModernLosses(std::vector<LossSpec>& out) {
  LossSpec s;
  s.path = LossPath::Cosine;
  s.family = LossFamily::AngularMargin;
  s.rule.test = testScaledCos;
  s.rule.other = otherScaled;
  s.rule.other_form = formScaled;

  // Huang et al. 2020, CurricularFace: adaptive curriculum learning loss, CVPR, eqs. (6)-(9).
  s.name = "curricularface";
  s.contrast = "arcface";
  s.params = {real("s", 64, 0, 1000, "scale s"), real("m", 0.5, 0, kPi, "additive angular margin"),
              real("t", 0, -1, 1, "hard-negative weight t (eval-loss uses it as given; training: an EMA)"),
              real("momentum", 0.99, 0, 1, "training: t <- momentum t + (1 - momentum) mean cos t_y")};
  s.formula =
      "target s cos(t_y + m) (insightface fallback), others s cos t_j, or s cos t_j (t + cos t_j) where "
      "cos t_j > cos(t_y + m)";
  s.paper = "Huang et al. 2020, CurricularFace: adaptive curriculum learning loss, CVPR, eqs. (6)-(9)";
  s.notes =
      "curricularface: a negative is hard when cos t_j exceeds cos(t_y + m) before the fallback, as the "
      "official code compares; t moves before the logits with no gradient through it.";
  s.traits = {};
  s.traits.has_margin = s.traits.stateful = true;
  s.rule.target = targetArcInsightface;
  s.rule.no_closed_form =
      "the hard-negative logit s cos t_j (t + cos t_j) depends on the sample's own angle and on t; the views "
      "and the measured margin use the easy-negative rule (ArcFace's), exact where t + cos t_j >= 1";
  s.resolve = [](const ParamReader& v, const LossState& st, ResolvedParams& r) {
    r.s = v("s");
    r.m = v("m");
    const double t = st.own[kStateT];
    setOwnParams(r, CurricularParams{std::isnan(t) ? v("t") : t, v("momentum")});
  };
  s.hooks.other_logits = curricularHardNegatives;
  s.prepare = [](ResolvedParams& r, LossState& st, const Mat& Ct, const Vec&, const std::vector<int>& y,
                 LossWorkspace&) {
    if (!st.update) return;
    double mean = 0;
    for (Eigen::Index i = 0; i < Ct.cols(); ++i) mean += Ct(y[size_t(i)], i);
    mean /= double(Ct.cols());
    auto q = ownParams<CurricularParams>(r);
    q.t = st.own[kStateT] = q.momentum * q.t + (1 - q.momentum) * mean;
    setOwnParams(r, q);
  };
  out.push_back(s);

  // Deng et al. 2020, Sub-center ArcFace: boosting face recognition by large-scale noisy web faces, ECCV.
  s.name = "subcenter-arcface";
  s.contrast = "arcface";
  s.params = {real("s", 64, 0, 1000, "scale s"), real("m", 0.5, 0, kPi, "additive angular margin"),
              integer("k", 3, 1, 64, "sub-centres per class (W has K k rows, class-major)")};
  s.formula = "cos t_j = max over class j's k sub-centres; target s cos(t_y + m), others s cos t_j";
  s.paper = "Deng et al. 2020, Sub-center ArcFace, ECCV, eq. (2) with ArcFace's eq. (3)";
  s.notes =
      "subcenter-arcface: insightface's ArcFace fallback past pi - m applies; the official sub-center code "
      "lacks it.";
  s.traits = {};
  s.traits.has_margin = true;
  s.traits.subcentres = "k";
  s.rule.target = targetArcInsightface;
  s.rule.closed_form = marginArc;  // between the two classes' dominant sub-centres
  s.rule.no_closed_form = "";
  s.prepare = nullptr;
  s.hooks = {};
  s.resolve = [](const ParamReader& v, const LossState&, ResolvedParams& r) {
    r.s = v("s");
    r.m = v("m");
    r.rows_per_class = int(v("k"));
  };
  out.push_back(s);

  // Meng et al. 2021, MagFace: a universal representation for face recognition and quality assessment, CVPR,
  // eqs. (3)-(5).
  s.name = "magface";
  s.contrast = "arcface";
  s.params = {real("s", 64, 0, 1000, "scale s"),
              real("l_a", 10, 0.001, 1000, "lower end of the feature norm a"),
              real("u_a", 110, 0.001, 1000, "upper end of the feature norm a"),
              real("l_m", 0.45, 0, kPi, "margin at a = l_a"),
              real("u_m", 0.8, 0, kPi, "margin at a = u_a"),
              real("lambda_g", 35, 0, 1000, "weight of the norm regulariser g(a) = 1/a + a/u_a^2")};
  s.formula =
      "a = clamp(|H_i|, l_a, u_a), m(a) linear from l_m to u_m; target s cos(t_y + m(a)) (insightface "
      "fallback), others s cos t_j; + lambda_g mean g(a), g(a) = 1/a + a/u_a^2";
  s.paper = "Meng et al. 2021, MagFace, CVPR, eqs. (3)-(5)";
  s.notes =
      "magface: insightface's fallback past pi - m(a) (the official trainer runs with easy_margin on); "
      "lambda_g "
      "35 is the paper's value (the official code's default is 20); gradient flows through a inside the "
      "clamp.";
  s.traits = {};
  s.traits.has_margin = s.traits.feature_norm = true;
  s.rule.target = [](const ResolvedParams& r, double c, double hn, double, Dz& d) {
    double slope = 0, dc = 0, dm = 0;
    const double v = arcInsightface(magMargin(r, hn, &slope), c, dc, &dm);
    d = {r.s * dc, r.s * dm * slope, 0};
    return r.s * v;
  };
  s.rule.closed_form = [](const ResolvedParams& r, double alpha, std::string* note) {
    ResolvedParams at_unit = r;  // the lemma's |h| = 1
    at_unit.m = magMargin(r, 1.0, nullptr);
    return marginArc(at_unit, alpha, note);
  };
  s.check = [](const ParamReader& v) {
    return v("u_a") > v("l_a") ? std::string() : std::string("u_a must be larger than l_a");
  };
  s.resolve = [](const ParamReader& v, const LossState&, ResolvedParams& r) {
    r.s = v("s");
    setOwnParams(r, MagParams{v("l_a"), v("u_a"), v("l_m"), v("u_m"), v("lambda_g")});
  };
  s.hooks.norm_term = magRegulariser;
  out.push_back(s);
  s.check = nullptr;
  s.hooks = {};

  // Kim et al. 2022, AdaFace: quality adaptive margin for face recognition, CVPR, eqs. (8)-(11).
  s.name = "adaface";
  s.contrast = "arcface";
  s.params = {real("s", 64, 0, 1000, "scale s"),
              real("m", 0.4, 0, 2, "margin m"),
              real("h", 0.333, 0, 10, "concentration h of the norm scaler"),
              real("mu", 20, 0, 1000, "norm mean (eval-loss as given; training: an EMA of the batch's)"),
              real("sigma", 100, 0, 1e6, "norm std (eval-loss as given; training: an EMA of the batch's)"),
              real("t_alpha", 0.01, 0, 1, "training: EMA rate of mu and sigma")};
  s.formula =
      "z = clip((|H_i| - mu)/(sigma + eps) h, -1, 1); target s (cos(clip(t_y - m z)) - (m + m z)), others "
      "s cos t_j; cosines clamped to [-1 + eps, 1 - eps], eps = 1e-3";
  s.paper = "Kim et al. 2022, AdaFace: quality adaptive margin, CVPR, eqs. (8)-(11)";
  s.notes =
      "adaface: |H_i| clipped to [0.001, 100] with no gradient through it; in training mu and sigma are EMAs "
      "(rate t_alpha) of the batch's norm mean and unbiased std, updated before the logits, as the official "
      "code.";
  s.traits = {};
  s.traits.has_margin = s.traits.feature_norm = s.traits.stateful = true;
  s.exact_gradient_at = {{"h", 0}};  // z = 0: the detached norm no longer enters
  s.rule.target = [](const ResolvedParams& r, double c, double hn, double, Dz& d) {
    double dcc = 0;
    const double cc = adaClamp(c, dcc);
    const double z = adaScaler(r, hn);
    const double theta = std::acos(cc), tm = theta - r.m * z;
    const double clipped = std::min(kPi - kAdaEps, std::max(kAdaEps, tm));
    const double v = std::cos(clipped) - (r.m + r.m * z);
    // d cos(t - m z)/dc = sin(t - m z)/sin t inside the clip; cc is inside (-1, 1), so sin t > 0.
    const double dv = clipped == tm ? std::sin(tm) / std::sqrt(1 - cc * cc) : 0.0;
    d = {r.s * dv * dcc, 0, 0};
    return r.s * v;
  };
  s.rule.other = [](const ResolvedParams& r, double c, double, double, Dz& d) {
    double dcc = 0;
    const double cc = adaClamp(c, dcc);
    d = {r.s * dcc, 0, 0};
    return r.s * cc;
  };
  // At |h| = 1 the target is cos(t + m2) - m3 with m2 = -m z, m3 = m (1 + z): the additive form.
  s.rule.closed_form = [](const ResolvedParams& r, double alpha, std::string* note) {
    const double z = adaScaler(r, 1.0);
    return additiveMargin(-r.m * z, r.m + r.m * z, alpha, note);
  };
  s.resolve = [](const ParamReader& v, const LossState& st, ResolvedParams& r) {
    r.s = v("s");
    r.m = v("m");
    const double mu = st.own[kStateMu], sigma = st.own[kStateSigma];
    setOwnParams(r, AdaParams{v("h"), std::isnan(mu) ? v("mu") : mu, std::isnan(sigma) ? v("sigma") : sigma,
                              v("t_alpha")});
    r.cos_clamp = kAdaEps;
  };
  // The official update: mean and unbiased std of the clipped norms, then EMAs, before the margin scaler.
  s.prepare = [](ResolvedParams& r, LossState& st, const Mat&, const Vec& hn, const std::vector<int>&,
                 LossWorkspace&) {
    if (!st.update) return;
    const Eigen::Index n = hn.size();
    double mean = 0, sq = 0;
    for (Eigen::Index i = 0; i < n; ++i) mean += std::min(100.0, std::max(0.001, hn(i)));
    mean /= double(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      const double e = std::min(100.0, std::max(0.001, hn(i))) - mean;
      sq += e * e;
    }
    const double sd = n > 1 ? std::sqrt(sq / double(n - 1)) : 0.0;
    auto q = ownParams<AdaParams>(r);
    q.mu = st.own[kStateMu] = mean * q.t_alpha + (1 - q.t_alpha) * q.mu;
    q.sigma = st.own[kStateSigma] = sd * q.t_alpha + (1 - q.t_alpha) * q.sigma;
    setOwnParams(r, q);
  };
  out.push_back(s);
}

}  // namespace ms::detail
