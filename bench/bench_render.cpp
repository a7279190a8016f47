// Frame rate of the views under whatever GL the machine has (llvmpipe in CI): 10,000 and 100,000 points at
// 1280x800 into an offscreen target through headless EGL, glFinish per frame so the GPU (CPU) work is timed.
// "live" hands the renderer a new Snapshot every frame, as the app does while training (scene rebuilt,
// re-uploaded and re-rasterised); "orbit" keeps the snapshot but turns the sphere's camera a little every
// frame (a lecturer dragging the sphere: everything re-rasterised); "cached" changes nothing, so draw() only
// copies its last image (the app while paused). The frame-rate goals apply to live and orbit.
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

void frames(benchmark::State& state, ViewKind kind, bool live, bool orbit = false) {
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
    if (orbit) v.yaw += 1e-3f;
    e.renderer.draw(v, 0, 0, 1280, 800, 1.0f);
    glFinish();
  }
  state.counters["fps"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["points"] = n;
}

void BM_CircleCached(benchmark::State& s) {
  frames(s, ViewKind::Circle, false);
}
void BM_CircleLive(benchmark::State& s) {
  frames(s, ViewKind::Circle, true);
}
void BM_SphereCached(benchmark::State& s) {
  frames(s, ViewKind::Sphere, false);
}
void BM_SphereOrbit(benchmark::State& s) {
  frames(s, ViewKind::Sphere, false, true);
}
void BM_SphereLive(benchmark::State& s) {
  frames(s, ViewKind::Sphere, true);
}

// Where a frame goes (10k points, camera turned every frame). Sphere: 0 everything, 1 no regions, boundaries
// or margins, 2 no points, 3 no lighting.
void BM_FrameParts(benchmark::State& state) {
  Env& e = env();
  auto snap = makeSnapshot(10000, 3, 1);
  e.renderer.setSnapshot(snap);
  ViewOptions v;
  v.kind = ViewKind::Sphere;
  const int part = static_cast<int>(state.range(0));
  if (part == 1) v.show_regions = v.show_boundaries = v.show_margins = false;
  if (part == 2) v.show_points = false;
  if (part == 3) v.lighting = false;
  if (part >= 7) {  // circle, everything but: 7 the legend, 8 the margins, 9 boundaries and weights
    v.kind = ViewKind::Circle;
    v.show_legend = part != 7;
    v.show_margins = part != 8;
    v.show_boundaries = v.show_weights = part != 9;
    snap = makeSnapshot(10000, 2, 1);
    e.renderer.setSnapshot(snap);
  } else if (part >= 4) {  // circle: 4 nothing at all (clear and blit), 5 points only, 6 regions only
    v.kind = ViewKind::Circle;
    v.show_points = part == 5;
    v.show_regions = part == 6;
    v.show_boundaries = v.show_margins = v.show_weights = v.show_legend = v.show_test = false;
    snap = makeSnapshot(10000, 2, 1);
    e.renderer.setSnapshot(snap);
  }
  glBindFramebuffer(GL_FRAMEBUFFER, e.fbo);
  for (auto _ : state) {
    v.yaw += 1e-4f;  // a new camera every frame: nothing cached
    e.renderer.draw(v, 0, 0, 1280, 800, 1.0f);
    glFinish();
  }
  state.counters["fps"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FrameParts)->DenseRange(0, 9)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK(BM_CircleLive)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SphereLive)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SphereOrbit)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CircleCached)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SphereCached)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
