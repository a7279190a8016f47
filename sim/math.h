// The few mathematical constants the project shares, defined once. Header-only and free of Eigen so that any
// file (sim/, render/, app/, tests) can include it. The literal is the same one every file spelled out
// before, so results stay bit-identical.
#pragma once

namespace ms {

inline constexpr double kPi = 3.14159265358979323846;
inline constexpr double kDeg = 180.0 / kPi;  // degrees per radian: angle_deg = angle_rad * kDeg

}  // namespace ms
