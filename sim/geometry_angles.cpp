// Angular statistics of the SphereFace analysis (Liu et al. 2017, sec. 3.3 and fig. 5): class mean
// directions, the angle of each sample to its own class direction, the angles between class directions and
// between weights, and separability in the "max intra-class angle < min inter-class angle" sense, also with
// the 95th percentile in place of the max (one outlier no longer decides) and the count of outliers.
// Cost O(n C d) for n samples, C classes: cheap enough for 10,000 points every refresh.
#include <algorithm>
#include <cmath>
#include <limits>

#include "sim/geometry.h"
#include "sim/math.h"

namespace ms {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double angleDeg(double c) {
  return std::acos(std::clamp(c, -1.0, 1.0)) * kDeg;
}
}  // namespace

Mat classDirections(const Mat& H, const std::vector<int>& y, int C) {
  const int n = int(H.rows()), d = int(H.cols());
  Mat D = Mat::Zero(C, d);
  std::vector<int> count(C, 0);
  for (int i = 0; i < n; ++i) {
    const int c = y[i];
    if (c < 0 || c >= C) continue;
    const double norm = H.row(i).norm();
    if (norm > 0) D.row(c) += H.row(i) / norm;
    ++count[c];
  }
  for (int c = 0; c < C; ++c) {
    const double norm = D.row(c).norm();
    if (count[c] == 0 || !(norm > 0))
      D.row(c).setConstant(kNaN);
    else
      D.row(c) /= norm;
  }
  return D;
}

AngleMetrics angleMetrics(const Mat& H, const std::vector<int>& y, int C, const Mat* W) {
  AngleMetrics a;
  const int n = int(H.rows()), d = int(H.cols());
  const Mat D = classDirections(H, y, C);  // (C,d)
  std::vector<int> live;                   // classes with a direction
  for (int c = 0; c < C; ++c)
    if (!std::isnan(D(c, 0))) live.push_back(c);
  a.classes = C;
  a.dim = d;
  a.class_directions.assign(size_t(C) * d, 0.0);
  for (int c = 0; c < C; ++c)
    for (int k = 0; k < d; ++k) a.class_directions[size_t(c) * d + k] = D(c, k);

  // Cosines of every sample to every class direction: (n,C) in one product, then angles only where needed.
  Mat Dl(live.size(), d);
  for (size_t k = 0; k < live.size(); ++k) Dl.row(k) = D.row(live[k]);
  std::vector<int> slot(C, -1);
  for (size_t k = 0; k < live.size(); ++k) slot[live[k]] = int(k);
  const Vec hn = H.rowwise().norm();
  const Mat G = H * Dl.transpose();  // (n, live) unnormalised cosines

  std::vector<double> intra;
  intra.reserve(n);
  a.nearest_other_deg.assign(n, float(kNaN));
  double other_sum = 0, other_min = kNaN;
  int other_count = 0, closer = 0;
  for (int i = 0; i < n; ++i) {
    const int c = (y[i] >= 0 && y[i] < C) ? slot[y[i]] : -1;
    if (c < 0 || !(hn(i) > 0)) continue;
    const double own = G(i, c) / hn(i);
    intra.push_back(angleDeg(own));
    double best = -2;
    for (int k = 0; k < int(live.size()); ++k)
      if (k != c) best = std::max(best, G(i, k) / hn(i));
    if (best > -2) {
      const double ang = angleDeg(best);
      a.nearest_other_deg[i] = float(ang);
      other_sum += ang;
      other_min = other_count == 0 ? ang : std::min(other_min, ang);
      ++other_count;
      if (best > own) ++closer;
    }
  }
  if (intra.empty()) {
    a.intra_mean_deg = a.intra_p95_deg = a.intra_max_deg = kNaN;
  } else {
    double sum = 0, mx = 0;
    for (double v : intra) sum += v, mx = std::max(mx, v);
    a.intra_mean_deg = sum / intra.size();
    a.intra_max_deg = mx;
    // Nearest-rank 95th percentile.
    const size_t k = size_t(std::ceil(0.95 * intra.size())) - 1;
    std::nth_element(intra.begin(), intra.begin() + k, intra.end());
    a.intra_p95_deg = intra[k];
  }
  a.nearest_other_mean_deg = other_count ? other_sum / other_count : kNaN;
  a.nearest_other_min_deg = other_count ? other_min : kNaN;
  a.closer_to_other_fraction = intra.empty() ? kNaN : double(closer) / intra.size();

  // Between class directions.
  double imin = kNaN, isum = 0;
  int icount = 0;
  for (size_t p = 0; p < live.size(); ++p)
    for (size_t q = p + 1; q < live.size(); ++q) {
      const double ang = angleDeg(Dl.row(p).dot(Dl.row(q)));
      imin = icount == 0 ? ang : std::min(imin, ang);
      isum += ang;
      ++icount;
    }
  a.inter_center_min_deg = imin;
  a.inter_center_mean_deg = icount ? isum / icount : kNaN;

  // Between weight vectors.
  a.weight_min_deg = kNaN;
  if (W && W->rows() >= 2) {
    const int K = int(W->rows());
    double wmin = kNaN;
    for (int p = 0; p < K; ++p)
      for (int q = p + 1; q < K; ++q) {
        const double np = W->row(p).norm(), nq = W->row(q).norm();
        if (!(np > 0 && nq > 0)) continue;
        const double ang = angleDeg(W->row(p).dot(W->row(q)) / (np * nq));
        wmin = std::isnan(wmin) ? ang : std::min(wmin, ang);
      }
    a.weight_min_deg = wmin;
  }

  // Separability as SphereFace defines it (every sample), and robust to a few outliers (the 95th percentile
  // of the intra-class angles). The outliers are the samples that alone break the first: those at least as
  // far from their own class direction as the two nearest class directions are from each other.
  a.gap_deg = a.inter_center_min_deg - a.intra_max_deg;  // NaN when either is
  a.separable = a.gap_deg > 0;
  a.gap_p95_deg = a.inter_center_min_deg - a.intra_p95_deg;
  a.separable_p95 = a.gap_p95_deg > 0;
  a.outliers = 0;
  if (!std::isnan(a.inter_center_min_deg))
    for (double v : intra) a.outliers += v >= a.inter_center_min_deg;
  return a;
}

}  // namespace ms
