// The shared forward/backward of every cosine-logit loss (normalised softmax and angular margins): the logit
// of (sample i, class j) is a scalar function z(cos t_ij, |H_i|, |W_j|) that differs between the true class
// (rule.target) and the others (rule.other_form, the whole matrix at once); its three partials carry the
// cross-entropy gradient back to the unit vectors and the norms, and the normalisation backward
// (d x/|x| = (I - x^ x^T)/|x|) carries it to H and W. The rules themselves are in loss_cosine_rules.cpp and
// loss_cosine_modern.cpp; what is special to one loss here is switched on by a flag its `resolve` sets.
//
// Shapes: H (n,d), W (K k,d) with k = rows_per_class (1 except sub-center ArcFace), Ct (K,n) cosines one
// column per sample, Zt (K,n) logits, G (K,n) = dL/dZ.
#include <cmath>

#include "sim/loss_internal.h"

namespace ms::detail {
namespace {

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

// Sub-center ArcFace (Deng et al. 2020, eq. 2): cos t_ij = max over class j's k sub-centres. Full (K k,n)
// cosines -> Ct (K,n) and the winning row of each entry in ws.arg (K,n).
void subcentreCosines(int k, const Mat& full, Mat& Ct, std::vector<int>& arg) {
  const Eigen::Index K = full.rows() / k, n = full.cols();
  Ct.resize(K, n);
  arg.resize(size_t(K * n));
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < K; ++j) {
      Eigen::Index best = j * k;
      for (Eigen::Index q = j * k + 1; q < (j + 1) * k; ++q)
        if (full(q, i) > full(best, i)) best = q;
      Ct(j, i) = full(best, i);
      arg[size_t(j + i * K)] = int(best);
    }
}

}  // namespace

double cosineForwardBackward(const LossSpec& spec, ResolvedParams r, LossState& st, const Mat& H,
                             const Mat& W, const std::vector<int>& y, Mat& dH, Mat* dW, LossWorkspace& ws,
                             LossAux* aux) {
  const int k = r.rows_per_class;
  const Eigen::Index n = H.rows(), K = W.rows() / k, d = H.cols();
  normaliseRowsForward(H, ws.xh, ws.hn);  // xh (n,d), hn (n)
  if (k > 1) {
    normaliseRowsForward(W, ws.wfull, ws.wnfull);      // wfull (K k,d), wnfull (K k)
    ws.full.noalias() = ws.wfull * ws.xh.transpose();  // (K k,n)
    subcentreCosines(k, ws.full, ws.c, ws.arg);
    ws.wn.setOnes(K);  // the rules of sub-center ArcFace do not read |w|
  } else {
    const Mat* Wsrc = &W;
    if (r.id == LossId::CoCo) {
      cocoCentroids(r.s, ws.xh, W, y, ws);
      Wsrc = &ws.cen;
    }
    normaliseRowsForward(*Wsrc, ws.wh, ws.wn);   // wh (K,d), wn (K)
    ws.c.noalias() = ws.wh * ws.xh.transpose();  // Ct (K,n) cosines
  }
  // AdaFace clamps every cosine; the clamped entries pass no gradient (over = 0 there, 1 elsewhere).
  const bool clamped = r.cos_clamp > 0;
  if (clamped) {
    ws.over.resize(K, n);
    const double lo = -1 + r.cos_clamp, hi = 1 - r.cos_clamp;
    ws.over = ((ws.c.array() >= lo) && (ws.c.array() <= hi)).cast<double>();
    ws.c = ws.c.cwiseMax(lo).cwiseMin(hi);
  }
  if (spec.prepare) spec.prepare(r, st, ws.c, ws.hn, y, ws);

  // Logits Z (K,n): the non-target entries share one form, a [|W_j|] [|H_i|] cos + off, computed for the
  // whole matrix at once; the target entries are then overwritten with the margin logit, whose partials
  // (d/dcos, d/d|H_i|, d/d|W_y|) are kept per sample in b (n,3).
  const OtherForm f = spec.rule.other_form(r);
  ws.z = ws.c;
  if (f.wn) ws.z.array().colwise() *= ws.wn.array();
  if (f.hn) ws.z.array().rowwise() *= ws.hn.transpose().array();
  ws.z.array() = f.a * ws.z.array() + f.off;
  ws.b.resize(n, 3);
  for (Eigen::Index i = 0; i < n; ++i) {
    const int yi = y[size_t(i)];
    Dz dz;
    ws.z(yi, i) = spec.rule.target(r, ws.c(yi, i), ws.hn(i), ws.wn(yi), dz);
    ws.b(i, 0) = dz.c;
    ws.b(i, 1) = dz.hn;
    ws.b(i, 2) = dz.wn;
  }
  // CurricularFace (Huang et al. 2020, eq. 7): a negative with cos t_j > cos(t_y + m) (computed as the
  // official code does, before the fallback) gets s cos t_j (t + cos t_j); `over` keeps its d/dcos = s (t + 2
  // cos).
  if (r.hard_negatives) {
    ws.over.setConstant(K, n, std::numeric_limits<double>::quiet_NaN());
    const double cm = std::cos(r.m), sm = std::sin(r.m);
    for (Eigen::Index i = 0; i < n; ++i) {
      const int yi = y[size_t(i)];
      const double ct = ws.c(yi, i);
      const double thr = ct * cm - std::sqrt(std::max(0.0, 1 - ct * ct)) * sm;
      for (Eigen::Index j = 0; j < K; ++j) {
        const double c = ws.c(j, i);
        if (j == yi || !(c > thr)) continue;
        ws.z(j, i) = r.s * c * (r.t + c);
        ws.over(j, i) = r.s * (r.t + 2 * c);
      }
    }
  }
  double loss = crossEntropy(r, ws.z, y, ws.g);  // g = dL/dZ (K,n)
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
  if (r.hard_negatives)  // (the form has no norms, so only d/dcos changes)
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index j = 0; j < K; ++j)
        if (!std::isnan(ws.over(j, i))) ws.a(j, i) = ws.g(j, i) * ws.over(j, i);
  // ... then swap the target entries' share for the margin logit's.
  for (Eigen::Index i = 0; i < n; ++i) {
    const int yi = y[size_t(i)];
    const double g = ws.g(yi, i), c = ws.c(yi, i);
    const double ws_j = f.wn ? ws.wn(yi) : 1.0, hs_i = f.hn ? ws.hn(i) : 1.0;
    ws.a(yi, i) = g * ws.b(i, 0);
    ws.dhn(i) += g * (ws.b(i, 1) - (f.hn ? f.a * ws_j * c : 0.0));
    ws.dwn(yi) += g * (ws.b(i, 2) - (f.wn ? f.a * hs_i * c : 0.0));
  }
  if (clamped) ws.a.array() *= ws.over.array();
  // MagFace (Meng et al. 2021, eq. 5): + lambda_g mean g(a), g(a) = 1/a + a/u_a^2, a = |h| clamped.
  if (r.norm_regulariser) {
    double reg = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
      const double a = std::min(r.u_a, std::max(r.l_a, ws.hn(i)));
      reg += 1 / a + a / (r.u_a * r.u_a);
      if (ws.hn(i) >= r.l_a && ws.hn(i) <= r.u_a)
        ws.dhn(i) += r.lambda_g / double(n) * (-1 / (a * a) + 1 / (r.u_a * r.u_a));
    }
    loss += r.lambda_g * reg / double(n);
  }

  if (k > 1) {
    // Each cosine came from one sub-centre row: scatter dL/dcos (K,n) to the winning rows (K k,n).
    ws.over.setZero(K * k, n);
    for (Eigen::Index i = 0; i < n; ++i)
      for (Eigen::Index j = 0; j < K; ++j) ws.over(ws.arg[size_t(j + i * K)], i) += ws.a(j, i);
    ws.dxh.noalias() = ws.over.transpose() * ws.wfull;  // (n,d)
    if (dW) {
      ws.dwfull.noalias() = ws.over * ws.xh;  // (K k,d)
      normaliseRowsBackward(ws.wfull, ws.wnfull, ws.dwfull, nullptr, *dW);
    }
    normaliseRowsBackward(ws.xh, ws.hn, ws.dxh, &ws.dhn, dH);
    return loss;
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

}  // namespace ms::detail
