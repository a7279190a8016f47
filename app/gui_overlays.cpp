// What the frame draws over the views: the placeholder text of a view without a picture, the hover tooltip,
// the banners (errors, divergence, training warnings with advice) and the status bar.
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
    // In the middle of the view: the renderer's title and legend sit at its top.
    const char* msg = r.error.empty() ? "starting..." : "not training (see the message)";
    const ImVec2 ts = ImGui::CalcTextSize(msg);
    dl->AddText(ImVec2(v.x + (v.w - ts.x) / 2, v.y + (v.h - ts.y) / 2), IM_COL32(160, 160, 170, 255), msg);
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

namespace {

// Advice for a warning the trainer raised (sim/warnings.h). Its message already says what to try; this is
// the one-line lead the banner puts before it.
const char* warningTitle(const std::string& code) {
  if (code == "collapse") return "Training collapsed";
  if (code == "dead_class") return "A class has no region";
  if (code == "lr_oscillation") return "The loss oscillates";
  if (code == "diverged") return "Training diverged";
  return "Warning";
}

}  // namespace

void banners(AppState& s, const Layout& L) {
  const ImGuiIO& io = ImGui::GetIO();
  // kind: 0 app error, 1/2 run error, 3/4 divergence of run A/B, 5/6 a training warning of run A/B
  struct Msg {
    std::string text;
    int kind;
    std::string code;
  };
  std::vector<Msg> msgs;
  if (!s.error.empty()) msgs.push_back({s.error, 0, ""});
  const int runs = s.compare ? 2 : 1;
  for (int i = 0; i < 2; ++i) {
    if (!s.run[i].error.empty()) msgs.push_back({s.run[i].error, 1 + i, ""});
    const Snapshot* snap = s.run[i].snapshot.get();
    if (i >= runs || !snap) continue;
    if (snap->diverged) {
      char head[96];
      std::snprintf(head, sizeof head, "%s diverged at step %lld; the last finite parameters are restored. ",
                    snap->loss.c_str(), (long long)snap->step);
      msgs.push_back({head + snap->message, 3 + i, ""});
    }
    for (const Warning& w : snap->warnings) {
      if (w.code == "diverged" || s.run[i].dismissed.count(w.code)) continue;
      std::string head = std::string(s.compare ? (i ? "B: " : "A: ") : "") + warningTitle(w.code) + ": ";
      msgs.push_back({head + w.message, 5 + i, w.code});
    }
  }
  // A code that is no longer raised may be shown again when it returns.
  for (int i = 0; i < 2; ++i) {
    const Snapshot* snap = s.run[i].snapshot.get();
    if (!snap) continue;
    for (auto it = s.run[i].dismissed.begin(); it != s.run[i].dismissed.end();) {
      bool raised = false;
      for (const Warning& w : snap->warnings) raised |= w.code == *it;
      it = raised ? std::next(it) : s.run[i].dismissed.erase(it);
    }
  }
  s.banner_rect = {0, 0, 0, 0};
  if (msgs.empty()) return;
  // Over the lower part of the views, above the status bar: the view's title and legend stay readable at
  // the top, and the banner is in the lecturer's line of sight.
  const float x = L.side + 10, w = std::max(200.0f, io.DisplaySize.x - L.side - L.right - 20);
  ImGui::SetNextWindowPos(ImVec2(x, io.DisplaySize.y - L.status - 10), ImGuiCond_Always, ImVec2(0, 1));
  ImGui::SetNextWindowSize(ImVec2(w, 0));
  const bool only_warnings = std::all_of(msgs.begin(), msgs.end(), [](const Msg& m) { return m.kind >= 5; });
  ImGui::PushStyleColor(ImGuiCol_WindowBg, only_warnings ? ImVec4(0.55f, 0.36f, 0.02f, 0.96f)
                                                         : ImVec4(0.45f, 0.08f, 0.08f, 0.95f));
  ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1, 1, 1, 1));
  ImGui::Begin("##errors", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                   ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoFocusOnAppearing);
  // Readable from the back of a room: the banner's text is larger than the panels'.
  ImGui::SetWindowFontScale(1.25f);
  for (size_t m = 0; m < msgs.size(); ++m) {
    ImGui::PushID((int)m);
    ImGui::PushTextWrapPos(0);
    ImGui::TextUnformatted(msgs[m].text.c_str());
    ImGui::PopTextWrapPos();
    const int kind = msgs[m].kind;
    if (kind == 0 && ImGui::SmallButton("dismiss")) s.error.clear();
    if ((kind == 1 || kind == 2) && ImGui::SmallButton("dismiss")) s.run[kind - 1].error.clear();
    if (kind <= 2) noteItem(s, "dismiss");
    if (kind == 3 || kind == 4) {
      if (ImGui::SmallButton("reset")) s.req.reset = true;
      noteItem(s, "diverged reset");
      ImGui::SameLine();
      if (ImGui::SmallButton("continue")) {
        s.paused = false;
        s.run[kind - 3].dirty = true;
      }
      noteItem(s, "diverged continue");
    }
    if (kind >= 5) {
      if (ImGui::SmallButton("dismiss")) s.run[kind - 5].dismissed.insert(msgs[m].code);
      noteItem(s, ("dismiss " + msgs[m].code).c_str());
      ImGui::SameLine();
      if (ImGui::SmallButton("reset")) s.req.reset = true;
    }
    ImGui::PopID();
  }
  const ImVec2 bp = ImGui::GetWindowPos(), bs = ImGui::GetWindowSize();
  s.banner_rect = {bp.x, bp.y, bp.x + bs.x, bp.y + bs.y};
  ImGui::End();
  ImGui::PopStyleColor(2);
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

}  // namespace ms
