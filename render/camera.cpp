// The default sphere camera (see camera.h). Candidates lie on a Fibonacci sphere; the score counts what is
// in front of the rim by a small angle, so that a class arrow lying on the rim does not count as shown.
#include "render/camera.h"

#include <cmath>
#include <vector>

namespace ms {

CameraAngles cameraFacingData(const Snapshot& s) {
  CameraAngles best;
  if (s.dim != 3) return best;
  auto unit = [](const double* v, std::vector<double>& out) {
    const double n = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    if (n > 0) out.insert(out.end(), {v[0] / n, v[1] / n, v[2] / n});
  };
  std::vector<double> classes, points;  // unit directions, 3 per entry
  for (size_t k = 0; k + 3 <= s.weights.size(); k += 3) unit(&s.weights[k], classes);
  for (size_t i = 0; i + 3 <= s.embeddings.size(); i += 3) {
    const double v[3] = {s.embeddings[i], s.embeddings[i + 1], s.embeddings[i + 2]};
    unit(v, points);
  }
  const double front = std::sin(8.0 * 3.14159265358979323846 / 180);  // 8 degrees inside the rim
  auto count = [&](const std::vector<double>& dirs, const double e[3]) {
    long n = 0;
    for (size_t i = 0; i < dirs.size(); i += 3)
      n += dirs[i] * e[0] + dirs[i + 1] * e[1] + dirs[i + 2] * e[2] > front;
    return n;
  };
  const int N = 2000;
  long best_classes = -1, best_points = -1;
  const double golden = 3.14159265358979323846 * (3 - std::sqrt(5.0));
  for (int i = 0; i < N; ++i) {
    const double z = 1 - 2 * (i + 0.5) / N, r = std::sqrt(1 - z * z), a = golden * i;
    const double e[3] = {r * std::cos(a), r * std::sin(a), z};
    const long c = count(classes, e), p = count(points, e);
    if (c > best_classes || (c == best_classes && p > best_points)) {
      best_classes = c;
      best_points = p;
      best.yaw = float(std::atan2(e[1], e[0]));
      best.pitch = float(std::asin(z));
    }
  }
  return best;
}

}  // namespace ms
