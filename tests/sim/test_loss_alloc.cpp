// A warm loss call allocates nothing: the global operator new is counted around the second call of every loss
// with the same shapes (the workspace, outputs and aux are reused). A buffer re-created per call, an Eigen
// temporary or a std::string built from a long name would show up as a non-zero count.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>

#include "sim/loss.h"

namespace {
std::atomic<long> g_news{0};
}  // namespace

void* operator new(std::size_t n) {
  g_news.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// The replaced operator new above allocates with malloc, so free is its match. GCC 12 at -O2 inlines these
// into gtest's factories and, not seeing the replacement, reports a new/free mismatch that cannot happen.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
#pragma GCC diagnostic pop

namespace ms {
namespace {

TEST(LossAlloc, WarmCallsDoNotAllocate) {
  std::mt19937 g(3);
  std::normal_distribution<double> nd;
  for (int K : {10, 1000}) {
    const int n = 64, d = 3;
    Mat H(n, d), W(K, d), C(K, d);
    for (int i = 0; i < n * d; ++i) H.data()[i] = nd(g);
    for (int i = 0; i < K * d; ++i) W.data()[i] = nd(g), C.data()[i] = nd(g);
    std::vector<int> y(n);
    for (int i = 0; i < n; ++i) y[size_t(i)] = i % std::min(K, 10);
    for (const auto& spec : lossCatalogue()) {
      for (bool joint : {false, true}) {
        if (joint && spec.family != LossFamily::Centre) continue;
        LossParams p;
        if (spec.traits.learns_bias) p.vectors["bias"] = std::vector<double>(size_t(K), 0.1);
        if (spec.name == "triplet") p.values["mining"] = 1;
        LossState st;
        LossWorkspace ws;
        LossAux aux;
        aux.joint = joint;
        aux.centres = &C;
        Mat dH, dW;
        const bool w = spec.traits.has_weights || spec.traits.joint_softmax;
        // sub-centres: k rows per class
        const Mat Wk = W.replicate(weightRowsPerClass(spec, p), 1);
        const Mat* Wuse = weightRowsPerClass(spec, p) > 1 ? &Wk : &W;
        lossForwardBackward(spec, p, st, H, w ? Wuse : nullptr, y, dH, w ? &dW : nullptr, ws, &aux);
        const long before = g_news.load();
        const double v =
            lossForwardBackward(spec, p, st, H, w ? Wuse : nullptr, y, dH, w ? &dW : nullptr, ws, &aux);
        const long allocs = g_news.load() - before;
        EXPECT_EQ(allocs, 0) << spec.name << " K=" << K << (joint ? " joint" : "");
        EXPECT_TRUE(std::isfinite(v));
      }
    }
  }
}

}  // namespace
}  // namespace ms
