// Synchronous training: data, model, loss and optimiser for one Config. The worker thread drives one of
// these; `marginscope train` and `render` drive one directly. Not thread-safe by itself.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "sim/config.h"
#include "sim/snapshot.h"

namespace ms {

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
  int inputDim() const;
  int classes() const;  // K (trained classes)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ms
