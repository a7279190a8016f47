// SVG export of the 2-D views from the same Scene the GL renderer draws: regions and margin wedges as filled
// paths (wedges hatched by a <pattern>), strokes as paths, points as one <circle> each, labels as <text>, the
// input-space class map as an embedded PNG <image>. Coordinates are image pixels at scale 1.
#include <cmath>
#include <cstdio>
#include <sstream>

#include "render/image_io.h"
#include "render/renderer.h"
#include "render/scene.h"
#include "sim/errors.h"

namespace ms {

namespace {

std::string colour(const Rgba& c) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", int(std::lround(c.r * 255)), int(std::lround(c.g * 255)),
                int(std::lround(c.b * 255)));
  return buf;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

std::string escape(const std::string& t) {
  std::string o;
  for (char c : t) {
    if (c == '&')
      o += "&amp;";
    else if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '"')
      o += "&quot;";
    else
      o += c;
  }
  return o;
}

std::string base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
  }
  if (i + 1 == in.size()) {
    const unsigned v = uint8_t(in[i]) << 16;
    out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const unsigned v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
  }
  return out;
}

void writeShape(std::ostringstream& o, const Shape& s) {
  if (s.kind == Shape::Kind::Image) {
    if (s.pts.size() != 2) return;
    std::vector<uint8_t> px(s.rgba.size() * 4);
    for (size_t i = 0; i < s.rgba.size(); ++i)
      for (int c = 0; c < 4; ++c) px[i * 4 + c] = static_cast<uint8_t>((s.rgba[i] >> (8 * c)) & 255);
    o << "<image class=\"" << s.role << "\" x=\"" << num(s.pts[0].x) << "\" y=\"" << num(s.pts[0].y)
      << "\" width=\"" << num(s.pts[1].x - s.pts[0].x) << "\" height=\"" << num(s.pts[1].y - s.pts[0].y)
      << "\" preserveAspectRatio=\"none\" xlink:href=\"data:image/png;base64,"
      << base64(encodePng(s.img_w, s.img_h, px.data())) << "\"/>\n";
    return;
  }
  if (s.pts.size() < 2) return;
  o << "<path class=\"" << s.role << "\" d=\"";
  if (s.kind == Shape::Kind::Segments) {
    for (size_t i = 0; i + 1 < s.pts.size(); i += 2)
      o << "M" << num(s.pts[i].x) << " " << num(s.pts[i].y) << "L" << num(s.pts[i + 1].x) << " "
        << num(s.pts[i + 1].y);
  } else {
    for (size_t i = 0; i < s.pts.size(); ++i)
      o << (i ? "L" : "M") << num(s.pts[i].x) << " " << num(s.pts[i].y);
    if (s.kind == Shape::Kind::Fill || s.closed) o << "Z";
  }
  o << "\"";
  if (s.kind == Shape::Kind::Fill) {
    if (s.hatch)
      o << " fill=\"url(#hatch)\"";
    else
      o << " fill=\"" << colour(s.colour) << "\" fill-opacity=\"" << num(s.colour.a) << "\"";
    o << " stroke=\"none\"/>\n";
  } else {
    o << " fill=\"none\" stroke=\"" << colour(s.colour) << "\" stroke-opacity=\"" << num(s.colour.a)
      << "\" stroke-width=\"" << num(s.width) << "\" stroke-linejoin=\"round\"";
    if (s.dash > 0) o << " stroke-dasharray=\"" << num(s.dash) << " " << num(s.dash) << "\"";
    o << "/>\n";
  }
}

}  // namespace

void exportSvg(const Snapshot& s, const ViewOptions& view, const ExportOptions& ex, const std::string& path) {
  const ViewKind kind = effectiveView(s, view.kind);
  if (kind == ViewKind::Sphere || (kind == ViewKind::Raw && s.dim == 3))
    throw UserError(
        "SVG export supports the 2-D views (circle, raw, input); the sphere view (d = 3) exports "
        "PNG only");
  if (ex.width < 16 || ex.height < 16 || ex.width > 16384 || ex.height > 16384)
    throw UserError("export size " + std::to_string(ex.width) + "x" + std::to_string(ex.height) +
                    " is out of range: allowed 16..16384 per side");
  const Rgba bg = backgroundColour(view.theme, ex.background);
  const Scene sc = buildScene(s, view, ex.width, ex.height, 1.0f, bg);
  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\""
    << sc.width << "\" height=\"" << sc.height << "\" viewBox=\"0 0 " << sc.width << " " << sc.height
    << "\">\n";
  if (!ex.info.json.empty())
    o << "<metadata id=\"" << kFigureKey << "\">" << escape(ex.info.json) << "</metadata>\n";
  Rgba hatch = sc.theme.band;
  for (const Shape& sh : sc.under)
    if (sh.hatch) hatch = sh.colour;
  const double period = 9.0 * sc.ui, hw = 1.6 * sc.ui;
  o << "<defs><pattern id=\"hatch\" patternUnits=\"userSpaceOnUse\" width=\"" << num(period) << "\" height=\""
    << num(period) << "\" patternTransform=\"rotate(45)\"><rect x=\"0\" y=\"0\" width=\"" << num(hw)
    << "\" height=\"" << num(period) << "\" fill=\"" << colour(hatch) << "\" fill-opacity=\"" << num(hatch.a)
    << "\"/></pattern></defs>\n";
  if (bg.a > 0)
    o << "<rect class=\"background\" width=\"100%\" height=\"100%\" fill=\"" << colour(bg) << "\"/>\n";
  for (const Shape& sh : sc.under) writeShape(o, sh);
  // Points: model -> pixels by the scene's matrix (2-D: scale and offset).
  const float* M = sc.model_to_px;
  for (const PointLayer& L : sc.layers) {
    o << "<g class=\"" << L.role << "\" fill-opacity=\"" << num(L.alpha) << "\" stroke-opacity=\""
      << num(L.alpha) << "\">\n";
    const double rim = std::max(1.0, 0.22 * L.radius);
    for (size_t i = 0; i < L.rgba.size(); ++i) {
      const float x = L.pos[i * 3], y = L.pos[i * 3 + 1], z = L.pos[i * 3 + 2];
      const double px = M[0] * x + M[4] * y + M[8] * z + M[12];
      const double py = M[1] * x + M[5] * y + M[9] * z + M[13];
      Rgba c{(L.rgba[i] & 255) / 255.0f, ((L.rgba[i] >> 8) & 255) / 255.0f,
             ((L.rgba[i] >> 16) & 255) / 255.0f, 1};
      if (L.hollow[i]) {
        const double w = std::max(1.2, 0.32 * L.radius);
        o << "<circle cx=\"" << num(px) << "\" cy=\"" << num(py) << "\" r=\"" << num(L.radius - 0.5 * w)
          << "\" fill=\"none\" stroke=\"" << colour(c) << "\" stroke-width=\"" << num(w) << "\"/>\n";
      } else {
        const Rgba edge{c.r * 0.55f, c.g * 0.55f, c.b * 0.55f, 1};
        o << "<circle cx=\"" << num(px) << "\" cy=\"" << num(py) << "\" r=\"" << num(L.radius - 0.5 * rim)
          << "\" fill=\"" << colour(c) << "\" stroke=\"" << colour(edge) << "\" stroke-width=\"" << num(rim)
          << "\"/>\n";
      }
    }
    o << "</g>\n";
  }
  for (const Shape& sh : sc.over) writeShape(o, sh);
  for (const TextItem& t : sc.texts) {
    o << "<text x=\"" << num(t.x) << "\" y=\"" << num(t.y)
      << "\" font-family=\"DejaVu Sans, Helvetica, Arial, "
      << "sans-serif\" font-size=\"" << num(t.size) << "\" fill=\"" << colour(t.colour) << "\"";
    if (t.colour.a < 1) o << " fill-opacity=\"" << num(t.colour.a) << "\"";
    if (t.halo)
      o << " stroke=\"" << colour(bg.a > 0 ? bg : sc.theme.background) << "\" stroke-width=\""
        << num(0.2 * t.size) << "\" stroke-opacity=\"0.85\" stroke-linejoin=\"round\" paint-order=\"stroke\"";
    if (t.anchor == 1) o << " text-anchor=\"middle\"";
    if (t.anchor == 2) o << " text-anchor=\"end\"";
    o << ">";
    // Why a value is not shown ("no margin"): a tooltip in SVG viewers.
    if (!t.note.empty()) o << "<title>" << escape(t.note) << "</title>";
    o << escape(t.text) << "</text>\n";
  }
  o << "</svg>\n";
  writeFileAtomic(path, o.str());
}

}  // namespace ms
