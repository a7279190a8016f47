// Pair and triplet losses: contrastive, triplet (all, semi-hard, batch-hard mining), TSE and TPE, and the
// marginal loss's pair term (its definition is with the centre losses, which it is trained like). Each is a
// sum of per-pair coefficients E (n,n) on squared distances or dot products of unit embeddings, and one
// backward (pairBackward) turns the coefficients into dL/dXh.
//
// Shapes: Xh (n,d) unit embeddings, D (n,n) squared distances or dot products, E (n,n) dL/dD or dL/dS.
#include <cassert>
#include <cmath>

#include "sim/loss_internal.h"

namespace ms::detail {
namespace {

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

// Each term below writes its per-pair coefficients E (n,n) into ws.g, using ws.pair (n,n) for the squared
// distances or dot products; pairTerm turns E into dL/dXh.

// Contrastive (Hadsell et al. 2006, eq. 4) on unit embeddings: mean over pairs i<j of 1/2 d^2 for the same
// label and 1/2 max(0, m - d)^2 for different labels.
double contrastiveTerm(const ResolvedParams& r, const Mat& Xh, const std::vector<int>& y, LossWorkspace& ws,
                       bool*) {
  const Eigen::Index n = Xh.rows();
  Mat &D = ws.pair, &E = ws.g;
  squaredDistances(Xh, D);
  const double pairs = double(n) * double(n - 1) / 2;
  if (pairs == 0) return 0;
  double loss = 0;
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = i + 1; j < n; ++j) {
      const double Dij = D(i, j);
      if (y[size_t(i)] == y[size_t(j)]) {
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
  return loss / pairs;
}

// Triplet (Schroff et al. 2015, eq. 1): max(0, D_ap - D_an + m) over all valid triplets, the semi-hard ones
// (D_ap < D_an < D_ap + m, FaceNet sec. 3.2) or batch-hard (Hermans et al. 2017), averaged over those used.
double tripletTerm(const ResolvedParams& r, const Mat& Xh, const std::vector<int>& y, LossWorkspace& ws,
                   bool*) {
  const Eigen::Index n = Xh.rows();
  Mat &D = ws.pair, &E = ws.g;
  squaredDistances(Xh, D);
  auto same = [&](Eigen::Index i, Eigen::Index j) { return y[size_t(i)] == y[size_t(j)]; };
  double loss = 0, count = 0;
  auto add = [&](Eigen::Index a, Eigen::Index p, Eigen::Index q) {
    count += 1;
    const double v = D(a, p) - D(a, q) + r.m;
    if (v > 0) {
      loss += v;
      E(a, p) += 1;
      E(a, q) -= 1;
    }
  };
  if (r.mining == 2) {  // batch-hard: hardest positive and negative per anchor
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
      if (p >= 0 && q >= 0) add(a, p, q);
    }
  } else {
    for (Eigen::Index a = 0; a < n; ++a)
      for (Eigen::Index p = 0; p < n; ++p) {
        if (p == a || !same(a, p)) continue;
        for (Eigen::Index q = 0; q < n; ++q) {
          if (same(a, q)) continue;
          if (r.mining == 1 && !(D(a, p) < D(a, q) && D(a, q) < D(a, p) + r.m)) continue;
          add(a, p, q);
        }
      }
  }
  if (count > 0) {
    loss /= count;
    E /= count;
  }
  return loss;
}

// TSE and TPE (Sankaranarayanan et al. 2016) on dot products S = Xh Xh^T, mean over all triplets of
// max(0, alpha + S_an - S_ap) (TSE) or softplus(S_an - S_ap) (TPE).
template <bool kProbabilistic>
double similarityTripletTerm(const ResolvedParams& r, const Mat& Xh, const std::vector<int>& y,
                             LossWorkspace& ws, bool* dot) {
  const Eigen::Index n = Xh.rows();
  Mat &S = ws.pair, &E = ws.g;
  *dot = true;
  S.noalias() = Xh * Xh.transpose();  // (n,n)
  double loss = 0, count = 0;
  for (Eigen::Index a = 0; a < n; ++a)
    for (Eigen::Index p = 0; p < n; ++p) {
      if (p == a || y[size_t(a)] != y[size_t(p)]) continue;
      for (Eigen::Index q = 0; q < n; ++q) {
        if (y[size_t(a)] == y[size_t(q)]) continue;
        count += 1;
        const double u = S(a, q) - S(a, p);
        if (!kProbabilistic) {
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
  return loss;
}

}  // namespace

// Marginal (Deng et al. 2017, eq. 1): mean over pairs i<j of max(0, xi - y_ij (theta - D_ij)).
double marginalTerm(const ResolvedParams& r, const Mat& Xh, const std::vector<int>& y, LossWorkspace& ws,
                    bool*) {
  const auto q = ownParams<MarginalParams>(r);
  const Eigen::Index n = Xh.rows();
  Mat &D = ws.pair, &E = ws.g;
  squaredDistances(Xh, D);
  const double pairs = double(n) * double(n - 1) / 2;
  if (pairs == 0) return 0;
  double loss = 0;
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = i + 1; j < n; ++j) {
      const double yij = y[size_t(i)] == y[size_t(j)] ? 1.0 : -1.0;
      const double v = q.xi - yij * (q.theta - D(i, j));
      if (v > 0) {
        loss += v;
        E(i, j) = yij / pairs;
      }
    }
  return loss / pairs;
}

double pairTerm(const LossSpec& spec, const ResolvedParams& r, const Mat& Xh, const std::vector<int>& y,
                Mat& dXh, LossWorkspace& ws) {
  assert(spec.hooks.pair_term);
  ws.g.setZero(Xh.rows(), Xh.rows());
  bool dot = false;
  const double loss = spec.hooks.pair_term(r, Xh, y, ws, &dot);
  pairBackward(Xh, ws.g, !dot, dXh);
  return loss;
}

double testPlainCos(const ResolvedParams&, int, double c, double, double) {
  return c;
}

void appendPairLosses(std::vector<LossSpec>& out) {
  LossSpec s;
  s.family = LossFamily::Metric;
  s.path = LossPath::Pair;
  s.traits.has_weights = false;
  s.rule.test = testPlainCos;  // the views classify by the nearest class-mean direction
  s.rule.no_closed_form =
      "no class weights: the pair loss has no decision rule of its own (nearest class mean)";

  s.hooks.pair_term = contrastiveTerm;
  s.name = "contrastive";
  s.contrast = "triplet";
  s.aliases = {"contrastive-loss"};
  s.params = {real("m", 1, 0, 2, "margin on the distance of different-label pairs")};
  s.formula = "on unit embeddings, mean over pairs i<j: same label 1/2 d^2, different 1/2 max(0, m - d)^2";
  s.paper =
      "Hadsell, Chopra & LeCun 2006, Dimensionality reduction by learning an invariant mapping, CVPR, eq. "
      "(4)";
  s.resolve = [](const ParamReader& v, const LossState&, ResolvedParams& r) { r.m = v("m"); };
  out.push_back(s);

  s.hooks.pair_term = tripletTerm;
  s.name = "triplet";
  s.contrast = "contrastive";
  s.aliases = {"triplet-loss"};
  s.params = {
      real("m", 0.2, 0, 4, "margin alpha"),
      choice("mining", 0, {"all", "semi-hard", "hard"},
             "all: every valid triplet; semi-hard: D_ap < D_an < D_ap + m; hard: batch-hard per anchor")};
  s.formula = "max(0, D_ap - D_an + m), D squared distance of unit embeddings";
  s.paper = "Schroff et al. 2015, FaceNet, CVPR, eq. (1); batch-hard: Hermans et al. 2017";
  s.notes = "triplet semi-hard: the mean over the triplets with D_ap < D_an < D_ap + m.";
  s.resolve = [](const ParamReader& v, const LossState&, ResolvedParams& r) {
    r.m = v("m");
    r.mining = int(v("mining"));
  };
  out.push_back(s);
  s.notes = "";

  s.hooks.pair_term = similarityTripletTerm<false>;
  s.name = "tse";
  s.contrast = "triplet";
  s.aliases = {"triplet-similarity"};
  s.params = {real("alpha", 0.2, 0, 4, "margin on the similarity difference")};
  s.formula = "mean over all triplets of max(0, alpha + <a,n> - <a,p>), unit embeddings";
  s.paper =
      "Sankaranarayanan et al. 2016, Triplet similarity embedding for face verification, arXiv, eq. (1)";
  s.resolve = [](const ParamReader& v, const LossState&, ResolvedParams& r) { r.alpha = v("alpha"); };
  out.push_back(s);

  s.hooks.pair_term = similarityTripletTerm<true>;
  s.name = "tpe";
  s.contrast = "triplet";
  s.aliases = {"triplet-probabilistic"};
  s.params = {};
  s.formula = "mean over all triplets of -log(e^<a,p> / (e^<a,p> + e^<a,n>)), unit embeddings";
  s.paper = "Sankaranarayanan et al. 2016, Triplet probabilistic embedding, BTAS, eq. (3)";
  s.resolve = [](const ParamReader&, const LossState&, ResolvedParams&) {};
  out.push_back(s);
}

}  // namespace ms::detail
