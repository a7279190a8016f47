// Scene construction for every view. All sizes are "design pixels" times Scene::ui, so a figure exported at
// 4x looks like the on-screen one, only sharper. World (y up) -> pixel (y down) mappings are written out
// where they are built.
#include "render/scene.h"

#include "render/text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "sim/math.h"

namespace ms {

namespace {

constexpr double kTwoPi = 2 * kPi;

// Held-out classes (labels >= K, test only) get colours of their own.
int paletteSize(const Snapshot& s) {
  return std::max(s.K, s.K_all);
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// 2-D world (y up) -> image pixels (y down): px = c + k (x, -y).
struct Map2 {
  float cx = 0, cy = 0, k = 1;
  P2 operator()(double x, double y) const {
    return {cx + k * static_cast<float>(x), cy - k * static_cast<float>(y)};
  }
  P2 polar(double r, double a) const { return (*this)(r * std::cos(a), r * std::sin(a)); }
};

// Angular step whose chord strays at most 0.2 pixel from an arc of radius r: fewer, wider triangles
// (llvmpipe rasterises thin slivers in mostly empty 4x4 blocks, so 720 slivers per disc cost 6x the pixels).
double arcStep(const Map2& m, double r) {
  const double r_px = std::max(1.0, std::fabs(r) * m.k);
  return std::clamp(2 * std::acos(std::max(0.0, 1 - 0.2 / r_px)), 0.004, 0.12);
}

Shape sector(const Map2& m, double r0, double r1, double a0, double a1, Rgba c, const char* role) {
  Shape s;
  s.kind = Shape::Kind::Fill;
  s.colour = c;
  s.role = role;
  const int n = std::max(2, static_cast<int>(std::ceil((a1 - a0) / arcStep(m, r1))));
  if (r0 <= 0) {
    s.pts.push_back(m(0, 0));
    for (int i = 0; i <= n; ++i) s.pts.push_back(m.polar(r1, a0 + (a1 - a0) * i / n));
  } else {  // annular sector: not star-shaped about one point, emitted as a fan about its centroid-ish point
    const double am = 0.5 * (a0 + a1);
    s.pts.push_back(m.polar(0.5 * (r0 + r1), am));
    for (int i = 0; i <= n; ++i) s.pts.push_back(m.polar(r1, a0 + (a1 - a0) * i / n));
    for (int i = n; i >= 0; --i) s.pts.push_back(m.polar(r0, a0 + (a1 - a0) * i / n));
    s.pts.push_back(s.pts[1]);
  }
  return s;
}

Shape arcStroke(const Map2& m, double r, double a0, double a1, float width, Rgba c, const char* role) {
  Shape s;
  s.kind = Shape::Kind::Stroke;
  s.colour = c;
  s.width = width;
  s.role = role;
  const int n = std::max(2, static_cast<int>(std::ceil(std::fabs(a1 - a0) / arcStep(m, r))));
  for (int i = 0; i <= n; ++i) s.pts.push_back(m.polar(r, a0 + (a1 - a0) * i / n));
  return s;
}

Shape line(P2 a, P2 b, float width, Rgba c, const char* role, float dash = 0) {
  Shape s;
  s.kind = Shape::Kind::Stroke;
  s.pts = {a, b};
  s.width = width;
  s.colour = c;
  s.role = role;
  s.dash = dash;
  return s;
}

// Arrow from a to b in pixels with a filled head; z0/z1 depth at the ends when depth matters.
void arrow(std::vector<Shape>& out, P2 a, P2 b, float width, Rgba c, float head, const char* role,
           float z0 = 0, float z1 = 0, bool use_z = false) {
  const float dx = b.x - a.x, dy = b.y - a.y;
  const float len = std::sqrt(dx * dx + dy * dy);
  if (len < 1e-3f) return;
  const float ux = dx / len, uy = dy / len;
  head = std::min(head, 0.6f * len);
  const float t = (len - head * 0.85f) / len;
  P2 base{a.x + dx * t, a.y + dy * t};
  Shape shaft = line(a, base, width, c, role);
  Shape tip;
  tip.kind = Shape::Kind::Fill;
  tip.colour = c;
  tip.role = role;
  P2 hb{b.x - ux * head, b.y - uy * head};
  const float hw = head * 0.45f;
  tip.pts = {b, {hb.x - uy * hw, hb.y + ux * hw}, {hb.x + uy * hw, hb.y - ux * hw}};
  if (use_z) {
    const float zb = z0 + (z1 - z0) * t, zh = z0 + (z1 - z0) * (len - head) / len;
    shaft.z = {z0, zb};
    tip.z = {z1, zh, zh};
  }
  out.push_back(std::move(shaft));
  out.push_back(std::move(tip));
}

double angleDiff(double a, double b) {  // b - a wrapped to (-pi, pi]
  double d = std::fmod(b - a, kTwoPi);
  if (d > kPi) d -= kTwoPi;
  if (d <= -kPi) d += kTwoPi;
  return d;
}

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
      out += "   " + p.name + " = " + fmt("%.3g", v);
    }
    if (anneals) out += "   λ = " + fmt("%.3g", s.loss_state.lambda);
  }
  return out;
}

void addCaption(Scene& sc, const Snapshot& s) {
  const float u = sc.ui, pad = 14 * u, size = 15 * u;
  sc.texts.push_back({pad, pad + size, lossCaption(s, sc.rule), size, sc.theme.foreground, 0});
  std::string l2 = "step " + std::to_string(s.step) + "   d = " + std::to_string(s.dim) + "   train " +
                   fmt("%.1f%%", 100 * s.train_accuracy) + "   test " + fmt("%.1f%%", 100 * s.test_accuracy);
  sc.texts.push_back({pad, pad + size * 2.35f, l2, size * 0.85f, sc.theme.muted, 0});
  // Class legend down the right edge: a swatch and the class name (or index); held-out classes marked.
  const int KP = paletteSize(s), K = std::min(KP, 40);
  float name_w = 0;
  auto name = [&](int k) {
    std::string n = k < static_cast<int>(s.class_names.size()) ? s.class_names[k] : std::to_string(k);
    if (k >= s.K) n += " (held out)";
    return n;
  };
  for (int k = 0; k < K; ++k) name_w = std::max(name_w, textWidth(name(k), size * 0.85f));
  const float row = size * 1.35f, h = size * 0.7f, x = sc.width - pad - name_w - h - size * 0.35f;
  for (int k = 0; k < K; ++k) {
    const float y = pad + size + row * k;
    Shape sw;
    sw.kind = Shape::Kind::Fill;
    sw.colour = classColour(k, KP);
    sw.role = "legend";
    sw.pts = {{x, y - h}, {x + h, y - h}, {x + h, y}, {x, y}};
    sc.over.push_back(sw);
    sc.texts.push_back({x + h + size * 0.35f, y, name(k), size * 0.85f, sc.theme.foreground, 0});
  }
}

// The lemma rows mean something only for a loss with a margin; a margin that is not defined reads "-".
size_t lemmaRows(const Snapshot& s, const DecisionRule& r) {
  return r.spec && r.spec->traits.has_margin ? std::min<size_t>(s.metrics.lemma.size(), 4) : 0;
}

void addLemmaBlock(Scene& sc, const Snapshot& s) {
  const float u = sc.ui, pad = 14 * u, size = 13 * u;
  const size_t rows = lemmaRows(s, sc.rule);
  auto deg = [](double v) { return std::isfinite(v) ? fmt("%.1f°", v) : std::string("-"); };
  for (size_t i = 0; i < rows; ++i) {
    const LemmaRow& l = s.metrics.lemma[i];
    std::string t = "W" + std::to_string(l.class_a) + "–W" + std::to_string(l.class_b) +
                    ":  α = " + fmt("%.1f°", l.alpha_deg) + "   margin theory " + deg(l.theory_margin_deg) +
                    "   measured " + deg(l.measured_margin_deg);
    const float y = sc.height - pad - size * 1.4f * (rows - 1 - i);
    sc.texts.push_back({pad, y, t, size, sc.theme.foreground, 0});
  }
}

Rgba pointColour(int label, int K) {
  return classColour(label, K);
}

// Robust extent of a cloud: the 98th percentile of the norms.
double normPercentile(const std::vector<float>& v, int dim, double q) {
  const size_t n = dim > 0 ? v.size() / dim : 0;
  if (n == 0) return 1;
  std::vector<double> norms(n);
  for (size_t i = 0; i < n; ++i) {
    double n2 = 0;
    for (int k = 0; k < dim; ++k) n2 += double(v[i * dim + k]) * v[i * dim + k];
    norms[i] = std::isfinite(n2) ? std::sqrt(n2) : 0;
  }
  const size_t at = std::min(n - 1, static_cast<size_t>(q * (n - 1)));
  std::nth_element(norms.begin(), norms.begin() + at, norms.end());
  return norms[at] > 0 ? norms[at] : 1;
}

// Embedding points: on the unit circle/sphere (or raw, times raw_scale), hollow when they are test points.
PointLayer embeddingLayer(const Snapshot& s, const ViewOptions& v, bool raw, double raw_scale, float radius) {
  PointLayer L;
  L.role = raw ? "raw" : "points";
  L.radius = radius;
  L.alpha = raw ? 0.45f : 1.0f;
  const int d = s.dim;
  const size_t n = d > 0 ? s.embeddings.size() / d : 0;
  // A point's colour is its label's: packed once per label (slot 0 for "no label"), not once per point,
  // which was most of this loop at 100,000 points.
  const int KP = paletteSize(s);
  std::vector<uint32_t> by_label(static_cast<size_t>(KP) + 1);
  for (int k = -1; k < KP; ++k) by_label[k + 1] = packRgba(pointColour(k, KP));
  // Sized for every point and cut to the kept ones at the end: no per-point push_back.
  L.pos.resize(n * 3);
  L.rgba.resize(n);
  L.hollow.resize(n);
  size_t m = 0;  // points kept so far
  for (size_t i = 0; i < n; ++i) {
    const bool test = i < s.is_test.size() && s.is_test[i];
    if (test && !v.show_test) continue;
    double p[3] = {0, 0, 0}, n2 = 0;
    for (int k = 0; k < std::min(d, 3); ++k) p[k] = s.embeddings[i * d + k], n2 += p[k] * p[k];
    const double norm = std::sqrt(n2);
    if (!std::isfinite(norm)) continue;
    const double f = raw ? raw_scale : (norm > 0 ? 1.0 / norm : 0.0);
    for (int k = 0; k < 3; ++k) L.pos[m * 3 + k] = static_cast<float>(p[k] * f);
    const int label = i < s.labels.size() ? s.labels[i] : -1;
    L.rgba[m] = label >= -1 && label < KP ? by_label[label + 1] : packRgba(pointColour(label, KP));
    L.hollow[m] = test ? 1 : 0;
    ++m;
  }
  L.pos.resize(m * 3);
  L.rgba.resize(m);
  L.hollow.resize(m);
  return L;
}

void set2dMatrix(Scene& sc, const Map2& m) {
  std::fill(sc.model_to_px, sc.model_to_px + 16, 0.0f);
  sc.model_to_px[0] = m.k;    // x -> px
  sc.model_to_px[5] = -m.k;   // y -> py (down)
  sc.model_to_px[12] = m.cx;  // translation column
  sc.model_to_px[13] = m.cy;
  sc.model_to_px[15] = 1;
}

// ------------------------------------------------------------------ circle and raw (d = 2)
// True when some direction has a different test winner at half and at twice the representative norm.
bool normDependent(const DecisionRule& r) {
  std::vector<double> c(r.K);
  DecisionRule lo = r, hi = r;
  lo.hnorm = 0.5 * r.hnorm;
  hi.hnorm = 2 * r.hnorm;
  for (int i = 0; i < 360; ++i) {
    const double a = kTwoPi * i / 360, x = std::cos(a), y = std::sin(a);
    for (int j = 0; j < r.K; ++j) c[j] = x * r.dirs[j * 2] + y * r.dirs[j * 2 + 1];
    // The winner, or only the claim: MagFace's and AdaFace's margins grow or shrink with |h|.
    bool claim_lo = true, claim_hi = true;
    if (lo.classify(c.data(), &claim_lo) != hi.classify(c.data(), &claim_hi) || claim_lo != claim_hi)
      return true;
  }
  return false;
}

// Class map of the plane at about one texel per 3 pixels (at most 256 a side): region tint, and the neutral
// band tint where the winner would not claim the point at training time.
// The raw plane per texel; positions are drawn at raw_scale, so a texel at view radius n holds |h| = n /
// raw_scale.
Shape planeMap(const Scene& sc, const Map2& m, const DecisionRule& r, int KP, bool regions, bool margins,
               double raw_scale) {
  Shape img;
  img.kind = Shape::Kind::Image;
  img.role = "class-map";
  img.img_w = std::clamp(sc.width / 3, 16, 256);
  img.img_h = std::clamp(sc.height / 3, 16, 256);
  img.pts = {{0, 0}, {float(sc.width), float(sc.height)}};
  img.rgba.resize(static_cast<size_t>(img.img_w) * img.img_h);
  const Rgba bg = sc.background.a > 0 ? sc.background : sc.theme.background;
  DecisionRule rule = r;
  std::vector<double> c(r.K);
  for (int row = 0; row < img.img_h; ++row)
    for (int col = 0; col < img.img_w; ++col) {
      const double px = (col + 0.5) * sc.width / img.img_w, py = (row + 0.5) * sc.height / img.img_h;
      const double x = (px - m.cx) / m.k, y = -(py - m.cy) / m.k, n = std::hypot(x, y);
      rule.hnorm = n / raw_scale;
      for (int j = 0; j < r.K; ++j) c[j] = n > 0 ? (x * r.dirs[j * 2] + y * r.dirs[j * 2 + 1]) / n : 0.0;
      bool claimed = true;
      const int win = rule.classify(c.data(), &claimed);
      Rgba t = regions ? mix(bg, classColour(win, KP), sc.theme.region_alpha) : bg;
      if (margins && !claimed) t = mix(t, sc.theme.band, 0.22f);
      t.a = 1;
      img.rgba[static_cast<size_t>(row) * img.img_w + col] = packRgba(t);
    }
  return img;
}

// Drops the annotation labels (texts from `first` on) that would overlap a label already placed, earlier ones
// first: with many classes, or weights a few degrees apart, the angle labels otherwise pile up unreadably.
// Their arcs stay; the angles are also in the Metrics panel and the lemma rows.
void declutter(Scene& sc, size_t first) {
  struct Box {
    float x0, y0, x1, y1;
  };
  auto box = [](const TextItem& t) {
    const float w = textWidth(t.text, t.size), x0 = t.x - w * (t.anchor == 1   ? 0.5f
                                                               : t.anchor == 2 ? 1.0f
                                                                               : 0.0f);
    return Box{x0, t.y - 0.8f * t.size, x0 + w, t.y + 0.25f * t.size};
  };
  std::vector<Box> placed;
  for (size_t i = 0; i < first; ++i) placed.push_back(box(sc.texts[i]));  // weight labels, caption
  std::vector<TextItem> kept(sc.texts.begin(), sc.texts.begin() + static_cast<long>(first));
  for (size_t i = first; i < sc.texts.size(); ++i) {
    const Box b = box(sc.texts[i]);
    const bool overlaps = std::any_of(placed.begin(), placed.end(), [&](const Box& o) {
      return b.x0 < o.x1 && o.x0 < b.x1 && b.y0 < o.y1 && o.y0 < b.y1;
    });
    if (overlaps) continue;
    placed.push_back(b);
    kept.push_back(std::move(sc.texts[i]));
  }
  sc.texts = std::move(kept);
}

// ------------------------------------------------------------------ layouts
// Where each view puts model space in the image: buildScene draws with it, and viewMatrix gives it to the
// app (hover tooltips), so both always agree.
struct CircleLayout {
  Map2 m;
  double raw_scale = 1, extent = 1.32;
  float lemma_h = 0;
};

CircleLayout circleLayout(const Scene& sc, const Snapshot& s, bool raw_view) {
  const ViewOptions& v = sc.view;
  const float u = sc.ui;
  CircleLayout L;
  // Raw features are shown at raw_scale so that the cloud's 98th percentile sits inside radius ~1.9 (circle
  // view) or fills the view (raw view); the weights at true norm share that scale.
  if (raw_view || v.show_raw) {
    const double p98 = normPercentile(s.embeddings, s.dim, 0.98);  // a pass over all points: only here
    if (raw_view) {
      L.extent = std::max(1.2, 1.08 * p98);
    } else {
      L.raw_scale = p98 > 1.9 ? 1.9 / p98 : 1.0;
      L.extent = std::max(1.32, 1.08 * p98 * L.raw_scale);
    }
  }
  // Room at the bottom for the lemma rows when annotations are on.
  L.lemma_h = v.show_annotations ? static_cast<float>(lemmaRows(s, sc.rule)) * 13 * 1.4f * u : 0.0f;
  L.m.cx = sc.width * 0.5f;
  L.m.cy = (sc.height - L.lemma_h) * 0.5f + 10 * u;
  L.m.k = static_cast<float>((0.5 * std::min<float>(sc.width, sc.height - L.lemma_h) - 24 * u) / L.extent);
  return L;
}

// The sphere's orthographic orbit camera: centre, radius, rotation and the model -> pixel matrix.
void sphereLayout(Scene& sc) {
  const float u = sc.ui;
  sc.sphere = true;
  sc.depth = true;
  sphereRotation(sc.view.yaw, sc.view.pitch, sc.rot);
  sc.sphere_cx = sc.width * 0.5f;
  sc.sphere_cy = sc.height * 0.5f + 12 * u;
  sc.sphere_r = std::max(8.0f, (0.5f * std::min(sc.width, sc.height) - 40 * u) / 1.38f * sc.view.zoom);
  // Orthographic: px = c + rp (right.p, -up.p); NDC depth = -(toward.p)/4 (the raw cloud stays inside +-4).
  const float* R = sc.rot;
  float* M = sc.model_to_px;
  std::fill(M, M + 16, 0.0f);
  for (int c = 0; c < 3; ++c) {
    M[c * 4 + 0] = sc.sphere_r * R[0 + c];
    M[c * 4 + 1] = -sc.sphere_r * R[3 + c];
    M[c * 4 + 2] = -R[6 + c] / 4;
  }
  M[12] = sc.sphere_cx, M[13] = sc.sphere_cy, M[14] = -0.004f,
  M[15] = 1;  // points just in front of the surface
}

// The input plane: the class map's extent (or the inputs' bounding box), fitted under the caption.
struct InputLayout {
  Map2 m;
  float x0 = -1, x1 = 1, y0 = -1, y1 = 1;
  bool have_grid = false;
};

InputLayout inputLayout(const Scene& sc, const Snapshot& s) {
  const float u = sc.ui;
  InputLayout L;
  L.have_grid =
      s.grid_w > 0 && s.grid_h > 0 && s.grid_class.size() == static_cast<size_t>(s.grid_w) * s.grid_h;
  L.x0 = s.grid_x0, L.x1 = s.grid_x1, L.y0 = s.grid_y0, L.y1 = s.grid_y1;
  if (!L.have_grid || !(L.x1 > L.x0) || !(L.y1 > L.y0)) {
    L.x0 = L.y0 = -1, L.x1 = L.y1 = 1;
    for (size_t i = 0; i + 1 < s.inputs.size(); i += 2) {
      L.x0 = std::min(L.x0, s.inputs[i]), L.x1 = std::max(L.x1, s.inputs[i]);
      L.y0 = std::min(L.y0, s.inputs[i + 1]), L.y1 = std::max(L.y1, s.inputs[i + 1]);
    }
  }
  const float top = 60 * u, pad = 24 * u, right = 60 * u;
  const float avail_w = sc.width - pad - right, avail_h = sc.height - top - pad;
  L.m.k = std::min(avail_w / (L.x1 - L.x0), avail_h / (L.y1 - L.y0));
  L.m.cx = pad + 0.5f * avail_w - L.m.k * 0.5f * (L.x0 + L.x1);
  L.m.cy = top + 0.5f * avail_h + L.m.k * 0.5f * (L.y0 + L.y1);
  return L;
}

void buildCircle(Scene& sc, const Snapshot& s, bool raw_view) {
  const ViewOptions& v = sc.view;
  const ThemeColours& th = sc.theme;
  const float u = sc.ui;
  const DecisionRule& r = sc.rule;
  const bool show_raw = raw_view || v.show_raw;

  const CircleLayout lay = circleLayout(sc, s, raw_view);
  const Map2& m = lay.m;
  const double raw_scale = lay.raw_scale, extent = lay.extent;
  const float lemma_h = lay.lemma_h;
  double wmax = 0;
  for (double w : r.wnorm) wmax = std::max(wmax, w);
  // Annotation radii are fractions of the unit circle, or of the view in the raw view.
  const double ar = raw_view ? 0.75 * extent : 1.0;
  set2dMatrix(sc, m);

  const double r_reg = raw_view ? 2.0 * extent : 1.0;  // regions: the unit disk, or the whole plane
  const double r_line = raw_view ? 2.0 * extent : 1.16;
  CircleDecision cd;
  if (r.valid() && r.dim == 2) cd = analyseCircle(r);

  // The raw view shows the plane, where a rule that depends on |h| (softmax with a bias) is not a set of
  // wedges: if the winner changes with the norm anywhere, the regions are evaluated per texel instead.
  const bool per_texel = raw_view && r.valid() && normDependent(r);
  if (per_texel && (v.show_regions || v.show_margins)) {
    sc.under.push_back(planeMap(sc, m, r, paletteSize(s), v.show_regions, v.show_margins, raw_scale));
    cd.regions.clear();
    cd.bands.clear();
    cd.margin_edges.clear();
    cd.boundaries.clear();  // the map's colour edges are the boundaries
  }
  if (v.show_regions)
    for (const CircleArc& a : cd.regions)
      sc.under.push_back(sector(m, 0, r_reg, a.a0, a.a1,
                                withAlpha(classColour(a.cls, paletteSize(s)), th.region_alpha), "region"));
  if (v.show_margins)
    for (const CircleArc& a : cd.bands) {
      sc.under.push_back(sector(m, 0, r_reg, a.a0, a.a1, withAlpha(th.band, 0.16f), "band"));
      Shape h = sector(m, 0, r_reg, a.a0, a.a1, withAlpha(th.band, v.theme == Theme::Paper ? 0.55f : 0.35f),
                       "band-hatch");
      h.hatch = true;
      sc.under.push_back(h);
    }
  // Unit circle.
  {
    Shape c =
        arcStroke(m, 1.0, 0, kTwoPi, 1.6f * u, withAlpha(th.foreground, raw_view ? 0.45f : 0.85f), "circle");
    c.closed = true;
    c.pts.pop_back();
    sc.under.push_back(c);
  }
  if (v.show_boundaries)
    for (const CircleEdge& e : cd.boundaries)
      sc.under.push_back(line(m(0, 0), m.polar(r_line, e.angle), 1.8f * u, th.foreground, "boundary"));
  if (v.show_margins)
    for (const CircleEdge& e : cd.margin_edges) {
      const int c = e.a >= 0 ? e.a : e.b;
      if (e.a >= 0 && e.b >= 0) continue;  // claim to claim: coincides with a test boundary
      sc.under.push_back(line(m(0, 0), m.polar(r_line, e.angle), 1.6f * u,
                              mix(classColour(c, paletteSize(s)), th.foreground, 0.25f), "margin", 7 * u));
    }

  // Points: raw cloud with faint lines to the projections, then the projections.
  const float pr = 0.5f * v.point_size * u;
  if (v.show_points) {
    if (show_raw) {
      PointLayer raw = embeddingLayer(s, v, true, raw_scale, pr * 0.8f);
      if (!raw_view) {
        Shape seg;
        seg.kind = Shape::Kind::Segments;
        seg.colour = withAlpha(th.muted, 0.22f);
        seg.width = 0.8f * u;
        seg.role = "raw-link";
        for (size_t i = 0; i < raw.hollow.size(); ++i) {
          const double x = raw.pos[i * 3], y = raw.pos[i * 3 + 1], n = std::hypot(x, y);
          if (n <= 0) continue;
          seg.pts.push_back(m(x, y));
          seg.pts.push_back(m(x / n, y / n));
        }
        sc.under.push_back(std::move(seg));
      } else {
        raw.alpha = 1.0f;
        raw.radius = pr;
      }
      sc.layers.push_back(std::move(raw));
    }
    if (!raw_view) sc.layers.push_back(embeddingLayer(s, v, false, 1, pr));
  }

  // Weight arrows: unit length by default (0.8 so the heads do not hide the points on the circle).
  if (v.show_weights && r.valid())
    for (int j = 0; j < r.K; ++j) {
      if (r.wnorm[j] <= 0) continue;
      const double a = weightAngle(r, j);
      // True norm: lengths in proportion to |W_j| (the longest at 0.95 of the circle, or 0.8 of the raw
      // view), since weight and feature norms are on unrelated scales.
      const double len =
          v.weights_true_norm ? (raw_view ? 0.8 * extent : 0.95) * r.wnorm[j] / wmax : 0.8 * ar;
      Rgba c = mix(classColour(j, paletteSize(s)), th.foreground, 0.2f);
      arrow(sc.over, m(0, 0), m.polar(len, a), 3.2f * u, c, 16 * u, "weight");
      const P2 lp = m.polar(len, a);
      const float off = 16 * u;
      sc.texts.push_back({lp.x + off * float(std::cos(a)), lp.y - off * float(std::sin(a)) + 5 * u,
                          "W" + std::to_string(j), 14 * u, c, 1});
    }

  // Sub-centres (sub-center ArcFace): every one faintly, at the dominant arrow's length; the class arrow
  // above is the dominant one.
  const int kd = r.dim == 2 ? 2 : 0;
  if (v.show_weights && r.valid() && kd && !s.subcentres.empty()) {
    const int rows = int(s.subcentres.size() / kd) / std::max(1, r.K);
    for (int q = 0; q < r.K * rows; ++q) {
      const double x = s.subcentres[size_t(q) * 2], y = s.subcentres[size_t(q) * 2 + 1];
      if (x == 0 && y == 0) continue;
      const int j = q / rows;
      arrow(sc.over, m(0, 0), m.polar(0.8 * ar, std::atan2(y, x)), 1.6f * u,
            withAlpha(classColour(j, paletteSize(s)), 0.45f), 10 * u, "subcentre");
    }
  }
  if (v.show_weights && v.weights_true_norm && wmax > 0)
    sc.texts.push_back({14 * u, sc.height - 14 * u - lemma_h,
                        "arrows: |W| relative to the largest, " + fmt("%.3g", wmax), 12 * u, th.muted, 0});
  const size_t first_annotation = sc.texts.size();
  if (v.show_annotations && r.valid() && r.dim == 2) {
    // Angle alpha between angularly neighbouring weights.
    std::vector<std::pair<double, int>> ang;
    for (int j = 0; j < r.K; ++j)
      if (r.wnorm[j] > 0) ang.push_back({weightAngle(r, j), j});
    std::sort(ang.begin(), ang.end());
    const Rgba muted = th.muted;
    for (size_t i = 0; i < ang.size() && ang.size() > 1; ++i) {
      const double a0 = ang[i].first;
      double a1 = ang[(i + 1) % ang.size()].first;
      if (a1 <= a0) a1 += kTwoPi;
      if (a1 - a0 > kPi) continue;  // only the convex angle between neighbours
      sc.over.push_back(arcStroke(m, 0.30 * ar, a0, a1, 1.2f * u, muted, "annotation"));
      const P2 p = m.polar(0.42 * ar, 0.5 * (a0 + a1));
      sc.texts.push_back(
          {p.x, p.y + 5 * u, "α " + fmt("%.1f°", (a1 - a0) * 180 / kPi), 13 * u, th.foreground, 1});
    }
    if (!cd.bands.empty()) {
      // Each claim edge: its angle from its own class's weight; each band: its width.
      for (const CircleEdge& e : cd.margin_edges) {
        const int c = e.a >= 0 ? e.a : e.b;
        if ((e.a >= 0 && e.b >= 0) || r.wnorm[c] <= 0) continue;
        const double wa = weightAngle(r, c), d = angleDiff(wa, e.angle);
        sc.over.push_back(
            arcStroke(m, 0.62 * ar, wa, wa + d, 1.2f * u, classColour(c, paletteSize(s)), "annotation"));
        const P2 p = m.polar(0.72 * ar, wa + 0.5 * d);
        sc.texts.push_back(
            {p.x, p.y + 5 * u, fmt("%.1f°", std::fabs(d) * 180 / kPi), 12 * u, th.foreground, 1});
      }
      for (const CircleArc& b : cd.bands) {
        // A band round the whole circle: K margins do not fit in 360 degrees, no class claims anything.
        const bool everywhere = b.a1 - b.a0 >= kTwoPi - 1e-9;
        const P2 p =
            m.polar(everywhere ? 1.12 * ar : 1.24 * ar, everywhere ? 0.5 * kPi : 0.5 * (b.a0 + b.a1));
        sc.texts.push_back({p.x, p.y + 5 * u,
                            everywhere ? "no class claims any direction: the margins do not fit"
                                       : "margin " + fmt("%.1f°", (b.a1 - b.a0) * 180 / kPi),
                            13 * u, th.foreground, 1});
      }
    } else {
      for (const CircleEdge& e : cd.boundaries) {
        const P2 p = m.polar(1.24 * ar, e.angle);
        sc.texts.push_back({p.x, p.y + 5 * u, fmt("%.1f°", e.angle * 180 / kPi), 12 * u, muted, 1});
      }
    }
    addLemmaBlock(sc, s);
  }
  for (size_t i = first_annotation; i < sc.texts.size(); ++i) sc.texts[i].halo = true;
  declutter(sc, first_annotation);
  if (raw_view)
    sc.texts.push_back({m.polar(1.0, -0.25 * kPi).x + 4 * u, m.polar(1.0, -0.25 * kPi).y + 14 * u, "|h| = 1",
                        12 * u, th.muted, 0});
}

// ------------------------------------------------------------------ input space
void buildInput(Scene& sc, const Snapshot& s) {
  const ViewOptions& v = sc.view;
  const ThemeColours& th = sc.theme;
  const float u = sc.ui;
  const InputLayout lay = inputLayout(sc, s);
  const Map2& m = lay.m;
  const bool have_grid = lay.have_grid;
  const float x0 = lay.x0, x1 = lay.x1, y0 = lay.y0, y1 = lay.y1;
  set2dMatrix(sc, m);
  if (have_grid && v.show_regions) {
    Shape img;
    img.kind = Shape::Kind::Image;
    img.role = "class-map";
    img.pts = {m(x0, y1), m(x1, y0)};
    img.img_w = s.grid_w;
    img.img_h = s.grid_h;
    img.rgba.resize(static_cast<size_t>(s.grid_w) * s.grid_h);
    const float chance = s.K > 0 ? 1.0f / s.K : 0.0f;
    // grid row 0 is y0 (bottom); image rows run top first.
    for (int row = 0; row < s.grid_h; ++row)
      for (int col = 0; col < s.grid_w; ++col) {
        const size_t g = static_cast<size_t>(row) * s.grid_w + col;
        const float conf = g < s.grid_conf.size() ? s.grid_conf[g] : 1.0f;
        const float t = std::clamp((conf - chance) / std::max(1e-6f, 1 - chance), 0.0f, 1.0f);
        Rgba c = mix(sc.background.a > 0 ? sc.background : th.background,
                     classColour(s.grid_class[g], paletteSize(s)),
                     v.theme == Theme::Paper ? 0.12f + 0.45f * t : 0.08f + 0.30f * t);
        c.a = 1;
        img.rgba[static_cast<size_t>(s.grid_h - 1 - row) * s.grid_w + col] = packRgba(c);
      }
    sc.under.push_back(std::move(img));
  } else if (!have_grid) {
    sc.texts.push_back(
        {sc.width * 0.5f, sc.height * 0.5f, "no input-space map (inputs are not 2-D)", 16 * u, th.muted, 1});
  }
  Shape frame;
  frame.kind = Shape::Kind::Stroke;
  frame.closed = true;
  frame.colour = withAlpha(th.foreground, 0.6f);
  frame.width = 1.2f * u;
  frame.role = "frame";
  frame.pts = {m(x0, y0), m(x1, y0), m(x1, y1), m(x0, y1)};
  sc.under.push_back(frame);
  if (v.show_points && s.inputs.size() >= 2) {
    PointLayer L;
    L.role = "points";
    L.radius = 0.5f * v.point_size * u;
    const size_t n = s.inputs.size() / 2;
    for (size_t i = 0; i < n; ++i) {
      const bool test = i < s.is_test.size() && s.is_test[i];
      if (test && !v.show_test) continue;
      L.pos.insert(L.pos.end(), {s.inputs[i * 2], s.inputs[i * 2 + 1], 0.0f});
      L.rgba.push_back(packRgba(pointColour(i < s.labels.size() ? s.labels[i] : -1, paletteSize(s))));
      L.hollow.push_back(test ? 1 : 0);
    }
    sc.layers.push_back(std::move(L));
  }
}

// ------------------------------------------------------------------ sphere (d = 3)
void buildSphere(Scene& sc, const Snapshot& s) {
  const ViewOptions& v = sc.view;
  const ThemeColours& th = sc.theme;
  const float u = sc.ui;
  const DecisionRule& r = sc.rule;
  sphereLayout(sc);
  const float* R = sc.rot;
  const float cx = sc.sphere_cx, cy = sc.sphere_cy, rp = sc.sphere_r;
  auto project = [&](const double p[3], float* z) {
    const double x = R[0] * p[0] + R[1] * p[1] + R[2] * p[2];
    const double y = R[3] * p[0] + R[4] * p[1] + R[5] * p[2];
    const double w = R[6] * p[0] + R[7] * p[1] + R[8] * p[2];
    if (z) *z = static_cast<float>(-w / 4);
    return P2{cx + rp * static_cast<float>(x), cy - rp * static_cast<float>(y)};
  };

  const float pr = 0.5f * v.point_size * u;
  if (v.show_points) {
    if (v.show_raw) {
      const double p98 = normPercentile(s.embeddings, s.dim, 0.98);  // a pass over all points: only here
      const double raw_scale = p98 > 2.2 ? 2.2 / p98 : 1.0;
      PointLayer raw = embeddingLayer(s, v, true, raw_scale, pr * 0.8f);
      Shape seg;
      seg.kind = Shape::Kind::Segments;
      seg.colour = withAlpha(th.muted, 0.25f);
      seg.width = 0.8f * u;
      seg.role = "raw-link";
      for (size_t i = 0; i < raw.hollow.size(); ++i) {
        const double p[3] = {raw.pos[i * 3], raw.pos[i * 3 + 1], raw.pos[i * 3 + 2]};
        const double n = std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
        if (n <= 0) continue;
        const double q[3] = {p[0] / n, p[1] / n, p[2] / n};
        float z0, z1;
        seg.pts.push_back(project(p, &z0));
        seg.pts.push_back(project(q, &z1));
        seg.z.push_back(z0);
        seg.z.push_back(z1);
      }
      sc.over.push_back(std::move(seg));
      sc.layers.push_back(std::move(raw));
    }
    sc.layers.push_back(embeddingLayer(s, v, false, 1, pr));
  }
  if (v.show_weights && r.valid() && r.dim == 3 && !s.subcentres.empty()) {
    const int rows = int(s.subcentres.size() / 3) / std::max(1, r.K);
    for (int q = 0; q < r.K * rows; ++q) {
      const double* w = &s.subcentres[size_t(q) * 3];
      const double n = std::sqrt(w[0] * w[0] + w[1] * w[1] + w[2] * w[2]);
      if (n <= 0) continue;
      const double o[3] = {0, 0, 0}, t[3] = {1.25 * w[0] / n, 1.25 * w[1] / n, 1.25 * w[2] / n};
      float z0, z1;
      const P2 a = project(o, &z0), b = project(t, &z1);
      arrow(sc.over, a, b, 1.6f * u, withAlpha(classColour(q / rows, paletteSize(s)), 0.45f), 10 * u,
            "subcentre", z0, z1, true);
    }
  }
  if (v.show_weights && r.valid() && r.dim == 3)
    for (int j = 0; j < r.K; ++j) {
      if (r.wnorm[j] <= 0) continue;
      double wmax = 0;
      for (double w : r.wnorm) wmax = std::max(wmax, w);
      const double len = v.weights_true_norm ? 1.1 + 0.4 * r.wnorm[j] / wmax : 1.38;
      const double o[3] = {0, 0, 0};
      const double t[3] = {r.dirs[j * 3] * len, r.dirs[j * 3 + 1] * len, r.dirs[j * 3 + 2] * len};
      float z0, z1;
      const P2 a = project(o, &z0), b = project(t, &z1);
      Rgba c = mix(classColour(j, paletteSize(s)), th.foreground, 0.15f);
      arrow(sc.over, a, b, 3.2f * u, c, 15 * u, "weight", z0, z1, true);
      // Label only when the tip is visible: in front, or outside the disc of the sphere.
      const double fx = R[0] * t[0] + R[1] * t[1] + R[2] * t[2], fy = R[3] * t[0] + R[4] * t[1] + R[5] * t[2];
      const double fz = R[6] * t[0] + R[7] * t[1] + R[8] * t[2];
      if (fz > 0 || fx * fx + fy * fy > 1.0) {
        const float dx = b.x - a.x, dy = b.y - a.y, l = std::max(1e-3f, std::hypot(dx, dy));
        sc.texts.push_back(
            {b.x + dx / l * 14 * u, b.y + dy / l * 14 * u + 5 * u, "W" + std::to_string(j), 14 * u, c, 1});
      }
    }
  if (v.show_annotations) addLemmaBlock(sc, s);
}

}  // namespace

void sphereRotation(float yaw, float pitch, float rot[9]) {
  const double cy = std::cos(yaw), sy = std::sin(yaw), cp = std::cos(pitch), sp = std::sin(pitch);
  const double e[3] = {cp * cy, cp * sy, sp};     // toward the viewer
  const double right[3] = {-sy, cy, 0};           // z x e, normalised
  const double up[3] = {-sp * cy, -sp * sy, cp};  // e x right
  for (int k = 0; k < 3; ++k) {
    rot[k] = static_cast<float>(right[k]);
    rot[3 + k] = static_cast<float>(up[k]);
    rot[6 + k] = static_cast<float>(e[k]);
  }
}

ViewKind effectiveView(const Snapshot& s, ViewKind asked) {
  if (asked == ViewKind::Input) return asked;
  if (s.dim == 3) return asked == ViewKind::Raw ? ViewKind::Raw : ViewKind::Sphere;
  if (asked == ViewKind::Sphere) return ViewKind::Circle;
  return asked;
}

Rgba backgroundColour(Theme t, Background b) {
  if (b == Background::White) return {1, 1, 1, 1};
  if (b == Background::Transparent) return {0, 0, 0, 0};
  return themeColours(t).background;
}

namespace {
// A scene's size, view and design-pixel scale: what every layout depends on.
Scene sceneFrame(const Snapshot& s, const ViewOptions& view, int width, int height, float pixel_scale) {
  Scene sc;
  sc.width = width;
  sc.height = height;
  sc.view = view;
  sc.view.kind = effectiveView(s, view.kind);
  if ((sc.view.kind == ViewKind::Circle || sc.view.kind == ViewKind::Raw) && s.dim == 3)
    sc.view.show_raw = true;  // d = 3 has no flat view: the sphere with the raw cloud
  const float logical = std::min(width, height) / std::max(0.01f, pixel_scale);
  sc.ui = pixel_scale * std::clamp(logical / 700.0f, 0.9f, 2.5f);
  return sc;
}
}  // namespace

void viewMatrix(const Snapshot& s, const ViewOptions& view, int width, int height, float pixel_scale,
                float m[16]) {
  Scene sc = sceneFrame(s, view, width, height, pixel_scale);
  switch (sc.view.kind) {
    case ViewKind::Circle:
    case ViewKind::Raw:
      if (s.dim == 2)
        set2dMatrix(sc, circleLayout(sc, s, sc.view.kind == ViewKind::Raw).m);
      else if (s.dim == 3)
        sphereLayout(sc);
      break;
    case ViewKind::Sphere:
      sphereLayout(sc);
      break;
    case ViewKind::Input:
      set2dMatrix(sc, inputLayout(sc, s).m);
      break;
  }
  std::copy(sc.model_to_px, sc.model_to_px + 16, m);
}

Scene buildScene(const Snapshot& s, const ViewOptions& view, int width, int height, float pixel_scale,
                 const Rgba& background, const DecisionRule* rule) {
  Scene sc = sceneFrame(s, view, width, height, pixel_scale);
  sc.background = background;
  sc.theme = themeColours(view.theme);
  sc.rule = rule ? *rule : makeDecisionRule(s);
  sc.palette_K = paletteSize(s);
  switch (sc.view.kind) {
    case ViewKind::Circle:
    case ViewKind::Raw:
      if (s.dim == 2)
        buildCircle(sc, s, sc.view.kind == ViewKind::Raw);
      else if (s.dim == 3)
        buildSphere(sc, s);
      else {
        sc.texts.push_back(
            {width * 0.5f, height * 0.5f,
             "d = " + std::to_string(s.dim) + ": no geometric view (use --dim 2 or 3, or the input view)",
             16 * sc.ui, sc.theme.muted, 1});
      }
      break;
    case ViewKind::Sphere:
      buildSphere(sc, s);
      break;
    case ViewKind::Input:
      buildInput(sc, s);
      break;
  }
  if (view.show_legend) addCaption(sc, s);
  return sc;
}

}  // namespace ms
