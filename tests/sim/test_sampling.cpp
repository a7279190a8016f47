// Pair and triplet losses sample a large batch (issue 13, point 5; sim/trainer.h, kSampledRows): a step
// scores at most kSampledRows rows, the sample is a function of the seed, and the step's loss and gradient
// are exactly those of the loss over the sampled rows. Free embeddings with plain SGD make the gradient
// visible: a row moves by -lr dL/dH_i, and a row the step did not score does not move at all.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "sim/loss.h"
#include "sim/trainer.h"

namespace ms {
namespace {

// 4 classes x 1,000 blobs, 3,000 of them for training; free embeddings, SGD without momentum or decay.
Config freeEmbeddings(const std::string& loss, int batch) {
  Config c;
  c.loss = loss;
  c.classes = 4;
  c.samples = 1000;
  c.model = "free";
  c.optimizer = "sgd";
  c.momentum = 0;
  c.weight_decay = 0;
  c.lr = 0.1;
  c.batch = batch;
  c.grid = 0;
  return c;
}

// Training rows whose embedding changed between two evaluations.
int movedRows(const Mat& a, const Mat& b) {
  int n = 0;
  for (Eigen::Index i = 0; i < a.rows(); ++i) n += a.row(i) != b.row(i);
  return n;
}

TEST(Sampling, APairLossStepScoresABoundedSample) {
  // Contrastive over a 3,000-row batch: without sampling every row moves (4.5 M pairs a step).
  Trainer t(freeEmbeddings("contrastive", 3000));
  const Mat before = t.evaluate().train;
  ASSERT_EQ(before.rows(), 3000);
  ASSERT_TRUE(t.step()) << t.message();
  const int moved = movedRows(before, t.evaluate().train);
  EXPECT_GT(moved, kSampledRows / 2);
  EXPECT_LE(moved, kSampledRows);
}

TEST(Sampling, TripletLossStepsScoreABoundedSample) {
  for (const char* loss : {"triplet", "tse", "tpe", "marginal"}) {
    SCOPED_TRACE(loss);
    Trainer t(freeEmbeddings(loss, 600));  // unsampled: 600 x 150 x 450 = 40 M triplets a step
    const Mat before = t.evaluate().train;
    ASSERT_TRUE(t.step()) << t.message();
    const int moved = movedRows(before, t.evaluate().train);
    EXPECT_GT(moved, 0);
    EXPECT_LE(moved, kSampledRows);
  }
}

TEST(Sampling, LossAndGradientAreThoseOfTheSampledRows) {
  for (const char* loss : {"contrastive", "triplet", "tse", "tpe"}) {
    SCOPED_TRACE(loss);
    const Config c = freeEmbeddings(loss, 3000);
    Trainer t(c);
    const Trainer::Evaluation e0 = t.evaluate();
    ASSERT_TRUE(t.step()) << t.message();
    const std::vector<int> rows = t.lastRows();
    ASSERT_EQ(int(rows.size()), kSampledRows);
    ASSERT_EQ(std::set<int>(rows.begin(), rows.end()).size(), rows.size());  // one epoch: no repeats
    // The loss over the sampled rows, in the order the step saw them, computed by the loss function itself.
    Mat H(kSampledRows, c.dim), dH;
    std::vector<int> y(kSampledRows);
    for (int i = 0; i < kSampledRows; ++i) {
      H.row(i) = e0.train.row(rows[i]);
      y[i] = e0.train_labels[rows[i]];
    }
    LossState state;
    LossWorkspace ws;
    const double expected =
        lossForwardBackward(findLoss(loss), c.params, state, H, nullptr, y, dH, nullptr, ws);
    EXPECT_DOUBLE_EQ(t.lastLoss(), expected);
    // SGD: each sampled row moved by -lr times its gradient in the sampled set; every other row stayed.
    const Mat after = t.evaluate().train;
    std::vector<char> sampled(after.rows(), 0);
    for (int i = 0; i < kSampledRows; ++i) {
      sampled[rows[i]] = 1;
      for (int j = 0; j < c.dim; ++j)
        EXPECT_NEAR(after(rows[i], j), H(i, j) - c.lr * dH(i, j), 1e-12) << "row " << rows[i];
    }
    for (Eigen::Index r = 0; r < after.rows(); ++r)
      EXPECT_TRUE(sampled[r] || after.row(r) == e0.train.row(r)) << "row " << r << " moved unsampled";
  }
}

TEST(Sampling, TheSampleIsAFunctionOfTheSeed) {
  Config c = freeEmbeddings("triplet", 2000);
  Trainer a(c), b(c);
  c.seed = 2;
  Trainer other(c);
  for (int s = 0; s < 5; ++s) {
    ASSERT_TRUE(a.step());
    ASSERT_TRUE(b.step());
    ASSERT_TRUE(other.step());
    EXPECT_EQ(a.lastRows(), b.lastRows());
    EXPECT_NE(a.lastRows(), other.lastRows());
  }
  EXPECT_TRUE(a.evaluate().train == b.evaluate().train);
}

TEST(Sampling, ClassifierLossesUseTheWholeBatch) {
  Trainer t(freeEmbeddings("arcface", 3000));
  ASSERT_TRUE(t.step());
  EXPECT_EQ(t.lastRows().size(), 3000u);
  EXPECT_EQ(rowsPerStep(freeEmbeddings("arcface", 3000), 3000), 3000);
  EXPECT_EQ(rowsPerStep(freeEmbeddings("triplet", 3000), 3000), kSampledRows);
  EXPECT_EQ(rowsPerStep(freeEmbeddings("triplet", 100), 3000), 100);
  EXPECT_EQ(rowsPerStep(freeEmbeddings("contrastive", 3000), 40), 40);
}

TEST(Sampling, TheStepCostNoteSaysWhenStepsAreSlow) {
  bool slow = false;
  const std::string n1 = stepCostNote(freeEmbeddings("triplet", 2048), 2.0, 0, &slow);
  EXPECT_TRUE(slow) << n1;
  EXPECT_NE(n1.find("500 ms a step"), std::string::npos) << n1;
  EXPECT_NE(stepCostNote(freeEmbeddings("tpe", 2048), 0.8, 0).find("1250 ms a step"), std::string::npos);
  EXPECT_NE(n1.find("256 of the batch's 2048 rows"), std::string::npos) << n1;
  const std::string n2 = stepCostNote(freeEmbeddings("arcface", 256), 1000, 0, &slow);
  EXPECT_FALSE(slow) << n2;
  EXPECT_EQ(n2, "1 ms a step");
  // Held at a slow-motion speed cap of 2 steps/s, 2 steps/s is not a slow setting.
  EXPECT_EQ(stepCostNote(freeEmbeddings("arcface", 256), 2.0, 2.0, &slow), "");
  EXPECT_FALSE(slow);
  EXPECT_EQ(stepCostNote(freeEmbeddings("arcface", 256), 0, 0, &slow), "");  // paused: no rate
}

}  // namespace
}  // namespace ms
