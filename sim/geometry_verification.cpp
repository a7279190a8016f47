// Face-verification style evaluation of the test embeddings: cosine similarity of pairs, the ROC, TAR at
// fixed FAR, equal error rate, best-threshold accuracy, AUC and the positive/negative pair angle histograms
// of SphereFace's fig. 5. (Identification is geometry_identification.cpp.)
//
// Exact where it matters, without sorting every pair. Trained embeddings pile up near cos = 1, where a grid
// of equal cosine buckets merges pairs a fraction of a degree apart and swallows the threshold of
// TAR@FAR 1e-3. So:
//  1. Every pair is counted in one of 131,072 buckets spaced by the bits of the float (1 - cos)/2, i.e.
//     about log-spaced in angle: 0.024% of the angle wide near 0 deg, 0.028 deg wide at 90 deg.
//  2. A sweep over the bucket counts finds the few buckets whose inner order can change a figure: the one
//     where the false accepts pass each FAR target, the one where FRR crosses FAR, those where the best
//     accuracy could lie, and those holding a histogram bin edge. A bucket of positives only or negatives
//     only never needs it: inside it the ROC runs along one axis.
//  3. A second pass over the pairs collects the exact scores in those buckets (sorted; only equal float
//     cosines are ties), and the final sweep walks buckets and refined scores in one order.
// TAR@FAR, EER, best accuracy, its threshold and the histograms are then exactly what sorting every score
// would give; AUC counts pairs sharing an unrefined bucket as ties (one half), an error below
// sum_b pos_b neg_b / (2 P N), in practice under 1e-5.
//
// Cost: the budget is 20 ms for every metric at 10,000 test points (50 M pairs), on one slow shared core.
// When there are more than max_pairs pairs, all pairs among a random subset of m points are scored, the
// largest m with m(m-1)/2 <= max_pairs (1414 points, 998,991 pairs for the default 1 M): every pair is
// equally likely to be in the sample, so every pair-level rate is estimated without bias, and the cosines of
// one row against the rest stay one streaming, vectorised loop. The points are taken in label order, so a
// row's same-class partners are one contiguous run. Nothing of size O(pairs) is stored: the second pass
// recomputes the cosines.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

#include "sim/geometry.h"
#include "sim/math.h"
#include "sim/rng.h"

namespace ms {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kB = 1 << 17;
constexpr uint32_t kBase = 63u << 11;  // bucket 0 ends at 1 - cos = 2^-63

// Bucket of a cosine: 2,048 buckets per octave of x = (1 - cos)/2 = sin^2(theta/2), from the bits of the
// float x (exponent and top 11 mantissa bits, which order like x). Descending cosine = ascending bucket;
// every step is monotone. Relative width 2^-12 in angle near 0 deg, 0.028 deg at 90, coarse only within a
// few degrees of 180. NaN (a diverged embedding) goes to the last bucket, with -1. Written as selects on
// floats and integer shifts so that the loops over it vectorise.
inline int bucketOf(float s) {
  float x = 0.5f - 0.5f * s;
  x = x < 1.0f ? x : 1.0f;  // NaN fails the test: 1
  x = x > 0.0f ? x : 0.0f;
  uint32_t u;
  std::memcpy(&u, &x, 4);
  const int b = int(u >> 12) - int(kBase);
  return b < 0 ? 0 : b < kB - 1 ? b : kB - 1;
}
// The highest cosine of bucket b, and the cosine in its middle.
inline double bucketX(int b, uint32_t low) {
  const uint32_t u = ((uint32_t(b) + kBase) << 12) | low;
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}
inline double bucketTop(int b) {
  return b == 0 ? 1.0 : 1 - 2 * bucketX(b, 0);
}
inline double bucketMid(int b) {
  return 1 - 2 * bucketX(b, 0x800);
}

// A float's bits, flipped so that unsigned order is the float order; -0 becomes +0 (the two zeros tie) and
// NaN gets key 0, below every number.
inline uint32_t keyOf(float s) {
  s += 0.0f;
  uint32_t u;
  std::memcpy(&u, &s, 4);
  const uint32_t k = u ^ (uint32_t(-int32_t(u >> 31)) | 0x80000000u);
  return s == s ? k : 0u;
}
inline double scoreOf(uint32_t k) {
  const uint32_t u = (k & 0x80000000u) ? (k ^ 0x80000000u) : ~k;
  float s;
  std::memcpy(&s, &u, 4);
  return s;
}

// A refined score: key << 32 | bucket << 1 | positive; sorting these descending sorts by score.
inline uint64_t refined(uint32_t key, int bucket, bool positive) {
  return uint64_t(key) << 32 | uint64_t(bucket) << 1 | uint64_t(positive);
}
inline uint32_t refinedKey(uint64_t r) {
  return uint32_t(r >> 32);
}
inline int refinedBucket(uint64_t r) {
  return int((r >> 1) & 0x7fffffffu);
}

// FAR targets of the plotted ROC: 1e-4 .. 1 log-spaced, 8 per decade; 1e-3 (index 8) and 1e-2 (16) exact.
constexpr int kT = 33;
void farTargets(double* f) {
  for (int t = 0; t < kT; ++t) f[t] = std::pow(10.0, -4.0 + t / 8.0);
  f[8] = 1e-3, f[16] = 1e-2, f[32] = 1.0;
}

// Step 2: the buckets whose inner order matters (see the top of the file).
std::vector<uint8_t> bucketsToRefine(const uint32_t* pos, const uint32_t* neg, int64_t P, int64_t N,
                                     const int64_t* allowed, int bins) {
  std::vector<uint8_t> mark(kB, 0);
  if (bins > 0) {  // buckets holding a histogram bin edge
    // Only the edge's own bucket: bucketOf is monotone, so a score in an earlier (later) bucket is above
    // (below) the edge's nearest float, hence on the same side of the edge.
    for (int k = 1; k < bins; ++k) mark[bucketOf(float(std::cos(k * kPi / bins)))] = 1;
  }
  if (P == 0 || N == 0) return mark;
  int64_t tp = 0, fp = 0, best = 0;
  int t = 0;
  bool eer_found = false;
  for (int b = 0; b < kB; ++b) {
    if (!(pos[b] | neg[b])) continue;
    tp += pos[b];
    fp += neg[b];
    best = std::max(best, tp - fp);
    const bool mixed = pos[b] && neg[b];
    for (; t < kT && fp > allowed[t]; ++t) mark[b] |= mixed;
    // FRR - FAR = 1 - tp/P - fp/N turns <= 0 here.
    if (!eer_found && (P - tp) * N <= fp * P) eer_found = true, mark[b] |= mixed;
  }
  // Best accuracy: inside bucket b, tp - fp can reach at most (its value above b) + pos[b].
  tp = fp = 0;
  for (int b = 0; b < kB; ++b) {
    if (pos[b] && neg[b] && tp - fp + int64_t(pos[b]) >= best) mark[b] = 1;
    tp += pos[b];
    fp += neg[b];
  }
  return mark;
}

// Steps 1-3 over any source of scores. `rows(f)` calls f(scores, same, len) for chunks of scores whose first
// `same` are positive pairs and the rest negative; it must give the same scores each time it is called.
template <class Rows>
PairVerification verifyScores(const Rows& rows, int bins, std::vector<float>* pos_hist,
                              std::vector<float>* neg_hist) {
  std::vector<uint32_t> counts(2 * kB, 0);  // one allocation: positives then negatives per bucket
  uint32_t* pos = counts.data();
  uint32_t* neg = pos + kB;
  std::vector<int> bk;
  rows([&](const float* s, int same, int len) {
    bk.resize(size_t(len));
    for (int j = 0; j < len; ++j) bk[j] = bucketOf(s[j]);  // vectorised
    for (int j = 0; j < same; ++j) ++pos[bk[j]];
    for (int j = same; j < len; ++j) ++neg[bk[j]];
  });
  PairVerification v;
  int64_t P = 0, Nn = 0;
  for (int b = 0; b < kB; ++b) P += pos[b], Nn += neg[b];
  v.pairs = v.pairs_total = P + Nn;
  v.positives = P;
  v.negatives = Nn;

  double far_target[kT];
  int64_t allowed[kT];  // a FAR target f allows floor(f N) false accepts, counted in integers
  farTargets(far_target);
  for (int t = 0; t < kT; ++t) allowed[t] = int64_t(std::floor(far_target[t] * double(Nn) * (1 + 1e-12)));

  const std::vector<uint8_t> mark = bucketsToRefine(pos, neg, P, Nn, allowed, bins);
  std::vector<uint64_t> ref;
  bool any = false;
  for (int b = 0; b < kB && !any; ++b) any = mark[b] && (pos[b] | neg[b]);
  if (any) {
    rows([&](const float* s, int same, int len) {
      bk.resize(size_t(len));
      for (int j = 0; j < len; ++j) bk[j] = bucketOf(s[j]);
      for (int j = 0; j < len; ++j)
        if (mark[bk[j]]) ref.push_back(refined(keyOf(s[j]), bk[j], j < same));
    });
    std::sort(ref.begin(), ref.end(), std::greater<uint64_t>());
  }

  // Step 3: operating points from the highest score down.
  std::vector<double> ph(std::max(bins, 0), 0.0), nh(std::max(bins, 0), 0.0), edge(std::max(bins, 0));
  for (int k = 0; k < bins; ++k) edge[k] = std::cos(k * kPi / bins);  // bin k: cos in (edge[k+1], edge[k]]
  const bool roc = P > 0 && Nn > 0;
  const double Np = double(P), Nd = double(Nn);
  double tar_at[kT];
  int next_t = 0, hk = 0;
  int64_t tp = 0, fp = 0, best_margin = 0;        // accuracy = (tp - fp + negatives) / pairs
  double prev_fpr = 0, prev_tpr = 0, prev_d = 1;  // the operating point "accept nothing"
  double eer = kNaN, auc = 0, best_score = 1.0, below_best = kNaN;
  bool need_below = false;
  // One operating point: accept dp more positives and dn more negatives at score s (top: the highest score
  // of the group when it is a whole bucket, for the threshold; key0: a NaN score).
  auto point = [&](int64_t dp, int64_t dn, double s, double top, bool key0) {
    if (need_below) below_best = top, need_below = false;
    if (bins > 0) {
      if (key0)
        hk = bins - 1;
      else
        while (hk < bins - 1 && s <= edge[hk + 1]) ++hk;
      ph[hk] += double(dp);
      nh[hk] += double(dn);
    }
    if (!roc) return;
    tp += dp;
    fp += dn;
    if (tp - fp > best_margin) best_margin = tp - fp, best_score = s, need_below = true;
    const double fpr = fp / Nd, tpr = tp / Np, d = (1 - tpr) - fpr;
    while (next_t < kT && fp > allowed[next_t]) tar_at[next_t++] = prev_tpr;
    auc += 0.5 * (fpr - prev_fpr) * (tpr + prev_tpr);
    if (std::isnan(eer) && (P - tp) * Nn <= fp * P) eer = prev_fpr + prev_d / (prev_d - d) * (fpr - prev_fpr);
    prev_fpr = fpr, prev_tpr = tpr, prev_d = d;
  };
  size_t r = 0;
  for (int b = 0; b < kB; ++b) {
    if (!(pos[b] | neg[b])) continue;
    if (!mark[b]) {
      // A whole bucket: its lowest score lies above the next bucket's top, so a threshold at the bucket's
      // bottom edge separates it from what follows (best_threshold uses the next group's top).
      point(pos[b], neg[b], bucketMid(b), bucketTop(b), false);
      if (need_below) best_score = bucketTop(b + 1);
      continue;
    }
    while (r < ref.size() && refinedBucket(ref[r]) == b) {
      const uint32_t key = refinedKey(ref[r]);
      int64_t dp = 0, dn = 0;
      for (; r < ref.size() && refinedKey(ref[r]) == key; ++r) (ref[r] & 1 ? dp : dn) += 1;
      const double s = scoreOf(key);
      point(dp, dn, s, s, key == 0);
    }
  }

  if (bins > 0) {
    if (pos_hist) {
      pos_hist->assign(bins, 0.f);
      for (int q = 0; q < bins; ++q) (*pos_hist)[q] = P ? float(ph[q] / Np) : 0.f;
    }
    if (neg_hist) {
      neg_hist->assign(bins, 0.f);
      for (int q = 0; q < bins; ++q) (*neg_hist)[q] = Nn ? float(nh[q] / Nd) : 0.f;
    }
  }
  if (!roc) {
    v.tar_at_far_1e2 = v.tar_at_far_1e3 = v.eer = v.best_accuracy = v.best_threshold = v.auc = kNaN;
    return v;
  }
  while (next_t < kT) tar_at[next_t++] = prev_tpr;
  v.tar_at_far_1e3 = tar_at[8];
  v.tar_at_far_1e2 = tar_at[16];
  v.eer = eer;
  v.auc = auc;
  v.best_accuracy = double(best_margin + Nn) / double(P + Nn);
  // Halfway between the lowest accepted score and the next score below it (-1: accept everything).
  if (best_margin == 0)
    v.best_threshold = 1.0;  // accepting nothing is best
  else
    v.best_threshold = need_below ? -1.0 : 0.5 * (best_score + below_best);
  v.roc_far.assign(far_target, far_target + kT);
  v.roc_tar.assign(tar_at, tar_at + kT);
  return v;
}

}  // namespace

PairVerification rocFromScores(const std::vector<float>& scores, const std::vector<uint8_t>& positive,
                               int bins, std::vector<float>* pos_hist, std::vector<float>* neg_hist) {
  std::vector<float> sp, sn;
  for (size_t i = 0; i < scores.size(); ++i) (positive[i] ? sp : sn).push_back(scores[i]);
  auto rows = [&](auto&& f) {
    f(sp.data(), int(sp.size()), int(sp.size()));
    f(sn.data(), 0, int(sn.size()));
  };
  return verifyScores(rows, bins, pos_hist, neg_hist);
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
  // Label order (the set of pairs is the same): row t's same-class partners are t+1 .. run_end[t]-1.
  idx.resize(m);
  std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return y[a] < y[b]; });
  // Structure of arrays: coordinate k of subset point t at S[k*m + t], so a row against the rest streams.
  std::vector<float> S(size_t(d) * m), dots(m);
  std::vector<int> run_end(m);
  for (int t = m - 1; t >= 0; --t) {
    run_end[t] = (t + 1 < m && y[idx[t + 1]] == y[idx[t]]) ? run_end[t + 1] : t + 1;
    for (int k = 0; k < d; ++k) S[size_t(k) * m + t] = U[size_t(idx[t]) * d + k];
  }
  auto rows = [&](auto&& f) {
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
      f(out, run_end[i] - i - 1, len);
    }
  };
  PairVerification v = verifyScores(rows, bins, pos_hist, neg_hist);
  v.pairs_total = int64_t(n) * (n - 1) / 2;
  return v;
}

}  // namespace ms
