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

}  // namespace

// contrastive (Hadsell et al. 2006), marginal (Deng et al. 2017), triplet (Schroff et al. 2015),
// tse, tpe (Sankaranarayanan et al. 2016), all on unit embeddings Xh (n,d). Writes dL/dXh into dXh.
double pairTerm(const ResolvedParams& r, const Mat& Xh, const std::vector<int>& y, Mat& dXh,
                LossWorkspace& ws) {
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
    case LossId::Softmax:  // not pair losses: pairTerm is never called for them
    case LossId::WeightedSoftmax:
    case LossId::Focal:
    case LossId::ModifiedSoftmax:
    case LossId::LSoftmax:
    case LossId::ASoftmax:
    case LossId::L2Softmax:
    case LossId::NormFace:
    case LossId::CoCo:
    case LossId::AmSoftmax:
    case LossId::ArcFace:
    case LossId::Combined:
    case LossId::EnhancedAm:
    case LossId::AdaCos:
    case LossId::CurricularFace:
    case LossId::SubcenterArcFace:
    case LossId::MagFace:
    case LossId::AdaFace:
    case LossId::Center:
    case LossId::CenterInvariant:
    case LossId::Range:
      assert(false && "pairTerm: not a pair loss");
      break;
  }
  pairBackward(Xh, E, sq, dXh);
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

  s.id = LossId::Contrastive;
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

  s.id = LossId::Triplet;
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

  s.id = LossId::Tse;
  s.name = "tse";
  s.contrast = "triplet";
  s.aliases = {"triplet-similarity"};
  s.params = {real("alpha", 0.2, 0, 4, "margin on the similarity difference")};
  s.formula = "mean over all triplets of max(0, alpha + <a,n> - <a,p>), unit embeddings";
  s.paper =
      "Sankaranarayanan et al. 2016, Triplet similarity embedding for face verification, arXiv, eq. (1)";
  s.resolve = [](const ParamReader& v, const LossState&, ResolvedParams& r) { r.alpha = v("alpha"); };
  out.push_back(s);

  s.id = LossId::Tpe;
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
