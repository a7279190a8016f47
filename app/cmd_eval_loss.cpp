// `marginscope eval-loss`: one JSON request on stdin -> the loss value and its exact gradients on stdout.
//
//   in:  {"loss": NAME, "params": {...}, "features": n x d, "weights": K x d, "labels": n}
//   out: {"loss": value, "grad_features": n x d, "grad_weights": K x d (only when weights were given)}
//
// The request is checked completely before anything is computed, and every mistake (an unknown loss, key or
// parameter, a shape mismatch, a label out of range, a non-finite number) is one line on stderr with exit
// code 2 and nothing on stdout. The loss is evaluated exactly as defined in sim/loss.h: no annealing (lambda
// is the `lambda` param), no learned scale (s and alpha are the params), AdaCos starting from s0.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "app/commands.h"
#include "app/config_io.h"
#include "sim/errors.h"
#include "sim/loss.h"

namespace ms {
namespace {

using nlohmann::json;

const char* kUsage =
    "usage: marginscope eval-loss < request.json\n"
    "  request: {\"loss\": NAME, \"params\": {...}, \"features\": n x d, \"weights\": K x d, \"labels\": n}\n"
    "  (weights may be omitted for contrastive, triplet, tse, tpe and marginal)\n"
    "  answer:  {\"loss\": value, \"grad_features\": n x d, \"grad_weights\": K x d}\n"
    "  losses and their parameters: marginscope losses\n";

constexpr size_t kMaxRequestBytes = size_t(64) << 20;
constexpr Eigen::Index kMaxPairRows = 1024;
constexpr long long kMaxLogits = 33554432;  // 2^25 doubles: 256 MB per n x K matrix

std::string str(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

double number(const json& v, const std::string& where) {
  if (!v.is_number()) throw UserError("eval-loss: " + where + " is " + shortJson(v) + ", not a number");
  const double x = v.get<double>();
  if (!std::isfinite(x)) throw UserError("eval-loss: " + where + " is not a finite number");
  return x;
}

// A JSON array of equal-length arrays of finite numbers -> Mat (rows, cols).
Mat matrix(const json& v, const std::string& key) {
  if (!v.is_array() || v.empty())
    throw UserError("eval-loss: \"" + key +
                    "\" must be a non-empty array of rows (a list of lists of numbers)");
  const size_t rows = v.size();
  if (!v[0].is_array() || v[0].empty())
    throw UserError("eval-loss: \"" + key + "\" row 0 must be a non-empty list of numbers");
  const size_t cols = v[0].size();
  Mat m(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  for (size_t i = 0; i < rows; ++i) {
    if (!v[i].is_array() || v[i].size() != cols)
      throw UserError("eval-loss: \"" + key + "\" row " + std::to_string(i) + " has " +
                      (v[i].is_array() ? std::to_string(v[i].size()) : std::string("no")) +
                      " entries (allowed: " + std::to_string(cols) + ", as row 0)");
    for (size_t j = 0; j < cols; ++j)
      m(Eigen::Index(i), Eigen::Index(j)) =
          number(v[i][j], key + "[" + std::to_string(i) + "][" + std::to_string(j) + "]");
  }
  return m;
}

LossParams parseParams(const LossSpec& spec, const json& v) {
  LossParams p;
  if (v.is_null()) return p;
  if (!v.is_object()) throw UserError("eval-loss: \"params\" must be an object of name: value");
  std::string allowed;
  for (const auto& ps : spec.params) allowed += (allowed.empty() ? "" : ", ") + ps.name;
  if (allowed.empty()) allowed = "none";
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string& key = it.key();
    const ParamSpec* ps = nullptr;
    for (const auto& q : spec.params)
      if (q.name == key) ps = &q;
    if (!ps)
      throw UserError("eval-loss: loss " + spec.name + " has no parameter '" + shortText(key) +
                      "' (allowed: " + allowed + ")");
    const json& x = it.value();
    const std::string where = "parameter " + key;
    switch (ps->kind) {
      case ParamKind::Bool:
        if (x.is_boolean())
          p.values[key] = x.get<bool>() ? 1 : 0;
        else
          p.values[key] = number(x, where);  // 0/1 checked by validateParams
        break;
      case ParamKind::Choice: {
        std::string choices;
        for (const auto& c : ps->choices) choices += (choices.empty() ? "" : ", ") + c;
        if (!x.is_string())
          throw UserError("eval-loss: " + where + " is " + shortJson(x) + " (allowed: " + choices + ")");
        const std::string s = x.get<std::string>();
        int idx = -1;
        for (size_t c = 0; c < ps->choices.size(); ++c)
          if (ps->choices[c] == s) idx = int(c);
        if (idx < 0)
          throw UserError("eval-loss: " + where + " is '" + shortText(s) + "' (allowed: " + choices + ")");
        p.values[key] = idx;
        break;
      }
      case ParamKind::Vector: {
        if (!x.is_array()) throw UserError("eval-loss: " + where + " must be a list of K numbers");
        std::vector<double> vals;
        for (size_t i = 0; i < x.size(); ++i)
          vals.push_back(number(x[i], where + "[" + std::to_string(i) + "]"));
        p.vectors[key] = vals;
        break;
      }
      case ParamKind::Real:
      case ParamKind::Integer:
        p.values[key] = number(x, where);
        break;
    }
  }
  return p;
}

json rows(const Mat& m) {
  json out = json::array();
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    json r = json::array();
    for (Eigen::Index j = 0; j < m.cols(); ++j) r.push_back(m(i, j));
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

int cmdEvalLoss(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    throw UserError("eval-loss: unknown argument '" + a + "' (allowed: --help; the request comes on stdin)");
  }
  // Bounded before use: the request is read up to kMaxRequestBytes and its nesting measured before parsing.
  std::string text;
  char buf[65536];
  while (std::cin.read(buf, sizeof buf) || std::cin.gcount() > 0) {
    text.append(buf, size_t(std::cin.gcount()));
    if (text.size() > kMaxRequestBytes)
      throw UserError("eval-loss: stdin is larger than " + std::to_string(kMaxRequestBytes >> 20) +
                      " MB (allowed: a request of at most " + std::to_string(kMaxRequestBytes >> 20) +
                      " MB)");
  }
  const json req = parseJsonBounded("eval-loss: stdin", text, 8);
  if (!req.is_object()) throw UserError("eval-loss: stdin must hold one JSON object, not " + shortJson(req));
  for (auto it = req.begin(); it != req.end(); ++it) {
    const std::string& k = it.key();
    if (k != "loss" && k != "params" && k != "features" && k != "weights" && k != "labels")
      throw UserError("eval-loss: unknown key '" + shortText(k) +
                      "' (allowed: loss, params, features, weights, labels)");
  }
  if (!req.contains("loss") || !req["loss"].is_string())
    throw UserError("eval-loss: \"loss\" must be a loss name (see: marginscope losses)");
  const LossSpec& spec = findLoss(req["loss"].get<std::string>());
  if (!req.contains("features")) throw UserError("eval-loss: \"features\" (n x d) is missing");
  const Mat H = matrix(req["features"], "features");
  const Eigen::Index n = H.rows(), d = H.cols();

  const bool has_w = req.contains("weights") && !req["weights"].is_null();
  if (spec.traits.has_weights && !has_w)
    throw UserError("eval-loss: loss " + spec.name +
                    " needs \"weights\" (K x d; omitted only for contrastive, "
                    "triplet, tse, tpe, marginal)");
  Mat W;
  if (has_w) {
    W = matrix(req["weights"], "weights");
    if (W.cols() != d)
      throw UserError("eval-loss: \"weights\" rows have " + std::to_string(W.cols()) +
                      " entries but \"features\" rows have " + std::to_string(d) + " (allowed: the same d)");
  }
  const LossParams params = parseParams(spec, req.contains("params") ? req["params"] : json());
  int k = 1;  // weight rows per class (sub-center ArcFace: K k rows, class-major)
  if (!spec.traits.subcentres.empty()) {
    validateParams(spec, params, 0);  // (no vector parameters there) k's range is checked before it divides
    k = weightRowsPerClass(spec, params);
    if (has_w && W.rows() % k != 0)
      throw UserError("eval-loss: \"weights\" has " + std::to_string(W.rows()) + " rows, not a multiple of " +
                      spec.traits.subcentres + " = " + std::to_string(k) +
                      " (allowed: K k rows, k sub-centres per class, class 0's first)");
  }
  const Eigen::Index K = has_w ? W.rows() / k : 0;

  if (!req.contains("labels") || !req["labels"].is_array())
    throw UserError("eval-loss: \"labels\" must be a list of n integer class labels");
  const json& lab = req["labels"];
  if (Eigen::Index(lab.size()) != n)
    throw UserError("eval-loss: \"labels\" has " + std::to_string(lab.size()) +
                    " entries (allowed: n = " + std::to_string(n) + ", one per row of \"features\")");
  std::vector<int> y;
  const std::string range = has_w ? "0.." + std::to_string(K - 1) : std::string("0 or more");
  for (size_t i = 0; i < lab.size(); ++i) {
    const double v = number(lab[i], "labels[" + std::to_string(i) + "]");
    if (v != std::floor(v) || v < 0 || (has_w && v >= double(K)) || v > 1e9)
      throw UserError("eval-loss: labels[" + std::to_string(i) + "] = " + str(v) +
                      " is out of range (allowed: integers " + range + ")");
    y.push_back(int(v));
  }
  // Pair and triplet losses compare every pair (n x n) or triplet (n^3); class losses hold n x K logits.
  if (!has_w && n > kMaxPairRows)
    throw UserError("eval-loss: \"features\" has n = " + std::to_string(n) + " rows; " + spec.name +
                    " compares all pairs or triplets (allowed: n up to " + std::to_string(kMaxPairRows) +
                    ")");
  if (has_w && double(n) * double(K) > double(kMaxLogits))
    throw UserError("eval-loss: n x K = " + std::to_string(n) + " x " + std::to_string(K) +
                    " logits (allowed: n x K up to " + std::to_string(kMaxLogits) + ")");
  int K_params = int(K);
  if (!has_w) {  // metric losses: K is the number of classes the labels name
    for (int c : y) K_params = std::max(K_params, c + 1);
  }
  validateParams(spec, params, K_params);

  LossState state;  // fresh: lambda, s and alpha from the params
  LossWorkspace ws;
  Mat dH, dW;
  const double loss =
      lossForwardBackward(spec, params, state, H, has_w ? &W : nullptr, y, dH, has_w ? &dW : nullptr, ws);
  if (!std::isfinite(loss) || !dH.allFinite() || (has_w && !dW.allFinite()))
    throw UserError("eval-loss: the loss or a gradient is not finite for this input (loss = " + str(loss) +
                    ")");
  nlohmann::ordered_json out;  // keys in the documented order
  out["loss"] = loss;
  out["grad_features"] = rows(dH);
  if (has_w) out["grad_weights"] = rows(dW);
  std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace ms
