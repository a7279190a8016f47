// Where the sphere view's camera looks by default: at the data. The old fixed camera (yaw 0.6, pitch 0.35)
// left five of ten Fashion-MNIST classes on the far side of the sphere in a figure.
#pragma once
#include "sim/snapshot.h"

namespace ms {

struct CameraAngles {
  float yaw = 0.6f,
        pitch = 0.35f;  // radians; the direction toward the viewer is (cos p cos y, cos p sin y, sin p)
};

// Of about 2,000 directions spread evenly over the sphere, the one whose front hemisphere shows the most
// class directions (weights, or class means for losses without weights), then the most points, well in
// front (more than 8 degrees from the rim). A snapshot that is not 3-D gets the default angles.
CameraAngles cameraFacingData(const Snapshot& s);

}  // namespace ms
