// The training warnings (sim/warnings.h): each detector fires on a run that has the failure and stays quiet
// on the default preset; the pure detectors on constructed inputs with known answers.
#include <gtest/gtest.h>

#include <cmath>

#include "sim/math.h"
#include "sim/rng.h"
#include "sim/trainer.h"
#include "sim/warnings.h"

namespace ms {
namespace {

Config defaultPreset() {  // assets/presets/default.json
  Config c;
  c.classes = 6;
  c.samples = 200;
  c.spread = 0.8;
  c.loss = "arcface";
  c.params.values = {{"s", 30}, {"m", 0.5}};
  c.lr = 0.005;
  c.weight_decay = 5e-4;
  c.batch = 256;
  return c;
}

std::vector<std::string> codes(const Snapshot& s) {
  std::vector<std::string> v;
  for (const Warning& w : s.warnings) v.push_back(w.code);
  return v;
}

bool has(const Snapshot& s, const std::string& code) {
  for (const Warning& w : s.warnings)
    if (w.code == code) return true;
  return false;
}

TEST(Warnings, DefaultPresetTrainsClean) {
  Trainer t(defaultPreset());
  for (int steps : {300, 1000, 2000}) {
    while (t.stepCount() < steps) ASSERT_TRUE(t.step());
    const SnapshotPtr s = t.snapshot(false);
    EXPECT_TRUE(s->warnings.empty()) << steps << ": " << s->warnings.front().code << ": "
                                     << s->warnings.front().message;
  }
}

TEST(Warnings, HugeLearningRateCollapses) {
  Config c = defaultPreset();
  c.lr = 100;
  Trainer t(c);
  for (int i = 0; i < 150; ++i) t.step();
  EXPECT_FALSE(has(*t.snapshot(false), "collapse"));  // too early to judge (kMinSteps)
  for (int i = 0; i < 450; ++i) t.step();
  const SnapshotPtr s = t.snapshot(false);
  ASSERT_TRUE(has(*s, "collapse"));
  EXPECT_FALSE(has(*s, "dead_class"));  // implied by the collapse, not repeated
  EXPECT_NE(s->warnings[0].message.find("lr = 100"), std::string::npos) << s->warnings[0].message;
}

TEST(Warnings, DivergenceIsAWarning) {
  Config c = defaultPreset();
  c.loss = "softmax";
  c.params.values.clear();
  c.optimizer = "sgd";
  c.lr = 10;
  Trainer t(c);
  bool ok = true;
  for (int i = 0; i < 50 && ok; ++i) ok = t.step();
  ASSERT_FALSE(ok);
  const SnapshotPtr s = t.snapshot(false);
  ASSERT_TRUE(has(*s, "diverged"));
  EXPECT_EQ(s->warnings[0].message, t.message());
}

TEST(Warnings, DeadClassOfTheIssue) {
  // ArcFace s 16, m 0.3, 5 blobs, 3-D, spread 0.5, seed 8: two weights end 25 deg apart and one class is
  // predicted for none of its samples (train accuracy 0.80).
  Config c;
  c.classes = 5;
  c.dim = 3;
  c.spread = 0.5;
  c.seed = 8;
  c.loss = "arcface";
  c.params.values = {{"s", 16}, {"m", 0.3}};
  Trainer t(c);
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(t.step());
  const SnapshotPtr s = t.snapshot(false);
  ASSERT_TRUE(has(*s, "dead_class")) << ::testing::PrintToString(codes(*s));
  EXPECT_NEAR(s->train_accuracy, 0.8, 0.02);
  for (const Warning& w : s->warnings) {
    if (w.code == "dead_class") {
      EXPECT_NE(w.message.find(" deg)"), std::string::npos) << w.message;
    }
  }
}

TEST(Warnings, DeadClassNamesTheCrowdingWeights) {
  // Three classes on the circle; class 2's weight sits 10 deg from class 0's and wins nothing.
  Mat W(3, 2);
  W << 1, 0, 0, 1, std::cos(10 / kDeg), std::sin(10 / kDeg);
  Mat H(6, 2);
  H << 1, 0, 1, 0.1, 0, 1, 0.1, 1, 1, 0.2, 1, 0.15;
  const std::vector<int> y = {0, 0, 1, 1, 2, 2}, pred = {0, 0, 1, 1, 0, 0};
  WarningInput in;
  in.step = 500;
  in.K = 3;
  in.lr = 0.01;
  in.H = &H;
  in.labels = &y;
  in.predicted = &pred;
  in.W = &W;
  in.train_accuracy = 4.0 / 6;
  const std::vector<Warning> w = detectWarnings(in);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].code, "dead_class");
  EXPECT_NE(w[0].message.find("class 2 wins none of its 2"), std::string::npos) << w[0].message;
  EXPECT_NE(w[0].message.find("class 0 (10.0 deg)"), std::string::npos) << w[0].message;
  EXPECT_NE(w[0].message.find("100% go to class 0"), std::string::npos) << w[0].message;
  // Every class predicted at least once: nothing to say. Too early: nothing either.
  const std::vector<int> fine = {0, 0, 1, 1, 2, 0};
  in.predicted = &fine;
  EXPECT_TRUE(detectWarnings(in).empty());
  in.predicted = &pred;
  in.step = kMinSteps - 1;
  EXPECT_TRUE(detectWarnings(in).empty());
}

TEST(Warnings, LossOscillationDefinition) {
  // Losses 1 for 16 steps, 5 for 16, ...: a 5x swing every 32 steps; 256 steps hold 8 rises.
  std::vector<double> swing;
  for (int i = 0; i < kOscWindow; ++i) swing.push_back((i / 16) % 2 ? 5.0 : 1.0);
  int swings = 0;
  double lo = 0, hi = 0;
  EXPECT_TRUE(lossOscillates(swing, &swings, &lo, &hi));
  EXPECT_EQ(swings, 8);
  EXPECT_EQ(lo, 1.0);
  EXPECT_EQ(hi, 5.0);
  // The same swing by 2x is not large; a window too short is not judged.
  std::vector<double> small = swing;
  for (double& v : small) v = v > 1 ? 2.0 : 1.0;
  EXPECT_FALSE(lossOscillates(small, nullptr, nullptr, nullptr));
  EXPECT_FALSE(
      lossOscillates(std::vector<double>(swing.begin(), swing.begin() + 200), nullptr, nullptr, nullptr));
  // Batch noise of a factor 100 between batches (+-2 sigma) around a falling level, as ArcFace's batch losses
  // near convergence, averages out in the blocks: no warning.
  Rng rng(4);
  std::vector<double> noisy;
  for (int i = 0; i < kOscWindow; ++i) noisy.push_back(std::exp(-i / 200.0) * std::exp(1.2 * rng.normal()));
  EXPECT_FALSE(lossOscillates(noisy, &swings, nullptr, nullptr)) << swings;
  // A single spike (one rise, one fall) is not an oscillation.
  std::vector<double> spike(kOscWindow, 1.0);
  for (int i = 100; i < 116; ++i) spike[i] = 10;
  EXPECT_FALSE(lossOscillates(spike, &swings, nullptr, nullptr));
  EXPECT_EQ(swings, 1);
  // detectWarnings reports it with the numbers and the learning rate.
  WarningInput in;
  in.lr = 0.4;
  in.recent_losses = &swing;
  const std::vector<Warning> w = detectWarnings(in);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].code, "lr_oscillation");
  EXPECT_NE(w[0].message.find("lr = 0.4"), std::string::npos) << w[0].message;
}

TEST(Warnings, PrintedOneLineEach) {
  const std::vector<Warning> w = {{"collapse", "a b"}, {"dead_class", "c"}};
  char buf[256] = {};
  std::FILE* f = fmemopen(buf, sizeof buf, "w");
  printWarnings(w, f);
  std::fclose(f);
  EXPECT_STREQ(buf, "warning: collapse: a b\nwarning: dead_class: c\n");
}

}  // namespace
}  // namespace ms
