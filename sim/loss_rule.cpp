// The loss library's front door: parameters resolved through each loss's own `resolve`, the dispatch of
// lossForwardBackward to the four shared paths, and the decision rule (test/target/other logits) that the
// lemma, the metrics, the views and the Theory panel evaluate, read from each loss's MarginRule.
//
// Numerics: log-sum-exp in every softmax; cos clamped to [-1+1e-7, 1-1e-7] before acos (the gradient through
// a clamped cosine is zero, as for any clamp); sin t from the clamped cosine; norms floored at 1e-12 so that
// an all-zero embedding gives a zero unit vector and a finite loss and gradient.
#include <cassert>
#include <cmath>

#include "sim/loss_internal.h"

namespace ms {

namespace detail {

void normaliseRowsForward(const Mat& X, Mat& Xh, Vec& nrm) {
  const Eigen::Index n = X.rows();
  Xh.resize(n, X.cols());
  nrm.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    nrm(i) = X.row(i).norm();
    Xh.row(i) = X.row(i) / std::max(nrm(i), kEps);
  }
}

void normaliseRowsBackward(const Mat& Xh, const Vec& nrm, const Mat& dXh, const Vec* dnrm, Mat& dX) {
  const Eigen::Index n = Xh.rows();
  dX.resize(n, Xh.cols());
  for (Eigen::Index i = 0; i < n; ++i) {
    const double radial = dXh.row(i).dot(Xh.row(i));
    dX.row(i) = (dXh.row(i) - radial * Xh.row(i)) / std::max(nrm(i), kEps);
    if (dnrm) dX.row(i) += (*dnrm)(i)*Xh.row(i);
  }
}

}  // namespace detail

using namespace detail;

ResolvedParams resolveParams(const LossSpec& spec, const LossParams& p, const LossState& st) {
  ResolvedParams r;
  spec.resolve(ParamReader(spec, p), st, r);
  return r;
}

int weightRowsPerClass(const LossSpec& spec, const LossParams& p) {
  return spec.traits.subcentres.empty() ? 1 : int(paramValue(spec, p, spec.traits.subcentres));
}

double lossForwardBackward(const LossSpec& spec, const LossParams& p, LossState& state, const Mat& H,
                           const Mat* W, const std::vector<int>& y, Mat& dH, Mat* dW, LossWorkspace& ws,
                           LossAux* aux) {
  const Eigen::Index n = H.rows(), d = H.cols();
  assert(Eigen::Index(y.size()) == n);
  const ResolvedParams r = resolveParams(spec, p, state);
  if (aux) aux->dscale = 0;
  dH.resize(n, d);
  if (!W) dW = nullptr;
  if (dW) dW->resize(W->rows(), d);
  switch (spec.path) {
    case LossPath::Linear:
      assert(W);
      return linearForwardBackward(r, H, *W, y, dH, dW, ws, aux);
    case LossPath::Cosine:
      assert(W && W->rows() % r.rows_per_class == 0);
      return cosineForwardBackward(spec, r, state, H, *W, y, dH, dW, ws, aux);
    case LossPath::Pair: {
      normaliseRowsForward(H, ws.xh, ws.hn);
      const double loss = pairTerm(spec, r, ws.xh, y, ws.dxh, ws);
      normaliseRowsBackward(ws.xh, ws.hn, ws.dxh, nullptr, dH);
      if (dW) dW->setZero();
      return loss;
    }
    case LossPath::Centre:
      return centreForwardBackward(spec, r, H, W, y, dH, dW, ws, aux);
  }
  assert(false && "lossForwardBackward: unknown path");
  return 0;
}

double annealedLambda(const LossSpec& spec, const LossParams& p, int64_t iteration) {
  if (!spec.traits.anneals_lambda) return 0;
  const double base = paramValue(spec, p, "base"), gamma = paramValue(spec, p, "gamma");
  const double power = paramValue(spec, p, "power"), lmin = paramValue(spec, p, "lambda_min");
  return std::max(lmin, base * std::pow(1 + gamma * double(iteration), -power));
}

namespace {

// Without a target/other rule (linear, centre and pair losses) the training rule is the test rule.
double targetOf(const LossSpec& spec, const ResolvedParams& r, int j, double c, double hn, double wn) {
  if (!spec.rule.target) return spec.rule.test(r, j, c, hn, wn);
  Dz dz;
  return spec.rule.target(r, c, hn, wn, dz);
}

double otherOf(const LossSpec& spec, const ResolvedParams& r, int j, double c, double hn, double wn) {
  if (!spec.rule.other) return spec.rule.test(r, j, c, hn, wn);
  Dz dz;
  return spec.rule.other(r, c, hn, wn, dz);
}

}  // namespace

double testLogit(const LossSpec& spec, const LossParams& p, const LossState& st, int j, double cos_t,
                 double hnorm, double wnorm) {
  return spec.rule.test(resolveParams(spec, p, st), j, cos_t, hnorm, wnorm);
}

double targetLogit(const LossSpec& spec, const LossParams& p, const LossState& st, int j, double cos_t,
                   double hnorm, double wnorm) {
  return targetOf(spec, resolveParams(spec, p, st), j, cos_t, hnorm, wnorm);
}

double otherLogit(const LossSpec& spec, const LossParams& p, const LossState& st, int j, double cos_t,
                  double hnorm, double wnorm) {
  return otherOf(spec, resolveParams(spec, p, st), j, cos_t, hnorm, wnorm);
}

double closedFormMargin(const LossSpec& spec, const LossParams& p, double alpha, std::string* note) {
  if (!spec.rule.closed_form) {
    setNote(note, spec.rule.no_closed_form);
    return std::numeric_limits<double>::quiet_NaN();
  }
  LossState s0;
  s0.lambda = 0;  // the lemma's rule: lambda = 0 (pure margin)
  return spec.rule.closed_form(resolveParams(spec, p, s0), alpha, note);
}

LossRule::LossRule(const LossSpec& spec, const LossParams& p, const LossState& st)
    : spec_(&spec), r_(resolveParams(spec, p, st)) {
  if (r_.bias) bias_ = *r_.bias;
  r_.bias = r_.cw = nullptr;  // they point into p; the rule keeps its own copy of the bias
}

// The per-call copy re-points the bias at this rule's own vector, so copies of a rule stay valid.
double LossRule::test(int j, double cos_t, double hnorm, double wnorm) const {
  ResolvedParams r = r_;
  if (!bias_.empty()) r.bias = &bias_;
  return spec_->rule.test(r, j, cos_t, hnorm, wnorm);
}
double LossRule::target(int j, double cos_t, double hnorm, double wnorm) const {
  ResolvedParams r = r_;
  if (!bias_.empty()) r.bias = &bias_;
  return targetOf(*spec_, r, j, cos_t, hnorm, wnorm);
}
double LossRule::other(int j, double cos_t, double hnorm, double wnorm) const {
  ResolvedParams r = r_;
  if (!bias_.empty()) r.bias = &bias_;
  return otherOf(*spec_, r, j, cos_t, hnorm, wnorm);
}

double targetCurve(const LossSpec& spec, const LossParams& p, const LossState& st, double theta, double hnorm,
                   double wnorm) {
  return targetLogit(spec, p, st, 0, std::cos(theta), hnorm, wnorm);
}

}  // namespace ms
