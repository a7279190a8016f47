// Synchronous training of one Config: dataset, embedding model, loss, optimiser (see trainer.h).
//
// All parameters live in one buffer p with the layout
//   [ network (MLP tensors or free embeddings E (n_train,d)) | W (K,d) | bias (K) | centres C (K,d) | scale ]
// and the gradients in g of the same layout. W is the classifier of every loss except the metric ones; bias
// is learned for plain softmax unless the user fixed it; C is moved by the centre losses' own update rule,
// not by the optimiser; scale is NormFace's learnable s or L2-softmax's learnable alpha.
// Determinism: every random draw comes from ms::Rng streams seeded by the config, Eigen runs on one thread,
// so the same config and seed give bit-identical parameters.
#include "sim/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

#include "sim/dataset.h"
#include "sim/errors.h"
#include "sim/network.h"
#include "sim/optim.h"
#include "sim/rng.h"

namespace ms {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string fmt(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

void rangeCheck(const char* key, double v, double lo, double hi, bool integer = false) {
  if (!(v >= lo && v <= hi) || (integer && v != std::floor(v)))
    throw UserError(std::string(key) + ": " + fmt(v) + " is out of range (allowed " +
                    (integer ? "integer " : "") + fmt(lo) + ".." + fmt(hi) + ")");
}

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

bool sameData(const Config& a, const Config& b) {
  return a.dataset == b.dataset && a.classes == b.classes && a.samples == b.samples &&
         a.input_dim == b.input_dim && a.spread == b.spread && a.noise == b.noise &&
         a.imbalance == b.imbalance && a.label_noise == b.label_noise && a.test_fraction == b.test_fraction &&
         a.data_dir == b.data_dir && a.holdout_classes == b.holdout_classes && a.seed == b.seed;
}

bool sameModel(const Config& a, const Config& b) {
  return a.dim == b.dim && a.model == b.model && a.hidden == b.hidden && a.activation == b.activation;
}

}  // namespace

void validateConfig(const Config& c) {
  const std::string& ds = c.dataset;
  if (!(ds == "blobs" || ds == "spirals" || ds == "rings" || ds == "moons" || ds == "xor" ||
        ds == "checkerboard" || ds == "fashion-mnist" || (ds.rfind("csv:", 0) == 0 && ds.size() > 4)))
    throw UserError(
        "dataset: unknown '" + ds +
        "' (allowed: blobs, spirals, rings, moons, xor (alias checkerboard), fashion-mnist, csv:PATH)");
  rangeCheck("classes", c.classes, 2, 100, true);
  rangeCheck("samples", c.samples, ds == "fashion-mnist" ? 0 : 2, 100000, true);
  rangeCheck("input_dim", c.input_dim, 2, 4096, true);
  rangeCheck("spread", c.spread, 0, 100);
  rangeCheck("noise", c.noise, 0, 10);
  rangeCheck("imbalance", c.imbalance, 1, 1000);
  rangeCheck("label_noise", c.label_noise, 0, 1);
  rangeCheck("test_fraction", c.test_fraction, 0, 0.9);
  rangeCheck("dim", c.dim, 2, 64, true);
  if (c.model != "mlp" && c.model != "free")
    throw UserError("model: unknown '" + c.model + "' (allowed: mlp, free)");
  if (c.hidden.size() > 4)
    throw UserError("hidden: " + std::to_string(c.hidden.size()) + " layers given (allowed 0..4 widths)");
  for (int h : c.hidden) rangeCheck("hidden", h, 1, 4096, true);
  parseActivation(c.activation);
  findLoss(c.loss);
  parseOptimizer(c.optimizer);
  rangeCheck("lr", c.lr, 1e-12, 1e3);
  rangeCheck("momentum", c.momentum, 0, 0.9999);
  rangeCheck("weight_decay", c.weight_decay, 0, 1);
  parseSchedule(c.schedule);
  if (!(c.lr_weights < 0)) rangeCheck("lr_weights", c.lr_weights, 0, 1e3);  // negative: same as lr
  rangeCheck("clip", c.clip, 0, 1e9);
  rangeCheck("batch", c.batch, 1, 65536, true);
  rangeCheck("steps", c.steps, 0, 1e9, true);
  rangeCheck("display_points", c.display_points, 0, 1000000, true);
  rangeCheck("grid", c.grid, 0, 1024, true);
}

struct Trainer::Impl {
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

void Trainer::Impl::build() {
  validateConfig(cfg);
  data = makeDataset(cfg);
  spec = &findLoss(cfg.loss);
  softmax_spec = &findLoss("softmax");
  d = cfg.dim;
  K = data.K;
  P = data.P;
  rows = std::max(1, weightRowsPerClass(*spec, cfg.params));
  free_model = cfg.model == "free";
  Eigen::Index n_net;
  if (free_model) {
    n_net = Eigen::Index(data.X_train.rows()) * d;
  } else {
    mlp = mlpLayout(P, cfg.hidden, d, parseActivation(cfg.activation), 0);
    n_net = mlp.size;
  }
  off_W = n_net;
  off_b = off_W + KW() * d;
  off_C = off_b + K;
  off_scale = off_C + Eigen::Index(K) * d;
  n_total = off_scale + 1;
  p.setZero(n_total);
  g.setZero(n_total);

  Rng init(cfg.seed * 0xd1b54a32d192ed03ULL + 3);
  if (free_model) {
    for (Eigen::Index i = 0; i < n_net; ++i) p[i] = init.normal();
  } else {
    mlpInit(mlp, p.data(), init);
  }
  // Class weights: unit-variance rows scaled like the embedding (Xavier on a (d,K) map).
  const double wstd = std::sqrt(1.0 / d);
  for (Eigen::Index i = 0; i < KW() * d; ++i) p[off_W + i] = wstd * init.normal();

  batch_rng = Rng(cfg.seed * 0x9e3779b97f4a7c15ULL + 101);
  perm.resize(data.X_train.rows());
  for (size_t i = 0; i < perm.size(); ++i) perm[i] = int(i);
  perm_pos = perm.size();  // shuffle on the first batch

  // Display subset: evenly strided, so every class appears in proportion (the splits are stored class by
  // class).
  const Eigen::Index ntr = data.X_train.rows(), nte = free_model ? 0 : data.X_test.rows();
  const int cap = cfg.display_points > 0 ? cfg.display_points : (P > 64 ? 2000 : 10000);
  Eigen::Index ctr = ntr, cte = nte;
  if (ntr + nte > cap) {
    cte = std::min<Eigen::Index>(nte, std::max<Eigen::Index>(cap / 4, cap * nte / (ntr + nte)));
    ctr = std::min<Eigen::Index>(ntr, cap - cte);
  }
  auto pick = [](Eigen::Index n, Eigen::Index c) {
    std::vector<int> v(static_cast<size_t>(c));
    for (Eigen::Index i = 0; i < c; ++i) v[size_t(i)] = int(i * n / c);
    return v;
  };
  disp_train = pick(ntr, ctr);
  disp_test = pick(nte, cte);

  // Input-space grid: the bounding box of the training inputs with a 10% border.
  if (P == 2 && ntr > 0) {
    gx0 = data.X_train.col(0).minCoeff();
    gx1 = data.X_train.col(0).maxCoeff();
    gy0 = data.X_train.col(1).minCoeff();
    gy1 = data.X_train.col(1).maxCoeff();
    const float bx = 0.1f * (gx1 - gx0) + 1e-3f, by = 0.1f * (gy1 - gy0) + 1e-3f;
    gx0 -= bx;
    gx1 += bx;
    gy0 -= by;
    gy1 += by;
  }

  step = 0;
  diverged = false;
  message.clear();
  last_loss = kNaN;
  loss_hist = History();
  acc_hist = History();
  test_hist = History();
  have_heavy = false;
  heavy_step = -1;
  test_acc = kNaN;
  state = LossState();
  opt = Optimizer();
  setupLoss(true, cfg);
  setupOptimizer();
  ck_new = ck_old = p;
  ck_new_state = ck_old_state = state;
  ck_new_step = ck_old_step = 0;
}

// What depends on the loss: parameter defaults the trainer fills, learned bias/scale, annealing, centres.
void Trainer::Impl::setupLoss(bool loss_changed, const Config& old) {
  params = cfg.params;
  if (spec->traits.inverse_frequency && !params.vectors.count("class_weights"))
    params.vectors["class_weights"] = inverseFrequencyWeights(data);
  validateParams(*spec, params, K);
  learn_bias = spec->traits.learns_bias && !cfg.params.vectors.count("bias");
  if (!learn_bias) p.segment(off_b, K).setZero();
  if (learn_bias) {
    std::vector<double> b(K);
    for (int k = 0; k < K; ++k) b[k] = p[off_b + k];
    params.vectors["bias"] = b;
  }
  anneal = spec->traits.anneals_lambda;
  const bool was_learning = learn_scale;
  const std::string& sname = spec->traits.learnable_scale;
  learn_scale = !sname.empty() && paramValue(*spec, params, spec->traits.learn_flag) != 0;
  if (loss_changed) {
    state = LossState();
    state.update = true;  // stateful losses move their statistics as they train
    if (usesCentres()) {
      // Centres start at the current class means of the training embeddings (notes 004: "initialised with
      // W_i" is the other choice; the means avoid a first jump).
      Mat Htr;
      embed(data.X_train, disp_train, true, Htr);
      Mat C = Mat::Zero(K, d);
      std::vector<int> n(K, 0);
      for (size_t i = 0; i < disp_train.size(); ++i) {
        const int y = data.y_train[disp_train[i]];
        C.row(y) += Htr.row(Eigen::Index(i));
        ++n[y];
      }
      for (int k = 0; k < K; ++k)
        if (n[k]) C.row(k) /= n[k];
      Eigen::Map<Mat>(p.data() + off_C, K, d) = C;
    }
  }
  if (learn_scale) {
    const double sp = paramValue(*spec, params, sname);
    if (loss_changed || !was_learning || sp != scale_param) {
      p[off_scale] = sp;
      scale_param = sp;
    }
  } else {
    scale_param = kNaN;
    if (sname == "s") state.s = -1;
    if (sname == "alpha") state.alpha = -1;
  }
  (void)old;
}

void Trainer::Impl::setupOptimizer() {
  segs.clear();
  if (free_model) {
    segs.push_back({0, off_W, 0, true});
  } else {
    for (int l = 0; l < mlp.layers(); ++l) {
      segs.push_back({mlp.w_off[l], Eigen::Index(mlp.widths[l]) * mlp.widths[l + 1], 0, true});
      segs.push_back({mlp.b_off[l], mlp.widths[l + 1], 0, false});
    }
  }
  if (usesW()) segs.push_back({off_W, KW() * d, 1, true});
  if (learn_bias) segs.push_back({off_b, K, 1, false});
  if (learn_scale) segs.push_back({off_scale, 1, 2, false});
  OptimSettings s;
  s.kind = parseOptimizer(cfg.optimizer);
  s.momentum = cfg.momentum;
  s.nesterov = cfg.nesterov;
  s.weight_decay = cfg.weight_decay;
  s.clip = cfg.clip;
  opt.configure(s, n_total);
}

void Trainer::Impl::sampleBatch() {
  const int n = int(perm.size());
  const int b = std::min(cfg.batch, n);
  idx.resize(b);
  // Epochs of a seeded permutation: every sample once per epoch.
  for (int i = 0; i < b; ++i) {
    if (perm_pos >= perm.size()) {
      for (int j = n - 1; j > 0; --j) std::swap(perm[j], perm[batch_rng.below(j + 1)]);
      perm_pos = 0;
    }
    idx[i] = perm[perm_pos++];
  }
  yb.resize(b);
  for (int i = 0; i < b; ++i) yb[i] = data.y_train[idx[i]];
  if (!free_model) {
    Xb.resize(b, P);
    for (int i = 0; i < b; ++i) Xb.row(i) = data.X_train.row(idx[i]).cast<double>();
  }
}

// H (rows,d) of the given rows of X; free models read E (train rows only).
void Trainer::Impl::embed(const MatF& X, const std::vector<int>& rows, bool train_rows, Mat& Hout) const {
  const Eigen::Index n = Eigen::Index(rows.size());
  Hout.resize(n, d);
  if (free_model) {
    if (train_rows) freeForward(p.data(), d, rows, Hout);
    return;
  }
  const Eigen::Index chunk = 1024;  // bounded scratch, cache friendly
  Mat Hc;
  for (Eigen::Index s = 0; s < n; s += chunk) {
    const Eigen::Index m = std::min(chunk, n - s);
    eval_X.resize(m, P);
    for (Eigen::Index i = 0; i < m; ++i) eval_X.row(i) = X.row(rows[size_t(s + i)]).cast<double>();
    mlpForward(mlp, p.data(), eval_X, eval_cache, Hc);
    Hout.middleRows(s, m) = Hc;
  }
}

// Unit mean direction of each class (metric losses have no W; the views draw these instead).
void Trainer::Impl::classDirections(const Mat& Htr, const std::vector<int>& ytr, Mat& dirs) const {
  dirs = Mat::Zero(K, d);
  for (Eigen::Index i = 0; i < Htr.rows(); ++i) {
    const double nrm = Htr.row(i).norm();
    if (nrm > 0 && ytr[size_t(i)] < K) dirs.row(ytr[size_t(i)]) += Htr.row(i) / nrm;
  }
  for (int k = 0; k < K; ++k) {
    const double nrm = dirs.row(k).norm();
    if (nrm > 0) dirs.row(k) /= nrm;
  }
}

void Trainer::Impl::classWeights(const Mat& Htr, const std::vector<int>& ytr, Mat& Wfull, Mat& Wclass) const {
  if (!usesW()) {
    classDirections(Htr, ytr, Wfull);
    Wclass = Wfull;
    return;
  }
  Wfull = Eigen::Map<const Mat>(p.data() + off_W, KW(), d);
  if (rows == 1) {
    Wclass = Wfull;
    return;
  }
  // Dominant sub-centre: the one nearest (in angle) to the most of its class's displayed samples.
  std::vector<int> votes(size_t(KW()), 0);
  for (Eigen::Index i = 0; i < Htr.rows(); ++i) {
    const int y = ytr[size_t(i)];
    if (y >= K) continue;
    Eigen::Index best = Eigen::Index(y) * rows;
    double best_c = -2;
    for (Eigen::Index q = Eigen::Index(y) * rows; q < Eigen::Index(y + 1) * rows; ++q) {
      const double n = Wfull.row(q).norm();
      const double c = n > 0 ? Htr.row(i).dot(Wfull.row(q)) / n : -1;
      if (c > best_c) best_c = c, best = q;
    }
    votes[size_t(best)]++;
  }
  Wclass.resize(K, d);
  for (int k = 0; k < K; ++k) {
    Eigen::Index best = Eigen::Index(k) * rows;
    for (Eigen::Index q = best + 1; q < Eigen::Index(k + 1) * rows; ++q)
      if (votes[size_t(q)] > votes[size_t(best)]) best = q;
    Wclass.row(k) = Wfull.row(best);
  }
}

// Class by the decision rule's test logits; conf = the largest softmax probability of those logits. Wd is
// (K r,d) with r weight rows per class (sub-centres): a class scores its best row.
void Trainer::Impl::predict(const Mat& Hp, const Mat& Wd, std::vector<int>* cls,
                            std::vector<float>* conf) const {
  const LossSpec& ds = decisionSpec();
  const bool metric = !usesW();  // nearest class-mean direction
  const Eigen::Index n = Hp.rows(), r = Wd.rows() / K;
  if (cls) cls->resize(size_t(n));
  if (conf) conf->resize(size_t(n));
  Eigen::VectorXd wn(Wd.rows());
  for (Eigen::Index k = 0; k < Wd.rows(); ++k) wn[k] = Wd.row(k).norm();
  const Mat dots = Hp * Wd.transpose();  // (n,K r)
  std::vector<double> z(K);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double hn = Hp.row(i).norm();
    int best = 0;
    for (int k = 0; k < K; ++k) {
      for (Eigen::Index q = Eigen::Index(k) * r; q < Eigen::Index(k + 1) * r; ++q) {
        const double c = (hn > 0 && wn[q] > 0) ? dots(i, q) / (hn * wn[q]) : 0.0;
        const double v = metric ? 10.0 * c : testLogit(ds, params, state, k, c, hn, wn[q]);
        if (q == Eigen::Index(k) * r || v > z[k]) z[k] = v;
      }
      if (z[k] > z[best]) best = k;
    }
    if (cls) (*cls)[size_t(i)] = best;
    if (conf) {
      double s = 0;
      for (int k = 0; k < K; ++k) s += std::exp(z[k] - z[best]);
      (*conf)[size_t(i)] = float(1.0 / s);
    }
  }
}

double Trainer::Impl::accuracy(const Mat& Hp, const std::vector<int>& y, const Mat& Wd) const {
  std::vector<int> c;
  predict(Hp, Wd, &c, nullptr);
  int64_t ok = 0, n = 0;
  for (size_t i = 0; i < c.size(); ++i)
    if (y[i] < K) {
      ++n;
      ok += c[i] == y[i];
    }
  return n ? double(ok) / double(n) : kNaN;
}

// Restores the last finite state and says what happened and what to change.
bool Trainer::Impl::divergedAt(const std::string& what) {
  p = ck_old;
  state = ck_old_state;
  ck_new = ck_old;
  ck_new_state = ck_old_state;
  ck_new_step = ck_old_step;
  opt.clearState();  // the moments may hold the non-finite values too
  diverged = true;
  std::string detail = "loss " + spec->name;
  for (const ParamSpec& ps : spec->params)
    if (ps.name == "s" || ps.name == "m" || ps.name == "alpha" || ps.name == "lambda")
      detail += ", " + ps.name + " = " + fmt(paramValue(*spec, params, ps.name));
  detail += ", lr = " + fmt(last_lr);
  std::string advice = "lower the learning rate (e.g. lr = " + fmt(cfg.lr / 10) + ")";
  for (const ParamSpec& ps : spec->params)
    if ((ps.name == "s" || ps.name == "alpha") && paramValue(*spec, params, ps.name) > 30)
      advice += " or the scale " + ps.name;
  if (cfg.clip <= 0) advice += ", or turn on gradient clipping (clip)";
  message = what + " at step " + std::to_string(step + 1) + " (" + detail +
            "): training paused and the parameters of step " + std::to_string(ck_old_step) + " restored; " +
            advice;
  return false;
}

Trainer::Trainer(const Config& config) : impl_(new Impl) {
  impl_->cfg = config;
  impl_->build();
}

Trainer::~Trainer() = default;

bool Trainer::step() {
  Impl& s = *impl_;
  if (s.step % Impl::kCheckpointEvery == 0 && s.step != s.ck_new_step) {
    s.ck_old = s.ck_new;
    s.ck_old_state = s.ck_new_state;
    s.ck_old_step = s.ck_new_step;
    s.ck_new = s.p;
    s.ck_new_state = s.state;
    s.ck_new_step = s.step;
  }
  s.sampleBatch();
  // forward: H (b,d)
  if (s.free_model)
    freeForward(s.p.data(), s.d, s.idx, s.H);
  else
    mlpForward(s.mlp, s.p.data(), s.Xb, s.cache, s.H);
  // loss state the trainer owns
  if (s.anneal) s.state.lambda = annealedLambda(*s.spec, s.params, s.state.iteration);
  if (s.learn_scale) (s.spec->traits.learnable_scale == "s" ? s.state.s : s.state.alpha) = s.p[s.off_scale];
  if (s.learn_bias) {
    std::vector<double>& bias = s.params.vectors["bias"];
    for (int k = 0; k < s.K; ++k) bias[k] = s.p[s.off_b + k];
  }
  const bool useW = s.usesW();
  if (useW) s.Wm = Eigen::Map<const Mat>(s.p.data() + s.off_W, s.KW(), s.d);
  if (s.usesCentres()) s.Cm = Eigen::Map<const Mat>(s.p.data() + s.off_C, s.K, s.d);
  s.aux.joint = s.spec->traits.joint_softmax;
  s.aux.centres = s.usesCentres() ? &s.Cm : nullptr;
  s.aux.dscale = 0;
  s.last_lr = scheduledLr(parseSchedule(s.cfg.schedule), s.cfg.lr, s.step, s.cfg.steps);
  const double loss = lossForwardBackward(*s.spec, s.params, s.state, s.H, useW ? &s.Wm : nullptr, s.yb, s.dH,
                                          useW ? &s.dW : nullptr, s.ws, &s.aux);
  if (!std::isfinite(loss))
    return s.divergedAt(std::string("loss became ") + (std::isnan(loss) ? "NaN" : "Inf"));
  // backward into g (same layout as p)
  s.g.setZero();
  if (s.free_model)
    freeBackward(s.d, s.idx, s.dH, s.g.data());
  else
    mlpBackward(s.mlp, s.p.data(), s.Xb, s.cache, s.dH, s.g.data());
  if (useW) Eigen::Map<Mat>(s.g.data() + s.off_W, s.KW(), s.d) = s.dW;
  if (s.learn_bias && s.aux.dbias.size() == s.K) s.g.segment(s.off_b, s.K) = s.aux.dbias;
  if (s.learn_scale) s.g[s.off_scale] = s.aux.dscale;
  if (!s.g.allFinite()) return s.divergedAt("a gradient became non-finite");
  const double lr_w = s.cfg.lr_weights >= 0
                          ? scheduledLr(parseSchedule(s.cfg.schedule), s.cfg.lr_weights, s.step, s.cfg.steps)
                          : s.last_lr;
  const double lrs[3] = {s.last_lr, lr_w, s.last_lr};
  s.opt.step(s.p.data(), s.g.data(), s.segs, lrs);
  if (s.learn_scale) s.p[s.off_scale] = std::max(s.p[s.off_scale], 1e-3);  // a scale stays positive
  if (s.usesCentres()) {
    updateCentres(*s.spec, s.params, s.H, s.yb, s.aux, s.Cm);
    Eigen::Map<Mat>(s.p.data() + s.off_C, s.K, s.d) = s.Cm;
  }
  if (!s.p.allFinite()) return s.divergedAt("a parameter became non-finite");
  // Finite but exploding parameters would overflow the float embeddings of the views a few steps later.
  if (s.p.cwiseAbs().maxCoeff() > 1e6) return s.divergedAt("the parameters exploded (|p| > 1e6)");
  ++s.state.iteration;
  ++s.step;
  s.diverged = false;
  s.last_loss = loss;
  s.loss_hist.add(loss);
  // Accuracy of every 8th batch (before the update), as the training-accuracy curve: the decision rule
  // costs K test logits per sample, a fifth of a small network's step if done every time.
  if (s.step % 8 == 1) {
    if (useW) {
      s.acc_hist.add(s.accuracy(s.H, s.yb, s.Wm));
    } else {
      Mat dirs;
      s.classDirections(s.H, s.yb, dirs);
      s.acc_hist.add(s.accuracy(s.H, s.yb, dirs));
    }
  }
  return true;
}

bool Trainer::apply(const Config& config) {
  Impl& s = *impl_;
  validateConfig(config);
  // A different number of weight rows per class (sub-centres) is a different parameter layout: start again.
  if (!sameData(s.cfg, config) || !sameModel(s.cfg, config) ||
      config.display_points != s.cfg.display_points ||
      weightRowsPerClass(findLoss(config.loss), config.params) != s.rows) {
    const Config old = s.cfg;
    s.cfg = config;
    try {
      s.build();
    } catch (...) {
      s.cfg = old;  // a bad dataset leaves the old run intact
      s.build();
      throw;
    }
    return true;
  }
  const LossSpec& ns = findLoss(config.loss);
  {
    // Validate before changing anything: nothing is half-applied.
    LossParams tmp = config.params;
    if (ns.traits.inverse_frequency && !tmp.vectors.count("class_weights"))
      tmp.vectors["class_weights"] = std::vector<double>(s.K, 1.0);
    validateParams(ns, tmp, s.K);
  }
  const bool loss_changed = &ns != s.spec;
  const Config old = s.cfg;
  s.cfg = config;
  s.spec = &ns;
  s.setupLoss(loss_changed, old);
  s.setupOptimizer();
  if (s.diverged) {
    s.diverged = false;
    s.message.clear();
  }
  return false;
}

void Trainer::reset() {
  impl_->build();
}

int64_t Trainer::stepCount() const {
  return impl_->step;
}
bool Trainer::diverged() const {
  return impl_->diverged;
}
const std::string& Trainer::message() const {
  return impl_->message;
}
const Config& Trainer::config() const {
  return impl_->cfg;
}
void Trainer::setStepsPerSecond(double sps) {
  impl_->sps = sps;
}
void Trainer::setControlLatencyMs(double ms) {
  impl_->latency_ms = ms;
}
double Trainer::lastLoss() const {
  return impl_->last_loss;
}
int Trainer::inputDim() const {
  return impl_->P;
}
int Trainer::classes() const {
  return impl_->K;
}

double Trainer::flopsPerStep() const {
  const Impl& s = *impl_;
  if (s.free_model) return 0;
  return mlpFlopsPerStep(s.mlp, std::min<int>(s.cfg.batch, int(s.data.X_train.rows())));
}

SnapshotPtr Trainer::snapshot(bool with_metrics, uint64_t controls_version) const {
  const Impl& s = *impl_;
  auto out = std::make_shared<Snapshot>();
  Snapshot& o = *out;
  o.controls_version = controls_version;
  o.step = s.step;
  o.dim = s.d;
  o.K = s.K;
  o.K_all = s.data.K_all;
  o.class_names = s.data.class_names;
  o.input_dim = s.P;
  o.loss = s.spec->name;
  o.params = s.params;
  o.loss_state = s.state;
  o.lr = s.last_lr;
  o.control_latency_ms = s.latency_ms;

  Mat Htr, Hte;
  s.embed(s.data.X_train, s.disp_train, true, Htr);
  s.embed(s.data.X_test, s.disp_test, false, Hte);
  std::vector<int> ytr(s.disp_train.size()), yte(s.disp_test.size());
  for (size_t i = 0; i < ytr.size(); ++i) ytr[i] = s.data.y_train[s.disp_train[i]];
  for (size_t i = 0; i < yte.size(); ++i) yte[i] = s.data.y_test[s.disp_test[i]];
  Mat Wfull, Wd;
  s.classWeights(Htr, ytr, Wfull, Wd);

  const size_t n = ytr.size() + yte.size();
  o.embeddings.resize(n * s.d);
  o.labels.resize(n);
  o.is_test.resize(n);
  for (size_t i = 0; i < ytr.size(); ++i) {
    for (int j = 0; j < s.d; ++j) o.embeddings[i * s.d + j] = float(Htr(Eigen::Index(i), j));
    o.labels[i] = ytr[i];
    o.is_test[i] = 0;
  }
  for (size_t i = 0; i < yte.size(); ++i) {
    const size_t r = ytr.size() + i;
    for (int j = 0; j < s.d; ++j) o.embeddings[r * s.d + j] = float(Hte(Eigen::Index(i), j));
    o.labels[r] = yte[i];
    o.is_test[r] = 1;
  }
  if (s.P == 2) {
    o.inputs.resize(n * 2);
    for (size_t i = 0; i < ytr.size(); ++i)
      for (int j = 0; j < 2; ++j) o.inputs[i * 2 + j] = s.data.X_train(s.disp_train[i], j);
    for (size_t i = 0; i < yte.size(); ++i)
      for (int j = 0; j < 2; ++j) o.inputs[(ytr.size() + i) * 2 + j] = s.data.X_test(s.disp_test[i], j);
  }
  o.weights.resize(size_t(s.K) * s.d);
  for (int k = 0; k < s.K; ++k)
    for (int j = 0; j < s.d; ++j) o.weights[size_t(k) * s.d + j] = Wd(k, j);
  if (s.rows > 1) {
    o.subcentres.resize(size_t(s.KW()) * s.d);
    for (Eigen::Index k = 0; k < s.KW(); ++k)
      for (int j = 0; j < s.d; ++j) o.subcentres[size_t(k) * s.d + j] = Wfull(k, j);
  }
  if (s.usesCentres()) {
    Eigen::Map<const Mat> C(s.p.data() + s.off_C, s.K, s.d);
    o.centres.resize(size_t(s.K) * s.d);
    for (int k = 0; k < s.K; ++k)
      for (int j = 0; j < s.d; ++j) o.centres[size_t(k) * s.d + j] = C(k, j);
  }
  o.train_accuracy = s.accuracy(Htr, ytr, Wfull);

  if (with_metrics || !s.have_heavy) {
    s.test_acc = yte.empty() ? kNaN : s.accuracy(Hte, yte, Wfull);
    if (!std::isnan(s.test_acc)) s.test_hist.add(s.test_acc);
    // Input-space class map: the model's decision on a grid over the 2-D input plane.
    const int G = s.cfg.grid;
    if (s.P == 2 && G > 0 && !s.free_model) {
      MatF Xg(Eigen::Index(G) * G, 2);
      for (int r = 0; r < G; ++r)
        for (int c = 0; c < G; ++c) {
          Xg(r * G + c, 0) = s.gx0 + (s.gx1 - s.gx0) * (c + 0.5f) / G;
          Xg(r * G + c, 1) = s.gy0 + (s.gy1 - s.gy0) * (r + 0.5f) / G;
        }
      std::vector<int> rows(size_t(G) * G);
      for (size_t i = 0; i < rows.size(); ++i) rows[i] = int(i);
      Mat Hg;
      s.embed(Xg, rows, false, Hg);
      std::vector<int> cls;
      s.predict(Hg, Wfull, &cls, &s.grid_conf);
      s.grid_class.assign(cls.begin(), cls.end());
    } else {
      s.grid_class.clear();
      s.grid_conf.clear();
    }
    if (with_metrics) {
      MetricsInput mi;
      mi.spec = s.spec;
      mi.params = &s.params;
      mi.state = &s.state;
      mi.train = &Htr;
      mi.train_labels = &ytr;
      mi.test = &Hte;
      mi.test_labels = &yte;
      mi.weights = &Wd;
      mi.holdout_classes = s.data.holdout;
      mi.seed = s.cfg.seed;
      s.metrics = computeMetrics(mi);
    }
    s.have_heavy = true;
    s.heavy_step = s.step;
  }
  o.test_accuracy = s.test_acc;
  o.metrics = s.metrics;
  o.metrics_step = s.heavy_step;
  if (!s.grid_class.empty()) {
    o.grid_w = o.grid_h = s.cfg.grid;
    o.grid_x0 = s.gx0;
    o.grid_x1 = s.gx1;
    o.grid_y0 = s.gy0;
    o.grid_y1 = s.gy1;
    o.grid_class = s.grid_class;
    o.grid_conf = s.grid_conf;
  }
  o.loss_history = s.loss_hist.v;
  o.train_acc_history = s.acc_hist.v;
  o.test_acc_history = s.test_hist.v;
  o.history_stride = s.loss_hist.stride;
  o.train_acc_history_stride = 8 * s.acc_hist.stride;
  o.loss_value = s.last_loss;
  o.steps_per_second = s.sps;
  o.diverged = s.diverged;
  o.message = s.message;
  return out;
}

Trainer::Evaluation Trainer::evaluate() const {
  const Impl& s = *impl_;
  Evaluation e;
  std::vector<int> rtr(s.data.X_train.rows()), rte(s.free_model ? 0 : s.data.X_test.rows());
  for (size_t i = 0; i < rtr.size(); ++i) rtr[i] = int(i);
  for (size_t i = 0; i < rte.size(); ++i) rte[i] = int(i);
  s.embed(s.data.X_train, rtr, true, e.train);
  s.embed(s.data.X_test, rte, false, e.test);
  e.train_labels = s.data.y_train;
  e.test_labels.assign(s.data.y_test.begin(), s.data.y_test.begin() + rte.size());
  Mat Wd, Wclass;
  s.classWeights(e.train, e.train_labels, Wd, Wclass);
  e.train_accuracy = s.accuracy(e.train, e.train_labels, Wd);
  e.test_accuracy = rte.empty() ? kNaN : s.accuracy(e.test, e.test_labels, Wd);
  return e;
}

}  // namespace ms
