// The inside of a Trainer, shared by the two files that define it: trainer.cpp (state, steps, checkpoints,
// applying changes) and snapshot_build.cpp (embeddings, decisions, the Snapshot and the Evaluation). Private
// to sim/: nothing outside those two files includes it.
//
// All parameters live in one buffer p with the layout
//   [ network (MLP tensors or free embeddings E (n_train,d)) | W (K,d) | bias (K) | centres C (K,d) | scale ]
// and the gradients in g of the same layout. W is the classifier of every loss except the metric ones; bias
// is learned for plain softmax unless the user fixed it; C is moved by the centre losses' own update rule,
// not by the optimiser; scale is NormFace's learnable s or L2-softmax's learnable alpha.
#pragma once
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "sim/dataset.h"
#include "sim/network.h"
#include "sim/optim.h"
#include "sim/rng.h"
#include "sim/trainer.h"
#include "sim/warnings.h"

namespace ms {

struct Trainer::Impl {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

  // A downsampled ring: one entry per `stride` values; when full, neighbours merge and the stride doubles, so
  // the whole run stays visible in a bounded size.
  struct History {
    std::vector<float> v;
    int stride = 1, cnt = 0;
    double acc = 0;
    static constexpr size_t kCap = 2048;
    void add(double x) {
      acc += x;
      if (++cnt < stride) return;
      v.push_back(float(acc / cnt));
      acc = 0;
      cnt = 0;
      if (v.size() >= kCap) {
        for (size_t i = 0; i < v.size() / 2; ++i) v[i] = 0.5f * (v[2 * i] + v[2 * i + 1]);
        v.resize(v.size() / 2);
        stride *= 2;
      }
    }
  };

  Config cfg;
  const LossSpec* spec = nullptr;
  const LossSpec* softmax_spec = nullptr;
  LossParams params;  // cfg.params plus what the trainer fills (class weights) and learns (bias)
  LossState state;
  Dataset data;
  bool free_model = false;
  MlpLayout mlp;
  int d = 2, K = 2, P = 2;
  int rows = 1;  // weight rows per class: 1, or sub-center ArcFace's k (W is (K k,d), class-major)
  Eigen::Index KW() const { return Eigen::Index(K) * rows; }
  Eigen::Index off_W = 0, off_b = 0, off_C = 0, off_scale = 0, n_total = 0;
  Eigen::VectorXd p, g;
  // Checkpoints every kCheckpointEvery steps: on divergence the older one is restored, so that the
  // parameters come from before the blow-up began (the step just before a NaN is often already huge).
  static constexpr int kCheckpointEvery = 25;
  Eigen::VectorXd ck_new, ck_old;
  LossState ck_new_state, ck_old_state;
  int64_t ck_new_step = 0, ck_old_step = 0;
  std::vector<ParamSegment> segs;
  Optimizer opt;
  Rng batch_rng{1};
  std::vector<int> perm;
  size_t perm_pos = 0;
  bool learn_bias = false, learn_scale = false, anneal = false;
  double scale_param = kNaN;  // the s/alpha param value the learned scale started from

  // step scratch (reused: no allocation per warm step)
  RowMat Xb;
  std::vector<int> idx, yb;
  Mat H, dH, Wm, dW, Cm;
  MlpCache cache;
  LossWorkspace ws;
  LossAux aux;

  int64_t step = 0;
  bool diverged = false;
  std::string message;
  double last_loss = kNaN, last_lr = 0, sps = 0, latency_ms = -1;
  History loss_hist, acc_hist;
  // The last kOscWindow batch losses (a ring; oldest at recent_pos when full), for the lr_oscillation
  // warning. Cleared by build() and apply(): a new setting starts a new window.
  std::vector<double> recent_loss = std::vector<double>(kOscWindow);
  size_t recent_n = 0, recent_pos = 0;
  void addRecentLoss(double l) {
    recent_loss[recent_pos] = l;
    recent_pos = (recent_pos + 1) % recent_loss.size();
    recent_n = std::min(recent_n + 1, recent_loss.size());
  }
  std::vector<double> recentLosses() const {  // oldest first
    std::vector<double> v(recent_n);
    const size_t start = (recent_pos + recent_loss.size() - recent_n) % recent_loss.size();
    for (size_t i = 0; i < recent_n; ++i) v[i] = recent_loss[(start + i) % recent_loss.size()];
    return v;
  }

  // display subset and the costly parts of a snapshot, refreshed by snapshot(with_metrics)
  std::vector<int> disp_train, disp_test;
  mutable MlpCache eval_cache;
  mutable RowMat eval_X;
  mutable History test_hist;
  mutable bool have_heavy = false;
  mutable int64_t heavy_step = -1;
  mutable double test_acc = kNaN;
  mutable Metrics metrics;
  mutable std::vector<uint8_t> grid_class;
  mutable std::vector<float> grid_conf;
  float gx0 = 0, gx1 = 0, gy0 = 0, gy1 = 0;

  bool usesW() const { return spec->traits.has_weights || spec->traits.joint_softmax; }
  bool usesCentres() const { return spec->traits.uses_centres; }
  // The rule that classifies: the loss's own test logit; the joint softmax's for the centre family.
  const LossSpec& decisionSpec() const { return spec->traits.joint_softmax ? *softmax_spec : *spec; }

  // The weights the rule scores with, Wfull (K r,d), and one per class for the views and the metrics,
  // Wclass (K,d): the same when r = 1; else each class's dominant sub-centre. Metric losses: class means.
  void classWeights(const Mat& Htr, const std::vector<int>& ytr, Mat& Wfull, Mat& Wclass) const;
  void build();
  void setupLoss(bool loss_changed, const Config& old);
  void setupOptimizer();
  void sampleBatch();
  void embed(const MatF& X, const std::vector<int>& rows, bool train_rows, Mat& H) const;
  void classDirections(const Mat& Htr, const std::vector<int>& ytr, Mat& dirs) const;
  void predict(const Mat& H, const Mat& Wd, std::vector<int>* cls, std::vector<float>* conf) const;
  double accuracy(const Mat& H, const std::vector<int>& y, const Mat& Wd) const;
  bool divergedAt(const std::string& what);
};

}  // namespace ms
