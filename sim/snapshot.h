// The hand-off between the worker thread and everything that draws: Controls go in (versioned), immutable
// Snapshots come out. See DESIGN.md "Parts and the one-way flow".
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/config.h"
#include "sim/metrics.h"
#include "sim/warnings.h"

namespace ms {

// What the UI may change at any time. `version` increases with every write; the worker reports the version
// each Snapshot reflects.
struct Controls {
  uint64_t version = 0;
  Config config;  // loss, params, lr, batch, optimizer apply at the next step; data/model reset
  bool paused = false;
  int single_steps = 0;             // steps to take while paused
  uint64_t reset_count = 0;         // bump to reset
  double max_steps_per_second = 0;  // 0 = unlimited; small values for slow motion
};

struct Snapshot {
  uint64_t controls_version = 0;
  int64_t step = 0;
  int dim = 2, K = 0;
  std::string loss;  // canonical loss name
  LossParams params;
  LossState loss_state;           // lambda, learned s/alpha
  std::vector<float> embeddings;  // (n,dim) row-major: display subset of train then test points
  std::vector<int> labels;        // (n)
  std::vector<uint8_t> is_test;   // (n)
  std::vector<float> inputs;      // (n,2) input-space coordinates when the inputs are 2-D, else empty
  std::vector<double> weights;  // (K,dim) row-major, raw (class weights, or class centres for metric losses)
  std::vector<double> centres;  // (K,dim) row-major, center-type losses; else empty
  std::vector<double> subcentres;  // (K k,dim) row-major, every sub-centre (sub-center ArcFace); else empty;
                                   // `weights` then holds each class's dominant one
  // Input-space class map over a grid (2-D inputs only)
  int grid_w = 0, grid_h = 0;
  float grid_x0 = 0, grid_x1 = 0, grid_y0 = 0, grid_y1 = 0;
  std::vector<uint8_t> grid_class;  // (grid_h, grid_w)
  std::vector<float> grid_conf;     // (grid_h, grid_w) max softmax probability
  std::vector<float> loss_history, train_acc_history, test_acc_history;
  int history_stride = 1;            // training steps per loss_history entry (doubles as it fills)
  int train_acc_history_stride = 8;  // training steps per train_acc_history entry (every 8th batch, averaged)
  int64_t test_history_step0 = 0;    // test_acc_history: one entry per metrics refresh
  int K_all = 0;                     // trained + held-out classes; labels >= K are held out (test only)
  std::vector<std::string> class_names;  // (K_all)
  int input_dim = 2;
  double lr = 0;                   // learning rate in use (after the schedule)
  double control_latency_ms = -1;  // last Controls change -> first step using it (worker); -1: none yet
  int64_t metrics_step = -1;       // step at which metrics, grid and test accuracy were computed
  double loss_value = 0, train_accuracy = 0, test_accuracy = 0, steps_per_second = 0;
  // Points in the whole splits (test: trained classes only). The accuracies above are over the display
  // subset in `embeddings`; a figure's header says so when the subset is smaller than these.
  int64_t train_points = 0, test_points = 0;
  // Embeddings made elsewhere (render --embeddings): `source` names them instead of a training step, and
  // without --weights the class directions in `weights` are class means, drawn and named as such.
  std::string source;
  bool weights_are_means = false;
  Metrics metrics;
  bool diverged = false;
  bool paused = false;
  std::string message;
  std::vector<Warning>
      warnings;  // what went wrong, with advice (sim/warnings.h); empty when training is fine
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

}  // namespace ms
