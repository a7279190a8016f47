// The circle view (d = 2) and the raw view of the plane: regions, margin bands, boundaries, the unit circle,
// points (with the raw cloud), the class arrows, and the annotations (scene_annotations.cpp).
#include <algorithm>
#include <cmath>

#include "render/scene_internal.h"

namespace ms::scene {

namespace {

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

}  // namespace

void buildCircle(Scene& sc, const Snapshot& s, bool raw_view) {
  const ViewOptions& v = sc.view;
  const ThemeColours& th = sc.theme;
  const float u = sc.ui;
  const DecisionRule& r = sc.rule;
  const bool show_raw = raw_view || v.show_raw;

  const CircleLayout lay = circleLayout(sc, s, raw_view);
  const Map2& m = lay.m;
  const double raw_scale = lay.raw_scale, extent = lay.extent;
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

  // Weight arrows: unit length by default (0.8 so the heads do not hide the points on the circle). A loss
  // without class weights has class-mean directions here: dashed, named mu_k.
  const bool means = arrowsAreMeans(r);
  if (v.show_weights && r.valid())
    for (int j = 0; j < r.K; ++j) {
      if (r.wnorm[j] <= 0) continue;
      const double a = weightAngle(r, j);
      // True norm: lengths in proportion to |W_j| (the longest at 0.95 of the circle, or 0.8 of the raw
      // view), since weight and feature norms are on unrelated scales.
      const double len =
          v.weights_true_norm ? (raw_view ? 0.8 * extent : 0.95) * r.wnorm[j] / wmax : 0.8 * ar;
      Rgba c = mix(classColour(j, paletteSize(s)), th.foreground, 0.2f);
      arrow(sc.over, m(0, 0), m.polar(len, a), 3.2f * u, c, 16 * u, "weight", 0, 0, false, means ? 9 * u : 0);
      const P2 lp = m.polar(len, a);
      const float off = 16 * u;
      TextItem t{lp.x + off * float(std::cos(a)),
                 lp.y - off * float(std::sin(a)) + 5 * u,
                 arrowName(r, j),
                 14 * u,
                 c,
                 1};
      t.movable = true;
      t.priority = 3;
      t.tx = lp.x;
      t.ty = lp.y;
      t.role = "weight";
      sc.texts.push_back(t);
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
  if (v.show_annotations && r.valid() && r.dim == 2) {
    addCircleAnnotations(sc, s, m, cd, ar);
    addLemmaBlock(sc, s);
  }
  if (raw_view) {
    TextItem t{m.polar(1.0, -0.25 * kPi).x + 4 * u,
               m.polar(1.0, -0.25 * kPi).y + 14 * u,
               "|h| = 1",
               12 * u,
               th.muted,
               0};
    t.movable = true;
    t.role = "note";
    sc.texts.push_back(t);
  }
}

}  // namespace ms::scene
