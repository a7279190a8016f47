// Small line plots drawn with ImGui draw lists (Debian has no ImPlot): loss/accuracy curves over time and the
// theory panel's target-logit curves. Several series share one frame and one y range; hovering shows values.
#pragma once
#include <imgui.h>

#include <cmath>

#include <string>
#include <vector>

namespace ms {

struct PlotSeries {
  std::string label;
  std::vector<float> y;  // evenly spaced over the x range
  ImU32 color = 0xffffffff;
  bool dashed = false;
};

struct PlotOptions {
  float height = 120;        // logical pixels (scaled by the font scale)
  float x0 = 0, x1 = 1;      // x range shown on the axis labels and tooltips
  float y0 = 0, y1 = 1;      // y range when not autoscaled
  bool autoscale = true;     // y range from the data (finite values only)
  bool legend = true;        //
  const char* x_label = "";  // e.g. "step", "theta (deg)"
  float hline = NAN;         // a horizontal reference line (e.g. 0), NaN = none
};

// Draws the plot as one item of the current window (width = available width). Returns true when hovered.
bool plotLines(const char* id, const std::vector<PlotSeries>& series, const PlotOptions& opt);

// Distinct colours for classes and series, readable on dark and paper backgrounds.
ImU32 seriesColor(int i, float alpha = 1.0f);

}  // namespace ms
