// The margin annotations: the lemma rows under a figure and the circle view's angle, claim-edge, band and
// boundary labels. Both name the same pairs: the angularly neighbouring weights, whose bands are the ones
// drawn. A margin is printed only where it is defined (a finite angle in [0, 180] degrees); elsewhere the
// label reads "no margin" and the reason goes into the label's note (the SVG's <title>). Where training
// anneals lambda (L-/A-Softmax), the bands are drawn at the live lambda: their labels and the lemma rows say
// "effective at λ = ..." beside the pure (lambda = 0) margin.
#include <algorithm>
#include <cmath>

#include "render/scene_internal.h"
#include "sim/lemma.h"

namespace ms::scene {

namespace {

bool marginDefined(double deg) {
  return std::isfinite(deg) && deg >= 0 && deg <= 180;
}

double liveLambda(const Snapshot& s, const DecisionRule& r) {
  if (!r.spec || !r.spec->traits.anneals_lambda) return 0;
  return s.loss_state.lambda >= 0 ? s.loss_state.lambda : paramValue(*r.spec, s.params, "lambda");
}

// Neighbouring pairs (a < b). 2-D: consecutive weights by angle, the convex angle only (the lemma's alpha)
// unless `reflex` (a band can lie on the far side of two weights more than 180 degrees apart); otherwise
// each class with its angularly nearest other weight.
std::vector<std::pair<int, int>> neighbourPairs(const DecisionRule& r, bool reflex = false) {
  std::vector<std::pair<int, int>> out;
  if (!r.valid()) return out;
  auto add = [&](int a, int b) {
    const std::pair<int, int> p{std::min(a, b), std::max(a, b)};
    if (a != b && std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  };
  if (r.dim == 2) {
    std::vector<std::pair<double, int>> ang;
    for (int j = 0; j < r.K; ++j)
      if (r.wnorm[j] > 0) ang.push_back({weightAngle(r, j), j});
    std::sort(ang.begin(), ang.end());
    for (size_t i = 0; i < ang.size() && ang.size() > 1; ++i) {
      const auto& [a0, j0] = ang[i];
      const auto& [a1, j1] = ang[(i + 1) % ang.size()];
      double d = a1 - a0;
      if (d <= 0) d += kTwoPi;
      if (d <= kPi || reflex) add(j0, j1);
    }
    return out;
  }
  for (int a = 0; a < r.K; ++a) {
    int best = -1;
    double best_c = -2;
    for (int b = 0; b < r.K; ++b) {
      if (b == a || r.wnorm[b] <= 0 || r.wnorm[a] <= 0) continue;
      double c = 0;
      for (int k = 0; k < r.dim; ++k) c += r.dirs[a * r.dim + k] * r.dirs[b * r.dim + k];
      if (c > best_c) best_c = c, best = b;
    }
    if (best >= 0) add(a, best);
  }
  return out;
}

constexpr size_t kLemmaShown = 4;

}  // namespace

bool annealedLambda(const Snapshot& s, const DecisionRule& r) {
  return liveLambda(s, r) > 0;
}

std::vector<LemmaLine> neighbourLemma(const Snapshot& s, const DecisionRule& r) {
  std::vector<LemmaLine> out;
  if (!r.valid() || !r.spec->traits.has_margin) return out;
  Mat W(r.K, r.dim);
  for (int j = 0; j < r.K; ++j)
    for (int k = 0; k < r.dim; ++k) W(j, k) = s.weights[size_t(j) * r.dim + k];
  // The same function the metrics JSON's `lemma` rows come from, on the snapshot's weights: the rows under
  // the figure are those of the weights drawn.
  for (const auto& [a, b] : neighbourPairs(r))
    out.push_back({a, b, lemmaRow(*r.spec, s.params, s.loss_state, W, a, b)});
  std::stable_sort(out.begin(), out.end(),
                   [](const LemmaLine& x, const LemmaLine& y) { return x.row.alpha_deg < y.row.alpha_deg; });
  return out;
}

size_t lemmaRowsShown(const Snapshot&, const DecisionRule& r) {
  if (!r.valid() || !r.spec->traits.has_margin) return 0;
  const size_t n = neighbourPairs(r).size();
  return std::min(n, kLemmaShown) + (n > kLemmaShown ? 1 : 0);
}

void addLemmaBlock(Scene& sc, const Snapshot& s) {
  const float u = sc.ui, pad = 14 * u, size = 13 * u;
  const size_t rows = lemmaRowsShown(s, sc.rule);
  if (rows == 0) return;
  const std::vector<LemmaLine> lines = neighbourLemma(s, sc.rule);
  const bool annealed = annealedLambda(s, sc.rule);
  const double lambda = liveLambda(s, sc.rule);
  auto deg = [](double v) { return marginDefined(v) ? fmtNum("%.1f°", v) : std::string("-"); };
  for (size_t i = 0; i < rows; ++i) {
    TextItem t{pad, sc.height - pad - size * 1.4f * float(rows - 1 - i), "", size, sc.theme.foreground, 0};
    t.role = "lemma";
    if (i >= std::min(lines.size(), kLemmaShown)) {
      t.text = "+ " + std::to_string(lines.size() - kLemmaShown) +
               " more neighbouring pairs in the metrics JSON (lemma)";
      t.colour = sc.theme.muted;
      sc.texts.push_back(t);
      continue;
    }
    const LemmaLine& l = lines[i];
    const LemmaRow& row = l.row;
    std::string txt = arrowName(sc.rule, l.a) + "–" + arrowName(sc.rule, l.b) +
                      ":  α = " + fmtNum("%.1f°", row.alpha_deg) + "   ";
    const bool theory = row.theory_defined && marginDefined(row.theory_margin_deg);
    const bool measured = row.measured_defined && marginDefined(row.measured_margin_deg);
    if (!theory && !measured) {
      txt += "no margin";
      t.note = row.note.empty() ? "the margin is not defined for this alpha" : row.note;
    } else {
      txt += std::string(annealed ? "pure margin (λ = 0): " : "margin: ") + "theory " +
             deg(row.theory_margin_deg) + "   measured " + deg(row.measured_margin_deg);
      if (!theory || !measured) t.note = row.note;
      if (annealed)
        txt += "   effective at λ = " + fmtNum("%.3g", lambda) + ": " +
               (marginDefined(row.effective_margin_deg) ? deg(row.effective_margin_deg) : "no margin");
    }
    t.text = txt;
    sc.texts.push_back(t);
  }
}

void addCircleAnnotations(Scene& sc, const Snapshot& s, const Map2& m, const CircleDecision& cd, double ar) {
  const DecisionRule& r = sc.rule;
  const ThemeColours& th = sc.theme;
  const float u = sc.ui;
  auto label = [&](P2 at, P2 target, std::string text, float size, Rgba c, int priority, const char* role) {
    TextItem t{at.x, at.y + 5 * u, std::move(text), size, c, 1};
    t.halo = true;
    t.movable = true;
    t.priority = priority;
    t.tx = target.x;
    t.ty = target.y;
    t.role = role;
    sc.texts.push_back(std::move(t));
    return &sc.texts.back();
  };
  // Angle alpha between angularly neighbouring weights.
  std::vector<std::pair<double, int>> ang;
  for (int j = 0; j < r.K; ++j)
    if (r.wnorm[j] > 0) ang.push_back({weightAngle(r, j), j});
  std::sort(ang.begin(), ang.end());
  for (size_t i = 0; i < ang.size() && ang.size() > 1; ++i) {
    const double a0 = ang[i].first;
    double a1 = ang[(i + 1) % ang.size()].first;
    if (a1 <= a0) a1 += kTwoPi;
    if (a1 - a0 > kPi) continue;  // only the convex angle between neighbours
    sc.over.push_back(arcStroke(m, 0.30 * ar, a0, a1, 1.2f * u, th.muted, "annotation"));
    label(m.polar(0.42 * ar, 0.5 * (a0 + a1)), m.polar(0.30 * ar, 0.5 * (a0 + a1)),
          "α " + fmtNum("%.1f°", (a1 - a0) * 180 / kPi), 13 * u, th.foreground, 1, "alpha");
  }
  if (cd.bands.empty()) {
    for (const CircleEdge& e : cd.boundaries)
      label(m.polar(1.24 * ar, e.angle), m.polar(1.0 * ar, e.angle), fmtNum("%.1f°", e.angle * 180 / kPi),
            12 * u, th.muted, 0, "boundary");
    return;
  }
  // Each claim edge: its angle from its own class's weight.
  for (const CircleEdge& e : cd.margin_edges) {
    const int c = e.a >= 0 ? e.a : e.b;
    if ((e.a >= 0 && e.b >= 0) || r.wnorm[c] <= 0) continue;
    const double wa = weightAngle(r, c), d = angleDiff(wa, e.angle);
    sc.over.push_back(
        arcStroke(m, 0.62 * ar, wa, wa + d, 1.2f * u, classColour(c, paletteSize(s)), "annotation"));
    label(m.polar(0.72 * ar, wa + 0.5 * d), m.polar(0.62 * ar, wa + 0.5 * d),
          fmtNum("%.1f°", std::fabs(d) * 180 / kPi), 12 * u, th.foreground, 0, "edge");
  }
  // Each band: the pair of neighbouring classes that claim either side, and its width, or "no margin".
  const bool annealed = annealedLambda(s, r);
  std::vector<double> c(r.K);
  auto claimant = [&](double a) {
    for (int j = 0; j < r.K; ++j) c[j] = std::cos(a) * r.dirs[j * 2] + std::sin(a) * r.dirs[j * 2 + 1];
    bool claimed = false;
    const int w = r.classify(c.data(), &claimed);
    return claimed ? w : -1;
  };
  const std::vector<std::pair<int, int>> pairs = neighbourPairs(r, true);
  for (const CircleArc& b : cd.bands) {
    const double width = (b.a1 - b.a0) * 180 / kPi;
    // A band round the whole circle: K margins do not fit in 360 degrees, no class claims anything.
    if (b.a1 - b.a0 >= kTwoPi - 1e-9) {
      TextItem* t = label(m.polar(1.12 * ar, 0.5 * kPi), m.polar(1.0 * ar, 0.5 * kPi),
                          "no margin: no class claims any direction", 13 * u, th.foreground, 3, "margin");
      t->note = "the margins do not fit in 360 degrees at this m";
      continue;
    }
    const int ca = claimant(b.a0 - 1e-6), cb = claimant(b.a1 + 1e-6);
    const std::pair<int, int> p{std::min(ca, cb), std::max(ca, cb)};
    // A weight direction inside the band: its class claims nothing there, the band is not one pair's margin.
    int inside = -1;
    for (int j = 0; j < r.K; ++j)
      if (r.wnorm[j] > 0) {
        double d = weightAngle(r, j) - b.a0;
        if (d < 0) d += kTwoPi;
        if (d < b.a1 - b.a0) inside = j;
      }
    const bool pair_ok =
        ca >= 0 && cb >= 0 && ca != cb && std::find(pairs.begin(), pairs.end(), p) != pairs.end();
    const double mid = 0.5 * (b.a0 + b.a1);
    std::string text, note;
    if (pair_ok && inside < 0 && marginDefined(width)) {
      text = arrowName(r, ca) + "–" + arrowName(r, cb) + " margin " + fmtNum("%.1f°", width);
      if (annealed) text += " (effective, λ = " + fmtNum("%.3g", liveLambda(s, r)) + ")";
    } else {
      text = "no margin";
      note = inside >= 0 ? "class " + std::to_string(inside) +
                               "'s own direction lies in this band: it claims no direction at training time"
                         : "an arc of " + fmtNum("%.1f", width) +
                               " degrees that no class claims; not the margin of one pair";
    }
    TextItem* t =
        label(m.polar(1.24 * ar, mid), m.polar(1.0 * ar, mid), text, 13 * u, th.foreground, 2, "margin");
    t->note = note;
  }
}

}  // namespace ms::scene
