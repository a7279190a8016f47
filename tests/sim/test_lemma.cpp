// The margin lemma: closed forms (lemma.cpp) against root-finding of the losses' own decision rules
// (sim/loss.h), and each closed form against its defining equation evaluated directly. Two weight vectors at
// known angles alpha; m over the grids below. A wrong derivation or a wrong rule makes the two disagree.
#include <gtest/gtest.h>

#include <cmath>

#include "sim/lemma.h"

namespace ms {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDeg = 180.0 / kPi;
const double kAlphas[] = {0.5, 1.0, 1.7, 2.4, kPi * 0.999};

Mat twoWeights(double alpha, double na = 1, double nb = 1) {
  Mat W(2, 3);
  W << na, 0, 0, nb * std::cos(alpha), nb * std::sin(alpha), 0;
  return W;
}

LossState lambdaZero() {
  LossState s;
  s.lambda = 0;
  return s;
}

TEST(Lemma, SphereFaceClosedFormIsTheNotesLemma) {
  // The notes' worked example: alpha = 180 deg, m = 2 -> 60 deg; m = 4 at 90 deg -> 54 deg.
  const LossSpec& a = findLoss("a-softmax");
  LossParams p;
  p.values["m"] = 2;
  EXPECT_NEAR(lemmaTheoryMargin(a, p, kPi) * kDeg, 60.0, 1e-12);
  p.values["m"] = 4;
  EXPECT_NEAR(lemmaTheoryMargin(a, p, kPi / 2) * kDeg, 54.0, 1e-12);
}

TEST(Lemma, ASoftmaxAndLSoftmaxTheoryEqualsMeasuredForIntegerM) {
  for (const char* name : {"a-softmax", "l-softmax"}) {
    const LossSpec& spec = findLoss(name);
    for (int m = 1; m <= 6; ++m) {
      LossParams p;
      p.values["m"] = m;
      for (double alpha : kAlphas) {
        const double theory = lemmaTheoryMargin(spec, p, alpha);
        const double measured = lemmaMeasuredMargin(spec, p, lambdaZero(), 0, 1, alpha, 1, 1);
        EXPECT_NEAR(theory, alpha * (m - 1) / (m + 1), 1e-15) << name << " m=" << m;
        EXPECT_NEAR(measured, theory, 1e-6) << name << " m=" << m << " alpha=" << alpha;
        // The boundary sits at alpha/(m+1) from each weight.
        EXPECT_NEAR(lemmaBoundary(spec, p, lambdaZero(), 0, 1, alpha, 1, 1), alpha / (m + 1), 1e-9);
      }
    }
  }
}

TEST(Lemma, AmSoftmaxTheoryEqualsMeasuredAndSolvesItsEquation) {
  const LossSpec& spec = findLoss("cosface");
  for (int i = 1; i <= 6; ++i) {
    const double m = 0.05 * i;
    LossParams p;
    p.values["m"] = m;
    for (double alpha : kAlphas) {
      if (m > 1 - std::cos(alpha)) continue;  // no root: checked below
      const double theory = lemmaTheoryMargin(spec, p, alpha);
      const double t = (alpha - theory) / 2;
      // The closed form's boundary satisfies the rule cos t - m = cos(alpha - t).
      EXPECT_NEAR(std::cos(t) - m, std::cos(alpha - t), 1e-12);
      EXPECT_NEAR(lemmaMeasuredMargin(spec, p, lambdaZero(), 0, 1, alpha, 1, 1), theory, 1e-6)
          << "m=" << m << " alpha=" << alpha;
    }
  }
}

TEST(Lemma, ArcFaceMarginIsMForEveryVariant) {
  const LossSpec& spec = findLoss("arcface");
  for (int variant = 0; variant < 3; ++variant)
    for (int i = 1; i <= 6; ++i) {
      const double m = 0.1 * i;
      LossParams p;
      p.values["m"] = m;
      p.values["variant"] = variant;
      for (double alpha : kAlphas) {
        if (alpha <= m) continue;
        const double theory = lemmaTheoryMargin(spec, p, alpha);
        EXPECT_NEAR(theory, m, 1e-15);
        const double t = (alpha - theory) / 2;
        EXPECT_NEAR(std::cos(t + m), std::cos(alpha - t), 1e-12);
        EXPECT_NEAR(lemmaMeasuredMargin(spec, p, lambdaZero(), 0, 1, alpha, 1, 1), theory, 1e-6)
            << "variant=" << variant << " m=" << m << " alpha=" << alpha;
      }
    }
}

TEST(Lemma, CombinedMarginClosedFormsAgreeWithMeasured) {
  const LossSpec& spec = findLoss("combined");
  // m3 = 0 (SphereFace x ArcFace) and m1 = 1 (ArcFace x CosFace) have closed forms.
  for (int i = 1; i <= 6; ++i) {
    for (int form = 0; form < 2; ++form) {
      LossParams p;
      p.values["m1"] = form == 0 ? 1 + 0.25 * i : 1;
      p.values["m2"] = 0.05 * i;
      p.values["m3"] = form == 0 ? 0 : 0.03 * i;
      for (double alpha : kAlphas) {
        std::string note;
        const double theory = lemmaTheoryMargin(spec, p, alpha, &note);
        const double measured = lemmaMeasuredMargin(spec, p, lambdaZero(), 0, 1, alpha, 1, 1);
        if (std::isnan(theory)) {
          EXPECT_TRUE(std::isnan(measured)) << note;
          continue;
        }
        const double t = (alpha - theory) / 2;
        EXPECT_NEAR(std::cos(p.values["m1"] * t + p.values["m2"]) - p.values["m3"], std::cos(alpha - t),
                    1e-12);
        EXPECT_NEAR(measured, theory, 1e-6) << "form=" << form << " i=" << i << " alpha=" << alpha;
      }
    }
  }
  // The general case has no closed form; the measured margin still exists.
  LossParams p;
  p.values["m1"] = 1.5;
  p.values["m2"] = 0.1;
  p.values["m3"] = 0.1;
  std::string note;
  EXPECT_TRUE(std::isnan(lemmaTheoryMargin(spec, p, 2.0, &note)));
  EXPECT_NE(note.find("no closed form"), std::string::npos);
  EXPECT_FALSE(std::isnan(lemmaMeasuredMargin(spec, p, lambdaZero(), 0, 1, 2.0, 1, 1)));
}

TEST(Lemma, EnhancedAmSoftmaxTheoryEqualsMeasured) {
  const LossSpec& spec = findLoss("enhanced-am-softmax");
  int checked = 0;
  for (int neg = 0; neg < 2; ++neg)
    for (int i = 1; i <= 6; ++i) {
      const double m = 0.04 * i;
      LossParams p;
      p.values["m"] = m;
      p.values["negative_margin"] = neg;
      for (double alpha : kAlphas) {
        const double theory = lemmaTheoryMargin(spec, p, alpha);
        const double measured = lemmaMeasuredMargin(spec, p, lambdaZero(), 0, 1, alpha, 1, 1);
        if (std::isnan(theory)) {
          EXPECT_TRUE(std::isnan(measured));
          continue;
        }
        const double t = (alpha - theory) / 2, n = neg ? m : 0;
        EXPECT_NEAR((std::cos(t) - m) / std::exp(m), std::cos(alpha - t) + n, 1e-12);
        EXPECT_NEAR(measured, theory, 1e-6) << "neg=" << neg << " m=" << m << " alpha=" << alpha;
        ++checked;
      }
    }
  EXPECT_GT(checked, 30);
}

// Without a margin there is no closed form to state (the theory column says why) and the two classes share
// one boundary (measured margin 0), for every loss of the catalogue that has class weights and no margin.
TEST(Lemma, LossesWithoutMarginHaveNoTheoryAndZeroMeasuredMargin) {
  int checked = 0;
  for (const LossSpec& spec : lossCatalogue()) {
    if (spec.traits.has_margin || !spec.traits.has_weights) continue;
    LossParams p;
    std::string why;
    EXPECT_TRUE(std::isnan(lemmaTheoryMargin(spec, p, 1.3, &why))) << spec.name;
    EXPECT_NE(why.find("no margin"), std::string::npos) << spec.name << ": " << why;
    EXPECT_NEAR(lemmaMeasuredMargin(spec, p, lambdaZero(), 0, 1, 1.3, 1, 1), 0.0, 1e-9) << spec.name;
    ++checked;
  }
  EXPECT_GE(checked, 8);  // softmax, weighted, focal, modified, l2, normface, coco, adacos, centre family
}

TEST(Lemma, NoRootIsReportedAsNaNWithANote) {
  const LossSpec& arc = findLoss("arcface");
  LossParams p;
  p.values["m"] = 0.8;
  const LemmaRow r = lemmaRow(arc, p, lambdaZero(), twoWeights(0.6), 0, 1);
  EXPECT_TRUE(std::isnan(r.theory_margin_deg));
  EXPECT_TRUE(std::isnan(r.measured_margin_deg));
  EXPECT_FALSE(r.theory_defined);
  EXPECT_FALSE(r.measured_defined);
  EXPECT_NE(r.note.find("no root"), std::string::npos);
  const LossSpec& cos = findLoss("am-softmax");
  p.values["m"] = 0.5;  // 1 - cos(0.6) = 0.175 < 0.5
  EXPECT_TRUE(std::isnan(lemmaTheoryMargin(cos, p, 0.6)));
  EXPECT_TRUE(std::isnan(lemmaMeasuredMargin(cos, p, lambdaZero(), 0, 1, 0.6, 1, 1)));
}

TEST(Lemma, RowUsesWeightsAndLambdaShrinksTheEffectiveMargin) {
  const LossSpec& spec = findLoss("a-softmax");
  LossParams p;
  p.values["m"] = 4;
  LossState st;
  st.lambda = 5;  // (psi + 5 cos)/6: closer to softmax, so a smaller margin
  const double alpha = 1.2;
  const LemmaRow r = lemmaRow(spec, p, st, twoWeights(alpha, 2.0, 0.5), 0, 1);  // A-Softmax ignores |w|
  EXPECT_NEAR(r.alpha_deg, alpha * kDeg, 1e-9);
  EXPECT_NEAR(r.theory_margin_deg, alpha * kDeg * 3 / 5, 1e-9);
  EXPECT_NEAR(r.measured_margin_deg, r.theory_margin_deg, 1e-6);
  EXPECT_NEAR(r.boundary_a_deg, alpha * kDeg / 5, 1e-6);
  EXPECT_GT(r.effective_margin_deg, 0);
  EXPECT_LT(r.effective_margin_deg, r.measured_margin_deg - 1);
  EXPECT_TRUE(r.note.empty()) << r.note;
}

TEST(Lemma, LSoftmaxMeasuredUsesTheWeightNorms) {
  // With |w_a| > |w_b| class a's region grows: the boundaries move towards w_b and the theory (equal norms)
  // no longer describes them; the row says so.
  const LossSpec& spec = findLoss("l-softmax");
  LossParams p;
  p.values["m"] = 2;
  const LemmaRow r = lemmaRow(spec, p, lambdaZero(), twoWeights(1.5, 2.0, 1.0), 0, 1);
  EXPECT_GT(r.boundary_a_deg, 1.5 * kDeg / 3 + 1);
  EXPECT_LT(r.boundary_b_deg, 1.5 * kDeg / 3 - 1);
  EXPECT_NE(r.note.find("|w_a| = |w_b|"), std::string::npos);
}

TEST(Lemma, PairsAreAllOrNearestNeighbours) {
  Mat W(5, 2);
  for (int k = 0; k < 5; ++k) W.row(k) << std::cos(0.3 * k * k), std::sin(0.3 * k * k);
  bool all = false;
  EXPECT_EQ(lemmaPairs(W, 16, &all).size(), 10u);
  EXPECT_TRUE(all);
  // Angles 0, 0.3, 1.2, 2.7, 4.8 (= -1.48): nearest neighbours 0-1, 1-0, 2-1, 3-2, 4-0.
  const auto pairs = lemmaPairs(W, 3, &all);
  EXPECT_FALSE(all);
  const std::vector<std::pair<int, int>> want = {{0, 1}, {0, 4}, {1, 2}, {2, 3}};
  EXPECT_EQ(pairs, want);
}

}  // namespace
}  // namespace ms
