// The worker thread: trains continuously, applies Controls at step boundaries, publishes Snapshots.
// The UI never waits on a step; the worker never waits on a frame (see DESIGN.md).
//
// Controls semantics: every setControls is a new version. Loss, loss parameters, lr, batch and optimiser
// apply at the next step boundary without a reset; dataset, model or architecture changes rebuild the run;
// a larger reset_count resets it. single_steps of a write are ADDED to the steps still to take while paused
// (so write 0 again afterwards, or each write takes that many more). A divergence pauses the worker until the
// next setControls (e.g. a lower learning rate). Snapshots are published every ~8 ms at most (less often
// when building one is slow, so that publishing costs at most ~25% of the time); metrics, the input-space
// class map and the test accuracy are refreshed every ~150 ms and at once after a control change.
#pragma once
#include <memory>

#include "sim/snapshot.h"

namespace ms {

class Worker {
 public:
  explicit Worker(const Controls& initial);  // starts the thread; throws UserError on a bad initial config
  ~Worker();                                 // stops and joins
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Writes new controls (any thread). The version is assigned here and returned.
  uint64_t setControls(Controls c);
  Controls controls() const;
  // The latest published snapshot; never blocks beyond a pointer swap. May be null before the first one.
  SnapshotPtr latest() const;
  // A UserError raised by a control change (bad dataset file, ...), cleared when read; empty if none.
  std::string takeError();
  // Milliseconds from the last setControls to the first training step that used it (to its first snapshot
  // while paused); -1 before any change was applied. Also in Snapshot::control_latency_ms.
  double lastControlLatencyMs() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ms
