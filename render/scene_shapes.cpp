// Shape builders of the scene (sectors, arcs, lines, arrows) and the number formatting every label uses, so
// that no view prints "nan", "inf" or "-0.00".
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "render/scene_internal.h"

namespace ms::scene {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string fmtNum(const char* f, double v) {
  if (!std::isfinite(v)) return "-";
  std::string out = fmt(f, v);
  // "-0.0", "-0.00%": a negative number that rounds to zero prints unsigned.
  if (out.size() > 1 && out[0] == '-' && out.find_first_of("123456789") == std::string::npos) out.erase(0, 1);
  return out;
}

namespace {
// Angular step whose chord strays at most 0.2 pixel from an arc of radius r: fewer, wider triangles
// (llvmpipe rasterises thin slivers in mostly empty 4x4 blocks, so 720 slivers per disc cost 6x the pixels).
double arcStep(const Map2& m, double r) {
  const double r_px = std::max(1.0, std::fabs(r) * m.k);
  return std::clamp(2 * std::acos(std::max(0.0, 1 - 0.2 / r_px)), 0.004, 0.12);
}
}  // namespace

Shape sector(const Map2& m, double r0, double r1, double a0, double a1, Rgba c, const char* role) {
  Shape s;
  s.kind = Shape::Kind::Fill;
  s.colour = c;
  s.role = role;
  const int n = std::max(2, static_cast<int>(std::ceil((a1 - a0) / arcStep(m, r1))));
  if (r0 <= 0) {
    s.pts.push_back(m(0, 0));
    for (int i = 0; i <= n; ++i) s.pts.push_back(m.polar(r1, a0 + (a1 - a0) * i / n));
  } else {  // annular sector: not star-shaped about one point, emitted as a fan about its centroid-ish point
    const double am = 0.5 * (a0 + a1);
    s.pts.push_back(m.polar(0.5 * (r0 + r1), am));
    for (int i = 0; i <= n; ++i) s.pts.push_back(m.polar(r1, a0 + (a1 - a0) * i / n));
    for (int i = n; i >= 0; --i) s.pts.push_back(m.polar(r0, a0 + (a1 - a0) * i / n));
    s.pts.push_back(s.pts[1]);
  }
  return s;
}

Shape arcStroke(const Map2& m, double r, double a0, double a1, float width, Rgba c, const char* role) {
  Shape s;
  s.kind = Shape::Kind::Stroke;
  s.colour = c;
  s.width = width;
  s.role = role;
  const int n = std::max(2, static_cast<int>(std::ceil(std::fabs(a1 - a0) / arcStep(m, r))));
  for (int i = 0; i <= n; ++i) s.pts.push_back(m.polar(r, a0 + (a1 - a0) * i / n));
  return s;
}

Shape line(P2 a, P2 b, float width, Rgba c, const char* role, float dash) {
  Shape s;
  s.kind = Shape::Kind::Stroke;
  s.pts = {a, b};
  s.width = width;
  s.colour = c;
  s.role = role;
  s.dash = dash;
  return s;
}

void arrow(std::vector<Shape>& out, P2 a, P2 b, float width, Rgba c, float head, const char* role, float z0,
           float z1, bool use_z, float dash) {
  const float dx = b.x - a.x, dy = b.y - a.y;
  const float len = std::sqrt(dx * dx + dy * dy);
  if (len < 1e-3f) return;
  const float ux = dx / len, uy = dy / len;
  head = std::min(head, 0.6f * len);
  const float t = (len - head * 0.85f) / len;
  P2 base{a.x + dx * t, a.y + dy * t};
  Shape shaft = line(a, base, width, c, role, dash);
  Shape tip;
  tip.kind = Shape::Kind::Fill;
  tip.colour = c;
  tip.role = role;
  P2 hb{b.x - ux * head, b.y - uy * head};
  const float hw = head * 0.45f;
  tip.pts = {b, {hb.x - uy * hw, hb.y + ux * hw}, {hb.x + uy * hw, hb.y - ux * hw}};
  if (use_z) {
    const float zb = z0 + (z1 - z0) * t, zh = z0 + (z1 - z0) * (len - head) / len;
    shaft.z = {z0, zb};
    tip.z = {z1, zh, zh};
  }
  out.push_back(std::move(shaft));
  out.push_back(std::move(tip));
}

double angleDiff(double a, double b) {
  double d = std::fmod(b - a, kTwoPi);
  if (d > kPi) d -= kTwoPi;
  if (d <= -kPi) d += kTwoPi;
  return d;
}

bool arrowsAreMeans(const DecisionRule& r) {
  return r.spec && r.means;
}

std::string arrowName(const DecisionRule& r, int j) {
  return (arrowsAreMeans(r) ? "μ" : "W") + std::to_string(j);
}

}  // namespace ms::scene
