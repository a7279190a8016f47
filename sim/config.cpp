// Config validation: every field's name and range, checked before anything is built, so that a bad value
// gives one line naming the key, the value and what is allowed (UserError). The dataset names come from the
// dataset code (datasetNames), the model, activation, loss, optimiser and schedule names from their parsers.
#include <cmath>
#include <cstdio>
#include <string>

#include "sim/config.h"
#include "sim/dataset.h"
#include "sim/errors.h"
#include "sim/network.h"
#include "sim/optim.h"

namespace ms {

namespace {

std::string fmt(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

void rangeCheck(const char* key, double v, double lo, double hi, bool integer = false) {
  if (!(v >= lo && v <= hi) || (integer && v != std::floor(v)))
    throw UserError(std::string(key) + ": " + fmt(v) + " is out of range (allowed " +
                    (integer ? "integer " : "") + fmt(lo) + ".." + fmt(hi) + ")");
}

// Whether `ds` is one of datasetNames(). An entry with a colon is a pattern: "csv:PATH" stands for "csv:"
// followed by any non-empty path.
bool knownDataset(const std::string& ds) {
  for (const std::string& n : datasetNames()) {
    const size_t colon = n.find(':');
    if (colon == std::string::npos) {
      if (ds == n) return true;
    } else if (ds.size() > colon + 1 && ds.compare(0, colon + 1, n, 0, colon + 1) == 0) {
      return true;
    }
  }
  return false;
}

std::string datasetList() {
  std::string s;
  for (const std::string& n : datasetNames()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

void validateConfig(const Config& c) {
  const std::string& ds = c.dataset;
  if (!knownDataset(ds))
    throw UserError("dataset: unknown " + shownValue(ds) + " (allowed: " + datasetList() + ")");
  rangeCheck("classes", c.classes, 2, 100, true);
  rangeCheck("samples", c.samples, ds == "fashion-mnist" ? 0 : 2, 100000, true);
  rangeCheck("input_dim", c.input_dim, 2, 4096, true);
  rangeCheck("spread", c.spread, 0, 100);
  rangeCheck("noise", c.noise, 0, 10);
  rangeCheck("imbalance", c.imbalance, 1, 1000);
  rangeCheck("label_noise", c.label_noise, 0, 1);
  rangeCheck("test_fraction", c.test_fraction, 0, 0.9);
  rangeCheck("dim", c.dim, 2, 64, true);
  if (c.model != "mlp" && c.model != "free")
    throw UserError("model: unknown " + shownValue(c.model) + " (allowed: mlp, free)");
  if (c.hidden.size() > 4)
    throw UserError("hidden: " + std::to_string(c.hidden.size()) + " layers given (allowed 0..4 widths)");
  for (int h : c.hidden) rangeCheck("hidden", h, 1, 4096, true);
  parseActivation(c.activation);
  findLoss(c.loss);
  parseOptimizer(c.optimizer);
  rangeCheck("lr", c.lr, 1e-12, 1e3);
  rangeCheck("momentum", c.momentum, 0, 0.9999);
  rangeCheck("weight_decay", c.weight_decay, 0, 1);
  parseSchedule(c.schedule);
  if (!(c.lr_weights < 0)) rangeCheck("lr_weights", c.lr_weights, 0, 1e3);  // negative: same as lr
  rangeCheck("clip", c.clip, 0, 1e9);
  rangeCheck("batch", c.batch, 1, 65536, true);
  rangeCheck("steps", c.steps, 0, 1e9, true);
  rangeCheck("display_points", c.display_points, 0, 1000000, true);
  rangeCheck("grid", c.grid, 0, 1024, true);
}

}  // namespace ms
