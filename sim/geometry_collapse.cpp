// Neural collapse (Papyan, Han and Donoho 2020, "Prevalence of neural collapse during the terminal phase of
// deep learning training", PNAS) and the scale/margin bounds of the lecture notes (NormFace, CosFace,
// L2-softmax) at their current values. Cost O(n d^2 + K^2 d).
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "sim/geometry.h"

namespace ms {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Papyan et al.'s NC2 figures of the rows of M (fig. 3-5 of the paper): equinorm, the coefficient of
// variation of the row norms, Std_c |M_c| / Avg_c |M_c|; equiangularity, the standard deviation of the
// cosines over all pairs c != c', Std cos(M_c, M_c'); maximal angle, Avg |cos(M_c, M_c') + 1/(K-1)|. All
// three are 0 at a simplex equiangular tight frame. Standard deviations over the population (divide by
// the count). Rows of norm 0 take no part in a cosine.
void equinormEquiangular(const Mat& M, double* cv, double* std_cos, double* mad) {
  const int K = int(M.rows());
  *cv = *std_cos = *mad = kNaN;
  if (K < 2) return;
  const Vec norms = M.rowwise().norm();
  const double mean = norms.mean();
  if (!(mean > 0)) return;
  *cv = std::sqrt((norms.array() - mean).square().mean()) / mean;
  std::vector<double> cosines;
  for (int a = 0; a < K; ++a)
    for (int b = a + 1; b < K; ++b)
      if (norms(a) > 0 && norms(b) > 0) cosines.push_back(M.row(a).dot(M.row(b)) / (norms(a) * norms(b)));
  if (cosines.empty()) return;
  const double n = double(cosines.size());
  double sum = 0, dev2 = 0, dev1 = 0;
  for (double c : cosines) sum += c;
  const double avg = sum / n, simplex = -1.0 / (K - 1);
  for (double c : cosines) dev2 += (c - avg) * (c - avg), dev1 += std::fabs(c - simplex);
  *std_cos = std::sqrt(dev2 / n);
  *mad = dev1 / n;
}

}  // namespace

NeuralCollapse neuralCollapse(const Mat& H, const std::vector<int>& y, int K, const Mat* W,
                              bool unit_features, bool unit_weights) {
  NeuralCollapse nc;
  nc.unit_features = unit_features;
  nc.unit_weights = unit_weights;
  nc.nc1 = nc.nc2_equinorm = nc.nc2_equiangular = nc.nc3 = nc.nc2_equiangular_mad = kNaN;
  nc.nc2_weights_equinorm = nc.nc2_weights_equiangular = kNaN;
  const int n = int(H.rows()), d = int(H.cols());
  auto feature = [&](int i) -> Vec {
    Vec h = H.row(i).transpose();
    if (unit_features) {
      const double nn = h.norm();
      if (nn > 0) h /= nn;
    }
    return h;
  };
  Mat mu = Mat::Zero(K, d);
  std::vector<int> count(K, 0);
  for (int i = 0; i < n; ++i)
    if (y[i] >= 0 && y[i] < K) mu.row(y[i]) += feature(i).transpose(), ++count[y[i]];
  std::vector<int> live;
  for (int c = 0; c < K; ++c)
    if (count[c] > 0) mu.row(c) /= count[c], live.push_back(c);
  const int L = int(live.size());
  if (L < 2) return nc;

  // Global mean = mean of the class means (Papyan's definition for balanced classes; with imbalance it
  // keeps every class equally weighted, which is what the simplex picture is about).
  Vec muG = Vec::Zero(d);
  for (int c : live) muG += mu.row(c).transpose();
  muG /= L;
  Mat M(L, d);  // centred class means
  for (int k = 0; k < L; ++k) M.row(k) = mu.row(live[k]) - muG.transpose();

  // NC1: within-class covariance against the pseudo-inverse of the between-class covariance.
  Mat Sw = Mat::Zero(d, d);
  int nw = 0;
  for (int i = 0; i < n; ++i)
    if (y[i] >= 0 && y[i] < K) {
      const Vec e = feature(i) - mu.row(y[i]).transpose();
      Sw.noalias() += e * e.transpose();
      ++nw;
    }
  Sw /= nw;
  const Mat Sb = M.transpose() * M / L;  // (d,d)
  Eigen::SelfAdjointEigenSolver<Mat> es(Sb);
  const Vec ev = es.eigenvalues();
  const double tol = std::max(ev.maxCoeff(), 0.0) * d * 1e-12;
  Vec inv = Vec::Zero(d);
  for (int k = 0; k < d; ++k)
    if (ev(k) > tol) inv(k) = 1 / ev(k);
  const Mat SbPinv = es.eigenvectors() * inv.asDiagonal() * es.eigenvectors().transpose();
  nc.nc1 = (Sw * SbPinv).trace() / L;

  // NC2 on the centred means.
  equinormEquiangular(M, &nc.nc2_equinorm, &nc.nc2_equiangular, &nc.nc2_equiangular_mad);

  if (W && W->rows() >= K) {
    Mat Wl(L, d);
    for (int k = 0; k < L; ++k) {
      Wl.row(k) = W->row(live[k]);
      const double nn = Wl.row(k).norm();
      if (unit_weights && nn > 0) Wl.row(k) /= nn;
    }
    double unused;
    equinormEquiangular(Wl, &nc.nc2_weights_equinorm, &nc.nc2_weights_equiangular, &unused);
    // NC3: self-duality of the classifier and the centred means.
    const double wf = Wl.norm(), mf = M.norm();
    if (wf > 0 && mf > 0) nc.nc3 = (Wl / wf - M / mf).norm();
  }
  return nc;
}

double normfaceLowerBound(int K, double s) {
  if (K < 2) return 0;
  return std::log1p((K - 1) * std::exp(-double(K) * s / (K - 1)));
}

Bounds marginBounds(int K, int d, double s, double P, const Mat* W) {
  Bounds b;
  b.target_probability = P;
  const bool has_s = s > 0;
  b.scale_used = has_s ? s : kNaN;
  b.normface_loss_lower_bound = has_s ? normfaceLowerBound(K, s) : kNaN;
  b.normface_bound_valid = has_s && K >= 2 && K <= d + 1;
  // CosFace (Wang et al. 2018, eq. 8-9): requiring the NormFace bound to allow probability P,
  //   P <= 1 / (1 + (K-1) e^{-K s/(K-1)})  <=>  s >= (K-1)/K ln((K-1) P / (1-P)).
  // The lecture notes (004) print the factor as K/(K-1); the paper's (K-1)/K is what the derivation gives.
  b.scale_for_p = K >= 2 ? (K - 1.0) / K * std::log((K - 1) * P / (1 - P)) : kNaN;
  // L2-softmax (Ranjan et al. 2017, eq. 4): alpha_low = ln(p (K-2) / (1-p)), defined for K > 2.
  b.l2_alpha_low = K > 2 ? std::log(P * (K - 2) / (1 - P)) : kNaN;
  // CosFace sec. 3.4: 0 <= m <= 1 - max_{i!=j} cos(W_i, W_j); at the simplex (K <= d+1) that is K/(K-1).
  b.cosface_m_max = K >= 2 ? double(K) / (K - 1) : kNaN;
  b.cosface_m_max_weights = kNaN;
  if (W && W->rows() >= 2) {
    double cmax = -1;
    for (int i = 0; i < W->rows(); ++i)
      for (int j = i + 1; j < W->rows(); ++j) {
        const double ni = W->row(i).norm(), nj = W->row(j).norm();
        if (ni > 0 && nj > 0) cmax = std::max(cmax, W->row(i).dot(W->row(j)) / (ni * nj));
      }
    b.cosface_m_max_weights = 1 - cmax;
  }
  b.note =
      "scale_for_p uses the CosFace paper's s >= (K-1)/K ln((K-1)P/(1-P)); the lecture notes print K/(K-1)";
  if (!has_s)
    b.note += "; this loss has no scale s, so the NormFace bound does not apply";
  else if (K > d + 1)
    b.note += "; K > d+1: the NormFace bound still holds but is not attained (no regular simplex in d dims)";
  if (K >= 2 && K > d + 1) b.note += "; cosface_m_max = K/(K-1) assumes K <= d+1";
  return b;
}

}  // namespace ms
