// Decision structure on the circle by 1-D root finding: the label (winner, or winner-claims) is piecewise
// constant in the angle, so a fine scan finds every change and bisection on the label places it exactly.
#include "render/decision.h"

#include <algorithm>
#include <cmath>

#include "sim/errors.h"

namespace ms {

namespace {
constexpr double kTwoPi = 6.283185307179586;
}

double DecisionRule::test(int j, double c) const {
  return loss.test(j, c, hnorm, wnorm[j]);
}
double DecisionRule::target(int j, double c) const {
  return loss.target(j, c, hnorm, wnorm[j]);
}
double DecisionRule::other(int j, double c) const {
  return loss.other(j, c, hnorm, wnorm[j]);
}

int DecisionRule::classify(const double* cos, bool* claimed) const {
  int win = 0;
  double best = -HUGE_VAL;
  for (int j = 0; j < K; ++j) {
    const double t = test(j, cos[j]);
    if (t > best) best = t, win = j;
  }
  if (claimed) {
    double other_max = -HUGE_VAL;
    for (int j = 0; j < K; ++j)
      if (j != win) other_max = std::max(other_max, other(j, cos[j]));
    *claimed = target(win, cos[win]) > other_max;
  }
  return win;
}

DecisionRule makeDecisionRule(const Snapshot& s) {
  DecisionRule r;
  r.dim = s.dim;
  r.K = s.K;
  if (s.K <= 0 || s.dim <= 0 || s.weights.size() != static_cast<size_t>(s.K) * s.dim) return r;
  try {
    r.spec = &findLoss(s.loss);
  } catch (const UserError&) {
    r.spec = nullptr;
    return r;
  }
  r.loss = LossRule(*r.spec, s.params, s.loss_state);
  r.dirs.assign(s.weights.size(), 0.0);
  r.wnorm.assign(s.K, 0.0);
  for (int j = 0; j < s.K; ++j) {
    double n2 = 0;
    for (int k = 0; k < s.dim; ++k) n2 += s.weights[j * s.dim + k] * s.weights[j * s.dim + k];
    const double n = std::sqrt(n2);
    r.wnorm[j] = n;
    if (n > 0)
      for (int k = 0; k < s.dim; ++k) r.dirs[j * s.dim + k] = s.weights[j * s.dim + k] / n;
  }
  // Representative |h|: the median norm of what is displayed (only the softmax family depends on it).
  const size_t n = s.dim > 0 ? s.embeddings.size() / s.dim : 0;
  if (n > 0) {
    std::vector<double> norms(n);
    for (size_t i = 0; i < n; ++i) {
      double n2 = 0;
      for (int k = 0; k < s.dim; ++k) n2 += double(s.embeddings[i * s.dim + k]) * s.embeddings[i * s.dim + k];
      norms[i] = std::sqrt(n2);
    }
    std::nth_element(norms.begin(), norms.begin() + n / 2, norms.end());
    if (std::isfinite(norms[n / 2]) && norms[n / 2] > 0) r.hnorm = norms[n / 2];
  }
  return r;
}

std::vector<float> tabulateRule(const DecisionRule& r, int n) {
  std::vector<float> out(static_cast<size_t>(r.K) * n * 3, 0.0f);
  if (!r.valid()) return out;
  for (int j = 0; j < r.K; ++j)
    for (int i = 0; i < n; ++i) {
      const double c = std::cos(M_PI * i / (n - 1));
      float* o = &out[(static_cast<size_t>(j) * n + i) * 3];
      // Clamped so that float storage never turns a huge logit (s = 1000) into inf.
      o[0] = static_cast<float>(std::clamp(r.test(j, c), -1e30, 1e30));
      o[1] = static_cast<float>(std::clamp(r.target(j, c), -1e30, 1e30));
      o[2] = static_cast<float>(std::clamp(r.other(j, c), -1e30, 1e30));
    }
  return out;
}

double weightAngle(const DecisionRule& r, int j) {
  double a = std::atan2(r.dirs[j * r.dim + 1], r.dirs[j * r.dim + 0]);
  return a < 0 ? a + kTwoPi : a;
}

namespace {

// Label of a direction on the circle: winner, and winner or -1 for the claim.
struct CircleLabels {
  const DecisionRule& r;
  std::vector<double> cos;
  explicit CircleLabels(const DecisionRule& rule) : r(rule), cos(rule.K) {}
  void at(double phi, int* win, int* claim) {
    const double x = std::cos(phi), y = std::sin(phi);
    for (int j = 0; j < r.K; ++j) cos[j] = x * r.dirs[j * 2] + y * r.dirs[j * 2 + 1];
    bool claimed = false;
    *win = r.classify(cos.data(), &claimed);
    *claim = claimed ? *win : -1;
  }
};

// Arcs and edges of one piecewise-constant label given its samples; `refine(lo, hi, label_lo)` bisects.
template <class Refine>
void arcsOf(const std::vector<int>& label, const std::vector<double>& phi, Refine refine,
            std::vector<CircleArc>& arcs, std::vector<CircleEdge>& edges) {
  const int n = static_cast<int>(label.size());
  std::vector<CircleEdge> cuts;
  for (int i = 0; i < n; ++i) {
    const int i1 = (i + 1) % n;
    if (label[i] != label[i1]) {
      const double hi = i1 == 0 ? kTwoPi : phi[i1];
      double a = refine(phi[i], hi, label[i]);
      if (a >= kTwoPi) a -= kTwoPi;
      cuts.push_back({a, label[i], label[i1]});
    }
  }
  edges = cuts;
  arcs.clear();
  if (cuts.empty()) {
    arcs.push_back({0.0, kTwoPi, label[0]});
    return;
  }
  std::sort(cuts.begin(), cuts.end(),
            [](const CircleEdge& x, const CircleEdge& y) { return x.angle < y.angle; });
  for (size_t k = 0; k < cuts.size(); ++k) {
    const CircleEdge& c0 = cuts[k];
    const CircleEdge& c1 = cuts[(k + 1) % cuts.size()];
    double a1 = c1.angle;
    if (a1 <= c0.angle) a1 += kTwoPi;
    arcs.push_back({c0.angle, a1, c0.b});
  }
}

}  // namespace

CircleDecision analyseCircle(const DecisionRule& r, int samples) {
  CircleDecision out;
  if (!r.valid() || r.dim != 2) return out;
  CircleLabels lab(r);
  std::vector<double> phi(samples);
  std::vector<int> win(samples), claim(samples);
  for (int i = 0; i < samples; ++i) {
    phi[i] = kTwoPi * i / samples;
    lab.at(phi[i], &win[i], &claim[i]);
  }
  auto bisect = [&](bool use_claim) {
    return [&lab, use_claim](double lo, double hi, int label_lo) {
      for (int it = 0; it < 60 && hi - lo > 1e-13; ++it) {
        const double mid = 0.5 * (lo + hi);
        int w, c;
        lab.at(mid, &w, &c);
        if ((use_claim ? c : w) == label_lo)
          lo = mid;
        else
          hi = mid;
      }
      return 0.5 * (lo + hi);
    };
  };
  arcsOf(win, phi, bisect(false), out.regions, out.boundaries);
  std::vector<CircleArc> claim_arcs;
  arcsOf(claim, phi, bisect(true), claim_arcs, out.margin_edges);
  for (const CircleArc& a : claim_arcs)
    if (a.cls < 0) out.bands.push_back(a);
  return out;
}

}  // namespace ms
