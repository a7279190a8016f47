// `marginscope render`: trains exactly as `train` does (the shared training options), then draws one view
// offscreen through headless EGL and writes a PNG (--out), optionally an SVG of the 2-D views (--svg) and the
// metrics JSON (--metrics). Every option, output path and the image's size are checked before training, so
// a mistake costs no training time; the files are written together at the end (render/image_io.h
// OutputBatch): all of them, each atomically, or none.

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <memory>
#include <thread>
#include <type_traits>

#include "app/commands.h"
#include "app/config_io.h"
#include "app/external_run.h"
#include "app/json_input.h"
#include "app/metrics_json.h"
#include "render/camera.h"
#include "render/headless.h"
#include "render/image_io.h"
#include "render/renderer.h"
#include "sim/errors.h"
#include "sim/math.h"
#include "sim/network_simd.h"
#include "sim/trainer.h"

namespace ms {

namespace {

using Clock = std::chrono::steady_clock;

template <class E>
E parseChoice(const std::string& key, const std::string& value,
              const std::vector<std::pair<const char*, E>>& table) {
  std::string allowed;
  for (const auto& [name, e] : table) {
    if (value == name) return e;
    allowed += (allowed.empty() ? "" : "|") + std::string(name);
  }
  throw UserError(key + " '" + value + "' is not allowed: use " + allowed);
}

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// A stand-in with the shape of the real result (dimension, classes, loss, a few points, an input grid), so
// that rendering it once compiles every shader variant llvmpipe will need and allocates the export buffers.
SnapshotPtr warmUpSnapshot(const Config& c) {
  auto s = std::make_shared<Snapshot>();
  s->dim = c.dim;
  s->K = std::max(2, c.classes);
  s->loss = c.loss;
  s->params = c.params;
  for (int k = 0; k < s->K; ++k)
    for (int j = 0; j < c.dim; ++j) s->weights.push_back(j == k % c.dim ? 1.0 : 0.1 * (k + 1));
  for (int i = 0; i < 8; ++i) {
    for (int j = 0; j < c.dim; ++j) s->embeddings.push_back(float(std::cos(i + j)));
    s->labels.push_back(i % s->K);
    s->is_test.push_back(i % 2);
    s->inputs.insert(s->inputs.end(), {float(i), float(-i)});
  }
  s->grid_w = s->grid_h = 4;
  s->grid_x0 = s->grid_y0 = -1;
  s->grid_x1 = s->grid_y1 = 1;
  s->grid_class.assign(16, 0);
  s->grid_conf.assign(16, 1.0f);
  return s;
}

// The view options a figure was drawn with, and how each reads back from its JSON (FigureInfo): `render
// --config FIG.png` redraws FIG.png, each flag given on the command line winning over the figure's value.
struct RenderSettings {
  std::string view, theme = "paper", background = "theme";
  int width = 1600, height = 1200;
  double scale = 1, dpi = 300, yaw = 0.6, pitch = 0.35, zoom = 1, point_size = 6;
  bool annotate = false, raw = false, no_legend = false, true_norm = false;
  bool camera_from_figure = false;  // not saved: the figure's yaw and pitch were taken

  nlohmann::json toJson() const {
    return {{"view", view},
            {"theme", theme},
            {"background", background},
            {"width", width},
            {"height", height},
            {"scale", scale},
            {"dpi", dpi},
            {"yaw", yaw},
            {"pitch", pitch},
            {"zoom", zoom},
            {"point_size", point_size},
            {"annotate", annotate},
            {"raw", raw},
            {"no_legend", no_legend},
            {"true_norm", true_norm}};
  }
  // Takes the figure's value of every option the command line did not give.
  void fromFigure(const nlohmann::json& r, const CLI::App& app, const std::string& path) {
    auto take = [&](const char* key, const char* flag, auto& v) {
      if (!r.contains(key) || app.count(flag) > 0) return;
      using T = std::decay_t<decltype(v)>;
      const nlohmann::json& x = r[key];
      const bool ok = std::is_same_v<T, bool>          ? x.is_boolean()
                      : std::is_same_v<T, std::string> ? x.is_string()
                      : std::is_same_v<T, int>         ? x.is_number_integer()
                                                       : x.is_number();
      if (!ok)
        throw UserError("config '" + shortText(path, 200) + "': render." + key + " = " + shortJson(x) +
                        " has the wrong type (the figure's " + flag + ")");
      v = x.get<T>();
    };
    take("view", "--view", view);
    take("theme", "--theme", theme);
    take("background", "--background", background);
    take("width", "--width", width);
    take("height", "--height", height);
    take("scale", "--scale", scale);
    take("dpi", "--dpi", dpi);
    if (app.count("--camera") == 0 && r.contains("yaw") && r.contains("pitch")) {
      take("yaw", "--yaw", yaw);
      take("pitch", "--pitch", pitch);
      camera_from_figure = true;
    }
    take("zoom", "--zoom", zoom);
    take("point_size", "--point-size", point_size);
    take("annotate", "--annotate", annotate);
    take("raw", "--raw", raw);
    take("no_legend", "--no-legend", no_legend);
    take("true_norm", "--true-norm", true_norm);
  }
};

}  // namespace

int cmdRender(int argc, char** argv) {
  CLI::App app{
      "marginscope render: train as `train` does, then render the view offscreen (no display needed)",
      "marginscope render"};
  TrainingOptions opts;
  addTrainingOptions(app, opts);
  std::string out, svg, metrics_path;
  RenderSettings rs;
  std::string &view_s = rs.view, &theme_s = rs.theme, &bg_s = rs.background;
  int &width = rs.width, &height = rs.height;
  double &scale = rs.scale, &yaw = rs.yaw, &pitch = rs.pitch, &zoom = rs.zoom, &point_size = rs.point_size;
  bool &annotate = rs.annotate, &raw = rs.raw, &no_legend = rs.no_legend, &true_norm = rs.true_norm;
  bool quiet = false;
  app.add_option("--out", out, "PNG file to write (required)");
  app.add_option("--svg", svg, "also write an SVG of the view (2-D views only)");
  app.add_option("--metrics", metrics_path, "write the metrics JSON here");
  app.add_option("--view", view_s,
                 "circle|sphere|raw|input (default: circle for --dim 2, sphere for --dim 3)");
  app.add_option("--width", width, "view width in pixels (default 1600)");
  app.add_option("--height", height, "view height in pixels (default 1200)");
  app.add_option("--scale", scale, "output scale 0.25..8: the PNG is scale x width by scale x height");
  app.add_option("--dpi", rs.dpi, "resolution the PNG declares (pHYs), 1..10000 (default 300)");
  app.add_option("--theme", theme_s, "paper|dark (default paper)");
  app.add_option("--background", bg_s, "theme|white|transparent (default theme)");
  app.add_flag("--annotate", annotate, "angles between weights, boundary angles, theory vs measured margin");
  app.add_flag("--raw", raw, "also draw the raw (unnormalised) features with a line to their projection");
  app.add_flag("--true-norm", true_norm, "weight arrows at their real norm (softmax, L-Softmax)");
  app.add_flag("--no-legend", no_legend, "no caption and class legend");
  std::string camera;
  app.add_option("--camera", camera,
                 "sphere camera AZ,EL in degrees (default: facing the data, the most classes in front)");
  app.add_option("--yaw", yaw, "sphere camera yaw, radians (default: facing the data)");
  app.add_option("--pitch", pitch, "sphere camera pitch, radians (default: facing the data)");
  app.add_option("--zoom", zoom, "sphere camera zoom 0.2..5 (default 1)");
  app.add_option("--point-size", point_size, "point diameter in pixels at scale 1 (default 6)");
  app.add_flag("--quiet", quiet, "no timing line on stderr");
  if (const int code = parseCommandLine(app, argc, argv, "render"); code >= 0) return code;
  if (!opts.embeddings.empty()) {  // embeddings made elsewhere: draw them, no training (app/external_run.h)
    ExternalViewArgs a{out, svg, metrics_path, view_s, theme_s, bg_s, camera};
    a.width = width, a.height = height, a.scale = scale, a.dpi = rs.dpi, a.yaw = yaw, a.pitch = pitch;
    a.zoom = zoom, a.point_size = point_size, a.annotate = annotate, a.raw = raw, a.true_norm = true_norm;
    a.no_legend = no_legend, a.quiet = quiet, a.camera_given = app.count("--yaw") + app.count("--pitch") > 0;
    return renderExternal(opts, a);
  }
  const auto t0 = Clock::now();
  if (out.empty()) throw UserError("render: --out FILE.png is required");
  const Config config = resolveTrainingOptions(opts);
  if (!opts.config_file.empty()) {  // a figure also carries its view options
    const nlohmann::json j = readJsonFile("config", opts.config_file);
    if (j.contains(kFigureSettings) && j.contains("render") && j["render"].is_object())
      rs.fromFigure(j["render"], app, opts.config_file);
  }
  // The camera: --camera in degrees, or --yaw/--pitch in radians, or a figure's, or facing the data.
  bool camera_given = app.count("--yaw") + app.count("--pitch") > 0 || rs.camera_from_figure;
  if (!camera.empty()) {
    double az = 0, el = 0;
    char end = 0;
    if (std::sscanf(camera.c_str(), "%lf,%lf%c", &az, &el, &end) != 2 || !std::isfinite(az) ||
        !(el >= -90 && el <= 90))
      throw UserError("--camera '" + shortText(camera) +
                      "' is not AZ,EL in degrees (allowed: e.g. --camera 30,20, elevation -90..90)");
    yaw = az * kPi / 180;
    pitch = el * kPi / 180;
    camera_given = true;
  }
  if (!(rs.dpi >= 1 && rs.dpi <= 10000))
    throw UserError("--dpi " + CLI::detail::to_string(rs.dpi) + " is out of range 1..10000");
  ViewOptions view;
  view.theme = parseChoice<Theme>("--theme", theme_s, {{"paper", Theme::Paper}, {"dark", Theme::Dark}});
  ExportOptions ex;
  ex.background = parseChoice<Background>(
      "--background", bg_s,
      {{"theme", Background::Theme}, {"white", Background::White}, {"transparent", Background::Transparent}});
  if (view_s.empty()) view_s = config.dim == 3 ? "sphere" : "circle";
  view.kind = parseChoice<ViewKind>("--view", view_s,
                                    {{"circle", ViewKind::Circle},
                                     {"sphere", ViewKind::Sphere},
                                     {"raw", ViewKind::Raw},
                                     {"input", ViewKind::Input}});
  // The embedding views draw d = 2 (circle, raw) or d = 3 (sphere, raw); the input view draws any d.
  if (view.kind != ViewKind::Input && config.dim != 2 && config.dim != 3)
    throw UserError("--dim " + std::to_string(config.dim) + ": --view " + view_s +
                    " needs d = 2 or 3 (allowed: --dim 2 for circle, --dim 3 for sphere, or --view input for "
                    "any d)");
  if (view.kind == ViewKind::Circle && config.dim != 2)
    throw UserError("--view circle needs --dim 2 (got --dim " + std::to_string(config.dim) +
                    "): use --view sphere or input, or --dim 2");
  if (view.kind == ViewKind::Sphere && config.dim != 3)
    throw UserError("--view sphere needs --dim 3 (got --dim " + std::to_string(config.dim) +
                    "): use --view circle or input, or --dim 3");
  if (view.kind == ViewKind::Input && config.input_dim != 2 && config.dataset != "spirals" &&
      config.dataset != "rings" && config.dataset != "moons" && config.dataset != "xor" &&
      config.dataset != "blobs")
    throw UserError("--view input needs 2-D inputs (toy datasets), not --dataset " + config.dataset);
  if (view.kind == ViewKind::Input && config.dataset == "blobs" && config.input_dim != 2)
    throw UserError("--view input needs 2-D inputs: --input-dim is " + std::to_string(config.input_dim));
  if (!svg.empty() && (view.kind == ViewKind::Sphere || config.dim == 3) && view.kind != ViewKind::Input)
    throw UserError(
        "--svg: SVG export supports the 2-D views (circle, raw at --dim 2, input); this view is 3-D");
  if (width < 16 || width > 16384)
    throw UserError("--width " + std::to_string(width) + " is out of range 16..16384");
  if (height < 16 || height > 16384)
    throw UserError("--height " + std::to_string(height) + " is out of range 16..16384");
  if (!(scale >= 0.25 && scale <= 8))
    throw UserError("--scale " + CLI::detail::to_string(scale) + " is out of range 0.25..8");
  if (!(zoom >= 0.2 && zoom <= 5))
    throw UserError("--zoom " + CLI::detail::to_string(zoom) + " is out of range 0.2..5");
  if (!(point_size > 0 && point_size <= 64))
    throw UserError("--point-size " + CLI::detail::to_string(point_size) + " is out of range (0, 64]");
  if (!std::isfinite(yaw) || !std::isfinite(pitch)) throw UserError("--yaw/--pitch must be finite numbers");
  // The whole image is held in memory, filtered and deflated: its size is checked before any work.
  checkImageSize("--width/--height/--scale", double(std::lround(width * scale)),
                 double(std::lround(height * scale)));
  OutputBatch outputs;  // every file of this run appears at the end, or none does
  outputs.expect("--out", out);
  outputs.expect("--svg", svg);
  outputs.expect("--metrics", metrics_path);
  outputs.expect("--save-config", opts.save_config);
  if (opts.portable) usePortableArithmetic();  // before the warm-up thread starts
  view.show_annotations = annotate;
  view.show_raw = raw;
  view.weights_true_norm = true_norm;
  view.show_legend = !no_legend;
  view.yaw = static_cast<float>(yaw);
  view.pitch = static_cast<float>(pitch);
  view.zoom = static_cast<float>(zoom);
  view.point_size = static_cast<float>(point_size);
  ex.width = width;
  ex.height = height;
  ex.scale = static_cast<float>(scale);
  ex.info.dpi = rs.dpi * scale;  // the physical size stays the same at any --scale
  ex.info.json =
      nlohmann::json{{kFigureSettings, 1}, {"config", configToJson(config)}, {"render", rs.toJson()}}.dump(
          -1, ' ', true);

  // The GL context is created and the renderer warmed up (shader compilation and llvmpipe's code
  // generation, export buffers) on a second thread while this one trains; the context then moves here for
  // the real render. A machine without EGL still fails at once: training stops at the first step after the
  // second thread reports the failure.
  std::unique_ptr<HeadlessContext> gl;
  std::unique_ptr<Renderer> renderer;
  std::exception_ptr warm_error;
  std::atomic<bool> warm_failed{false};
  std::thread warm([&] {
    try {
      try {
        gl = std::make_unique<HeadlessContext>();
      } catch (const std::exception& e) {  // the machine's setup, not a bug: one line, exit 2
        throw UserError(std::string("render: no headless OpenGL 3.3 context: ") + e.what());
      }
      renderer = std::make_unique<Renderer>();
      renderer->setSnapshot(warmUpSnapshot(config));
      renderer->warmUp(view, ex);
      gl->release();
    } catch (...) {
      warm_error = std::current_exception();
      warm_failed = true;
    }
  });
  struct Joiner {
    std::thread& t;
    ~Joiner() {
      if (t.joinable()) t.join();
    }
  } joiner{warm};

  Trainer trainer(config);
  const auto t_train = Clock::now();
  for (int64_t i = 0; i < config.steps && !warm_failed; ++i)
    if (!trainer.step()) break;
  const double train_s = seconds(t_train, Clock::now());
  const auto t_wait = Clock::now();
  warm.join();
  const double wait_s = seconds(t_wait, Clock::now());
  if (warm_error) std::rethrow_exception(warm_error);
  trainer.setStepsPerSecond(train_s > 0 ? double(trainer.stepCount()) / train_s : 0.0);
  const SnapshotPtr snap = trainer.snapshot(true);
  if (trainer.diverged()) std::fprintf(stderr, "marginscope render: %s\n", trainer.message().c_str());
  gl->makeCurrent();
  if (!camera_given) {
    const CameraAngles cam = cameraFacingData(*snap);
    view.yaw = cam.yaw;
    view.pitch = cam.pitch;
    yaw = cam.yaw;
    pitch = cam.pitch;
  }
  ex.info.json =
      nlohmann::json{{kFigureSettings, 1}, {"config", configToJson(config)}, {"render", rs.toJson()}}.dump(
          -1, ' ', true);

  const auto t_render = Clock::now();
  renderer->setSnapshot(snap);
  renderer->exportPng(view, ex, out);
  const double png_s = seconds(t_render, Clock::now());
  const auto t_svg = Clock::now();
  if (!svg.empty()) exportSvg(*snap, view, ex, svg);
  const double svg_s = seconds(t_svg, Clock::now());

  printWarnings(snap->warnings);
  if (!metrics_path.empty()) {
    // Same definitions as `train`: accuracy over all points; loss as the mean of the last batch (render
    // keeps no running window).
    nlohmann::json j =
        runMetricsJson(trainer, trainer.evaluate(), *snap, config, train_s, trainer.lastLoss());
    j["render"] = {{"view", view_s},
                   {"width", width},
                   {"height", height},
                   {"scale", scale},
                   {"png", out},
                   {"svg", svg},
                   {"train_seconds", train_s},
                   {"gl_warmup_wait_seconds", wait_s},
                   {"png_seconds", png_s},
                   {"svg_seconds", svg_s},
                   {"gl", gl->description()}};
    writeFileAtomic(metrics_path, j.dump(2) + "\n");
  }
  if (!opts.save_config.empty()) saveConfigFile(config, opts.save_config);
  outputs.commit();
  if (!quiet)
    std::fprintf(stderr, "render: %lld steps in %.2f s; PNG %dx%d in %.3f s%s; total %.2f s\n",
                 (long long)trainer.stepCount(), train_s, int(std::lround(width * scale)),
                 int(std::lround(height * scale)), png_s,
                 svg.empty() ? "" : (", SVG in " + CLI::detail::to_string(svg_s) + " s").c_str(),
                 seconds(t0, Clock::now()));
  return 0;
}

}  // namespace ms
