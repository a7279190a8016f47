// A small seeded random generator (xoshiro256**, seeded through splitmix64) whose streams are identical on
// every platform and library version, so that the same config and seed give bit-identical runs.
// std::normal_distribution is not used: its algorithm is implementation-defined.
#pragma once
#include <cstdint>

namespace ms {

class Rng {
 public:
  explicit Rng(uint64_t seed = 1);
  uint64_t next();   // uniform 64 bits
  double uniform();  // [0, 1) with 53 random bits
  double uniform(double lo, double hi);
  int below(int n);  // uniform integer in [0, n), n > 0, without modulo bias
  double normal();   // standard normal (Marsaglia polar method)

 private:
  uint64_t s_[4];
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace ms
