// The loop body of the desktop app (see gui_frame.h): shortcuts, layout, panels and overlays, then the
// consequences of what the user did -- Controls to the workers (applied at their next step, never waited on),
// presets loaded/saved, screenshots exported. Everything slow happens on the worker thread; the frame only
// swaps snapshot pointers.
#include "app/gui_frame.h"

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

namespace {

bool fileExists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

std::string stem(const std::string& path) {
  std::string n = path.substr(path.find_last_of('/') + 1);
  const size_t dot = n.rfind('.');
  return dot == std::string::npos ? n : n.substr(0, dot);
}

void listPresets(AppState& s) {
  s.preset_files.clear();
  std::error_code ec;
  const fs::path dir = fs::path(s.asset_dir) / "presets";
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".json") s.preset_files.push_back(e.path().string());
  std::sort(s.preset_files.begin(), s.preset_files.end());
  // The default scene first: it is what the app opens with.
  std::stable_partition(s.preset_files.begin(), s.preset_files.end(),
                        [](const std::string& p) { return stem(p) == "default"; });
  s.preset_titles.assign(s.preset_files.size(), "");
  s.preset_descriptions.assign(s.preset_files.size(), "");
  for (size_t i = 0; i < s.preset_files.size(); ++i) {
    try {
      std::ifstream in(s.preset_files[i]);
      const nlohmann::json j = nlohmann::json::parse(in);
      if (j.contains("title") && j["title"].is_string()) s.preset_titles[i] = j["title"].get<std::string>();
      if (j.contains("description") && j["description"].is_string())
        s.preset_descriptions[i] = j["description"].get<std::string>();
    } catch (const std::exception&) {
      // A broken file still gets listed by name; loading it says what is wrong.
    }
  }
}

// Compare mode's second run: the loss the lecture contrasts with this one (its definition says which).
std::string otherLoss(const std::string& loss) {
  try {
    return findLoss(loss).contrast;
  } catch (const UserError&) {
    return "softmax";
  }
}

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

void startWorker(AppState& s, Session& sess, int i, uint64_t reset_count = 0) {
  sess.worker[i].reset();
  s.run[i].snapshot.reset();
  s.run[i].input_snapshot.reset();
  s.run[i].input_metrics_step = INT64_MIN;
  s.run[i].input_version = UINT64_MAX;
  if (!sess.use_workers) return;
  Controls c;
  c.config = s.run[i].config;
  c.paused = s.paused;
  c.max_steps_per_second = s.max_steps_per_second;
  c.reset_count = reset_count;
  try {
    sess.worker[i] = makeBackgroundWorker(c);
    s.run[i].sent_paused = s.paused;
    s.run[i].sent_speed = s.max_steps_per_second;
    s.run[i].dirty = false;
    s.run[i].error.clear();
  } catch (const UserError& e) {
    s.run[i].error = e.what();
  }
}

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
    const std::string err = w->takeError();
    if (!err.empty()) r.error = err;
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

struct Layout {
  float side = 0, right = 0, status = 0;
};

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

void drawViewPlaceholder(const AppState& s, const ViewSlot& v, const Snapshot* snap, bool have_renderer) {
  ImDrawList* dl = ImGui::GetBackgroundDrawList();
  const ImVec2 a(v.x, v.y), b(v.x + v.w, v.y + v.h);
  dl->AddRect(a, b, IM_COL32(70, 70, 80, 255));
  const RunState& r = s.run[v.run];
  if (!have_renderer || !snap) {
    // The renderer draws its own legend (loss, parameters, step); without it the app labels the view.
    char label[160];
    if (v.kind == ViewKind::Input)
      std::snprintf(label, sizeof label, "input space");
    else
      std::snprintf(label, sizeof label, "%s%s  step %lld", s.compare ? (v.run ? "B: " : "A: ") : "",
                    r.config.loss.c_str(), snap ? (long long)snap->step : 0LL);
    dl->AddText(ImVec2(v.x + 8, v.y + 6), IM_COL32(220, 220, 230, 255), label);
  }
  if (!snap) {
    dl->AddText(ImVec2(v.x + 8, v.y + 6 + ImGui::GetFontSize()), IM_COL32(160, 160, 170, 255),
                r.error.empty() ? "starting..." : "not training (see the message)");
    return;
  }
  if (have_renderer) return;
  // No GL renderer (it failed to start): draw the points with ImGui so the app still shows the geometry.
  const ViewProjection P = viewProjection(s, v, *snap);
  if (v.kind != ViewKind::Input && (snap->dim == 2 || snap->dim == 3)) {
    const float o[3] = {0, 0, 0};
    const ImVec2 c = P.toScreen(o);
    const float R = std::sqrt(P.m[0] * P.m[0] + P.m[4] * P.m[4] + P.m[8] * P.m[8]) / P.sx;
    dl->AddCircle(c, R, IM_COL32(120, 120, 130, 255), 128);
    for (int k = 0; k < snap->K; ++k) {
      const double* w = &snap->weights[(size_t)k * snap->dim];
      double nw = 0;
      for (int j = 0; j < snap->dim; ++j) nw += w[j] * w[j];
      nw = std::sqrt(std::max(nw, 1e-12));
      const float tip[3] = {float(w[0] / nw), float(w[1] / nw), snap->dim == 3 ? float(w[2] / nw) : 0.0f};
      dl->AddLine(c, P.toScreen(tip), seriesColor(k), 2.5f);
    }
  }
  const int n = (int)snap->labels.size();
  for (int i = 0; i < n; ++i) {
    float px, py;
    if (!P.project(i, px, py)) continue;
    dl->AddRectFilled(ImVec2(px - 1.5f, py - 1.5f), ImVec2(px + 1.5f, py + 1.5f),
                      seriesColor(snap->labels[i]));
  }
}

void hoverTooltip(AppState& s) {
  const ImGuiIO& io = ImGui::GetIO();
  s.hover_text.clear();
  if (io.WantCaptureMouse) return;
  const float mx = io.MousePos.x, my = io.MousePos.y;
  for (const ViewSlot& v : s.views) {
    if (mx < v.x || my < v.y || mx >= v.x + v.w || my >= v.y + v.h) continue;
    const Snapshot* snap = s.run[v.run].snapshot.get();
    if (!snap) return;
    // Drag rotates the sphere, the wheel zooms it.
    if (v.kind == ViewKind::Sphere) {
      ViewOptions& vo = s.run[v.run].view;
      if (ImGui::IsMouseDragging(0)) {
        vo.yaw += io.MouseDelta.x * 0.01f;
        vo.pitch = std::clamp(vo.pitch + io.MouseDelta.y * 0.01f, -1.5f, 1.5f);
      }
      if (io.MouseWheel != 0) vo.zoom = std::clamp(vo.zoom * std::pow(1.1f, io.MouseWheel), 0.3f, 5.0f);
    }
    int best = -1;
    float bd = 64;  // within 8 px
    const int n = (int)snap->labels.size();
    const ViewProjection P = viewProjection(s, v, *snap);
    for (int i = 0; i < n; ++i) {
      float px, py;
      if (!P.project(i, px, py)) continue;
      const float d = (px - mx) * (px - mx) + (py - my) * (py - my);
      if (d < bd) bd = d, best = i;
    }
    if (best < 0) return;
    const int d = snap->dim;
    const float* h = &snap->embeddings[(size_t)best * d];
    char line[96];
    const int label = snap->labels[best];
    const bool named = label >= 0 && label < (int)snap->class_names.size();
    std::snprintf(line, sizeof line, "class %d%s%s (%s%s)", label, named ? " " : "",
                  named ? snap->class_names[label].c_str() : "",
                  !snap->is_test.empty() && snap->is_test[best] ? "test" : "train",
                  label >= snap->K ? ", held out" : "");
    s.hover_text = line;
    double hn = 0;
    for (int j = 0; j < d; ++j) hn += (double)h[j] * h[j];
    hn = std::sqrt(std::max(hn, 1e-24));
    for (int k = 0; k < snap->K && (size_t)(k + 1) * d <= snap->weights.size(); ++k) {
      const double* w = &snap->weights[(size_t)k * d];
      double dot = 0, wn = 0;
      for (int j = 0; j < d; ++j) dot += h[j] * w[j], wn += w[j] * w[j];
      const double cs = std::clamp(dot / (hn * std::sqrt(std::max(wn, 1e-24))), -1.0, 1.0);
      std::snprintf(line, sizeof line, "\nangle to W%d: %.1f deg%s", k, std::acos(cs) * 180 / kPi,
                    k == snap->labels[best] ? "  (own)" : "");
      s.hover_text += line;
    }
    std::snprintf(line, sizeof line, "\n|h| = %.3g", hn);
    s.hover_text += line;
    ImGui::SetTooltip("%s", s.hover_text.c_str());
    return;
  }
}

void banners(AppState& s, const Layout& L) {
  const ImGuiIO& io = ImGui::GetIO();
  std::vector<std::pair<std::string, int>> msgs;  // text, kind: 0 app error, 1/2 run error, 3/4 divergence
  if (!s.error.empty()) msgs.push_back({s.error, 0});
  for (int i = 0; i < 2; ++i) {
    if (!s.run[i].error.empty()) msgs.push_back({s.run[i].error, 1 + i});
    const Snapshot* snap = s.run[i].snapshot.get();
    if (snap && snap->diverged) {
      char head[96];
      std::snprintf(head, sizeof head, "%s diverged at step %lld; the last finite parameters are restored. ",
                    snap->loss.c_str(), (long long)snap->step);
      msgs.push_back({head + snap->message, 3 + i});
    }
  }
  if (msgs.empty()) return;
  const float x = L.side + 10, w = io.DisplaySize.x - L.side - L.right - 20;
  ImGui::SetNextWindowPos(ImVec2(x, 30));
  ImGui::SetNextWindowSize(ImVec2(std::max(200.0f, w), 0));
  ImGui::PushStyleColor(ImGuiCol_WindowBg, ImVec4(0.45f, 0.08f, 0.08f, 0.95f));
  ImGui::Begin("##errors", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                   ImGuiWindowFlags_AlwaysAutoResize);
  for (size_t m = 0; m < msgs.size(); ++m) {
    ImGui::PushID((int)m);
    ImGui::PushTextWrapPos(0);
    ImGui::TextUnformatted(msgs[m].first.c_str());
    ImGui::PopTextWrapPos();
    const int kind = msgs[m].second;
    if (kind == 0 && ImGui::SmallButton("dismiss")) s.error.clear();
    if ((kind == 1 || kind == 2) && ImGui::SmallButton("dismiss")) s.run[kind - 1].error.clear();
    if (kind <= 2) noteItem(s, "dismiss");
    if (kind >= 3) {
      if (ImGui::SmallButton("reset")) s.req.reset = true;
      noteItem(s, "diverged reset");
      ImGui::SameLine();
      if (ImGui::SmallButton("continue")) {
        s.paused = false;
        s.run[kind - 3].dirty = true;
      }
      noteItem(s, "diverged continue");
    }
    ImGui::PopID();
  }
  ImGui::End();
  ImGui::PopStyleColor();
}

void statusBar(AppState& s, const Layout& L) {
  const ImGuiIO& io = ImGui::GetIO();
  ImGui::SetNextWindowPos(ImVec2(L.side, io.DisplaySize.y - L.status));
  ImGui::SetNextWindowSize(ImVec2(io.DisplaySize.x - L.side - L.right, L.status));
  ImGui::Begin("##status", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                   ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoFocusOnAppearing |
                   ImGuiWindowFlags_NoBackground);
  if (!s.status.empty() && s.now - s.status_time < 8)
    ImGui::TextUnformatted(s.status.c_str());
  else
    ImGui::TextDisabled("%s  |  space pause  . step  r reset  s screenshot  h hide panels  F11 fullscreen",
                        s.paused ? "paused" : "training");
  ImGui::End();
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

std::string findAssetDir(const std::string& exe_path) {
  std::error_code ec;
  const fs::path compiled = MS_ASSET_DIR;
  if (fs::exists(compiled / "presets", ec)) return compiled.string();
  const fs::path exe = fs::canonical(exe_path, ec);
  if (!ec) {
    for (const fs::path& cand : {exe.parent_path() / ".." / "assets", exe.parent_path() / "assets",
                                 exe.parent_path() / ".." / "share" / "marginscope" / "assets"})
      if (fs::exists(cand / "presets", ec)) return fs::weakly_canonical(cand, ec).string();
  }
  return compiled.string();
}

Preset parsePreset(const std::string& path) {
  Preset out;
  nlohmann::json j = readJsonFile("preset", path);  // bounded: not a folder, size and nesting limited
  try {
    if (!j.is_object()) throw UserError("expected a JSON object");
    // The app's own keys; everything else is the --config format, checked by applyConfigJson.
    auto text = [&](const char* key, std::string& dst) {
      if (!j.contains(key)) return;
      if (!j[key].is_string()) throw UserError(std::string("preset key '") + key + "': expected a string");
      dst = j[key].get<std::string>();
      j.erase(key);
    };
    text("title", out.title);
    text("description", out.description);
    nlohmann::json compare;
    if (j.contains("compare")) compare = j["compare"], j.erase("compare");
    applyConfigJson(j, out.a);
    validateConfig(out.a);
    validateParams(findLoss(out.a.loss), out.a.params, out.a.classes);
    if (!compare.is_null()) {
      if (!compare.is_object())
        throw UserError("preset key 'compare': expected an object {\"loss\", \"params\"}");
      for (auto it = compare.begin(); it != compare.end(); ++it)
        if (it.key() != "loss" && it.key() != "params")
          throw UserError("preset key 'compare." + it.key() + "' is unknown (allowed: loss, params)");
      out.b = out.a;
      out.b.params = LossParams();
      applyConfigJson(compare, out.b);
      validateParams(findLoss(out.b.loss), out.b.params, out.b.classes);
      out.compare = true;
    }
  } catch (const UserError& e) {
    throw UserError("preset '" + path + "': " + e.what());
  }
  return out;
}

bool loadPreset(AppState& s, Session& sess, const std::string& path) {
  Preset p;
  try {
    p = parsePreset(path);
  } catch (const std::exception& e) {
    // Nothing changes: the scene keeps running and the banner says which key was wrong.
    s.error = e.what();
    return false;
  }
  s.error.clear();
  s.preset_name = stem(path);
  s.preset_title = p.title;
  s.preset_description = p.description;
  s.run[0].config = p.a;
  s.dim3 = p.a.dim == 3;
  if (p.compare) {
    s.run[1].config = p.b;
  } else {
    s.run[1].config = p.a;
    s.run[1].config.loss = otherLoss(p.a.loss);
    s.run[1].config.params = LossParams();
  }
  s.compare = p.compare;
  s.paused = false;
  startWorker(s, sess, 0);
  if (p.compare)
    startWorker(s, sess, 1);
  else
    sess.worker[1].reset(), s.run[1].snapshot.reset();
  setStatus(s, "loaded " + (p.title.empty() ? path : p.title + "  (" + path + ")"));
  return true;
}

bool savePreset(AppState& s, const std::string& path, bool overwrite_ok) {
  if (fileExists(path) && !overwrite_ok) {
    s.confirm_overwrite = true;
    s.save_path = path;
    return false;
  }
  try {
    nlohmann::json j = configToJson(s.run[0].config);
    if (s.compare) {
      nlohmann::json b = configToJson(s.run[1].config);
      j["compare"] = {{"loss", b["loss"]},
                      {"params", b.contains("params") ? b["params"] : nlohmann::json::object()}};
    }
    writeFileAtomic(path, j.dump(2) + "\n");
  } catch (const std::exception& e) {
    s.error = std::string("could not save: ") + e.what();
    return false;
  }
  std::error_code ec;
  setStatus(s, "saved preset " + fs::absolute(path, ec).string());
  return true;
}

void initApp(AppState& s, Session& sess, const Config& config, const std::string& asset_dir) {
  s.asset_dir = asset_dir;
  listPresets(s);
  s.run[0].config = config;
  s.run[1].config = config;
  s.run[1].config.loss = otherLoss(config.loss);
  s.run[1].config.params = LossParams();
  s.dim3 = config.dim == 3;
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
      s.run[1].config = s.run[0].config;
      s.run[1].config.loss = otherLoss(s.run[0].config.loss);
      s.run[1].config.params = LossParams();
      s.compare = true;
      startWorker(s, sess, 1);
      req.reset = true;  // both start from step 0 on the same data and seed
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
  if (!req.save_preset.empty()) savePreset(s, req.save_preset, req.save_overwrite_ok);
  if (req.screenshot) takeScreenshots(s, sess);
}

}  // namespace ms
