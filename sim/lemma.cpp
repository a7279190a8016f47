// The angular-margin lemma: root finding of the loss's own decision rule and the choice of pairs (see
// lemma.h). The closed forms live with each loss's definition (MarginRule::closed_form, derived there); this
// file only compares them with the measured boundaries. Notation: two classes a, b with weights at angle
// alpha, a unit feature on the arc between them at angle t from w_a, hence alpha - t from w_b.
#include "sim/lemma.h"

#include "sim/math.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ms {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void setNote(std::string* note, const std::string& s) {
  if (note && note->empty()) *note = s;
}

}  // namespace

double lemmaTheoryMargin(const LossSpec& spec, const LossParams& p, double alpha, std::string* note) {
  if (!(alpha > 0)) {
    setNote(note, "no margin: the two weight vectors are parallel");
    return kNaN;
  }
  return closedFormMargin(spec, p, alpha, note);
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
  // Only annealed losses have a lambda in their rule; elsewhere the effective margin is the measured one.
  r.effective_margin_deg =
      spec.traits.anneals_lambda
          ? lemmaMeasuredMargin(spec, p, state, a, b, alpha, na, nb, &effective_note) * kDeg
          : r.measured_margin_deg;

  r.theory_defined = !std::isnan(r.theory_margin_deg);
  r.measured_defined = !std::isnan(r.measured_margin_deg);
  std::string note;
  if (!theory_note.empty()) note = "theory: " + theory_note;
  if (!measured_note.empty()) note += (note.empty() ? "" : "; ") + std::string("measured: ") + measured_note;
  if (std::isnan(r.effective_margin_deg) && !effective_note.empty() && measured_note.empty())
    note += (note.empty() ? "" : "; ") + std::string("effective: ") + effective_note;
  // The lemma assumes equal norms; say so when the rule depends on |w| and the norms differ.
  if (spec.traits.weight_norm && std::fabs(na - nb) > 1e-9 * std::max(na, nb))
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
