// Reading the trainer's model (see trainer_impl.h): embeddings of any rows, the decision rule's class and
// confidence, accuracy, and from them the immutable Snapshot the views draw and the Evaluation of every
// point. Nothing here changes the parameters; the costly parts of a snapshot (class map over the input grid,
// test accuracy, metrics) are cached in the Impl's mutable fields and recomputed only when asked
// with_metrics.
#include <algorithm>
#include <cmath>

#include "sim/metrics.h"
#include "sim/trainer_impl.h"
#include "sim/warnings.h"

namespace ms {

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
  // The whole splits' sizes, as evaluate() counts them, so that a figure can say its accuracy is a subset's.
  o.train_points = int64_t(s.data.y_train.size());
  o.test_points = 0;
  if (!s.free_model)
    for (int y : s.data.y_test) o.test_points += y < s.K;

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
  // Training accuracy (as accuracy()), keeping each sample's predicted class for the warnings.
  std::vector<int> pred;
  s.predict(Htr, Wfull, &pred, nullptr);
  {
    int64_t ok = 0, cnt = 0;
    for (size_t i = 0; i < pred.size(); ++i)
      if (ytr[i] < s.K) ++cnt, ok += pred[i] == ytr[i];
    o.train_accuracy = cnt ? double(ok) / double(cnt) : Impl::kNaN;
  }

  if (with_metrics || !s.have_heavy) {
    s.test_acc = yte.empty() ? Impl::kNaN : s.accuracy(Hte, yte, Wfull);
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

  WarningInput wi;
  wi.step = s.step;
  wi.K = s.K;
  wi.lr = s.cfg.lr;
  wi.diverged = s.diverged;
  wi.diverged_message = s.message;
  wi.H = &Htr;
  wi.labels = &ytr;
  wi.predicted = &pred;
  wi.W = &Wd;
  wi.W_are_directions = !s.usesW();
  wi.train_accuracy = std::isnan(o.train_accuracy) ? -1 : o.train_accuracy;
  const std::vector<double> recent = s.recentLosses();
  wi.recent_losses = &recent;
  o.warnings = detectWarnings(wi);
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
  e.test_accuracy = rte.empty() ? Impl::kNaN : s.accuracy(e.test, e.test_labels, Wd);
  return e;
}

}  // namespace ms
