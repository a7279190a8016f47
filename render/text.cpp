// stb_truetype, compiled here only and static to this file (ImGui carries its own copy).
#include "render/text.h"

#include <cstdio>
#include <cstdlib>
#include <mutex>

#define STBTT_STATIC
#define STB_TRUETYPE_IMPLEMENTATION
#include <stb/stb_truetype.h>

namespace ms {

namespace {

// The glyphs the views use: ASCII plus degree, plus-minus, middle dot, times, Greek, minus, arrows, <= >=.
struct Range {
  int first, count;
};
const Range kRanges[] = {{32, 95},    {0xB0, 2},   {0xB7, 1},   {0xD7, 1},  {0x391, 57},
                         {0x2013, 2}, {0x2212, 1}, {0x2192, 1}, {0x2264, 2}};
constexpr int kNumRanges = sizeof(kRanges) / sizeof(kRanges[0]);

struct FontFile {
  std::string path;
  std::vector<unsigned char> data;
  stbtt_fontinfo info{};
  bool ok = false;
};

const FontFile& fontFile() {
  static FontFile f;
  static std::once_flag once;
  std::call_once(once, [] {
    std::vector<std::string> candidates;
    if (const char* env = std::getenv("MS_FONT")) candidates.push_back(env);
    candidates.push_back("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
    candidates.push_back("/usr/share/fonts/dejavu/DejaVuSans.ttf");
    candidates.push_back("/usr/share/fonts/TTF/DejaVuSans.ttf");
    for (const std::string& p : candidates) {
      FILE* fp = std::fopen(p.c_str(), "rb");
      if (!fp) continue;
      std::vector<unsigned char> buf;
      unsigned char chunk[65536];
      size_t n;
      while ((n = std::fread(chunk, 1, sizeof chunk, fp)) > 0) buf.insert(buf.end(), chunk, chunk + n);
      std::fclose(fp);
      if (buf.empty() || !stbtt_InitFont(&f.info, buf.data(), stbtt_GetFontOffsetForIndex(buf.data(), 0)))
        continue;
      f.data = std::move(buf);
      // stbtt_fontinfo points into data: re-init after the move.
      stbtt_InitFont(&f.info, f.data.data(), stbtt_GetFontOffsetForIndex(f.data.data(), 0));
      f.path = p;
      f.ok = true;
      return;
    }
    std::fprintf(stderr,
                 "marginscope: no font found (install fonts-dejavu-core or set MS_FONT); text is omitted\n");
  });
  return f;
}

// Decodes one UTF-8 code point; advances i. Invalid bytes become '?'.
int nextCodepoint(const std::string& s, size_t& i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  int cp = '?', extra = 0;
  if (c < 0x80)
    cp = c;
  else if ((c >> 5) == 6)
    cp = c & 0x1F, extra = 1;
  else if ((c >> 4) == 14)
    cp = c & 0x0F, extra = 2;
  else if ((c >> 3) == 30)
    cp = c & 0x07, extra = 3;
  ++i;
  for (int k = 0; k < extra && i < s.size(); ++k, ++i)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i]) & 0x3F);
  return cp;
}

}  // namespace

struct BakedFont::Impl {
  std::vector<stbtt_packedchar> chars[kNumRanges];
};

bool fontAvailable() {
  return fontFile().ok;
}
std::string fontPath() {
  return fontFile().path;
}

float textWidth(const std::string& utf8, float px) {
  const FontFile& f = fontFile();
  if (!f.ok) return 0.55f * px * static_cast<float>(utf8.size());
  const float scale = stbtt_ScaleForPixelHeight(&f.info, px);
  float w = 0;
  for (size_t i = 0; i < utf8.size();) {
    int adv = 0, lsb = 0;
    stbtt_GetCodepointHMetrics(&f.info, nextCodepoint(utf8, i), &adv, &lsb);
    w += adv * scale;
  }
  return w;
}

std::shared_ptr<BakedFont> bakeFont(int px) {
  const FontFile& f = fontFile();
  if (!f.ok) return nullptr;
  auto out = std::make_shared<BakedFont>();
  out->px = px;
  out->impl = std::make_shared<BakedFont::Impl>();
  // ~260 glyphs of at most px x px: a square of side ~17 px, rounded up to a power of two, grown on failure.
  int side = 256;
  while (side * side < 300 * (px + 2) * (px + 2)) side *= 2;
  for (;; side *= 2) {
    out->width = side;
    out->height = side;
    out->pixels.assign(static_cast<size_t>(side) * side, 0);
    stbtt_pack_context pc;
    if (!stbtt_PackBegin(&pc, out->pixels.data(), side, side, 0, 1, nullptr)) return nullptr;
    stbtt_pack_range ranges[kNumRanges];
    for (int r = 0; r < kNumRanges; ++r) {
      out->impl->chars[r].assign(static_cast<size_t>(kRanges[r].count), stbtt_packedchar{});
      ranges[r] = stbtt_pack_range{};
      ranges[r].font_size = static_cast<float>(px);
      ranges[r].first_unicode_codepoint_in_range = kRanges[r].first;
      ranges[r].num_chars = kRanges[r].count;
      ranges[r].chardata_for_range = out->impl->chars[r].data();
    }
    const int ok = stbtt_PackFontRanges(&pc, f.data.data(), 0, ranges, kNumRanges);
    stbtt_PackEnd(&pc);
    if (ok || side >= 8192) break;
  }
  return out;
}

void layoutText(const BakedFont& font, const std::string& utf8, float x, float y,
                std::vector<GlyphQuad>& out) {
  for (size_t i = 0; i < utf8.size();) {
    const int cp = nextCodepoint(utf8, i);
    int r = 0, idx = -1;
    for (; r < kNumRanges; ++r)
      if (cp >= kRanges[r].first && cp < kRanges[r].first + kRanges[r].count) {
        idx = cp - kRanges[r].first;
        break;
      }
    if (idx < 0) r = 0, idx = '?' - 32;
    stbtt_aligned_quad q;
    stbtt_GetPackedQuad(font.impl->chars[r].data(), font.width, font.height, idx, &x, &y, &q, 0);
    if (cp != ' ') out.push_back({q.x0, q.y0, q.x1, q.y1, q.s0, q.t0, q.s1, q.t1});
  }
}

}  // namespace ms
