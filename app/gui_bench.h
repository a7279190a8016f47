// Measurement for the desktop app, kept out of the main loop: the scripted run (--bench, --screenshot-at,
// --screenshot-every) that presses what a user would, and the frame statistics that become the --report
// JSON. Both are plain values owned by gui_main's cmdGui; nothing here touches GL.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/app_state.h"

namespace ms {

struct ScriptOptions {
  bool bench = false;           // training with m changed twice a second, then paused
  double quit_after = 0;        // seconds; the --bench phases are fractions of it (20 s if 0)
  double screenshot_at = -1;    // press the screenshot key once at this time (s); -1: never
  double screenshot_every = 0;  // press it every this many seconds (after the first snapshot); 0: never
};

// What the script wants measured in a frame.
enum class BenchPhase { Other, Training, Paused };

// Drives AppState as a user would, one call per frame before frame(): pauses, pokes m, requests screenshots.
class BenchScript {
 public:
  explicit BenchScript(const ScriptOptions& o) : o_(o) {}
  BenchPhase tick(AppState& s, double t);

 private:
  ScriptOptions o_;
  double next_poke_ = 0, next_shot_ = -1;
  bool poke_hi_ = false, shot_done_ = false;
};

// Where one frame's time went (ms): UI logic, the views' blits, the UI's GL draw, the swap.
struct FrameParts {
  double ui = 0, views = 0, imgui = 0, swap = 0;
};

// Frame times and training rate over a run, and the report written from them at exit.
class FrameStats {
 public:
  explicit FrameStats(bool bench) : bench_(bench) {}
  // One finished frame at app time t (s): its own work (ms, the pacing wait excluded), the interval since
  // the previous one (ms) and its parts. The first second (shader compiles, first data) is not counted.
  void add(const AppState& s, double t, BenchPhase phase, double frame_ms, double interval_ms,
           const FrameParts& parts);
  // The --report JSON (DESIGN.md "GUI options"): frame_time_ms{p50,p90,p99,max,frames} (the training phase
  // under --bench, else every frame), frame_time_ms_all, steps_per_second (mean over the training), ...
  nlohmann::json report(const AppState& s) const;

 private:
  bool bench_;
  std::vector<double> all_, run_, paused_, interval_;
  std::vector<double> ui_, views_, imgui_, swap_;
  double train_seconds_ = 0, train_steps_ = 0, max_sps_ = 0, last_t_ = -1;
  int64_t last_step_ = -1;
};

// p50/p90/p99/max/frames of a sample (null when empty): the nearest-rank percentile.
nlohmann::json percentiles(std::vector<double> v);

}  // namespace ms
