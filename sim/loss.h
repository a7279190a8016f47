// The loss library: every loss of the lecture notes as a forward/backward pair with hand-derived gradients.
//
// Shapes (llm.c style, written beside each argument):
//   H  (n,d)  embeddings as the network outputs them (raw, not normalised)
//   W  (K,d)  class weights as stored (raw); for center-type losses these are the centres
//   y  (n)    labels in 0..K-1
// Every loss returns the mean over the batch and ACCUMULATES NOTHING: dH and dW are overwritten.
// Normalisation, where a loss uses it, is part of the loss, so gradients flow through it.
// Precision: double throughout (see README, "Numerics").
//
// The classifier-type losses also expose their decision rule (targetLogit/otherLogit/testLogit) so that the
// renderer, the metrics and the theory panel draw boundaries and margins from the same definitions the
// gradient uses.
#pragma once
#include <Eigen/Dense>
#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace ms {

using Mat = Eigen::MatrixXd;  // column-major, (rows, cols) as in the shape comments
using Vec = Eigen::VectorXd;

enum class ParamKind { Real, Integer, Bool, Choice, Vector };

struct ParamSpec {
  std::string name;                  // e.g. "m", "s", "variant", "class_weights"
  ParamKind kind = ParamKind::Real;  //
  double def = 0;                    // default (Choice: index into choices; Bool: 0/1; Vector: fill value)
  double lo = 0, hi = 0;             // allowed closed range (Real/Integer); the app's sliders use it
  std::vector<std::string> choices;  // Choice only
  std::string help;                  // one line: what it does
};

enum class LossFamily { Softmax, NormalisedSoftmax, AngularMargin, Centre, Metric };

// Which shared forward/backward a loss runs (one file each): linear logits + cross-entropy (loss_linear.cpp),
// cosine logits with a margin rule (loss_cosine.cpp), pair/triplet terms (loss_pair.cpp), centre terms
// (loss_centre.cpp).
enum class LossPath { Linear, Cosine, Pair, Centre };

// What the rest of the program needs to know about a loss, so that nothing outside the loss files asks for a
// loss by name or id.
struct LossTraits {
  bool has_weights = true;  // the loss itself has class weights W (false: pair/triplet losses, marginal)
  bool has_margin = false;  // the training rule differs from the test rule (the rule has target/other)
  bool anneals_lambda =
      false;  // L-/A-Softmax: training anneals lambda (annealedLambda); `lambda` param unused
  std::string learnable_scale;  // the scale learned by gradient when `learn_flag` is on ("s", "alpha"), or ""
  std::string learn_flag;       // the Bool parameter switching that on, or ""
  bool uses_centres = false;    // the trainer keeps centres C (K,d), moved by updateCentres
  bool joint_softmax = false;   // trained as softmax on W plus lambda times the term (Wen et al. 2016 eq. 5)
  bool learns_bias = false;     // training learns a per-class bias unless the user fixed `bias`
  bool inverse_frequency = false;  // training fills `class_weights` with inverse class frequencies if unset
  bool feature_norm = false;       // the test or training logit depends on |h|
  bool weight_norm = false;        // the test or training logit depends on |w|
  bool stateful = false;   // keeps state between batches in LossState (AdaCos s, CurricularFace t, ...)
  std::string subcentres;  // Integer parameter: weight rows per class (sub-center ArcFace), or ""
};

struct ResolvedParams;
struct LossState;

// Partials of one logit with respect to cos t, |h| and |w|.
struct Dz {
  double c = 0, hn = 0, wn = 0;
};

// The non-target logit of a cosine-path loss has the form a [|W_j|] [|H_i|] cos t_ij + off (each bracket
// present when its flag says so), so the whole (K,n) matrix is computed at once.
struct OtherForm {
  double a = 1, off = 0;
  bool hn = false, wn = false;
};

// A loss's decision rule and margin, the part the lemma, the views, the Theory panel and the metrics share.
// `test` always exists. `target` and `other` (the training logits of the true class and of the others, with
// their partials) exist for every cosine-path loss; without them the training rule is the test rule.
// `other_form` is `other` as one form for the whole logit matrix; a test holds the two equal. `closed_form`
// is the margin between two classes whose weights are at angle alpha (radians, |w_a| = |w_b|, |h| = 1, lambda
// = 0), NaN with *note when not defined for that alpha; when there is none, `no_closed_form` says why.
struct MarginRule {
  double (*test)(const ResolvedParams&, int j, double c, double hn, double wn) = nullptr;
  double (*target)(const ResolvedParams&, double c, double hn, double wn, Dz& d) = nullptr;
  double (*other)(const ResolvedParams&, double c, double hn, double wn, Dz& d) = nullptr;
  OtherForm (*other_form)(const ResolvedParams&) = nullptr;
  double (*closed_form)(const ResolvedParams&, double alpha, std::string* note) = nullptr;
  const char* no_closed_form = "";
};

struct LossParams;
class ParamReader;
struct LossWorkspace;

// The parts of a shared path that belong to one loss: the path calls each that is set, so a loss's special
// step lives in its own definition instead of a flag or a name test in the shared code.
struct PathHooks {
  // Pair path (and the marginal loss): the loss on unit embeddings Xh (n,d). Writes the per-pair
  // coefficients into ws.g (n,n), on squared distances (*dot = false) or on dot products (*dot = true).
  double (*pair_term)(const ResolvedParams&, const Mat& Xh, const std::vector<int>& y, LossWorkspace& ws,
                      bool* dot) = nullptr;
  // Centre path: the centre term on raw features H (n,d) and centres C (K,d). Writes dL/dH (n,d), the plain
  // centre term's dL/dC into dCplain (K,d) and the other terms' into dCextra (K,d) (see updateCentres).
  double (*centre_term)(const ResolvedParams&, const Mat& H, const Mat& C, const std::vector<int>& y, Mat& dH,
                        Mat& dCplain, Mat& dCextra, LossWorkspace& ws) = nullptr;
  // Cosine path: class rows made from the batch instead of W (CoCo's centroids). `batch_weights` returns the
  // (K,d) rows to normalise; `batch_weights_backward` takes their gradient dL/drows (K,d) to the unit
  // features' dxh (n,d, added to) and to dW (K,d, overwritten; may be null).
  const Mat* (*batch_weights)(const ResolvedParams&, const Mat& Xh, const Mat& W, const std::vector<int>& y,
                              LossWorkspace& ws) = nullptr;
  void (*batch_weights_backward)(const ResolvedParams&, const Mat& drows, const std::vector<int>& y,
                                 LossWorkspace& ws, Mat& dxh, Mat* dW) = nullptr;
  // Cosine path: non-target logits that depend on the sample's own target (CurricularFace's hard negatives).
  // Overwrites entries of Zt (K,n) and sets their d logit/d cos in over (K,n, NaN where unchanged).
  void (*other_logits)(const ResolvedParams&, const Mat& Ct, const std::vector<int>& y, Mat& Zt,
                       Mat& over) = nullptr;
  // Cosine path: a term on the feature norms hn (n) added to the loss (MagFace's regulariser); adds its
  // gradient to dhn (n) and returns its value.
  double (*norm_term)(const ResolvedParams&, const Vec& hn, Vec& dhn) = nullptr;
};
// Fills the fields of ResolvedParams this loss reads, from its parameters and the training state.
using ResolveFn = void (*)(const ParamReader&, const LossState&, ResolvedParams&);

// One loss, one definition: the catalogue, eval-loss, the trainer, the metrics, the lemma, the views and the
// panels all read this entry. Each family file (loss_linear.cpp, loss_cosine_rules.cpp, loss_pair.cpp,
// loss_centre.cpp) defines its losses' entries beside their forward/backward and paper.
struct LossSpec {
  std::string name;                  // contract name, e.g. "am-softmax"
  std::vector<std::string> aliases;  // e.g. {"cosface"}
  LossFamily family = LossFamily::Softmax;
  std::vector<ParamSpec> params;
  std::string formula;   // plain text (unicode allowed), one line
  std::string paper;     // "Deng et al. 2019, ArcFace, CVPR, eq. (3)"
  std::string notes;     // where our definition departs from the paper or its official code (README), or ""
  std::string contrast;  // the loss the lecture sets beside this one (compare mode's second run)
  LossPath path = LossPath::Linear;
  LossTraits traits;
  MarginRule rule;
  ResolveFn resolve = nullptr;
  PathHooks hooks;
  // Cosine path only: batch statistics and scale moved before the logits (AdaCos, CurricularFace, AdaFace).
  void (*prepare)(ResolvedParams& r, LossState& st, const Mat& Ct, const Vec& hn, const std::vector<int>& y,
                  LossWorkspace& ws) = nullptr;
  // Parameter values at which nothing is detached from the gradient (AdaCos's batch s, AdaFace's norm
  // scaler), so that finite differences check the whole gradient; empty when nothing ever is.
  std::map<std::string, double> exact_gradient_at;
  // Checks between parameters that ranges cannot express; returns the complaint or "" (validateParams).
  std::string (*check)(const ParamReader&) = nullptr;
};
using LossDef = LossSpec;

// Parameter values. Scalars (Real, Integer, Bool, Choice as index) live in `values`, Vector params
// ("bias", "class_weights") in `vectors`. Missing entries mean "the catalogue default".
struct LossParams {
  std::map<std::string, double> values;
  std::map<std::string, std::vector<double>> vectors;
};

// The catalogue, in display order.
const std::vector<LossSpec>& lossCatalogue();
// Finds a loss by name or alias; throws UserError naming the valid names when unknown.
const LossSpec& findLoss(const std::string& name_or_alias);
// Value of a scalar parameter (given or default). Asserts the parameter exists in the spec.
double paramValue(const LossSpec& spec, const LossParams& p, const std::string& name);
// Checks names, ranges, integer-ness, vector lengths (K); throws UserError naming key, value and range.
void validateParams(const LossSpec& spec, const LossParams& p, int K);

// State a loss keeps between steps; owned by the trainer, updated by lossForwardBackward where the loss
// defines an update (AdaCos's s) and by the trainer where the paper defines one (centre updates).
struct LossState {
  double lambda = -1;     // current L-Softmax/A-Softmax lambda (trainer: annealedLambda); <0: param `lambda`
  double s = -1;          // learnable/adaptive scale in use (NormFace learn_s, AdaCos); <0: use params
  double alpha = -1;      // learnable L2-softmax alpha in use; <0: use params
  int64_t iteration = 0;  //
  // Training-time statistics of the stateful losses, moved by the loss itself before the logits when
  // `update` is true (the trainer sets it; eval-loss leaves it false and the params are used as given).
  bool update = false;
  static constexpr double kNotStarted = std::numeric_limits<double>::quiet_NaN();
  // The statistics themselves (CurricularFace's t, AdaFace's mu and sigma): what each slot means is the
  // loss's own business (its file names them); NaN until the first update, when the params are used.
  std::array<double, 4> own = {kNotStarted, kNotStarted, kNotStarted, kNotStarted};
};

// L-Softmax/A-Softmax annealing (Liu et al. 2016, sec. 5): max(lambda_min, base (1 + gamma iter)^(-power)).
// The trainer sets state.lambda to this before each step; eval-loss uses the `lambda` param as given.
double annealedLambda(const LossSpec& spec, const LossParams& p, int64_t iteration);

// Reused buffers so that a warm call performs no heap allocation (sizes only grow).
struct LossWorkspace {
  Mat a, b, c;  // free for the implementation
  Vec u, v;
  std::vector<int> idx;
  Mat xh, wh, z, g, dxh, dwh, cen, pair;  // unit features (n,d), unit weights (K,d), logits/grads (n,K) ...
  Vec hn, wn, dhn, dwn, rw;               // norms (n), (K) and their gradients, per-row weights (n)
  std::vector<int> cnt;                   // class counts (K)
  Mat full, wfull, dwfull, over;          // sub-centre cosines (K k,n), unit rows (K k,d), their gradient;
                                          // per-entry dlogit/dcos overrides (K,n) (hard negatives, clamps)
  Vec wnfull;                             // sub-centre norms (K k)
  std::vector<int> arg;                   // (K,n) winning sub-centre row of each class and sample
};

// Inputs that switch a loss to training mode, and extra outputs for the trainer.
struct LossAux {
  // --- inputs
  // Joint supervision (center, center-invariant, range, marginal; Wen et al. 2016 eq. 5): when true the loss
  // is softmax cross-entropy on W plus lambda times the term, and the term's centres come from `centres`.
  // When false (eval-loss), the loss is the term alone and W holds the centres.
  bool joint = false;
  const Mat* centres = nullptr;  // (K,d) centres when joint; required for center, center-invariant, range
  // --- outputs
  double dscale = 0;  // d loss / d (learnable s or alpha), when learn_s / learn_alpha
  Mat dcentres;       // (K,d) when joint: gradient of lambda * (the centre terms other than the plain centre
                      // term) w.r.t. the centres; zeros for center and marginal. See updateCentres.
  Vec dbias;          // (K) softmax: gradient w.r.t. the `bias` param
};

// Training-time centre update of the centre-type losses, after lossForwardBackward with aux.joint:
// Wen et al. 2016 Alg. 1, c_j <- c_j - alpha sum_{i:y_i=j} (c_j - H_i) / (1 + n_j), then for center-invariant
// and range a gradient step of rate alpha on their centre terms, c <- c - alpha aux.dcentres.
void updateCentres(const LossSpec& spec, const LossParams& p, const Mat& H,       // H (n,d)
                   const std::vector<int>& y, const LossAux& aux, Mat& centres);  // centres (K,d)

// loss = mean over the batch. dH (n,d) and dW (K,d) are overwritten (dW ignored when W is null).
double lossForwardBackward(const LossSpec& spec, const LossParams& p, LossState& state,
                           const Mat& H,               // (n,d)
                           const Mat* W,               // (K,d) or null for metric losses
                           const std::vector<int>& y,  // (n)
                           Mat& dH,                    // (n,d)
                           Mat* dW,                    // (K,d) or null
                           LossWorkspace& ws, LossAux* aux = nullptr);

// A loss's parameters looked up once (names resolved to values, state applied): the forward/backward and the
// decision rule read these instead of the maps, which are string-keyed. Each loss's `resolve` fills the
// fields it reads; the rest keep these defaults.
struct ResolvedParams {
  double s = 1, m = 0, m1 = 1, m2 = 0, m3 = 0, lambda = 0, gamma = 0, alpha = 1, joint_lambda = 0;
  double cos_clamp = 0;  // > 0: every cosine clamped to [-1 + cos_clamp, 1 - cos_clamp] first (AdaFace)
  int mi = 1, variant = 0, mining = 0, k = 1;
  int rows_per_class = 1;  // weight rows per class (sub-centres: cos t_j = max over them)
  // Parameters only one loss reads, as a struct of doubles its own file declares (ownParams in
  // loss_internal.h), so that a new loss adds no field here.
  std::array<double, 6> own{};
  bool negative_margin = true, adaptive = true, learn = false, focal = false;
  const std::vector<double>* bias = nullptr;  // (K) or null; points into the LossParams
  const std::vector<double>* cw = nullptr;    // (K) or null; points into the LossParams
};

// Reads a loss's parameters by name for its `resolve` (given value or catalogue default).
class ParamReader {
 public:
  ParamReader(const LossSpec& spec, const LossParams& p) : spec_(spec), p_(p) {}
  double operator()(const char* name) const { return paramValue(spec_, p_, name); }
  const std::vector<double>* vector(const char* name) const {
    auto it = p_.vectors.find(name);
    return it == p_.vectors.end() ? nullptr : &it->second;
  }

 private:
  const LossSpec& spec_;
  const LossParams& p_;
};

ResolvedParams resolveParams(const LossSpec& spec, const LossParams& p, const LossState& st);

// Weight rows per class: 1, or the sub-centre count k (W then has K k rows, class j's at j k .. j k + k - 1).
int weightRowsPerClass(const LossSpec& spec, const LossParams& p);

// Decision rule of classifier-type losses, per class j, from the angle's cosine and the two norms.
// testLogit:   the score used at test time (no margin).
// targetLogit: the training-time logit of class j when j is the true class (margin applied, at state.lambda).
// otherLogit:  the training-time logit of class j when j is not the true class.
// Class c "claims" a point when targetLogit_c > max_{j!=c} otherLogit_j; where no class claims it lies in a
// margin band. For metric losses these fall back to the cosine.
double testLogit(const LossSpec&, const LossParams&, const LossState&, int j, double cos_t, double hnorm,
                 double wnorm);
double targetLogit(const LossSpec&, const LossParams&, const LossState&, int j, double cos_t, double hnorm,
                   double wnorm);
double otherLogit(const LossSpec&, const LossParams&, const LossState&, int j, double cos_t, double hnorm,
                  double wnorm);

// The same rule with the parameters resolved once, for callers that evaluate it many times (the views sample
// it per angle and per texel, where resolving per call was a sixth of a live frame). It owns what it reads,
// so a copy does not depend on the LossParams it was made from. Gives exactly
// testLogit/targetLogit/otherLogit.
class LossRule {
 public:
  LossRule() = default;
  LossRule(const LossSpec& spec, const LossParams& p, const LossState& st);
  double test(int j, double cos_t, double hnorm, double wnorm) const;
  double target(int j, double cos_t, double hnorm, double wnorm) const;
  double other(int j, double cos_t, double hnorm, double wnorm) const;

 private:
  const LossSpec* spec_ = nullptr;
  ResolvedParams r_;
  std::vector<double> bias_;  // (K) softmax bias, or empty
};
// The closed-form margin of the loss's rule between two classes at angle alpha (see MarginRule), at lambda =
// 0; NaN with *note saying why when there is none or it is not defined at alpha.
double closedFormMargin(const LossSpec& spec, const LossParams& p, double alpha, std::string* note = nullptr);
// The target-logit curve f(theta) of the theory panel: targetLogit at cos(theta), unit norms by default.
double targetCurve(const LossSpec&, const LossParams&, const LossState&, double theta, double hnorm = 1,
                   double wnorm = 1);

}  // namespace ms
