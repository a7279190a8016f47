// Colours of the views: a colour-blind-safe qualitative palette per class and the two themes (dark for
// projectors, paper for print). Colours are straight (not premultiplied) RGBA in 0..1.
#pragma once
#include <cstdint>

#include "render/renderer.h"

namespace ms {

struct Rgba {
  float r = 0, g = 0, b = 0, a = 1;
};

inline Rgba withAlpha(Rgba c, float a) {
  c.a = a;
  return c;
}
Rgba mix(Rgba a, Rgba b, float t);  // a*(1-t) + b*t, alpha too
uint32_t packRgba(Rgba c);          // 0xAABBGGRR: bytes r,g,b,a in memory order

// Class k of K. K <= 10: the first K of one ordered palette that stays distinguishable under deuteranopia and
// protanopia (see palette.cpp); beyond: hues spaced by the golden angle with alternating lightness, so
// neighbours differ even for 50 classes.
Rgba classColour(int k, int K);

struct ThemeColours {
  Rgba background;     // clear colour
  Rgba foreground;     // text, unit circle, boundaries
  Rgba muted;          // grid lines, secondary text
  Rgba band;           // margin-band tint (neutral)
  Rgba sphere;         // unlit sphere base
  float region_alpha;  // strength of the class tint in decision regions
};
ThemeColours themeColours(Theme t);

}  // namespace ms
