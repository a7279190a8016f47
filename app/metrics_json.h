// The metrics JSON of `train` and `render` (names are a contract: see DESIGN.md).
#pragma once
#include <cmath>
#include <nlohmann/json.hpp>
#include <vector>

#include "sim/config.h"
#include "sim/metrics.h"
#include "sim/trainer.h"
#include "sim/warnings.h"

namespace ms {

// The loss `train` and `sweep` report: the mean of the last 50 batch losses (one batch is noisy).
class RecentLosses {
 public:
  void add(double loss) {
    if (v_.size() < 50)
      v_.push_back(loss);
    else
      v_[n_ % 50] = loss;
    ++n_;
  }
  double mean() const {  // NaN before the first batch
    if (v_.empty()) return std::nan("");
    double sum = 0;
    for (double x : v_) sum += x;
    return sum / double(v_.size());
  }

 private:
  std::vector<double> v_;
  size_t n_ = 0;
};

// The training warnings as [{"code", "message"}] (always an array, possibly empty).
nlohmann::json warningsToJson(const std::vector<Warning>& warnings);

// Fills angles, lemma, verification, neural_collapse, bounds (and histograms) into out.
void metricsToJson(const Metrics& m, nlohmann::json& out);

// The whole metrics JSON after a headless run, one definition for `train` and `render` alike: accuracy over
// all points (eval), `loss` as the caller measured it (e.g. the mean of the last batches), the config, and
// metricsToJson of the snapshot's metrics and its warnings.
nlohmann::json runMetricsJson(const Trainer& trainer, const Trainer::Evaluation& eval, const Snapshot& snap,
                              const Config& config, double seconds, double loss);

}  // namespace ms
