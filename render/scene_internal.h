// Pieces shared by the scene's files: world -> pixel maps, shape builders (scene_shapes.cpp), the caption,
// legend and label placement (scene_labels.cpp) and the margin annotations (scene_annotations.cpp). Only
// render/scene*.cpp include this; everything else sees render/scene.h.
#pragma once
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "render/scene.h"
#include "sim/math.h"

namespace ms::scene {

constexpr double kTwoPi = 2 * kPi;

// Held-out classes (labels >= K, test only) get colours of their own.
inline int paletteSize(const Snapshot& s) {
  return s.K > s.K_all ? s.K : s.K_all;
}

// printf into a string; a value that is not finite, or rounds to -0 at that precision, never reaches the
// page: fmtNum gives "-" for the first and drops the sign of the second.
std::string fmt(const char* f, double v);
std::string fmtNum(const char* f, double v);

// 2-D world (y up) -> image pixels (y down): px = c + k (x, -y).
struct Map2 {
  float cx = 0, cy = 0, k = 1;
  P2 operator()(double x, double y) const {
    return {cx + k * static_cast<float>(x), cy - k * static_cast<float>(y)};
  }
  P2 polar(double r, double a) const { return (*this)(r * std::cos(a), r * std::sin(a)); }
};

Shape sector(const Map2& m, double r0, double r1, double a0, double a1, Rgba c, const char* role);
Shape arcStroke(const Map2& m, double r, double a0, double a1, float width, Rgba c, const char* role);
Shape line(P2 a, P2 b, float width, Rgba c, const char* role, float dash = 0);
// Arrow from a to b in pixels with a filled head; z0/z1 depth at the ends when depth matters; a dashed shaft
// (dash > 0) marks an arrow that is not a learned weight (a class-mean direction).
void arrow(std::vector<Shape>& out, P2 a, P2 b, float width, Rgba c, float head, const char* role,
           float z0 = 0, float z1 = 0, bool use_z = false, float dash = 0);
double angleDiff(double a, double b);  // b - a wrapped to (-pi, pi]

// What the class arrows are, from the loss's traits: learned weights "W3", or class means "μ3" for a loss
// without class weights (contrastive, triplet, ...), whose regions are the nearest-mean rule.
bool arrowsAreMeans(const DecisionRule& r);
std::string arrowName(const DecisionRule& r, int j);
// A lemma row as the scene prints it (under the circle and the sphere).
struct LemmaLine {
  int a = 0, b = 0;
  LemmaRow row;
};
// The neighbouring weight pairs (2-D: angularly adjacent with a convex angle; 3-D: each class with its
// nearest other weight), with their lemma rows, the smallest alpha first (where the margin matters most).
std::vector<LemmaLine> neighbourLemma(const Snapshot& s, const DecisionRule& r);
// How many of those rows the scene shows under the figure (the rest are in the metrics JSON).
size_t lemmaRowsShown(const Snapshot& s, const DecisionRule& r);
// True when the bands and the effective margins are at an annealed lambda > 0 (L-/A-Softmax).
bool annealedLambda(const Snapshot& s, const DecisionRule& r);

// Caption (loss, parameters, step, accuracies) top left and the class legend down the right edge.
void addCaption(Scene& sc, const Snapshot& s);
// Room the footer takes at the bottom: lemma rows and the notes on the arrows.
float footerHeight(const Scene& sc, const Snapshot& s);
// The lemma rows at the bottom left; rows already counted by the layout (lemmaRowsShown).
void addLemmaBlock(Scene& sc, const Snapshot& s);
// Moves movable labels off fixed text, the legend, the arrows, each other and the image edge (leader lines
// where a label moved), or drops them.
void placeLabels(Scene& sc);

// ------------------------------------------------------------------ layouts and views
// Where each view puts model space in the image: buildScene draws with it, and viewMatrix gives it to the
// app (hover tooltips), so both always agree (scene.cpp).
struct CircleLayout {
  Map2 m;
  double raw_scale = 1, extent = 1.32;
  float lemma_h = 0;  // footer: lemma rows
};
CircleLayout circleLayout(const Scene& sc, const Snapshot& s, bool raw_view);
void sphereLayout(Scene& sc, const Snapshot& s);
// The input plane: the class map's extent (or the inputs' bounding box), fitted under the caption.
struct InputLayout {
  Map2 m;
  float x0 = -1, x1 = 1, y0 = -1, y1 = 1;
  bool have_grid = false;
};
InputLayout inputLayout(const Scene& sc, const Snapshot& s);
void set2dMatrix(Scene& sc, const Map2& m);

// Points (scene_views.cpp): on the unit circle/sphere (or raw, times raw_scale), hollow when test points.
Rgba pointColour(int label, int K);
double normPercentile(const std::vector<float>& v, int dim, double q);
PointLayer embeddingLayer(const Snapshot& s, const ViewOptions& v, bool raw, double raw_scale, float radius);
void buildCircle(Scene& sc, const Snapshot& s, bool raw_view);  // scene_circle.cpp
void buildInput(Scene& sc, const Snapshot& s);                  // scene_views.cpp
void buildSphere(Scene& sc, const Snapshot& s);                 // scene_views.cpp

// The circle view's angle, margin and boundary labels (scene_annotations.cpp).
void addCircleAnnotations(Scene& sc, const Snapshot& s, const Map2& m, const CircleDecision& cd, double ar);

}  // namespace ms::scene
