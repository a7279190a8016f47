// Embeddings made elsewhere (see external_run.h): the Snapshot and metrics of a run that did not train here,
// and the `render`/`train` branches that draw and write them. The view checks repeat cmd_render.cpp's so
// that a bad option still costs nothing; the input view is refused (there are no inputs).
#include "app/external_run.h"

#include <filesystem>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>

#include "app/commands.h"
#include "app/json_input.h"
#include "app/metrics_json.h"
#include "render/camera.h"
#include "render/headless.h"
#include "render/image_io.h"
#include "render/renderer.h"
#include "sim/errors.h"
#include "sim/math.h"
#include "sim/metrics.h"

namespace ms {
namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Unit mean direction of each class over the training rows (K,d); a class without rows stays zero.
Mat classMeans(const Mat& H, const std::vector<int>& y, int K) {
  Mat M = Mat::Zero(K, H.cols());
  for (Eigen::Index i = 0; i < H.rows(); ++i) {
    const double n = H.row(i).norm();
    if (n > 0 && y[size_t(i)] < K) M.row(y[size_t(i)]) += H.row(i) / n;
  }
  for (int k = 0; k < K; ++k)
    if (M.row(k).norm() > 0) M.row(k).normalize();
  return M;
}

// Fraction of rows (labels < K) whose argmax class is their label: the loss's test rule over the given
// weights (rule != null), or the largest cosine to the class directions.
double accuracy(const Mat& H, const std::vector<int>& y, const Mat& W, const LossRule* rule) {
  if (H.rows() == 0) return kNaN;
  Vec wn(W.rows());
  for (Eigen::Index k = 0; k < W.rows(); ++k) wn[k] = W.row(k).norm();
  const Mat dots = H * W.transpose();  // (n,K)
  int64_t ok = 0, n = 0;
  for (Eigen::Index i = 0; i < H.rows(); ++i) {
    if (y[size_t(i)] >= W.rows()) continue;  // held-out class: no class to be right about
    const double hn = H.row(i).norm();
    Eigen::Index best = 0;
    double best_z = -std::numeric_limits<double>::infinity();
    for (Eigen::Index k = 0; k < W.rows(); ++k) {
      const double c = hn > 0 && wn[k] > 0 ? dots(i, k) / (hn * wn[k]) : 0.0;
      const double z = rule ? rule->test(int(k), c, hn, wn[k]) : c;
      if (z > best_z) best_z = z, best = k;
    }
    ++n;
    ok += best == y[size_t(i)];
  }
  return n ? double(ok) / double(n) : kNaN;
}

template <class E>
E choice(const std::string& key, const std::string& value, const std::vector<std::pair<const char*, E>>& t) {
  std::string allowed;
  for (const auto& [name, e] : t) {
    if (value == name) return e;
    allowed += (allowed.empty() ? "" : "|") + std::string(name);
  }
  throw UserError(key + " '" + shortText(value) + "' is not allowed: use " + allowed);
}

nlohmann::json sourceJson(const ExternalRun& r) {
  const TrainingOptions& o = r.opts;
  return {{"embeddings", o.embeddings},
          {"labels", o.labels},
          {"weights", o.weights.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.weights)},
          {"split_column", o.split_column},
          {"class_directions", o.weights.empty() ? "class means" : "weights"},
          {"loss", r.config.loss},
          {"params", configToJson(r.config)["params"]}};
}

}  // namespace

ExternalRun runExternal(const TrainingOptions& opts, const Config& config) {
  ExternalRun r;
  r.opts = opts;
  r.config = config;
  r.data = loadExternalData(opts.embeddings, opts.labels, opts.weights, opts.split_column);
  const ExternalData& x = r.data;
  const LossSpec& spec = findLoss(config.loss);
  validateParams(spec, config.params, x.K);  // Vector params (class_weights, bias) have K entries
  const LossState state;                     // lambda = the `lambda` param (no annealing: nothing trains)
  std::unique_ptr<LossRule> rule;
  if (x.weights.rows() > 0) {
    r.directions = x.weights;
    // The rule that classifies: the loss's own; the joint softmax's for the centre family; a metric loss
    // has no rule (largest cosine).
    const LossSpec* ds = spec.traits.joint_softmax ? &findLoss("softmax") : &spec;
    if (ds->traits.has_weights) {
      rule = std::make_unique<LossRule>(*ds, ds == &spec ? config.params : LossParams(), state);
      r.accuracy_rule = "argmax of the " + ds->name + " test logit over the weights";
    } else {
      r.accuracy_rule = "largest cosine to the weights";
    }
  } else {
    r.directions = classMeans(x.train, x.train_labels, x.K);
    r.accuracy_rule = "nearest class mean (cosine)";
  }
  r.train_accuracy = accuracy(x.train, x.train_labels, r.directions, rule.get());
  r.test_accuracy = x.has_test ? accuracy(x.test, x.test_labels, r.directions, rule.get()) : kNaN;

  MetricsInput mi;
  mi.spec = &spec;
  mi.params = &config.params;
  mi.state = &state;
  mi.train = &x.train;
  mi.train_labels = &x.train_labels;
  mi.test = &x.test;
  mi.test_labels = &x.test_labels;
  mi.weights = &r.directions;
  for (int k = x.K; k < x.K_all; ++k) mi.holdout_classes.push_back(k);
  mi.seed = config.seed;

  auto s = std::make_shared<Snapshot>();
  s->metrics = computeMetrics(mi);
  s->dim = x.dim;
  s->K = x.K;
  s->K_all = x.K_all;
  s->loss = spec.name;
  s->params = config.params;
  s->loss_state = state;
  s->input_dim = 0;
  s->metrics_step = 0;
  s->train_accuracy = r.train_accuracy;
  s->test_accuracy = r.test_accuracy;
  s->train_points = x.train.rows();  // every point is drawn: the header's accuracies are over all of them
  for (int y : x.test_labels) s->test_points += y < x.K;
  s->message = "embeddings " + shortText(opts.embeddings, 60);
  s->source = "embeddings " + shortText(fs::path(opts.embeddings).filename().string(), 40);
  s->weights_are_means = x.weights.rows() == 0;
  const Eigen::Index n = x.train.rows() + x.test.rows();
  s->embeddings.reserve(size_t(n * x.dim));
  for (const Mat* H : {&x.train, &x.test})
    for (Eigen::Index i = 0; i < H->rows(); ++i)
      for (int j = 0; j < x.dim; ++j) s->embeddings.push_back(float((*H)(i, j)));
  s->labels = x.train_labels;
  s->labels.insert(s->labels.end(), x.test_labels.begin(), x.test_labels.end());
  s->is_test.assign(size_t(x.train.rows()), 0);
  s->is_test.resize(size_t(n), 1);
  for (int k = 0; k < x.K; ++k)
    for (int j = 0; j < x.dim; ++j) s->weights.push_back(r.directions(k, j));
  r.snapshot = s;
  return r;
}

nlohmann::json externalMetricsJson(const ExternalRun& r) {
  const ExternalData& x = r.data;
  nlohmann::json j;
  j["source"] = sourceJson(r);
  j["train_accuracy"] = r.train_accuracy;
  j["test_accuracy"] = std::isfinite(r.test_accuracy) ? nlohmann::json(r.test_accuracy) : nlohmann::json();
  j["accuracy_rule"] = r.accuracy_rule;
  j["test_split"] = x.has_test;
  if (!x.has_test)
    j["test_note"] =
        "no test split (give --split-column and a train/test column): every point is a training point, "
        "verification uses the training points, test_accuracy is null";
  j["dim"] = x.dim;
  j["classes"] = x.K;
  j["classes_all"] = x.K_all;
  j["train_points"] = x.train.rows();
  j["test_points"] = x.test.rows();
  metricsToJson(r.snapshot->metrics, j);
  j["warnings"] = nlohmann::json::array();
  return j;
}

int trainExternal(const TrainingOptions& opts, const std::string& metrics_path, bool quiet) {
  const Config config = resolveTrainingOptions(opts);
  OutputBatch outputs;
  outputs.expect("--metrics", metrics_path);
  const ExternalRun r = runExternal(opts, config);
  if (!metrics_path.empty()) writeFileAtomic(metrics_path, externalMetricsJson(r).dump(2) + "\n");
  outputs.commit();
  if (!quiet) {
    const std::string test =
        r.data.has_test ? CLI::detail::to_string(r.test_accuracy) : "none (no test split)";
    std::fprintf(stderr, "embeddings: n = %lld, d = %d, K = %d; train accuracy %.4f, test %s\n",
                 (long long)(r.data.train.rows() + r.data.test.rows()), r.data.dim, r.data.K,
                 r.train_accuracy, test.c_str());
  }
  return 0;
}

int renderExternal(const TrainingOptions& opts, const ExternalViewArgs& a) {
  if (a.out.empty()) throw UserError("render: --out FILE.png is required");
  const Config config = resolveTrainingOptions(opts);
  ViewOptions view;
  view.theme = choice<Theme>("--theme", a.theme, {{"paper", Theme::Paper}, {"dark", Theme::Dark}});
  ExportOptions ex;
  ex.background = choice<Background>(
      "--background", a.background,
      {{"theme", Background::Theme}, {"white", Background::White}, {"transparent", Background::Transparent}});
  if (a.width < 16 || a.width > 16384)
    throw UserError("--width " + std::to_string(a.width) + " is out of range 16..16384");
  if (a.height < 16 || a.height > 16384)
    throw UserError("--height " + std::to_string(a.height) + " is out of range 16..16384");
  if (!(a.scale >= 0.25 && a.scale <= 8))
    throw UserError("--scale " + CLI::detail::to_string(a.scale) + " is out of range 0.25..8");
  if (!(a.zoom >= 0.2 && a.zoom <= 5))
    throw UserError("--zoom " + CLI::detail::to_string(a.zoom) + " is out of range 0.2..5");
  if (!(a.point_size > 0 && a.point_size <= 64))
    throw UserError("--point-size " + CLI::detail::to_string(a.point_size) + " is out of range (0, 64]");
  if (!(a.dpi >= 1 && a.dpi <= 10000))
    throw UserError("--dpi " + CLI::detail::to_string(a.dpi) + " is out of range 1..10000");
  double yaw = a.yaw, pitch = a.pitch;
  bool camera_given = a.camera_given;
  if (!a.camera.empty()) {
    double az = 0, el = 0;
    char end = 0;
    if (std::sscanf(a.camera.c_str(), "%lf,%lf%c", &az, &el, &end) != 2 || !std::isfinite(az) ||
        !(el >= -90 && el <= 90))
      throw UserError("--camera '" + shortText(a.camera) +
                      "' is not AZ,EL in degrees (allowed: e.g. --camera 30,20, elevation -90..90)");
    yaw = az * kPi / 180;
    pitch = el * kPi / 180;
    camera_given = true;
  }
  if (!std::isfinite(yaw) || !std::isfinite(pitch)) throw UserError("--yaw/--pitch must be finite numbers");
  checkImageSize("--width/--height/--scale", double(std::lround(a.width * a.scale)),
                 double(std::lround(a.height * a.scale)));
  OutputBatch outputs;
  outputs.expect("--out", a.out);
  outputs.expect("--svg", a.svg);
  outputs.expect("--metrics", a.metrics);

  const ExternalRun r = runExternal(opts, config);  // bad files stop here, before any GL work
  const int d = r.data.dim;
  const std::string view_s = a.view.empty() ? (d == 3 ? "sphere" : "circle") : a.view;
  if (view_s == "input")
    throw UserError("--view input: embeddings made elsewhere have no inputs (allowed: circle|sphere|raw)");
  view.kind = choice<ViewKind>(
      "--view", view_s, {{"circle", ViewKind::Circle}, {"sphere", ViewKind::Sphere}, {"raw", ViewKind::Raw}});
  const std::string emb = "--embeddings '" + shortText(opts.embeddings, 200) + "'";
  if (d != 2 && d != 3)
    throw UserError(
        emb + ": d = " + std::to_string(d) + ", but --view " + view_s +
        " needs d = 2 or 3 (for metrics of any d: marginscope train --embeddings ... --metrics FILE)");
  if (view.kind == ViewKind::Circle && d != 2)
    throw UserError(emb + ": --view circle needs d = 2 (got d = 3): use --view sphere or raw");
  if (view.kind == ViewKind::Sphere && d != 3)
    throw UserError(emb + ": --view sphere needs d = 3 (got d = 2): use --view circle or raw");
  if (!a.svg.empty() && d == 3)
    throw UserError("--svg: SVG export supports the 2-D views (circle, raw at d = 2); " + emb + " has d = 3");
  view.show_annotations = a.annotate;
  view.show_raw = a.raw;
  view.weights_true_norm = a.true_norm;
  view.show_legend = !a.no_legend;
  view.zoom = float(a.zoom);
  view.point_size = float(a.point_size);
  if (!camera_given) {
    const CameraAngles cam = cameraFacingData(*r.snapshot);
    yaw = cam.yaw;
    pitch = cam.pitch;
  }
  view.yaw = float(yaw);
  view.pitch = float(pitch);
  ex.width = a.width;
  ex.height = a.height;
  ex.scale = float(a.scale);
  ex.info.dpi = a.dpi * a.scale;
  ex.info.json = nlohmann::json{{"marginscope_external_figure", 1},
                                {"source", sourceJson(r)},
                                {"render", {{"view", view_s}, {"yaw", yaw}, {"pitch", pitch}}}}
                     .dump(-1, ' ', true);
  std::unique_ptr<HeadlessContext> gl;
  try {
    gl = std::make_unique<HeadlessContext>();
  } catch (const std::exception& e) {
    throw UserError(std::string("render: no headless OpenGL 3.3 context: ") + e.what());
  }
  Renderer renderer;
  renderer.setSnapshot(r.snapshot);
  renderer.exportPng(view, ex, a.out);
  if (!a.svg.empty()) exportSvg(*r.snapshot, view, ex, a.svg);
  if (!a.metrics.empty()) {
    nlohmann::json j = externalMetricsJson(r);
    j["render"] = {{"view", view_s}, {"width", a.width}, {"height", a.height},     {"scale", a.scale},
                   {"png", a.out},   {"svg", a.svg},     {"gl", gl->description()}};
    writeFileAtomic(a.metrics, j.dump(2) + "\n");
  }
  outputs.commit();
  if (!a.quiet)
    std::fprintf(stderr, "render: embeddings n = %lld, d = %d, K = %d; PNG %dx%d\n",
                 (long long)(r.data.train.rows() + r.data.test.rows()), d, r.data.K,
                 int(std::lround(a.width * a.scale)), int(std::lround(a.height * a.scale)));
  return 0;
}

}  // namespace ms
