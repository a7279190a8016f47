// Optimisers over the one contiguous parameter buffer: SGD (momentum, Nesterov) and Adam, L2 weight decay,
// global gradient-norm clipping, a learning-rate schedule, and a separate learning rate for the class
// weights and centres (they often want a different pace than the network, e.g. with a large scale s).
#pragma once
#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/network_simd.h"

namespace ms {

enum class OptimKind { Sgd, Adam };
enum class Schedule { Constant, Step, Cosine };

// A slice of the buffer with its learning-rate group and whether weight decay applies to it.
struct ParamSegment {
  Eigen::Index offset = 0, size = 0;
  int lr_group = 0;    // 0: network (lr), 1: class weights/centres (lr_weights), 2: learnable scale (lr)
  bool decay = false;  // biases and scales are not decayed
};

struct OptimSettings {
  OptimKind kind = OptimKind::Adam;
  double momentum = 0.9;                          // sgd
  bool nesterov = false;                          // sgd
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // adam (Kingma and Ba 2015)
  double weight_decay = 0;
  double clip = 0;  // global gradient-norm clip; 0 = off
};

OptimKind parseOptimizer(const std::string& name);  // throws UserError
Schedule parseSchedule(const std::string& name);    // throws UserError

// lr at `step` of `total`: constant; step (x0.1 at 50% and again at 75%); cosine from base to base/100.
// Past `total` the schedule holds its final value (the live worker keeps going).
double scheduledLr(Schedule s, double base, int64_t step, int64_t total);

class Optimizer {
 public:
  // Keeps the moments when only hyper-parameters change; a change of kind or size clears them.
  void configure(const OptimSettings& s, Eigen::Index n);
  void clearState();
  // One update of params (n) from grads (n); grads are modified (decay, clipping). lr[g] per lr_group.
  // Returns the gradient norm before clipping.
  double step(double* params, double* grads, const std::vector<ParamSegment>& segments, const double lr[3]);
  const OptimSettings& settings() const { return s_; }

 private:
  OptimSettings s_;
  Eigen::Index n_ = 0;
  Eigen::VectorXd m_, v_;  // momentum / Adam first and second moments
  int64_t t_ = 0;
  SimdLevel simd_ = detectSimd();  // element-wise updates in the wide kernels when the CPU has them
};

}  // namespace ms
