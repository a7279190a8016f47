// The training-failure detectors of sim/warnings.h: pure functions of what the trainer shows.
#include "sim/warnings.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sim/math.h"

namespace ms {

namespace {

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

double angleDeg(const Vec& a, const Vec& b) {
  const double na = a.norm(), nb = b.norm();
  if (!(na > 0 && nb > 0)) return std::numeric_limits<double>::quiet_NaN();
  return std::acos(std::clamp(a.dot(b) / (na * nb), -1.0, 1.0)) * kDeg;
}

std::string lrAdvice(double lr) {
  return "lower the learning rate (now lr = " + fmt("%g", lr) + "; try " + fmt("%g", lr / 10) + ")";
}

}  // namespace

bool lossOscillates(const std::vector<double>& losses, int* swings, double* low, double* high) {
  const int n = int(losses.size()) / kOscBlock;
  if (n * kOscBlock < kOscWindow) return false;  // not enough steps yet
  std::vector<double> m(n, 0.0);
  const size_t first = losses.size() - size_t(n) * kOscBlock;
  for (int b = 0; b < n; ++b) {
    for (int k = 0; k < kOscBlock; ++k) m[b] += losses[first + size_t(b) * kOscBlock + k];
    m[b] /= kOscBlock;
  }
  // Rise: a block mean kOscFactor times the lowest since the last fall; fall: kOscFactor below the peak.
  int rises = 0;
  bool rising = true;
  double lo = m[0], hi = m[0], lo_seen = m[0], hi_seen = m[0];
  for (int b = 1; b < n; ++b) {
    const double v = m[b];
    if (!std::isfinite(v)) return false;
    if (rising) {
      lo = std::min(lo, v);
      if (v >= kOscFactor * lo && v > 0) ++rises, rising = false, hi = v, lo_seen = std::min(lo_seen, lo);
    } else {
      hi = std::max(hi, v);
      if (v * kOscFactor <= hi) rising = true, lo = v, hi_seen = std::max(hi_seen, hi);
    }
  }
  hi_seen = std::max(hi_seen, hi);
  if (swings) *swings = rises;
  if (low) *low = lo_seen;
  if (high) *high = hi_seen;
  return rises >= kOscSwings;
}

std::vector<Warning> detectWarnings(const WarningInput& in) {
  std::vector<Warning> out;
  if (in.diverged) out.push_back({"diverged", in.diverged_message});
  const std::string steps = std::to_string(in.step) + " steps";

  // Collapse.
  bool collapsed = false;
  if (in.step >= kMinSteps && in.H && in.labels && in.K >= 2) {
    const Mat& H = *in.H;
    Mat dir = Mat::Zero(in.K, H.cols());
    std::vector<int> count(in.K, 0);
    for (Eigen::Index i = 0; i < H.rows(); ++i) {
      const int y = (*in.labels)[size_t(i)];
      if (y < 0 || y >= in.K) continue;
      const double nn = H.row(i).norm();
      if (nn > 0) dir.row(y) += H.row(i) / nn;
      ++count[y];
    }
    double widest = 0;
    bool any_zero = false;
    for (int a = 0; a < in.K; ++a)
      for (int b = a + 1; b < in.K; ++b) {
        if (!count[a] || !count[b]) continue;
        const double ang = angleDeg(dir.row(a).transpose(), dir.row(b).transpose());
        if (std::isnan(ang))
          any_zero = true;
        else
          widest = std::max(widest, ang);
      }
    const double chance = 1.0 / in.K;
    std::string why;
    if (any_zero || widest < kCollapseDeg)
      why = any_zero ? "the embeddings have collapsed to zero"
                     : "all " + std::to_string(in.K) + " class directions lie within " + fmt("%.2g", widest) +
                           " deg of each other";
    if (in.train_accuracy >= 0 && in.train_accuracy < chance + kChanceMargin)
      why += (why.empty() ? "" : ", and ") + std::string("training accuracy is ") +
             fmt("%.3f", in.train_accuracy) + " (chance 1/K = " + fmt("%.3f", chance) + ")";
    if (!why.empty()) {
      collapsed = true;
      out.push_back({"collapse", why + " after " + steps + ": " + lrAdvice(in.lr) +
                                     ", or check that the margin and scale are not too large"});
    }
  }

  // Dead classes.
  if (!collapsed && in.step >= kMinSteps && in.labels && in.predicted && in.W && in.K >= 2) {
    std::vector<int> members(in.K, 0), wins(in.K, 0);
    std::vector<std::vector<int>> goes(in.K, std::vector<int>(in.K, 0));
    for (size_t i = 0; i < in.labels->size(); ++i) {
      const int y = (*in.labels)[i], p = (*in.predicted)[i];
      if (y < 0 || y >= in.K || p < 0 || p >= in.K) continue;
      ++members[y];
      ++wins[p];
      ++goes[y][p];
    }
    const char* what = in.W_are_directions ? "direction" : "weight";
    for (int k = 0; k < in.K; ++k) {
      if (!members[k] || wins[k]) continue;
      std::vector<std::pair<double, int>> near;
      for (int j = 0; j < in.K; ++j)
        if (j != k) {
          const double ang = angleDeg(in.W->row(k).transpose(), in.W->row(j).transpose());
          if (!std::isnan(ang)) near.emplace_back(ang, j);
        }
      std::sort(near.begin(), near.end());
      std::string crowd;
      for (size_t q = 0; q < near.size() && q < 2; ++q)
        crowd += std::string(q ? ", " : "") + "class " + std::to_string(near[q].second) + " (" +
                 fmt("%.1f", near[q].first) + " deg)";
      const int taker = int(std::max_element(goes[k].begin(), goes[k].end()) - goes[k].begin());
      out.push_back({"dead_class",
                     "class " + std::to_string(k) + " wins none of its " + std::to_string(members[k]) +
                         " training samples after " + steps + " (its region is empty; " +
                         fmt("%.0f", 100.0 * goes[k][taker] / members[k]) + "% go to class " +
                         std::to_string(taker) + "): the nearest " + what + "s to its " + what + " are " +
                         crowd + "; try a smaller margin or scale, a lower learning rate, or another seed"});
    }
  }

  // A loss that swings.
  int swings = 0;
  double lo = 0, hi = 0;
  if (in.recent_losses && lossOscillates(*in.recent_losses, &swings, &lo, &hi))
    out.push_back({"lr_oscillation", "the loss swung " + std::to_string(swings) + " times by " +
                                         fmt("%g", kOscFactor) + "x or more over the last " +
                                         std::to_string(kOscWindow) + " steps (between " + fmt("%.3g", lo) +
                                         " and " + fmt("%.3g", hi) + ", means of " +
                                         std::to_string(kOscBlock) + "-step blocks): " + lrAdvice(in.lr)});
  return out;
}

void printWarnings(const std::vector<Warning>& warnings, std::FILE* out) {
  for (const Warning& w : warnings) std::fprintf(out, "warning: %s: %s\n", w.code.c_str(), w.message.c_str());
}

}  // namespace ms
