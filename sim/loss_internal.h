// What the loss files share and nothing else includes: the normalisation pair, the cross-entropy, the four
// forward/backward paths, the parameter-spec builders and each family's list of definitions. Only
// sim/loss*.cpp include this header.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "sim/loss.h"
#include "sim/math.h"

namespace ms::detail {

constexpr double kEps = 1e-12;          // norm floor
constexpr double kCosMax = 1.0 - 1e-7;  // clamp before acos

inline double clampCos(double c) {
  return std::min(kCosMax, std::max(-kCosMax, c));
}

// A loss's own parameters: a struct of doubles declared in its file, kept in ResolvedParams::own.
template <class T>
T ownParams(const ResolvedParams& r) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= sizeof(r.own), "fits ResolvedParams::own");
  T t;
  std::memcpy(&t, r.own.data(), sizeof(T));
  return t;
}
template <class T>
void setOwnParams(ResolvedParams& r, const T& t) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= sizeof(r.own), "fits ResolvedParams::own");
  std::memcpy(r.own.data(), &t, sizeof(T));
}

// X (n,d) -> Xh (n,d) rows X_i / max(|X_i|, eps), nrm (n) = |X_i|.
void normaliseRowsForward(const Mat& X, Mat& Xh, Vec& nrm);
// Given dL/dXh (n,d) and dL/dnrm (n) (or null), writes dL/dX (n,d): (I - xh xh^T) dXh / |x| + dnrm xh.
void normaliseRowsBackward(const Mat& Xh, const Vec& nrm, const Mat& dXh, const Vec* dnrm, Mat& dX);

// Zt (K,n) logits, one column per sample -> Gt (K,n) = dL/dZ for L = (1/n) sum_i loss_i, where loss_i is
// -w_{y_i} log p_{y_i} (w = class_weights, or 1), or the focal -(1-p_y)^gamma log p_y. Returns L.
double crossEntropy(const ResolvedParams& r, const Mat& Zt, const std::vector<int>& y, Mat& Gt);

// The four paths (see LossPath). H (n,d), W (K,d) -> dH (n,d), dW (K,d) (dW may be null).
double linearForwardBackward(const ResolvedParams& r, const Mat& H, const Mat& W, const std::vector<int>& y,
                             Mat& dH, Mat* dW, LossWorkspace& ws, LossAux* aux);
double cosineForwardBackward(const LossSpec& spec, ResolvedParams r, LossState& st, const Mat& H,
                             const Mat& W, const std::vector<int>& y, Mat& dH, Mat* dW, LossWorkspace& ws,
                             LossAux* aux);
// The loss's pair term (spec.hooks.pair_term) on unit embeddings Xh (n,d); writes dL/dXh (n,d).
double pairTerm(const LossSpec& spec, const ResolvedParams& r, const Mat& Xh, const std::vector<int>& y,
                Mat& dXh, LossWorkspace& ws);
// The marginal loss's own parameters and pair term (its definition is with the centre losses).
struct MarginalParams {
  double theta, xi;
};
double marginalTerm(const ResolvedParams& r, const Mat& Xh, const std::vector<int>& y, LossWorkspace& ws,
                    bool* dot);
double centreForwardBackward(const LossSpec& spec, const ResolvedParams& r, const Mat& H, const Mat* W,
                             const std::vector<int>& y, Mat& dH, Mat* dW, LossWorkspace& ws, LossAux* aux);

// Parameter specs, with the range written once.
ParamSpec real(const char* name, double def, double lo, double hi, const char* help);
ParamSpec integer(const char* name, double def, double lo, double hi, const char* help);
ParamSpec boolean(const char* name, bool def, const char* help);
ParamSpec choice(const char* name, int def, std::vector<std::string> choices, const char* help);
ParamSpec vec(const char* name, double fill, double lo, double hi, const char* help);

// Rules shared across files (loss_cosine_rules.cpp defines them).
double testPlainCos(const ResolvedParams&, int, double c, double, double);     // cos t: metric/centre terms
double testScaledCos(const ResolvedParams& r, int, double c, double, double);  // s cos t
double otherScaled(const ResolvedParams& r, double c, double, double, Dz& d);  // s cos t, d/dc = s
OtherForm formScaled(const ResolvedParams& r);                                 // s cos t as a form
void setNote(std::string* note, const std::string& s);                         // keeps the first note
double marginFromBoundary(double t, double alpha, std::string* note, const char* why);
double cosAffineAngle(double a, double b, double c, double& dc);  // cos(a t + b) of c = cos t, d/dc
// ArcFace's target cosine at margin m with insightface's fallback past t = pi - m; *dm its derivative in m.
double arcInsightface(double m, double c, double& dc, double* dm = nullptr);
double marginArc(const ResolvedParams& r, double alpha, std::string* note);  // ArcFace: m, for alpha >= m
// Margin of target cos(t + m2) - m3 against other cos(alpha - t) (CosFace, ArcFace, AdaFace at |h| = 1).
double additiveMargin(double m2, double m3, double alpha, std::string* note);

// Each family file's definitions, in catalogue order.
void appendLinearLosses(std::vector<LossSpec>& out);
void appendCosineLosses(std::vector<LossSpec>& out);  // the next three, in this order
void appendSphereLosses(std::vector<LossSpec>& out);
void appendAdditiveLosses(std::vector<LossSpec>& out);
void appendModernLosses(std::vector<LossSpec>& out);
void appendCentreLosses(std::vector<LossSpec>& out);
void appendPairLosses(std::vector<LossSpec>& out);

}  // namespace ms::detail
