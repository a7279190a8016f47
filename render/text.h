// Text for the views: DejaVu Sans (Debian's fonts-dejavu-core) rasterised with stb_truetype into one atlas
// per pixel size, so labels are crisp at any export scale. The SVG export writes <text> and needs no font
// here.
#pragma once
#include <memory>
#include <string>
#include <vector>

namespace ms {

struct GlyphQuad {
  float x0, y0, x1, y1;  // pixels, y down
  float u0, v0, u1, v1;  // atlas coordinates 0..1
};

// One font rasterised at one pixel size: an 8-bit coverage atlas and the glyph boxes.
struct BakedFont {
  int px = 0;
  int width = 0, height = 0;
  std::vector<unsigned char> pixels;  // (height, width) coverage
  struct Impl;
  std::shared_ptr<Impl> impl;
};

// True when a font file was found (MS_FONT, then the DejaVu paths); text is skipped otherwise.
bool fontAvailable();
std::string fontPath();
// Width in pixels of a UTF-8 string at `px` (an estimate when no font is available).
float textWidth(const std::string& utf8, float px);
std::shared_ptr<BakedFont> bakeFont(int px);
// Quads of the glyphs of `utf8` with its baseline starting at (x, y).
void layoutText(const BakedFont& font, const std::string& utf8, float x, float y,
                std::vector<GlyphQuad>& out);

}  // namespace ms
