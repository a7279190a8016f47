// The metrics JSON of `train` and `render` (names are a contract: see DESIGN.md).
#pragma once
#include <nlohmann/json.hpp>

#include "sim/metrics.h"

namespace ms {

// Fills angles, lemma, verification, neural_collapse, bounds (and histograms) into out.
void metricsToJson(const Metrics& m, nlohmann::json& out);

}  // namespace ms
