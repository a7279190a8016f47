// The loop body of the desktop app (see gui_frame.h): shortcuts, layout, panels and overlays, then the
// consequences of what the user did -- Controls to the workers (applied at their next step, never waited on),
// presets loaded/saved, screenshots exported. Everything slow happens on the worker thread; the frame only
// swaps snapshot pointers.
#include "app/gui_frame.h"
#include "app/gui_frame_internal.h"

#include <imgui.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/background.h"
#include "app/config_io.h"
#include "app/gui_plot.h"
#include "app/panels.h"
#include "render/image_io.h"
#include "render/scene.h"
#include "sim/errors.h"
#include "sim/loss.h"
#include "sim/math.h"

namespace ms {

namespace fs = std::filesystem;

std::string otherLoss(const std::string& loss) {
  try {
    const std::string& c = findLoss(loss).contrast;
    return c.empty() ? findLoss(loss).name : c;
  } catch (const UserError&) {
    return "softmax";
  }
}

namespace {

// Builds a Worker from a short-lived helper thread whose priority is lowered first (app/background.h): the
// training thread inherits it (a thread's nice value is its own on Linux and passes to the threads it
// creates), so the UI thread's priority is never touched and no privilege is needed.
std::unique_ptr<Worker> makeBackgroundWorker(const Controls& c) {
  std::unique_ptr<Worker> w;
  std::exception_ptr err;
  std::thread helper([&] {
    runInBackground(BackgroundRole::Worker);
    try {
      w = std::make_unique<Worker>(c);
    } catch (...) {
      err = std::current_exception();
    }
  });
  helper.join();
  if (err) std::rethrow_exception(err);
  return w;
}

void clearRunView(RunState& r) {
  r.snapshot.reset();
  r.input_snapshot.reset();
  r.input_metrics_step = INT64_MIN;
  r.input_version = UINT64_MAX;
}

}  // namespace

bool startWorker(AppState& s, Session& sess, int i, bool keep_on_error) {
  RunState& r = s.run[i];
  std::unique_ptr<Worker> w;
  if (sess.use_workers) {
    Controls c;
    c.config = r.config;
    c.paused = s.paused;
    c.max_steps_per_second = s.max_steps_per_second;
    try {
      w = makeBackgroundWorker(c);  // builds the dataset: a bad one throws here
    } catch (const UserError& e) {
      r.error = e.what();
      if (keep_on_error) return false;  // the running worker and its pictures stay
      sess.worker[i].reset();
      clearRunView(r);
      return false;
    }
  }
  sess.worker[i] = std::move(w);
  clearRunView(r);
  r.sent_paused = s.paused;
  r.sent_speed = s.max_steps_per_second;
  r.dirty = false;
  r.error.clear();
  r.good_config = r.config;
  r.have_good = true;
  r.pushed_version = 0;
  r.dismissed.clear();
  return true;
}

namespace {

// Comparison mode trains both losses on the same data, model and optimiser: only loss and params differ.
void syncCompare(AppState& s) {
  if (!s.compare || !s.run[0].dirty) return;
  Config c = s.run[0].config;
  c.loss = s.run[1].config.loss;
  c.params = s.run[1].config.params;
  s.run[1].config = c;
  s.run[1].dirty = true;
}

void pushControls(AppState& s, Session& sess, int i, bool reset, int steps) {
  RunState& r = s.run[i];
  Worker* w = sess.worker[i].get();
  const bool changed = r.dirty || r.sent_paused != s.paused || r.sent_speed != s.max_steps_per_second;
  if (!w || !(changed || reset || steps > 0)) return;
  Controls c = w->controls();
  c.config = r.config;
  c.paused = s.paused;
  c.max_steps_per_second = s.max_steps_per_second;
  if (reset) c.reset_count += 1;
  c.single_steps = steps;
  const uint64_t v = w->setControls(c);
  if (r.dirty) {
    r.pushed_config = r.config;
    r.pushed_version = v;
  }
  if (r.dirty && !s.paused) {
    // Latency is measured for config edits while training runs: the time until a snapshot reflects them.
    r.sent_version = v;
    r.sent_time = s.now;
    r.waiting_latency = true;
  }
  r.dirty = false;
  r.sent_paused = s.paused;
  r.sent_speed = s.max_steps_per_second;
}

void pollWorkers(AppState& s, Session& sess) {
  for (int i = 0; i < 2; ++i) {
    Worker* w = sess.worker[i].get();
    if (!w) continue;
    RunState& r = s.run[i];
    SnapshotPtr snap = w->latest();
    // A new snapshot costs the embedding view a scene rebuild (about 10 ms at 10k points under llvmpipe),
    // and training publishes one every few milliseconds. Thirty pictures a second is all the eye needs, so
    // the frames in between only redraw; a Controls change, a pause or a divergence is shown at once.
    const bool urgent = snap && r.snapshot &&
                        (snap->controls_version != r.snapshot->controls_version ||
                         snap->paused != r.snapshot->paused || snap->diverged != r.snapshot->diverged);
    if (snap && snap != r.snapshot && (!r.snapshot || urgent || s.now - r.snapshot_time >= 1.0 / 30)) {
      r.snapshot = snap;
      r.snapshot_time = s.now;
      if (snap->metrics_step != r.input_metrics_step || snap->controls_version != r.input_version) {
        r.input_snapshot = snap;
        r.input_metrics_step = snap->metrics_step;
        r.input_version = snap->controls_version;
      }
      if (r.waiting_latency && snap->controls_version >= r.sent_version) {
        r.latency_ms.push_back(1000.0 * (s.now - r.sent_time));
        if (snap->control_latency_ms >= 0) r.step_latency_ms.push_back(snap->control_latency_ms);
        r.waiting_latency = false;
      }
    }
    // The worker sets an error before it publishes the snapshot of that Controls version, so an error
    // taken after `snap` covers every version up to snap's.
    const std::string err = w->takeError();
    if (!err.empty()) {
      r.error = err;
      if (r.pushed_version && r.have_good) {
        // The trainer refused the change and kept its previous data and model: show that config again.
        r.config = r.good_config;
        if (i == 0) s.dim3 = r.config.dim == 3;
        r.pushed_version = 0;
        setStatus(s, std::string(i ? "B" : "A") + " keeps training " + r.config.dataset +
                         ": the change was refused (see the message)");
        r.error += "  [" + std::string(i ? "B" : "A") + " keeps training on " + r.config.dataset + "]";
      }
    } else if (r.pushed_version && snap && snap->controls_version >= r.pushed_version) {
      r.good_config = r.pushed_config;
      r.pushed_version = 0;
    }
  }
}

void shortcuts(AppState& s) {
  ImGuiIO& io = ImGui::GetIO();
  // Never steal keys from a text field.
  if (io.WantTextInput) return;
  if (ImGui::IsKeyPressed(kKeySpace, false)) s.paused = !s.paused;
  if (ImGui::IsKeyPressed(kKeyPeriod)) {
    s.paused = true;
    s.req.single_steps += 1;
  }
  if (ImGui::IsKeyPressed(kKeyR, false)) s.req.reset = true;
  if (ImGui::IsKeyPressed(kKeyS, false)) s.req.screenshot = true;
  if (ImGui::IsKeyPressed(kKeyH, false) || ImGui::IsKeyPressed(kKeyTab, false))
    s.show_panels = !s.show_panels;
  if (ImGui::IsKeyPressed(kKeyF11, false)) {
    s.fullscreen = !s.fullscreen;
    s.req.toggle_fullscreen = true;
  }
  if (ImGui::IsKeyPressed(kKeyEscape, false) && s.fullscreen) {
    s.fullscreen = false;
    s.req.toggle_fullscreen = true;
  }
}

bool hasInputs(const AppState& s) {
  // Free embeddings do not depend on the inputs, so an input-space map would say nothing.
  if (s.run[0].config.model == "free") return false;
  const Snapshot* snap = s.run[0].snapshot.get();
  if (snap) return !snap->inputs.empty();
  const Config& c = s.run[0].config;
  return c.dataset != "fashion-mnist" && (c.dataset != "blobs" || c.input_dim == 2);
}

Layout layout(AppState& s) {
  const ImGuiIO& io = ImGui::GetIO();
  const float W = io.DisplaySize.x, H = io.DisplaySize.y;
  Layout L;
  L.status = ImGui::GetFrameHeight() + 4;
  if (s.show_panels) {
    L.side = std::min(W * 0.34f, 370.0f * s.ui_scale);
    L.right = std::min(W * 0.3f, 340.0f * s.ui_scale);
  }
  s.views.clear();
  const ViewKind emb = s.dim3 ? ViewKind::Sphere : ViewKind::Circle;
  const float x0 = L.side, x1 = W - L.right, h = H - L.status;
  if (s.compare) {
    const float half = (x1 - x0) / 2;
    s.views.push_back({0, emb, x0, 0, half, h});
    s.views.push_back({1, emb, x0 + half, 0, half, h});
  } else {
    s.views.push_back({0, emb, x0, 0, x1 - x0, h});
  }
  if (s.show_panels && s.show_input_view && hasInputs(s))
    s.views.push_back({0, ViewKind::Input, x1, 0, L.right, L.right});
  return L;
}

void sidePanels(AppState& s, const Layout& L) {
  const ImGuiIO& io = ImGui::GetIO();
  // No background: the window's clear colour is the panels' colour (kPanelBackground), and a software
  // rasteriser would otherwise blend half a million pixels of it again every frame.
  const ImGuiWindowFlags fixed = ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize |
                                 ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoSavedSettings |
                                 ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoBackground;
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(ImVec2(L.side, io.DisplaySize.y));
  ImGui::Begin("marginscope", nullptr, fixed);
  ImGui::PushItemWidth(-ImGui::GetFontSize() * 7);
  if (ImGui::CollapsingHeader("Training", ImGuiTreeNodeFlags_DefaultOpen)) panelTraining(s);
  if (ImGui::CollapsingHeader(s.compare ? "Loss A" : "Loss", ImGuiTreeNodeFlags_DefaultOpen)) panelLoss(s, 0);
  if (s.compare && ImGui::CollapsingHeader("Loss B", ImGuiTreeNodeFlags_DefaultOpen)) panelLoss(s, 1);
  const bool data = ImGui::CollapsingHeader("Data");
  noteItem(s, "Data header");
  if (data) panelData(s);
  const bool model = ImGui::CollapsingHeader("Model");
  noteItem(s, "Model header");
  if (model) panelModel(s);
  const bool view = ImGui::CollapsingHeader("View and screenshot");
  noteItem(s, "View header");
  if (view) panelView(s);
  ImGui::PopItemWidth();
  ImGui::End();

  const bool input = std::any_of(s.views.begin(), s.views.end(),
                                 [](const ViewSlot& v) { return v.kind == ViewKind::Input; });
  const float top = input ? L.right : 0;
  ImGui::SetNextWindowPos(ImVec2(io.DisplaySize.x - L.right, top));
  ImGui::SetNextWindowSize(ImVec2(L.right, io.DisplaySize.y - top));
  ImGui::Begin("##right", nullptr, fixed | ImGuiWindowFlags_NoTitleBar);
  ImGui::PushItemWidth(-ImGui::GetFontSize() * 7);
  if (ImGui::BeginTabBar("tabs")) {
    auto sel = [&](const char* name) {
      return s.open_tab == name ? ImGuiTabItemFlags_SetSelected : ImGuiTabItemFlags_None;
    };
    if (ImGui::BeginTabItem("Metrics", nullptr, sel("Metrics"))) {
      panelMetrics(s);
      ImGui::EndTabItem();
    }
    const bool theory = ImGui::BeginTabItem("Theory", nullptr, sel("Theory"));
    noteItem(s, "Theory tab");
    if (theory) {
      panelTheory(s);
      ImGui::EndTabItem();
    }
    const bool presets = ImGui::BeginTabItem("Presets", nullptr, sel("Presets"));
    noteItem(s, "Presets tab");
    if (presets) {
      panelPresets(s);
      ImGui::EndTabItem();
    }
    ImGui::EndTabBar();
    s.open_tab.clear();
  }
  ImGui::PopItemWidth();
  ImGui::End();
}

void applyStyle(AppState& s) {
  if (s.applied_scale == s.ui_scale) return;
  ImGuiStyle style;
  ImGui::StyleColorsDark(&style);
  style.WindowRounding = 0;
  style.Colors[ImGuiCol_WindowBg] = ImVec4(kPanelBackground[0], kPanelBackground[1], kPanelBackground[2], 1);
  style.ScaleAllSizes(s.ui_scale);
  ImGui::GetStyle() = style;
  ImGui::GetIO().FontGlobalScale = s.font_base * s.ui_scale;
  s.applied_scale = s.ui_scale;
}

}  // namespace

void initApp(AppState& s, Session& sess, const Config& config, const std::string& asset_dir) {
  s.asset_dir = asset_dir;
  listPresets(s);
  s.run[0].config = config;
  s.run[1].config = config;
  s.run[1].config.loss = otherLoss(config.loss);
  s.run[1].config.params = LossParams();
  s.dim3 = config.dim == 3;
  s.preset_compare = false;
  startWorker(s, sess, 0);
}

ViewImage viewImage(const AppState& s, const ViewSlot& v) {
  const ImVec2 fb = ImGui::GetIO().DisplayFramebufferScale;
  ViewImage im;
  im.sx = fb.x > 0 ? fb.x : 1;
  im.sy = fb.y > 0 ? fb.y : 1;
  im.w = (int)std::lround(v.w * im.sx);
  im.h = (int)std::lround(v.h * im.sy);
  im.scale = im.sx * s.ui_scale;  // legends and lines grow with the projector UI scale
  return im;
}

ViewProjection viewProjection(const AppState& s, const ViewSlot& v, const Snapshot& snap) {
  const ViewImage im = viewImage(s, v);
  ViewOptions vo = s.run[v.run].view;
  vo.kind = v.kind;
  ViewProjection P;
  P.snap = &snap;
  P.input = v.kind == ViewKind::Input;
  P.x0 = v.x, P.y0 = v.y, P.sx = im.sx, P.sy = im.sy;
  viewMatrix(snap, vo, im.w, im.h, im.scale, P.m);
  return P;
}

ImVec2 ViewProjection::toScreen(const float p[3], bool* behind) const {
  const float x = m[0] * p[0] + m[4] * p[1] + m[8] * p[2] + m[12];
  const float y = m[1] * p[0] + m[5] * p[1] + m[9] * p[2] + m[13];
  if (behind) *behind = m[2] * p[0] + m[6] * p[1] + m[10] * p[2] > 0;  // depth grows away from the viewer
  return ImVec2(x0 + x / sx, y0 + y / sy);
}

bool ViewProjection::project(int i, float& px, float& py) const {
  float p[3] = {0, 0, 0};
  if (input) {
    if ((size_t)(i + 1) * 2 > snap->inputs.size()) return false;
    p[0] = snap->inputs[2 * i], p[1] = snap->inputs[2 * i + 1];
  } else {
    const int d = snap->dim;
    if ((d != 2 && d != 3) || (size_t)(i + 1) * d > snap->embeddings.size()) return false;
    const float* h = &snap->embeddings[(size_t)i * d];
    float n = 0;
    for (int j = 0; j < d; ++j) n += h[j] * h[j];
    n = std::sqrt(std::max(n, 1e-24f));
    for (int j = 0; j < d; ++j) p[j] = h[j] / n;  // the views draw the projections on the circle or sphere
  }
  bool behind = false;
  const ImVec2 q = toScreen(p, &behind);
  px = q.x, py = q.y;
  return !behind;
}

void frame(AppState& s, Session& sess) {
  applyStyle(s);
  ImGui::NewFrame();
  pollWorkers(s, sess);
  if (sess.views) finishScreenshots(s, sess.views->takeExports());
  shortcuts(s);
  const Layout L = layout(s);
  for (const ViewSlot& v : s.views)
    drawViewPlaceholder(s, v, s.run[v.run].snapshot.get(), sess.views != nullptr);
  if (s.show_panels) {
    sidePanels(s, L);
    statusBar(s, L);
  }
  banners(s, L);
  drawModals(s);
  hoverTooltip(s);
  ImGui::Render();

  // Consequences, in an order that keeps both runs consistent.
  Requests req = s.req;
  s.req = Requests();
  s.req.toggle_fullscreen = req.toggle_fullscreen;  // the window side (gui_main) clears it
  if (req.start_compare) {
    if (!s.compare) {
      // B joins A on the same data, model and optimiser (so the same data seed gives the same points) and
      // starts from step 0; A keeps its progress. B's loss: the preset's own comparison if it has one, else
      // the loss the lecture contrasts with A's (its definition says which).
      s.run[1].config = s.run[0].config;
      s.run[1].config.loss = s.preset_compare ? s.preset_b.loss : otherLoss(s.run[0].config.loss);
      s.run[1].config.params = s.preset_compare ? s.preset_b.params : LossParams();
      s.compare = true;
      startWorker(s, sess, 1);
    } else {
      s.compare = false;
      sess.worker[1].reset();
      s.run[1].snapshot.reset();
    }
  }
  if (req.regenerate) {
    s.run[0].config.seed += 1;
    s.run[0].dirty = true;
    req.reset = true;
  }
  syncCompare(s);
  s.single_steps_sent += req.single_steps;
  s.resets_sent += req.reset ? 1 : 0;
  for (int i = 0; i < (s.compare ? 2 : 1); ++i) pushControls(s, sess, i, req.reset, req.single_steps);
  if (!req.load_preset.empty()) loadPreset(s, sess, req.load_preset);
  listFiles(s);
  if (!req.save_preset.empty()) savePreset(s, req.save_preset, req.save_overwrite_ok);
  if (req.screenshot) takeScreenshots(s, sess);
}

}  // namespace ms
