// Face-verification style evaluation of the test embeddings: cosine similarity of pairs, the ROC, TAR at
// fixed FAR, equal error rate, best-threshold accuracy, the positive/negative pair angle histograms of
// SphereFace's fig. 5, and identification against one gallery direction per class.
//
// Cost: the budget is 20 ms for every metric at 10,000 test points (50 M pairs), on one slow shared core.
// Two choices make it fit:
//  - Pairs: when there are more than max_pairs, all pairs among a random subset of m points, the largest m
//    with m(m-1)/2 <= max_pairs (1414 points, 999,191 pairs for the default 1 M). Every pair is equally
//    likely to be in the sample, so every pair-level rate (FAR, TAR, accuracy) is estimated without bias; in
//    exchange the cosines of one row against the rest are one streaming, vectorised loop instead of random
//    gathers.
//  - No sort: each cosine falls into one of 65,536 equal buckets over [-1, 1] (width 3.05e-5 in cosine),
//    counted separately for positive and negative pairs; the ROC sweeps the buckets, so scores closer than
//    one bucket count as ties (one operating point). Every figure below is exact for the bucketed scores.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "sim/geometry.h"
#include "sim/math.h"
#include "sim/rng.h"

namespace ms {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kBuckets = 1 << 16;
constexpr float kHalf = kBuckets / 2.0f;

inline int bucketOf(float s) {
  const float x = (s + 1.0f) * kHalf;
  if (!(x >= 0.0f)) return 0;  // also NaN (a diverged embedding): converting it to int is undefined
  return x >= float(kBuckets) ? kBuckets - 1 : int(x);
}
inline double bucketCentre(int b) {
  return (b + 0.5) / kHalf - 1.0;
}

struct Counts {
  std::vector<uint32_t> pos, neg;  // (kBuckets)
  Counts() : pos(kBuckets, 0), neg(kBuckets, 0) {}
};

// Every figure from the bucket counts.
PairVerification sweep(const Counts& c, int bins, std::vector<float>* pos_hist,
                       std::vector<float>* neg_hist) {
  PairVerification v;
  int64_t P = 0, N = 0;
  for (int b = 0; b < kBuckets; ++b) P += c.pos[b], N += c.pos[b] + c.neg[b];
  v.pairs = N;
  v.positives = P;
  v.negatives = N - P;

  // Histograms: walk ascending cosines (descending angles) against the bin edges cos(k w).
  if (bins > 0 && (pos_hist || neg_hist)) {
    std::vector<double> ph(bins, 0.0), nh(bins, 0.0), edge(bins);
    const double w = kPi / bins;
    for (int k = 0; k < bins; ++k) edge[k] = std::cos(k * w);  // bin k: cos in (edge[k+1], edge[k]]
    int k = bins - 1;
    for (int b = 0; b < kBuckets; ++b) {
      if (!(c.pos[b] | c.neg[b])) continue;
      const double s = bucketCentre(b);
      while (k > 0 && s > edge[k]) --k;
      ph[k] += c.pos[b];
      nh[k] += c.neg[b];
    }
    if (pos_hist) {
      pos_hist->assign(bins, 0.f);
      for (int q = 0; q < bins; ++q) (*pos_hist)[q] = P ? float(ph[q] / P) : 0.f;
    }
    if (neg_hist) {
      neg_hist->assign(bins, 0.f);
      for (int q = 0; q < bins; ++q) (*neg_hist)[q] = (N - P) ? float(nh[q] / (N - P)) : 0.f;
    }
  }
  if (P == 0 || P == N) {
    v.tar_at_far_1e2 = v.tar_at_far_1e3 = v.eer = v.best_accuracy = v.best_threshold = v.auc = kNaN;
    return v;
  }

  // FAR targets for the plotted ROC: 1e-4 .. 1 log-spaced, 8 per decade; 1e-3 and 1e-2 are among them.
  constexpr int kT = 33;
  double far_target[kT];
  for (int t = 0; t < kT; ++t) far_target[t] = std::pow(10.0, -4.0 + t / 8.0);
  double tar_at[kT];
  int next_t = 0;

  const double Nn = double(N - P), Np = double(P);
  int64_t tp = 0, fp = 0, best_margin = 0;        // accuracy = (tp - fp + negatives) / pairs
  double prev_fpr = 0, prev_tpr = 0, prev_d = 1;  // the operating point "accept nothing"
  double eer = kNaN, auc = 0;
  int best_bucket = kBuckets;  // accept buckets >= this one
  // Sweep descending thresholds: accepting bucket b and everything above it.
  for (int b = kBuckets - 1; b >= 0; --b) {
    if (!(c.pos[b] | c.neg[b])) continue;
    tp += c.pos[b];
    fp += c.neg[b];
    if (tp - fp > best_margin) best_margin = tp - fp, best_bucket = b;
    const double fpr = fp / Nn, tpr = tp / Np, d = (1 - tpr) - fpr;
    while (next_t < kT && fpr > far_target[next_t]) tar_at[next_t++] = prev_tpr;
    auc += 0.5 * (fpr - prev_fpr) * (tpr + prev_tpr);
    if (std::isnan(eer) && d <= 0) {
      const double lam = prev_d / (prev_d - d);  // prev_d > 0 >= d
      eer = prev_fpr + lam * (fpr - prev_fpr);
    }
    prev_fpr = fpr, prev_tpr = tpr, prev_d = d;
  }
  while (next_t < kT) tar_at[next_t++] = prev_tpr;

  v.tar_at_far_1e3 = tar_at[8];
  v.tar_at_far_1e2 = tar_at[16];
  v.eer = eer;
  v.auc = auc;
  v.best_accuracy = double(best_margin + (N - P)) / N;
  // Threshold halfway between the lowest accepted bucket and the next occupied one below it.
  if (best_bucket == kBuckets) {
    v.best_threshold = 1.0;
  } else {
    int below = best_bucket - 1;
    while (below >= 0 && !(c.pos[below] | c.neg[below])) --below;
    v.best_threshold = below < 0 ? -1.0 : 0.5 * (bucketCentre(best_bucket) + bucketCentre(below));
  }
  v.roc_far.assign(far_target, far_target + kT);
  v.roc_tar.assign(tar_at, tar_at + kT);
  return v;
}

}  // namespace

PairVerification rocFromScores(const std::vector<float>& scores, const std::vector<uint8_t>& positive,
                               int bins, std::vector<float>* pos_hist, std::vector<float>* neg_hist) {
  Counts c;
  for (size_t i = 0; i < scores.size(); ++i) ++(positive[i] ? c.pos : c.neg)[bucketOf(scores[i])];
  return sweep(c, bins, pos_hist, neg_hist);
}

PairVerification verifyPairs(const std::vector<float>& U, int n, int d, const std::vector<int>& y,
                             int64_t max_pairs, uint64_t seed, int bins, std::vector<float>* pos_hist,
                             std::vector<float>* neg_hist, bool* sampled) {
  // The points whose pairs are scored: all, or a random subset (partial Fisher-Yates).
  int m = n;
  if (int64_t(n) * (n - 1) / 2 > max_pairs) {
    m = int(std::floor((1 + std::sqrt(1 + 8.0 * double(max_pairs))) / 2));
    while (m > 2 && int64_t(m) * (m - 1) / 2 > max_pairs) --m;
  }
  if (sampled) *sampled = m < n;
  std::vector<int> idx(n);
  for (int i = 0; i < n; ++i) idx[i] = i;
  if (m < n) {
    Rng rng(seed);
    for (int i = 0; i < m; ++i) std::swap(idx[i], idx[i + rng.below(n - i)]);
  }
  // Structure of arrays: coordinate k of subset point t at S[k*m + t], so a row against the rest streams.
  std::vector<float> S(size_t(d) * m), dots(m);
  std::vector<int> ys(m);
  for (int t = 0; t < m; ++t) {
    ys[t] = y[idx[t]];
    for (int k = 0; k < d; ++k) S[size_t(k) * m + t] = U[size_t(idx[t]) * d + k];
  }
  Counts c;
  uint32_t* pos = c.pos.data();
  uint32_t* neg = c.neg.data();
  for (int i = 0; i + 1 < m; ++i) {
    const int len = m - i - 1;
    float* out = dots.data();
    {
      const float a = S[i];
      const float* col = S.data() + i + 1;
      for (int j = 0; j < len; ++j) out[j] = a * col[j];
    }
    for (int k = 1; k < d; ++k) {
      const float a = S[size_t(k) * m + i];
      const float* col = S.data() + size_t(k) * m + i + 1;
      for (int j = 0; j < len; ++j) out[j] += a * col[j];
    }
    const int yi = ys[i];
    const int* yj = ys.data() + i + 1;
    for (int j = 0; j < len; ++j) ++(yj[j] == yi ? pos : neg)[bucketOf(out[j])];
  }
  return sweep(c, bins, pos_hist, neg_hist);
}

double identificationAccuracy(const Mat& H, const std::vector<int>& y, const std::vector<int>& classes,
                              uint64_t seed) {
  const int n = int(H.rows()), d = int(H.cols());
  int C = 0;
  for (int c : classes) C = std::max(C, c + 1);
  std::vector<std::vector<int>> members(C);
  std::vector<char> wanted(C, 0);
  for (int c : classes)
    if (c >= 0) wanted[c] = 1;
  for (int i = 0; i < n; ++i)
    if (y[i] >= 0 && y[i] < C && wanted[y[i]]) members[y[i]].push_back(i);

  Rng rng(seed ^ 0x1d3f2c5b7a9e8d01ULL);
  Mat gallery(0, d);
  std::vector<int> gallery_class;
  std::vector<std::pair<int, int>> probes;  // (row, class)
  for (int c = 0; c < C; ++c) {
    auto& m = members[c];
    if (m.size() < 2) continue;
    for (int k = int(m.size()) - 1; k > 0; --k) std::swap(m[k], m[rng.below(k + 1)]);
    const int g = int((m.size() + 1) / 2);
    Vec dir = Vec::Zero(d);
    for (int k = 0; k < g; ++k) {
      const double nn = H.row(m[k]).norm();
      if (nn > 0) dir += H.row(m[k]).transpose() / nn;
    }
    if (!(dir.norm() > 0)) continue;
    gallery.conservativeResize(gallery.rows() + 1, d);
    gallery.row(gallery.rows() - 1) = dir.transpose() / dir.norm();
    gallery_class.push_back(c);
    for (size_t k = g; k < m.size(); ++k) probes.emplace_back(m[k], c);
  }
  if (probes.empty()) return kNaN;
  int right = 0;
  for (const auto& [row, c] : probes) {
    int best = -1;
    double best_s = -std::numeric_limits<double>::infinity();
    for (int g = 0; g < int(gallery.rows()); ++g) {
      const double s = gallery.row(g).dot(H.row(row));  // |h| does not change the argmax
      if (s > best_s) best_s = s, best = g;
    }
    right += (best >= 0 && gallery_class[best] == c);
  }
  return double(right) / probes.size();
}

}  // namespace ms
