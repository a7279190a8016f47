// Synchronous training of one Config: dataset, embedding model, loss, optimiser (see trainer.h). This file is
// the training side: building the state, the step, checkpoints and divergence, applying changes. Reading the
// model (embeddings, decisions, Snapshot, Evaluation) is snapshot_build.cpp; checking a Config is config.cpp;
// the state and its parameter layout are in trainer_impl.h.
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
#include "sim/trainer_impl.h"

namespace ms {

namespace {

std::string fmt(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

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
  idx.clear();             // lastRows(): no step yet

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
  recent_n = recent_pos = 0;
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
  // A pair or triplet loss scores a subset of the batch (trainer.h, kSampledRows): its first r rows. The
  // batch is a run of the epoch's seeded random permutation, so within an epoch they are a uniform random
  // r-subset of it (a batch that wraps into the next epoch keeps the old epoch's rows first).
  idx.resize(rowsPerStep(*spec, b, n));
  const int b_used = int(idx.size());
  yb.resize(b_used);
  for (int i = 0; i < b_used; ++i) yb[i] = data.y_train[idx[i]];
  if (!free_model) {
    Xb.resize(b_used, P);
    for (int i = 0; i < b_used; ++i) Xb.row(i) = data.X_train.row(idx[i]).cast<double>();
  }
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
  s.addRecentLoss(loss);
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
  s.recent_n = s.recent_pos = 0;  // the loss window starts again with the new setting (observation only)
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
const std::vector<int>& Trainer::lastRows() const {
  return impl_->idx;
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
  return mlpFlopsPerStep(s.mlp, rowsPerStep(s.cfg, int(s.data.X_train.rows())));
}

}  // namespace ms
