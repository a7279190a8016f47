// "Your own model": `render|train --embeddings FILE --labels FILE [--weights FILE] [--split-column]` draw and
// measure embeddings made elsewhere instead of training. The files are read by sim/embeddings_io.h; this
// builds the Snapshot the renderer draws and the metrics JSON (the keys of `train` that mean something here,
// and "source" in place of the training fields). Class directions are the given weights, else the unit class
// means; accuracy is the argmax of the named loss's test rule over the weights, else the nearest class mean.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "app/config_io.h"
#include "sim/embeddings_io.h"
#include "sim/snapshot.h"

namespace ms {

struct ExternalRun {
  ExternalData data;
  Config config;   // the loss, its params and the seed (pair sampling); nothing else applies
  Mat directions;  // (K,d) the weights as given, or the unit class means
  std::string accuracy_rule;
  double train_accuracy = 0, test_accuracy = 0;  // test: NaN without a test split
  SnapshotPtr snapshot;                          // metrics included
  TrainingOptions opts;                          // the file names, for "source"
};

// Reads the files and computes everything; throws UserError (one line naming option and file) on bad input.
ExternalRun runExternal(const TrainingOptions& opts, const Config& config);

// The metrics JSON of an external run (see the file comment).
nlohmann::json externalMetricsJson(const ExternalRun& r);

// The view options `render` parsed, handed over as given (cmd_render.cpp's early branch).
struct ExternalViewArgs {
  std::string out, svg, metrics, view, theme, background, camera;
  int width = 1600, height = 1200;
  double scale = 1, dpi = 300, yaw = 0.6, pitch = 0.35, zoom = 1, point_size = 6;
  bool annotate = false, raw = false, true_norm = false, no_legend = false, quiet = false;
  bool camera_given = false;  // --yaw or --pitch given
};

// `render --embeddings ...`: checks the view options (views need d = 2 or 3), draws the PNG (and SVG),
// writes the metrics JSON; all outputs or none. Returns the exit code.
int renderExternal(const TrainingOptions& opts, const ExternalViewArgs& a);

// `train --embeddings ...`: the metrics JSON only (any d up to 4096). Returns the exit code.
int trainExternal(const TrainingOptions& opts, const std::string& metrics_path, bool quiet);

}  // namespace ms
