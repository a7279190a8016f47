// Text of the scene that is not tied to one view: the caption (loss, parameters, step, accuracies on the
// points drawn), the class legend, the notes on what the arrows are, and label placement. Placement runs
// last: fixed text (caption, legend, lemma rows, notes) stays where the layout put it; every movable label
// (weight names, angles, margins) is tried at its own spot, then at rings of spots around it, and takes the
// first one that overlaps no placed text, no arrow, not the legend and stays inside the image; a label that
// moved more than about its height gets a leader line to what it names, and one that fits nowhere is dropped
// (the numbers are in the Metrics panel and the metrics JSON).
#include <algorithm>
#include <cmath>

#include "render/scene_internal.h"
#include "render/text.h"

namespace ms {

Box textBox(const TextItem& t) {
  const float w = textWidth(t.text, t.size);
  const float x0 = t.x - w * (t.anchor == 1 ? 0.5f : t.anchor == 2 ? 1.0f : 0.0f);
  return {x0, t.y - 0.8f * t.size, x0 + w, t.y + 0.25f * t.size};
}

namespace scene {

namespace {

std::string lossCaption(const Snapshot& s, const DecisionRule& r) {
  std::string out = s.loss.empty() ? std::string("(no loss)") : s.loss;
  if (r.spec) {
    const LossTraits& t = r.spec->traits;
    const bool anneals = t.anneals_lambda;  // lambda and gamma are annealing knobs; the live lambda is shown
    int shown = 0;
    for (const ParamSpec& p : r.spec->params) {
      if (p.kind != ParamKind::Real && p.kind != ParamKind::Integer) continue;
      if (p.name != "s" && p.name != "m" && p.name != "m1" && p.name != "m2" && p.name != "m3" &&
          p.name != "alpha" && p.name != "gamma" && p.name != "lambda")
        continue;
      if (anneals && (p.name == "gamma" || p.name == "lambda")) continue;
      if (shown++ >= 4) break;
      double v = paramValue(*r.spec, s.params, p.name);
      // a learned scale shows its live value
      if (p.name == t.learnable_scale && paramValue(*r.spec, s.params, t.learn_flag) != 0) {
        const double live = p.name == "s" ? s.loss_state.s : s.loss_state.alpha;
        if (live > 0) v = live;
      }
      out += "   " + p.name + " = " + fmtNum("%.3g", v);
    }
    // The bands are drawn at the live lambda: the caption says so (the lemma rows give both margins).
    if (anneals)
      out += annealedLambda(s, r)
                 ? "   λ = " + fmtNum("%.3g", s.loss_state.lambda) + " (bands: effective margin)"
                 : "   λ = 0 (pure margin)";
  }
  return out;
}

// "train 97.1%   test 80.8%", saying on which points when the snapshot holds a display subset of the splits:
// the metrics JSON reports all of them, and the header must not pass a subset's number off as that one.
std::string accuracyHeader(const Snapshot& s) {
  int64_t n_train = 0, n_test = 0;
  for (size_t i = 0; i < s.labels.size(); ++i) {
    const bool test = i < s.is_test.size() && s.is_test[i];
    // test accuracy counts the trained classes only (held-out classes have no weight to win)
    if (test ? s.labels[i] < s.K : true) ++(test ? n_test : n_train);
  }
  auto count = [](int64_t n) {
    std::string d = std::to_string(n);
    for (int i = int(d.size()) - 3; i > 0; i -= 3) d.insert(size_t(i), ",");
    return d;
  };
  auto part = [&](const char* name, double acc, int64_t drawn, int64_t total) {
    std::string t = std::string(name) + " " + (std::isfinite(acc) ? fmtNum("%.1f%%", 100 * acc) : "-");
    if (std::isfinite(acc) && total > drawn) t += " on the " + count(drawn) + " drawn of " + count(total);
    return t;
  };
  std::string out = part("train", s.train_accuracy, n_train, s.train_points);
  out += "   " + part("test", s.test_accuracy, n_test, s.test_points);
  if (!std::isfinite(s.test_accuracy)) out += " (no test points)";
  return out;
}

// What the arrows are, when a reader could take them for something else.
std::vector<std::string> arrowNotes(const Snapshot& s, const Scene& sc) {
  std::vector<std::string> out;
  const DecisionRule& r = sc.rule;
  if (!sc.view.show_weights || !r.valid() || sc.view.kind == ViewKind::Input) return out;
  if (arrowsAreMeans(r)) {
    out.push_back("μk (dashed): class-mean directions (no class weights); regions: nearest mean");
  } else if (sc.view.weights_true_norm) {
    double wmax = 0;
    for (double w : r.wnorm) wmax = std::max(wmax, w);
    if (wmax > 0) out.push_back("arrows: |W| relative to the largest, " + fmtNum("%.3g", wmax));
  } else if (r.spec->traits.weight_norm) {
    out.push_back("arrows: directions of W only (the loss also uses |W|)");
  }
  // Sub-centres: the loss takes each class's best of its k rows, the regions are drawn from the dominant
  // row only (the one most of the class's points are nearest to); a faint row may reach into another
  // class's region, which the picture does not show.
  if (!s.subcentres.empty())
    out.push_back("faint arrows: sub-centres; regions from each class's dominant sub-centre only");
  return out;
}

bool segmentHitsBox(P2 a, P2 b, const Box& bx, float pad) {
  // Liang-Barsky: clip the segment to the box grown by pad.
  const float x0 = bx.x0 - pad, y0 = bx.y0 - pad, x1 = bx.x1 + pad, y1 = bx.y1 + pad;
  float t0 = 0, t1 = 1;
  const float dx = b.x - a.x, dy = b.y - a.y;
  const float p[4] = {-dx, dx, -dy, dy}, q[4] = {a.x - x0, x1 - a.x, a.y - y0, y1 - a.y};
  for (int i = 0; i < 4; ++i) {
    if (p[i] == 0) {
      if (q[i] < 0) return false;
    } else {
      const float t = q[i] / p[i];
      if (p[i] < 0)
        t0 = std::max(t0, t);
      else
        t1 = std::min(t1, t);
      if (t0 > t1) return false;
    }
  }
  return true;
}

}  // namespace

float footerHeight(const Scene& sc, const Snapshot& s) {
  // The lemma rows only: the notes on the arrows sit above them in the corner, which no view's circle or
  // sphere reaches (as the |W| note always did, so figures without lemma rows keep their layout).
  return sc.view.show_annotations ? float(lemmaRowsShown(s, sc.rule)) * 13 * 1.4f * sc.ui : 0.0f;
}

void addCaption(Scene& sc, const Snapshot& s) {
  const float u = sc.ui, pad = 14 * u, size = 15 * u;
  TextItem title{pad, pad + size, lossCaption(s, sc.rule), size, sc.theme.foreground, 0};
  title.role = "caption";
  TextItem l2{pad,
              pad + size * 2.35f,
              (s.source.empty() ? "step " + std::to_string(s.step) : s.source) +
                  "   d = " + std::to_string(s.dim) + "   " + accuracyHeader(s),
              size * 0.85f,
              sc.theme.muted,
              0};
  l2.role = "caption";
  const Box cap0 = textBox(title), cap1 = textBox(l2);
  sc.texts.push_back(title);
  sc.texts.push_back(l2);
  // Class legend down the right edge: a swatch and the class name (or index); held-out classes marked. It
  // starts under the caption when the two would meet (long captions, narrow images).
  const int KP = paletteSize(s), K = std::min(KP, 40);
  float name_w = 0;
  auto name = [&](int k) {
    std::string n = k < static_cast<int>(s.class_names.size()) ? s.class_names[k] : std::to_string(k);
    if (k >= s.K) n += " (held out)";
    return n;
  };
  for (int k = 0; k < K; ++k) name_w = std::max(name_w, textWidth(name(k), size * 0.85f));
  const float row = size * 1.35f, h = size * 0.7f, x = sc.width - pad - name_w - h - size * 0.35f;
  float y0 = pad + size;
  if (K > 0) {
    const Box legend{x, y0 - h, float(sc.width) - pad, y0 + row * (K - 1) + 0.25f * size};
    if (legend.intersects(cap0) || legend.intersects(cap1)) y0 = cap1.y1 + 0.6f * size + h;
    sc.legend = {x, y0 - h, float(sc.width) - pad, y0 + row * (K - 1) + 0.25f * size};
  }
  for (int k = 0; k < K; ++k) {
    const float y = y0 + row * k;
    Shape sw;
    sw.kind = Shape::Kind::Fill;
    sw.colour = classColour(k, KP);
    sw.role = "legend";
    sw.pts = {{x, y - h}, {x + h, y - h}, {x + h, y}, {x, y}};
    sc.over.push_back(sw);
    TextItem t{x + h + size * 0.35f, y, name(k), size * 0.85f, sc.theme.foreground, 0};
    t.role = "legend";
    sc.texts.push_back(t);
  }
  // Notes on the arrows, bottom left above the lemma rows (the layouts leave room: footerHeight).
  const std::vector<std::string> notes = arrowNotes(s, sc);
  const float lemma_h = footerHeight(sc, s);
  for (size_t i = 0; i < notes.size(); ++i) {
    TextItem t{pad,
               sc.height - pad - lemma_h - 12 * 1.4f * u * float(notes.size() - 1 - i),
               notes[i],
               12 * u,
               sc.theme.muted,
               0};
    t.role = "note";
    sc.texts.push_back(t);
  }
}

void placeLabels(Scene& sc) {
  const float u = sc.ui;
  std::vector<Box> placed;
  struct Seg {
    P2 a, b;
    float pad;
  };
  std::vector<Seg> arrows;
  for (const Shape& sh : sc.over) {
    if (sh.role != "weight" || sh.pts.size() < 2) continue;
    if (sh.kind == Shape::Kind::Stroke) {
      arrows.push_back({sh.pts[0], sh.pts[1], 0.5f * sh.width + 2 * u});
    } else if (sh.kind == Shape::Kind::Fill) {
      for (size_t i = 0; i < sh.pts.size(); ++i)
        arrows.push_back({sh.pts[i], sh.pts[(i + 1) % sh.pts.size()], 2.5f * u});
    }
  }
  std::vector<TextItem> fixed, movable;
  for (TextItem& t : sc.texts) (t.movable ? movable : fixed).push_back(std::move(t));
  for (const TextItem& t : fixed) placed.push_back(textBox(t));
  std::stable_sort(movable.begin(), movable.end(),
                   [](const TextItem& a, const TextItem& b) { return a.priority > b.priority; });
  const float edge = 2 * u;
  auto fits = [&](const Box& b) {
    if (b.x0 < edge || b.y0 < edge || b.x1 > sc.width - edge || b.y1 > sc.height - edge) return false;
    if (sc.legend.x1 > sc.legend.x0 && b.intersects(sc.legend)) return false;
    for (const Box& o : placed)
      if (b.intersects(o)) return false;
    for (const Seg& s : arrows)
      if (segmentHitsBox(s.a, s.b, b, s.pad)) return false;
    return true;
  };
  std::vector<TextItem> kept = std::move(fixed);
  std::vector<Shape> leaders;
  constexpr int kDirs = 16;
  const float rings[] = {0, 0.5f, 1.0f, 1.6f, 2.3f, 3.1f, 4.0f, 5.0f, 6.2f, 7.5f};
  for (TextItem& t : movable) {
    const Box b0 = textBox(t);
    const float cx = 0.5f * (b0.x0 + b0.x1), cy = 0.5f * (b0.y0 + b0.y1);
    const bool has_target = t.tx >= 0 && t.ty >= 0;
    // First direction tried: away from what the label names (outward from an arrow tip or an arc).
    const float a0 = has_target && std::hypot(cx - t.tx, cy - t.ty) > 1e-3f ? std::atan2(cy - t.ty, cx - t.tx)
                                                                            : -0.5f * float(kPi);
    bool done = false;
    for (float ring : rings) {
      const int dirs = ring == 0 ? 1 : kDirs;
      for (int i = 0; i < dirs && !done; ++i) {
        // alternate either side of the first direction: 0, +1, -1, +2, -2, ...
        const int k = (i + 1) / 2 * (i % 2 ? 1 : -1);
        const float a = a0 + float(kTwoPi) * float(k) / kDirs;
        const float dx = ring * t.size * 1.6f * std::cos(a), dy = ring * t.size * std::sin(a);
        const Box b{b0.x0 + dx, b0.y0 + dy, b0.x1 + dx, b0.y1 + dy};
        if (!fits(b)) continue;
        placed.push_back(b);
        t.x += dx;
        t.y += dy;
        if (ring > 0.6f) {  // moved off its spot: a leader line from what it names to the nearest box edge
          const P2 from = has_target ? P2{t.tx, t.ty} : P2{cx, cy};
          const P2 to{std::clamp(from.x, b.x0, b.x1), std::clamp(from.y, b.y0, b.y1)};
          leaders.push_back(line(from, to, 0.8f * u, withAlpha(sc.theme.muted, 0.7f), "leader"));
        }
        kept.push_back(std::move(t));
        done = true;
      }
      if (done) break;
    }
  }
  sc.texts = std::move(kept);
  for (Shape& l : leaders) sc.over.push_back(std::move(l));
}

}  // namespace scene
}  // namespace ms
