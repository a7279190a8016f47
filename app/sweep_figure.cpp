// The summary figure of a sweep: one panel per metric, each configuration's mean as a dot with its 95%
// confidence interval as an error bar and every seed's value as a faint dot beside it, and a key that
// numbers the configurations. A plain raster drawing (rectangles, dots, text from render/text.h): the
// figure backend of the views does not exist yet, and a table of intervals needs nothing more.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "app/sweep_summary.h"
#include "render/palette.h"
#include "render/text.h"

namespace ms {

namespace {

struct Canvas {
  int w, h;
  std::vector<uint8_t> px;  // RGBA, rows top first
  std::shared_ptr<BakedFont> small, large;

  void blend(int x, int y, Rgba c, float a) {
    if (x < 0 || y < 0 || x >= w || y >= h || a <= 0) return;
    uint8_t* p = &px[(size_t(y) * size_t(w) + size_t(x)) * 4];
    const float k = std::min(1.f, a * c.a);
    p[0] = uint8_t(std::lround(p[0] * (1 - k) + 255 * c.r * k));
    p[1] = uint8_t(std::lround(p[1] * (1 - k) + 255 * c.g * k));
    p[2] = uint8_t(std::lround(p[2] * (1 - k) + 255 * c.b * k));
  }
  void rect(float x0, float y0, float x1, float y1, Rgba c) {
    for (int y = int(std::floor(std::min(y0, y1))); y < int(std::ceil(std::max(y0, y1))); ++y)
      for (int x = int(std::floor(std::min(x0, x1))); x < int(std::ceil(std::max(x0, x1))); ++x)
        blend(x, y, c, 1);
  }
  void dot(float cx, float cy, float r, Rgba c) {
    for (int y = int(cy - r - 1); y <= int(cy + r + 1); ++y)
      for (int x = int(cx - r - 1); x <= int(cx + r + 1); ++x) {
        const float d = std::hypot(x + 0.5f - cx, y + 0.5f - cy);
        blend(x, y, c, std::clamp(r + 0.5f - d, 0.f, 1.f));  // a soft edge of one pixel
      }
  }
  // Text with its baseline at y; align 0 left, 0.5 centre, 1 right.
  void text(const std::string& s, float x, float y, bool big, Rgba c, float align = 0) {
    const std::shared_ptr<BakedFont>& f = big ? large : small;
    if (!f) return;
    x -= align * textWidth(s, float(f->px));
    std::vector<GlyphQuad> q;
    layoutText(*f, s, std::round(x), std::round(y), q);
    for (const GlyphQuad& g : q)
      for (int yy = int(g.y0); yy < int(g.y1); ++yy)
        for (int xx = int(g.x0); xx < int(g.x1); ++xx) {
          const int u = int((g.u0 + (xx - g.x0 + 0.5f) / (g.x1 - g.x0) * (g.u1 - g.u0)) * f->width);
          const int v = int((g.v0 + (yy - g.y0 + 0.5f) / (g.y1 - g.y0) * (g.v1 - g.v0)) * f->height);
          if (u >= 0 && v >= 0 && u < f->width && v < f->height)
            blend(xx, yy, c, f->pixels[size_t(v) * size_t(f->width) + size_t(u)] / 255.f);
        }
  }
};

std::string fmt(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", x);
  return b;
}

// About five round tick values covering [lo, hi].
std::vector<double> ticks(double lo, double hi) {
  const double raw = (hi - lo) / 4, mag = std::pow(10, std::floor(std::log10(raw)));
  const double step = raw / mag < 1.5 ? mag : raw / mag < 3 ? 2 * mag : raw / mag < 7 ? 5 * mag : 10 * mag;
  std::vector<double> t;
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    t.push_back(std::abs(v) < step * 1e-9 ? 0 : v);
  return t;
}

void panel(Canvas& cv, const SweepSummary& s, int m, float x0, float y0, float pw, float ph) {
  const Rgba ink{0.1f, 0.1f, 0.1f, 1}, grid{0.88f, 0.88f, 0.88f, 1}, muted{0.45f, 0.45f, 0.45f, 1};
  const float L = x0 + 62, R = x0 + pw - 14, T = y0 + 34, B = y0 + ph - 30;
  cv.text(sweepMetrics()[size_t(m)].title, (L + R) / 2, y0 + 22, true, ink, 0.5f);
  double lo = INFINITY, hi = -INFINITY;
  for (const SweepGroup& g : s.groups) {
    for (double v : g.values[size_t(m)])
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    const Stat& st = g.stats[size_t(m)];
    if (std::isfinite(st.ci_low)) lo = std::min(lo, st.ci_low), hi = std::max(hi, st.ci_high);
  }
  cv.rect(L, B, R, B + 1, ink);
  cv.rect(L - 1, T, L, B + 1, ink);
  if (!(lo <= hi)) {
    cv.text("no values", (L + R) / 2, (T + B) / 2, false, muted, 0.5f);
    return;
  }
  const double pad = hi > lo ? 0.08 * (hi - lo) : std::max(0.05 * std::abs(lo), 1e-3);
  lo -= pad;
  hi += pad;
  auto Y = [&](double v) { return float(B - (v - lo) / (hi - lo) * (B - T)); };
  for (double t : ticks(lo, hi)) {
    cv.rect(L, Y(t), R, Y(t) + 1, grid);
    cv.rect(L - 5, Y(t), L - 1, Y(t) + 1, ink);
    cv.text(fmt(t), L - 8, Y(t) + 5, false, ink, 1);
  }
  const size_t G = s.groups.size();
  const float slot = (R - L) / float(G);
  for (size_t i = 0; i < G; ++i) {
    const SweepGroup& g = s.groups[i];
    const float cx = L + (float(i) + 0.5f) * slot;
    const Rgba col = classColour(int(i), int(G));
    if (G <= 40 || i % ((G + 19) / 20) == 0) cv.text(std::to_string(i + 1), cx, B + 18, false, ink, 0.5f);
    const std::vector<double>& vals = g.values[size_t(m)];
    for (size_t k = 0; k < vals.size(); ++k)  // seeds: faint dots spread a little to the right
      if (std::isfinite(vals[k]))
        cv.dot(cx + slot * 0.18f + slot * 0.12f * float(k) / float(std::max<size_t>(1, vals.size() - 1)),
               Y(vals[k]), 2.2f, withAlpha(col, 0.45f));
    const Stat& st = g.stats[size_t(m)];
    if (std::isfinite(st.ci_low)) {
      const float cap = std::min(8.f, slot * 0.15f);
      cv.rect(cx - 1, Y(st.ci_high), cx + 1, Y(st.ci_low), ink);
      cv.rect(cx - cap, Y(st.ci_high) - 1, cx + cap, Y(st.ci_high) + 1, ink);
      cv.rect(cx - cap, Y(st.ci_low) - 1, cx + cap, Y(st.ci_low) + 1, ink);
    }
    if (std::isfinite(st.mean)) {
      cv.dot(cx, Y(st.mean), 4.5f, ink);
      cv.dot(cx, Y(st.mean), 3.5f, col);
    }
  }
}

}  // namespace

std::vector<uint8_t> summaryFigure(const SweepSummary& s, int& width, int& height) {
  const int cols = 4, pw = 440, ph = 320;
  const int key_cols = 2, key_rows = int((s.groups.size() + key_cols - 1) / key_cols);
  width = cols * pw;
  height = 2 * ph + 40 + 22 * key_rows + 16;
  Canvas cv{width, height, std::vector<uint8_t>(size_t(width) * size_t(height) * 4, 255), nullptr, nullptr};
  if (fontAvailable()) {
    cv.small = bakeFont(13);
    cv.large = bakeFont(16);
  }
  for (int m = 0; m < kSweepMetrics; ++m)
    panel(cv, s, m, float((m % cols) * pw), float((m / cols) * ph), float(pw), float(ph));
  // The eighth cell: what the dots and bars are.
  const Rgba ink{0.1f, 0.1f, 0.1f, 1};
  const float nx = 3 * pw + 30, ny = ph + 60;
  cv.text("dot: mean over seeds", nx, ny, true, ink);
  cv.text("bar: 95% confidence interval (Student t)", nx, ny + 26, true, ink);
  cv.text("faint dots: one per seed", nx, ny + 52, true, ink);
  cv.text("numbers: configurations (key below)", nx, ny + 78, true, ink);
  for (size_t i = 0; i < s.groups.size(); ++i) {
    const float x = 30 + float(i % key_cols) * (width / key_cols), y = 2 * ph + 40 + 22 * float(i / key_cols);
    cv.dot(x, y - 5, 5, classColour(int(i), int(s.groups.size())));
    cv.text(std::to_string(i + 1) + "  " + groupName(s, s.groups[i]) + "   (" +
                std::to_string(s.groups[i].runs) + " runs)",
            x + 14, y, true, ink);
  }
  return cv.px;
}

}  // namespace ms
