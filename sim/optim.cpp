// SGD and Adam over parameter segments (see optim.h). Vectorised with Eigen array maps per segment.
#include "sim/optim.h"

#include <algorithm>
#include <cmath>

#include "sim/errors.h"
#include "sim/math.h"

namespace ms {

OptimKind parseOptimizer(const std::string& name) {
  if (name == "sgd") return OptimKind::Sgd;
  if (name == "adam") return OptimKind::Adam;
  throw UserError("optimizer: unknown " + shownValue(name) + " (allowed: sgd, adam)");
}

Schedule parseSchedule(const std::string& name) {
  if (name == "constant") return Schedule::Constant;
  if (name == "step") return Schedule::Step;
  if (name == "cosine") return Schedule::Cosine;
  throw UserError("schedule: unknown " + shownValue(name) + " (allowed: constant, step, cosine)");
}

double scheduledLr(Schedule s, double base, int64_t step, int64_t total) {
  if (s == Schedule::Constant || total <= 0) return base;
  const double t = std::min(1.0, double(step) / double(total));
  if (s == Schedule::Step) return base * (t >= 0.75 ? 0.01 : t >= 0.5 ? 0.1 : 1.0);
  const double lo = base * 0.01;  // cosine (Loshchilov and Hutter 2017, no restarts)
  return lo + 0.5 * (base - lo) * (1.0 + std::cos(kPi * t));
}

void Optimizer::configure(const OptimSettings& s, Eigen::Index n) {
  if (s.kind != s_.kind || n != n_) {
    n_ = n;
    s_ = s;
    clearState();
  }
  s_ = s;
}

void Optimizer::clearState() {
  m_.setZero(n_);
  v_.setZero(n_);
  t_ = 0;
}

double Optimizer::step(double* params, double* grads, const std::vector<ParamSegment>& segments,
                       const double lr[3]) {
  using A = Eigen::Map<Eigen::ArrayXd>;
  if (m_.size() != n_) clearState();
  ++t_;
  for (const ParamSegment& g : segments)
    if (g.decay && s_.weight_decay > 0)
      A(grads + g.offset, g.size) += s_.weight_decay * A(params + g.offset, g.size);
  const double norm = Eigen::Map<Eigen::VectorXd>(grads, n_).norm();
  if (s_.clip > 0 && norm > s_.clip) Eigen::Map<Eigen::VectorXd>(grads, n_) *= s_.clip / norm;
  const double bc1 = 1.0 - std::pow(s_.beta1, double(t_)), bc2 = 1.0 - std::pow(s_.beta2, double(t_));
  for (const ParamSegment& g : segments) {
    A p(params + g.offset, g.size), dp(grads + g.offset, g.size);
    A m(m_.data() + g.offset, g.size), v(v_.data() + g.offset, g.size);
    const double a = lr[g.lr_group];
    if (simd_ != SimdLevel::Generic) {
      if (s_.kind == OptimKind::Sgd)
        simdKernels(simd_).sgd(p.data(), dp.data(), m.data(), g.size, a, s_.momentum, s_.nesterov);
      else
        simdKernels(simd_).adam(p.data(), dp.data(), m.data(), v.data(), g.size, a / bc1, s_.beta1, s_.beta2,
                                bc2, s_.eps);
      continue;
    }
    if (s_.kind == OptimKind::Sgd) {
      m = s_.momentum * m + dp;
      if (s_.nesterov)
        p -= a * (dp + s_.momentum * m);  // Sutskever et al. 2013 in the PyTorch form
      else
        p -= a * m;
    } else {
      m = s_.beta1 * m + (1.0 - s_.beta1) * dp;
      v = s_.beta2 * v + (1.0 - s_.beta2) * dp.square();
      p -= (a / bc1) * m / ((v / bc2).sqrt() + s_.eps);
    }
  }
  return norm;
}

}  // namespace ms
