// Dataset generation and loading (see dataset.h). Every random choice draws from one ms::Rng seeded by the
// config, in a fixed order, so that the same config gives the same points on every machine.
#include "sim/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <sstream>

#include "sim/dataset_io.h"
#include "sim/errors.h"
#include "sim/math.h"
#include "sim/rng.h"

namespace ms {

const std::vector<std::string>& datasetNames() {
  static const std::vector<std::string> kNames = {"blobs", "spirals",      "rings",         "moons",
                                                  "xor",   "checkerboard", "fashion-mnist", "csv:PATH"};
  return kNames;
}

namespace {

// Points of all classes before the split, in input space.
struct Raw {
  std::vector<std::vector<double>> x;  // (n)(P)
  std::vector<int> y;                  // (n)
  int P = 2, K = 2;
};

// Class k gets samples * imbalance^(-k/(K-1)) points: class 0 the most, class K-1 `imbalance` times fewer.
int classSize(const Config& c, int k) {
  if (c.classes <= 1 || c.imbalance <= 1.0) return c.samples;
  const double f = std::pow(c.imbalance, -double(k) / double(c.classes - 1));
  return std::max(2, int(std::lround(c.samples * f)));
}

Raw makeBlobs(const Config& c, Rng& rng) {
  Raw r;
  r.P = c.input_dim;
  r.K = c.classes;
  const int P = r.P, K = r.K;
  // Centres: on a circle for P = 2 (a regular polygon, so every class has the same neighbours), Gaussian
  // directions otherwise; then scaled so that the closest two centres are 1 apart and `spread` is relative to
  // it.
  std::vector<std::vector<double>> mu(K, std::vector<double>(P, 0.0));
  if (P == 2) {
    const double phase = rng.uniform(0, 2 * kPi);
    for (int k = 0; k < K; ++k) {
      mu[k][0] = std::cos(phase + 2 * kPi * k / K);
      mu[k][1] = std::sin(phase + 2 * kPi * k / K);
    }
  } else {
    for (int k = 0; k < K; ++k)
      for (int p = 0; p < P; ++p) mu[k][p] = rng.normal();
  }
  double dmin = 1e300;
  for (int a = 0; a < K; ++a)
    for (int b = a + 1; b < K; ++b) {
      double s = 0;
      for (int p = 0; p < P; ++p) s += (mu[a][p] - mu[b][p]) * (mu[a][p] - mu[b][p]);
      dmin = std::min(dmin, std::sqrt(s));
    }
  if (!(dmin > 1e-12)) dmin = 1;
  const double sigma = 0.25 * c.spread;  // spread 1: std a quarter of the closest centre distance
  for (int k = 0; k < K; ++k) {
    const int n = classSize(c, k);
    for (int i = 0; i < n; ++i) {
      std::vector<double> x(P);
      for (int p = 0; p < P; ++p) x[p] = mu[k][p] / dmin + sigma * rng.normal();
      r.x.push_back(std::move(x));
      r.y.push_back(k);
    }
  }
  return r;
}

Raw make2d(const Config& c, Rng& rng) {
  Raw r;
  r.P = 2;
  r.K = c.classes;
  const int K = r.K;
  const std::string& ds = c.dataset;
  const int g = K;  // xor: a K x K board whose cell (i,j) has class (i+j) mod K; K = 2 is the classic xor
  for (int k = 0; k < K; ++k) {
    const int n = classSize(c, k);
    for (int i = 0; i < n; ++i) {
      double x0 = 0, x1 = 0;
      if (ds == "spirals") {
        // Arm k: radius grows with t while the angle turns 1.5 times, arms rotated 2 pi / K apart.
        const double t = rng.uniform(0.05, 1.0);
        const double a = 2 * kPi * k / K + 3 * kPi * t;
        x0 = t * std::cos(a);
        x1 = t * std::sin(a);
      } else if (ds == "rings") {
        const double a = rng.uniform(0, 2 * kPi);
        const double rad = double(k + 1) / K;
        x0 = rad * std::cos(a);
        x1 = rad * std::sin(a);
      } else if (ds == "moons") {
        // Half circles side by side, every other one upside down and shifted so that they interlock.
        const double a = rng.uniform(0, kPi);
        const bool flip = k % 2 == 1;
        x0 = std::cos(a) + k * 1.0;
        x1 = flip ? -std::sin(a) + 0.5 : std::sin(a);
        x0 *= 0.5;
        x1 *= 0.5;
      } else {  // xor / checkerboard
        int ci, cj;
        do {
          ci = rng.below(g);
          cj = rng.below(g);
        } while ((ci + cj) % K != k);
        x0 = -1 + 2.0 * (ci + rng.uniform()) / g;
        x1 = -1 + 2.0 * (cj + rng.uniform()) / g;
      }
      x0 += c.noise * 0.5 * rng.normal();
      x1 += c.noise * 0.5 * rng.normal();
      r.x.push_back({x0, x1});
      r.y.push_back(k);
    }
  }
  return r;
}

// ------------------------------------------------------------------ Fashion-MNIST (idx.gz) and CSV
// Both kinds of file are read and checked in sim/dataset_io.cpp (readFashionIdx, readCsvTable).

const char* kFashionNames[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                 "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

Raw readCsv(const std::string& path) {
  CsvTable t = readCsvTable(path);
  Raw r;
  r.x = std::move(t.x);
  r.y = std::move(t.y);
  r.P = t.P;
  r.K = t.K;
  return r;
}

// Labels of trained classes -> 0..K-1, held-out -> K..K_all-1 (in increasing original order).
std::vector<int> labelMap(int K_all, const std::vector<int>& holdout, int& K) {
  std::vector<int> map(K_all, -1);
  int next = 0;
  for (int k = 0; k < K_all; ++k)
    if (std::find(holdout.begin(), holdout.end(), k) == holdout.end()) map[k] = next++;
  K = next;
  for (int k = 0; k < K_all; ++k)
    if (map[k] < 0) map[k] = next++;
  return map;
}

void checkHoldout(const std::vector<int>& holdout, int K_all) {
  for (int h : holdout)
    if (h < 0 || h >= K_all)
      throw UserError("holdout_classes: class " + std::to_string(h) + " does not exist (allowed 0.." +
                      std::to_string(K_all - 1) + ")");
  std::vector<int> u = holdout;
  std::sort(u.begin(), u.end());
  u.erase(std::unique(u.begin(), u.end()), u.end());
  if (K_all - int(u.size()) < 2)
    throw UserError("holdout_classes: at least 2 classes must remain for training (there are " +
                    std::to_string(K_all) + ")");
}

// Standardises both splits with the training statistics: per dimension for the toy sets and CSV, one global
// mean and std for images (per-pixel scaling would blow up the nearly constant border pixels).
void standardise(Dataset& d, bool global) {
  const int P = d.P;
  const Eigen::Index n = d.X_train.rows();
  if (n == 0) return;
  Eigen::ArrayXd mean = Eigen::ArrayXd::Zero(P), var = Eigen::ArrayXd::Zero(P);
  for (Eigen::Index i = 0; i < n; ++i) mean += d.X_train.row(i).cast<double>().transpose().array();
  mean /= double(n);
  for (Eigen::Index i = 0; i < n; ++i)
    var += (d.X_train.row(i).cast<double>().transpose().array() - mean).square();
  var /= double(n);
  if (global) {
    const double m = mean.mean(), v = var.mean() + (mean - m).square().mean();
    mean.setConstant(m);
    var.setConstant(v);
  }
  const Eigen::ArrayXd inv = 1.0 / (var.sqrt().max(1e-8));
  auto apply = [&](MatF& X) {
    for (Eigen::Index i = 0; i < X.rows(); ++i)
      X.row(i) = ((X.row(i).cast<double>().transpose().array() - mean) * inv).cast<float>().transpose();
  };
  apply(d.X_train);
  apply(d.X_test);
}

void applyLabelNoise(Dataset& d, double fraction, Rng& rng) {
  if (fraction <= 0 || d.K < 2) return;
  for (int& y : d.y_train)
    if (rng.uniform() < fraction) {
      const int o = rng.below(d.K - 1);
      y = o >= y ? o + 1 : o;  // a different class, uniformly
    }
}

Dataset splitRaw(const Config& c, Raw& r, Rng& rng, const std::string& name) {
  checkHoldout(c.holdout_classes, r.K);
  Dataset d;
  d.name = name;
  d.P = r.P;
  d.K_all = r.K;
  const std::vector<int> map = labelMap(r.K, c.holdout_classes, d.K);
  // Per class: shuffle, the first (1 - test_fraction) go to train (none for held-out classes).
  std::vector<std::vector<int>> byClass(r.K);
  for (size_t i = 0; i < r.y.size(); ++i) byClass[r.y[i]].push_back(int(i));
  std::vector<int> tr, te;
  for (int k = 0; k < r.K; ++k) {
    auto& v = byClass[k];
    for (int i = int(v.size()) - 1; i > 0; --i) std::swap(v[i], v[rng.below(i + 1)]);
    const bool held = map[k] >= d.K;
    int ntr = held ? 0 : int(std::lround((1.0 - c.test_fraction) * v.size()));
    if (!held && ntr < 1 && !v.empty()) ntr = 1;
    for (size_t j = 0; j < v.size(); ++j) (int(j) < ntr ? tr : te).push_back(v[j]);
  }
  // Interleave classes in the stored order (sorted by index) so that a display subset covers all classes.
  std::sort(tr.begin(), tr.end());
  std::sort(te.begin(), te.end());
  auto fill = [&](const std::vector<int>& idx, MatF& X, std::vector<int>& y) {
    X.resize(Eigen::Index(idx.size()), r.P);
    y.resize(idx.size());
    for (size_t i = 0; i < idx.size(); ++i) {
      for (int p = 0; p < r.P; ++p) X(Eigen::Index(i), p) = float(r.x[idx[i]][p]);
      y[i] = map[r.y[idx[i]]];
    }
  };
  fill(tr, d.X_train, d.y_train);
  fill(te, d.X_test, d.y_test);
  for (int k = d.K; k < d.K_all; ++k) d.holdout.push_back(k);
  d.class_names.resize(d.K_all);
  for (int k = 0; k < r.K; ++k) d.class_names[map[k]] = std::to_string(k);
  return d;
}

Dataset makeFashion(const Config& c, Rng& rng) {
  checkHoldout(c.holdout_classes, 10);
  Dataset d;
  d.name = "fashion-mnist";
  d.P = 784;
  d.K_all = 10;
  const std::vector<int> map = labelMap(10, c.holdout_classes, d.K);
  const int cap = c.samples;  // per class and split; 0 = all
  auto load = [&](const std::string& prefix, bool train, MatF& X, std::vector<int>& y) {
    std::vector<uint8_t> pix, lab;
    int n = 0;
    readFashionIdx(c.data_dir, prefix, pix, lab, n);
    // A seeded shuffle before the cap so that a capped set is a random sample, not the file's first rows.
    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    for (int i = n - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
    std::vector<int> taken(10, 0), keep;
    for (int i : order) {
      const int l = lab[i];
      if (train && map[l] >= d.K) continue;
      if (cap > 0 && taken[l] >= cap) continue;
      ++taken[l];
      keep.push_back(i);
    }
    std::sort(keep.begin(), keep.end());
    X.resize(Eigen::Index(keep.size()), 784);
    y.resize(keep.size());
    for (size_t r = 0; r < keep.size(); ++r) {
      const uint8_t* src = pix.data() + size_t(keep[r]) * 784;
      for (int p = 0; p < 784; ++p) X(Eigen::Index(r), p) = float(src[p]) / 255.0f;
      y[r] = map[lab[keep[r]]];
    }
  };
  load("train", true, d.X_train, d.y_train);
  load("t10k", false, d.X_test, d.y_test);
  for (int k = d.K; k < d.K_all; ++k) d.holdout.push_back(k);
  d.class_names.resize(10);
  for (int k = 0; k < 10; ++k) d.class_names[map[k]] = kFashionNames[k];
  return d;
}

}  // namespace

Dataset makeDataset(const Config& c) {
  Rng rng(c.seed * 0x9e3779b97f4a7c15ULL + 17);  // data stream apart from the training stream
  Dataset d;
  const std::string& ds = c.dataset;
  if (ds == "fashion-mnist") {
    d = makeFashion(c, rng);
    standardise(d, true);
  } else {
    Raw r;
    std::string name = ds;
    if (ds == "blobs") {
      r = makeBlobs(c, rng);
    } else if (ds == "spirals" || ds == "rings" || ds == "moons" || ds == "xor" || ds == "checkerboard") {
      r = make2d(c, rng);
    } else if (ds.rfind("csv:", 0) == 0) {
      r = readCsv(ds.substr(4));
      name = "csv";
    } else {
      throw UserError("dataset: unknown " + shownValue(ds) + " (allowed: " + [] {
        std::string s;
        for (const auto& n : datasetNames()) s += (s.empty() ? "" : ", ") + n;
        return s;
      }() + ")");
    }
    d = splitRaw(c, r, rng, name);
    standardise(d, false);
  }
  applyLabelNoise(d, c.label_noise, rng);
  d.class_counts.assign(d.K, 0);
  for (int y : d.y_train) ++d.class_counts[y];
  for (int k = 0; k < d.K; ++k)
    if (d.class_counts[k] == 0)
      throw UserError("dataset: class " + std::to_string(k) +
                      " has no training samples (raise samples or lower test_fraction)");
  return d;
}

std::vector<double> inverseFrequencyWeights(const Dataset& d) {
  std::vector<double> w(d.K, 1.0);
  double s = 0;
  for (int k = 0; k < d.K; ++k) {
    w[k] = 1.0 / std::max(1, d.class_counts[k]);
    s += w[k];
  }
  for (double& v : w) v *= d.K / s;
  return w;
}

}  // namespace ms
