// The worker thread and the Controls -> Snapshot hand-off, driven without GL. Suites are named Worker* and
// Handoff* so that the ThreadSanitizer gate (ctest -R "Worker|Handoff") runs all of them.
// Waits poll the published snapshot with a generous deadline; nothing asserts on speed (bench/ does that).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "sim/worker.h"

namespace ms {
namespace {

using namespace std::chrono_literals;

Controls tiny() {
  Controls c;
  c.config.classes = 3;
  c.config.samples = 60;
  c.config.hidden = {16};
  c.config.batch = 32;
  c.config.grid = 24;
  return c;
}

// Polls until pred(latest()) holds; fails the test after 60 s (TSan builds are slow).
SnapshotPtr waitFor(const Worker& w, const std::function<bool(const Snapshot&)>& pred) {
  const auto end = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < end) {
    SnapshotPtr s = w.latest();
    if (s && pred(*s)) return s;
    std::this_thread::sleep_for(1ms);
  }
  ADD_FAILURE() << "condition not reached in 60 s";
  return w.latest();
}

TEST(Worker, PublishesAtOnceAndTrains) {
  Worker w(tiny());
  ASSERT_NE(w.latest(), nullptr);  // the constructor publishes the initial state
  auto s = waitFor(w, [](const Snapshot& s) { return s.step >= 50; });
  EXPECT_EQ(s->embeddings.size(), s->labels.size() * s->dim);
  EXPECT_FALSE(s->paused);
}

TEST(Worker, ParamChangeAppliesWithoutReset) {
  Controls c = tiny();
  Worker w(c);
  const int64_t before = waitFor(w, [](const Snapshot& s) { return s.step >= 30; })->step;
  c.config.params.values["m"] = 0.25;
  c.config.lr = 0.003;
  const uint64_t v = w.setControls(c);
  auto s = waitFor(w, [&](const Snapshot& s) { return s.controls_version >= v; });
  EXPECT_EQ(s->params.values.at("m"), 0.25);
  EXPECT_GE(s->step, before);  // no reset: the count keeps going
  s = waitFor(w, [&](const Snapshot& s) { return s.step >= before + 20; });
  EXPECT_GE(w.lastControlLatencyMs(), 0.0);
  EXPECT_GE(s->control_latency_ms, 0.0);
}

TEST(Worker, LossChangeAppliesWithoutReset) {
  Controls c = tiny();
  Worker w(c);
  const int64_t before = waitFor(w, [](const Snapshot& s) { return s.step >= 30; })->step;
  c.config.loss = "cosface";
  const uint64_t v = w.setControls(c);
  auto s = waitFor(w, [&](const Snapshot& s) { return s.controls_version >= v; });
  EXPECT_EQ(s->loss, "am-softmax");
  EXPECT_GE(s->step, before);
}

TEST(Worker, DatasetChangeResets) {
  Controls c = tiny();
  Worker w(c);
  const int64_t before = waitFor(w, [](const Snapshot& s) { return s.step >= 200; })->step;
  c.config.dataset = "moons";
  c.config.classes = 2;
  const uint64_t v = w.setControls(c);
  auto s = waitFor(w, [&](const Snapshot& s) { return s.controls_version >= v; });
  EXPECT_EQ(s->K, 2);
  EXPECT_LT(s->step, before);
  EXPECT_LE(s->step, 1);  // the first snapshot after a rebuild comes before (at most) one step
}

TEST(Worker, ResetCountResets) {
  Controls c = tiny();
  Worker w(c);
  const int64_t before = waitFor(w, [](const Snapshot& s) { return s.step >= 100; })->step;
  c.reset_count = 1;
  const uint64_t v = w.setControls(c);
  auto s = waitFor(w, [&](const Snapshot& s) { return s.controls_version >= v; });
  EXPECT_LT(s->step, before);
}

TEST(Worker, PauseStopsAndSingleStepAdvancesExactlyOne) {
  Controls c = tiny();
  Worker w(c);
  waitFor(w, [](const Snapshot& s) { return s.step >= 10; });
  c.paused = true;
  uint64_t v = w.setControls(c);
  const int64_t at = waitFor(w, [&](const Snapshot& s) { return s.controls_version >= v && s.paused; })->step;
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(w.latest()->step, at);
  c.single_steps = 1;
  v = w.setControls(c);
  auto s = waitFor(w, [&](const Snapshot& s) { return s.controls_version >= v && s.step > at; });
  EXPECT_EQ(s->step, at + 1);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(w.latest()->step, at + 1);
  c.single_steps = 3;
  v = w.setControls(c);
  s = waitFor(w, [&](const Snapshot& s) { return s.step >= at + 4; });
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(w.latest()->step, at + 4);
  c.single_steps = 0;
  c.paused = false;
  w.setControls(c);
  waitFor(w, [&](const Snapshot& s) { return s.step > at + 20; });
}

TEST(Worker, SpeedCapHoldsStepsBack) {
  Controls c = tiny();
  c.max_steps_per_second = 5;
  Worker w(c);
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t s0 = w.latest()->step;
  std::this_thread::sleep_for(600ms);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // An upper bound only: a slow machine takes fewer steps, never more.
  EXPECT_LE(w.latest()->step - s0, int64_t(5 * elapsed) + 2);
}

TEST(Worker, DivergencePausesUntilControlsChange) {
  Controls c = tiny();
  c.config.loss = "softmax";
  c.config.optimizer = "sgd";
  c.config.momentum = 0;
  c.config.lr = 1e3;
  Worker w(c);
  auto s = waitFor(w, [](const Snapshot& s) { return s.diverged; });
  EXPECT_TRUE(s->paused);
  EXPECT_NE(s->message.find("lower the learning rate"), std::string::npos);
  for (float x : s->embeddings) ASSERT_TRUE(std::isfinite(x));
  c.config.lr = 0.01;
  const uint64_t v = w.setControls(c);
  const int64_t at = s->step;
  s = waitFor(w, [&](const Snapshot& s) { return s.controls_version >= v && s.step > at + 10; });
  EXPECT_FALSE(s->diverged);
  EXPECT_FALSE(s->paused);
}

TEST(Worker, BadControlIsReportedAndTrainingGoesOn) {
  Controls c = tiny();
  Worker w(c);
  c.config.dataset = "csv:/nonexistent/file.csv";
  const uint64_t v = w.setControls(c);
  auto s = waitFor(w, [&](const Snapshot& s) { return s.controls_version >= v; });
  std::string e;
  for (int i = 0; i < 1000 && e.empty(); ++i) {
    e = w.takeError();
    if (e.empty()) std::this_thread::sleep_for(1ms);
  }
  EXPECT_NE(e.find("cannot open"), std::string::npos) << e;
  EXPECT_TRUE(w.takeError().empty());  // cleared when read
  const int64_t at = s->step;
  waitFor(w, [&](const Snapshot& s) { return s.step > at + 10; });
}

TEST(Handoff, ReadersHammerWhileControlsChange) {
  Controls c = tiny();
  Worker w(c);
  std::atomic<bool> done{false};
  std::atomic<int64_t> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r)
    readers.emplace_back([&] {
      uint64_t last_version = 0;
      while (!done) {
        SnapshotPtr s = w.latest();
        ASSERT_NE(s, nullptr);
        ASSERT_EQ(s->embeddings.size(), s->labels.size() * s->dim);
        ASSERT_EQ(s->weights.size(), size_t(s->K) * s->dim);
        ASSERT_GE(s->controls_version, last_version);  // versions never go back
        last_version = s->controls_version;
        ++reads;
      }
    });
  const char* losses[] = {"arcface", "normface", "center", "triplet", "softmax"};
  uint64_t v = 0;
  for (int i = 0; i < 60; ++i) {
    c.config.loss = losses[i % 5];
    c.config.lr = 0.001 * (1 + i % 7);
    c.config.batch = 16 + i % 3 * 16;
    c.paused = i % 11 == 5;
    c.single_steps = i % 4;
    if (i % 20 == 10) c.config.dim = c.config.dim == 2 ? 3 : 2;  // a reset while readers read
    v = w.setControls(c);
    EXPECT_EQ(w.controls().version, v);
    std::this_thread::sleep_for(2ms);
  }
  waitFor(w, [&](const Snapshot& s) { return s.controls_version == v; });
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_GT(reads.load(), 0);
}

}  // namespace
}  // namespace ms
