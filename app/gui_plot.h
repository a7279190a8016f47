// Small line plots drawn with ImGui draw lists (Debian has no ImPlot): loss/accuracy curves over time and the
// theory panel's target-logit curves. Several series share one frame and one y range; hovering shows values.
#pragma once
#include <imgui.h>

#include <array>
#include <cmath>
#include <string>
#include <vector>

namespace ms {

struct PlotSeries {
  std::string label;
  std::vector<float> y;  // evenly spaced over the x range
  ImU32 color = 0xffffffff;
  bool dashed = false;
  float width = 1;  // line width as a multiple of the normal one (the Theory tab's active loss: 3)
};

struct PlotOptions {
  float height = 120;        // logical pixels (scaled by the font scale)
  float x0 = 0, x1 = 1;      // x range shown on the axis labels and tooltips
  float y0 = 0, y1 = 1;      // y range when not autoscaled
  bool autoscale = true;     // y range from the data (finite values only)
  bool legend = true;        //
  const char* x_label = "";  // e.g. "step", "theta (deg)"
  float hline = NAN;         // a horizontal reference line (e.g. 0), NaN = none
  // Labelled ticks with grid lines (else quarter grid lines and the y range at the corners). With ticks the
  // plot keeps a gutter left of and below its frame for the labels.
  std::vector<float> x_ticks, y_ticks;
  const char* x_unit = "";               // printed above the frame at the right, e.g. "theta in deg"
  const char* y_unit = "";               // printed above the y axis
  std::array<float, 4>* rect = nullptr;  // out: the data frame (x0, y0, x1, y1) in screen coordinates
};

// Draws the plot as one item of the current window (width = available width). Returns true when hovered.
bool plotLines(const char* id, const std::vector<PlotSeries>& series, const PlotOptions& opt);

// Distinct colours for classes and series, readable on dark and paper backgrounds.
ImU32 seriesColor(int i, float alpha = 1.0f);

}  // namespace ms
