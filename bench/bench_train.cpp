// Training speed: steps/s and GFLOP/s of whole training steps (batch gather, forward, loss, backward, Adam)
// for the default live network and the Fashion-MNIST network, against Eigen's own large matrix product on
// one core as the reference FLOP rate. The FLOP counts are the network's GEMMs only (mlpFlopsPerStep); the
// loss and optimiser work is extra time not credited, so the GFLOP/s are a lower bound.
//   build-*/bench_train --benchmark_counters_tabular=true
// Eigen runs on one thread: the project is built without OpenMP, so Eigen never spawns threads.
// The network uses the AVX2/AVX-512 kernels when the CPU has them (MS_SIMD=generic|avx2|avx512 caps the
// level, e.g. MS_SIMD=generic build-*/bench_train for the baseline-x86-64 numbers).
#include <benchmark/benchmark.h>

#include <Eigen/Dense>
#include <fstream>

#include "sim/errors.h"
#include "sim/network.h"
#include "sim/trainer.h"

namespace {

void report(benchmark::State& state, double flops_per_iter) {
  state.counters["steps_per_s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["GFLOP_per_s"] =
      benchmark::Counter(flops_per_iter * double(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
}

void trainSteps(benchmark::State& state, const ms::Config& c) {
  std::unique_ptr<ms::Trainer> t;
  try {
    t = std::make_unique<ms::Trainer>(c);
  } catch (const ms::UserError& e) {
    state.SkipWithError(e.what());
    return;
  }
  for (int i = 0; i < 20; ++i) t->step();  // warm: workspaces sized, no allocation in the loop
  for (auto _ : state) {
    if (!t->step()) {
      state.SkipWithError(t->message().c_str());
      return;
    }
  }
  report(state, t->flopsPerStep());
  state.SetLabel(ms::simdName(ms::detectSimd()));
}

// The default live network of the issue: 2-D blobs, K = 10, MLP 2-64-64-3, batch 256, ArcFace.
void BM_TrainStepLiveNetwork(benchmark::State& state) {
  ms::Config c;
  c.dataset = "blobs";
  c.classes = 10;
  c.samples = 400;
  c.input_dim = 2;
  c.hidden = {64, 64};
  c.dim = 3;
  c.batch = 256;
  c.loss = "arcface";
  c.lr = 0.001;
  trainSteps(state, c);
}
BENCHMARK(BM_TrainStepLiveNetwork)->Unit(benchmark::kMicrosecond)->MinTime(2.0);

// Fashion-MNIST: 784-256-256-3, batch 256, ArcFace (2,000 training images per class keep the load short).
void BM_TrainStepFashionMnist(benchmark::State& state) {
  ms::Config c;
  c.dataset = "fashion-mnist";
  c.samples = 2000;
  c.hidden = {256, 256};
  c.dim = 3;
  c.batch = 256;
  c.loss = "arcface";
  c.lr = 0.001;
  trainSteps(state, c);
}
BENCHMARK(BM_TrainStepFashionMnist)->Unit(benchmark::kMillisecond)->MinTime(3.0);

// The network alone (forward + backward of the MLP), to separate GEMM speed from the rest of a step.
void BM_MlpForwardBackwardFashion(benchmark::State& state) {
  const ms::MlpLayout L = ms::mlpLayout(784, {256, 256}, 3, ms::Activation::Relu, 0);
  std::vector<double> p(L.size), g(L.size, 0.0);
  ms::Rng rng(1);
  ms::mlpInit(L, p.data(), rng);
  ms::RowMat X = ms::RowMat::Random(256, 784);
  ms::Mat H, dH = ms::Mat::Random(256, 3);
  ms::MlpCache cache;
  for (auto _ : state) {
    ms::mlpForward(L, p.data(), X, cache, H);
    ms::mlpBackward(L, p.data(), X, cache, dH, g.data());
    benchmark::DoNotOptimize(g.data());
  }
  report(state, ms::mlpFlopsPerStep(L, 256));
}
BENCHMARK(BM_MlpForwardBackwardFashion)->Unit(benchmark::kMillisecond)->MinTime(2.0);

// Eigen's own large GEMM on one core: the reference FLOP rate (double, as the network uses).
void BM_EigenGemmReference(benchmark::State& state) {
  const Eigen::Index n = state.range(0);
  Eigen::MatrixXd A = Eigen::MatrixXd::Random(n, n), B = Eigen::MatrixXd::Random(n, n), C(n, n);
  for (auto _ : state) {
    C.noalias() = A * B;
    benchmark::DoNotOptimize(C.data());
  }
  report(state, 2.0 * double(n) * double(n) * double(n));
  state.counters["eigen_threads"] = Eigen::nbThreads();
}
BENCHMARK(BM_EigenGemmReference)->Arg(1024)->Arg(2048)->Unit(benchmark::kMillisecond)->MinTime(2.0);

// The same product compiled for the widest vector unit this CPU has (as the network kernels use it):
// the reference the Fashion-MNIST network's FLOP rate is held to.
void BM_EigenGemmReferenceWide(benchmark::State& state) {
  const ms::SimdLevel lv = ms::detectSimd();
  if (lv == ms::SimdLevel::Generic) {
    state.SkipWithError("no AVX2/AVX-512 on this CPU: see BM_EigenGemmReference");
    return;
  }
  const Eigen::Index n = state.range(0);
  Eigen::MatrixXd A = Eigen::MatrixXd::Random(n, n), B = Eigen::MatrixXd::Random(n, n), C(n, n);
  for (auto _ : state) {
    ms::simdKernels(lv).gemm(A.data(), B.data(), C.data(), n);
    benchmark::DoNotOptimize(C.data());
  }
  report(state, 2.0 * double(n) * double(n) * double(n));
  state.SetLabel(ms::simdName(lv));
}
BENCHMARK(BM_EigenGemmReferenceWide)->Arg(1024)->Arg(2048)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
