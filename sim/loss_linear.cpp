// Linear-logit losses: softmax, weighted softmax, focal. Z = H W^T + b, then cross-entropy; the cross-entropy
// here is shared with the cosine path (loss_cosine.cpp), which only builds other logits.
//
// Shapes: H (n,d) raw embeddings, W (K,d) raw class weights, Zt (K,n) logits one column per sample.
#include <cmath>

#include "sim/loss_internal.h"

namespace ms::detail {
namespace {

constexpr double kBig = 1e9;  // "any finite value" for vector entries

// |h| |w| cos t (+ b_j for plain softmax): the logit itself, read at test time.
double testLinear(const ResolvedParams& r, int j, double c, double hn, double wn) {
  const double b = (r.bias && j >= 0 && size_t(j) < r.bias->size()) ? (*r.bias)[size_t(j)] : 0.0;
  return hn * wn * c + b;
}

LossTraits linearTraits() {
  LossTraits t;
  t.feature_norm = t.weight_norm = true;
  return t;
}

}  // namespace

double crossEntropy(const ResolvedParams& r, const Mat& Zt, const std::vector<int>& y, Mat& Gt) {
  const Eigen::Index K = Zt.rows(), n = Zt.cols();
  Gt.resize(K, n);
  double total = 0;
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
    if (r.focal) {
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

// H (n,d), W (K,d) -> dH (n,d), dW (K,d), dbias (K).
double linearForwardBackward(const ResolvedParams& r, const Mat& H, const Mat& W, const std::vector<int>& y,
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

void appendLinearLosses(std::vector<LossSpec>& out) {
  LossSpec s;
  s.family = LossFamily::Softmax;
  s.path = LossPath::Linear;
  s.rule.test = testLinear;
  s.rule.no_closed_form = "no margin: the training rule is the test rule";

  // cross-entropy on linear logits
  s.name = "softmax";
  s.contrast = "modified-softmax";
  s.aliases = {"cross-entropy"};
  s.params = {vec("bias", 0, -kBig, kBig, "per-class logit bias b (K values)")};
  s.formula = "-log softmax(H W^T + b)_y";
  s.paper = "cross-entropy on linear logits (notes 004, 'Softmax Loss')";
  s.traits = linearTraits();
  s.traits.learns_bias = true;
  s.resolve = [](const ParamReader& v, const LossState&, ResolvedParams& r) { r.bias = v.vector("bias"); };
  out.push_back(s);

  // Xie & Tu 2015: each sample's loss weighted by its class's weight
  s.name = "weighted-softmax";
  s.contrast = "softmax";
  s.aliases = {};
  s.params = {vec("class_weights", 1, 0, kBig,
                  "per-class weight w (K values; the app uses inverse class frequency)")};
  s.formula = "-w_y log softmax(H W^T)_y, mean over the batch (not divided by the sum of weights)";
  s.paper = "Xie & Tu 2015, Holistically-nested edge detection, ICCV (notes 002, sec. 2.1)";
  s.traits = linearTraits();
  s.traits.inverse_frequency = true;
  s.resolve = [](const ParamReader& v, const LossState&, ResolvedParams& r) {
    r.cw = v.vector("class_weights");
  };
  out.push_back(s);

  // Lin et al. 2017, eq. (5)
  s.name = "focal";
  s.contrast = "softmax";
  s.aliases = {"focal-loss"};
  s.params = {real("gamma", 2, 0, 10, "focusing exponent; 0 gives softmax")};
  s.formula = "-(1 - p_y)^gamma log p_y, p = softmax(H W^T)";
  s.paper = "Lin et al. 2017, Focal loss for dense object detection, ICCV, eq. (5)";
  s.traits = linearTraits();
  s.resolve = [](const ParamReader& v, const LossState&, ResolvedParams& r) {
    r.gamma = v("gamma");
    r.focal = true;
  };
  out.push_back(s);
}

}  // namespace ms::detail
