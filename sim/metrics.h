// Geometry and evaluation metrics computed from embeddings, weights and labels (issue: metrics).
// Names mirror the metrics JSON contract in DESIGN.md.
#pragma once
#include <vector>

#include "sim/loss.h"

namespace ms {

struct LemmaRow {
  int class_a = 0, class_b = 0;
  double alpha_deg = 0;             // angle between the two weight vectors
  double theory_margin_deg = 0;     // closed form
  double measured_margin_deg = 0;   // root-finding of the margin-tightened rule, lambda = 0
  double effective_margin_deg = 0;  // same at the current lambda
};

struct AngleMetrics {
  double intra_mean_deg = 0, intra_p95_deg = 0, intra_max_deg = 0;
  double inter_center_min_deg = 0, inter_center_mean_deg = 0, weight_min_deg = 0;
  bool separable = false;
  double gap_deg = 0;
};

struct VerificationMetrics {
  double tar_at_far_1e2 = 0, tar_at_far_1e3 = 0, eer = 0, best_accuracy = 0, best_threshold = 0;
  double open_set_accuracy = -1;  // -1 when no classes are held out
};

struct NeuralCollapse {
  double nc1 = 0, nc2_equinorm = 0, nc2_equiangular = 0, nc3 = 0;
};

struct Bounds {
  double normface_loss_lower_bound = 0;
  double scale_for_p = 0;
  double l2_alpha_low = 0;
  double cosface_m_max = 0;
};

struct Metrics {
  AngleMetrics angles;
  std::vector<LemmaRow> lemma;
  VerificationMetrics verification;
  NeuralCollapse neural_collapse;
  Bounds bounds;
  std::vector<float> pos_hist, neg_hist;  // angle histograms of positive/negative pairs, 0..180 deg
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
};

Metrics computeMetrics(const MetricsInput& in);

}  // namespace ms
