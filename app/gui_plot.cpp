// Line plots with ImGui draw lists; see gui_plot.h. Long series are decimated to one vertex per two pixels
// so that a 10^5-step loss history costs the same per frame as a short one.
#include "app/gui_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ms {

ImU32 seriesColor(int i, float alpha) {
  // Tableau 10 (distinguishable and familiar from paper figures), then six more so that the theory panel's
  // sixteen curves do not share a colour, and eight more for the Theory tab with every curve ticked.
  static const unsigned kRgb[24] = {0x4e79a7, 0xf28e2b, 0xe15759, 0x76b7b2, 0x59a14f, 0xedc948,
                                    0xb07aa1, 0xff9da7, 0x9c755f, 0xbab0ac, 0x17becf, 0xbcbd22,
                                    0xd62728, 0x9467bd, 0xaec7e8, 0x98df8a, 0xffffff, 0x00ff7f,
                                    0xff00ff, 0xffd700, 0x40e0d0, 0xa0522d, 0x3333ff, 0x7cfc00};
  const unsigned c = kRgb[((i % 24) + 24) % 24];
  return IM_COL32((c >> 16) & 255, (c >> 8) & 255, c & 255, (int)(alpha * 255));
}

bool plotLines(const char* id, const std::vector<PlotSeries>& series, const PlotOptions& opt) {
  ImGui::PushID(id);
  const float scale = ImGui::GetFontSize() / 13.0f;
  const float fs = ImGui::GetFontSize();
  const bool ticks = !opt.x_ticks.empty() || !opt.y_ticks.empty();
  const float w = std::max(50.0f, ImGui::GetContentRegionAvail().x);
  const float h = opt.height * scale;
  const ImVec2 c0 = ImGui::GetCursorScreenPos();
  // With ticks: a unit line above, the y labels' gutter on the left and the x labels' line below.
  const float gut_l = ticks ? ImGui::CalcTextSize("-1.5").x + 6 : 0;
  const float gut_t = ticks && (*opt.y_unit || *opt.x_unit) ? fs + 2 : 0;
  const float gut_b = ticks ? fs + 4 : 0;
  ImGui::InvisibleButton("plot", ImVec2(w, h + gut_t + gut_b));
  const ImVec2 p0(c0.x + gut_l, c0.y + gut_t);
  const bool hovered = ImGui::IsItemHovered();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p1(c0.x + w, p0.y + h);
  if (opt.rect) *opt.rect = {p0.x, p0.y, p1.x, p1.y};
  dl->AddRectFilled(p0, p1, IM_COL32(20, 22, 28, 255));
  dl->AddRect(p0, p1, IM_COL32(90, 90, 100, 255));

  float y0 = opt.y0, y1 = opt.y1;
  if (opt.autoscale) {
    y0 = INFINITY;
    y1 = -INFINITY;
    for (const auto& s : series)
      for (float v : s.y)
        if (std::isfinite(v)) {
          y0 = std::min(y0, v);
          y1 = std::max(y1, v);
        }
    if (!(y0 <= y1)) y0 = 0, y1 = 1;
    if (y1 - y0 < 1e-6f) y0 -= 0.5f, y1 += 0.5f;
    const float pad = 0.05f * (y1 - y0);
    // Non-negative data (accuracies, losses) keeps its floor at 0 rather than padding below it.
    y0 = y0 >= 0 ? std::max(0.0f, y0 - pad) : y0 - pad;
    y1 += pad;
  }
  const float left = p0.x + 2, right = p1.x - 2, top = p0.y + 2, bottom = p1.y - 2;
  auto toY = [&](float v) { return bottom - (v - y0) / (y1 - y0) * (bottom - top); };
  auto toX = [&](float v) { return left + (v - opt.x0) / (opt.x1 - opt.x0) * (right - left); };
  const ImU32 grid = IM_COL32(60, 60, 70, 255), label = IM_COL32(190, 190, 200, 255);
  char tick[32];
  if (ticks) {
    for (float t : opt.y_ticks) {
      if (t < y0 || t > y1) continue;
      dl->AddLine(ImVec2(left, toY(t)), ImVec2(right, toY(t)), grid);
      std::snprintf(tick, sizeof tick, "%g", t);
      const float tw = ImGui::CalcTextSize(tick).x;
      dl->AddText(ImVec2(p0.x - 4 - tw, toY(t) - fs / 2), label, tick);
    }
    for (size_t i = 0; i < opt.x_ticks.size(); ++i) {
      const float t = opt.x_ticks[i];
      dl->AddLine(ImVec2(toX(t), top), ImVec2(toX(t), bottom), grid);
      std::snprintf(tick, sizeof tick, "%g", t);
      const float tw = ImGui::CalcTextSize(tick).x;
      // Centred under the tick, kept inside the plot's width.
      const float tx = std::clamp(toX(t) - tw / 2, c0.x, c0.x + w - tw);
      dl->AddText(ImVec2(tx, p1.y + 2), label, tick);
    }
    // The units on the line above the frame: y's at the left, x's at the right.
    if (*opt.y_unit) dl->AddText(ImVec2(c0.x, c0.y), label, opt.y_unit);
    if (*opt.x_unit)
      dl->AddText(ImVec2(c0.x + w - ImGui::CalcTextSize(opt.x_unit).x, c0.y), label, opt.x_unit);
  } else {
    // Quarter grid lines for orientation.
    for (int g = 1; g < 4; ++g) {
      const float gy = top + g * (bottom - top) / 4;
      dl->AddLine(ImVec2(left, gy), ImVec2(right, gy), grid);
    }
  }
  if (std::isfinite(opt.hline) && opt.hline > y0 && opt.hline < y1)
    dl->AddLine(ImVec2(left, toY(opt.hline)), ImVec2(right, toY(opt.hline)), IM_COL32(140, 140, 150, 255));

  dl->PushClipRect(p0, p1, true);
  std::vector<ImVec2> pts;
  // A whole-pixel width lets ImGui anti-alias the line with its texture (two triangles a segment) rather
  // than with geometry fringes (six).
  const float base_w = std::max(1.0f, std::round(1.5f * scale));
  for (const auto& s : series) {
    const float line_w = std::max(1.0f, std::round(base_w * s.width));
    const int n = (int)s.y.size();
    if (n < 1) continue;
    // One vertex per two pixels: under a software rasteriser each line segment's triangles cost more than
    // their pixels, and the plots were most of the UI's triangles.
    const int cols = std::max(2, (int)(right - left) / 2);
    const int stride = std::max(1, n / cols);
    pts.clear();
    for (int i = 0; i < n; i += stride) {
      // Within a decimation bucket keep the last finite value: curves end where the data ends.
      const float v = s.y[std::min(n - 1, i + stride - 1)];
      if (!std::isfinite(v)) continue;
      const float fx = n > 1 ? (float)std::min(n - 1, i + stride - 1) / (n - 1) : 0.5f;
      pts.push_back(ImVec2(left + fx * (right - left), toY(v)));
    }
    if (s.dashed) {
      for (size_t i = 1; i < pts.size(); i += 2) dl->AddLine(pts[i - 1], pts[i], s.color, line_w);
    } else if (pts.size() >= 2) {
      dl->AddPolyline(pts.data(), (int)pts.size(), s.color, 0, line_w);
    }
  }
  dl->PopClipRect();

  if (!ticks) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3g", y1);
    dl->AddText(ImVec2(left + 2, top), IM_COL32(170, 170, 180, 255), buf);
    std::snprintf(buf, sizeof buf, "%.3g", y0);
    dl->AddText(ImVec2(left + 2, bottom - ImGui::GetFontSize()), IM_COL32(170, 170, 180, 255), buf);
  }

  if (hovered) {
    const float fx = std::clamp((ImGui::GetIO().MousePos.x - left) / (right - left), 0.0f, 1.0f);
    dl->AddLine(ImVec2(left + fx * (right - left), top), ImVec2(left + fx * (right - left), bottom),
                IM_COL32(200, 200, 200, 120));
    ImGui::BeginTooltip();
    ImGui::Text("%s %.4g", opt.x_label, opt.x0 + fx * (opt.x1 - opt.x0));
    for (const auto& s : series) {
      if (s.y.empty()) continue;
      const int i = (int)std::lround(fx * (s.y.size() - 1));
      ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(s.color), "%s: %.4g", s.label.c_str(), s.y[i]);
    }
    ImGui::EndTooltip();
  }
  if (opt.legend) {
    // Wrapped legend: an entry moves to the next line when it would cross the window's right edge.
    const float right_edge = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    bool first = true;
    for (const auto& s : series) {
      char entry[96];
      std::snprintf(entry, sizeof entry, "%s%s%s", s.dashed ? "- - " : "-- ", s.label.c_str(),
                    s.width > 1 ? " (trained)" : "");
      if (!first) {
        const float w = ImGui::CalcTextSize(entry).x;
        if (ImGui::GetItemRectMax().x + ImGui::GetStyle().ItemSpacing.x + w <= right_edge) ImGui::SameLine();
      }
      first = false;
      ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(s.color), "%s", entry);
    }
  }
  ImGui::PopID();
  return hovered;
}

}  // namespace ms
