// Forward/backward of every loss in the catalogue, with hand-derived gradients (no autodiff), llm.c style:
// each piece is a plain function, the forward keeps what the backward needs in the workspace, and the shapes
// are written beside the arguments. Everything is computed in double precision.
//
// Three paths share the work:
//  - linear logits (softmax, weighted-softmax, focal): Z = H W^T + b, then cross-entropy;
//  - cosine logits (every normalised and angular-margin loss): the logit of (sample i, class j) is a scalar
//    function z(cos t_ij, |H_i|, |W_j|) that differs between the true class and the others; its three
//    partials carry the cross-entropy gradient back to the unit vectors and the norms, and the normalisation
//    backward (d x/|x| = (I - x^ x^T)/|x|) carries it to H and W;
//  - pair/triplet terms (contrastive, triplet, tse, tpe, marginal) and centre terms (center,
//  center-invariant,
//    range), summed from per-pair coefficients on squared distances or dot products.
//
// Numerics: log-sum-exp in every softmax; cos clamped to [-1+1e-7, 1-1e-7] before acos (the gradient through
// a clamped cosine is zero, as for any clamp); sin t from the clamped cosine; norms floored at 1e-12 so that
// an all-zero embedding gives a zero unit vector and a finite loss and gradient.
#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "sim/loss.h"

namespace ms {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kEps = 1e-12;          // norm floor
constexpr double kCosMax = 1.0 - 1e-7;  // clamp before acos

inline double clampCos(double c) {
  return std::min(kCosMax, std::max(-kCosMax, c));
}

using Resolved = ResolvedParams;

Resolved resolve(const LossSpec& spec, const LossParams& p, const LossState& st) {
  Resolved r;
  r.id = spec.id;
  auto v = [&](const char* name) { return paramValue(spec, p, name); };
  auto vecp = [&](const char* name) -> const std::vector<double>* {
    auto it = p.vectors.find(name);
    return it == p.vectors.end() ? nullptr : &it->second;
  };
  switch (spec.id) {
    case LossId::Softmax:
      r.bias = vecp("bias");
      break;
    case LossId::WeightedSoftmax:
      r.cw = vecp("class_weights");
      break;
    case LossId::Focal:
      r.gamma = v("gamma");
      break;
    case LossId::ModifiedSoftmax:
      break;
    case LossId::LSoftmax:
    case LossId::ASoftmax:
      r.mi = int(v("m"));
      r.lambda = st.lambda >= 0 ? st.lambda : v("lambda");
      break;
    case LossId::L2Softmax:
      r.learn = v("learn_alpha") != 0;
      r.s = (r.learn && st.alpha >= 0) ? st.alpha : v("alpha");
      break;
    case LossId::NormFace:
      r.learn = v("learn_s") != 0;
      r.s = (r.learn && st.s >= 0) ? st.s : v("s");
      break;
    case LossId::CoCo:
      r.s = v("alpha");
      break;
    case LossId::AmSoftmax:
      r.s = v("s");
      r.m = v("m");
      break;
    case LossId::ArcFace:
      r.s = v("s");
      r.m = v("m");
      r.variant = int(v("variant"));
      break;
    case LossId::Combined:
      r.s = v("s");
      r.m1 = v("m1");
      r.m2 = v("m2");
      r.m3 = v("m3");
      break;
    case LossId::EnhancedAm:
      r.s = v("s");
      r.m = v("m");
      r.negative_margin = v("negative_margin") != 0;
      break;
    case LossId::AdaCos:
      r.adaptive = v("adaptive") != 0;
      r.s = st.s > 0 ? st.s : 1;  // the decision rule's scale; the loss sets s itself
      break;
    case LossId::Center:
    case LossId::CenterInvariant:
    case LossId::Range:
      r.joint_lambda = v("lambda");
      r.alpha = v("alpha");
      if (spec.id == LossId::CenterInvariant) r.gamma = v("gamma");
      if (spec.id == LossId::Range) {
        r.k = int(v("k"));
        r.margin = v("margin");
        r.intra_w = v("intra_weight");
        r.inter_w = v("inter_weight");
      }
      break;
    case LossId::Marginal:
      r.joint_lambda = v("lambda");
      r.theta = v("theta");
      r.xi = v("xi");
      break;
    case LossId::Contrastive:
      r.m = v("m");
      break;
    case LossId::Triplet:
      r.m = v("m");
      r.mining = int(v("mining"));
      break;
    case LossId::Tse:
      r.alpha = v("alpha");
      break;
    case LossId::Tpe:
      break;
  }
  return r;
}

// ------------------------------------------------------------------ normalisation

// X (n,d) -> Xh (n,d) rows X_i / max(|X_i|, eps), nrm (n) = |X_i|.
void normaliseRowsForward(const Mat& X, Mat& Xh, Vec& nrm) {
  const Eigen::Index n = X.rows();
  Xh.resize(n, X.cols());
  nrm.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    nrm(i) = X.row(i).norm();
    Xh.row(i) = X.row(i) / std::max(nrm(i), kEps);
  }
}

// Given dL/dXh (n,d) and dL/dnrm (n) (or null), writes dL/dX (n,d): (I - xh xh^T) dXh / |x| + dnrm xh.
void normaliseRowsBackward(const Mat& Xh, const Vec& nrm, const Mat& dXh, const Vec* dnrm, Mat& dX) {
  const Eigen::Index n = Xh.rows();
  dX.resize(n, Xh.cols());
  for (Eigen::Index i = 0; i < n; ++i) {
    const double radial = dXh.row(i).dot(Xh.row(i));
    dX.row(i) = (dXh.row(i) - radial * Xh.row(i)) / std::max(nrm(i), kEps);
    if (dnrm) dX.row(i) += (*dnrm)(i)*Xh.row(i);
  }
}

// ------------------------------------------------------------------ margin functions of the cosine

// psi(t) = (-1)^k cos(m t) - 2k, k = floor(m t / pi) (Liu et al. 2016, eq. 6), as a function of c = cos t.
// cos(m t) = T_m(c) and d cos(m t)/dc = m U_{m-1}(c) (Chebyshev polynomials), so no division by sin t.
double psiOfCos(int m, double c, double& dpsi) {
  const double cc = clampCos(c);
  const double t = std::acos(cc);
  int k = int(std::floor(m * t / kPi));
  k = std::max(0, std::min(m - 1, k));
  double t_prev = 1, tm = cc;    // T_0, T_1
  double u_prev = 0, um1 = 1;    // U_{-1}, U_0
  for (int q = 1; q < m; ++q) {  // T_{q+1} = 2c T_q - T_{q-1}, U_q = 2c U_{q-1} - U_{q-2}
    const double t_next = 2 * cc * tm - t_prev;
    t_prev = tm;
    tm = t_next;
    const double u_next = 2 * cc * um1 - u_prev;
    u_prev = um1;
    um1 = u_next;
  }
  const double sign = (k % 2) ? -1.0 : 1.0;
  dpsi = (cc == c) ? sign * m * um1 : 0.0;
  return sign * tm - 2.0 * k;
}

// cos(a t + b) as a function of c = cos t, and its derivative a sin(a t + b) / sin t.
double cosAffineAngle(double a, double b, double c, double& dc) {
  const double cc = clampCos(c);
  const double t = std::acos(cc);
  const double sin_t = std::sqrt(std::max(0.0, 1 - cc * cc));
  dc = (cc == c) ? a * std::sin(a * t + b) / sin_t : 0.0;
  return std::cos(a * t + b);
}

// ArcFace target cosine (Deng et al. 2019, eq. 3) with the three fallbacks of the catalogue.
double arcTarget(const Resolved& r, double c, double& dc) {
  if (r.variant == 2) return cosAffineAngle(1, r.m, c, dc);  // plain
  if (r.variant == 1) {                                      // easy margin
    if (c > 0) return cosAffineAngle(1, r.m, c, dc);
    dc = 1;
    return c;
  }
  // insightface: past t = pi - m, cos(t + m) stops decreasing in t; use the linear extension cos t - m sin m.
  const double t = std::acos(clampCos(c));
  if (t > kPi - r.m) {
    dc = 1;
    return c - r.m * std::sin(r.m);
  }
  return cosAffineAngle(1, r.m, c, dc);
}

struct Dz {
  double c = 0, hn = 0, wn = 0;  // partials of the logit w.r.t. cos t, |H_i|, |W_j|
};

// Training logit of one (sample, class) pair of a cosine-path loss. `target`: j is the sample's class.
double cosLogit(const Resolved& r, bool target, double c, double hn, double wn, Dz& d) {
  switch (r.id) {
    case LossId::ModifiedSoftmax:
      d = {hn, c, 0};
      return hn * c;
    case LossId::LSoftmax:
    case LossId::ASoftmax: {
      const bool norm_w = r.id == LossId::ASoftmax;
      const double w = norm_w ? 1.0 : wn;
      double q = c, dq = 1;
      if (target) {
        double dpsi = 0;
        const double psi = psiOfCos(r.mi, c, dpsi);
        q = (psi + r.lambda * c) / (1 + r.lambda);
        dq = (dpsi + r.lambda) / (1 + r.lambda);
      }
      d = {w * hn * dq, w * q, norm_w ? 0.0 : hn * q};
      return w * hn * q;
    }
    case LossId::L2Softmax:
      d = {r.s * wn, 0, r.s * c};
      return r.s * wn * c;
    case LossId::NormFace:
    case LossId::CoCo:
    case LossId::AdaCos:
      d = {r.s, 0, 0};
      return r.s * c;
    case LossId::AmSoftmax:
      d = {r.s, 0, 0};
      return target ? r.s * (c - r.m) : r.s * c;
    case LossId::ArcFace: {
      if (!target) {
        d = {r.s, 0, 0};
        return r.s * c;
      }
      double dc = 0;
      const double v = arcTarget(r, c, dc);
      d = {r.s * dc, 0, 0};
      return r.s * v;
    }
    case LossId::Combined: {
      if (!target) {
        d = {r.s, 0, 0};
        return r.s * c;
      }
      double dc = 0;
      const double v = cosAffineAngle(r.m1, r.m2, c, dc) - r.m3;
      d = {r.s * dc, 0, 0};
      return r.s * v;
    }
    case LossId::EnhancedAm: {
      if (target) {
        const double inv_M = std::exp(-r.m);  // 1 / M, M = e^m
        d = {r.s * inv_M, 0, 0};
        return r.s * (c - r.m) * inv_M;
      }
      d = {r.s, 0, 0};
      return r.negative_margin ? r.s * (c + r.m) : r.s * c;
    }
    default:  // linear-logit, centre and metric losses: the plain cosine (decision rule only)
      d = {1, 0, 0};
      return c;
  }
}

// The non-target logit of every cosine-path loss has the form a [|W_j|] [|H_i|] cos t_ij + off (the brackets
// present when the flags say so); must agree with cosLogit(target = false).
struct OtherForm {
  double a = 1, off = 0;
  bool hn = false, wn = false;
};

OtherForm otherForm(const Resolved& r) {
  switch (r.id) {
    case LossId::ModifiedSoftmax:
    case LossId::ASoftmax:
      return {1, 0, true, false};
    case LossId::LSoftmax:
      return {1, 0, true, true};
    case LossId::L2Softmax:
      return {r.s, 0, false, true};
    case LossId::EnhancedAm:
      return {r.s, r.negative_margin ? r.s * r.m : 0.0, false, false};
    default:
      return {r.s, 0, false, false};  // normface, coco, adacos, am-softmax, arcface, combined
  }
}

// ------------------------------------------------------------------ cross-entropy

// Zt (K,n) logits, one column per sample -> Gt (K,n) = dL/dZ for L = (1/n) sum_i loss_i, where loss_i is
// -w_{y_i} log p_{y_i} (w = class_weights, or 1), or the focal -(1-p_y)^gamma log p_y. Returns L.
double crossEntropy(const Resolved& r, const Mat& Zt, const std::vector<int>& y, Mat& Gt) {
  const Eigen::Index K = Zt.rows(), n = Zt.cols();
  Gt.resize(K, n);
  double total = 0;
  const bool focal = r.id == LossId::Focal;
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto z = Zt.col(i);
    auto g = Gt.col(i);
    const Eigen::Index yi = y[size_t(i)];
    const double mx = z.maxCoeff();
    g.array() = (z.array() - mx).exp();  // vectorised exp
    const double sum = g.sum();
    // 1 - p_y summed from the other classes, so that it stays accurate when p_y is close to 1
    const double q = (g.head(yi).sum() + g.tail(K - yi - 1).sum()) / sum;
    const double logp = z(yi) - mx - std::log(sum);
    g *= 1 / sum;
    double a;  // dL_i/dz_j = a (p_j - [j = y])
    if (focal) {
      const double qg = std::pow(q, r.gamma);
      total += -qg * logp;
      // d/dz of -(1-p)^g log p = -[g (1-p)^(g-1) p log p - (1-p)^g] (p_j - [j=y])
      const double t1 = (q > 0 && r.gamma > 0) ? r.gamma * std::pow(q, r.gamma - 1) * (1 - q) * logp : 0.0;
      a = qg - t1;
    } else {
      const double w = r.cw ? (*r.cw)[size_t(yi)] : 1.0;
      total += -w * logp;
      a = w;
    }
    g(yi) -= 1;
    g *= a / double(n);
  }
  return total / double(n);
}

// ------------------------------------------------------------------ linear logits

// softmax, weighted-softmax, focal. H (n,d), W (K,d) -> dH (n,d), dW (K,d), dbias (K).
double linearForwardBackward(const Resolved& r, const Mat& H, const Mat& W, const std::vector<int>& y,
                             Mat& dH, Mat* dW, LossWorkspace& ws, LossAux* aux) {
  ws.z.noalias() = W * H.transpose();  // Zt (K,n)
  if (r.bias)
    for (Eigen::Index j = 0; j < ws.z.rows(); ++j) ws.z.row(j).array() += (*r.bias)[size_t(j)];
  const double loss = crossEntropy(r, ws.z, y, ws.g);
  dH.noalias() = ws.g.transpose() * W;  // (n,K)(K,d)
  if (dW) dW->noalias() = ws.g * H;     // (K,n)(n,d)
  if (aux) aux->dbias = ws.g.rowwise().sum();
  return loss;
}

// ------------------------------------------------------------------ cosine logits

// AdaCos (Zhang et al. 2019, eq. 15): re-estimate s from this batch before the logits, with the previous s in
// B_avg; no gradient flows through s. Ct (K,n) cosines. Returns the s to use.
double adacosScale(const Resolved& r, LossState& st, const Mat& Ct, const std::vector<int>& y, Vec& buf,
                   Mat& ws_tmp) {
  const Eigen::Index K = Ct.rows(), n = Ct.cols();
  const double s0 = K > 2 ? std::sqrt(2.0) * std::log(double(K - 1)) : 0.0;
  if (!r.adaptive) return s0;
  const double s_old = st.s > 0 ? st.s : s0;
  // ln B_avg = ln (1/n sum_i sum_{j != y_i} e^{s_old cos t_ij}), by log-sum-exp over the non-target entries
  // (the target ones set to -inf, whose exp is 0).
  ws_tmp = s_old * Ct;
  for (Eigen::Index i = 0; i < n; ++i) ws_tmp(y[size_t(i)], i) = -std::numeric_limits<double>::infinity();
  const double mx = ws_tmp.maxCoeff();
  const double log_b = (K > 1) ? mx + std::log((ws_tmp.array() - mx).exp().sum()) - std::log(double(n)) : 0.0;
  buf.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) buf(i) = std::acos(clampCos(Ct(y[size_t(i)], i)));
  // The lower median (torch.median's convention, as in the reference implementations).
  const Eigen::Index mid = (n - 1) / 2;
  std::nth_element(buf.data(), buf.data() + mid, buf.data() + n);
  double s = log_b / std::cos(std::min(kPi / 4, buf(mid)));
  // Where the paper's assumption (non-target angles near 90 degrees) fails, as in 2-D and 3-D embeddings, the
  // update can grow s without bound; cap it at the catalogue's largest scale (never reached from s0 in one
  // step: there s <= (s0 + ln(K-1)) sqrt 2).
  if (!std::isfinite(s)) s = s_old;
  s = std::min(s, 1000.0);
  st.s = s;
  return s;
}

// CoCo (Liu et al. 2017): class centroids of the scaled unit features alpha H_i/|H_i| over this batch replace
// W; a class absent from the batch uses its row of W instead. Fills ws.cen (K,d) and ws.cnt (K).
void cocoCentroids(double alpha, const Mat& Xh, const Mat& W, const std::vector<int>& y, LossWorkspace& ws) {
  const Eigen::Index K = W.rows(), n = Xh.rows();
  ws.cnt.assign(size_t(K), 0);
  ws.cen.setZero(K, W.cols());
  for (Eigen::Index i = 0; i < n; ++i) {
    ws.cen.row(y[size_t(i)]) += alpha * Xh.row(i);
    ws.cnt[size_t(y[size_t(i)])]++;
  }
  for (Eigen::Index j = 0; j < K; ++j) {
    if (ws.cnt[size_t(j)] > 0)
      ws.cen.row(j) /= double(ws.cnt[size_t(j)]);
    else
      ws.cen.row(j) = W.row(j);
  }
}

// Every normalised / angular-margin loss. H (n,d), W (K,d) -> dH (n,d), dW (K,d).
double cosineForwardBackward(Resolved r, LossState& st, const Mat& H, const Mat& W, const std::vector<int>& y,
                             Mat& dH, Mat* dW, LossWorkspace& ws, LossAux* aux) {
  const Eigen::Index n = H.rows(), K = W.rows(), d = H.cols();
  normaliseRowsForward(H, ws.xh, ws.hn);  // xh (n,d), hn (n)
  const Mat* Wsrc = &W;
  if (r.id == LossId::CoCo) {
    cocoCentroids(r.s, ws.xh, W, y, ws);
    Wsrc = &ws.cen;
  }
  normaliseRowsForward(*Wsrc, ws.wh, ws.wn);   // wh (K,d), wn (K)
  ws.c.noalias() = ws.wh * ws.xh.transpose();  // Ct (K,n) cosines
  if (r.id == LossId::AdaCos) r.s = adacosScale(r, st, ws.c, y, ws.u, ws.pair);

  // Logits Z (K,n): the non-target entries share one form, a [|W_j|] [|H_i|] cos + off, computed for the
  // whole matrix at once; the target entries are then overwritten with the margin logit, whose partials
  // (d/dcos, d/d|H_i|, d/d|W_y|) are kept per sample in b (n,3).
  const OtherForm f = otherForm(r);
  ws.z = ws.c;
  if (f.wn) ws.z.array().colwise() *= ws.wn.array();
  if (f.hn) ws.z.array().rowwise() *= ws.hn.transpose().array();
  ws.z.array() = f.a * ws.z.array() + f.off;
  ws.b.resize(n, 3);
  for (Eigen::Index i = 0; i < n; ++i) {
    const int yi = y[size_t(i)];
    Dz dz;
    ws.z(yi, i) = cosLogit(r, true, ws.c(yi, i), ws.hn(i), ws.wn(yi), dz);
    ws.b(i, 0) = dz.c;
    ws.b(i, 1) = dz.hn;
    ws.b(i, 2) = dz.wn;
  }
  const double loss = crossEntropy(r, ws.z, y, ws.g);  // g = dL/dZ (K,n)
  if (aux && r.learn) aux->dscale = r.s != 0 ? (ws.g.array() * ws.z.array()).sum() / r.s : 0.0;

  // Back to cosines and norms, first as if every entry had the non-target form ...
  ws.a = ws.g;  // dL/dcos (K,n)
  if (f.wn) ws.a.array().colwise() *= ws.wn.array();
  if (f.hn) ws.a.array().rowwise() *= ws.hn.transpose().array();
  ws.a *= f.a;
  ws.dhn.setZero(n);
  ws.dwn.setZero(K);
  if (f.hn || f.wn) {
    ws.pair = ws.g.cwiseProduct(ws.c);  // G o C (K,n)
    if (f.hn) {
      if (f.wn)
        ws.dhn.noalias() = f.a * ws.pair.transpose() * ws.wn;
      else
        ws.dhn = f.a * ws.pair.colwise().sum().transpose();
    }
    if (f.wn) {
      if (f.hn)
        ws.dwn.noalias() = f.a * ws.pair * ws.hn;
      else
        ws.dwn = f.a * ws.pair.rowwise().sum();
    }
  }
  // ... then swap the target entries' share for the margin logit's.
  for (Eigen::Index i = 0; i < n; ++i) {
    const int yi = y[size_t(i)];
    const double g = ws.g(yi, i), c = ws.c(yi, i);
    const double ws_j = f.wn ? ws.wn(yi) : 1.0, hs_i = f.hn ? ws.hn(i) : 1.0;
    ws.a(yi, i) = g * ws.b(i, 0);
    ws.dhn(i) += g * (ws.b(i, 1) - (f.hn ? f.a * ws_j * c : 0.0));
    ws.dwn(yi) += g * (ws.b(i, 2) - (f.wn ? f.a * hs_i * c : 0.0));
  }
  // cos_ij = <xh_i, wh_j>: dxh = dC^T wh, dwh = dC xh.
  ws.dxh.noalias() = ws.a.transpose() * ws.wh;  // (n,d)
  ws.dwh.noalias() = ws.a * ws.xh;              // (K,d)

  if (r.id == LossId::CoCo) {
    // dL/dcentroid (K,d) through the centroid normalisation; present classes pass it on to their members'
    // unit features (c_j = alpha/n_j sum xh_i), absent ones to W.
    normaliseRowsBackward(ws.wh, ws.wn, ws.dwh, nullptr, ws.cen);  // reuse cen as dcentroid
    for (Eigen::Index i = 0; i < n; ++i) {
      const int yi = y[size_t(i)];
      ws.dxh.row(i) += r.s / double(ws.cnt[size_t(yi)]) * ws.cen.row(yi);
    }
    if (dW) {
      dW->setZero(K, d);
      for (Eigen::Index j = 0; j < K; ++j)
        if (ws.cnt[size_t(j)] == 0) dW->row(j) = ws.cen.row(j);
    }
  } else if (dW) {
    normaliseRowsBackward(ws.wh, ws.wn, ws.dwh, &ws.dwn, *dW);
  }
  normaliseRowsBackward(ws.xh, ws.hn, ws.dxh, &ws.dhn, dH);
  return loss;
}

// ------------------------------------------------------------------ pair and triplet terms

// Accumulates dL/dX (n,d) from coefficients E (n,n) on squared distances D_ij = |x_i - x_j|^2 (sq = true) or
// on dot products S_ij = <x_i, x_j> (sq = false). E need not be symmetric.
void pairBackward(const Mat& X, const Mat& E, bool sq, Mat& dX) {
  const Eigen::Index n = X.rows();
  dX.setZero(n, X.cols());
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < n; ++j) {
      const double e = E(i, j);
      if (e == 0) continue;
      if (sq) {
        dX.row(i) += 2 * e * (X.row(i) - X.row(j));
        dX.row(j) -= 2 * e * (X.row(i) - X.row(j));
      } else {
        dX.row(i) += e * X.row(j);
        dX.row(j) += e * X.row(i);
      }
    }
}

// Pairwise squared distances D (n,n) of the rows of X (n,d), computed directly (no Gram cancellation).
void squaredDistances(const Mat& X, Mat& D) {
  const Eigen::Index n = X.rows();
  D.resize(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    D(i, i) = 0;
    for (Eigen::Index j = i + 1; j < n; ++j) D(i, j) = D(j, i) = (X.row(i) - X.row(j)).squaredNorm();
  }
}

// contrastive (Hadsell et al. 2006), marginal (Deng et al. 2017), triplet (Schroff et al. 2015),
// tse, tpe (Sankaranarayanan et al. 2016), all on unit embeddings Xh (n,d). Writes dL/dXh into dXh.
double metricTerm(const Resolved& r, const Mat& Xh, const std::vector<int>& y, Mat& dXh, LossWorkspace& ws) {
  const Eigen::Index n = Xh.rows();
  Mat& D = ws.pair;  // (n,n) squared distances or dot products
  Mat& E = ws.g;     // (n,n) dL/dD or dL/dS
  E.setZero(n, n);
  double loss = 0;
  bool sq = true;
  auto same = [&](Eigen::Index i, Eigen::Index j) { return y[size_t(i)] == y[size_t(j)]; };
  switch (r.id) {
    case LossId::Contrastive:
    case LossId::Marginal: {
      squaredDistances(Xh, D);
      const double pairs = double(n) * double(n - 1) / 2;
      if (pairs == 0) break;
      for (Eigen::Index i = 0; i < n; ++i)
        for (Eigen::Index j = i + 1; j < n; ++j) {
          const double Dij = D(i, j);
          if (r.id == LossId::Marginal) {
            const double yij = same(i, j) ? 1.0 : -1.0;
            const double v = r.xi - yij * (r.theta - Dij);
            if (v > 0) {
              loss += v;
              E(i, j) = yij / pairs;
            }
          } else if (same(i, j)) {
            loss += 0.5 * Dij;
            E(i, j) = 0.5 / pairs;
          } else {
            const double dist = std::sqrt(Dij);
            if (dist < r.m) {
              loss += 0.5 * (r.m - dist) * (r.m - dist);
              // d/dD of 1/2 (m - sqrt D)^2 = -(m - d) / (2 d); zero at d = 0 (no direction to push along).
              if (dist > kEps) E(i, j) = -(r.m - dist) / (2 * dist) / pairs;
            }
          }
        }
      loss /= pairs;
      break;
    }
    case LossId::Triplet: {
      squaredDistances(Xh, D);
      double count = 0;
      if (r.mining == 2) {  // batch-hard (Hermans et al. 2017): hardest positive and negative per anchor
        for (Eigen::Index a = 0; a < n; ++a) {
          Eigen::Index p = -1, q = -1;
          for (Eigen::Index j = 0; j < n; ++j) {
            if (j == a) continue;
            if (same(a, j)) {
              if (p < 0 || D(a, j) > D(a, p)) p = j;
            } else if (q < 0 || D(a, j) < D(a, q)) {
              q = j;
            }
          }
          if (p < 0 || q < 0) continue;
          count += 1;
          const double v = D(a, p) - D(a, q) + r.m;
          if (v > 0) {
            loss += v;
            E(a, p) += 1;
            E(a, q) -= 1;
          }
        }
      } else {  // all valid triplets, or only the semi-hard ones D_ap < D_an < D_ap + m (FaceNet, sec. 3.2)
        for (Eigen::Index a = 0; a < n; ++a)
          for (Eigen::Index p = 0; p < n; ++p) {
            if (p == a || !same(a, p)) continue;
            const double dap = D(a, p);
            for (Eigen::Index q = 0; q < n; ++q) {
              if (same(a, q)) continue;
              const double daq = D(a, q);
              if (r.mining == 1 && !(dap < daq && daq < dap + r.m)) continue;
              count += 1;
              const double v = dap - daq + r.m;
              if (v > 0) {
                loss += v;
                E(a, p) += 1;
                E(a, q) -= 1;
              }
            }
          }
      }
      if (count > 0) {
        loss /= count;
        E /= count;
      }
      break;
    }
    case LossId::Tse:
    case LossId::Tpe: {
      sq = false;
      D.noalias() = Xh * Xh.transpose();  // S (n,n)
      double count = 0;
      for (Eigen::Index a = 0; a < n; ++a)
        for (Eigen::Index p = 0; p < n; ++p) {
          if (p == a || !same(a, p)) continue;
          for (Eigen::Index q = 0; q < n; ++q) {
            if (same(a, q)) continue;
            count += 1;
            const double u = D(a, q) - D(a, p);
            if (r.id == LossId::Tse) {
              const double v = r.alpha + u;
              if (v > 0) {
                loss += v;
                E(a, q) += 1;
                E(a, p) -= 1;
              }
            } else {
              // -log(e^Sap / (e^Sap + e^San)) = softplus(San - Sap), computed without overflow
              loss += u > 0 ? u + std::log1p(std::exp(-u)) : std::log1p(std::exp(u));
              const double sig = u > 0 ? 1 / (1 + std::exp(-u)) : std::exp(u) / (1 + std::exp(u));
              E(a, q) += sig;
              E(a, p) -= sig;
            }
          }
        }
      if (count > 0) {
        loss /= count;
        E /= count;
      }
      break;
    }
    default:
      assert(false);
  }
  pairBackward(Xh, E, sq, dXh);
  return loss;
}

// ------------------------------------------------------------------ centre terms

// Sorts sample indices by class into ws.idx, class j occupying [ws.cnt[j], ws.cnt[j+1]) (counting sort).
void groupByClass(const std::vector<int>& y, Eigen::Index K, LossWorkspace& ws) {
  ws.cnt.assign(size_t(K) + 1, 0);
  for (int c : y) ws.cnt[size_t(c) + 1]++;
  for (size_t j = 0; j < size_t(K); ++j) ws.cnt[j + 1] += ws.cnt[j];
  ws.idx.resize(y.size());
  // rw (K) serves as each class's write cursor
  ws.rw.resize(K);
  for (Eigen::Index j = 0; j < K; ++j) ws.rw(j) = ws.cnt[size_t(j)];
  for (size_t i = 0; i < y.size(); ++i) ws.idx[size_t(ws.rw(y[i])++)] = int(i);
}

// center (Wen et al. 2016, eq. 2), center-invariant (Wu et al. 2017, eq. 4, with the paper's square) and
// range (Zhang et al. 2017, eqs. 2-4) on raw features H (n,d) and centres C (K,d). Writes dL/dH (n,d), the
// plain centre term's dL/dC into dCplain (K,d) and the other terms' into dCextra (K,d).
double centreTerm(const Resolved& r, const Mat& H, const Mat& C, const std::vector<int>& y, Mat& dH,
                  Mat& dCplain, Mat& dCextra, LossWorkspace& ws) {
  const Eigen::Index n = H.rows(), K = C.rows(), d = H.cols();
  dH.setZero(n, d);
  dCplain.setZero(K, d);
  dCextra.setZero(K, d);
  double loss = 0;
  if (r.id == LossId::Center || r.id == LossId::CenterInvariant) {
    for (Eigen::Index i = 0; i < n; ++i) {
      const int yi = y[size_t(i)];
      const auto diff = H.row(i) - C.row(yi);
      loss += 0.5 * diff.squaredNorm();
      dH.row(i) = diff / double(n);
      dCplain.row(yi) -= diff / double(n);
    }
    loss /= double(n);
  }
  if (r.id == LossId::CenterInvariant && r.gamma > 0) {
    // e_i = |c_{y_i}|^2 - (1/K) sum_j |c_j|^2; term gamma/(4n) sum_i e_i^2;
    // d/dc_k = gamma/n c_k (sum_{i: y_i = k} e_i - (1/K) sum_i e_i).
    const double mean_sq = C.rowwise().squaredNorm().mean();
    ws.rw.setZero(K);  // per-class sums of e_i
    double esum = 0, ci = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
      const int yi = y[size_t(i)];
      const double e = C.row(yi).squaredNorm() - mean_sq;
      ci += 0.25 * e * e;
      ws.rw(yi) += e;
      esum += e;
    }
    loss += r.gamma * ci / double(n);
    for (Eigen::Index k = 0; k < K; ++k)
      dCextra.row(k) = r.gamma / double(n) * (ws.rw(k) - esum / double(K)) * C.row(k);
  }
  if (r.id == LossId::Range) {
    // Intra: per class, harmonic mean of the k largest squared intra-class distances, k / sum 1/D_l.
    groupByClass(y, K, ws);
    struct Top {
      double D;
      int a, b;
    };
    std::array<Top, 100> top;  // k <= 100 (catalogue range)
    for (Eigen::Index j = 0; j < K; ++j) {
      const int lo = ws.cnt[size_t(j)], hi = ws.cnt[size_t(j) + 1];
      int m = 0;  // entries in `top`, sorted descending by D
      for (int u = lo; u < hi; ++u)
        for (int v = u + 1; v < hi; ++v) {
          const int a = ws.idx[size_t(u)], b = ws.idx[size_t(v)];
          const double D = (H.row(a) - H.row(b)).squaredNorm();
          if (m == r.k && D <= top[size_t(m - 1)].D) continue;
          int pos = m < r.k ? m++ : m - 1;
          while (pos > 0 && top[size_t(pos - 1)].D < D) {
            top[size_t(pos)] = top[size_t(pos - 1)];
            --pos;
          }
          top[size_t(pos)] = {D, a, b};
        }
      if (m == 0) continue;
      double inv = 0;
      for (int l = 0; l < m; ++l) inv += 1 / std::max(top[size_t(l)].D, kEps);
      loss += r.intra_w * double(m) / inv;
      // d/dD_l (m / sum 1/D) = m / (sum 1/D)^2 / D_l^2 (zero where D was floored)
      for (int l = 0; l < m; ++l) {
        const Top& t = top[size_t(l)];
        if (t.D < kEps) continue;
        const double g = r.intra_w * double(m) / (inv * inv) / (t.D * t.D);
        const auto diff = H.row(t.a) - H.row(t.b);
        dH.row(t.a) += 2 * g * diff;
        dH.row(t.b) -= 2 * g * diff;
      }
    }
    // Inter: max(0, margin - shortest squared distance between centres).
    Eigen::Index bj = -1, bl = -1;
    double best = std::numeric_limits<double>::infinity();
    for (Eigen::Index j = 0; j < K; ++j)
      for (Eigen::Index l = j + 1; l < K; ++l) {
        const double D = (C.row(j) - C.row(l)).squaredNorm();
        if (D < best) {
          best = D;
          bj = j;
          bl = l;
        }
      }
    if (bj >= 0 && r.margin - best > 0) {
      loss += r.inter_w * (r.margin - best);
      const auto diff = C.row(bj) - C.row(bl);
      dCextra.row(bj) -= 2 * r.inter_w * diff;
      dCextra.row(bl) += 2 * r.inter_w * diff;
    }
  }
  return loss;
}

}  // namespace

double lossForwardBackward(const LossSpec& spec, const LossParams& p, LossState& state, const Mat& H,
                           const Mat* W, const std::vector<int>& y, Mat& dH, Mat* dW, LossWorkspace& ws,
                           LossAux* aux) {
  const Eigen::Index n = H.rows(), d = H.cols();
  assert(Eigen::Index(y.size()) == n);
  const Resolved r = resolve(spec, p, state);
  if (aux) aux->dscale = 0;
  dH.resize(n, d);
  if (!W) dW = nullptr;
  if (dW) dW->resize(W->rows(), d);
  const bool joint = aux && aux->joint;

  switch (spec.family) {
    case LossFamily::Softmax:
      assert(W);
      return linearForwardBackward(r, H, *W, y, dH, dW, ws, aux);
    case LossFamily::NormalisedSoftmax:
    case LossFamily::AngularMargin:
      assert(W);
      return cosineForwardBackward(r, state, H, *W, y, dH, dW, ws, aux);
    case LossFamily::Metric: {
      normaliseRowsForward(H, ws.xh, ws.hn);
      const double loss = metricTerm(r, ws.xh, y, ws.dxh, ws);
      normaliseRowsBackward(ws.xh, ws.hn, ws.dxh, nullptr, dH);
      if (dW) dW->setZero();
      return loss;
    }
    case LossFamily::Centre:
      break;
  }

  // Centre family: the term alone (eval-loss: W holds the centres), or softmax on W plus lambda times the
  // term (joint training, Wen et al. 2016 eq. 5).
  double loss = 0;
  Resolved sm;  // plain softmax for the joint case
  sm.id = LossId::Softmax;
  if (joint) {
    if (!W) throw std::logic_error("lossForwardBackward: joint training needs class weights W");
    loss = linearForwardBackward(sm, H, *W, y, dH, dW, ws, nullptr);
  }
  const double lam = joint ? r.joint_lambda : 1.0;
  if (spec.id == LossId::Marginal) {
    normaliseRowsForward(H, ws.xh, ws.hn);
    const double term = metricTerm(r, ws.xh, y, ws.dxh, ws);
    normaliseRowsBackward(ws.xh, ws.hn, ws.dxh, nullptr, ws.dwh);
    if (joint) {
      dH += lam * ws.dwh;
      if (aux) aux->dcentres.setZero(W->rows(), d);
    } else {
      dH = ws.dwh;
      if (dW) dW->setZero();
    }
    return loss + lam * term;
  }
  const Mat* C = joint ? aux->centres : W;
  if (!C)
    throw std::logic_error("lossForwardBackward: centre losses need centres (W, or aux.centres when joint)");
  const double term = centreTerm(r, H, *C, y, ws.dxh, ws.dwh, ws.cen, ws);
  if (joint) {
    dH += lam * ws.dxh;
    aux->dcentres = lam * ws.cen;
  } else {
    dH = ws.dxh;
    if (dW) *dW = ws.dwh + ws.cen;
  }
  return loss + lam * term;
}

void updateCentres(const LossSpec& spec, const LossParams& p, const Mat& H, const std::vector<int>& y,
                   const LossAux& aux, Mat& centres) {
  if (spec.family != LossFamily::Centre || spec.id == LossId::Marginal) return;
  const double alpha = paramValue(spec, p, "alpha");
  const Eigen::Index K = centres.rows();
  // Wen et al. 2016, eq. (4) and Alg. 1: delta c_j = sum_{i: y_i = j} (c_j - x_i) / (1 + n_j), i.e.
  // c_j <- (1 - alpha n_j / (1 + n_j)) c_j + alpha / (1 + n_j) sum_{i: y_i = j} x_i.
  std::vector<int> count(size_t(K), 0);
  for (int c : y) count[size_t(c)]++;
  for (Eigen::Index j = 0; j < K; ++j)
    centres.row(j) *= 1 - alpha * count[size_t(j)] / (1.0 + count[size_t(j)]);
  for (size_t i = 0; i < y.size(); ++i)
    centres.row(y[i]) += alpha / (1.0 + count[size_t(y[i])]) * H.row(Eigen::Index(i));
  if (aux.dcentres.rows() == K && aux.dcentres.cols() == centres.cols()) centres -= alpha * aux.dcentres;
}

namespace {

double testLogitOf(const LossSpec& spec, const Resolved& r, int j, double cos_t, double hnorm, double wnorm) {
  switch (spec.id) {
    case LossId::Softmax: {
      const double b = (r.bias && j >= 0 && size_t(j) < r.bias->size()) ? (*r.bias)[size_t(j)] : 0.0;
      return hnorm * wnorm * cos_t + b;
    }
    case LossId::WeightedSoftmax:
    case LossId::Focal:
    case LossId::LSoftmax:
      return hnorm * wnorm * cos_t;
    case LossId::ModifiedSoftmax:
    case LossId::ASoftmax:
      return hnorm * cos_t;
    case LossId::L2Softmax:
      return r.s * wnorm * cos_t;
    case LossId::NormFace:
    case LossId::CoCo:
    case LossId::AmSoftmax:
    case LossId::ArcFace:
    case LossId::Combined:
    case LossId::EnhancedAm:
    case LossId::AdaCos:
      return r.s * cos_t;
    default:
      return cos_t;
  }
}

// Softmax, centre and metric losses have no margin: their training rule is the test rule.
bool hasCosineRule(const LossSpec& spec) {
  return !(spec.family == LossFamily::Softmax || spec.family == LossFamily::Centre ||
           spec.family == LossFamily::Metric);
}

double targetLogitOf(const LossSpec& spec, const Resolved& r, int j, double cos_t, double hnorm,
                     double wnorm) {
  if (!hasCosineRule(spec)) return testLogitOf(spec, r, j, cos_t, hnorm, wnorm);
  Dz dz;
  return cosLogit(r, true, cos_t, hnorm, wnorm, dz);
}

double otherLogitOf(const LossSpec& spec, const Resolved& r, int j, double cos_t, double hnorm,
                    double wnorm) {
  if (!hasCosineRule(spec)) return testLogitOf(spec, r, j, cos_t, hnorm, wnorm);
  Dz dz;
  return cosLogit(r, false, cos_t, hnorm, wnorm, dz);
}

}  // namespace

double testLogit(const LossSpec& spec, const LossParams& p, const LossState& st, int j, double cos_t,
                 double hnorm, double wnorm) {
  return testLogitOf(spec, resolve(spec, p, st), j, cos_t, hnorm, wnorm);
}

double targetLogit(const LossSpec& spec, const LossParams& p, const LossState& st, int j, double cos_t,
                   double hnorm, double wnorm) {
  return targetLogitOf(spec, resolve(spec, p, st), j, cos_t, hnorm, wnorm);
}

double otherLogit(const LossSpec& spec, const LossParams& p, const LossState& st, int j, double cos_t,
                  double hnorm, double wnorm) {
  return otherLogitOf(spec, resolve(spec, p, st), j, cos_t, hnorm, wnorm);
}

LossRule::LossRule(const LossSpec& spec, const LossParams& p, const LossState& st)
    : spec_(&spec), r_(resolve(spec, p, st)) {
  if (r_.bias) bias_ = *r_.bias;
  r_.bias = r_.cw = nullptr;  // they point into p; the rule keeps its own copy of the bias
}

// The per-call copy re-points the bias at this rule's own vector, so copies of a rule stay valid.
double LossRule::test(int j, double cos_t, double hnorm, double wnorm) const {
  Resolved r = r_;
  if (!bias_.empty()) r.bias = &bias_;
  return testLogitOf(*spec_, r, j, cos_t, hnorm, wnorm);
}
double LossRule::target(int j, double cos_t, double hnorm, double wnorm) const {
  Resolved r = r_;
  if (!bias_.empty()) r.bias = &bias_;
  return targetLogitOf(*spec_, r, j, cos_t, hnorm, wnorm);
}
double LossRule::other(int j, double cos_t, double hnorm, double wnorm) const {
  Resolved r = r_;
  if (!bias_.empty()) r.bias = &bias_;
  return otherLogitOf(*spec_, r, j, cos_t, hnorm, wnorm);
}

double targetCurve(const LossSpec& spec, const LossParams& p, const LossState& st, double theta, double hnorm,
                   double wnorm) {
  return targetLogit(spec, p, st, 0, std::cos(theta), hnorm, wnorm);
}

}  // namespace ms
