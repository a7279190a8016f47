// Synchronous training: data, model, loss and optimiser for one Config. The worker thread drives one of
// these; `marginscope train` and `render` drive one directly. Not thread-safe by itself.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/config.h"
#include "sim/snapshot.h"

namespace ms {

// Sampling for the losses without class weights (pair and triplet losses: contrastive, marginal, triplet,
// tse, tpe). They score every pair or triplet of a batch, O(b^2) or O(b^3) work: tpe at batch 2,000 took
// 63 s a step. Above kSampledRows rows a training step draws its batch of b rows as usual (the next b of the
// epoch's seeded permutation) and scores a uniform random subset of kSampledRows of them: every pair and
// triplet among the subset, with the exact loss and gradients of that set (the network runs on the subset
// only). Estimator: each pair (triplet) of the batch is in the subset with the same probability, so the
// subset's mean over pairs estimates the batch's (without bias for the pair means; a ratio estimate for the
// means over valid or semi-hard triplets, whose count varies). Bound: at most 256 rows a step, so at most
// 256*255/2 = 32,640 pairs and 256^2 * 254 / 4 = 4.2 M triplets (two equal classes give the most): 14 ms of
// CPU a step for triplet and 89 ms for tpe (an exp and a log per triplet) at that worst case on the CI
// machine. Deterministic: the subset is a function of the seed.
constexpr int kSampledRows = 256;
// The rows one training step scores: min(batch, training rows), and at most kSampledRows for a loss
// without class weights. The Config form looks the loss up (UserError when unknown).
int rowsPerStep(const LossSpec& loss, int batch, int training_rows);
int rowsPerStep(const Config& config, int training_rows);
// One line for the app's Training panel: the cost of a step (ms, from the measured rate when no speed cap
// holds it back), the rows scored when the batch is sampled, and a warning (*slow) when a setting makes steps
// slower than 5 a second. Empty when there is nothing to say. max_steps_per_second: the cap, 0 = none.
std::string stepCostNote(const Config& config, double steps_per_second, double max_steps_per_second,
                         bool* slow = nullptr);

class Trainer {
 public:
  explicit Trainer(const Config& config);  // builds data and model; throws UserError on bad config/data
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // One optimisation step. Returns false when it diverged (non-finite loss or parameter): the last finite
  // parameters are restored, diverged() is true and message() says what to change.
  bool step();
  // Applies a new config at a step boundary. Loss, loss params, lr, batch, optimiser: no reset.
  // Returns true when the change needed a reset (dataset, model or architecture changed) and did one.
  bool apply(const Config& config);
  void reset();

  int64_t stepCount() const;
  bool diverged() const;
  const std::string& message() const;
  const Config& config() const;

  // An immutable picture of the current state; metrics are computed when with_metrics.
  // The embeddings are those of a display subset (see Config::display_points); the class map over the input
  // grid, the test accuracy and the metrics are recomputed when with_metrics and reused from the last such
  // call otherwise (they cost far more than a step).
  SnapshotPtr snapshot(bool with_metrics, uint64_t controls_version = 0) const;

  // Embeddings and accuracies of ALL points (not the display subset), for `train --save-embeddings` and the
  // final metrics. Free models have no test embeddings (test is empty, test_accuracy NaN).
  struct Evaluation {
    Mat train, test;  // (n,d), (m,d)
    std::vector<int> train_labels, test_labels;
    double train_accuracy = 0, test_accuracy = 0;  // test: trained classes only
  };
  Evaluation evaluate() const;

  // Floating-point operations of one training step of the network (forward + backward, batch as set).
  double flopsPerStep() const;
  // The rate shown in snapshots; the worker and the command line set their own wall-clock measurement.
  void setStepsPerSecond(double sps);
  // Latency of the last Controls change to the first step that used it, shown in snapshots (worker).
  void setControlLatencyMs(double ms);
  double lastLoss() const;  // loss of the last step's batch (NaN before the first step)
  // The training rows the last step scored, in the order the loss saw them (the sampled subset when the
  // batch was sampled, see kSampledRows); empty before the first step.
  const std::vector<int>& lastRows() const;
  int inputDim() const;
  int classes() const;  // K (trained classes)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ms
