// Forward+backward of the losses at the training batch size (n = 256, d = 3) with K = 10 and K = 1000
// classes, reusing one workspace as the trainer does (the allocation-free property is asserted in
// tests/sim/test_loss_alloc.cpp; here only the time is measured).
//   build-<you>/bench_loss --benchmark_filter=arcface
#include <benchmark/benchmark.h>

#include <random>

#include "sim/loss.h"

namespace {

void lossBench(benchmark::State& state, const char* name) {
  const int n = 256, d = 3, K = int(state.range(0));
  std::mt19937 g(1);
  std::normal_distribution<double> nd;
  ms::Mat H(n, d), W(K, d);
  for (int i = 0; i < n * d; ++i) H.data()[i] = nd(g);
  for (int i = 0; i < K * d; ++i) W.data()[i] = nd(g);
  std::vector<int> y(n);
  for (int i = 0; i < n; ++i) y[size_t(i)] = int(g() % unsigned(K));
  const ms::LossSpec& spec = ms::findLoss(name);
  ms::LossParams p;
  ms::LossState st;
  ms::LossWorkspace ws;
  ms::Mat dH, dW;
  const bool w = spec.traits.has_weights || spec.traits.joint_softmax;
  for (auto _ : state) {
    st = ms::LossState();  // every iteration a first batch (AdaCos would otherwise adapt s to this one batch)
    const double v = ms::lossForwardBackward(spec, p, st, H, w ? &W : nullptr, y, dH, w ? &dW : nullptr, ws);
    benchmark::DoNotOptimize(v);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * n);
}

}  // namespace

#define MS_LOSS_BENCH(id, name) \
  BENCHMARK_CAPTURE(lossBench, id, name)->Arg(10)->Arg(1000)->Unit(benchmark::kMicrosecond)
MS_LOSS_BENCH(softmax, "softmax");
MS_LOSS_BENCH(focal, "focal");
MS_LOSS_BENCH(sphereface, "a-softmax");
MS_LOSS_BENCH(normface, "normface");
MS_LOSS_BENCH(coco, "coco");
MS_LOSS_BENCH(cosface, "am-softmax");
MS_LOSS_BENCH(arcface, "arcface");
MS_LOSS_BENCH(combined, "combined");
MS_LOSS_BENCH(adacos, "adacos");
MS_LOSS_BENCH(center, "center");
MS_LOSS_BENCH(range, "range");
MS_LOSS_BENCH(marginal, "marginal");
MS_LOSS_BENCH(contrastive, "contrastive");
MS_LOSS_BENCH(triplet_all, "triplet");
MS_LOSS_BENCH(tpe, "tpe");

BENCHMARK_MAIN();
