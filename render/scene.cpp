// Scene construction for every view. All sizes are "design pixels" times Scene::ui, so a figure exported at
// 4x looks like the on-screen one, only sharper. World (y up) -> pixel (y down) mappings are written out
// where they are built. This file holds the layouts (where each view puts model space) and buildScene; the
// views are drawn in scene_circle.cpp and scene_views.cpp, the text in scene_labels.cpp and
// scene_annotations.cpp.
#include "render/scene.h"

#include <algorithm>
#include <cmath>

#include "render/scene_internal.h"
#include "sim/math.h"

namespace ms {

using namespace scene;  // NOLINT: the scene's own helpers (scene_internal.h)

namespace scene {
// ------------------------------------------------------------------ layouts
// Where each view puts model space in the image: buildScene draws with it, and viewMatrix gives it to the
// app (hover tooltips), so both always agree.
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
  // Room at the bottom for the lemma rows and the notes on the arrows.
  L.lemma_h = footerHeight(sc, s);
  L.m.cx = sc.width * 0.5f;
  L.m.cy = (sc.height - L.lemma_h) * 0.5f + 10 * u;
  L.m.k = static_cast<float>((0.5 * std::min<float>(sc.width, sc.height - L.lemma_h) - 24 * u) / L.extent);
  return L;
}

// The sphere's orthographic orbit camera: centre, radius, rotation and the model -> pixel matrix.
// The arrows reach 1.38 radii (1.5 at true norm): at zoom 1 they stay below the caption (two lines, about
// 55 design pixels) and above the lemma rows, so that no caption or lemma text covers an arrow.
void sphereLayout(Scene& sc, const Snapshot& s) {
  const float u = sc.ui;
  sc.sphere = true;
  sc.depth = true;
  sphereRotation(sc.view.yaw, sc.view.pitch, sc.rot);
  const float top = sc.view.show_legend ? 58 * u : 16 * u, bottom = 16 * u + footerHeight(sc, s);
  const float reach = sc.view.weights_true_norm ? 1.5f : 1.38f;
  sc.sphere_cx = sc.width * 0.5f;
  sc.sphere_cy = 0.5f * (top + sc.height - bottom);
  const float half = std::min(0.5f * sc.width - 16 * u, 0.5f * (sc.height - top - bottom));
  sc.sphere_r = std::max(8.0f, half / reach * sc.view.zoom);
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

}  // namespace scene

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
  // The footer's height (lemma rows) depends on the rule: made as buildScene makes it, so both layouts agree.
  if (view.show_annotations) sc.rule = makeDecisionRule(s, false);
  switch (sc.view.kind) {
    case ViewKind::Circle:
    case ViewKind::Raw:
      if (s.dim == 2)
        set2dMatrix(sc, circleLayout(sc, s, sc.view.kind == ViewKind::Raw).m);
      else if (s.dim == 3)
        sphereLayout(sc, s);
      break;
    case ViewKind::Sphere:
      sphereLayout(sc, s);
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
  placeLabels(sc);
  return sc;
}

}  // namespace ms
