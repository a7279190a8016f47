// Every loss of the catalogue, found by looping over it, so that a loss is checked the moment it is added and
// none can ship without: its definition is complete and consistent (rule, traits, parameters), its scalar
// other-logit equals the matrix form the forward pass uses, it has a margin exactly when its training rule
// differs from its test rule, and its gradients match central differences for its defaults, every choice,
// every boolean flipped and every parameter moved inside its range, in d = 2 and 3, at feature norms near 1
// and near 30 (inside MagFace's [l_a, u_a]).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "sim/errors.h"
#include "sim/loss.h"
#include "sim/param_lookup.h"
#include "tests/sim/grad_check.h"

namespace ms {
namespace {

TEST(LossCatalogue, EveryDefinitionIsComplete) {
  const auto& cat = lossCatalogue();
  ASSERT_GE(cat.size(), 26u);
  for (size_t i = 0; i < cat.size(); ++i) {
    const LossSpec& s = cat[i];
    SCOPED_TRACE(s.name);
    // The shared path calls the hooks its kind of loss must have, and only those.
    EXPECT_EQ(s.hooks.pair_term != nullptr,
              s.path == LossPath::Pair || (s.path == LossPath::Centre && !s.traits.uses_centres));
    EXPECT_EQ(s.hooks.centre_term != nullptr, s.path == LossPath::Centre && s.traits.uses_centres);
    EXPECT_EQ(!s.hooks.batch_weights, !s.hooks.batch_weights_backward);
    if (s.path != LossPath::Cosine) {
      EXPECT_FALSE(s.hooks.batch_weights || s.hooks.other_logits || s.hooks.norm_term || s.prepare);
    }
    EXPECT_TRUE(s.resolve && s.rule.test);
    EXPECT_TRUE(s.rule.closed_form || *s.rule.no_closed_form) << "a closed form, or the reason there is none";
    EXPECT_FALSE(s.formula.empty() || s.paper.empty());
    if (s.path == LossPath::Cosine) {
      EXPECT_TRUE(s.rule.target && s.rule.other && s.rule.other_form);
    }
    if (s.traits.has_margin) {
      EXPECT_TRUE(s.rule.target && s.rule.other);
    }
    EXPECT_EQ(!s.rule.target, !s.rule.other);
    if (!s.traits.learnable_scale.empty()) {
      EXPECT_TRUE(findParam(s, s.traits.learnable_scale));
      ASSERT_TRUE(findParam(s, s.traits.learn_flag));
      EXPECT_EQ(findParam(s, s.traits.learn_flag)->kind, ParamKind::Bool);
    }
    if (!s.traits.subcentres.empty()) {
      ASSERT_TRUE(findParam(s, s.traits.subcentres));
      EXPECT_EQ(findParam(s, s.traits.subcentres)->kind, ParamKind::Integer);
    }
    if (s.traits.anneals_lambda)
      for (const char* k : {"base", "gamma", "power", "lambda_min"}) {
        EXPECT_TRUE(findParam(s, k)) << k;
      }
    if (s.traits.uses_centres) {
      EXPECT_TRUE(s.traits.joint_softmax);
    }
    if (!s.traits.has_weights) {
      EXPECT_TRUE(s.path == LossPath::Pair || s.traits.joint_softmax);
    }
    EXPECT_NO_THROW(findLoss(s.contrast)) << "contrast '" << s.contrast << "'";
    EXPECT_NE(s.contrast, s.name);
    for (const auto& [k, v] : s.exact_gradient_at) {
      EXPECT_TRUE(findParam(s, k)) << k;
    }
  }
}

// The forward pass builds the other classes' logits as one matrix from other_form; the views, the lemma and
// the Theory panel evaluate the scalar other(). They must be the same function.
TEST(LossCatalogue, OtherLogitEqualsItsMatrixForm) {
  std::mt19937 g(5);
  std::uniform_real_distribution<double> uc(-0.99, 0.99), un(0.2, 40);
  for (const LossSpec& s : lossCatalogue()) {
    if (!s.rule.other_form) continue;
    const ResolvedParams r = resolveParams(s, LossParams(), LossState());
    const OtherForm f = s.rule.other_form(r);
    for (int t = 0; t < 200; ++t) {
      const double c = uc(g), hn = un(g), wn = un(g);
      Dz d;
      const double scalar = s.rule.other(r, c, hn, wn, d);
      const double form = f.a * (f.wn ? wn : 1.0) * (f.hn ? hn : 1.0) * c + f.off;
      EXPECT_NEAR(scalar, form, 1e-12 * std::max(1.0, std::fabs(form))) << s.name;
    }
  }
}

// has_margin is a promise the views and tables rely on: some angle where the true class's training logit is
// below what the same class would get as an "other" class.
TEST(LossCatalogue, HasMarginExactlyWhenTheTrainingRuleDiffersFromTheTestRule) {
  for (const LossSpec& s : lossCatalogue()) {
    LossState st;
    st.lambda = 0;
    bool differs = false;
    for (int i = 1; i < 180; ++i) {
      const double c = std::cos(i * kPi / 180);
      differs |= std::fabs(targetLogit(s, LossParams(), st, 0, c, 1, 1) -
                           otherLogit(s, LossParams(), st, 0, c, 1, 1)) > 1e-12;
    }
    EXPECT_EQ(differs, s.traits.has_margin) << s.name;
  }
}

// The variants of a loss: its defaults, each choice, each boolean flipped, and every real/integer parameter
// moved inside its range (scales kept at most 20 so that gradients stay measurable).
std::vector<LossParams> variants(const LossSpec& s) {
  std::vector<LossParams> out(1);
  for (const auto& p : s.params) {
    if (p.kind == ParamKind::Choice)
      for (size_t c = 1; c < p.choices.size(); ++c) out.emplace_back().values[p.name] = double(c);
    if (p.kind == ParamKind::Bool) out.emplace_back().values[p.name] = p.def != 0 ? 0 : 1;
  }
  LossParams moved;
  for (const auto& p : s.params) {
    if (p.kind != ParamKind::Real && p.kind != ParamKind::Integer) continue;
    const double hi = std::min(p.hi, p.lo + 2 * std::fabs(p.def) + 1);
    double v = p.lo + 0.37 * (hi - p.lo);
    if (p.kind == ParamKind::Integer) v = std::round(v);
    if (p.name == "s" || p.name == "alpha") v = std::min(v, 20.0);
    moved.values[p.name] = v;
  }
  if (!moved.values.empty()) out.push_back(moved);
  for (auto& v : out)
    for (const auto& [k, x] : s.exact_gradient_at) v.values[k] = x;
  return out;
}

TEST(LossCatalogue, GradientsMatchFiniteDifferencesForEveryVariant) {
  int checked = 0;
  for (const LossSpec& s : lossCatalogue()) {
    for (const LossParams& p : variants(s)) {
      const int K = 4;
      try {
        validateParams(s, p, K);
      } catch (const UserError&) {
        continue;  // a combination the catalogue rejects is never run
      }
      for (int d : {2, 3})
        for (double scale : {1.0, 30.0}) {
          Case c = randomCase(s.name, 8, d, K * weightRowsPerClass(s, p), 900 + d + int(scale), scale);
          for (int i = 0; i < 8; ++i) c.y[size_t(i)] = i % K;
          c.params = p;
          c.with_w = s.traits.has_weights;
          SCOPED_TRACE(s.name + " d=" + std::to_string(d) + " scale=" + std::to_string(scale));
          checkGradient(c);
          ++checked;
        }
    }
  }
  EXPECT_GE(checked, 4 * 26);
}

}  // namespace
}  // namespace ms
