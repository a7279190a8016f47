// The figures' text tells the truth and stays legible (issue 12, points 2-5). Scenes are built directly (no
// pixels): every text box the scene places must stay inside the image and clear of every other text box, of
// the class arrows and of the legend, at 2..12 classes in every view; no label prints "nan", "inf" or "-0.0"
// for any loss of the catalogue; the lemma rows and band labels name the angularly neighbouring pairs; an
// annealed lambda is labelled as such; class-mean arrows say what they are; and a figure's header agrees
// with the metrics JSON of the same `render` run or says that it counts a subset.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>

#include "render/decision.h"
#include "render/scene.h"
#include "render/text.h"
#include "sim/lemma.h"
#include "sim/loss.h"
#include "sim/math.h"

namespace ms {
namespace {

double rad(double d) {
  return d * kPi / 180;
}

// A snapshot with K weights at the given directions (2-D: angles in degrees; 3-D: spread on the sphere),
// 20 points per class near its weight, 2-D inputs with a class map, and the metrics' lemma rows filled as the
// trainer fills them (all pairs up to 6 classes, else nearest neighbours).
std::shared_ptr<Snapshot> snapshot(const std::string& loss, int dim, const std::vector<double>& angles_deg) {
  auto s = std::make_shared<Snapshot>();
  s->dim = dim;
  s->K = s->K_all = static_cast<int>(angles_deg.size());
  s->loss = loss;
  s->step = 1500;
  s->train_accuracy = 0.9;
  s->test_accuracy = 0.85;
  const int K = s->K;
  for (int k = 0; k < K; ++k) {
    const double a = rad(angles_deg[k]);
    if (dim == 2) {
      s->weights.insert(s->weights.end(), {1.5 * std::cos(a), 1.5 * std::sin(a)});
    } else {
      const double z = std::sin(rad(50.0 * std::sin(2.3 * k)));
      const double r = std::sqrt(1 - z * z);
      s->weights.insert(s->weights.end(), {r * std::cos(a), r * std::sin(a), z});
    }
    for (int i = 0; i < 20; ++i) {
      const double t = a + rad(0.4 * (i - 10));
      for (int j = 0; j < dim; ++j)
        s->embeddings.push_back(float((j == 0 ? std::cos(t) : j == 1 ? std::sin(t) : 0.2) * 3));
      s->labels.push_back(k);
      s->is_test.push_back(i % 4 == 0);
      s->inputs.insert(s->inputs.end(), {float(2 * std::cos(a) + 0.01 * i), float(2 * std::sin(a))});
    }
  }
  s->train_points = 15 * K;
  s->test_points = 5 * K;
  s->grid_w = s->grid_h = 8;
  s->grid_x0 = s->grid_y0 = -3;
  s->grid_x1 = s->grid_y1 = 3;
  s->grid_class.assign(64, 0);
  s->grid_conf.assign(64, 0.9f);
  for (int i = 0; i < 64; ++i) s->grid_class[i] = uint8_t(i % K);
  const LossSpec& spec = findLoss(loss);
  if (spec.traits.anneals_lambda) s->loss_state.lambda = 9.1;
  Mat W(K, dim);
  for (int k = 0; k < K; ++k)
    for (int j = 0; j < dim; ++j) W(k, j) = s->weights[size_t(k) * dim + j];
  for (const auto& [a, b] : lemmaPairs(W, 6))
    s->metrics.lemma.push_back(lemmaRow(spec, s->params, s->loss_state, W, a, b));
  return s;
}

std::vector<double> spread(int K, double from = 10, double step = -1) {
  std::vector<double> a;
  for (int k = 0; k < K; ++k) a.push_back(from + (step > 0 ? step : 360.0 / K) * k);
  return a;
}

// Weights 4 degrees apart in index order but shuffled around the circle in three crowds: the lemma's first
// pairs by index are not neighbours.
std::vector<double> crowded(int K) {
  std::vector<double> a;
  for (int k = 0; k < K; ++k) a.push_back((k % 3) * 120.0 + 25 + 4.0 * (k / 3));
  return a;
}

struct Rect {
  float x0, y0, x1, y1;
  bool meets(const Rect& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
};

Rect box(const TextItem& t) {
  const float w = textWidth(t.text, t.size);
  const float x0 = t.x - w * (t.anchor == 1 ? 0.5f : t.anchor == 2 ? 1.0f : 0.0f);
  return {x0, t.y - 0.8f * t.size, x0 + w, t.y + 0.25f * t.size};
}

bool segmentMeets(P2 a, P2 b, const Rect& r) {  // Liang-Barsky
  float t0 = 0, t1 = 1;
  const float dx = b.x - a.x, dy = b.y - a.y;
  const float p[4] = {-dx, dx, -dy, dy}, q[4] = {a.x - r.x0, r.x1 - a.x, a.y - r.y0, r.y1 - a.y};
  for (int i = 0; i < 4; ++i) {
    if (p[i] == 0) {
      if (q[i] < 0) return false;
      continue;
    }
    const float t = q[i] / p[i];
    if (p[i] < 0)
      t0 = std::max(t0, t);
    else
      t1 = std::min(t1, t);
    if (t0 > t1) return false;
  }
  return true;
}

// Every problem of one scene's text layout, as readable lines (empty: legible).
std::vector<std::string> layoutProblems(const Scene& sc, int K, std::vector<std::string> names = {}) {
  for (int k = 0; k < K && names.size() < size_t(K); ++k) names.push_back(std::to_string(k));
  std::vector<std::string> out;
  // The legend: the swatches down the right edge and the class names beside them, to the image's edge.
  Rect legend{1e9f, 1e9f, -1e9f, -1e9f};
  for (const Shape& sh : sc.over)
    if (sh.role == "legend")
      for (const P2& p : sh.pts)
        legend = {std::min(legend.x0, p.x), std::min(legend.y0, p.y), std::max(legend.x1, float(sc.width)),
                  std::max(legend.y1, p.y)};
  auto isLegendName = [&](const TextItem& t) {
    for (const std::string& n : names)
      if (t.text == n && t.x >= legend.x0) return true;
    return false;
  };
  std::vector<std::pair<P2, P2>> arrows;
  for (const Shape& sh : sc.over) {
    if (sh.role != "weight") continue;
    for (size_t i = 0; i + 1 < sh.pts.size(); ++i) arrows.push_back({sh.pts[i], sh.pts[i + 1]});
    if (sh.kind == Shape::Kind::Fill) arrows.push_back({sh.pts.back(), sh.pts.front()});
  }
  std::vector<Rect> boxes;
  for (const TextItem& t : sc.texts) boxes.push_back(box(t));
  for (size_t i = 0; i < boxes.size(); ++i) {
    const Rect& b = boxes[i];
    const std::string& ti = sc.texts[i].text;
    if (b.x0 < 0 || b.y0 < 0 || b.x1 > sc.width || b.y1 > sc.height) out.push_back("outside: '" + ti + "'");
    for (size_t j = i + 1; j < boxes.size(); ++j)
      if (b.meets(boxes[j])) out.push_back("'" + ti + "' overlaps '" + sc.texts[j].text + "'");
    if (!isLegendName(sc.texts[i]) && b.meets(legend)) out.push_back("'" + ti + "' on the legend");
    for (const auto& [p, q] : arrows)
      if (segmentMeets(p, q, b)) {
        out.push_back("'" + ti + "' covers an arrow");
        break;
      }
  }
  return out;
}

TEST(Annotations, NoLabelOverlapsALabelAnArrowOrTheLegendAt2To12Classes) {
  struct Case {
    const char* loss;
    int dim;
    ViewKind view;
  };
  const Case cases[] = {{"arcface", 2, ViewKind::Circle}, {"a-softmax", 2, ViewKind::Circle},
                        {"softmax", 2, ViewKind::Circle}, {"cosface", 2, ViewKind::Raw},
                        {"arcface", 3, ViewKind::Sphere}, {"arcface", 2, ViewKind::Input},
                        {"triplet", 2, ViewKind::Circle}};
  for (const Case& c : cases)
    for (int K : {2, 4, 6, 10, 12})
      for (bool crowd : {false, true})
        for (auto [w, h] : {std::pair{1200, 900}, std::pair{800, 800}}) {
          auto s = snapshot(c.loss, c.dim, crowd && K > 2 ? crowded(K) : spread(K));
          ViewOptions v;
          v.kind = c.view;
          v.theme = Theme::Paper;
          v.show_annotations = true;
          const Scene sc = buildScene(*s, v, w, h, 1, {1, 1, 1, 1});
          const auto problems = layoutProblems(sc, K);
          EXPECT_TRUE(problems.empty()) << c.loss << " d=" << c.dim << " view " << int(c.view) << " K=" << K
                                        << (crowd ? " crowded " : " spread ") << w << "x" << h << ": "
                                        << problems.size() << " problems, first: " << problems[0];
        }
}

// The two collisions the issue saw: the caption over an arrow of the sphere view (a weight pointing to the
// upper left, towards the caption), and the title over the legend in the input view (long class names, a
// narrow image).
TEST(Annotations, CaptionClearsSphereArrowsAndTheInputLegend) {
  float R[9];
  sphereRotation(0.6f, 0.35f, R);
  auto s = snapshot("arcface", 3, spread(6));
  for (int k = 0; k < 2; ++k) {  // world directions that the camera shows up-left and up
    const double x = k == 0 ? -0.75 : -0.25, y = 0.66, z = std::sqrt(1 - x * x - y * y) * 0.2;
    for (int j = 0; j < 3; ++j) s->weights[size_t(k) * 3 + j] = x * R[j] + y * R[3 + j] + z * R[6 + j];
  }
  for (auto [w, h] : {std::pair{1200, 900}, std::pair{900, 900}, std::pair{800, 600}}) {
    ViewOptions v;
    v.kind = ViewKind::Sphere;
    v.theme = Theme::Paper;
    for (int mode = 0; mode < 4; ++mode) {
      v.show_annotations = mode & 1;
      v.weights_true_norm = mode & 2;  // true-norm arrows reach 1.5 radii
      const auto problems = layoutProblems(buildScene(*s, v, w, h, 1, {1, 1, 1, 1}), 6);
      EXPECT_TRUE(problems.empty()) << "sphere " << w << "x" << h << " mode " << mode << ": " << problems[0];
    }
  }
  auto in = snapshot("arcface", 2, spread(10));
  in->class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                     "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  in->params.values["s"] = 30;
  for (auto [w, h] : {std::pair{640, 480}, std::pair{520, 420}, std::pair{440, 380}, std::pair{360, 340}}) {
    ViewOptions v;
    v.kind = ViewKind::Input;
    v.theme = Theme::Paper;
    const auto problems = layoutProblems(buildScene(*in, v, w, h, 1, {1, 1, 1, 1}), 10, in->class_names);
    EXPECT_TRUE(problems.empty()) << "input " << w << "x" << h
                                  << ": the title meets the legend: " << problems[0];
  }
}

// A well-spread scene keeps its labels: placement may move them, not lose them.
TEST(Annotations, SpreadWeightsKeepEveryWeightAndAngleLabel) {
  ViewOptions v;
  v.theme = Theme::Paper;
  v.show_annotations = true;
  for (int K : {4, 6, 10}) {
    const Scene sc = buildScene(*snapshot("cosface", 2, spread(K)), v, 1200, 900, 1, {1, 1, 1, 1});
    int alpha = 0, weights = 0;
    for (const TextItem& t : sc.texts) {
      alpha += t.text.rfind("α ", 0) == 0;
      weights += std::regex_match(t.text, std::regex("W[0-9]+"));
    }
    EXPECT_EQ(alpha, K) << K;
    EXPECT_EQ(weights, K) << K;
  }
}

TEST(Annotations, NoNanInfOrNegativeZeroInAnyLossesText) {
  const std::regex bad("nan|inf|-0\\.0*(?![0-9]*[1-9])|-0°|-0%", std::regex::icase);
  for (const LossSpec& spec : lossCatalogue())
    for (int dim : {2, 3})
      for (const std::vector<double>& angles : {spread(4), crowded(10), spread(2, 0, 180)}) {
        auto s = snapshot(spec.name, dim, angles);
        s->test_accuracy = std::nan("");  // a free model has no test split
        s->train_accuracy = -0.0;
        for (ViewKind view : {ViewKind::Circle, ViewKind::Raw, ViewKind::Sphere, ViewKind::Input}) {
          ViewOptions v;
          v.kind = view;
          v.show_annotations = true;
          for (bool true_norm : {false, true}) {
            v.weights_true_norm = true_norm;
            const Scene sc = buildScene(*s, v, 1000, 800, 1, {1, 1, 1, 1});
            for (const TextItem& t : sc.texts)
              EXPECT_FALSE(std::regex_search(t.text, bad))
                  << spec.name << " d=" << dim << ": '" << t.text << "'";
          }
        }
      }
}

// Every lemma row and every band label names two angularly neighbouring weights, and a margin printed is in
// [0, 180] degrees.
TEST(Annotations, LemmaRowsAndBandLabelsNameNeighbouringPairs) {
  ViewOptions v;
  v.theme = Theme::Paper;
  v.show_annotations = true;
  for (const char* loss : {"arcface", "a-softmax", "cosface"})
    for (int K : {4, 10}) {
      const std::vector<double> angles = K == 4 ? std::vector<double>{0, 200, 90, 290} : crowded(K);
      auto s = snapshot(loss, 2, angles);
      s->loss_state.lambda = 0;
      const Scene sc = buildScene(*s, v, 1200, 900, 1, {1, 1, 1, 1});
      // neighbours by angle
      std::vector<std::pair<double, int>> order;
      for (int k = 0; k < K; ++k) order.push_back({std::fmod(angles[k] + 360, 360), k});
      std::sort(order.begin(), order.end());
      auto neighbours = [&](int a, int b) {
        for (size_t i = 0; i < order.size(); ++i) {
          const int x = order[i].second, y = order[(i + 1) % order.size()].second;
          if ((x == a && y == b) || (x == b && y == a)) return true;
        }
        return false;
      };
      int rows = 0;
      const std::regex pair("W([0-9]+)–W([0-9]+)"), margin("margin ([-0-9.]+)°");
      for (const TextItem& t : sc.texts) {
        std::smatch m;
        if (std::regex_search(t.text, m, pair)) {
          ++rows;
          const int a = std::stoi(m[1]), b = std::stoi(m[2]);
          EXPECT_TRUE(neighbours(a, b)) << loss << " K=" << K << ": '" << t.text << "' names no neighbours";
        }
        if (std::regex_search(t.text, m, margin)) {
          const double d = std::stod(m[1]);
          EXPECT_TRUE(d >= 0 && d <= 180) << loss << " K=" << K << ": '" << t.text << "'";
        }
      }
      EXPECT_GE(rows, 3) << loss << " K=" << K << ": no lemma rows";
    }
}

// With lambda > 0 (annealed A-Softmax) the bands, the caption and the lemma rows show the same effective
// margin, labelled as such, beside the pure one.
TEST(Annotations, AnnealedLambdaIsLabelledTheSameEverywhere) {
  ViewOptions v;
  v.theme = Theme::Paper;
  v.show_annotations = true;
  auto s = snapshot("a-softmax", 2, spread(4));
  s->loss_state.lambda = 2.5;
  const Scene sc = buildScene(*s, v, 1200, 900, 1, {1, 1, 1, 1});
  std::vector<double> band, effective;
  bool caption = false;
  const std::regex band_re("margin ([0-9.]+)° \\(effective, λ = 2.5\\)"),
      lemma_re("pure margin \\(λ = 0\\).*effective at λ = 2.5: ([0-9.]+)°");
  for (const TextItem& t : sc.texts) {
    std::smatch m;
    if (std::regex_search(t.text, m, band_re)) band.push_back(std::stod(m[1]));
    if (std::regex_search(t.text, m, lemma_re)) effective.push_back(std::stod(m[1]));
    caption |= t.text.rfind("a-softmax", 0) == 0 && t.text.find("λ = 2.5") != std::string::npos &&
               t.text.find("effective") != std::string::npos;
  }
  EXPECT_TRUE(caption) << "the caption does not say the bands are at lambda 2.5";
  ASSERT_EQ(band.size(), 4u) << "band labels not marked effective at lambda";
  ASSERT_FALSE(effective.empty()) << "lemma rows without the effective margin";
  for (double e : effective) EXPECT_NEAR(e, band[0], 0.11) << "the band and the lemma row disagree";
}

// Losses without class weights draw class means: dashed arrows named mu_k, the nearest-mean rule in the
// legend; a loss that uses |W| marks unit arrows as directions only.
TEST(Annotations, ClassMeanArrowsAndDirectionOnlyArrowsSayWhatTheyAre) {
  ViewOptions v;
  v.theme = Theme::Paper;
  for (const LossSpec& spec : lossCatalogue()) {
    const Scene sc = buildScene(*snapshot(spec.name, 2, spread(4)), v, 1000, 800, 1, {1, 1, 1, 1});
    int mu = 0, w = 0, dashed = 0;
    bool nearest_mean = false, directions = false;
    for (const TextItem& t : sc.texts) {
      mu += std::regex_match(t.text, std::regex("μ[0-9]+"));
      w += std::regex_match(t.text, std::regex("W[0-9]+"));
      nearest_mean |= t.text.find("nearest mean") != std::string::npos;
      directions |= t.text.find("directions of W only") != std::string::npos;
    }
    for (const Shape& sh : sc.over)
      dashed += sh.role == "weight" && sh.kind == Shape::Kind::Stroke && sh.dash > 0;
    if (!spec.traits.has_weights) {
      EXPECT_EQ(mu, 4) << spec.name;
      EXPECT_EQ(w, 0) << spec.name;
      EXPECT_EQ(dashed, 4) << spec.name;
      EXPECT_TRUE(nearest_mean) << spec.name;
    } else {
      EXPECT_EQ(w, 4) << spec.name;
      EXPECT_EQ(dashed, 0) << spec.name;
      EXPECT_EQ(directions, spec.traits.weight_norm) << spec.name;
    }
  }
  // Sub-centres: the regions come from each class's dominant row, and the figure says so.
  auto s = snapshot("subcenter-arcface", 2, spread(4));
  for (size_t k = 0; k < s->weights.size(); k += 2)
    for (double turn : {0.0, 0.3, -0.3})
      s->subcentres.insert(s->subcentres.end(),
                           {s->weights[k] * std::cos(turn) - s->weights[k + 1] * std::sin(turn),
                            s->weights[k] * std::sin(turn) + s->weights[k + 1] * std::cos(turn)});
  bool said = false;
  for (const TextItem& t : buildScene(*s, v, 1000, 800, 1, {1, 1, 1, 1}).texts)
    said |= t.text.find("dominant sub-centre only") != std::string::npos;
  EXPECT_TRUE(said);
}

// The header of a `render` figure against the metrics JSON of the same run: the same test accuracy, or the
// header says it counts the drawn subset (and then how many of how many).
std::string run(const std::string& cmd) {
  const int rc = std::system((cmd + " 2>/dev/null").c_str());
  EXPECT_EQ(rc, 0) << cmd;
  return {};
}

std::string headerOf(const std::string& svg_path) {
  std::ifstream f(svg_path);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string svg = ss.str();
  std::smatch m;
  const std::regex text_re(">(step [^<]*)</text>");
  return std::regex_search(svg, m, text_re) ? std::string(m[1]) : std::string();
}

TEST(Annotations, RenderHeaderAgreesWithTheMetricsJson) {
  const std::string dir = ::testing::TempDir();
  for (int display : {0, 300}) {
    const std::string cfg = dir + "/ms_header_cfg.json", svg = dir + "/ms_header.svg",
                      png = dir + "/ms_header.png", metrics = dir + "/ms_header.json";
    {
      std::ofstream c(cfg);
      c << R"({"dataset": "blobs", "classes": 5, "samples": 300, "dim": 2, "loss": "arcface", "steps": 150,
               "seed": 3, "display_points": )"
        << display << "}\n";
    }
    run(std::string(MS_BINARY) + " render --config " + cfg + " --out " + png + " --svg " + svg +
        " --metrics " + metrics + " --width 600 --height 500");
    std::ifstream mf(metrics);
    ASSERT_TRUE(mf.good());
    const nlohmann::json j = nlohmann::json::parse(mf);
    const double json_test = j.at("test_accuracy").get<double>();
    const std::string header = headerOf(svg);
    std::smatch m;
    ASSERT_TRUE(std::regex_search(header, m, std::regex("test ([0-9.]+)%"))) << header;
    const double shown = std::stod(m[1]) / 100;
    const bool subset = header.find("drawn of") != std::string::npos;
    if (display == 0) {
      EXPECT_FALSE(subset) << header;
      EXPECT_NEAR(shown, json_test, 0.0005) << header;
    } else if (std::fabs(shown - json_test) > 0.0005) {
      EXPECT_TRUE(subset) << "the header '" << header << "' passes a subset's accuracy off as the run's "
                          << json_test;
    }
    if (display > 0) {
      EXPECT_TRUE(subset) << header;
    }
  }
}

}  // namespace
}  // namespace ms
