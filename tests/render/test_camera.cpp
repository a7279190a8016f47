// The default sphere camera faces the data (issue 14: the fixed camera left half the classes on the back).
#include <gtest/gtest.h>

#include <cmath>

#include "render/camera.h"

namespace ms {
namespace {

double facing(const CameraAngles& c, double x, double y, double z) {
  const double e[3] = {std::cos(c.pitch) * std::cos(c.yaw), std::cos(c.pitch) * std::sin(c.yaw),
                       std::sin(c.pitch)};
  return (e[0] * x + e[1] * y + e[2] * z) / std::sqrt(x * x + y * y + z * z);
}

// All data behind the old default camera (yaw 0.6, pitch 0.35): four classes around -x, tilted downwards.
Snapshot behind() {
  Snapshot s;
  s.dim = 3;
  s.K = 4;
  const double w[4][3] = {{-1, 0.3, -0.2}, {-1, -0.3, -0.2}, {-1, 0, 0.2}, {-1, 0, -0.6}};
  for (const auto& r : w) s.weights.insert(s.weights.end(), {r[0], r[1], r[2]});
  for (int i = 0; i < 40; ++i) {
    const auto& r = w[i % 4];
    s.embeddings.insert(s.embeddings.end(), {float(r[0]), float(r[1] + 0.01 * (i % 5)), float(r[2])});
    s.labels.push_back(i % 4);
    s.is_test.push_back(0);
  }
  return s;
}

TEST(Camera, FacesTheDataNotAFixedAngle) {
  const Snapshot s = behind();
  CameraAngles old;
  for (int k = 0; k < 4; ++k)
    EXPECT_LT(facing(old, s.weights[3 * k], s.weights[3 * k + 1], s.weights[3 * k + 2]), 0);
  const CameraAngles c = cameraFacingData(s);
  for (int k = 0; k < 4; ++k)
    EXPECT_GT(facing(c, s.weights[3 * k], s.weights[3 * k + 1], s.weights[3 * k + 2]),
              std::sin(8 * M_PI / 180))
        << "class " << k << " must be in front of the rim";
}

// Ten classes spread over the sphere: no hemisphere shows them all, but the camera shows as many as any
// direction can (checked against a dense scan), so it is never the half the old camera showed by chance.
TEST(Camera, ShowsAsManyClassesAsAnyDirection) {
  Snapshot s;
  s.dim = 3;
  s.K = 10;
  for (int k = 0; k < 10; ++k) {
    const double z = 1 - 2 * (k + 0.5) / 10, r = std::sqrt(1 - z * z), a = 2.39996 * k;
    s.weights.insert(s.weights.end(), {r * std::cos(a), r * std::sin(a), z});
  }
  auto shown = [&](const CameraAngles& c) {
    int n = 0;
    for (int k = 0; k < 10; ++k)
      n += facing(c, s.weights[3 * k], s.weights[3 * k + 1], s.weights[3 * k + 2]) > std::sin(8 * M_PI / 180);
    return n;
  };
  int best = 0;
  for (int i = 0; i < 360; i += 3)
    for (int j = -88; j <= 88; j += 4)
      best = std::max(best, shown({float(i * M_PI / 180), float(j * M_PI / 180)}));
  EXPECT_GE(shown(cameraFacingData(s)), best);
  EXPECT_GE(best, 6);
}

TEST(Camera, TwoDimensionalSnapshotsKeepTheDefault) {
  Snapshot s;
  s.dim = 2;
  const CameraAngles c = cameraFacingData(s), d;
  EXPECT_EQ(c.yaw, d.yaw);
  EXPECT_EQ(c.pitch, d.pitch);
}

}  // namespace
}  // namespace ms
