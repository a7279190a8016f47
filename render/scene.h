// A view as resolution-independent drawing primitives in image pixels (y down): the GL renderer triangulates
// them and the SVG writer prints them, so PNG and SVG show the same figure. Points are kept as layers of
// model-space positions with one model->pixel matrix, so the GPU transforms 100,000 of them, not the CPU.
#pragma once
#include <string>
#include <vector>

#include "render/decision.h"
#include "render/palette.h"
#include "render/renderer.h"
#include "sim/snapshot.h"

namespace ms {

struct P2 {
  float x = 0, y = 0;
};

struct Shape {
  enum class Kind { Fill, Stroke, Segments, Image };
  Kind kind = Kind::Fill;
  std::vector<P2> pts;   // Fill: polygon star-shaped about pts[0]; Stroke: polyline; Segments: pairs
  std::vector<float> z;  // optional per-point NDC depth (sphere overlay); empty: 0
  Rgba colour;           //
  float width = 1;       // Stroke/Segments: pixels
  bool closed = false;   // Stroke
  float dash = 0;        // Stroke: dash length in pixels (0: solid), gaps as long
  bool hatch = false;    // Fill: diagonal hatching instead of a flat fill
  std::string role;      // SVG class: region, band, boundary, margin, weight, circle, ...
  // Image: straight RGBA (img_h, img_w) row-major, top row first, stretched over pts[0]..pts[1]
  int img_w = 0, img_h = 0;
  std::vector<uint32_t> rgba;
};

struct TextItem {
  float x = 0, y = 0;  // baseline anchor point, pixels
  std::string text;    // UTF-8
  float size = 14;     // pixel height
  Rgba colour;
  int anchor = 0;     // 0 start, 1 middle, 2 end
  bool halo = false;  // outlined in the background colour, to stay legible over lines and regions
  // Label placement (scene_labels.cpp): a movable label may be shifted (with a leader line to (tx, ty)) or
  // dropped when it would overlap a label, an arrow or the legend; fixed text (caption, legend, lemma rows)
  // stays where the layout put it and is an obstacle for the rest.
  bool movable = false;
  int priority = 0;        // movable labels are placed highest priority first
  float tx = -1, ty = -1;  // what the label names (leader line end); < 0: its own position
  std::string role = {};   // caption, legend, lemma, weight, alpha, margin, boundary, note
  std::string note = {};   // why no value is shown: the SVG's <title> (a tooltip)
};

// An axis-aligned box in image pixels (y down).
struct Box {
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  bool intersects(const Box& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
};
// The box a text item covers: its advance width, from 0.8 size above the baseline to 0.25 size below.
Box textBox(const TextItem& t);

struct PointLayer {
  std::vector<float> pos;       // (n,3) model coordinates
  std::vector<uint32_t> rgba;   // (n) packRgba
  std::vector<uint8_t> hollow;  // (n) 1: ring (test points)
  float radius = 3;             // pixels
  float alpha = 1;
  std::string role;  // "points" or "raw"
};

struct Scene {
  int width = 0, height = 0;
  float ui = 1;  // pixels per "design pixel": line widths and text scale with it
  Rgba background;
  bool depth = false;          // sphere: depth-test points and overlay against the sphere
  float model_to_px[16] = {};  // column-major mat4: (x,y,z,1) -> (px, py, ndc z, 1)
  std::vector<Shape> under, over;
  std::vector<TextItem> texts;
  std::vector<PointLayer> layers;
  Box legend;  // the class legend's swatches and names (empty when there is no legend)
  // Sphere view only
  bool sphere = false;
  float sphere_cx = 0, sphere_cy = 0, sphere_r = 1;
  float rot[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};  // world -> camera, row-major (rows: right, up, toward viewer)
  DecisionRule rule;
  int palette_K = 0;  // colours are classColour(k, palette_K): trained plus held-out classes
  ThemeColours theme;
  ViewOptions view;
};

// Builds the view. width/height are output pixels, pixel_scale the export scale (line widths, text, points).
// rule: makeDecisionRule(s) when the caller has it already (it depends on the snapshot only, and a pass over
// every point finds the median norm); null: made here.
Scene buildScene(const Snapshot& s, const ViewOptions& view, int width, int height, float pixel_scale,
                 const Rgba& background, const DecisionRule* rule = nullptr);
// The model -> image-pixel matrix of that view (Scene::model_to_px) without building its geometry: the app
// places hover tooltips with it, so that they sit on the drawn points whatever the layout does.
void viewMatrix(const Snapshot& s, const ViewOptions& view, int width, int height, float pixel_scale,
                float m[16]);
// The view to use when the options ask for one the snapshot cannot show (sphere for d = 2 and so on).
ViewKind effectiveView(const Snapshot& s, ViewKind asked);
// Background colour for an export option (transparent: alpha 0).
Rgba backgroundColour(Theme t, Background b);
// Camera of the sphere view: rows right, up, toward viewer (world z is up).
void sphereRotation(float yaw, float pitch, float rot[9]);

}  // namespace ms
