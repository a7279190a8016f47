// Centre losses: center (Wen et al. 2016), center-invariant (Wu et al. 2017), range (Zhang et al. 2017) and
// marginal (Deng et al. 2017), which is trained the same way (softmax on W plus lambda times its term). In
// eval-loss the term stands alone and W holds the centres; in training (LossAux.joint) the centres are the
// trainer's, moved by updateCentres (Wen et al. 2016, Alg. 1).
//
// Shapes: H (n,d) raw features, C (K,d) centres, W (K,d) softmax weights in joint training.
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "sim/loss_internal.h"

namespace ms::detail {
namespace {

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

struct RangeParams {
  double margin, intra_w, inter_w;
};

// Each term works on raw features H (n,d) and centres C (K,d), writes dL/dH (n,d), the plain centre term's
// dL/dC into dCplain (K,d) and the other terms' into dCextra (K,d) (all overwritten), and returns its value.

// center (Wen et al. 2016, eq. 2): 1/2 |H_i - c_y|^2, mean over the batch.
double centerTerm(const ResolvedParams&, const Mat& H, const Mat& C, const std::vector<int>& y, Mat& dH,
                  Mat& dCplain, Mat& dCextra, LossWorkspace&) {
  const Eigen::Index n = H.rows(), K = C.rows(), d = H.cols();
  dH.setZero(n, d);
  dCplain.setZero(K, d);
  dCextra.setZero(K, d);
  double loss = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    const int yi = y[size_t(i)];
    const auto diff = H.row(i) - C.row(yi);
    loss += 0.5 * diff.squaredNorm();
    dH.row(i) = diff / double(n);
    dCplain.row(yi) -= diff / double(n);
  }
  return loss / double(n);
}

// center-invariant (Wu et al. 2017, eq. 4, with the paper's square): the centre term plus gamma/(4n) sum_i
// e_i^2, e_i = |c_{y_i}|^2 - (1/K) sum_j |c_j|^2; d/dc_k = gamma/n c_k (sum_{i: y_i = k} e_i - (1/K) sum_i
// e_i).
double centerInvariantTerm(const ResolvedParams& r, const Mat& H, const Mat& C, const std::vector<int>& y,
                           Mat& dH, Mat& dCplain, Mat& dCextra, LossWorkspace& ws) {
  double loss = centerTerm(r, H, C, y, dH, dCplain, dCextra, ws);
  if (!(r.gamma > 0)) return loss;
  const Eigen::Index n = H.rows(), K = C.rows();
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
  return loss;
}

// range (Zhang et al. 2017, eqs. 2-4): per class, the harmonic mean of the k largest squared intra-class
// distances, plus max(0, margin - shortest squared distance between centres).
double rangeTerm(const ResolvedParams& r, const Mat& H, const Mat& C, const std::vector<int>& y, Mat& dH,
                 Mat& dCplain, Mat& dCextra, LossWorkspace& ws) {
  const auto q = ownParams<RangeParams>(r);
  const Eigen::Index n = H.rows(), K = C.rows(), d = H.cols();
  dH.setZero(n, d);
  dCplain.setZero(K, d);
  dCextra.setZero(K, d);
  double loss = 0;
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
    loss += q.intra_w * double(m) / inv;
    // d/dD_l (m / sum 1/D) = m / (sum 1/D)^2 / D_l^2 (zero where D was floored)
    for (int l = 0; l < m; ++l) {
      const Top& t = top[size_t(l)];
      if (t.D < kEps) continue;
      const double g = q.intra_w * double(m) / (inv * inv) / (t.D * t.D);
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
  if (bj >= 0 && q.margin - best > 0) {
    loss += q.inter_w * (q.margin - best);
    const auto diff = C.row(bj) - C.row(bl);
    dCextra.row(bj) -= 2 * q.inter_w * diff;
    dCextra.row(bl) += 2 * q.inter_w * diff;
  }
  return loss;
}

std::vector<ParamSpec> centreParams() {
  return {real("lambda", 0.01, 0, 100, "training: weight of the term added to softmax"),
          real("alpha", 0.5, 0, 1, "training: centre update rate (Wen et al. 2016, Alg. 1)")};
}

}  // namespace

double centreForwardBackward(const LossSpec& spec, const ResolvedParams& r, const Mat& H, const Mat* W,
                             const std::vector<int>& y, Mat& dH, Mat* dW, LossWorkspace& ws, LossAux* aux) {
  const Eigen::Index d = H.cols();
  const bool joint = aux && aux->joint;
  // The term alone (eval-loss: W holds the centres), or softmax on W plus lambda times the term (joint
  // training, Wen et al. 2016 eq. 5).
  double loss = 0;
  const ResolvedParams sm;  // plain softmax for the joint case
  if (joint) {
    if (!W) throw std::logic_error("lossForwardBackward: joint training needs class weights W");
    loss = linearForwardBackward(sm, H, *W, y, dH, dW, ws, nullptr);
  }
  const double lam = joint ? r.joint_lambda : 1.0;
  if (!spec.traits.uses_centres) {  // marginal: a pair term on unit features
    normaliseRowsForward(H, ws.xh, ws.hn);
    const double term = pairTerm(spec, r, ws.xh, y, ws.dxh, ws);
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
  const double term = spec.hooks.centre_term(r, H, *C, y, ws.dxh, ws.dwh, ws.cen, ws);
  if (joint) {
    dH += lam * ws.dxh;
    aux->dcentres = lam * ws.cen;
  } else {
    dH = ws.dxh;
    if (dW) *dW = ws.dwh + ws.cen;
  }
  return loss + lam * term;
}

void appendCentreLosses(std::vector<LossSpec>& out) {
  LossSpec s;
  s.family = LossFamily::Centre;
  s.path = LossPath::Centre;
  s.traits.uses_centres = s.traits.joint_softmax = true;
  s.rule.test = testPlainCos;
  s.rule.no_closed_form = "no margin: classified by the jointly trained softmax";
  auto resolveCentre = [](const ParamReader& v, const LossState&, ResolvedParams& r) {
    r.joint_lambda = v("lambda");
    r.alpha = v("alpha");
  };

  s.hooks.centre_term = centerTerm;
  s.name = "center";
  s.contrast = "softmax";
  s.aliases = {"center-loss", "centre"};
  s.params = centreParams();
  s.formula = "1/2 |H_i - c_y|^2 (mean over the batch); training: softmax + lambda * it, Wen centre update";
  s.paper = "Wen et al. 2016, A discriminative feature learning approach, ECCV, eqs. (2), (4), (5)";
  s.resolve = resolveCentre;
  out.push_back(s);

  s.hooks.centre_term = centerInvariantTerm;
  s.name = "center-invariant";
  s.contrast = "center";
  s.aliases = {"centre-invariant"};
  s.params.push_back(real("gamma", 1, 0, 100, "weight of the invariant term relative to the centre term"));
  s.formula = "1/2 |H_i - c_y|^2 + gamma 1/4 (|c_y|^2 - 1/K sum_j |c_j|^2)^2, mean over the batch";
  s.paper =
      "Wu et al. 2017, Deep face recognition with center invariant loss, ACM MM workshops, eq. (4) (the "
      "notes drop the square)";
  s.notes = "center-invariant: the paper's square, weighted by gamma.";
  s.resolve = [](const ParamReader& v, const LossState&, ResolvedParams& r) {
    r.joint_lambda = v("lambda");
    r.alpha = v("alpha");
    r.gamma = v("gamma");
  };
  out.push_back(s);

  s.hooks.centre_term = rangeTerm;
  s.name = "range";
  s.contrast = "center";
  s.aliases = {"range-loss"};
  s.params = centreParams();
  s.params.push_back(integer("k", 2, 1, 100, "number of largest intra-class distances in the harmonic mean"));
  s.params.push_back(real("margin", 1, 0, 1e6, "inter-class margin on the shortest squared centre distance"));
  s.params.push_back(real("intra_weight", 1, 0, 100, "weight of the intra-class term"));
  s.params.push_back(real("inter_weight", 1, 0, 100, "weight of the inter-class term"));
  s.formula =
      "intra_weight sum_classes k / sum_{j<=k} 1/D_j + inter_weight max(0, margin - min_{j<l} |c_j - "
      "c_l|^2), "
      "D_j the j-th largest squared intra-class distance";
  s.paper =
      "Zhang et al. 2017, Range loss for deep face recognition with long-tailed data, ICCV, eqs. (2)-(4)";
  s.notes = "range: squared distances, summed over classes.";
  s.resolve = [](const ParamReader& v, const LossState&, ResolvedParams& r) {
    r.joint_lambda = v("lambda");
    r.alpha = v("alpha");
    r.k = int(v("k"));
    setOwnParams(r, RangeParams{v("margin"), v("intra_weight"), v("inter_weight")});
  };
  out.push_back(s);

  s.hooks = {};
  s.hooks.pair_term = marginalTerm;
  s.name = "marginal";
  s.contrast = "center";
  s.aliases = {"marginal-loss"};
  s.params = {real("lambda", 0.01, 0, 100, "training: weight of the term added to softmax"),
              real("theta", 1.2, 0, 4, "threshold on the squared distance of normalised features"),
              real("xi", 0.3, 0, 4, "error margin")};
  s.formula =
      "mean over pairs i<j of max(0, xi - y_ij (theta - |H_i/|H_i| - H_j/|H_j||^2)), y_ij = +1 same, -1 not";
  s.paper = "Deng et al. 2017, Marginal loss for deep face recognition, CVPR workshops, eq. (1)";
  s.notes = "marginal: the mean over pairs.";
  s.traits.has_weights = false;
  s.traits.uses_centres = false;
  s.resolve = [](const ParamReader& v, const LossState&, ResolvedParams& r) {
    r.joint_lambda = v("lambda");
    setOwnParams(r, MarginalParams{v("theta"), v("xi")});
  };
  out.push_back(s);
}

}  // namespace ms::detail

namespace ms {

void updateCentres(const LossSpec& spec, const LossParams& p, const Mat& H, const std::vector<int>& y,
                   const LossAux& aux, Mat& centres) {
  if (!spec.traits.uses_centres) return;
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

}  // namespace ms
