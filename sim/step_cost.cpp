// What a training step costs, for the app: the rows a step scores (pair and triplet losses sample a subset of
// a large batch, see kSampledRows in trainer.h) and one line for the Training panel with the measured cost of
// a step and a warning when steps run slower than 5 a second (issue 13, point 5).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "sim/trainer.h"

namespace ms {

int rowsPerStep(const LossSpec& loss, int batch, int training_rows) {
  const int b = std::max(0, std::min(batch, training_rows));
  return loss.traits.has_weights ? b : std::min(b, kSampledRows);
}

int rowsPerStep(const Config& config, int training_rows) {
  return rowsPerStep(findLoss(config.loss), config.batch, training_rows);
}

std::string stepCostNote(const Config& config, double steps_per_second, double max_steps_per_second,
                         bool* slow) {
  constexpr double kSlowBelow = 5;  // steps a second under which the panel warns
  int rows = config.batch;
  try {
    rows = rowsPerStep(config, config.batch);
  } catch (const std::exception&) {
    // An unknown loss is reported where it is chosen; the note then just leaves sampling out.
  }
  char buf[200];
  std::string note;
  const bool measured = std::isfinite(steps_per_second) && steps_per_second > 0;
  // Held back by a speed cap, the rate says nothing about the cost, unless it falls well short of the cap.
  const bool capped = max_steps_per_second > 0 && steps_per_second >= 0.8 * max_steps_per_second;
  if (measured && !capped) {
    const double ms = 1000.0 / steps_per_second;
    std::snprintf(buf, sizeof buf, ms >= 100 ? "%.0f ms a step" : "%.3g ms a step", ms);
    note = buf;
  }
  if (rows < config.batch) {
    std::snprintf(buf, sizeof buf, "%s%d of the batch's %d rows a step (sampled)", note.empty() ? "" : "; ",
                  rows, config.batch);
    note += buf;
  }
  const bool is_slow = measured && !capped && steps_per_second < kSlowBelow;
  if (is_slow) note += "; slow: a smaller batch, network or class count is faster";
  if (slow) *slow = is_slow;
  return note;
}

}  // namespace ms
