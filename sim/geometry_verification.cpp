// Face-verification style evaluation of the test embeddings: cosine similarity of pairs, the ROC, TAR at
// fixed FAR, equal error rate, best-threshold accuracy, the positive/negative pair angle histograms of
// SphereFace's fig. 5, and identification against one gallery direction per class.
//
// Cost: the budget is 20 ms for every metric at 10,000 test points (50 M pairs), so pairs are sampled
// (1 M by default) and nothing sorts comparisons: each pair's cosine becomes a 32-bit order-preserving key
// with the pair label in its lowest bit, and three counting passes of 11 bits (LSD radix sort) order them in
// O(pairs). One sweep over the sorted keys then gives every ROC figure and both histograms, so no acos is
// taken per pair.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "sim/geometry.h"
#include "sim/rng.h"

namespace ms {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kPi = 3.14159265358979323846;

// Monotone map float -> uint32 (negative floats reversed), then the lowest bit replaced by the label: keys
// sort like the scores, and scores equal up to their last mantissa bit form one tie group.
uint32_t scoreKey(float s, bool positive) {
  uint32_t u;
  std::memcpy(&u, &s, 4);
  u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  return (u & ~1u) | (positive ? 1u : 0u);
}

float keyScore(uint32_t key) {
  uint32_t u = key & ~1u;
  u = (u & 0x80000000u) ? (u & 0x7fffffffu) : ~u;
  float s;
  std::memcpy(&s, &u, 4);
  return s;
}

void radixSort(std::vector<uint32_t>& keys, std::vector<uint32_t>& tmp) {
  tmp.resize(keys.size());
  constexpr int kShift[3] = {0, 11, 22};
  for (int pass = 0; pass < 3; ++pass) {
    const int sh = kShift[pass];
    uint32_t count[2048 + 1] = {0};
    for (uint32_t k : keys) ++count[((k >> sh) & 2047u) + 1];
    for (int b = 0; b < 2048; ++b) count[b + 1] += count[b];
    for (uint32_t k : keys) tmp[count[(k >> sh) & 2047u]++] = k;
    keys.swap(tmp);
  }
}

// Every figure from keys sorted ascending.
PairVerification sweep(const std::vector<uint32_t>& keys, int bins, std::vector<float>* pos_hist,
                       std::vector<float>* neg_hist) {
  PairVerification v;
  const int64_t N = int64_t(keys.size());
  int64_t P = 0;
  for (uint32_t k : keys) P += k & 1u;
  v.pairs = N;
  v.positives = P;
  v.negatives = N - P;

  // Histograms: walk ascending scores (descending angles) against the bin edges cos(k w).
  if (bins > 0 && (pos_hist || neg_hist)) {
    std::vector<double> ph(bins, 0.0), nh(bins, 0.0);
    std::vector<double> edge(bins);
    const double w = kPi / bins;
    for (int k = 0; k < bins; ++k) edge[k] = std::cos(k * w);  // bin k: cos in (edge[k+1], edge[k]]
    int k = bins - 1;
    for (uint32_t key : keys) {
      const double s = keyScore(key);
      while (k > 0 && s > edge[k]) --k;
      ((key & 1u) ? ph : nh)[k] += 1;
    }
    if (pos_hist) {
      pos_hist->assign(bins, 0.f);
      for (int b = 0; b < bins; ++b) (*pos_hist)[b] = P ? float(ph[b] / P) : 0.f;
    }
    if (neg_hist) {
      neg_hist->assign(bins, 0.f);
      for (int b = 0; b < bins; ++b) (*neg_hist)[b] = (N - P) ? float(nh[b] / (N - P)) : 0.f;
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
  int64_t tp = 0, fp = 0;
  double prev_fpr = 0, prev_tpr = 0, prev_d = 1;  // operating point "accept nothing"
  double eer = kNaN, auc = 0;
  double best_acc = Nn / N, best_thr = double(keyScore(keys.back())) + 1e-6;
  for (int64_t i = N - 1; i >= 0;) {
    const uint32_t group = keys[i] >> 1;
    while (i >= 0 && (keys[i] >> 1) == group) {
      if (keys[i] & 1u)
        ++tp;
      else
        ++fp;
      --i;
    }
    const double fpr = fp / Nn, tpr = tp / Np, d = (1 - tpr) - fpr;
    while (next_t < kT && fpr > far_target[next_t]) tar_at[next_t++] = prev_tpr;
    auc += 0.5 * (fpr - prev_fpr) * (tpr + prev_tpr);
    if (std::isnan(eer) && d <= 0) {
      const double lam = prev_d / (prev_d - d);  // prev_d > 0 >= d
      eer = prev_fpr + lam * (fpr - prev_fpr);
    }
    const double acc = double(tp + (N - P - fp)) / N;
    if (acc > best_acc) {
      best_acc = acc;
      const double here = keyScore(keys[i + 1]);
      best_thr = i >= 0 ? 0.5 * (here + double(keyScore(keys[i]))) : here - 1e-6;
    }
    prev_fpr = fpr, prev_tpr = tpr, prev_d = d;
  }
  while (next_t < kT) tar_at[next_t++] = prev_tpr;

  v.tar_at_far_1e3 = tar_at[8];
  v.tar_at_far_1e2 = tar_at[16];
  v.eer = eer;
  v.auc = auc;
  v.best_accuracy = best_acc;
  v.best_threshold = best_thr;
  v.roc_far.assign(far_target, far_target + kT);
  v.roc_tar.assign(tar_at, tar_at + kT);
  return v;
}

}  // namespace

PairVerification rocFromScores(const std::vector<float>& scores, const std::vector<uint8_t>& positive,
                               int bins, std::vector<float>* pos_hist, std::vector<float>* neg_hist) {
  std::vector<uint32_t> keys(scores.size()), tmp;
  for (size_t i = 0; i < scores.size(); ++i) keys[i] = scoreKey(scores[i], positive[i] != 0);
  radixSort(keys, tmp);
  return sweep(keys, bins, pos_hist, neg_hist);
}

PairVerification verifyPairs(const std::vector<float>& U, int n, int d, const std::vector<int>& y,
                             int64_t max_pairs, uint64_t seed, int bins, std::vector<float>* pos_hist,
                             std::vector<float>* neg_hist, bool* sampled) {
  const int64_t total = int64_t(n) * (n - 1) / 2;
  const bool sample = total > max_pairs;
  if (sampled) *sampled = sample;
  std::vector<uint32_t> keys(size_t(sample ? max_pairs : total)), tmp;
  auto dot = [&](int i, int j) {
    const float* a = U.data() + size_t(i) * d;
    const float* b = U.data() + size_t(j) * d;
    float s = 0;
    for (int k = 0; k < d; ++k) s += a[k] * b[k];
    return s;
  };
  if (!sample) {
    size_t p = 0;
    for (int i = 0; i < n; ++i)
      for (int j = i + 1; j < n; ++j) keys[p++] = scoreKey(dot(i, j), y[i] == y[j]);
  } else {
    // Uniform ordered pairs i != j (hence uniform unordered pairs), both indices from one 64-bit draw by
    // multiply-shift; its bias, at most n / 2^32 relative, is far below the sampling noise.
    Rng rng(seed);
    const uint64_t un = uint64_t(n), um = uint64_t(n - 1);
    for (int64_t p = 0; p < max_pairs; ++p) {
      const uint64_t x = rng.next();
      const int i = int(((x >> 32) * un) >> 32);
      int j = int(((x & 0xffffffffu) * um) >> 32);
      j += j >= i;
      keys[size_t(p)] = scoreKey(dot(i, j), y[i] == y[j]);
    }
  }
  radixSort(keys, tmp);
  return sweep(keys, bins, pos_hist, neg_hist);
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
