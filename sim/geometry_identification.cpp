// Identification: a probe is right when its nearest class gallery direction is its own class (see
// sim/geometry.h). Split from geometry_verification.cpp, which scores pairs.
#include <algorithm>
#include <cmath>
#include <limits>

#include "sim/geometry.h"
#include "sim/rng.h"

namespace ms {

double identificationAccuracy(const Mat& H, const std::vector<int>& y, const std::vector<int>& classes,
                              uint64_t seed) {
  const int n = int(H.rows()), d = int(H.cols());
  int C = 0;
  for (int c : classes) C = std::max(C, c + 1);
  std::vector<std::vector<int>> members(C);
  std::vector<char> wanted(C, 0);
  for (int c : classes)
    if (c >= 0) wanted[c] = 1;
  for (int i = 0; i < n; ++i)
    if (y[i] >= 0 && y[i] < C && wanted[y[i]]) members[y[i]].push_back(i);

  Rng rng(seed ^ 0x1d3f2c5b7a9e8d01ULL);
  Mat gallery(0, d);
  std::vector<int> gallery_class;
  std::vector<std::pair<int, int>> probes;  // (row, class)
  for (int c = 0; c < C; ++c) {
    auto& m = members[c];
    if (m.size() < 2) continue;
    for (int k = int(m.size()) - 1; k > 0; --k) std::swap(m[k], m[rng.below(k + 1)]);
    const int g = int((m.size() + 1) / 2);
    Vec dir = Vec::Zero(d);
    for (int k = 0; k < g; ++k) {
      const double nn = H.row(m[k]).norm();
      if (nn > 0) dir += H.row(m[k]).transpose() / nn;
    }
    if (!(dir.norm() > 0)) continue;
    gallery.conservativeResize(gallery.rows() + 1, d);
    gallery.row(gallery.rows() - 1) = dir.transpose() / dir.norm();
    gallery_class.push_back(c);
    for (size_t k = g; k < m.size(); ++k) probes.emplace_back(m[k], c);
  }
  if (probes.empty()) return std::numeric_limits<double>::quiet_NaN();
  int right = 0;
  for (const auto& [row, c] : probes) {
    int best = -1;
    double best_s = -std::numeric_limits<double>::infinity();
    for (int g = 0; g < int(gallery.rows()); ++g) {
      const double s = gallery.row(g).dot(H.row(row));  // |h| does not change the argmax
      if (s > best_s) best_s = s, best = g;
    }
    right += (best >= 0 && gallery_class[best] == c);
  }
  return double(right) / probes.size();
}

}  // namespace ms
