// The trainer: it learns, it is bit-for-bit deterministic, it survives divergence, it applies changes without
// a reset where it should and with one where it must, and every loss of the catalogue trains through it.
#include <gtest/gtest.h>

#include <cmath>

#include "sim/dataset.h"
#include "sim/errors.h"
#include "sim/trainer.h"

namespace ms {
namespace {

Config small() {
  Config c;
  c.classes = 4;
  c.samples = 100;
  c.hidden = {32, 32};
  c.batch = 64;
  c.steps = 300;
  return c;
}

bool allFinite(const Snapshot& s) {
  for (float v : s.embeddings)
    if (!std::isfinite(v)) return false;
  for (double v : s.weights)
    if (!std::isfinite(v)) return false;
  return true;
}

TEST(Trainer, LearnsSeparableBlobs) {
  Config c = small();
  Trainer t(c);
  const double before = t.snapshot(false)->train_accuracy;
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(t.step()) << t.message();
  auto s = t.snapshot(true);
  EXPECT_EQ(s->step, 300);
  EXPECT_GT(s->train_accuracy, 0.95);
  EXPECT_GT(s->test_accuracy, 0.9);
  EXPECT_LT(before, 0.9);
  EXPECT_EQ(s->K, 4);
  EXPECT_EQ(s->weights.size(), 4u * 2);
  EXPECT_EQ(s->labels.size(), 400u);
  EXPECT_EQ(s->inputs.size(), 400u * 2);
  EXPECT_EQ(s->grid_class.size(), size_t(s->grid_w) * s->grid_h);
  EXPECT_GT(s->loss_history.size(), 100u);
  EXPECT_LT(s->loss_history.back(), s->loss_history.front());
}

TEST(Trainer, SameSeedIsBitIdentical) {
  for (const char* loss : {"arcface", "softmax", "center", "triplet"}) {
    Config c = small();
    c.loss = loss;
    c.optimizer = "sgd";
    c.lr = 0.05;
    Trainer a(c), b(c);
    for (int i = 0; i < 60; ++i) {
      a.step();
      b.step();
    }
    auto sa = a.snapshot(true), sb = b.snapshot(true);
    EXPECT_EQ(sa->embeddings, sb->embeddings) << loss;
    EXPECT_EQ(sa->weights, sb->weights) << loss;
    EXPECT_EQ(sa->centres, sb->centres) << loss;
    EXPECT_EQ(sa->loss_history, sb->loss_history) << loss;
    EXPECT_EQ(sa->metrics.angles.intra_mean_deg, sb->metrics.angles.intra_mean_deg) << loss;
    EXPECT_EQ(sa->loss_value, sb->loss_value) << loss;
    c.seed = 2;
    Trainer o(c);
    for (int i = 0; i < 60; ++i) o.step();
    EXPECT_NE(sa->embeddings, o.snapshot(false)->embeddings) << loss;
  }
}

TEST(Trainer, DivergencePausesAndRestores) {
  Config c = small();
  c.loss = "softmax";
  c.optimizer = "sgd";
  c.momentum = 0;
  c.weight_decay = 0;
  c.lr = 1e3;
  Trainer t(c);
  bool ok = true;
  int i = 0;
  for (; i < 200 && ok; ++i) ok = t.step();
  ASSERT_FALSE(ok) << "lr = 1000 with unnormalised softmax should blow up";
  EXPECT_TRUE(t.diverged());
  EXPECT_NE(t.message().find("lower the learning rate"), std::string::npos) << t.message();
  EXPECT_NE(t.message().find("lr = 1000"), std::string::npos) << t.message();
  auto s = t.snapshot(true);
  EXPECT_TRUE(s->diverged);
  EXPECT_TRUE(allFinite(*s));
  EXPECT_EQ(s->step, i - 1);
  // Lowering the rate clears the state and training goes on from the restored parameters.
  c.lr = 0.01;
  EXPECT_FALSE(t.apply(c));
  EXPECT_FALSE(t.diverged());
  EXPECT_TRUE(t.step());
}

TEST(Trainer, ApplyWithoutAndWithReset) {
  Config c = small();
  Trainer t(c);
  for (int i = 0; i < 20; ++i) t.step();
  c.lr = 0.002;
  c.loss = "am-softmax";
  c.params.values["m"] = 0.2;
  c.batch = 32;
  c.optimizer = "sgd";
  EXPECT_FALSE(t.apply(c));
  EXPECT_EQ(t.stepCount(), 20);
  t.step();
  auto s = t.snapshot(false);
  EXPECT_EQ(s->step, 21);
  EXPECT_EQ(s->loss, "am-softmax");
  EXPECT_EQ(s->params.values.at("m"), 0.2);
  c.dataset = "moons";
  EXPECT_TRUE(t.apply(c));
  EXPECT_EQ(t.stepCount(), 0);
  c.hidden = {16};
  EXPECT_TRUE(t.apply(c));
  // A bad change is refused whole: nothing half-applied.
  Config bad = c;
  bad.lr = 0.5;
  bad.params.values["m"] = 99;
  EXPECT_THROW(t.apply(bad), UserError);
  EXPECT_EQ(t.config().lr, c.lr);
  bad = c;
  bad.dataset = "csv:/nonexistent.csv";
  EXPECT_THROW(t.apply(bad), UserError);
  EXPECT_EQ(t.config().dataset, "moons");
  EXPECT_TRUE(t.step());
}

TEST(Trainer, EveryLossTrains) {
  for (const LossSpec& spec : lossCatalogue()) {
    for (const char* model : {"mlp", "free"}) {
      Config c = small();
      c.loss = spec.name;
      c.model = model;
      c.lr = 0.005;
      Trainer t(c);
      for (int i = 0; i < 30; ++i) ASSERT_TRUE(t.step()) << spec.name << " " << model << ": " << t.message();
      auto s = t.snapshot(true);
      EXPECT_TRUE(allFinite(*s)) << spec.name;
      EXPECT_TRUE(std::isfinite(s->loss_value)) << spec.name;
      EXPECT_EQ(s->weights.size(), size_t(s->K) * s->dim) << spec.name;
    }
  }
}

TEST(Trainer, ThreeDAndWideEmbeddings) {
  for (int d : {3, 16}) {
    Config c = small();
    c.dim = d;
    c.input_dim = 5;
    Trainer t(c);
    for (int i = 0; i < 200; ++i) t.step();
    auto s = t.snapshot(true);
    EXPECT_EQ(s->dim, d);
    EXPECT_EQ(s->embeddings.size(), s->labels.size() * d);
    EXPECT_TRUE(s->inputs.empty());
    EXPECT_TRUE(s->grid_class.empty());
    EXPECT_GT(s->train_accuracy, 0.9);
  }
}

TEST(Trainer, LearnableScaleMoves) {
  Config c = small();
  c.loss = "normface";
  c.params.values["learn_s"] = 1;
  c.params.values["s"] = 2;
  Trainer t(c);
  for (int i = 0; i < 100; ++i) t.step();
  const double s = t.snapshot(false)->loss_state.s;
  EXPECT_GT(s, 2.05);  // with separable data a larger s lowers the loss
}

TEST(Trainer, LambdaIsAnnealed) {
  Config c = small();
  c.loss = "a-softmax";
  Trainer t(c);
  for (int i = 0; i < 50; ++i) t.step();
  const auto s = t.snapshot(false);
  EXPECT_DOUBLE_EQ(s->loss_state.lambda, annealedLambda(findLoss("a-softmax"), c.params, 49));
  EXPECT_LT(s->loss_state.lambda, 1000);
}

TEST(Trainer, WeightedSoftmaxGetsInverseFrequencyWeights) {
  Config c = small();
  c.loss = "weighted-softmax";
  c.imbalance = 4;
  Trainer t(c);
  const auto snap = t.snapshot(false);  // keeps the snapshot alive while w refers into it
  const auto& w = snap->params.vectors.at("class_weights");
  ASSERT_EQ(w.size(), 4u);
  EXPECT_GT(w[3], 3 * w[0]);
}

TEST(Trainer, CentresFollowTheClassMeans) {
  Config c = small();
  c.loss = "center";
  c.params.values["lambda"] = 0.1;
  Trainer t(c);
  for (int i = 0; i < 200; ++i) t.step();
  const auto s = t.snapshot(false);
  ASSERT_EQ(s->centres.size(), 8u);
  // Each centre lies near the mean of its class's training embeddings.
  for (int k = 0; k < 4; ++k) {
    double m[2] = {0, 0};
    int n = 0;
    for (size_t i = 0; i < s->labels.size(); ++i)
      if (!s->is_test[i] && s->labels[i] == k) {
        m[0] += s->embeddings[2 * i];
        m[1] += s->embeddings[2 * i + 1];
        ++n;
      }
    const double dx = s->centres[2 * k] - m[0] / n, dy = s->centres[2 * k + 1] - m[1] / n;
    const double spreadOfMean = std::hypot(m[0] / n, m[1] / n);
    EXPECT_LT(std::hypot(dx, dy), 0.2 * spreadOfMean + 0.05) << k;
  }
}

TEST(Trainer, MetricLossesPublishUnitClassDirections) {
  Config c = small();
  c.loss = "contrastive";
  Trainer t(c);
  for (int i = 0; i < 50; ++i) t.step();
  const auto s = t.snapshot(false);
  for (int k = 0; k < 4; ++k) EXPECT_NEAR(std::hypot(s->weights[2 * k], s->weights[2 * k + 1]), 1.0, 1e-9);
}

TEST(Trainer, HeldOutClassesAndEvaluate) {
  Config c = small();
  c.classes = 5;
  c.holdout_classes = {4};
  Trainer t(c);
  for (int i = 0; i < 100; ++i) t.step();
  const auto e = t.evaluate();
  EXPECT_EQ(t.classes(), 4);
  EXPECT_EQ(e.train.rows(), 4 * 75);
  EXPECT_EQ(e.test.rows(), 4 * 25 + 100);  // all of the held-out class is test
  const auto s = t.snapshot(false);
  EXPECT_EQ(s->K_all, 5);
  EXPECT_NEAR(s->test_accuracy, e.test_accuracy, 1e-12);  // the display subset is everything here
}

TEST(Trainer, BadConfigNamesTheKey) {
  Config c = small();
  c.dim = 1;
  try {
    Trainer t(c);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("dim"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("2..64"), std::string::npos);
  }
  c = small();
  c.hidden = {8, 8, 8, 8, 8};
  EXPECT_THROW(Trainer{c}, UserError);
  c = small();
  c.params.values["s"] = 5000;
  EXPECT_THROW(Trainer{c}, UserError);
}

// The dataset names come from one list (sim/dataset.h): every name on it passes validateConfig and, for the
// sets that need no file, trains; a name off the list is refused with a message listing every entry.
TEST(Trainer, DatasetNamesAreOneList) {
  const std::vector<std::string>& names = datasetNames();
  ASSERT_FALSE(names.empty());
  Config c = small();
  c.steps = 5;
  for (const std::string& n : names) {
    SCOPED_TRACE(n);
    const size_t colon = n.find(':');
    if (colon != std::string::npos) {  // a pattern such as csv:PATH: any non-empty path passes validation
      c.dataset = n.substr(0, colon + 1) + "/some/file.csv";
      EXPECT_NO_THROW(validateConfig(c));
      c.dataset = n.substr(0, colon + 1);
      EXPECT_THROW(validateConfig(c), UserError);
      continue;
    }
    c.dataset = n;
    EXPECT_NO_THROW(validateConfig(c));
    if (n == "fashion-mnist") continue;  // needs the Debian package's files
    Trainer t(c);
    EXPECT_TRUE(t.step()) << t.message();
  }
  c.dataset = "swiss-roll";
  try {
    validateConfig(c);
    FAIL() << "an unknown dataset passed";
  } catch (const UserError& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind("dataset: unknown 'swiss-roll'", 0), 0u) << m;
    for (const std::string& n : names) EXPECT_NE(m.find(n), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace ms
