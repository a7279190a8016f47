// The shared forward/backward of every cosine-logit loss (normalised softmax and angular margins): the logit
// of (sample i, class j) is a scalar function z(cos t_ij, |H_i|, |W_j|) that differs between the true class
// (rule.target) and the others (rule.other_form, the whole matrix at once); its three partials carry the
// cross-entropy gradient back to the unit vectors and the norms, and the normalisation backward
// (d x/|x| = (I - x^ x^T)/|x|) carries it to H and W. The rules themselves are in loss_cosine_rules.cpp and
// loss_cosine_modern.cpp; what is special to one loss is a hook in its definition (PathHooks), called here
// where it applies: CoCo's batch centroids, CurricularFace's hard negatives, MagFace's norm regulariser.
//
// Shapes: H (n,d), W (K k,d) with k = rows_per_class (1 except sub-center ArcFace), Ct (K,n) cosines one
// column per sample, Zt (K,n) logits, G (K,n) = dL/dZ.
#include <cassert>
#include <cmath>
#include <limits>

#include "sim/loss_internal.h"

namespace ms::detail {
namespace {

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
  const Eigen::Index n = H.rows(), K = W.rows() / k;
  normaliseRowsForward(H, ws.xh, ws.hn);  // xh (n,d), hn (n)
  if (k > 1) {
    normaliseRowsForward(W, ws.wfull, ws.wnfull);      // wfull (K k,d), wnfull (K k)
    ws.full.noalias() = ws.wfull * ws.xh.transpose();  // (K k,n)
    subcentreCosines(k, ws.full, ws.c, ws.arg);
    ws.wn.setOnes(K);  // the rules of sub-center ArcFace do not read |w|
  } else {
    const Mat* rows = spec.hooks.batch_weights ? spec.hooks.batch_weights(r, ws.xh, W, y, ws) : &W;
    normaliseRowsForward(*rows, ws.wh, ws.wn);   // wh (K,d), wn (K)
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
  // Non-target logits that depend on the sample's target (CurricularFace): `over` keeps their d/dcos.
  const bool others = spec.hooks.other_logits != nullptr;
  assert(!(others && clamped) && "ws.over holds either the clamp mask or the hook's partials");
  if (others) {
    ws.over.setConstant(K, n, std::numeric_limits<double>::quiet_NaN());
    spec.hooks.other_logits(r, ws.c, y, ws.z, ws.over);
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
  if (others)  // (their d/dnorm is the form's: such hooks change only the cosine part)
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
  if (spec.hooks.norm_term) loss += spec.hooks.norm_term(r, ws.hn, ws.dhn);

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

  if (spec.hooks.batch_weights) {
    // dL/drows (K,d) through the rows' normalisation, then the hook takes it to the features and W.
    normaliseRowsBackward(ws.wh, ws.wn, ws.dwh, nullptr, ws.dwfull);
    spec.hooks.batch_weights_backward(r, ws.dwfull, y, ws, ws.dxh, dW);
  } else if (dW) {
    normaliseRowsBackward(ws.wh, ws.wn, ws.dwh, &ws.dwn, *dW);
  }
  normaliseRowsBackward(ws.xh, ws.hn, ws.dxh, &ws.dhn, dH);
  return loss;
}

}  // namespace ms::detail
