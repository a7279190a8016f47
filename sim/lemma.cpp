// The angular-margin lemma: closed forms per loss and, independently, root-finding of the loss's own decision
// rule (see lemma.h). Notation for every derivation below: two classes a, b with weights at angle alpha, a
// unit feature h on the arc between them at angle t from w_a, hence alpha - t from w_b, both in [0, pi].
// Class a's boundary is where its margin-tightened target logit equals b's plain logit; the margin is the
// part of the arc neither class claims, alpha - t_a - t_b. All rules below are symmetric in a and b under
// |w_a| = |w_b|, so t_a = t_b = t* and margin = alpha - 2 t*.
#include "sim/lemma.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ms {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kDeg = 180.0 / kPi;

bool hasParam(const LossSpec& spec, const char* name) {
  for (const auto& q : spec.params)
    if (q.name == name) return true;
  return false;
}

double param(const LossSpec& spec, const LossParams& p, const char* name, double fallback) {
  return hasParam(spec, name) ? paramValue(spec, p, name) : fallback;
}

void setNote(std::string* note, const std::string& s) {
  if (note && note->empty()) *note = s;
}

// Margin of a symmetric boundary t* (radians); t* must lie on the arc [0, alpha]. A negative margin
// (t* > alpha/2, the two regions overlap) is reported as it is.
double marginFromBoundary(double t, double alpha, std::string* note, const char* why) {
  if (!(t >= 0 && t <= alpha)) {
    setNote(note, why);
    return kNaN;
  }
  return alpha - 2 * t;
}

}  // namespace

double lemmaTheoryMargin(const LossSpec& spec, const LossParams& p, double alpha, std::string* note) {
  if (!(alpha > 0)) {
    setNote(note, "no margin: the two weight vectors are parallel");
    return kNaN;
  }
  switch (spec.id) {
    case LossId::LSoftmax:
    case LossId::ASoftmax: {
      // L-Softmax (Liu et al. 2016, eq. 6) / A-Softmax (Liu et al. 2017, eq. 7), lambda = 0:
      //   psi(t) = (-1)^k cos(m t) - 2k on [k pi/m, (k+1) pi/m], which is cos(m t) on [0, pi/m].
      // Boundary of a: psi(t) = cos(alpha - t). Try t in [0, pi/m]: cos(m t) = cos(alpha - t) with both
      // arguments in [0, pi] (cos is one-to-one there) gives m t = alpha - t, t* = alpha / (m+1), and indeed
      // t* <= pi/(m+1) < pi/m. psi is decreasing and cos(alpha - t) increasing, so this is the only root.
      //   margin = alpha - 2 alpha/(m+1) = alpha (m-1)/(m+1).
      // (For L-Softmax this assumes |w_a| = |w_b|, as the lemma does; the measured margin uses the norms.)
      const double m = paramValue(spec, p, "m");
      return alpha * (m - 1) / (m + 1);
    }
    case LossId::AmSoftmax: {
      // AM-Softmax / CosFace (Wang et al. 2018, eq. 4 / eq. 3): target s (cos t - m), other s cos t.
      // Boundary of a: cos t - m = cos(alpha - t)
      //   cos t - cos(alpha - t) = -2 sin(alpha/2) sin(t - alpha/2) = m
      //   t* = alpha/2 - asin(m / (2 sin(alpha/2)))
      // defined when |m| <= 2 sin(alpha/2), and t* >= 0 needs m <= 2 sin^2(alpha/2) = 1 - cos(alpha) (the
      // CosFace condition m <= 1 - max cos(W_i, W_j)); the left side is decreasing in t so t* is unique.
      //   margin = alpha - 2 t* = 2 asin(m / (2 sin(alpha/2))).
      const double m = paramValue(spec, p, "m");
      const double x = m / (2 * std::sin(alpha / 2));
      if (std::fabs(x) > 1) {
        setNote(note, "no root: m > 2 sin(alpha/2)");
        return kNaN;
      }
      return marginFromBoundary(alpha / 2 - std::asin(x), alpha, note, "no root: m > 1 - cos(alpha)");
    }
    case LossId::ArcFace: {
      // ArcFace (Deng et al. 2019, eq. 3): target s cos(t + m), other s cos t.
      // Boundary of a: cos(t + m) = cos(alpha - t). With t + m and alpha - t in [0, pi], t + m = alpha - t,
      //   t* = (alpha - m)/2,   margin = alpha - 2 t* = m   (independent of alpha),
      // defined when alpha >= m (else a does not claim even w_a: cos m < cos alpha). The variants only
      // change the target for large t: insightface's fallback cos t - m sin m starts at t = pi - m and
      // t* < pi - m whenever alpha + m < 2 pi; easy margin's starts at t = pi/2 > t* when alpha - m < pi.
      // Neither crosses cos(alpha - t) again on the arc, so all three variants share the closed form.
      const double m = paramValue(spec, p, "m");
      return marginFromBoundary((alpha - m) / 2, alpha, note, "no root: m > alpha");
    }
    case LossId::Combined: {
      // Combined margin (Deng et al. 2019, eq. 4): target s (cos(m1 t + m2) - m3), other s cos t.
      // Boundary of a: cos(m1 t + m2) - m3 = cos(alpha - t).
      //  m3 = 0: m1 t + m2 = alpha - t (both in [0, pi]),  t* = (alpha - m2)/(m1 + 1),
      //          margin = alpha - 2 t* = (alpha (m1 - 1) + 2 m2)/(m1 + 1)  (SphereFace at m2 = 0,
      //          ArcFace at m1 = 1); needs m1 t* + m2 <= pi for cos to be one-to-one.
      //  m1 = 1: cos(t + m2) - cos(alpha - t) = -2 sin((alpha + m2)/2) sin(t - (alpha - m2)/2) = m3,
      //          t* = (alpha - m2)/2 - asin(m3 / (2 sin((alpha + m2)/2))),
      //          margin = m2 + 2 asin(m3 / (2 sin((alpha + m2)/2)))  (CosFace at m2 = 0).
      //  otherwise the equation mixes the two angles m1 t and t with a constant: no closed form.
      const double m1 = paramValue(spec, p, "m1"), m2 = paramValue(spec, p, "m2"),
                   m3 = paramValue(spec, p, "m3");
      double t = kNaN;
      if (m3 == 0) {
        t = (alpha - m2) / (m1 + 1);
        if (m1 * t + m2 > kPi) {
          setNote(note, "no closed form: the boundary lies where m1 t + m2 > pi");
          return kNaN;
        }
      } else if (m1 == 1) {
        const double x = m3 / (2 * std::sin((alpha + m2) / 2));
        if (std::fabs(x) > 1) {
          setNote(note, "no root: m3 > 2 sin((alpha + m2)/2)");
          return kNaN;
        }
        t = (alpha - m2) / 2 - std::asin(x);
        if (t + m2 > kPi) {
          setNote(note, "no closed form: the boundary lies where t + m2 > pi");
          return kNaN;
        }
      } else {
        setNote(note, "no closed form: combined margin with m1 != 1 and m3 != 0 (see measured)");
        return kNaN;
      }
      return marginFromBoundary(t, alpha, note, "no root: the margins are too large for alpha");
    }
    case LossId::EnhancedAm: {
      // Enhanced AM-Softmax (course project, notes 000): target s (cos t - m)/M with M = e^m, other
      // s (cos t + n) with n = m when negative_margin, else 0. Boundary of a, with
      // cos(alpha - t) = cos(alpha) cos t + sin(alpha) sin t:
      //   (cos t - m)/M = cos(alpha - t) + n
      //   (1 - M cos alpha) cos t - M sin(alpha) sin t = m + M n =: c
      //   R cos(t + phi) = c,  R = |(1 - M cos alpha, M sin alpha)|,  phi = atan2(M sin alpha, 1 - M cos
      //   alpha) t* = acos(c/R) - phi.
      // phi + alpha = arg(e^{i alpha} - M) lies in [0, pi], so R cos(t + phi) is decreasing on the whole arc
      // and t* is its only root. margin = alpha - 2 t*. (M = 1, n = 0 gives back the CosFace form.)
      const double m = paramValue(spec, p, "m");
      const double n = param(spec, p, "negative_margin", 0) != 0 ? m : 0;
      const double M = std::exp(m);
      const double u = 1 - M * std::cos(alpha), v = M * std::sin(alpha);
      const double R = std::hypot(u, v), c = m + M * n;
      if (!(R > 0) || std::fabs(c / R) > 1) {
        setNote(note, "no root: the margin is too large for alpha");
        return kNaN;
      }
      return marginFromBoundary(std::acos(c / R) - std::atan2(v, u), alpha, note,
                                "no root: the margin is too large for alpha");
    }
    default:
      // Softmax, weighted softmax, focal, modified softmax, L2-softmax, NormFace, CoCo, AdaCos, the centre
      // and metric losses: the training rule is the test rule, so both classes share one boundary (shifted
      // by biases or unequal norms, but shared) and the margin is 0.
      return 0;
  }
}

double lemmaBoundary(const LossSpec& spec, const LossParams& p, const LossState& state, int own, int other,
                     double alpha, double wnorm_own, double wnorm_other, std::string* note) {
  if (!(alpha > 0)) {
    setNote(note, "no margin: the two weight vectors are parallel");
    return kNaN;
  }
  // f > 0 where class `own` claims the point (against `other` alone).
  auto f = [&](double t) {
    return targetLogit(spec, p, state, own, std::cos(t), 1.0, wnorm_own) -
           otherLogit(spec, p, state, other, std::cos(alpha - t), 1.0, wnorm_other);
  };
  double lo = 0, flo = f(0);
  if (!(flo > 0)) {
    setNote(note, "no root: a class does not claim its own weight direction (margin too large for alpha)");
    return kNaN;
  }
  // The first sign change from w_own: the region of `own` is the connected arc starting at its weight.
  constexpr int kGrid = 64;
  double hi = kNaN;
  for (int i = 1; i <= kGrid; ++i) {
    const double t = alpha * i / kGrid;
    if (!(f(t) > 0)) {
      hi = t;
      break;
    }
    lo = t;
  }
  if (std::isnan(hi)) {
    setNote(note, "no root: a class claims the whole arc to the other weight");
    return kNaN;
  }
  for (int it = 0; it < 200 && hi - lo > 1e-13; ++it) {
    const double mid = 0.5 * (lo + hi);
    if (f(mid) > 0)
      lo = mid;
    else
      hi = mid;
  }
  return 0.5 * (lo + hi);
}

double lemmaMeasuredMargin(const LossSpec& spec, const LossParams& p, const LossState& state, int a, int b,
                           double alpha, double wnorm_a, double wnorm_b, std::string* note) {
  const double ta = lemmaBoundary(spec, p, state, a, b, alpha, wnorm_a, wnorm_b, note);
  const double tb = lemmaBoundary(spec, p, state, b, a, alpha, wnorm_b, wnorm_a, note);
  return alpha - ta - tb;  // NaN propagates
}

LemmaRow lemmaRow(const LossSpec& spec, const LossParams& p, const LossState& state, const Mat& W, int a,
                  int b) {
  LemmaRow r;
  r.class_a = a;
  r.class_b = b;
  const double na = W.row(a).norm(), nb = W.row(b).norm();
  const double c = (na > 0 && nb > 0) ? std::clamp(W.row(a).dot(W.row(b)) / (na * nb), -1.0, 1.0) : 1.0;
  const double alpha = std::acos(c);
  r.alpha_deg = alpha * kDeg;

  std::string theory_note, measured_note, effective_note;
  r.theory_margin_deg = lemmaTheoryMargin(spec, p, alpha, &theory_note) * kDeg;
  LossState s0 = state;
  s0.lambda = 0;  // the lemma's rule: lambda = 0 (pure margin, no annealing towards softmax)
  const double ta = lemmaBoundary(spec, p, s0, a, b, alpha, na, nb, &measured_note);
  const double tb = lemmaBoundary(spec, p, s0, b, a, alpha, nb, na, &measured_note);
  r.boundary_a_deg = ta * kDeg;
  r.boundary_b_deg = tb * kDeg;
  r.measured_margin_deg = (alpha - ta - tb) * kDeg;
  // Only L-Softmax/A-Softmax have a lambda in their rule; elsewhere the effective margin is the measured one.
  const bool has_lambda = spec.id == LossId::LSoftmax || spec.id == LossId::ASoftmax;
  r.effective_margin_deg =
      has_lambda ? lemmaMeasuredMargin(spec, p, state, a, b, alpha, na, nb, &effective_note) * kDeg
                 : r.measured_margin_deg;

  r.theory_defined = !std::isnan(r.theory_margin_deg);
  r.measured_defined = !std::isnan(r.measured_margin_deg);
  std::string note;
  if (!theory_note.empty()) note = "theory: " + theory_note;
  if (!measured_note.empty()) note += (note.empty() ? "" : "; ") + std::string("measured: ") + measured_note;
  if (std::isnan(r.effective_margin_deg) && !effective_note.empty() && measured_note.empty())
    note += (note.empty() ? "" : "; ") + std::string("effective: ") + effective_note;
  // The lemma assumes equal norms; say so when the rule depends on |w| and the norms differ.
  const bool uses_wnorm =
      testLogit(spec, p, s0, a, 0.5, 1.0, 2.0) != testLogit(spec, p, s0, a, 0.5, 1.0, 1.0);
  if (uses_wnorm && std::fabs(na - nb) > 1e-9 * std::max(na, nb))
    note += (note.empty() ? "" : "; ") + std::string("theory assumes |w_a| = |w_b|; measured uses the norms");
  r.note = note;
  return r;
}

std::vector<std::pair<int, int>> lemmaPairs(const Mat& W, int all_pairs_max_k, bool* all) {
  const int K = int(W.rows());
  std::vector<std::pair<int, int>> pairs;
  if (K <= all_pairs_max_k) {
    if (all) *all = true;
    for (int a = 0; a < K; ++a)
      for (int b = a + 1; b < K; ++b) pairs.emplace_back(a, b);
    return pairs;
  }
  if (all) *all = false;
  // Each class with its angularly nearest weight: cosines of unit weights, O(K^2 d).
  Mat U = W;
  for (int k = 0; k < K; ++k) {
    const double n = U.row(k).norm();
    if (n > 0) U.row(k) /= n;
  }
  const Mat G = U * U.transpose();  // (K,K)
  for (int a = 0; a < K; ++a) {
    int best = -1;
    double best_c = -2;
    for (int b = 0; b < K; ++b)
      if (b != a && G(a, b) > best_c) best_c = G(a, b), best = b;
    if (best >= 0) pairs.emplace_back(std::min(a, best), std::max(a, best));
  }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  return pairs;
}

}  // namespace ms
