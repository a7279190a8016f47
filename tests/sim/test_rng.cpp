// The generator is the root of determinism: same seed, same stream; different seeds, different streams;
// and the distributions have the moments they claim.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sim/rng.h"

TEST(Rng, SameSeedSameStream) {
  ms::Rng a(42), b(42), c(43);
  int differ = 0;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    differ += x != c.next();
  }
  EXPECT_GT(differ, 990);
}

TEST(Rng, UniformAndNormalMoments) {
  ms::Rng r(7);
  const int n = 200000;
  double su = 0, sn = 0, sn2 = 0;
  for (int i = 0; i < n; ++i) {
    const double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    su += u;
    const double z = r.normal();
    sn += z;
    sn2 += z * z;
  }
  EXPECT_NEAR(su / n, 0.5, 0.005);
  EXPECT_NEAR(sn / n, 0.0, 0.01);
  EXPECT_NEAR(sn2 / n, 1.0, 0.015);
}

TEST(Rng, BelowCoversRangeEvenly) {
  ms::Rng r(3);
  std::vector<int> count(7, 0);
  for (int i = 0; i < 70000; ++i) ++count[r.below(7)];
  for (int c : count) EXPECT_NEAR(c, 10000, 400);
}
