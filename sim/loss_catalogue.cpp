// The loss catalogue: for every loss its contract name, aliases, family, parameters (default, range, kind,
// what it does), the formula as one line of text and the source paper. The command line (`marginscope
// losses`), the app's sliders, eval-loss's parameter checks and the README table all read this one list, so a
// parameter's range is written exactly once.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <sstream>

#include "sim/errors.h"
#include "sim/loss.h"

namespace ms {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kBig = 1e9;  // "any finite value" for vector entries

ParamSpec real(const char* name, double def, double lo, double hi, const char* help) {
  ParamSpec p;
  p.name = name;
  p.kind = ParamKind::Real;
  p.def = def;
  p.lo = lo;
  p.hi = hi;
  p.help = help;
  return p;
}
ParamSpec integer(const char* name, double def, double lo, double hi, const char* help) {
  ParamSpec p = real(name, def, lo, hi, help);
  p.kind = ParamKind::Integer;
  return p;
}
ParamSpec boolean(const char* name, bool def, const char* help) {
  ParamSpec p = real(name, def ? 1 : 0, 0, 1, help);
  p.kind = ParamKind::Bool;
  return p;
}
ParamSpec choice(const char* name, int def, std::vector<std::string> choices, const char* help) {
  ParamSpec p = real(name, def, 0, double(choices.size()) - 1, help);
  p.kind = ParamKind::Choice;
  p.choices = std::move(choices);
  return p;
}
ParamSpec vec(const char* name, double fill, double lo, double hi, const char* help) {
  ParamSpec p = real(name, fill, lo, hi, help);
  p.kind = ParamKind::Vector;
  return p;
}

// L-Softmax/A-Softmax share m and the lambda schedule (Liu et al. 2016, sec. 5; SphereFace repo defaults).
std::vector<ParamSpec> lsoftmaxParams(int m_default) {
  return {
      integer("m", m_default, 1, 8, "multiplicative angular margin: psi(t) = (-1)^k cos(m t) - 2k"),
      real("lambda", 0, 0, 1e6,
           "mix with cos t: (psi + lambda cos)/(1 + lambda); eval-loss uses it as given, training anneals"),
      real("base", 1000, 0, 1e6, "annealing: lambda = max(lambda_min, base (1 + gamma iter)^-power)"),
      real("gamma", 0.12, 0, 10, "annealing rate"),
      real("power", 1, 0, 10, "annealing power"),
      real("lambda_min", 5, 0, 1e6, "annealing floor")};
}

std::vector<ParamSpec> centreParams() {
  return {real("lambda", 0.01, 0, 100, "training: weight of the term added to softmax"),
          real("alpha", 0.5, 0, 1, "training: centre update rate (Wen et al. 2016, Alg. 1)")};
}

std::vector<LossSpec> build() {
  std::vector<LossSpec> c;
  auto add = [&](LossId id, const char* name, std::vector<std::string> aliases, LossFamily fam,
                 std::vector<ParamSpec> params, const char* formula, const char* paper, bool needs_w,
                 bool margin) {
    LossSpec s;
    s.id = id;
    s.name = name;
    s.aliases = std::move(aliases);
    s.family = fam;
    s.params = std::move(params);
    s.formula = formula;
    s.paper = paper;
    s.needs_weights = needs_w;
    s.has_margin = margin;
    c.push_back(std::move(s));
  };
  using F = LossFamily;
  add(LossId::Softmax, "softmax", {"cross-entropy"}, F::Softmax,
      {vec("bias", 0, -kBig, kBig, "per-class logit bias b (K values)")}, "-log softmax(H W^T + b)_y",
      "cross-entropy on linear logits (notes 004, 'Softmax Loss')", true, false);
  add(LossId::WeightedSoftmax, "weighted-softmax", {}, F::Softmax,
      {vec("class_weights", 1, 0, kBig,
           "per-class weight w (K values; the app uses inverse class frequency)")},
      "-w_y log softmax(H W^T)_y, mean over the batch (not divided by the sum of weights)",
      "Xie & Tu 2015, Holistically-nested edge detection, ICCV (notes 002, sec. 2.1)", true, false);
  add(LossId::Focal, "focal", {"focal-loss"}, F::Softmax,
      {real("gamma", 2, 0, 10, "focusing exponent; 0 gives softmax")},
      "-(1 - p_y)^gamma log p_y, p = softmax(H W^T)",
      "Lin et al. 2017, Focal loss for dense object detection, ICCV, eq. (5)", true, false);
  add(LossId::ModifiedSoftmax, "modified-softmax", {}, F::NormalisedSoftmax, {},
      "-log softmax(|H_i| cos t_j)_y, W rows normalised, no bias",
      "Liu et al. 2017, SphereFace, CVPR, sec. 3.1 (modified softmax)", true, false);
  add(LossId::LSoftmax, "l-softmax", {"lsoftmax", "large-margin-softmax"}, F::AngularMargin,
      lsoftmaxParams(2),
      "target |W_y||H_i| (psi(t_y) + lambda cos t_y)/(1+lambda), others |W_j||H_i| cos t_j; "
      "psi(t) = (-1)^k cos(m t) - 2k, k = floor(m t/pi)",
      "Liu et al. 2016, Large-margin softmax loss for CNNs, ICML, eqs. (5)-(6)", true, true);
  add(LossId::ASoftmax, "a-softmax", {"sphereface"}, F::AngularMargin, lsoftmaxParams(4),
      "as l-softmax with W rows normalised: target |H_i| (psi(t_y) + lambda cos t_y)/(1+lambda), others "
      "|H_i| cos t_j",
      "Liu et al. 2017, SphereFace: deep hypersphere embedding, CVPR, eq. (7)", true, true);
  add(LossId::L2Softmax, "l2-softmax", {"l2-constrained-softmax"}, F::NormalisedSoftmax,
      {real("alpha", 16, 0.01, 1000, "feature radius alpha"),
       boolean("learn_alpha", false, "learn alpha by gradient (LossAux.dscale)")},
      "-log softmax(alpha (H_i/|H_i|) W^T)_y",
      "Ranjan et al. 2017, L2-constrained softmax loss for discriminative face verification, arXiv, eq. (2)",
      true, false);
  add(LossId::NormFace, "normface", {}, F::NormalisedSoftmax,
      {real("s", 16, 0.01, 1000, "scale s"),
       boolean("learn_s", false, "learn s by gradient (LossAux.dscale)")},
      "-log softmax(s cos t_j)_y", "Wang et al. 2017, NormFace: L2 hypersphere embedding, ACM MM, eq. (6)",
      true, false);
  add(LossId::CoCo, "coco", {"congenerous-cosine"}, F::NormalisedSoftmax,
      {real("alpha", 10, 0.01, 1000, "scale alpha of the normalised features")},
      "-log softmax(alpha <c_j/|c_j|, H_i/|H_i|>)_y, c_j = mean of alpha H_i/|H_i| over batch class j "
      "(W_j for classes absent from the batch)",
      "Liu et al. 2017, Rethinking feature discrimination and polymerization (COCO loss), arXiv, eq. (4)",
      true, false);
  add(LossId::AmSoftmax, "am-softmax", {"cosface", "lmcl"}, F::AngularMargin,
      {real("s", 30, 0, 1000, "scale s"), real("m", 0.35, 0, 2, "additive cosine margin")},
      "target s (cos t_y - m), others s cos t_j",
      "Wang et al. 2018, Additive margin softmax, IEEE SPL, eq. (5); Wang et al. 2018, CosFace, CVPR, eq. "
      "(4)",
      true, true);
  add(LossId::ArcFace, "arcface", {"insightface"}, F::AngularMargin,
      {real("s", 64, 0, 1000, "scale s"), real("m", 0.5, 0, kPi, "additive angular margin"),
       choice("variant", 0, {"insightface", "easy", "plain"},
              "insightface: cos t - m sin m where t > pi - m; easy: margin only where cos t > 0; plain: "
              "always")},
      "target s cos(t_y + m), others s cos t_j",
      "Deng et al. 2019, ArcFace: additive angular margin loss, CVPR, eq. (3)", true, true);
  add(LossId::Combined, "combined", {"combined-margin"}, F::AngularMargin,
      {real("s", 64, 0, 1000, "scale s"), real("m1", 1, 0, 4, "multiplicative angular margin"),
       real("m2", 0.3, 0, kPi, "additive angular margin"), real("m3", 0.2, 0, 2, "additive cosine margin")},
      "target s (cos(m1 t_y + m2) - m3), others s cos t_j (no fallback)",
      "Deng et al. 2019, ArcFace, CVPR, eq. (4) (combined margin)", true, true);
  add(LossId::EnhancedAm, "enhanced-am-softmax", {"enhanced-am"}, F::AngularMargin,
      {real("s", 30, 0, 1000, "scale s"), real("m", 0.35, 0, 2, "additive cosine margin, also M = e^m"),
       boolean(
           "negative_margin", true,
           "true: others s (cos t_j + m) as the formula says; false: others s cos t_j as the notes' code")},
      "target s (cos t_y - m)/e^m, others s (cos t_j + m)",
      "Agarwal, CSO 211 course project, 'Enhanced AM softmax loss' (notes 000)", true, true);
  add(LossId::AdaCos, "adacos", {}, F::NormalisedSoftmax,
      {boolean("adaptive", true, "true: dynamic AdaCos (s re-estimated every batch); false: fixed s0")},
      "-log softmax(s cos t_j)_y; s0 = sqrt(2) ln(K-1), s <- ln(B_avg)/cos(min(pi/4, median t_y)) before the "
      "logits, no gradient through s",
      "Zhang et al. 2019, AdaCos: adaptively scaling cosine logits, CVPR, eqs. (13) and (15)", true, false);
  {
    auto p = centreParams();
    add(LossId::Center, "center", {"center-loss", "centre"}, F::Centre, p,
        "1/2 |H_i - c_y|^2 (mean over the batch); training: softmax + lambda * it, Wen centre update",
        "Wen et al. 2016, A discriminative feature learning approach, ECCV, eqs. (2), (4), (5)", true, false);
    p.push_back(real("gamma", 1, 0, 100, "weight of the invariant term relative to the centre term"));
    add(LossId::CenterInvariant, "center-invariant", {"centre-invariant"}, F::Centre, p,
        "1/2 |H_i - c_y|^2 + gamma 1/4 (|c_y|^2 - 1/K sum_j |c_j|^2)^2, mean over the batch",
        "Wu et al. 2017, Deep face recognition with center invariant loss, ACM MM workshops, eq. (4) "
        "(the notes drop the square)",
        true, false);
  }
  {
    auto p = centreParams();
    p.push_back(integer("k", 2, 1, 100, "number of largest intra-class distances in the harmonic mean"));
    p.push_back(real("margin", 1, 0, 1e6, "inter-class margin on the shortest squared centre distance"));
    p.push_back(real("intra_weight", 1, 0, 100, "weight of the intra-class term"));
    p.push_back(real("inter_weight", 1, 0, 100, "weight of the inter-class term"));
    add(LossId::Range, "range", {"range-loss"}, F::Centre, p,
        "intra_weight sum_classes k / sum_{j<=k} 1/D_j + inter_weight max(0, margin - min_{j<l} |c_j - "
        "c_l|^2), "
        "D_j the j-th largest squared intra-class distance",
        "Zhang et al. 2017, Range loss for deep face recognition with long-tailed data, ICCV, eqs. (2)-(4)",
        true, false);
  }
  add(LossId::Marginal, "marginal", {"marginal-loss"}, F::Centre,
      {real("lambda", 0.01, 0, 100, "training: weight of the term added to softmax"),
       real("theta", 1.2, 0, 4, "threshold on the squared distance of normalised features"),
       real("xi", 0.3, 0, 4, "error margin")},
      "mean over pairs i<j of max(0, xi - y_ij (theta - |H_i/|H_i| - H_j/|H_j||^2)), y_ij = +1 same, -1 not",
      "Deng et al. 2017, Marginal loss for deep face recognition, CVPR workshops, eq. (1)", false, false);
  add(LossId::Contrastive, "contrastive", {"contrastive-loss"}, F::Metric,
      {real("m", 1, 0, 2, "margin on the distance of different-label pairs")},
      "on unit embeddings, mean over pairs i<j: same label 1/2 d^2, different 1/2 max(0, m - d)^2",
      "Hadsell, Chopra & LeCun 2006, Dimensionality reduction by learning an invariant mapping, CVPR, eq. "
      "(4)",
      false, false);
  add(LossId::Triplet, "triplet", {"triplet-loss"}, F::Metric,
      {real("m", 0.2, 0, 4, "margin alpha"),
       choice("mining", 0, {"all", "semi-hard", "hard"},
              "all: every valid triplet; semi-hard: D_ap < D_an < D_ap + m; hard: batch-hard per anchor")},
      "max(0, D_ap - D_an + m), D squared distance of unit embeddings",
      "Schroff et al. 2015, FaceNet, CVPR, eq. (1); batch-hard: Hermans et al. 2017", false, false);
  add(LossId::Tse, "tse", {"triplet-similarity"}, F::Metric,
      {real("alpha", 0.2, 0, 4, "margin on the similarity difference")},
      "mean over all triplets of max(0, alpha + <a,n> - <a,p>), unit embeddings",
      "Sankaranarayanan et al. 2016, Triplet similarity embedding for face verification, arXiv, eq. (1)",
      false, false);
  add(LossId::Tpe, "tpe", {"triplet-probabilistic"}, F::Metric, {},
      "mean over all triplets of -log(e^<a,p> / (e^<a,p> + e^<a,n>)), unit embeddings",
      "Sankaranarayanan et al. 2016, Triplet probabilistic embedding, BTAS, eq. (3)", false, false);
  return c;
}

std::string joinNames(const std::vector<LossSpec>& cat) {
  std::string s;
  for (const auto& l : cat) {
    s += (s.empty() ? "" : ", ") + l.name;
    for (size_t i = 0; i < l.aliases.size(); ++i) s += (i ? ", " : " (") + l.aliases[i];
    if (!l.aliases.empty()) s += ")";
  }
  return s;
}

std::string fmt(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

}  // namespace

const std::vector<LossSpec>& lossCatalogue() {
  static const std::vector<LossSpec> cat = build();  // immutable after first use; not a mutable global
  return cat;
}

const LossSpec& findLoss(const std::string& name_or_alias) {
  for (const auto& l : lossCatalogue()) {
    if (l.name == name_or_alias) return l;
    for (const auto& a : l.aliases)
      if (a == name_or_alias) return l;
  }
  throw UserError("loss: unknown loss '" + name_or_alias + "' (allowed: " + joinNames(lossCatalogue()) + ")");
}

double paramValue(const LossSpec& spec, const LossParams& p, const std::string& name) {
  auto it = p.values.find(name);
  if (it != p.values.end()) return it->second;
  for (const auto& ps : spec.params)
    if (ps.name == name) return ps.def;
  assert(false && "paramValue: parameter not in the spec");
  return 0;
}

void validateParams(const LossSpec& spec, const LossParams& p, int K) {
  auto names = [&] {
    std::string s;
    for (const auto& ps : spec.params) s += (s.empty() ? "" : ", ") + ps.name;
    return s.empty() ? std::string("none") : s;
  };
  auto find = [&](const std::string& n) -> const ParamSpec* {
    for (const auto& ps : spec.params)
      if (ps.name == n) return &ps;
    return nullptr;
  };
  auto range = [](const ParamSpec& ps) { return "[" + fmt(ps.lo) + ", " + fmt(ps.hi) + "]"; };
  for (const auto& [name, v] : p.values) {
    const ParamSpec* ps = find(name);
    if (!ps)
      throw UserError("loss " + spec.name + ": unknown parameter '" + name + "' (allowed: " + names() + ")");
    const std::string where = "loss " + spec.name + ": parameter " + name + " = " + fmt(v);
    if (!std::isfinite(v)) throw UserError(where + " is not a finite number");
    switch (ps->kind) {
      case ParamKind::Vector:
        throw UserError("loss " + spec.name + ": parameter " + name + " takes " + std::to_string(K) +
                        " values, not one");
      case ParamKind::Bool:
        if (v != 0 && v != 1) throw UserError(where + " is not a boolean (allowed: true, false)");
        break;
      case ParamKind::Choice:
        if (v != std::floor(v) || v < 0 || v >= double(ps->choices.size())) {
          std::string ch;
          for (const auto& c : ps->choices) ch += (ch.empty() ? "" : ", ") + c;
          throw UserError(where + " is not one of the choices (allowed: " + ch + ")");
        }
        break;
      case ParamKind::Integer:
        if (v != std::floor(v))
          throw UserError(where + " is not an integer (allowed: integers in " + range(*ps) + ")");
        [[fallthrough]];
      case ParamKind::Real:
        if (v < ps->lo || v > ps->hi)
          throw UserError(where + " is out of range (allowed: " + range(*ps) + ")");
        break;
    }
  }
  for (const auto& [name, v] : p.vectors) {
    const ParamSpec* ps = find(name);
    if (!ps)
      throw UserError("loss " + spec.name + ": unknown parameter '" + name + "' (allowed: " + names() + ")");
    if (ps->kind != ParamKind::Vector)
      throw UserError("loss " + spec.name + ": parameter " + name + " takes one value, not a list");
    if (int(v.size()) != K)
      throw UserError("loss " + spec.name + ": parameter " + name + " has " + std::to_string(v.size()) +
                      " values (allowed: exactly K = " + std::to_string(K) + ", one per class)");
    for (double x : v)
      if (!std::isfinite(x) || x < ps->lo || x > ps->hi)
        throw UserError("loss " + spec.name + ": parameter " + name + " has the value " + fmt(x) +
                        " (allowed: finite values in " + range(*ps) + ")");
  }
}

double annealedLambda(const LossSpec& spec, const LossParams& p, int64_t iteration) {
  if (spec.id != LossId::LSoftmax && spec.id != LossId::ASoftmax) return 0;
  const double base = paramValue(spec, p, "base"), gamma = paramValue(spec, p, "gamma");
  const double power = paramValue(spec, p, "power"), lmin = paramValue(spec, p, "lambda_min");
  return std::max(lmin, base * std::pow(1 + gamma * double(iteration), -power));
}

}  // namespace ms
