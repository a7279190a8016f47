// The worker thread: trains continuously, applies Controls at step boundaries, publishes Snapshots.
// The UI never waits on a step; the worker never waits on a frame (see DESIGN.md).
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

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ms
