// Decision structure on the circle by 1-D root finding: the label (winner, or winner-claims) is piecewise
// constant in the angle, so a fine scan finds every change and bisection on the label places it exactly.
#include "render/decision.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sim/errors.h"
#include "sim/math.h"

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

DecisionRule makeDecisionRule(const Snapshot& s, bool with_hnorm) {
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
  r.means = !r.spec->traits.has_weights || s.weights_are_means;
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
  const size_t n = s.dim > 0 && with_hnorm ? s.embeddings.size() / s.dim : 0;
  if (n > 0) {
    // The median of the squared norms, then one square root: sqrt is monotone, so this is the same number.
    std::vector<double> norms2(n);
    for (size_t i = 0; i < n; ++i) {
      double n2 = 0;
      for (int k = 0; k < s.dim; ++k) n2 += double(s.embeddings[i * s.dim + k]) * s.embeddings[i * s.dim + k];
      norms2[i] = n2;
    }
    std::nth_element(norms2.begin(), norms2.begin() + n / 2, norms2.end());
    const double median = std::sqrt(norms2[n / 2]);
    if (std::isfinite(median) && median > 0) r.hnorm = median;
  }
  return r;
}

std::vector<float> tabulateRule(const DecisionRule& r, int n) {
  std::vector<float> out(static_cast<size_t>(r.K) * n * 3, 0.0f);
  tabulateRuleRows(r, n, 0, r.K, out.data());
  return out;
}

void tabulateRuleRows(const DecisionRule& r, int n, int j0, int j1, float* out) {
  if (!r.valid()) return;
  std::vector<double> cos_at(n);  // the same angles for every class
  for (int i = 0; i < n; ++i) cos_at[i] = std::cos(kPi * i / (n - 1));
  for (int j = j0; j < j1; ++j)
    for (int i = 0; i < n; ++i) {
      const double c = cos_at[i];
      float* o = &out[(static_cast<size_t>(j) * n + i) * 3];
      // Clamped so that float storage never turns a huge logit (s = 1000) into inf.
      o[0] = static_cast<float>(std::clamp(r.test(j, c), -1e30, 1e30));
      o[1] = static_cast<float>(std::clamp(r.target(j, c), -1e30, 1e30));
      o[2] = static_cast<float>(std::clamp(r.other(j, c), -1e30, 1e30));
    }
}

namespace {

// acos to 2e-8 rad (Abramowitz and Stegun 4.4.46), a few times cheaper than std::acos; the shortlist's
// bounds carry far more slack than that.
double fastAcos(double x) {
  const double a = std::min(1.0, std::fabs(x));
  const double p =
      1.5707963050 +
      a * (-0.2145988016 +
           a * (0.0889789874 +
                a * (-0.0501743046 +
                     a * (0.0308918810 + a * (-0.0170881256 + a * (0.0066700901 - a * 0.0012624911))))));
  const double t = std::sqrt(1.0 - a) * p;
  return x < 0 ? kPi - t : t;
}

// Range minimum and maximum over blocks of sampled curves, O(1) per query: a sparse table over the blocks,
// (curve, level, block) = bounds of blocks [block, block + 2^level) of the curve.
struct BlockRanges {
  int nb = 0, levels = 0;
  std::vector<float> lo, hi;
  BlockRanges(int curves, int n_blocks) : nb(n_blocks), levels(1) {
    while ((1 << levels) <= nb) ++levels;
    lo.assign(static_cast<size_t>(curves) * levels * nb, 0.0f);
    hi.assign(lo.size(), 0.0f);
  }
  float* lo0(int curve) { return &lo[static_cast<size_t>(curve) * levels * nb]; }
  float* hi0(int curve) { return &hi[static_cast<size_t>(curve) * levels * nb]; }
  void build(int curve) {
    float *l = lo0(curve), *h = hi0(curve);
    for (int k = 1; k < levels; ++k)
      for (int b = 0; b + (1 << k) <= nb; ++b) {
        const size_t at = static_cast<size_t>(k) * nb + b, below = at - nb, half = below + (1 << (k - 1));
        l[at] = std::min(l[below], l[half]);
        h[at] = std::max(h[below], h[half]);
      }
  }
  // Blocks b0..b1 inclusive.
  void query(int curve, int b0, int b1, float* l, float* h) const {
    const int k = 31 - __builtin_clz(static_cast<unsigned>(b1 - b0 + 1));
    const size_t base = (static_cast<size_t>(curve) * levels + k) * nb;
    const size_t x = base + b0, y = base + b1 + 1 - (1 << k);
    *l = std::min(lo[x], lo[y]);
    *h = std::max(hi[x], hi[y]);
  }
};

}  // namespace

SphereShortlist shortlistSphere(const DecisionRule& r, const std::vector<float>& table, int n, int res) {
  SphereShortlist out;
  out.res = res;
  const int K = r.K;
  // Every patch starts as "every class": what an invalid input gets, and what a full patch falls back to.
  out.texels.assign(static_cast<size_t>(6) * res * res * 2, 0xFFFFFFFFu);
  for (size_t t = 0; t < out.texels.size(); t += 2) out.texels[t] = 0xFFFFFF00u | SphereShortlist::kAll;
  out.mean_listed = K;
  if (!r.valid() || r.dim != 3 || K > 254 || n < 2 || res < 1 ||
      table.size() != static_cast<size_t>(K) * n * 3)
    return out;

  // Bounds of the test (channel 0) and other (channel 2) logits over blocks of B samples, per class: the
  // lowest value and the highest. A NaN is never ranked by the shader (every comparison with it is false), so
  // it counts as -inf: it makes a block's lowest -inf and is skipped for its highest.
  constexpr int B = 32;
  const int nb = (n + B - 1) / B;
  const float kInf = std::numeric_limits<float>::infinity();
  BlockRanges ranges(K * 2, nb);  // curve 2 j: test logit of class j, 2 j + 1: its other logit
  for (int j = 0; j < K; ++j)
    for (int c = 0; c < 2; ++c) {
      float *lo = ranges.lo0(j * 2 + c), *hi = ranges.hi0(j * 2 + c);
      for (int b = 0; b < nb; ++b) {
        float l = kInf, h = -kInf;
        for (int i = b * B; i < std::min(n, (b + 1) * B); ++i) {
          const float v = table[(static_cast<size_t>(j) * n + i) * 3 + c * 2];
          if (std::isnan(v)) {
            l = -kInf;
            continue;
          }
          l = std::min(l, v);
          h = std::max(h, v);
        }
        lo[b] = l, hi[b] = h;
      }
      ranges.build(j * 2 + c);
    }

  // The shader indexes sample int(acos(<n, w_j>) (n - 1) / pi + 0.5). A patch is a spherical polygon that
  // lies within angle rho of its centre direction (the farthest point is a corner), so every direction in it
  // is within [t - rho, t + rho] of w_j, t the centre's angle to w_j. The slack covers GLSL's acos (Mesa's
  // polynomial is within 1e-4 rad), float directions and pixels that round into a neighbouring patch.
  constexpr double kSlack = 3e-3;
  const double per_rad = (n - 1) / kPi;
  // A patch's centre direction and angular radius depend on the face only through a permutation and sign
  // of the axes, so they are worked out once per (tx, ty) of each grid: (res_l, res_l, 4) = face-local
  // centre (1, u, v) / |.| as (a, b, c), and rho.
  auto patchGeometry = [&](int res_l) {
    std::vector<double> g(static_cast<size_t>(res_l) * res_l * 4);
    auto unit = [](double u, double v, double d[3]) {
      const double l = 1 / std::sqrt(1 + u * u + v * v);
      d[0] = l, d[1] = u * l, d[2] = v * l;
    };
    for (int ty = 0; ty < res_l; ++ty)
      for (int tx = 0; tx < res_l; ++tx) {
        const double u0 = 2.0 * tx / res_l - 1, u1 = 2.0 * (tx + 1) / res_l - 1;
        const double v0 = 2.0 * ty / res_l - 1, v1 = 2.0 * (ty + 1) / res_l - 1;
        double* c = &g[(static_cast<size_t>(ty) * res_l + tx) * 4];
        double q[3];
        unit(0.5 * (u0 + u1), 0.5 * (v0 + v1), c);
        double cos_rho = 1;
        for (int k = 0; k < 4; ++k) {
          unit((k & 1) ? u1 : u0, (k & 2) ? v1 : v0, q);
          cos_rho = std::min(cos_rho, c[0] * q[0] + c[1] * q[1] + c[2] * q[2]);
        }
        c[3] = fastAcos(cos_rho) + kSlack;
      }
    return g;
  };
  std::vector<float> hi_test(K), hi_other(K);
  // Lists into `list` (ascending) the classes among cand[0..m) that may matter in patch (face, tx, ty) of
  // grid g (res_l a side); returns how many.
  auto listPatch = [&](const std::vector<double>& g, int face, int res_l, int tx, int ty, const int* cand,
                       int m, int* list) {
    const double* local = &g[(static_cast<size_t>(ty) * res_l + tx) * 4];
    const double sign = (face & 1) ? -local[0] : local[0], rho = local[3];
    double c[3];
    if (face < 2)
      c[0] = sign, c[1] = local[1], c[2] = local[2];
    else if (face < 4)
      c[0] = local[1], c[1] = sign, c[2] = local[2];
    else
      c[0] = local[1], c[1] = local[2], c[2] = sign;
    // The two largest lowest values of each logit: a class whose highest value is below the second of them
    // is beaten by two classes everywhere in the patch.
    float m1t = -kInf, m2t = -kInf, m1o = -kInf, m2o = -kInf;
    for (int k = 0; k < m; ++k) {
      const int j = cand[k];
      const double* w = &r.dirs[static_cast<size_t>(j) * 3];
      const double t = fastAcos(c[0] * w[0] + c[1] * w[1] + c[2] * w[2]);
      const int b0 = std::min(n - 1, static_cast<int>(std::max(0.0, (t - rho) * per_rad + 0.5))) / B;
      const int b1 = std::min(n - 1, static_cast<int>(std::max(0.0, (t + rho) * per_rad + 0.5))) / B;
      float lt, lo;
      ranges.query(j * 2, b0, b1, &lt, &hi_test[k]);
      ranges.query(j * 2 + 1, b0, b1, &lo, &hi_other[k]);
      if (lt > m1t)
        m2t = m1t, m1t = lt;
      else if (lt > m2t)
        m2t = lt;
      if (lo > m1o)
        m2o = m1o, m1o = lo;
      else if (lo > m2o)
        m2o = lo;
    }
    int count = 0;
    for (int k = 0; k < m; ++k)
      if (hi_test[k] >= m2t || hi_other[k] >= m2o) list[count++] = cand[k];
    return count;
  };

  // Two levels: patches 4x as wide over all classes, then each patch over its parent's list. A class the
  // parent drops cannot come back: the child's bounds lie within the parent's, so the parent's two best
  // lows still beat it, and they stay in the child's list to set its bar.
  const int step = res % 4 == 0 ? 4 : 1, res0 = res / step;
  std::vector<int> all(K), coarse(static_cast<size_t>(6) * res0 * res0 * K), list(K);
  std::vector<int> coarse_n(static_cast<size_t>(6) * res0 * res0);
  for (int j = 0; j < K; ++j) all[j] = j;
  const std::vector<double> g0 = patchGeometry(res0), g1 = step == 1 ? g0 : patchGeometry(res);
  for (int face = 0; face < 6; ++face)
    for (int ty = 0; ty < res0; ++ty)
      for (int tx = 0; tx < res0; ++tx) {
        const size_t at = (static_cast<size_t>(face) * res0 + ty) * res0 + tx;
        coarse_n[at] = listPatch(g0, face, res0, tx, ty, all.data(), K, &coarse[at * K]);
      }
  long long listed = 0;  // classes listed beyond K, over all patches
  for (int face = 0; face < 6; ++face)
    for (int ty = 0; ty < res; ++ty)
      for (int tx = 0; tx < res; ++tx) {
        const size_t parent = (static_cast<size_t>(face) * res0 + ty / step) * res0 + tx / step;
        const int count =
            step == 1 ? coarse_n[parent]
                      : listPatch(g1, face, res, tx, ty, &coarse[parent * K], coarse_n[parent], list.data());
        const int* cls = step == 1 ? &coarse[parent * K] : list.data();
        if (count > SphereShortlist::kSlots) continue;  // stays "every class"
        uint32_t words[2] = {0xFFFFFFFFu, 0xFFFFFFFFu};
        for (int k = 0; k < count; ++k) {
          words[k / 4] &= ~(0xFFu << (8 * (k % 4)));
          words[k / 4] |= static_cast<uint32_t>(cls[k]) << (8 * (k % 4));
        }
        const size_t at = ((static_cast<size_t>(face) * res + ty) * res + tx) * 2;
        out.texels[at] = words[0];
        out.texels[at + 1] = words[1];
        listed += count - K;
      }
  out.mean_listed = K + static_cast<double>(listed) / (6.0 * res * res);
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
