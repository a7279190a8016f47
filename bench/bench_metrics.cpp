// Cost of a metrics refresh (issue 5, item 7): every figure of computeMetrics on 10,000 test points (1 M
// sampled verification pairs) and 10,000 training points, K = 10 trained classes plus 2 held out, d = 2, 3
// and 16, one core. The budget is 20 ms per refresh. The pieces are timed alone too, to show where it goes.
//
// Run: build/bench_metrics --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <cmath>

#include "sim/geometry.h"
#include "sim/lemma.h"
#include "sim/metrics.h"
#include "sim/rng.h"

namespace {

using namespace ms;

struct Fixture {
  Mat train, test, W;
  std::vector<int> ytr, yte;
  LossParams params;
  LossState state;
  const LossSpec* spec = nullptr;

  Fixture(int d, int K, int holdout, int n) {
    Rng rng(42);
    Mat dirs(K + holdout, d);
    for (int c = 0; c < K + holdout; ++c) {
      for (int k = 0; k < d; ++k) dirs(c, k) = rng.normal();
      dirs.row(c).normalize();
    }
    auto sample = [&](int c) {
      Eigen::RowVectorXd h = dirs.row(c) * (1 + rng.uniform());
      for (int k = 0; k < d; ++k) h(k) += 0.3 * rng.normal();
      return h;
    };
    train.resize(n, d);
    test.resize(n, d);
    for (int i = 0; i < n; ++i) {
      ytr.push_back(i % K);
      train.row(i) = sample(i % K);
      yte.push_back(i % (K + holdout));
      test.row(i) = sample(i % (K + holdout));
    }
    W = dirs.topRows(K) * 3.0;
    spec = &findLoss("arcface");
    params.values["m"] = 0.5;
  }

  MetricsInput input() const {
    MetricsInput in;
    in.spec = spec;
    in.params = &params;
    in.state = &state;
    in.train = &train;
    in.train_labels = &ytr;
    in.test = &test;
    in.test_labels = &yte;
    in.weights = &W;
    in.holdout_classes = {10, 11};
    return in;
  }
};

void BM_ComputeMetrics(benchmark::State& st) {
  const Fixture f(int(st.range(0)), 10, 2, 10000);
  const MetricsInput in = f.input();
  for (auto _ : st) {
    Metrics m = computeMetrics(in);
    benchmark::DoNotOptimize(m.verification.all.eer);
  }
  st.SetLabel("10k train + 10k test, K=10+2 held out, d=" + std::to_string(st.range(0)));
}
BENCHMARK(BM_ComputeMetrics)->Arg(2)->Arg(3)->Arg(16)->Unit(benchmark::kMillisecond);

void BM_VerificationOnly(benchmark::State& st) {
  const Fixture f(3, 10, 2, 10000);
  std::vector<float> U(size_t(f.test.rows()) * 3);
  for (int i = 0; i < f.test.rows(); ++i)
    for (int k = 0; k < 3; ++k) U[size_t(i) * 3 + k] = float(f.test(i, k) / f.test.row(i).norm());
  std::vector<float> ph, nh;
  for (auto _ : st) {
    PairVerification v = verifyPairs(U, int(f.test.rows()), 3, f.yte, 1000000, 1, 90, &ph, &nh, nullptr);
    benchmark::DoNotOptimize(v.eer);
  }
  st.SetLabel("1 M sampled pairs, d=3");
}
BENCHMARK(BM_VerificationOnly)->Unit(benchmark::kMillisecond);

void BM_AnglesAndCollapse(benchmark::State& st) {
  const Fixture f(3, 10, 2, 10000);
  for (auto _ : st) {
    AngleMetrics a = angleMetrics(f.train, f.ytr, 10, &f.W);
    NeuralCollapse nc = neuralCollapse(f.train, f.ytr, 10, &f.W, true, true);
    benchmark::DoNotOptimize(a.gap_deg);
    benchmark::DoNotOptimize(nc.nc1);
  }
  st.SetLabel("10k train, K=10, d=3");
}
BENCHMARK(BM_AnglesAndCollapse)->Unit(benchmark::kMillisecond);

void BM_LemmaAllPairs(benchmark::State& st) {
  const Fixture f(3, int(st.range(0)), 0, 100);
  for (auto _ : st) {
    size_t rows = 0;
    for (const auto& [a, b] : lemmaPairs(f.W, 16))
      rows += !std::isnan(lemmaRow(*f.spec, f.params, f.state, f.W, a, b).measured_margin_deg);
    benchmark::DoNotOptimize(rows);
  }
  st.SetLabel("arcface, K=" + std::to_string(st.range(0)) + (st.range(0) > 16 ? " (nearest pairs)" : ""));
}
BENCHMARK(BM_LemmaAllPairs)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
