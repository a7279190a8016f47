// Class and theme colours. Up to ten classes one ordered palette, whose every prefix is the palette for that
// many classes; beyond ten no qualitative palette stays distinguishable, so hues are spread by the golden
// angle.
#include "render/palette.h"

#include <algorithm>
#include <cmath>

namespace ms {

namespace {

Rgba hex(uint32_t v) {
  return {((v >> 16) & 255) / 255.0f, ((v >> 8) & 255) / 255.0f, (v & 255) / 255.0f, 1.0f};
}

// HSL with h in turns, s and l in 0..1.
Rgba hsl(double h, double s, double l) {
  auto f = [&](double n) {
    const double k = std::fmod(n + h * 12.0, 12.0);
    const double a = s * std::min(l, 1.0 - l);
    return static_cast<float>(l - a * std::max(-1.0, std::min({k - 3.0, 9.0 - k, 1.0})));
  };
  return {f(0), f(8), f(4), 1.0f};
}

}  // namespace

Rgba mix(Rgba a, Rgba b, float t) {
  return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t, a.a + (b.a - a.a) * t};
}

uint32_t packRgba(Rgba c) {
  auto q = [](float x) { return static_cast<uint32_t>(std::lround(std::clamp(x, 0.0f, 1.0f) * 255.0f)); };
  return q(c.r) | (q(c.g) << 8) | (q(c.b) << 16) | (q(c.a) << 24);
}

Rgba classColour(int k, int K) {
  // Chosen by a max-min search over an sRGB grid (L* 35..70, chroma >= 30, so that small marks show on white
  // and on the dark theme), starting from Okabe-Ito's blue and orange: each prefix of K colours maximises the
  // smallest CIEDE2000 distance between two of them, for normal vision (>= 20) and under deuteranopia and
  // protanopia (>= 10, Machado et al. 2009). Okabe-Ito's 7 and Tableau 10 fail that (Tableau's red and green
  // merge under deuteranopia, 0.7); tests/render/test_palette.cpp holds it.
  static const uint32_t classes10[10] = {0x0072B2, 0xE69F00, 0xD2004B, 0x69B496, 0xE187FF,
                                         0x4B5A00, 0xD2785A, 0x784B78, 0x00785A, 0x4B00FF};
  if (k < 0) return {0.5f, 0.5f, 0.5f, 1.0f};
  if (K <= 10) return hex(classes10[k % 10]);
  const double golden = 0.6180339887498949;
  const double h = std::fmod(0.58 + k * golden, 1.0);
  const double l = (k % 3 == 0) ? 0.45 : (k % 3 == 1) ? 0.60 : 0.35;
  return hsl(h, 0.70, l);
}

ThemeColours themeColours(Theme t) {
  ThemeColours c;
  if (t == Theme::Paper) {
    c.background = {1, 1, 1, 1};
    c.foreground = {0.10f, 0.10f, 0.12f, 1};
    c.muted = {0.45f, 0.45f, 0.48f, 1};
    c.band = {0.35f, 0.35f, 0.38f, 1};
    c.sphere = {0.96f, 0.96f, 0.96f, 1};
    c.region_alpha = 0.22f;
  } else {
    c.background = {0.07f, 0.08f, 0.10f, 1};
    c.foreground = {0.92f, 0.93f, 0.95f, 1};
    c.muted = {0.55f, 0.57f, 0.62f, 1};
    c.band = {0.80f, 0.80f, 0.84f, 1};
    c.sphere = {0.30f, 0.32f, 0.36f, 1};
    c.region_alpha = 0.30f;
  }
  return c;
}

}  // namespace ms
