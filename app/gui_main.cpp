// `marginscope` with no subcommand: the desktop app. main stays flat and readable top to bottom (Dear ImGui
// examples style): parse and check the options, open a GLFW window with an OpenGL 3.3 core context, start the
// worker on the default preset, then loop { script; frame(); blit the views under the UI; pace; swap }. The
// loop body is gui_frame.cpp's frame(), which tests tick without a window; the scripted measurement and the
// frame statistics are gui_bench.h's.
//
// Measurement options: --quit-after SECONDS ends a scripted run with exit code 0; --report FILE writes
// frame-time percentiles, steps/s and the control latency as JSON at exit; --bench scripts a run (training,
// with m changed twice a second, then paused) so the report compares both; --screenshot-ui FILE.png reads
// back the whole window just before quitting (for the README); --screenshot-at SECONDS presses the screenshot
// key once, --screenshot-every SECONDS again and again.
#include <epoxy/gl.h>
#include <unistd.h>
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "app/commands.h"
#include "app/config_io.h"
#include "app/gui_bench.h"
#include "app/gui_frame.h"
#include "render/image_io.h"
#include "sim/errors.h"

namespace ms {

namespace {

struct GuiOptions {
  std::string config;  // preset; default: assets/presets/default.json
  int width = 1280, height = 800;
  double quit_after = 0;  // seconds; 0 = run until closed
  std::string report;
  bool bench = false;
  bool vsync = true;
  double max_fps = -1;  // frames a second at most; -1: the monitor's refresh rate (60 if unknown); 0: no cap
  std::string screenshot_ui;
  double screenshot_at = -1;
  double screenshot_every = 0;  // seconds between scripted presses of the screenshot key; 0: none
  double compare_at = -1;       // seconds: tick "compare" once then (screenshots, the e2e test)
  std::string shot_dir;
  float ui_scale = 1;
  std::string tab;          // --tab Metrics|Theory|Presets: the right-hand tab to open on
  bool fullscreen = false;  // --fullscreen: start on the whole primary monitor (F11/Escape leave it)
  bool renderer = true;     // --no-renderer: ImGui placeholder views (diagnosis, broken GL drivers)
};

const char* kGuiHelp =
    "usage: marginscope [--config FILE] [--width W] [--height H] [--ui-scale X] [--fullscreen]\n"
    "                   [--quit-after SECONDS]\n"
    "                   [--report FILE] [--bench] [--no-vsync] [--max-fps N] [--screenshot-ui FILE.png]\n"
    "                   [--screenshot-at SECONDS] [--screenshot-every SECONDS] [--shot-dir DIR]\n"
    "                   [--tab Metrics|Theory|Presets] [--compare-at SECONDS]\n"
    "Opens the desktop app on assets/presets/default.json (or --config).\n"
    "  --report FILE     at exit: frame_time_ms{p50,p90,p99,max}, steps_per_second, control_latency_ms "
    "(JSON)\n"
    "  --max-fps N       pace frames at N a second (default: the monitor's refresh rate; 0: no cap)\n"
    "  --screenshot-every S  press the screenshot key every S seconds (load tests; with --shot-dir)\n"
    "  --compare-at S    tick \"compare\" once after S seconds (the report then says what A and B did)\n"
    "  --bench           scripted measurement: training with m changed twice a second, then paused (implies\n"
    "                    --no-vsync; use with --quit-after and --report)\n"
    "Keys: space pause, . single step, r reset, s screenshot, h/Tab hide panels, F11 fullscreen.\n";

// A number option: anything not a finite number in [lo, hi] is named with its value and the allowed range.
double number(const std::string& key, const std::string& text, double lo, double hi) {
  char* end = nullptr;
  const double x = std::strtod(text.c_str(), &end);
  char range[96];
  std::snprintf(range, sizeof range, "(allowed: %g .. %g)", lo, hi);
  if (text.empty() || !end || *end || !std::isfinite(x))
    throw UserError(key + ": '" + text + "' is not a number " + range);
  if (x < lo || x > hi) throw UserError(key + ": " + text + " is out of range " + range);
  return x;
}

int whole(const std::string& key, const std::string& text, int lo, int hi) {
  const double x = number(key, text, lo, hi);
  if (x != std::floor(x)) throw UserError(key + ": " + text + " is not a whole number");
  return (int)x;
}

GuiOptions parseArgs(int argc, char** argv) {
  GuiOptions o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) throw UserError("option " + a + " needs a value");
      return argv[++i];
    };
    if (a == "--config")
      o.config = value();
    else if (a == "--width")
      o.width = whole(a, value(), 320, 16384);
    else if (a == "--height")
      o.height = whole(a, value(), 240, 16384);
    else if (a == "--quit-after")  // more than a day is a typo, not a lecture
      o.quit_after = number(a, value(), 0.001, 86400);
    else if (a == "--report")
      o.report = value();
    else if (a == "--bench")
      o.bench = true, o.vsync = false;
    else if (a == "--no-vsync")
      o.vsync = false;
    else if (a == "--max-fps")
      o.max_fps = number(a, value(), 0, 1000);
    else if (a == "--screenshot-ui")
      o.screenshot_ui = value();
    else if (a == "--screenshot-at")
      o.screenshot_at = number(a, value(), 0, 86400);
    else if (a == "--screenshot-every")
      o.screenshot_every = number(a, value(), 0.05, 3600);
    else if (a == "--shot-dir")
      o.shot_dir = value();
    else if (a == "--compare-at")
      o.compare_at = number(a, value(), 0, 86400);
    else if (a == "--fullscreen")
      o.fullscreen = true;
    else if (a == "--tab") {
      o.tab = value();
      if (o.tab != "Metrics" && o.tab != "Theory" && o.tab != "Presets")
        throw UserError("--tab: '" + o.tab + "' is not a tab (allowed: Metrics, Theory, Presets)");
    } else if (a == "--no-renderer")
      o.renderer = false;
    else if (a == "--ui-scale")
      o.ui_scale = (float)number(a, value(), 0.5, 4);
    else if (a == "--gui-help") {
      std::fputs(kGuiHelp, stdout);
      std::exit(0);
    } else
      throw UserError(
          "unknown GUI option '" + a +
          "' (allowed: --config, --width, --height, --ui-scale, --quit-after, --report, --bench, "
          "--no-vsync, --max-fps, --screenshot-ui, --screenshot-at, --screenshot-every, --shot-dir, --tab, "
          "--compare-at, --fullscreen, --no-renderer; see --gui-help)");
  }
  // Every output is checked before any window opens: a run that cannot save its report is a user error now,
  // not a silent loss at exit.
  checkOutputPath("--report", o.report);
  checkOutputPath("--screenshot-ui", o.screenshot_ui);
  if (!o.shot_dir.empty() && access(o.shot_dir.c_str(), W_OK) != 0)
    throw UserError("--shot-dir: '" + o.shot_dir + "' is not a writable folder");
  return o;
}

// Latin-1, Greek, punctuation, super/subscripts, arrows, maths: what the Theory panel's formulas use. ImGui
// keeps a pointer to this array until the font atlas is built.
constexpr ImWchar kGlyphRanges[] = {0x0020, 0x00FF, 0x0370, 0x03FF, 0x2000, 0x206F, 0x2070, 0x209F,
                                    0x2190, 0x21FF, 0x2200, 0x22FF, 0x2300, 0x23FF, 0};

void loadFonts(AppState& s) {
  ImGuiIO& io = ImGui::GetIO();
  const char* path = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  // Loaded at twice the size and drawn at half: stays sharp when the lecture-hall UI scale goes up.
  if (std::FILE* f = std::fopen(path, "rb")) {
    std::fclose(f);
    ImFontConfig cfg;
    cfg.OversampleH = 2;
    if (io.Fonts->AddFontFromFileTTF(path, 30.0f, &cfg, kGlyphRanges)) {
      s.font_base = 0.5f;
      return;
    }
  }
  io.Fonts->AddFontDefault();
  s.font_base = 1.0f;
}

bool writeWindowPng(const std::string& path, int w, int h) {
  std::vector<unsigned char> px((size_t)w * h * 4), flipped(px.size());
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
  glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, px.data());
  for (int y = 0; y < h; ++y)
    std::memcpy(&flipped[(size_t)y * w * 4], &px[(size_t)(h - 1 - y) * w * 4], (size_t)w * 4);
  for (size_t i = 3; i < flipped.size(); i += 4) flipped[i] = 255;  // the window is opaque
  try {
    writePngAtomic(path, w, h, flipped);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// The views under the UI: blits the newest image the view thread finished for each view on screen into the
// window's framebuffer (fbh pixels high) and fills `jobs` with what each slot should show now. Returns the
// points in the embedding view(s).
size_t blitViews(AppState& s, Session& sess, int fbh, ViewThread::Job (&jobs)[ViewThread::kSlots]) {
  size_t points = 0;
  for (int i = 0; i < ViewThread::kSlots && sess.views; ++i) {
    jobs[i] = ViewThread::Job();
    if (i >= (int)s.views.size()) continue;
    const ViewSlot& v = s.views[i];
    const RunState& r = s.run[v.run];
    ViewThread::Job& job = jobs[i];
    job.snap = v.kind == ViewKind::Input && r.input_snapshot ? r.input_snapshot : r.snapshot;
    job.view = r.view;
    job.view.kind = v.kind;
    const ViewImage im = viewImage(s, v);  // the size and scale hover tooltips assume (gui_frame.h)
    job.w = im.w, job.h = im.h, job.scale = im.scale;
    if (job.snap && v.kind != ViewKind::Input) points += job.snap->labels.size();
    const int x = (int)std::lround(v.x * im.sx), y = fbh - (int)std::lround(v.y * im.sy) - job.h;
    sess.views->blit(i, x, y, job.w, job.h);
  }
  if (sess.views) {
    const std::string err = sess.views->takeError();
    if (!err.empty()) s.error = err;
  }
  return points;
}

// Hands the view thread this frame's jobs. Called once the frame is rasterised: the view thread (and its
// rasteriser threads) then draw while the UI waits for its next slot, rather than in the middle of the UI's
// own rasterising. A job the view thread's lock keeps out is asked for again next frame.
void requestViews(Session& sess, const ViewThread::Job (&jobs)[ViewThread::kSlots]) {
  for (int i = 0; i < ViewThread::kSlots && sess.views; ++i) sess.views->request(i, jobs[i]);
}

void toggleFullscreen(AppState& s, GLFWwindow* win, bool vsync, int rect[4]) {
  s.req.toggle_fullscreen = false;
  GLFWmonitor* mon = glfwGetPrimaryMonitor();
  const GLFWvidmode* mode = mon ? glfwGetVideoMode(mon) : nullptr;
  if (s.fullscreen && mode) {
    glfwGetWindowPos(win, &rect[0], &rect[1]);
    glfwGetWindowSize(win, &rect[2], &rect[3]);
    glfwSetWindowMonitor(win, mon, 0, 0, mode->width, mode->height, mode->refreshRate);
  } else if (!s.fullscreen) {
    glfwSetWindowMonitor(win, nullptr, rect[0], rect[1], rect[2], rect[3], 0);
  }
  glfwSwapInterval(vsync ? 1 : 0);
}

}  // namespace

int cmdGui(int argc, char** argv) {
  const GuiOptions opt = parseArgs(argc, argv);

  // --- configuration first: a bad --config is a user error before any window opens
  const std::string asset_dir = findAssetDir(argc > 0 ? argv[0] : "");
  const std::string preset = opt.config.empty() ? asset_dir + "/presets/default.json" : opt.config;
  if (!opt.config.empty()) parsePreset(opt.config);  // a bad file given on the command line: exit 2 here

  const char* display = std::getenv("DISPLAY");
  const char* wayland = std::getenv("WAYLAND_DISPLAY");
  if ((!display || !*display) && (!wayland || !*wayland)) {
    std::fprintf(stderr, "marginscope: no display; use `marginscope render` to draw figures headless\n");
    return 2;
  }
  if (!glfwInit()) {
    std::fprintf(stderr,
                 "marginscope: no display (GLFW could not start); use `marginscope render` to draw "
                 "figures headless\n");
    return 2;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
  // ImGui needs no depth or stencil and the views render into their own framebuffers. A default 24/8
  // depth-stencil buffer would cost a masked (stencil-preserving) clear of every pixel every frame, which
  // was a tenth of all CPU time under llvmpipe.
  glfwWindowHint(GLFW_DEPTH_BITS, 0);
  glfwWindowHint(GLFW_STENCIL_BITS, 0);
  GLFWwindow* win = glfwCreateWindow(opt.width, opt.height, "marginscope", nullptr, nullptr);
  if (!win) {
    glfwTerminate();
    std::fprintf(stderr,
                 "marginscope: no display with OpenGL 3.3 core; use `marginscope render` to draw "
                 "figures headless\n");
    return 2;
  }
  glfwMakeContextCurrent(win);
  glfwSwapInterval(opt.vsync ? 1 : 0);
  // Frames are paced at the display rate where the swap does not wait for a vertical blank (Xvfb, a software
  // rasteriser, --no-vsync): a loop that redraws as fast as it can takes both cores from the view thread and
  // the training worker, which run at lower priority, and shows nothing more.
  double max_fps = opt.max_fps;
  if (max_fps < 0) {
    const GLFWvidmode* mode = glfwGetPrimaryMonitor() ? glfwGetVideoMode(glfwGetPrimaryMonitor()) : nullptr;
    max_fps = mode && mode->refreshRate > 0 ? mode->refreshRate : 60;
  }
  bool pace = max_fps > 0 && !opt.vsync;
  int probed = 0, fast = 0;
  bool report_failed = false;

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // never write imgui.ini into the user's directory
  AppState s;
  s.ui_scale = opt.ui_scale;
  s.open_tab = opt.tab;
  s.fullscreen = opt.fullscreen;
  s.req.toggle_fullscreen = opt.fullscreen;
  if (!opt.shot_dir.empty()) s.shot.out_dir = opt.shot_dir;
  loadFonts(s);
  ImGui_ImplGlfw_InitForOpenGL(win, true);
  ImGui_ImplOpenGL3_Init("#version 330 core");

  Session sess;
  if (opt.renderer) {
    try {
      sess.views = std::make_unique<ViewThread>();
    } catch (const std::exception& e) {
      s.error = std::string("renderer unavailable, drawing a simple view instead: ") + e.what();
    }
  }
  initApp(s, sess, Config(), asset_dir);
  // The first scene is a preset; if it is bad the app still opens (on the built-in defaults) and says why.
  if (!loadPreset(s, sess, preset) && !sess.worker[0]) initApp(s, sess, Config(), asset_dir);

  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  BenchScript script({opt.bench, opt.quit_after, opt.screenshot_at, opt.screenshot_every});
  FrameStats stats(opt.bench);
  size_t points = 0;
  int window_rect[4] = {0, 0, opt.width, opt.height};  // restored when fullscreen ends
  double last = seconds(), next_frame = last;
  bool compare_done = false;
  int64_t a_step_at_compare = -1;

  while (!glfwWindowShouldClose(win)) {
    // Frame time: from the start of a frame's work to the end of its swap, the pacing wait excluded.
    const double frame_start = seconds();
    glfwPollEvents();
    const double t = seconds();
    const bool last_frame = opt.quit_after > 0 && t >= opt.quit_after;
    s.now = t;
    const BenchPhase phase = script.tick(s, t);
    if (opt.compare_at >= 0 && t >= opt.compare_at && !compare_done) {
      compare_done = true;
      s.req.start_compare = true;
      a_step_at_compare = s.run[0].snapshot ? s.run[0].snapshot->step : -1;
    }

    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    const double c0 = seconds();
    frame(s, sess);
    const double c1 = seconds();
    if (s.req.toggle_fullscreen) toggleFullscreen(s, win, opt.vsync, window_rect);

    int fbw = 0, fbh = 0;
    glfwGetFramebufferSize(win, &fbw, &fbh);
    glViewport(0, 0, fbw, fbh);
    glClearColor(kPanelBackground[0], kPanelBackground[1], kPanelBackground[2], 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ViewThread::Job jobs[ViewThread::kSlots];
    points = blitViews(s, sess, fbh, jobs);
    glViewport(0, 0, fbw, fbh);
    glDisable(GL_SCISSOR_TEST);
    const double c2 = seconds();
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    const double c3 = seconds();
    if (last_frame && !opt.screenshot_ui.empty()) {
      if (writeWindowPng(opt.screenshot_ui, fbw, fbh))
        std::printf("marginscope: window saved to %s\n", opt.screenshot_ui.c_str());
      else
        std::fprintf(stderr, "marginscope: could not write %s\n", opt.screenshot_ui.c_str());
    }
    // Paced: finish the frame, wait for its slot, then present, so frames reach the screen at an even
    // rate whatever each one cost. The wait is not part of the frame time.
    double waited = 0;
    if (pace) glFinish();
    requestViews(sess, jobs);
    if (pace) {
      const double ready = seconds();
      next_frame = std::max(next_frame + 1.0 / max_fps, ready);  // a fixed schedule; a late frame resets it
      std::this_thread::sleep_for(std::chrono::duration<double>(next_frame - ready));
      waited = seconds() - ready;
    }
    glfwSwapBuffers(win);

    const double now = seconds(), ms_frame = 1000.0 * (now - frame_start - waited);
    stats.add(s, t, phase, ms_frame, 1000.0 * (now - last),
              {1000.0 * (c1 - c0), 1000.0 * (c2 - c1), 1000.0 * (c3 - c2), 1000.0 * (now - c3 - waited)});
    s.frame_ms.push_back((float)ms_frame);
    if (s.frame_ms.size() > 120) s.frame_ms.pop_front();
    // With vsync asked for, pace only if the swap turns out not to wait for the display (most of 60 frames
    // after the first second come faster than it refreshes): pacing on top of a working vsync would miss
    // vertical blanks.
    if (opt.vsync && max_fps > 0 && t > 1.0 && probed < 60) {
      fast += 1000.0 * (now - last) < 0.75 * 1000.0 / max_fps;
      if (++probed == 60) pace = fast > 30;
    }
    last = now;
    if (last_frame) break;
  }

  // Every press of the screenshot key ends in a file or a message: the exports still queued finish now.
  if (sess.views) {
    sess.views->finishExports();
    finishScreenshots(s, sess.views->takeExports());
  }
  if (!opt.report.empty()) {
    nlohmann::json j = stats.report(s);
    j["max_fps"] = max_fps;
    j["points_on_screen"] = points;  // in the embedding view(s); the input view draws the same points again
    j["window"] = {opt.width, opt.height};
    j["vsync"] = opt.vsync;
    if (compare_done) {
      // Turning compare on must not restart A; B trains the loss the lecture contrasts with A's.
      const Snapshot* a = s.run[0].snapshot.get();
      const Snapshot* b = s.run[1].snapshot.get();
      j["compare"] = {{"a_step_at_compare", a_step_at_compare},
                      {"a_step_at_exit", a ? a->step : -1},
                      {"a_loss", s.run[0].config.loss},
                      {"b_loss", s.run[1].config.loss},
                      {"b_step_at_exit", b ? b->step : -1}};
    }
    j["renderer"] = sess.views != nullptr;
    j["view_images"] = sess.views ? sess.views->imagesDrawn() : 0;
    try {
      writeFileAtomic(opt.report, j.dump(2) + "\n");
    } catch (const std::exception& e) {
      // Checked at start; a folder removed during the run still gets one line and a failing exit code.
      std::fprintf(stderr, "marginscope: --report: could not write %s: %s\n", opt.report.c_str(), e.what());
      report_failed = true;
    }
  }

  // Stop the workers before the GL context goes away; renderers free GL objects while it is current.
  sess.worker[0].reset();
  sess.worker[1].reset();
  sess.views.reset();
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(win);
  glfwTerminate();
  return report_failed ? 2 : 0;
}

}  // namespace ms
