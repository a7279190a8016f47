// Placeholder until the metrics issue lands (it owns this file): no metrics yet.
#include "sim/metrics.h"

namespace ms {

Metrics computeMetrics(const MetricsInput&) { return Metrics{}; }

}  // namespace ms
