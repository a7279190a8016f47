// `marginscope` with no subcommand: the desktop app. main stays flat and readable top to bottom (Dear ImGui
// examples style): parse options, open a GLFW window with an OpenGL 3.3 core context, start the worker on the
// default preset, then loop { frame(); draw the views with the Renderer under the UI; swap }. The loop body
// is gui_frame.cpp's frame(), which tests tick without a window.
//
// Measurement options: --quit-after SECONDS ends a scripted run with exit code 0; --report FILE writes
// frame-time percentiles, steps/s and the control latency as JSON at exit; --bench scripts a run (training,
// with m changed twice a second, then paused) so the report compares both; --screenshot-ui FILE.png reads
// back the whole window just before quitting (for the README); --screenshot-at SECONDS presses the screenshot
// button once.
#include <epoxy/gl.h>
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
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "app/commands.h"
#include "app/config_io.h"
#include "app/gui_frame.h"
#include "render/image_io.h"
#include "sim/errors.h"
#include "sim/loss.h"

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
    "                   [--screenshot-at SECONDS] [--shot-dir DIR] [--tab Metrics|Theory|Presets]\n"
    "Opens the desktop app on assets/presets/default.json (or --config).\n"
    "  --report FILE     at exit: frame_time_ms{p50,p90,p99,max}, steps_per_second, control_latency_ms "
    "(JSON)\n"
    "  --max-fps N       pace frames at N a second (default: the monitor's refresh rate; 0: no cap)\n"
    "  --bench           scripted measurement: training with m changed twice a second, then paused (implies\n"
    "                    --no-vsync; use with --quit-after and --report)\n"
    "Keys: space pause, . single step, r reset, s screenshot, h/Tab hide panels, F11 fullscreen.\n";

double num(const char* key, const char* v) {
  char* end = nullptr;
  const double x = std::strtod(v, &end);
  if (!end || *end || !std::isfinite(x))
    throw UserError(std::string("option ") + key + ": '" + v + "' is not a number");
  return x;
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
      o.width = (int)num("--width", value());
    else if (a == "--height")
      o.height = (int)num("--height", value());
    else if (a == "--quit-after")
      o.quit_after = num("--quit-after", value());
    else if (a == "--report")
      o.report = value();
    else if (a == "--bench")
      o.bench = true, o.vsync = false;
    else if (a == "--no-vsync")
      o.vsync = false;
    else if (a == "--max-fps")
      o.max_fps = num("--max-fps", value());
    else if (a == "--screenshot-ui")
      o.screenshot_ui = value();
    else if (a == "--screenshot-at")
      o.screenshot_at = num("--screenshot-at", value());
    else if (a == "--shot-dir")
      o.shot_dir = value();
    else if (a == "--fullscreen")
      o.fullscreen = true;
    else if (a == "--tab")
      o.tab = value();
    else if (a == "--no-renderer")
      o.renderer = false;
    else if (a == "--ui-scale")
      o.ui_scale = (float)num("--ui-scale", value());
    else if (a == "--gui-help") {
      std::fputs(kGuiHelp, stdout);
      std::exit(0);
    } else
      throw UserError(
          "unknown GUI option '" + a +
          "' (allowed: --config, --width, --height, --ui-scale, --quit-after, --report, --bench, "
          "--no-vsync, --max-fps, --screenshot-ui, --screenshot-at, --shot-dir, --tab, --fullscreen, "
          "--no-renderer; see --gui-help)");
  }
  if (o.width < 320 || o.height < 240 || o.width > 16384 || o.height > 16384)
    throw UserError("--width/--height: " + std::to_string(o.width) + "x" + std::to_string(o.height) +
                    " is out of range (320x240 .. 16384x16384)");
  if (o.ui_scale < 0.5f || o.ui_scale > 4) throw UserError("--ui-scale: allowed 0.5 .. 4");
  if (o.max_fps != -1 && (o.max_fps < 0 || o.max_fps > 1000)) throw UserError("--max-fps: allowed 0 .. 1000");
  return o;
}

nlohmann::json percentiles(std::vector<double> v) {
  if (v.empty()) return nullptr;
  std::sort(v.begin(), v.end());
  auto q = [&](double p) { return v[std::min(v.size() - 1, (size_t)std::floor(p * (v.size() - 1) + 0.5))]; };
  return {{"p50", q(0.5)}, {"p90", q(0.9)}, {"p99", q(0.99)}, {"max", v.back()}, {"frames", v.size()}};
}

void loadFonts(AppState& s) {
  ImGuiIO& io = ImGui::GetIO();
  static const ImWchar kRanges[] = {0x0020, 0x00FF, 0x0370, 0x03FF, 0x2000, 0x206F, 0x2070, 0x209F,
                                    0x2190, 0x21FF, 0x2200, 0x22FF, 0x2300, 0x23FF, 0};
  const char* path = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  // Loaded at twice the size and drawn at half: stays sharp when the lecture-hall UI scale goes up.
  if (std::FILE* f = std::fopen(path, "rb")) {
    std::fclose(f);
    ImFontConfig cfg;
    cfg.OversampleH = 2;
    if (io.Fonts->AddFontFromFileTTF(path, 30.0f, &cfg, kRanges)) {
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
  // Frame time: from the start of a frame's work to the end of its swap (the pacing wait excluded); the
  // interval between frames is reported beside it.
  std::vector<double> ft_all, ft_run, ft_paused, interval_all;
  // Where a frame's time goes (ms, after the first second): UI logic, the views, the UI's GL draw, the swap.
  std::vector<double> t_ui, t_views, t_imgui, t_swap;
  auto ms = [&](double a, double b) { return 1000.0 * (b - a); };
  double last = seconds(), max_sps = 0, next_poke = 0;
  bool shot_done = false, poke_hi = false;
  size_t points = 0;
  int win_x = 0, win_y = 0, win_w = opt.width, win_h = opt.height;

  double next_frame = seconds();
  while (!glfwWindowShouldClose(win)) {
    const double frame_start = seconds();
    glfwPollEvents();
    const double t = seconds();
    const bool last_frame = opt.quit_after > 0 && t >= opt.quit_after;
    s.now = t;

    // --bench: training for the first half (m poked twice a second), paused for the second; 15% warm-up.
    const double T = opt.quit_after > 0 ? opt.quit_after : 20;
    const int phase = !opt.bench ? 0 : t < 0.15 * T ? 0 : t < 0.55 * T ? 1 : t < 0.6 * T ? 0 : 2;
    if (opt.bench) {
      s.paused = t >= 0.55 * T;
      if (phase == 1 && t >= next_poke) {
        next_poke = t + 0.5;
        RunState& r = s.run[0];
        try {
          const LossSpec& spec = findLoss(r.config.loss);
          for (const ParamSpec& p : spec.params)
            if (p.name == "m" && p.kind == ParamKind::Real) {
              const double def = p.def;
              r.config.params.values["m"] = std::clamp(poke_hi ? def : def * 0.8, p.lo, p.hi);
              r.dirty = true;
            }
          if (!r.dirty) r.config.lr *= poke_hi ? 1.25 : 0.8, r.dirty = true;
        } catch (const UserError&) {
        }
        poke_hi = !poke_hi;
      }
    }
    if (opt.screenshot_at >= 0 && !shot_done && t >= opt.screenshot_at && s.run[0].snapshot) {
      s.req.screenshot = true;
      shot_done = true;
    }

    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    const double c0 = seconds();
    frame(s, sess);
    const double c1 = seconds();

    if (s.req.toggle_fullscreen) {
      s.req.toggle_fullscreen = false;
      GLFWmonitor* mon = glfwGetPrimaryMonitor();
      const GLFWvidmode* mode = mon ? glfwGetVideoMode(mon) : nullptr;
      if (s.fullscreen && mode) {
        glfwGetWindowPos(win, &win_x, &win_y);
        glfwGetWindowSize(win, &win_w, &win_h);
        glfwSetWindowMonitor(win, mon, 0, 0, mode->width, mode->height, mode->refreshRate);
      } else if (!s.fullscreen) {
        glfwSetWindowMonitor(win, nullptr, win_x, win_y, win_w, win_h, 0);
      }
      glfwSwapInterval(opt.vsync ? 1 : 0);
    }

    int fbw = 0, fbh = 0;
    glfwGetFramebufferSize(win, &fbw, &fbh);
    glViewport(0, 0, fbw, fbh);
    glClearColor(kPanelBackground[0], kPanelBackground[1], kPanelBackground[2], 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    points = 0;
    // The view thread draws; this frame hands it the views wanted now and blits the newest finished images.
    for (int i = 0; i < ViewThread::kSlots && sess.views; ++i) {
      ViewThread::Job job;
      if (i < (int)s.views.size()) {
        const ViewSlot& v = s.views[i];
        const RunState& r = s.run[v.run];
        job.snap = v.kind == ViewKind::Input && r.input_snapshot ? r.input_snapshot : r.snapshot;
        job.view = r.view;
        job.view.kind = v.kind;
        const ViewImage im = viewImage(s, v);  // the size and scale hover tooltips assume (gui_frame.h)
        job.w = im.w, job.h = im.h, job.scale = im.scale;
        if (job.snap && v.kind != ViewKind::Input) points += job.snap->labels.size();
        const int x = (int)std::lround(v.x * im.sx), y = fbh - (int)std::lround(v.y * im.sy) - job.h;
        sess.views->blit(i, x, y, job.w, job.h);
      }
      sess.views->request(i, job);
    }
    if (sess.views) {
      const std::string err = sess.views->takeError();
      if (!err.empty()) s.error = err;
    }
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
    if (pace) {
      glFinish();
      const double ready = seconds();
      next_frame = std::max(next_frame + 1.0 / max_fps, ready);  // a fixed schedule; a late frame resets it
      std::this_thread::sleep_for(std::chrono::duration<double>(next_frame - ready));
      waited = seconds() - ready;
    }
    glfwSwapBuffers(win);
    if (t > 1.0) {
      t_ui.push_back(ms(c0, c1));
      t_views.push_back(ms(c1, c2));
      t_imgui.push_back(ms(c2, c3));
      t_swap.push_back(ms(c3, seconds()) - 1000.0 * waited);
    }

    const double now = seconds(), ms_frame = 1000.0 * (now - frame_start - waited);
    s.frame_ms.push_back((float)ms_frame);
    if (s.frame_ms.size() > 120) s.frame_ms.pop_front();
    if (t > 1.0) ft_all.push_back(ms_frame);  // the first second compiles shaders and builds data
    if (t > 1.0) interval_all.push_back(1000.0 * (now - last));
    // With vsync asked for, pace only if the swap turns out not to wait for the display (most of 60 frames
    // after the first second come faster than it refreshes): pacing on top of a working vsync would miss
    // vertical blanks.
    if (opt.vsync && max_fps > 0 && t > 1.0 && probed < 60) {
      fast += 1000.0 * (now - last) < 0.75 * 1000.0 / max_fps;
      if (++probed == 60) pace = fast > 30;
    }
    last = now;
    if (phase == 1) ft_run.push_back(ms_frame);
    if (phase == 2) ft_paused.push_back(ms_frame);
    if (s.run[0].snapshot && !s.paused) max_sps = std::max(max_sps, s.run[0].snapshot->steps_per_second);
    if (last_frame) break;
  }

  if (!opt.report.empty()) {
    std::vector<double> lat, step_lat;
    for (const auto& r : s.run) {
      lat.insert(lat.end(), r.latency_ms.begin(), r.latency_ms.end());
      step_lat.insert(step_lat.end(), r.step_latency_ms.begin(), r.step_latency_ms.end());
    }
    nlohmann::json j;
    j["frame_time_ms"] = percentiles(opt.bench ? ft_run : ft_all);
    if (opt.bench) {
      j["frame_time_ms_paused"] = percentiles(ft_paused);
      if (!ft_run.empty() && !ft_paused.empty()) {
        const double a = j["frame_time_ms"]["p50"], b = j["frame_time_ms_paused"]["p50"];
        j["median_ratio_training_over_paused"] = b > 0 ? a / b : 0;
      }
    }
    j["frame_time_ms_all"] = percentiles(ft_all);
    j["frame_interval_ms"] = percentiles(interval_all);
    j["max_fps"] = max_fps;
    j["frame_parts_ms"] = {{"ui", percentiles(t_ui)},
                           {"views", percentiles(t_views)},
                           {"imgui_draw", percentiles(t_imgui)},
                           {"swap", percentiles(t_swap)}};
    j["steps_per_second"] = max_sps;
    // The contract's figure: a Controls change to the first step that uses it (the worker times it); and the
    // user's view of it: the change to the first frame whose snapshot reflects it.
    j["control_latency_ms"] = percentiles(step_lat);
    j["control_to_screen_ms"] = percentiles(lat);
    j["points_on_screen"] = points;  // in the embedding view(s); the input view draws the same points again
    j["window"] = {opt.width, opt.height};
    j["vsync"] = opt.vsync;
    j["preset"] = s.preset_name;
    j["renderer"] = sess.views != nullptr;
    j["view_images"] = sess.views ? sess.views->imagesDrawn() : 0;
    try {
      writeFileAtomic(opt.report, j.dump(2) + "\n");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "marginscope: could not write the report: %s\n", e.what());
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
  return 0;
}

}  // namespace ms
