// The class palette keeps every pair of classes distinguishable for K = 2..10, for readers with normal colour
// vision and with deuteranopia or protanopia (issue: in the paper theme class 0, dark blue, and class 4, sky
// blue, were hard to tell apart as small dots, and Tableau 10's red and green merge under deuteranopia).
// The colour science is written here from the definitions, independently of render/palette.cpp:
// sRGB -> CIELAB (D65), CIEDE2000 (Sharma, Wu & Dalal 2005) and Machado, Oliveira & Fernandes 2009
// (severity 1.0) for the colour-vision deficiencies, applied in linear RGB.
#include <gtest/gtest.h>

#include <array>
#include <cmath>

#include "render/palette.h"

namespace ms {
namespace {

using Lab = std::array<double, 3>;
using Rgb = std::array<double, 3>;
using M3 = std::array<std::array<double, 3>, 3>;

constexpr double kPiD = 3.14159265358979323846;

double toLinear(double c) {
  return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
}
double toGamma(double c) {
  c = std::min(1.0, std::max(0.0, c));
  return c <= 0.0031308 ? 12.92 * c : 1.055 * std::pow(c, 1 / 2.4) - 0.055;
}

Lab lab(const Rgb& srgb) {
  const double r = toLinear(srgb[0]), g = toLinear(srgb[1]), b = toLinear(srgb[2]);
  const double X = 0.4124564 * r + 0.3575761 * g + 0.1804375 * b;
  const double Y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
  const double Z = 0.0193339 * r + 0.1191920 * g + 0.9503041 * b;
  auto f = [](double t) { return t > 216.0 / 24389 ? std::cbrt(t) : (24389.0 / 27 * t + 16) / 116; };
  const double fx = f(X / 0.95047), fy = f(Y), fz = f(Z / 1.08883);
  return {116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)};
}

Rgb simulate(const Rgb& srgb, const M3& m) {
  const Rgb l = {toLinear(srgb[0]), toLinear(srgb[1]), toLinear(srgb[2])};
  Rgb out;
  for (int i = 0; i < 3; ++i)
    out[size_t(i)] = toGamma(m[size_t(i)][0] * l[0] + m[size_t(i)][1] * l[1] + m[size_t(i)][2] * l[2]);
  return out;
}

const M3 kDeuteranopia = {
    {{0.367322, 0.860646, -0.227968}, {0.280085, 0.672501, 0.047413}, {-0.011820, 0.042940, 0.968881}}};
const M3 kProtanopia = {
    {{0.152286, 1.052583, -0.204868}, {0.114503, 0.786281, 0.099216}, {-0.003882, -0.048116, 1.051998}}};

double deg(double r) {
  return r * 180 / kPiD;
}
double rad(double d) {
  return d * kPiD / 180;
}

double ciede2000(const Lab& p, const Lab& q) {
  const double C1 = std::hypot(p[1], p[2]), C2 = std::hypot(q[1], q[2]), Cb = (C1 + C2) / 2;
  const double G = 0.5 * (1 - std::sqrt(std::pow(Cb, 7) / (std::pow(Cb, 7) + std::pow(25.0, 7))));
  const double a1 = (1 + G) * p[1], a2 = (1 + G) * q[1];
  const double C1p = std::hypot(a1, p[2]), C2p = std::hypot(a2, q[2]);
  auto hue = [](double b, double a) {
    const double h = deg(std::atan2(b, a));
    return h < 0 ? h + 360 : h;
  };
  const double h1 = hue(p[2], a1), h2 = hue(q[2], a2);
  double dh = 0;
  if (C1p * C2p != 0) {
    dh = h2 - h1;
    if (dh > 180) dh -= 360;
    if (dh < -180) dh += 360;
  }
  const double dL = q[0] - p[0], dC = C2p - C1p, dH = 2 * std::sqrt(C1p * C2p) * std::sin(rad(dh / 2));
  const double Lb = (p[0] + q[0]) / 2, Cbp = (C1p + C2p) / 2;
  double hb = h1 + h2;
  if (C1p * C2p != 0)
    hb = std::abs(h1 - h2) <= 180 ? (h1 + h2) / 2
                                  : (h1 + h2 < 360 ? (h1 + h2 + 360) / 2 : (h1 + h2 - 360) / 2);
  const double T = 1 - 0.17 * std::cos(rad(hb - 30)) + 0.24 * std::cos(rad(2 * hb)) +
                   0.32 * std::cos(rad(3 * hb + 6)) - 0.20 * std::cos(rad(4 * hb - 63));
  const double dth = 30 * std::exp(-std::pow((hb - 275) / 25, 2));
  const double Rc = 2 * std::sqrt(std::pow(Cbp, 7) / (std::pow(Cbp, 7) + std::pow(25.0, 7)));
  const double Sl = 1 + 0.015 * (Lb - 50) * (Lb - 50) / std::sqrt(20 + (Lb - 50) * (Lb - 50));
  const double Sc = 1 + 0.045 * Cbp, Sh = 1 + 0.015 * Cbp * T, Rt = -std::sin(rad(2 * dth)) * Rc;
  return std::sqrt(std::pow(dL / Sl, 2) + std::pow(dC / Sc, 2) + std::pow(dH / Sh, 2) +
                   Rt * (dC / Sc) * (dH / Sh));
}

Rgb rgb(const Rgba& c) {
  return {c.r, c.g, c.b};
}

// Sharma et al.'s published test pairs: the implementation above is CIEDE2000, not an approximation.
TEST(Palette, Ciede2000MatchesPublishedPairs) {
  EXPECT_NEAR(ciede2000({50, 2.6772, -79.7751}, {50, 0, -82.7485}), 2.0425, 1e-4);
  EXPECT_NEAR(ciede2000({50, -1.3802, -84.2814}, {50, 0, -82.7485}), 1.0000, 1e-4);
  EXPECT_NEAR(ciede2000({60.2574, -34.0099, 36.2677}, {60.4626, -34.1751, 39.4387}), 1.2644, 1e-4);
  EXPECT_NEAR(ciede2000({22.7233, 20.0904, -46.6940}, {23.0331, 14.9730, -42.5619}), 2.0373, 1e-4);
}

// Thresholds: Delta E 2000 of 20 is "clearly different at a glance" for small marks; the simulated vision
// gets half of that, which Okabe-Ito itself only just reaches (11.6 under deuteranopia for its 7 colours).
TEST(Palette, EveryPairOfClassesIsDistinguishableUpToTen) {
  for (int K = 2; K <= 10; ++K)
    for (int a = 0; a < K; ++a)
      for (int b = a + 1; b < K; ++b) {
        const Rgb ca = rgb(classColour(a, K)), cb = rgb(classColour(b, K));
        SCOPED_TRACE("K = " + std::to_string(K) + ", classes " + std::to_string(a) + " and " +
                     std::to_string(b));
        EXPECT_GE(ciede2000(lab(ca), lab(cb)), 20.0);
        EXPECT_GE(ciede2000(lab(simulate(ca, kDeuteranopia)), lab(simulate(cb, kDeuteranopia))), 10.0);
        EXPECT_GE(ciede2000(lab(simulate(ca, kProtanopia)), lab(simulate(cb, kProtanopia))), 10.0);
      }
}

// Points are small marks on white paper and on the dark theme: no class colour is so light that it fades
// into white, nor so dark that it vanishes on the dark background.
TEST(Palette, ClassColoursStayVisibleOnBothThemes) {
  for (int K = 2; K <= 10; ++K)
    for (int k = 0; k < K; ++k) {
      const double L = lab(rgb(classColour(k, K)))[0];
      EXPECT_GE(L, 35.0) << "K " << K << " class " << k;
      EXPECT_LE(L, 72.0) << "K " << K << " class " << k;
    }
}

}  // namespace
}  // namespace ms
