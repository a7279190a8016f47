// The angular-margin lemma (SphereFace, Liu et al. 2017, sec. 3.3; L-Softmax, Liu et al. 2016): for two
// classes whose weight vectors are at angle alpha, the gap along the arc between class a's margin-tightened
// boundary and class b's. Two independent routes, which tests hold against each other:
//   theory    closed forms derived per loss from its margin rule (lemma.cpp, each derivation written out),
//             assuming |w_a| = |w_b| as the lemma does;
//   measured  root-finding of the loss's own rule, targetLogit_a(cos t) = otherLogit_b(cos(alpha - t)) at
//             |h| = 1 with the actual weight norms, on the arc from w_a (t = 0) to w_b (t = alpha).
// Angles in radians unless a name says _deg.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "sim/metrics.h"

namespace ms {

// Closed-form margin (radians) for weight vectors at angle alpha under the loss's margin rule at lambda = 0.
// NaN, with *note saying why, when the margin is too large for alpha (the rule has no boundary between the
// two weights) or when the rule has no closed form (combined margin with m1 != 1 and m3 != 0).
double lemmaTheoryMargin(const LossSpec& spec, const LossParams& p, double alpha,
                         std::string* note = nullptr);

// Angle t in [0, alpha] from w_own where class `own` stops claiming the arc: the first sign change of
// targetLogit_own(cos t, 1, wnorm_own) - otherLogit_other(cos(alpha - t), 1, wnorm_other), found on a grid
// of 64 intervals and refined by bisection to 1e-13. NaN, with *note, when class `own` does not claim its
// own weight direction (margin too large) or claims the whole arc.
double lemmaBoundary(const LossSpec& spec, const LossParams& p, const LossState& state, int own, int other,
                     double alpha, double wnorm_own, double wnorm_other, std::string* note = nullptr);

// Measured margin: alpha - boundary_a - boundary_b (NaN when either boundary is).
double lemmaMeasuredMargin(const LossSpec& spec, const LossParams& p, const LossState& state, int a, int b,
                           double alpha, double wnorm_a, double wnorm_b, std::string* note = nullptr);

// One row of the metrics JSON `lemma` for the weight rows a and b of W (K,d). `state` is the current state
// (its lambda gives the effective margin); the measured margin uses a copy with lambda = 0.
LemmaRow lemmaRow(const LossSpec& spec, const LossParams& p, const LossState& state, const Mat& W, int a,
                  int b);

// Which pairs to report: all pairs a < b when K <= all_pairs_max_k, else each class with its angularly
// nearest other weight (deduplicated, a < b), which keeps the cost O(K^2 d) for the search and O(K) rows;
// the nearest neighbour is the pair whose margin matters most for that class. *all says which was done.
std::vector<std::pair<int, int>> lemmaPairs(const Mat& W, int all_pairs_max_k, bool* all = nullptr);

}  // namespace ms
