// The active loss's decision rule on the unit circle/sphere, evaluated through sim/loss.h's testLogit,
// targetLogit and otherLogit so that every view draws the same boundaries the gradient trains.
//
// A direction x (unit) has cos t_j = <x, w_j/|w_j|> to each class weight. At test time class j wins where its
// testLogit is largest. At training time the winner c "claims" x when targetLogit_c > max_{j!=c}
// otherLogit_j; a direction the winner does not claim lies in a margin band. Only the test winner is asked to
// claim: with a non-negative margin no other class can (targetLogit <= testLogit, otherLogit >= testLogit),
// and the circle view and the sphere shader use this same definition.
#pragma once
#include <cstdint>
#include <vector>

#include "sim/loss.h"
#include "sim/snapshot.h"

namespace ms {

struct DecisionRule {
  const LossSpec* spec = nullptr;  // null: unknown loss or no weights; nothing to draw
  LossRule loss;                   // the loss's logits with its parameters resolved once
  int K = 0, dim = 0;
  std::vector<double> dirs;   // (K,dim) unit weight directions (zero row for a zero weight)
  std::vector<double> wnorm;  // (K) real weight norms
  double hnorm = 1;           // representative feature norm: median |h| of the displayed embeddings
  bool means = false;         // the directions are class means (no class weights), not weights

  bool valid() const { return spec != nullptr && K > 0; }
  double test(int j, double c) const;
  double target(int j, double c) const;
  double other(int j, double c) const;
  // Test winner for the cosines cos (K); *claimed says whether it also wins at training time.
  int classify(const double* cos, bool* claimed) const;
};

// with_hnorm false: hnorm stays 1 (no pass over the points), for callers that need the weights only.
DecisionRule makeDecisionRule(const Snapshot& s, bool with_hnorm = true);

// Tabulated per class over t in [0, pi] (n samples, uniform in angle): test, target and other logits
// interleaved, (K, n, 3) row-major. The sphere shader interpolates this table instead of re-implementing
// every loss in GLSL: the GPU then evaluates exactly sim/loss.h's functions, up to linear interpolation in
// angle.
std::vector<float> tabulateRule(const DecisionRule& r, int n);
// Rows j0..j1-1 (classes) of that table, written into out (K, n, 3); the rest of out is left alone. Rows are
// independent, so parts of one table may be filled on different threads.
void tabulateRuleRows(const DecisionRule& r, int n, int j0, int j1, float* out);

// The sphere shader's loop over all K classes per pixel is most of a sphere frame under a software
// rasteriser. Over a small patch of directions most classes cannot matter: a class whose largest test logit
// there is below the second-largest smallest test logit of the others is neither the winner nor the runner-
// up anywhere in the patch, and likewise for the other logit. So the sphere is cut into patches (the texels
// of a cube map, res x res per face) and each lists the classes that may matter; the shader loops over that
// list only. Bounds come from the very table the shader reads (the nearest sample, as the shader fetches it),
// over every sample a direction in the patch can index, so the shortlist changes no pixel: winner, runner-up,
// claim and the boundary distances are the same numbers the full loop gives.
//
// Patch lookup, as sphere.frag does it: the face is the largest |component| of the unit direction n (x, then
// y, then z on ties; + before -), (u, v) are the other two components in order over that |component|, and
// the texel is floor((u, v) * 0.5 + 0.5) * res) clamped to res - 1, in row face * res + v, column u.
struct SphereShortlist {
  static constexpr int kSlots = 8;  // classes listed per patch; more than that: the patch loops over all
  static constexpr uint32_t kEnd = 255, kAll = 254;
  int res = 0;
  // (6 res, res, 2): per patch 8 ascending class indices, 8 bits each (slot c in word c / 4 at bits
  // 8 (c % 4)), kEnd after the last; kAll in slot 0: every class.
  std::vector<uint32_t> texels;
  double mean_listed = 0;  // classes per patch, on average (kAll counts K)
};
// table: tabulateRule(r, n) (K, n, 3), as uploaded for the shader. K <= 254 (more: every patch lists all).
// Every list has at least min(K, 2) classes.
SphereShortlist shortlistSphere(const DecisionRule& r, const std::vector<float>& table, int n, int res);

// The circle (d = 2): arcs in radians, [a0, a1) with 0 <= a0 < 2 pi and a0 < a1 <= a0 + 2 pi.
struct CircleArc {
  double a0 = 0, a1 = 0;
  int cls = -1;
};
struct CircleEdge {
  double angle = 0;    // radians in [0, 2 pi)
  int a = -1, b = -1;  // classes on the counter-clockwise-before and after side (-1: margin band)
};
struct CircleDecision {
  std::vector<CircleArc> regions;        // test-time winner arcs (cover the circle)
  std::vector<CircleArc> bands;          // arcs the winner does not claim (margin bands)
  std::vector<CircleEdge> boundaries;    // test-time boundaries (winner a -> b)
  std::vector<CircleEdge> margin_edges;  // ends of claimed arcs: a = claiming class, b = -1, or reverse
};
// Samples the circle finely, then bisects each change of winner/claim to machine precision.
CircleDecision analyseCircle(const DecisionRule& r, int samples = 4096);
// Angle of a 2-D weight direction in [0, 2 pi).
double weightAngle(const DecisionRule& r, int j);

}  // namespace ms
