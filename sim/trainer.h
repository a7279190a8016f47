// Synchronous training: data, model, loss and optimiser for one Config. The worker thread drives one of
// these; `marginscope train` and `render` drive one directly. Not thread-safe by itself.
#pragma once
#include <functional>
#include <memory>

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
  SnapshotPtr snapshot(bool with_metrics, uint64_t controls_version = 0) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ms
