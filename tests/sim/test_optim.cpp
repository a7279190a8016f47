// Optimiser updates against hand-computed values, clipping, weight decay, schedules and convergence on a
// quadratic.
#include <gtest/gtest.h>

#include <cmath>

#include "sim/errors.h"
#include "sim/optim.h"

namespace ms {
namespace {

const double kLr[3] = {0.1, 0.5, 0.1};

TEST(Optim, SgdMomentumByHand) {
  Optimizer o;
  OptimSettings s;
  s.kind = OptimKind::Sgd;
  s.momentum = 0.9;
  o.configure(s, 2);
  std::vector<ParamSegment> seg = {{0, 1, 0, false}, {1, 1, 1, false}};
  double p[2] = {1, 1}, g[2] = {2, 2};
  o.step(p, g, seg, kLr);
  EXPECT_DOUBLE_EQ(p[0], 1 - 0.1 * 2);
  EXPECT_DOUBLE_EQ(p[1], 1 - 0.5 * 2);  // lr_weights group
  g[0] = 2;
  g[1] = 2;
  o.step(p, g, seg, kLr);
  EXPECT_DOUBLE_EQ(p[0], 0.8 - 0.1 * (0.9 * 2 + 2));
}

TEST(Optim, NesterovByHand) {
  Optimizer o;
  OptimSettings s;
  s.kind = OptimKind::Sgd;
  s.nesterov = true;
  o.configure(s, 1);
  double p[1] = {0}, g[1] = {1};
  o.step(p, g, {{0, 1, 0, false}}, kLr);
  EXPECT_DOUBLE_EQ(p[0], -0.1 * (1 + 0.9 * 1));
}

TEST(Optim, AdamFirstStepIsLrTimesSign) {
  Optimizer o;
  o.configure(OptimSettings{}, 2);
  double p[2] = {0, 0}, g[2] = {3, -1e-3};
  o.step(p, g, {{0, 2, 0, false}}, kLr);
  EXPECT_NEAR(p[0], -0.1, 1e-6);
  EXPECT_NEAR(p[1], 0.1, 1e-4);
}

TEST(Optim, WeightDecayOnlyOnDecayedSegments) {
  Optimizer o;
  OptimSettings s;
  s.kind = OptimKind::Sgd;
  s.momentum = 0;
  s.weight_decay = 0.5;
  o.configure(s, 2);
  double p[2] = {2, 2}, g[2] = {0, 0};
  o.step(p, g, {{0, 1, 0, true}, {1, 1, 0, false}}, kLr);
  EXPECT_DOUBLE_EQ(p[0], 2 - 0.1 * 0.5 * 2);
  EXPECT_DOUBLE_EQ(p[1], 2);
}

TEST(Optim, ClippingBoundsTheGlobalNorm) {
  Optimizer o;
  OptimSettings s;
  s.kind = OptimKind::Sgd;
  s.momentum = 0;
  s.clip = 1.0;
  o.configure(s, 2);
  double p[2] = {0, 0}, g[2] = {3, 4};
  const double norm = o.step(p, g, {{0, 2, 0, false}}, kLr);
  EXPECT_DOUBLE_EQ(norm, 5);
  EXPECT_NEAR(p[0], -0.1 * 0.6, 1e-15);
  EXPECT_NEAR(p[1], -0.1 * 0.8, 1e-15);
}

TEST(Optim, BothConvergeOnAQuadratic) {
  for (OptimKind k : {OptimKind::Sgd, OptimKind::Adam}) {
    Optimizer o;
    OptimSettings s;
    s.kind = k;
    o.configure(s, 3);
    double p[3] = {1, -2, 3};
    const double lr[3] = {0.05, 0.05, 0.05};
    for (int t = 0; t < 2000; ++t) {
      double g[3] = {2 * p[0], 2 * p[1], 2 * p[2]};
      o.step(p, g, {{0, 3, 0, false}}, lr);
    }
    for (double v : p) EXPECT_NEAR(v, 0.0, 1e-3);
  }
}

TEST(Optim, ReconfigureKeepsMomentsUnlessKindChanges) {
  Optimizer o;
  OptimSettings s;
  s.kind = OptimKind::Sgd;
  s.momentum = 0.9;
  o.configure(s, 1);
  double p[1] = {0}, g[1] = {1};
  o.step(p, g, {{0, 1, 0, false}}, kLr);
  s.momentum = 0.5;  // a hyper-parameter change keeps the velocity
  o.configure(s, 1);
  g[0] = 1;
  o.step(p, g, {{0, 1, 0, false}}, kLr);
  EXPECT_DOUBLE_EQ(p[0], -0.1 - 0.1 * (0.5 * 1 + 1));
}

TEST(Optim, Schedules) {
  EXPECT_DOUBLE_EQ(scheduledLr(Schedule::Constant, 0.1, 900, 1000), 0.1);
  EXPECT_DOUBLE_EQ(scheduledLr(Schedule::Step, 0.1, 499, 1000), 0.1);
  EXPECT_DOUBLE_EQ(scheduledLr(Schedule::Step, 0.1, 500, 1000), 0.1 * 0.1);
  EXPECT_DOUBLE_EQ(scheduledLr(Schedule::Step, 0.1, 800, 1000), 0.1 * 0.01);
  EXPECT_DOUBLE_EQ(scheduledLr(Schedule::Cosine, 0.1, 0, 1000), 0.1);
  EXPECT_NEAR(scheduledLr(Schedule::Cosine, 0.1, 500, 1000), 0.5 * (0.1 + 0.001), 1e-15);
  EXPECT_NEAR(scheduledLr(Schedule::Cosine, 0.1, 5000, 1000), 0.001, 1e-15);
  EXPECT_THROW(parseSchedule("linear"), UserError);
  EXPECT_THROW(parseOptimizer("rmsprop"), UserError);
}

}  // namespace
}  // namespace ms
