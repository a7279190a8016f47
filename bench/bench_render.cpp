// Frame rate of the views under whatever GL the machine has (llvmpipe in CI): 10,000 and 100,000 points at
// 1280x800 into an offscreen target through headless EGL, glFinish per frame so the GPU (CPU) work is timed.
// "static" keeps one Snapshot (the GPU buffers stay put, as when training is paused); "live" hands the
// renderer a new Snapshot every frame, as the app does while training (scene rebuilt and re-uploaded).
//   build-*/bench_render --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <epoxy/gl.h>

#include <cmath>
#include <memory>
#include <random>

#include "render/headless.h"
#include "render/renderer.h"

namespace {

using namespace ms;

struct Env {
  HeadlessContext ctx;
  Renderer renderer;
  GLuint fbo = 0, rb = 0;
  Env() {
    glGenFramebuffers(1, &fbo);
    glGenRenderbuffers(1, &rb);
    glBindRenderbuffer(GL_RENDERBUFFER, rb);
    glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, 1280, 800);
    glBindFramebuffer(GL_FRAMEBUFFER, fbo);
    glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, rb);
  }
};

Env& env() {
  static Env* e = new Env();
  return *e;
}

// n points in K = 10 clusters around class directions, 10% of them test points, ArcFace.
std::shared_ptr<Snapshot> makeSnapshot(int n, int dim, uint32_t seed) {
  auto s = std::make_shared<Snapshot>();
  s->dim = dim;
  s->K = 10;
  s->loss = "arcface";
  std::mt19937 rng(seed);
  std::normal_distribution<double> g(0, 1);
  for (int k = 0; k < s->K; ++k)
    for (int j = 0; j < dim; ++j)
      s->weights.push_back(dim == 2 ? (j == 0 ? std::cos(k * 0.628) : std::sin(k * 0.628)) : g(rng));
  for (int i = 0; i < n; ++i) {
    const int k = i % s->K;
    for (int j = 0; j < dim; ++j) s->embeddings.push_back(float(5 * s->weights[k * dim + j] + 0.8 * g(rng)));
    s->labels.push_back(k);
    s->is_test.push_back(i % 10 == 0);
  }
  return s;
}

void frames(benchmark::State& state, ViewKind kind, bool live) {
  Env& e = env();
  const int n = static_cast<int>(state.range(0));
  const int dim = kind == ViewKind::Sphere ? 3 : 2;
  auto snap = makeSnapshot(n, dim, 1);
  e.renderer.setSnapshot(snap);
  ViewOptions v;
  v.kind = kind;
  v.theme = Theme::Dark;
  glBindFramebuffer(GL_FRAMEBUFFER, e.fbo);
  e.renderer.draw(v, 0, 0, 1280, 800, 1.0f);  // warm: shaders, fonts, buffers
  glFinish();
  for (auto _ : state) {
    if (live) e.renderer.setSnapshot(std::make_shared<Snapshot>(*snap));
    e.renderer.draw(v, 0, 0, 1280, 800, 1.0f);
    glFinish();
  }
  state.counters["fps"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["points"] = n;
}

void BM_CircleStatic(benchmark::State& s) {
  frames(s, ViewKind::Circle, false);
}
void BM_CircleLive(benchmark::State& s) {
  frames(s, ViewKind::Circle, true);
}
void BM_SphereStatic(benchmark::State& s) {
  frames(s, ViewKind::Sphere, false);
}
void BM_SphereLive(benchmark::State& s) {
  frames(s, ViewKind::Sphere, true);
}

BENCHMARK(BM_CircleStatic)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CircleLive)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SphereStatic)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SphereLive)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
