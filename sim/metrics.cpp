// computeMetrics: every figure of the metrics panel and the metrics JSON from one set of embeddings,
// weights and labels (issue 5). The pieces live in geometry_*.cpp and lemma.cpp; this file decides which
// split feeds which figure and fills in what the loss decides (its scale, its decision rule).
#include "sim/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sim/geometry.h"
#include "sim/lemma.h"
#include "sim/param_lookup.h"

namespace ms {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int labelCount(const std::vector<int>* y) {
  int C = 0;
  if (y)
    for (int v : *y) C = std::max(C, v + 1);
  return C;
}

// Unit rows as row-major floats, for the pair loop.
std::vector<float> unitRows(const Mat& H, const std::vector<int>& rows) {
  const int d = int(H.cols());
  std::vector<float> U(rows.size() * size_t(d));
  for (size_t k = 0; k < rows.size(); ++k) {
    const double n = H.row(rows[k]).norm();
    const double inv = n > 0 ? 1 / n : 0;
    for (int j = 0; j < d; ++j) U[k * d + j] = float(H(rows[k], j) * inv);
  }
  return U;
}

}  // namespace

Metrics computeMetrics(const MetricsInput& in) {
  Metrics m;
  m.hist_bin_deg = in.hist_bins > 0 ? 180.0 / in.hist_bins : 0;
  const LossState default_state;
  const LossState& state = in.state ? *in.state : default_state;
  const bool have_rule = in.spec && in.params;
  const Mat* W = in.weights;
  const bool have_train = in.train && in.train_labels && in.train->rows() > 0;
  const bool have_test = in.test && in.test_labels && in.test->rows() > 0;
  const int d = W            ? int(W->cols())
                : have_train ? int(in.train->cols())
                : have_test  ? int(in.test->cols())
                             : 0;
  const int K = W ? int(W->rows()) : labelCount(in.train_labels);

  // Angles and neural collapse: the training split (what the loss shapes); the test split if there is none.
  const Mat* H = have_train ? in.train : have_test ? in.test : nullptr;
  const std::vector<int>* y = have_train ? in.train_labels : in.test_labels;
  if (H) {
    const int C = std::max(K, labelCount(y));
    m.angles = angleMetrics(*H, *y, C, W);
    // NC on unit features when the loss's test logit ignores |h| (NormFace, CosFace, ArcFace, metric
    // losses): their raw norms are free and would only add noise to NC1; likewise unit W rows when it
    // ignores |w| (A-Softmax too), else NC3 would measure the free weight norms.
    bool unit = in.nc_unit_features == 1;
    if (in.nc_unit_features < 0 && have_rule) unit = !in.spec->traits.feature_norm;
    bool unit_w = in.nc_unit_weights == 1;
    if (in.nc_unit_weights < 0 && have_rule) unit_w = !in.spec->traits.weight_norm;
    m.neural_collapse = neuralCollapse(*H, *y, K, W, unit, unit_w);
  }

  // The lemma over weight pairs.
  if (have_rule && W && K >= 2) {
    for (const auto& [a, b] : lemmaPairs(*W, in.lemma_all_pairs_max_k, &m.lemma_all_pairs))
      m.lemma.push_back(lemmaRow(*in.spec, *in.params, state, *W, a, b));
  }

  // Verification and identification on the test split; with none (free embeddings have no test points:
  // nothing maps a new input to an embedding), on the training split, and `split` says which.
  VerificationMetrics& v = m.verification;
  if (have_test || have_train) {
    v.split = have_test ? "test" : "train";
    const Mat& T = have_test ? *in.test : *in.train;
    const std::vector<int>& yt = have_test ? *in.test_labels : *in.train_labels;
    std::vector<int> rows(T.rows());
    for (int i = 0; i < int(rows.size()); ++i) rows[i] = i;
    const std::vector<float> U = unitRows(T, rows);
    v.all = verifyPairs(U, int(rows.size()), int(T.cols()), yt, in.max_pairs, in.seed, in.hist_bins,
                        &m.pos_hist, &m.neg_hist, &v.sampled);

    std::vector<int> classes;
    for (int c = 0; c < labelCount(&yt); ++c) classes.push_back(c);
    v.identification_accuracy_all = identificationAccuracy(T, yt, classes, in.seed);
    if (have_test && !in.holdout_classes.empty()) {
      std::vector<char> held(labelCount(&yt) + 1, 0);
      for (int c : in.holdout_classes)
        if (c >= 0 && c < int(held.size())) held[c] = 1;
      std::vector<int> unseen_rows, unseen_y;
      for (int i = 0; i < int(yt.size()); ++i)
        if (yt[i] >= 0 && held[yt[i]]) unseen_rows.push_back(i), unseen_y.push_back(yt[i]);
      const std::vector<float> Uu = unitRows(T, unseen_rows);
      v.unseen = verifyPairs(Uu, int(unseen_rows.size()), int(T.cols()), unseen_y, in.max_pairs, in.seed + 1,
                             0, nullptr, nullptr, nullptr);
      v.open_set_accuracy = identificationAccuracy(T, yt, in.holdout_classes, in.seed);
    }
  } else {
    v.all.tar_at_far_1e2 = v.all.tar_at_far_1e3 = v.all.eer = v.all.best_accuracy = v.all.best_threshold =
        kNaN;
  }

  // Bounds at the loss's current scale (learned/adapted s when the state has one).
  double s = kNaN;
  if (state.s > 0)
    s = state.s;
  else if (have_rule && hasParam(*in.spec, "s"))
    s = paramValue(*in.spec, *in.params, "s");
  m.bounds = marginBounds(K, d, s, in.target_probability, W);
  return m;
}

}  // namespace ms
