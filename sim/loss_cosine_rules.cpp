// The pieces the cosine-logit losses' margin rules share (margin functions of the cosine, the closed-form
// boundaries, the plain scaled-cosine rule) and the order of their definitions: loss_cosine_sphere.cpp
// (modified softmax, L-/A-Softmax, L2-softmax, NormFace, CoCo), loss_cosine_additive.cpp (CosFace, ArcFace,
// combined, enhanced AM, AdaCos), loss_cosine_modern.cpp (CurricularFace, sub-center ArcFace, MagFace,
// AdaFace). The shared forward/backward that uses these rules is loss_cosine.cpp.
//
// Notation: c = cos t of a feature and a weight, hn = |h|, wn = |w|; a margin between two classes a, b at
// angle alpha is the part of the arc neither claims: class a's boundary is where its target logit equals b's
// other logit; every rule below is symmetric under |w_a| = |w_b|, so both boundaries lie t* from their
// weights and the margin is alpha - 2 t*.
#include <cmath>
#include <limits>

#include "sim/loss_internal.h"

namespace ms::detail {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

void setNote(std::string* note, const std::string& s) {
  if (note && note->empty()) *note = s;
}

// Margin of a symmetric boundary t* (radians), which must lie on the arc [0, alpha]; a negative margin (t* >
// alpha/2, the regions overlap) is reported as it is.
double marginFromBoundary(double t, double alpha, std::string* note, const char* why) {
  if (!(t >= 0 && t <= alpha)) {
    setNote(note, why);
    return kNaN;
  }
  return alpha - 2 * t;
}

// ------------------------------------------------------------------ margin functions of the cosine

// cos(a t + b) as a function of c = cos t, and its derivative a sin(a t + b) / sin t.
double cosAffineAngle(double a, double b, double c, double& dc) {
  const double cc = clampCos(c);
  const double t = std::acos(cc);
  const double sin_t = std::sqrt(std::max(0.0, 1 - cc * cc));
  dc = (cc == c) ? a * std::sin(a * t + b) / sin_t : 0.0;
  return std::cos(a * t + b);
}

// ArcFace's target cosine at margin m with insightface's fallback: past t = pi - m, cos(t + m) stops
// decreasing in t, so the linear extension cos t - m sin m takes over. *dm: its derivative in m.
double arcInsightface(double m, double c, double& dc, double* dm) {
  const double t = std::acos(clampCos(c));
  if (t > kPi - m) {
    dc = 1;
    if (dm) *dm = -(std::sin(m) + m * std::cos(m));
    return c - m * std::sin(m);
  }
  if (dm) *dm = -std::sin(t + m);
  return cosAffineAngle(1, m, c, dc);
}

// Boundary of target cos(t + m2) - m3 against other cos(alpha - t):
//   cos(t + m2) - cos(alpha - t) = -2 sin((alpha + m2)/2) sin(t - (alpha - m2)/2) = m3,
//   t* = (alpha - m2)/2 - asin(m3 / (2 sin((alpha + m2)/2))),  margin = m2 + 2 asin(m3 / (2
//   sin((alpha+m2)/2))).
// CosFace at m2 = 0, ArcFace at m3 = 0 (then t* = (alpha - m2)/2 for any alpha >= m2).
double additiveMargin(double m2, double m3, double alpha, std::string* note) {
  const double x = m3 / (2 * std::sin((alpha + m2) / 2));
  if (std::fabs(x) > 1) {
    setNote(note, "no root: the cosine margin exceeds 2 sin((alpha + m)/2)");
    return kNaN;
  }
  const double t = (alpha - m2) / 2 - std::asin(x);
  if (t + m2 > kPi) {
    setNote(note, "no closed form: the boundary lies where t + m > pi");
    return kNaN;
  }
  return marginFromBoundary(t, alpha, note, "no root: the margins are too large for alpha");
}

// ArcFace (Deng et al. 2019, eq. 3): boundary cos(t + m) = cos(alpha - t), with t + m and alpha - t in
// [0, pi]: t* = (alpha - m)/2 and margin = m, for alpha >= m (else a does not claim even w_a). The variants
// change the target only for large t: insightface's fallback starts at t = pi - m > t* whenever alpha + m < 2
// pi, easy margin's at t = pi/2 > t* when alpha - m < pi; neither meets cos(alpha - t) again on the arc.
double marginArc(const ResolvedParams& r, double alpha, std::string* note) {
  return marginFromBoundary((alpha - r.m) / 2, alpha, note, "no root: m > alpha");
}

double testScaledCos(const ResolvedParams& r, int, double c, double, double) {
  return r.s * c;
}
double otherScaled(const ResolvedParams& r, double c, double, double, Dz& d) {
  d = {r.s, 0, 0};
  return r.s * c;
}
OtherForm formScaled(const ResolvedParams& r) {
  return {r.s, 0, false, false};
}

void appendCosineLosses(std::vector<LossSpec>& out) {
  appendSphereLosses(out);
  appendAdditiveLosses(out);
  appendModernLosses(out);
}

}  // namespace ms::detail
