// Geometry and evaluation metrics computed from embeddings, weights and labels (issue 5).
// Names mirror the metrics JSON contract in DESIGN.md; app/metrics_json.cpp writes them.
//
// What is computed on which split (see computeMetrics):
//   angles, neural collapse   training embeddings of the trained classes (what the loss shapes)
//   verification, histograms  test embeddings (held-out classes included), cosine similarity of pairs;
//                             the training embeddings when there is no test split (free embeddings)
//   lemma                     class weights only (closed forms and root-finding of the loss's decision rule)
//   bounds                    K, d and the loss's current s / m
// Every figure that cannot be computed (too few classes, no root, no closed form) is NaN; the JSON writes
// NaN as null. The lower-level functions live in sim/geometry.h and sim/lemma.h.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/loss.h"

namespace ms {

struct LemmaRow {
  int class_a = 0, class_b = 0;
  double alpha_deg = 0;             // angle between the two weight vectors
  double theory_margin_deg = 0;     // closed form (NaN when undefined or when the rule has no closed form)
  double measured_margin_deg = 0;   // root-finding of the margin-tightened rule, lambda = 0 (NaN: no root)
  double effective_margin_deg = 0;  // same at the current lambda (state.lambda as the trainer set it)
  // Where each class's own boundary lies on the arc, measured from its own weight vector (lambda = 0);
  // the renderer can draw the two boundaries from these. NaN when there is no root.
  double boundary_a_deg = 0, boundary_b_deg = 0;
  bool theory_defined = true;  // false: the margin is too large for alpha, or no closed form exists
  bool measured_defined = true;
  std::string note;  // empty, or why a value is NaN ("no root: ...", "no closed form: ...")
};

struct AngleMetrics {
  double intra_mean_deg = 0, intra_p95_deg = 0, intra_max_deg = 0;
  double inter_center_min_deg = 0, inter_center_mean_deg = 0, weight_min_deg = 0;
  bool separable = false;  // SphereFace sense: intra_max < inter_center_min
  double gap_deg = 0;      // inter_center_min - intra_max (negative when not separable)
  // Robust to outliers: the 95th percentile intra-class angle in place of the max.
  bool separable_p95 = false;  // intra_p95 < inter_center_min
  double gap_p95_deg = 0;      // inter_center_min - intra_p95
  int outliers = 0;            // samples with intra angle >= inter_center_min: separable <=> outliers == 0
  // Per sample (training split, input order): angle to the nearest other class direction.
  std::vector<float> nearest_other_deg;
  double nearest_other_mean_deg = 0, nearest_other_min_deg = 0;
  double closer_to_other_fraction = 0;   // samples nearer another class direction than their own
  std::vector<double> class_directions;  // (C,d) row-major unit mean directions (NaN row: empty class)
  int classes = 0, dim = 0;              // C and d of class_directions
};

// Verification figures over one set of pairs.
struct PairVerification {
  int64_t pairs = 0, positives = 0, negatives = 0;  // the pairs scored (all, or a sample)
  int64_t pairs_total = 0;                          // the pairs there are; > pairs when sampled
  double tar_at_far_1e2 = 0, tar_at_far_1e3 = 0, eer = 0, best_accuracy = 0, best_threshold = 0;
  double auc = 0;
  std::vector<float> roc_far, roc_tar;  // ROC sampled at log-spaced FAR (for the plot)
};

struct VerificationMetrics {
  double open_set_accuracy = -1;  // -1 when no classes are held out
  // The figures over all test pairs (the headline: TAR@FAR, EER, best accuracy), over unseen classes only,
  // and the identification accuracy with galleries for every test class (probes of every class), as
  // opposed to unseen classes only (open_set_accuracy).
  PairVerification all, unseen;
  double identification_accuracy_all = -1;
  bool sampled = false;  // pairs were sampled (more than max_pairs)
  std::string split;     // "test", "train" (no test split: free embeddings), or "" (no data)
};

struct NeuralCollapse {
  double nc1 = 0, nc2_equinorm = 0, nc3 = 0;
  double nc2_equiangular = 0;      // Papyan's Std_{c != c'} cos(M_c, M_c') of the centred class means
  double nc2_equiangular_mad = 0;  // Papyan's "maximal angle": Avg_{c != c'} |cos(M_c, M_c') + 1/(K-1)|
  double nc2_weights_equinorm = 0, nc2_weights_equiangular = 0;  // the same two figures for W
  bool unit_features = false;  // computed on unit-normalised features (the loss ignores |h|)
  bool unit_weights = false;   // W rows normalised for NC3 and the W figures (the loss ignores |w|)
};

struct Bounds {
  double normface_loss_lower_bound = 0;
  double scale_for_p = 0;
  double l2_alpha_low = 0;
  double cosface_m_max = 0;
  double target_probability = 0.9;    // P (CosFace) and p (L2-softmax) used above
  double scale_used = 0;              // s in the NormFace bound (NaN: the loss has no scale)
  bool normface_bound_valid = false;  // K <= d+1 and s known: the bound is attained (regular simplex)
  double cosface_m_max_weights = 0;   // 1 - max_{i!=j} cos(W_i, W_j): the current weights' limit
  std::string note;
};

struct Metrics {
  AngleMetrics angles;
  std::vector<LemmaRow> lemma;
  bool lemma_all_pairs = true;  // false: each class with its angularly nearest weight only
  VerificationMetrics verification;
  NeuralCollapse neural_collapse;
  Bounds bounds;
  std::vector<float> pos_hist, neg_hist;  // angle histograms of positive/negative pairs, 0..180 deg
  double hist_bin_deg = 2;                // width of one histogram bin; each histogram sums to 1 (or is 0)
};

}  // namespace ms

namespace ms {

// Everything computeMetrics needs; pointers are borrowed for the call.
struct MetricsInput {
  const LossSpec* spec = nullptr;      // active loss (decision rule for the lemma)
  const LossParams* params = nullptr;  //
  const LossState* state = nullptr;    // lambda for the effective margin
  const Mat* train = nullptr;          // (n,d) embeddings of training points
  const std::vector<int>* train_labels = nullptr;
  const Mat* test = nullptr;  // (m,d) embeddings of test points (held-out classes included)
  const std::vector<int>* test_labels = nullptr;
  const Mat* weights = nullptr;      // (K,d) class weights, or class centres for metric losses
  std::vector<int> holdout_classes;  // labels never trained on (open-set evaluation)
  uint64_t seed = 1;                 // pair sampling
  // --- options (defaults are what the app uses)
  double target_probability = 0.9;  // P of the CosFace scale bound and p of L2-softmax's alpha_low
  int64_t max_pairs = 1000000;      // verification: all pairs up to this many, else this many sampled
  int lemma_all_pairs_max_k = 16;   // lemma over all pairs up to this K, else nearest-weight pairs
  int nc_unit_features = -1;        // -1: auto (unit when the loss's test logit ignores |h|), 0: raw, 1: unit
  int nc_unit_weights = -1;         // the same for W and |w|
  int hist_bins = 90;               // 0..180 deg
};

Metrics computeMetrics(const MetricsInput& in);

}  // namespace ms
