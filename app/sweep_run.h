// Running a sweep's runs on this machine: a pool of --jobs threads, each run single-threaded (a Trainer of
// its own: sim/ has no globals, so runs in threads share nothing), one progress line with the time left on
// stderr, and Ctrl-C handled as "stop starting and abandon the running ones": the finished runs' JSON files
// are already in place (each written atomically when its run ends), so the same command resumes.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "app/sweep_plan.h"

namespace ms {

// The metrics JSON text of one run, exactly what `marginscope train --metrics` writes for its config
// (timing keys aside). Returns "" when *stop became true before the run finished. `step` is set to the
// steps done as the run goes (for the progress line).
struct RunProgress {
  std::atomic<int64_t> step{0};
  std::atomic<int64_t> total{0};  // 0: no run on this slot
};
std::string trainRun(const Config& config, const std::atomic<bool>* stop, RunProgress* progress,
                     int* warnings);

struct PoolResult {
  int finished = 0;          // runs whose JSON was written
  int with_warnings = 0;     // of those, runs whose JSON lists training warnings
  bool interrupted = false;  // SIGINT/SIGTERM arrived: the unfinished runs were abandoned
};
// Trains runs[todo[i]] for every i on `jobs` threads and writes each JSON to out_dir/NAME atomically.
// A run's UserError (e.g. a missing data set) stops the pool and is rethrown after every thread ended.
PoolResult runPool(const std::vector<SweepRun>& runs, const std::vector<size_t>& todo, int jobs,
                   const std::string& out_dir, bool quiet);

}  // namespace ms
