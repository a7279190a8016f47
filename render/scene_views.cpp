// The points every view shares (embeddings on the circle or sphere, or raw), the input-space view and the
// sphere view (d = 3).
#include <algorithm>
#include <cmath>

#include "render/scene_internal.h"

namespace ms::scene {

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
  sphereLayout(sc, s);
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
      arrow(sc.over, a, b, 3.2f * u, c, 15 * u, "weight", z0, z1, true, arrowsAreMeans(r) ? 9 * u : 0);
      // Label only when the tip is visible: in front, or outside the disc of the sphere.
      const double fx = R[0] * t[0] + R[1] * t[1] + R[2] * t[2], fy = R[3] * t[0] + R[4] * t[1] + R[5] * t[2];
      const double fz = R[6] * t[0] + R[7] * t[1] + R[8] * t[2];
      if (fz > 0 || fx * fx + fy * fy > 1.0) {
        const float dx = b.x - a.x, dy = b.y - a.y, l = std::max(1e-3f, std::hypot(dx, dy));
        TextItem lab{b.x + dx / l * 14 * u, b.y + dy / l * 14 * u + 5 * u, arrowName(r, j), 14 * u, c, 1};
        lab.movable = true;
        lab.priority = 3;
        lab.tx = b.x;
        lab.ty = b.y;
        lab.role = "weight";
        sc.texts.push_back(lab);
      }
    }
  if (v.show_annotations && r.valid()) addLemmaBlock(sc, s);
}

}  // namespace ms::scene
