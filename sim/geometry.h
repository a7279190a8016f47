// The geometric and evaluation measures behind computeMetrics (sim/metrics.h), one function per figure so
// that tests can feed constructed configurations with known answers.
//
// Shapes: H (n,d) embeddings as the network outputs them, y (n) labels >= 0, W (K,d) class weights.
// All angles are returned in degrees; anything undefined is NaN.
#pragma once
#include <cstdint>
#include <vector>

#include "sim/metrics.h"

namespace ms {

// Unit mean direction of each label 0..C-1: normalise every sample, average per class, normalise again
// (the "class direction" of the SphereFace analysis). Rows of empty classes are NaN.
Mat classDirections(const Mat& H,                       // (n,d)
                    const std::vector<int>& y, int C);  // -> (C,d)

// Intra-/inter-class angles, per-sample nearest other class, separability (sim/metrics.h AngleMetrics).
// C = number of labels; W (K,d) may be null (weight_min_deg is then NaN).
AngleMetrics angleMetrics(const Mat& H, const std::vector<int>& y, int C, const Mat* W);

// Verification over pairs of rows of U (unit rows, (n,d) row-major floats): every pair when there are at most
// max_pairs, else every pair among a random subset of m points (the largest m with m(m-1)/2 <= max_pairs),
// drawn with an Rng seeded by `seed`. Scores are the float cosines, sorted exactly (see
// geometry_verification.cpp). pos_hist/neg_hist (may be null) receive the angle histograms of the pairs
// (bins over 0..180 deg, each summing to 1). `sampled` reports whether a subset was drawn; the result's
// `pairs` is how many were scored and `pairs_total` how many there are.
PairVerification verifyPairs(const std::vector<float>& U, int n, int d, const std::vector<int>& y,
                             int64_t max_pairs, uint64_t seed, int bins, std::vector<float>* pos_hist,
                             std::vector<float>* neg_hist, bool* sampled);

// The ROC figures from scores and labels (positive = same class); exposed for tests. Only equal scores are
// ties (one operating point). A threshold t accepts the scores >= t. TAR@FAR f is the highest TAR among
// operating points with at most floor(f N) false accepts (N negatives); EER is where the piecewise-linear
// ROC through the operating points crosses FAR = FRR; AUC is the area under it (ties count one half); best
// accuracy is the best (TP + TN) / pairs over all thresholds, best_threshold halfway between the lowest
// accepted score and the next one below.
PairVerification rocFromScores(const std::vector<float>& scores, const std::vector<uint8_t>& positive,
                               int bins, std::vector<float>* pos_hist, std::vector<float>* neg_hist);

// Identification: for every class c in `classes`, the gallery is the unit mean direction of the first half
// (rounded up) of its samples in a seeded shuffle; the probes are the rest; a probe is right when its
// nearest gallery (highest cosine, among `classes` only) is its own class. Returns the fraction right
// (NaN when there are no probes). Classes with fewer than 2 samples are left out.
double identificationAccuracy(const Mat& H, const std::vector<int>& y, const std::vector<int>& classes,
                              uint64_t seed);

// Neural collapse (Papyan, Han and Donoho 2020, PNAS, fig. 6-7 definitions) over classes 0..K-1 that have
// samples. With unit_features the rows of H are normalised first.
//   NC1 = tr(Sigma_W Sigma_B^+) / K
//   NC2 equinorm = std_c |mu_c - mu_G| / mean_c |mu_c - mu_G|
//   NC2 equiangular = std_{c<c'} cos(M_c, M_c')                 (Papyan's fig. 4, "equiangularity")
//   NC2 equiangular_mad = mean_{c<c'} |cos(M_c, M_c') + 1/(K-1)| (Papyan's fig. 5, "maximal angle")
//   NC3 = || W / ||W||_F - M / ||M||_F ||_F, M (K,d) the centred class means
// mu_G is the mean of the class means (Papyan's balanced-case global mean). W may be null (NC3 NaN). With
// unit_weights the rows of W are normalised first (for losses whose logits ignore |w|, only directions
// count).
NeuralCollapse neuralCollapse(const Mat& H, const std::vector<int>& y, int K, const Mat* W,
                              bool unit_features, bool unit_weights);

// Bounds of the notes at the current K, d, scale s and probability P (see Bounds in sim/metrics.h).
// s <= 0 or NaN means "this loss has no scale". W may be null.
Bounds marginBounds(int K, int d, double s, double P, const Mat* W);

// NormFace's lower bound on the normalised softmax loss, ln(1 + (K-1) e^{-K s/(K-1)}) (Wang et al. 2017,
// Proposition 2), reached when the unit features sit on their unit class weights forming a regular simplex.
double normfaceLowerBound(int K, double s);

}  // namespace ms
