// Renderer tests on known scenes, headless (Mesa surfaceless EGL). Pixels are read back and compared with
// what the geometry says: class colours at known points, the boundary of two weights at the expected angle
// within a pixel, the margin wedge over the arc the loss's rule predicts, the sphere shader against the CPU
// rule, export sizes, SVG structure, transparency, GL state restore, and shader errors naming their file.
#include <gtest/gtest.h>

#include <array>

#include <epoxy/gl.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>

#include "render/decision.h"
#include "render/headless.h"
#include "render/palette.h"
#include "render/renderer.h"
#include "render/scene.h"
#include "render/shader.h"
#include "render/text.h"
#include "sim/errors.h"
#include "sim/math.h"
#include "tests/gl_target.h"

namespace ms {
namespace {

double deg(double d) {
  return d * kPi / 180;
}

struct Gl {
  HeadlessContext ctx;
  Renderer renderer;
};

Gl& gl() {
  static Gl* g = new Gl();  // one context for the whole test program
  return *g;
}

// A d = 2 snapshot with weights at the given angles (degrees) and optional points (angle, label).
std::shared_ptr<Snapshot> circleSnapshot(const std::string& loss, std::vector<double> weight_deg,
                                         std::vector<std::pair<double, int>> points = {}) {
  auto s = std::make_shared<Snapshot>();
  s->dim = 2;
  s->K = static_cast<int>(weight_deg.size());
  s->loss = loss;
  for (double a : weight_deg)
    s->weights.insert(s->weights.end(), {2.0 * std::cos(deg(a)), 2.0 * std::sin(deg(a))});
  for (auto [a, label] : points) {
    s->embeddings.insert(s->embeddings.end(), {float(3 * std::cos(deg(a))), float(3 * std::sin(deg(a)))});
    s->labels.push_back(label);
    s->is_test.push_back(0);
  }
  return s;
}

ViewOptions bareView() {
  ViewOptions v;
  v.theme = Theme::Paper;
  v.show_points = v.show_weights = v.show_boundaries = v.show_margins = v.show_legend = false;
  v.show_regions = true;
  return v;
}

struct Image {
  int w = 0, h = 0;
  std::vector<uint8_t> px;
  Rgba at(double x, double y) const {
    const int ix = static_cast<int>(std::floor(x)), iy = static_cast<int>(std::floor(y));
    const uint8_t* p = &px[(static_cast<size_t>(iy) * w + ix) * 4];
    return {p[0] / 255.0f, p[1] / 255.0f, p[2] / 255.0f, p[3] / 255.0f};
  }
};

Image render(const Snapshot& s, const ViewOptions& v, int w, int h, float scale = 1,
             Background bg = Background::Theme) {
  Gl& g = gl();
  g.renderer.setSnapshot(std::make_shared<Snapshot>(s));
  ExportOptions ex;
  ex.width = w;
  ex.height = h;
  ex.scale = scale;
  ex.background = bg;
  Image im;
  im.px = g.renderer.renderImage(v, ex, &im.w, &im.h);
  return im;
}

double dist(const Rgba& a, const Rgba& b) {
  return 255 * std::max({std::fabs(a.r - b.r), std::fabs(a.g - b.g), std::fabs(a.b - b.b)});
}

// Region tint of class k as the circle view paints it on the paper background.
Rgba regionTint(int k, int K) {
  const Rgba c = classColour(k, K);
  const float a = themeColours(Theme::Paper).region_alpha;
  return mix(Rgba{1, 1, 1, 1}, c, a);
}

// Pixel position of world point (x, y) in a 2-D scene.
P2 toPx(const Scene& sc, double x, double y) {
  const float* M = sc.model_to_px;
  return {static_cast<float>(M[0] * x + M[4] * y + M[12]), static_cast<float>(M[1] * x + M[5] * y + M[13])};
}

TEST(Render, PointOfClassKHasClassKColour) {
  auto s = circleSnapshot("normface", {0, 120, 240}, {{30, 0}, {150, 1}, {275, 2}});
  ViewOptions v = bareView();
  v.show_regions = false;
  v.show_points = true;
  v.point_size = 24;
  const int W = 400, H = 400;
  const Image im = render(*s, v, W, H);
  const Scene sc = buildScene(*s, v, W, H, 1, {1, 1, 1, 1});
  for (auto [a, label] : std::vector<std::pair<double, int>>{{30, 0}, {150, 1}, {275, 2}}) {
    const P2 p = toPx(sc, std::cos(deg(a)), std::sin(deg(a)));
    EXPECT_LT(dist(im.at(p.x, p.y), classColour(label, 3)), 3.0)
        << "point at " << a << " deg, class " << label;
    // and not the colour of the other classes
    for (int k = 0; k < 3; ++k) {
      if (k == label) continue;
      EXPECT_GT(dist(im.at(p.x, p.y), classColour(k, 3)), 40.0);
    }
  }
  // Far from every point: background.
  EXPECT_LT(dist(im.at(5, H - 5), {1, 1, 1, 1}), 1.0);
}

// Scans the region tint along a circle of radius r (world) and returns the angle (degrees) where class a's
// tint gives way to class b's, between lo and hi degrees.
double tintTransition(const Image& im, const Scene& sc, double r, double lo, double hi, int a, int b, int K) {
  double last_a = lo;
  for (double t = lo; t <= hi; t += 0.01) {
    const P2 p = toPx(sc, r * std::cos(deg(t)), r * std::sin(deg(t)));
    const Rgba c = im.at(p.x, p.y);
    if (dist(c, regionTint(a, K)) < dist(c, regionTint(b, K))) last_a = t;
  }
  return last_a;
}

TEST(Render, BoundaryOfTwoWeightsIsTheirBisectorWithinAPixel) {
  auto s = circleSnapshot("normface", {10, 100});
  const DecisionRule rule = makeDecisionRule(*s);
  const CircleDecision cd = analyseCircle(rule);
  ASSERT_EQ(cd.boundaries.size(), 2u);
  std::vector<double> b = {cd.boundaries[0].angle, cd.boundaries[1].angle};
  std::sort(b.begin(), b.end());
  EXPECT_NEAR(b[0], deg(55), 1e-9);
  EXPECT_NEAR(b[1], deg(235), 1e-9);
  EXPECT_TRUE(cd.bands.empty()) << "normface has no margin";

  const ViewOptions v = bareView();
  const int W = 600, H = 600;
  const Image im = render(*s, v, W, H);
  const Scene sc = buildScene(*s, v, W, H, 1, {1, 1, 1, 1});
  const double r = 0.7, r_px = r * sc.model_to_px[0];
  const double found = tintTransition(im, sc, r, 30, 80, 0, 1, 2);
  EXPECT_LT(std::fabs(deg(found - 55)) * r_px, 1.0) << "boundary found at " << found << " deg";
}

TEST(Render, ArcFaceMarginWedgeCoversThePredictedArc) {
  // ArcFace: class 0 claims x when cos(t0 + m) > cos(t1); with alpha = 90 deg between the weights the claim
  // edges sit (alpha - m)/2 from each weight: the band is [(90 - m)/2, 90 - (90 - m)/2] degrees.
  auto s = circleSnapshot("arcface", {0, 90});
  s->params.values["s"] = 30;
  s->params.values["m"] = 0.5;
  const double m_deg = 0.5 * 180 / kPi, e0 = (90 - m_deg) / 2, e1 = 90 - e0;
  const CircleDecision cd = analyseCircle(makeDecisionRule(*s));
  ASSERT_FALSE(cd.bands.empty());
  bool found = false;
  for (const CircleArc& a : cd.bands)
    if (std::fabs(a.a0 - deg(e0)) < 1e-9 && std::fabs(a.a1 - deg(e1)) < 1e-9) found = true;
  EXPECT_TRUE(found) << "no band [" << e0 << ", " << e1 << "] deg";

  ViewOptions v = bareView();
  v.show_margins = true;
  const int W = 600, H = 600;
  const Image im = render(*s, v, W, H);
  const Scene sc = buildScene(*s, v, W, H, 1, {1, 1, 1, 1});
  const double r = 0.7, r_px = r * sc.model_to_px[0], slack = (2.0 / r_px) * 180 / kPi;  // 2 pixels of arc
  auto isBand = [&](double t) {
    const P2 p = toPx(sc, r * std::cos(deg(t)), r * std::sin(deg(t)));
    const Rgba c = im.at(p.x, p.y);
    return dist(c, regionTint(0, 2)) > 8 && dist(c, regionTint(1, 2)) > 8;
  };
  int wrong = 0;
  for (double t = e0 + slack; t <= e1 - slack; t += 0.1) wrong += !isBand(t);
  EXPECT_EQ(wrong, 0) << "pixels inside the wedge not painted as band";
  wrong = 0;
  for (double t = e0 - 12; t <= e0 - slack; t += 0.1) wrong += isBand(t);
  for (double t = e1 + slack; t <= e1 + 12; t += 0.1) wrong += isBand(t);
  EXPECT_EQ(wrong, 0) << "pixels outside the wedge painted as band";
}

TEST(Render, SphereFaceLemmaBoundariesAtAlphaOverMPlusOne) {
  // Liu et al. 2017 (SphereFace), lemma: with integer m and lambda = 0, class i's boundary lies alpha/(m+1)
  // from W_i and the margin is alpha (m-1)/(m+1).
  for (int m : {2, 3, 4}) {
    auto s = circleSnapshot("a-softmax", {20, 95});
    s->params.values["m"] = m;
    s->loss_state.lambda = 0;
    const double alpha = 75, edge = alpha / (m + 1);
    const CircleDecision cd = analyseCircle(makeDecisionRule(*s));
    bool found = false;
    for (const CircleArc& a : cd.bands)
      if (std::fabs(a.a0 - deg(20 + edge)) < 1e-7 && std::fabs(a.a1 - deg(95 - edge)) < 1e-7) {
        found = true;
        EXPECT_NEAR((a.a1 - a.a0) * 180 / kPi, alpha * (m - 1) / (m + 1), 1e-6);
      }
    EXPECT_TRUE(found) << "m = " << m;
  }
}

TEST(Render, SphereShaderAgreesWithTheCpuRule) {
  // Four classes in 3-D under three margin losses; every pixel away from a boundary must show the class and
  // the band state that sim/loss.h's rule gives for its point on the sphere.
  const double W3[4][3] = {{1, 0.2, 0.1}, {-0.3, 1, 0.4}, {-0.5, -0.6, 0.7}, {0.1, -0.2, -1}};
  struct Case {
    const char* loss;
    double m, s;
  };
  for (const Case& c : {Case{"arcface", 0.35, 30}, Case{"am-softmax", 0.25, 30}, Case{"a-softmax", 3, 0}}) {
    Snapshot s;
    s.dim = 3;
    s.K = 4;
    s.loss = c.loss;
    s.params.values["m"] = c.m;
    if (c.s > 0) s.params.values["s"] = c.s;
    for (auto& w : W3) s.weights.insert(s.weights.end(), {w[0], w[1], w[2]});
    ViewOptions v = bareView();
    v.kind = ViewKind::Sphere;
    v.show_margins = true;
    v.lighting = false;
    const int W = 320, H = 320;
    const Image im = render(s, v, W, H);
    const Scene sc = buildScene(s, v, W, H, 1, {1, 1, 1, 1});
    const DecisionRule rule = makeDecisionRule(s);
    const ThemeColours th = themeColours(Theme::Paper);
    // The shader's colours for (class, band): tint, and tint pulled towards the band grey (with hatching).
    // Hatch lines are anti-aliased, so a band pixel lies anywhere on the segment b1..b2: distance to it.
    auto shaderClass = [&](const Rgba& px, bool* band) {
      auto d2 = [](const Rgba& a, const Rgba& b) {
        return (a.r - b.r) * (a.r - b.r) + (a.g - b.g) * (a.g - b.g) + (a.b - b.b) * (a.b - b.b);
      };
      double best = 1e9;
      int cls = -1;
      for (int k = 0; k < 4; ++k) {
        const Rgba tint = mix(th.sphere, classColour(k, 4), 0.5f);
        const Rgba b1 = mix(tint, th.band, 0.18f), b2 = mix(b1, th.band, 0.32f);
        const double dt = d2(px, tint);
        if (dt < best) best = dt, cls = k, *band = false;
        const double den = d2(b2, b1);
        double t =
            ((px.r - b1.r) * (b2.r - b1.r) + (px.g - b1.g) * (b2.g - b1.g) + (px.b - b1.b) * (b2.b - b1.b)) /
            std::max(den, 1e-12);
        t = std::clamp(t, 0.0, 1.0);
        const double db = d2(px, mix(b1, b2, static_cast<float>(t)));
        if (db < best) best = db, cls = k, *band = true;
      }
      return cls;
    };
    auto cpuClass = [&](double px, double py, bool* band) {
      double q[2] = {(px - sc.sphere_cx) / sc.sphere_r, -(py - sc.sphere_cy) / sc.sphere_r};
      const double z = std::sqrt(std::max(0.0, 1 - q[0] * q[0] - q[1] * q[1]));
      const float* R = sc.rot;
      double n[3];
      for (int k = 0; k < 3; ++k) n[k] = R[k] * q[0] + R[3 + k] * q[1] + R[6 + k] * z;
      double cs[4];
      for (int j = 0; j < 4; ++j)
        cs[j] = n[0] * rule.dirs[j * 3] + n[1] * rule.dirs[j * 3 + 1] + n[2] * rule.dirs[j * 3 + 2];
      bool claimed = false;
      const int cls = rule.classify(cs, &claimed);
      *band = !claimed;
      return cls;
    };
    int compared = 0, wrong = 0, bands = 0;
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        const double px = x + 0.5, py = y + 0.5;
        const double rr = std::hypot(px - sc.sphere_cx, py - sc.sphere_cy) / sc.sphere_r;
        if (rr > 0.95) continue;
        bool band = false, b2 = false;
        const int cls = cpuClass(px, py, &band);
        bool near = false;  // within 2.5 pixels of a boundary or band edge
        for (double dx : {-2.5, 0.0, 2.5})
          for (double dy : {-2.5, 0.0, 2.5}) near |= cpuClass(px + dx, py + dy, &b2) != cls || b2 != band;
        if (near) continue;
        bool gband = false;
        const int g = shaderClass(im.at(x, y), &gband);
        ++compared;
        bands += band;
        if (g != cls || gband != band) {
          if (wrong < 8) {
            const Rgba q = im.at(x, y);
            std::printf("  %s px (%d,%d) cpu %d%s gpu %d%s rgb %.0f %.0f %.0f\n", c.loss, x, y, cls,
                        band ? "b" : "", g, gband ? "b" : "", q.r * 255, q.g * 255, q.b * 255);
          }
          ++wrong;
        }
      }
    EXPECT_GT(compared, 12000) << c.loss;
    EXPECT_GT(bands, 500) << c.loss << ": the scene should contain margin bands";
    EXPECT_EQ(wrong, 0) << c.loss << ": " << wrong << " of " << compared
                        << " pixels disagree with the CPU rule";
  }
}

// The shader's per-patch class shortlist (render/decision.h) must not change a pixel: the same figures with
// a renderer whose shader loops over every class, for losses whose logits do and do not depend on the
// weight norms, with margins, boundaries, hatching and lighting on.
TEST(Render, SphereShortlistChangesNoPixel) {
  Gl& g = gl();
  setenv("MS_SPHERE_SHORTLIST", "0", 1);
  static Renderer* every_class = new Renderer();  // same context; its shader loops over all K
  unsetenv("MS_SPHERE_SHORTLIST");
  struct Case {
    const char* loss;
    int K;
    double m;
    bool bias;
  };
  int case_no = 0;
  for (const Case& c :
       {Case{"arcface", 10, 0.5, false}, Case{"am-softmax", 40, 0.2, false}, Case{"softmax", 12, 0, true},
        Case{"l-softmax", 8, 2, false}, Case{"a-softmax", 6, 3, false}, Case{"combined", 20, 0.3, false}}) {
    Snapshot s;
    s.dim = 3;
    s.K = c.K;
    s.loss = c.loss;
    if (c.m > 0) s.params.values["m"] = c.m;
    std::mt19937 rng(11 + case_no);
    std::normal_distribution<double> gauss(0, 1);
    for (int j = 0; j < c.K; ++j) {
      const double norm = 0.5 + 0.1 * j;  // unequal norms: softmax and L-Softmax depend on them
      double w[3] = {gauss(rng), gauss(rng), gauss(rng)};
      const double l = std::sqrt(w[0] * w[0] + w[1] * w[1] + w[2] * w[2]);
      for (double x : w) s.weights.push_back(norm * x / l);
      if (c.bias) s.params.vectors["bias"].push_back(0.3 * gauss(rng));
    }
    for (int i = 0; i < 200; ++i) {
      for (int k = 0; k < 3; ++k) s.embeddings.push_back(static_cast<float>(2 * gauss(rng)));
      s.labels.push_back(i % c.K);
      s.is_test.push_back(0);
    }
    const DecisionRule rule = makeDecisionRule(s);
    const SphereShortlist sl = shortlistSphere(rule, tabulateRule(rule, 4096), 4096, 32);
    EXPECT_LT(sl.mean_listed, 0.5 * c.K) << c.loss << ": the shortlist should leave classes out";
    for (float yaw : {0.6f, 2.4f}) {
      ViewOptions v;
      v.kind = ViewKind::Sphere;
      v.theme = case_no % 2 ? Theme::Paper : Theme::Dark;
      v.show_points = v.show_legend = v.show_weights = false;
      v.yaw = yaw;
      ExportOptions ex;
      ex.width = 360;
      ex.height = 300;
      int w = 0, h = 0;
      g.renderer.setSnapshot(std::make_shared<Snapshot>(s));
      const std::vector<uint8_t> a = g.renderer.renderImage(v, ex, &w, &h);
      every_class->setSnapshot(std::make_shared<Snapshot>(s));
      const std::vector<uint8_t> b = every_class->renderImage(v, ex, &w, &h);
      ASSERT_EQ(a.size(), b.size());
      int differ = 0;
      for (size_t i = 0; i < a.size(); i += 4)
        if (std::memcmp(&a[i], &b[i], 4) != 0) {
          if (differ < 5)
            std::printf("  %s yaw %.1f px (%zu,%zu) %d %d %d vs %d %d %d\n", c.loss, yaw, i / 4 % w,
                        i / 4 / w, a[i], a[i + 1], a[i + 2], b[i], b[i + 1], b[i + 2]);
          ++differ;
        }
      EXPECT_EQ(differ, 0) << c.loss << " yaw " << yaw << ": pixels differ with the shortlist";
    }
    ++case_no;
  }
}

int pngSide(const std::string& path, int which) {
  std::ifstream f(path, std::ios::binary);
  unsigned char h[24] = {};
  f.read(reinterpret_cast<char*>(h), 24);
  const int o = which == 0 ? 16 : 20;
  return (h[o] << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
}

TEST(Render, ExportedPngIsScaleTimesViewSize) {
  auto s = circleSnapshot("arcface", {0, 72, 144, 216, 288}, {{10, 0}, {80, 1}});
  Gl& g = gl();
  g.renderer.setSnapshot(s);
  ViewOptions v;
  const std::string path = ::testing::TempDir() + "/ms_export.png";
  for (float scale : {1.0f, 2.0f, 2.5f, 8.0f}) {
    ExportOptions ex;
    ex.width = 160;
    ex.height = 120;
    ex.scale = scale;
    g.renderer.exportPng(v, ex, path);
    EXPECT_EQ(pngSide(path, 0), static_cast<int>(std::lround(160 * scale)));
    EXPECT_EQ(pngSide(path, 1), static_cast<int>(std::lround(120 * scale)));
  }
  ExportOptions bad;
  bad.scale = 9;
  EXPECT_THROW(g.renderer.exportPng(v, bad, path), UserError);
  std::remove(path.c_str());
}

TEST(Render, TiledExportMatchesTheSingleTileImage) {
  // Large exports are rendered in tiles; tile seams must not show. 700 px tiles split a 1500 x 900 image
  // into 3 x 2 tiles; the same image in one tile must agree (up to rasterisation rounding at a few edges).
  auto s = circleSnapshot("arcface", {0, 90, 200}, {{45, 0}, {100, 1}, {210, 2}});
  ViewOptions v;
  v.theme = Theme::Paper;
  v.show_annotations = true;
  Gl& g = gl();
  g.renderer.setExportTileSize(700);
  const Image tiled = render(*s, v, 1500, 900);
  g.renderer.setExportTileSize(4096);
  const Image whole = render(*s, v, 1500, 900);
  ASSERT_EQ(tiled.px.size(), whole.px.size());
  size_t differ = 0;
  for (size_t i = 0; i < tiled.px.size(); ++i) differ += std::abs(int(tiled.px[i]) - int(whole.px[i])) > 8;
  EXPECT_LT(differ, tiled.px.size() / 2000) << differ << " channel values differ";
  g.renderer.setExportTileSize(2048);
}

// Annotation labels must stay readable: with weights a few degrees apart (ten classes crowded on one side)
// no two of them may overlap, while a well-separated scene keeps every angle label (one per neighbouring
// pair).
TEST(Render, AnnotationLabelsNeverOverlap) {
  ViewOptions v;
  v.theme = Theme::Paper;
  v.show_annotations = true;
  auto labelBoxes = [&](const Snapshot& s, int* alpha_labels) {
    const Scene sc = buildScene(s, v, 1200, 900, 1, {1, 1, 1, 1});
    std::vector<std::array<float, 4>> boxes;
    *alpha_labels = 0;
    for (const TextItem& t : sc.texts) {
      if (!t.halo) continue;  // the annotations (captions and legend are placed apart)
      if (t.text.rfind("α ", 0) == 0) ++*alpha_labels;
      const float w = textWidth(t.text, t.size);
      const float x0 = t.x - w * (t.anchor == 1 ? 0.5f : t.anchor == 2 ? 1.0f : 0.0f);
      boxes.push_back({x0, t.y - 0.8f * t.size, x0 + w, t.y + 0.25f * t.size});
    }
    return boxes;
  };
  std::vector<double> crowded;
  for (int k = 0; k < 10; ++k) crowded.push_back(150 + 4.0 * k);
  int alpha = 0;
  const auto boxes = labelBoxes(*circleSnapshot("arcface", crowded), &alpha);
  EXPECT_GT(boxes.size(), 3u) << "the crowded scene lost every label";
  for (size_t i = 0; i < boxes.size(); ++i)
    for (size_t j = i + 1; j < boxes.size(); ++j) {
      const auto &a = boxes[i], &b = boxes[j];
      EXPECT_FALSE(a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3])
          << "labels " << i << " and " << j;
    }
  labelBoxes(*circleSnapshot("cosface", {0, 72, 144, 216, 288}), &alpha);
  EXPECT_EQ(alpha, 5) << "a well-separated scene lost angle labels";
}

TEST(Render, TransparentBackgroundKeepsStraightColours) {
  auto s = circleSnapshot("normface", {0, 180}, {{90, 1}});
  ViewOptions v = bareView();
  v.show_regions = false;
  v.show_points = true;
  v.point_size = 30;
  const Image im = render(*s, v, 300, 300, 1, Background::Transparent);
  EXPECT_EQ(im.at(2, 2).a, 0.0f);
  const Scene sc = buildScene(*s, v, 300, 300, 1, {0, 0, 0, 0});
  const P2 p = toPx(sc, 0, 1);
  const Rgba c = im.at(p.x, p.y);
  EXPECT_GT(c.a, 0.99f);
  EXPECT_LT(dist(c, classColour(1, 2)), 3.0);
  // A partly covered pixel on the disc's rim keeps the rim colour (0.55 x class colour, points.frag) after
  // un-premultiplying; left premultiplied it would be darker by its alpha.
  const float r = 0.5f * v.point_size * sc.ui;
  bool seen = false;
  for (float dx = r - 2; dx <= r + 1; dx += 0.25f) {
    const Rgba e = im.at(p.x + dx, p.y);
    if (e.a < 0.3f || e.a > 0.7f) continue;
    const Rgba c1 = classColour(1, 2);
    EXPECT_LT(dist(e, {c1.r * 0.55f, c1.g * 0.55f, c1.b * 0.55f, e.a}), 12.0) << "alpha " << e.a;
    seen = true;
  }
  EXPECT_TRUE(seen) << "no partly covered rim pixel found";
}

// Minimal XML well-formedness: balanced tags, quoted attributes, known entities, one root.
bool wellFormedXml(const std::string& x, std::string* why) {
  std::vector<std::string> stack;
  size_t i = 0;
  int roots = 0;
  while (i < x.size()) {
    if (x[i] != '<') {
      if (x[i] == '&') {
        const size_t e = x.find(';', i);
        const std::string ent = e == std::string::npos ? "" : x.substr(i, e - i + 1);
        if (ent != "&amp;" && ent != "&lt;" && ent != "&gt;" && ent != "&quot;" && ent != "&apos;")
          return *why = "bad entity at " + std::to_string(i), false;
      }
      ++i;
      continue;
    }
    if (x.compare(i, 2, "<?") == 0) {
      const size_t e = x.find("?>", i);
      if (e == std::string::npos) return *why = "unterminated <?", false;
      i = e + 2;
      continue;
    }
    size_t j = i + 1;
    const bool closing = j < x.size() && x[j] == '/';
    if (closing) ++j;
    size_t k = j;
    while (k < x.size() && (std::isalnum(static_cast<unsigned char>(x[k])) || x[k] == ':' || x[k] == '-'))
      ++k;
    const std::string name = x.substr(j, k - j);
    if (name.empty()) return *why = "empty tag name at " + std::to_string(i), false;
    bool self = false;
    while (k < x.size() && x[k] != '>') {
      if (x[k] == '"') {
        const size_t e = x.find('"', k + 1);
        if (e == std::string::npos) return *why = "unterminated attribute", false;
        if (x.substr(k + 1, e - k - 1).find('<') != std::string::npos) return *why = "< in attribute", false;
        k = e + 1;
        continue;
      }
      if (x[k] == '/' && k + 1 < x.size() && x[k + 1] == '>') self = true;
      ++k;
    }
    if (k >= x.size()) return *why = "unterminated tag " + name, false;
    if (closing) {
      if (stack.empty() || stack.back() != name) return *why = "mismatched </" + name + ">", false;
      stack.pop_back();
    } else if (!self) {
      if (stack.empty()) ++roots;
      stack.push_back(name);
    } else if (stack.empty()) {
      ++roots;
    }
    i = k + 1;
  }
  if (!stack.empty()) return *why = "unclosed <" + stack.back() + ">", false;
  if (roots != 1) return *why = "expected one root element", false;
  return true;
}

TEST(Render, SvgHasOneCirclePerPointAndIsWellFormed) {
  std::vector<std::pair<double, int>> pts;
  for (int i = 0; i < 137; ++i) pts.push_back({i * 2.63, i % 3});
  auto s = circleSnapshot("arcface", {0, 120, 240}, pts);
  for (size_t i = 0; i < s->is_test.size(); i += 4) s->is_test[i] = 1;  // some hollow test points
  s->loss = "arcface";
  ViewOptions v;
  v.theme = Theme::Paper;
  v.show_annotations = true;
  ExportOptions ex;
  const std::string path = ::testing::TempDir() + "/ms_view.svg";
  exportSvg(*s, v, ex, path);
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string svg = ss.str();
  size_t circles = 0;
  for (size_t p = svg.find("<circle"); p != std::string::npos; p = svg.find("<circle", p + 1)) ++circles;
  EXPECT_EQ(circles, 137u);
  std::string why;
  EXPECT_TRUE(wellFormedXml(svg, &why)) << why;
  EXPECT_NE(svg.find("class=\"band\""), std::string::npos) << "arcface margin wedges as paths";
  EXPECT_NE(svg.find("<text"), std::string::npos);
  std::string broken = svg;
  broken.erase(broken.find("</g>"), 4);
  EXPECT_FALSE(wellFormedXml(broken, &why)) << "the checker must be able to fail";
  // Sphere: not a 2-D view.
  Snapshot s3;
  s3.dim = 3;
  EXPECT_THROW(exportSvg(s3, v, ex, path), UserError);
  std::remove(path.c_str());
}

TEST(Render, ShaderCompileErrorNamesFileAndLine) {
  gl();
  const std::string vs = embeddedShader("tri.vert");
  const std::string bad = "#version 330 core\nout vec4 o;\nvoid main() {\n  o = vec4(undefined_thing);\n}\n";
  try {
    compileProgramSource("tri.vert", vs, "broken.frag", bad);
    FAIL() << "a broken shader compiled";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("shaders/broken.frag:4"), std::string::npos) << msg;
  }
  EXPECT_EQ(embeddedShader("no-such.frag"), nullptr);
  EXPECT_THROW(compileProgram("tri.vert", "no-such.frag"), std::runtime_error);
}

TEST(Render, DrawIntoAViewportRestoresGlState) {
  Gl& g = gl();
  auto s = circleSnapshot("normface", {0, 180}, {{90, 1}});
  g.renderer.setSnapshot(s);
  GlTarget target(300, 200);
  glClearColor(1, 0, 0, 1);
  glClear(GL_COLOR_BUFFER_BIT);
  glViewport(3, 4, 50, 60);
  glEnable(GL_SCISSOR_TEST);
  glScissor(0, 0, 300, 200);
  glDisable(GL_BLEND);
  ViewOptions v;
  v.theme = Theme::Dark;
  g.renderer.draw(v, 100, 20, 150, 150, 1.0f);
  GLint vp[4];
  glGetIntegerv(GL_VIEWPORT, vp);
  EXPECT_EQ(vp[0], 3);
  EXPECT_EQ(vp[3], 60);
  EXPECT_TRUE(glIsEnabled(GL_SCISSOR_TEST));
  EXPECT_FALSE(glIsEnabled(GL_BLEND));
  GLint fb = 0;
  glGetIntegerv(GL_DRAW_FRAMEBUFFER_BINDING, &fb);
  EXPECT_EQ(static_cast<GLuint>(fb), target.fbo);
  const std::vector<uint8_t> px = target.read();
  auto at = [&](int x, int y) { return &px[(static_cast<size_t>(y) * 300 + x) * 4]; };
  EXPECT_EQ(at(50, 100)[0], 255) << "outside the view: untouched";
  EXPECT_EQ(at(50, 100)[1], 0);
  const Rgba bg = themeColours(Theme::Dark).background;
  EXPECT_NEAR(at(105, 25)[0], std::lround(bg.r * 255), 1) << "inside the view: the dark theme background";
  EXPECT_NEAR(at(105, 25)[2], std::lround(bg.b * 255), 1);
  glDisable(GL_SCISSOR_TEST);
}

// Live frames keep only the last point per pixel, with a per-pixel table reused across frames. Frame A puts a
// point at 30 deg; frame B puts its point 0 at 150 deg and point 1 at 30 deg. A table entry left over from A
// would make B's point 1 drop B's point 0, so the pixel at 150 deg must show class 1 after frame B.
TEST(Render, LiveFramesDoNotCarryPointsOverFromTheLastFrame) {
  Gl& g = gl();
  const int N = 300;
  GlTarget target(N, N);
  ViewOptions v = bareView();
  v.show_regions = false;
  v.show_points = true;
  v.point_size = 24;
  auto a = circleSnapshot("normface", {0, 120, 240}, {{30, 0}});
  auto b = circleSnapshot("normface", {0, 120, 240}, {{150, 1}, {30, 2}});
  g.renderer.setSnapshot(a);
  g.renderer.draw(v, 0, 0, N, N, 1.0f);
  g.renderer.setSnapshot(b);
  g.renderer.draw(v, 0, 0, N, N, 1.0f);
  const std::vector<uint8_t> px = target.read();
  const Scene sc = buildScene(*b, v, N, N, 1, {1, 1, 1, 1});
  auto colourAt = [&](double angle) {  // GL rows go up, scene pixels go down
    const P2 p = toPx(sc, std::cos(deg(angle)), std::sin(deg(angle)));
    const uint8_t* q =
        &px[(static_cast<size_t>(N - 1 - int(std::floor(p.y))) * N + int(std::floor(p.x))) * 4];
    return Rgba{q[0] / 255.0f, q[1] / 255.0f, q[2] / 255.0f, 1};
  };
  for (auto [angle, label] : std::vector<std::pair<double, int>>{{150, 1}, {30, 2}}) {
    const Rgba c = colourAt(angle);
    EXPECT_LT(dist(c, classColour(label, 3)), 3.0) << "point at " << angle << " deg, class " << label;
    for (int k = 0; k < 3; ++k) {
      if (k == label) continue;
      EXPECT_GT(dist(c, classColour(k, 3)), 40.0) << "at " << angle << " deg";
    }
  }
}

// draw() keeps the last image and only copies it while snapshot, view and size stay the same. The copy must
// be the image itself (also after an export, which renders offscreen in between), and a new snapshot or a
// changed view must be drawn anew.
TEST(Render, CachedRedrawIsTheSameImageAndANewSnapshotReplacesIt) {
  Gl& g = gl();
  const int N = 200;
  GlTarget target(N, N);
  auto frame = [&](const ViewOptions& v) {
    target.bind();
    glClearColor(1, 0, 1, 1);  // magenta: a draw that copies nothing shows it
    glClear(GL_COLOR_BUFFER_BIT);
    g.renderer.draw(v, 0, 0, N, N, 1.0f);
    return target.read();
  };
  ViewOptions v = bareView();
  auto a = circleSnapshot("normface", {0, 120, 240});
  auto b = circleSnapshot("normface", {60, 180, 300});
  g.renderer.setSnapshot(a);
  const std::vector<uint8_t> first = frame(v);
  EXPECT_EQ(frame(v), first) << "a cached redraw differs from the drawn frame";
  ExportOptions ex;  // same size, other theme: it would show if the export drew into the live image
  ex.width = ex.height = N;
  ViewOptions other = v;
  other.theme = Theme::Dark;
  int w = 0, h = 0;
  g.renderer.renderImage(other, ex, &w, &h);
  EXPECT_EQ(frame(v), first) << "an export changed the live image";
  g.renderer.setSnapshot(b);
  const std::vector<uint8_t> second = frame(v);
  EXPECT_NE(second, first) << "a new snapshot was not drawn";
  g.renderer.setSnapshot(a);
  EXPECT_EQ(frame(v), first);
  ViewOptions dark = v;
  dark.theme = Theme::Dark;
  EXPECT_NE(frame(dark), first) << "a changed view was not drawn";
}

TEST(Render, InputViewShowsTheClassMapAndHollowTestPoints) {
  // A 2 x 2 class map over [-1, 1]^2 (row 0 = bottom): classes 0 1 / 2 3 from the bottom-left, full
  // confidence.
  Snapshot s;
  s.dim = 2;
  s.K = 4;
  s.loss = "normface";
  s.grid_w = s.grid_h = 2;
  s.grid_x0 = s.grid_y0 = -1;
  s.grid_x1 = s.grid_y1 = 1;
  s.grid_class = {0, 1, 2, 3};
  s.grid_conf = {1, 1, 1, 1};
  s.inputs = {-0.5f, 0.5f, 0.5f, -0.5f};  // a train point of class 2 (top left), a test point of class 1
  s.labels = {2, 1};
  s.is_test = {0, 1};
  s.embeddings = {1, 0, 0, 1};
  ViewOptions v = bareView();
  v.kind = ViewKind::Input;
  v.show_points = true;
  v.point_size = 24;
  const int W = 400, H = 400;
  const Image im = render(s, v, W, H);
  const Scene sc = buildScene(s, v, W, H, 1, {1, 1, 1, 1});
  const ThemeColours th = themeColours(Theme::Paper);
  auto mapColour = [&](int k) { return mix(th.background, classColour(k, 4), 0.12f + 0.45f); };
  // Quadrant centres away from the points and the cell edges (linear filtering blends within a cell's half).
  const struct {
    double x, y;
    int k;
  } q[] = {{-0.85, -0.85, 0}, {0.85, -0.85, 1}, {-0.85, 0.85, 2}, {0.85, 0.85, 3}};
  for (const auto& c : q) {
    const P2 p = toPx(sc, c.x, c.y);
    EXPECT_LT(dist(im.at(p.x, p.y), mapColour(c.k)), 4.0) << "cell of class " << c.k;
  }
  const P2 train = toPx(sc, -0.5, 0.5), test = toPx(sc, 0.5, -0.5);
  EXPECT_LT(dist(im.at(train.x, train.y), classColour(2, 4)), 3.0) << "train point: filled disc";
  EXPECT_LT(dist(im.at(test.x, test.y), mapColour(1)), 4.0) << "test point: hollow, the map shows through";
  const float r = 0.5f * v.point_size * sc.ui, w = std::max(1.2f, 0.32f * r);
  EXPECT_LT(dist(im.at(test.x + r - 0.5f * w, test.y), classColour(1, 4)), 30.0) << "test point: ring";
}

TEST(Render, PaletteIsDistinctAndColourBlindSafeUpToTen) {
  // Qualitative sets (K <= 10) differ by at least 20 levels in some channel; generated ones by 12.
  for (int K : {2, 5, 7, 10, 24}) {
    double min_d = 1e9;
    for (int a = 0; a < K; ++a)
      for (int b = a + 1; b < K; ++b) min_d = std::min(min_d, dist(classColour(a, K), classColour(b, K)));
    EXPECT_GT(min_d, K <= 10 ? 20.0 : 12.0) << "K = " << K;
  }
  EXPECT_LT(dist(classColour(0, 5), {0, 0x72 / 255.0f, 0xB2 / 255.0f, 1}), 1.0) << "Okabe-Ito blue first";
}

}  // namespace
}  // namespace ms
