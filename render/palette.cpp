// Class and theme colours. Okabe-Ito is the reference colour-blind-safe set; Tableau 10 extends it to ten
// classes; beyond ten no qualitative palette stays distinguishable, so hues are spread by the golden angle.
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
  static const uint32_t okabe_ito[7] = {0x0072B2, 0xE69F00, 0x009E73, 0xD55E00, 0x56B4E9, 0xCC79A7, 0xF0E442};
  static const uint32_t tableau10[10] = {0x4E79A7, 0xF28E2B, 0xE15759, 0x76B7B2, 0x59A14F,
                                         0xEDC948, 0xB07AA1, 0xFF9DA7, 0x9C755F, 0xBAB0AC};
  if (k < 0) return {0.5f, 0.5f, 0.5f, 1.0f};
  if (K <= 7) return hex(okabe_ito[k % 7]);
  if (K <= 10) return hex(tableau10[k % 10]);
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
